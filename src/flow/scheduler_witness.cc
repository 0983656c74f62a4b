// The scheduler's side of witness steps: each witness is a unit with its own brief built from
// the step alone, so no witness sees another's answer. When every asked witness has answered,
// the votes are grouped (by a judge agent when the step says so), and the step either asks more
// witnesses (adaptive) or records its verdict. Every decision is an event before its effect.
#include "flow/scheduler.h"

namespace chorus {

void Scheduler::AddWitnessRun(const Step& step) {
  StepRun run;
  run.step = &step;
  // Witnesses answer independently, so they all run at once.
  run.cap = static_cast<int>(step.agents.size()) + 1;
  log_->Add("step.started", step.id, "",
            {{"kind", "witness"},
             {"agents", step.agents},
             {"quorum", WitnessQuorum(step)},
             {"compare", WitnessCompareName(step.witness)},
             {"adaptive", step.witness.adaptive},
             {"asking", InitialWitnesses(step)}});
  step_runs_.push_back(std::move(run));
  AddWitnessUnits(step_runs_.size() - 1, InitialWitnesses(step));
}

void Scheduler::AddWitnessUnits(size_t run_index, int count) {
  StepRun& run = step_runs_[run_index];
  const Step& step = *run.step;
  for (int k = 0; k < count; ++k) {
    const int i = run.witness.asked++;
    Unit u;
    u.path = step.id + "[" + std::to_string(i) + "]";
    u.step = &step;
    u.step_run = run_index;
    u.agent = step.agents[i];
    u.witness = i;
    run.units.push_back(units_.size());
    units_.push_back(std::move(u));
  }
}

void Scheduler::DecideWitnessRun(size_t run_index) {
  StepRun& run = step_runs_[run_index];
  const Step& step = *run.step;
  WitnessState& state = run.witness;
  std::vector<std::vector<int>> groups = GroupVotes(step.witness, state.votes);
  // A judge decides only what plain comparison cannot: answers worded differently.
  if (step.witness.compare == WitnessCompareKind::kJudge && groups.size() > 1) {
    if (IsOfflineAgent(step.witness.judge)) {
      state.judge_note = "judge " + step.witness.judge +
                         " runs on the offline model, which cannot compare meanings; answers "
                         "were compared as normalized text";
    } else if (state.judged_votes != state.votes.size()) {
      state.judged_votes = state.votes.size();
      Unit judge;
      judge.judge = JudgeRole::kWitness;
      judge.step = &step;
      judge.step_run = run_index;
      judge.agent = step.witness.judge;
      judge.path = step.id + "/judge." + std::to_string(++state.judge_rounds);
      // The judge's whole brief crosses the boundary when it is dispatched (AdmitJudgeBrief).
      Crossing tracking = Boundary::Track();
      Result<std::string> question = Expand(step.brief.objective, judge, &tracking);
      judge.brief =
          EquivalenceBrief(question ? *question : step.brief.objective, state.votes, judge.path);
      log_->Add("witness.compare", step.id, judge.agent,
                {{"judge", judge.agent},
                 {"votes", state.votes.size()},
                 {"distinct_answers", groups.size()}});
      run.units.push_back(units_.size());
      units_.push_back(std::move(judge));
      return;  // LaunchReady sends it; its answer brings the run back here
    } else {
      groups = state.judged_groups;
    }
  }

  WitnessDecision decision = DecideWitness(step, state, groups);
  if (decision.next == WitnessDecision::Next::kAskMore) {
    const size_t largest = decision.best_group >= 0 ? groups[decision.best_group].size() : 0;
    log_->Add("witness.extended", step.id, "",
              {{"asked", state.asked},
               {"adding", decision.ask_more},
               {"agents",
                std::vector<std::string>(step.agents.begin() + state.asked,
                                         step.agents.begin() + state.asked + decision.ask_more)},
               {"reason", "the best-supported answer has " + std::to_string(largest) + " of " +
                              std::to_string(WitnessQuorum(step)) + " votes needed"}});
    AddWitnessUnits(run_index, decision.ask_more);
    return;
  }
  StepOutput output = WitnessOutput(step, state, groups, decision);
  log_->Add("witness.verdict", step.id, "", output.json);
  if (decision.verdict == WitnessVerdict::kDisputed && step.witness.fail_on_dispute) {
    const std::string why = "witness '" + step.id + "' is disputed: no answer reached " +
                            std::to_string(WitnessQuorum(step)) + " of " +
                            std::to_string(state.asked) + " votes (on_dispute: fail)";
    FailStepRun(run_index, why);
    return;
  }
  log_->Add("step.completed", step.id, "", {{"output", output.text}, {"json", output.json}});
  outputs_[step.id] = std::move(output);
}

}  // namespace chorus
