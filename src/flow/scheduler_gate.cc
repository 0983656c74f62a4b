// The scheduler's side of quality gates: an accepted output is held back, its local checks run,
// judges are asked, and the gate.verdict event records the decision — accept, retry with the
// reasons, escalate or fail — before it takes effect. The output reaches later steps only
// through CompleteUnit, which is called only once the gate passed.
#include <numeric>

#include "flow/scheduler.h"

namespace chorus {
namespace {

std::string JoinReasons(const std::vector<std::string>& reasons) {
  return std::accumulate(reasons.begin(), reasons.end(), std::string(),
                         [](std::string acc, const std::string& r) {
                           return acc.empty() ? r : std::move(acc) + "; " + r;
                         });
}

}  // namespace

bool Scheduler::IsOfflineAgent(const std::string& agent) const {
  const AgentSpec* spec = config_.team->FindAgent(agent);
  return spec != nullptr &&
         config_.clients.at(spec->model)->config().provider == Provider::kOffline;
}

bool Scheduler::DivertAccepted(size_t index, StepOutput& output) {
  Unit& unit = units_[index];
  if (unit.judge == JudgeRole::kGate) {
    FinishJudge(index, output);
    return true;
  }
  StepRun& run = step_runs_[unit.step_run];
  if (unit.judge == JudgeRole::kWitness) {
    run.witness.judged_groups = GroupsFromJudge(output.json, run.witness.judged_votes);
    return false;
  }
  if (unit.witness >= 0) {
    WitnessVote vote = MakeVote(unit.step->witness, unit.witness, unit.agent, output);
    nlohmann::json payload = {{"witness", vote.witness},
                              {"agent", vote.agent},
                              {"attempt", unit.requests},
                              {"answer", vote.answer},
                              {"key", vote.key}};
    if (!vote.problem.empty()) payload["problem"] = vote.problem;
    log_->Add("witness.vote", unit.step->id, unit.agent, std::move(payload));
    // Votes are kept in witness order, so the verdict does not depend on who answered first.
    std::vector<WitnessVote>& votes = run.witness.votes;
    auto at = std::find_if(votes.begin(), votes.end(),
                           [&](const WitnessVote& v) { return v.witness > vote.witness; });
    votes.insert(at, std::move(vote));
    return false;
  }
  if (unit.Gated()) {
    StartGate(index, std::move(output));
    return true;
  }
  return false;
}

void Scheduler::StartGate(size_t index, StepOutput output) {
  Unit& unit = units_[index];
  const GateSpec& gate = *unit.step->gate;
  unit.gate = std::make_unique<GateRound>(
      StartGateRound(gate, std::move(output), unit.requests, unit.agent));
  std::vector<size_t> judges;
  for (size_t i = 0; i < gate.checks.size(); ++i) {
    GateCheckResult& result = unit.gate->results[i];
    if (!result.pending) continue;
    if (IsOfflineAgent(gate.checks[i].judge)) {
      result = OfflineJudgeResult(gate.checks[i]);
      --unit.gate->judges_pending;
    } else {
      judges.push_back(i);
    }
  }
  if (judges.empty()) {
    DecideGate(index);
    return;
  }
  if (stage_failed_) return;  // the stage is ending: start nothing new
  for (size_t check : judges) LaunchGateJudge(index, check);
}

void Scheduler::LaunchGateJudge(size_t index, size_t check) {
  const Unit& unit = units_[index];
  const GateSpec& gate = *unit.step->gate;
  size_t judges = 0;
  size_t ordinal = 0;  // 1-based among the gate's judges
  for (size_t i = 0; i < gate.checks.size(); ++i) {
    if (gate.checks[i].kind != GateCheckKind::kJudge) continue;
    ++judges;
    if (i == check) ordinal = judges;
  }
  Unit judge;
  judge.judge = JudgeRole::kGate;
  judge.judged_unit = index;
  judge.judge_check = check;
  judge.step = unit.step;
  judge.step_run = unit.step_run;
  judge.agent = gate.checks[check].judge;
  // "draft/judge.2": the judge of attempt 2; "draft/judge.2.1" when the gate has several.
  judge.path = unit.path + "/judge." + std::to_string(unit.gate->attempt) +
               (judges > 1 ? "." + std::to_string(ordinal) : "");
  judge.brief = JudgeBrief(gate.checks[check], unit.brief, unit.gate->output.text, judge.path);
  units_.push_back(std::move(judge));
  Launch(units_.size() - 1);
}

void Scheduler::FinishJudge(size_t index, const StepOutput& output) {
  Unit& judge = units_[index];
  judge.state = UnitState::kDone;
  log_->Add("step.completed", judge.path, judge.agent,
            {{"output", output.text}, {"json", output.json}, {"attempts", judge.requests}});
  judge.brief = DelegationBrief();
  const size_t judged = judge.judged_unit;
  const GateCheck& check = judge.step->gate->checks[judge.judge_check];
  Unit& unit = units_[judged];
  if (unit.state != UnitState::kInFlight || !unit.gate) return;  // it failed meanwhile
  unit.gate->results[judge.judge_check] = JudgeResult(check, output.json);
  if (--unit.gate->judges_pending == 0) DecideGate(judged);
}

void Scheduler::DecideGate(size_t index) {
  Unit& unit = units_[index];
  GateRound round = std::move(*unit.gate);
  unit.gate.reset();
  const GateSpec& gate = *unit.step->gate;
  nlohmann::json verdict = GateVerdictJson(round);
  if (GatePassed(round)) {
    verdict["action"] = "accept";
    log_->Add("gate.verdict", unit.path, unit.agent, std::move(verdict));
    CompleteUnit(index, std::move(round.output));
    return;
  }
  ++unit.gate_failures;
  std::vector<std::string> reasons = GateFeedback(round);
  const bool can_retry = gate.on_fail != GateFailAction::kFail && !unit.escalated &&
                         unit.gate_failures <= gate.retries;
  if (can_retry) {
    verdict["action"] = "retry";
    log_->Add("gate.verdict", unit.path, unit.agent, std::move(verdict));
    unit.feedback = std::move(reasons);
    SendRequest(index);
    return;
  }
  if (gate.on_fail == GateFailAction::kEscalate && !unit.escalated) {
    verdict["action"] = "escalate";
    verdict["escalate_to"] = gate.escalate_to;
    log_->Add("gate.verdict", unit.path, unit.agent, std::move(verdict));
    unit.escalated = true;
    unit.agent = gate.escalate_to;
    unit.brief.context.push_back(EscalationContext(round));
    log_->AddText("brief.dispatched", unit.path, unit.agent, unit.brief.ToJsonText());
    unit.feedback = std::move(reasons);
    SendRequest(index);
    return;
  }
  verdict["action"] = "fail";
  log_->Add("gate.verdict", unit.path, unit.agent, std::move(verdict));
  FailUnit(index, "its output failed the quality gate (" + std::to_string(unit.gate_failures) +
                      " time(s)" + (unit.escalated ? ", the last after escalation" : "") +
                      "): " + JoinReasons(reasons));
}

}  // namespace chorus
