#include "flow/team_check_quality.h"

#include <algorithm>
#include <set>

#include "flow/suggest.h"

namespace chorus {
namespace {

std::string Describe(const Step& step) {
  return std::string(StepKindName(step.kind)) + " '" + step.id + "'";
}

// "" when `agent` is declared; otherwise the reason, with a suggestion.
std::string UnknownAgent(const QualityCheck& c, const std::string& agent) {
  if (c.team.FindAgent(agent) != nullptr) return "";
  std::string hint = DidYouMean(agent, c.agent_names);
  return "'" + agent + "', which is not declared" +
         (!hint.empty()           ? hint
          : c.agent_names.empty() ? ": the team declares no agents"
                                  : ": expected " + QuotedList(c.agent_names));
}

// What identifies the model an agent really talks to: two model entries that point at the same
// endpoint and model id are one model for the purpose of correlated errors.
std::string EndpointIdentity(const Team& team, const AgentSpec& agent) {
  const ModelSpec* model = team.FindModel(agent.model);
  if (model == nullptr) return agent.model;
  const EndpointConfig& e = model->endpoint;
  if (e.provider == Provider::kOffline) return "offline";
  return e.base_url + " " + e.model;
}

}  // namespace

void CheckGate(const QualityCheck& c, const Step& step) {
  const GateSpec& gate = *step.gate;
  const std::string what = Describe(step);
  const int64_t kNoBound = -1;
  int64_t min_words = kNoBound;
  int64_t max_words = kNoBound;
  const SourceLoc* max_loc = nullptr;
  if (gate.checks.empty()) {
    c.error(gate.loc, what + ": the gate has no checks: expected at least one");
  }
  for (const GateCheck& check : gate.checks) {
    switch (check.kind) {
      case GateCheckKind::kJudge:
        if (check.judge.empty()) {
          c.error(check.loc, what + ": a judge check names no agent: expected 'judge: AGENT'");
        } else if (std::string problem = UnknownAgent(c, check.judge); !problem.empty()) {
          c.error(check.loc, what + ": the gate's judge is " + problem);
        }
        break;
      case GateCheckKind::kSections:
        if (step.brief.output.format == OutputFormat::kJson) {
          c.error(check.loc, what +
                                 ": a sections check needs a markdown or text output, found a "
                                 "json output; check it with 'schema' instead");
        }
        break;
      case GateCheckKind::kMinWords:
        min_words = check.words;
        break;
      case GateCheckKind::kMaxWords:
        max_words = check.words;
        max_loc = &check.loc;
        break;
      case GateCheckKind::kSchema:
      case GateCheckKind::kRegex:
        break;
    }
  }
  if (min_words != kNoBound && max_words != kNoBound && min_words > max_words) {
    c.error(*max_loc, what + ": max_words " + std::to_string(max_words) + " is below min_words " +
                          std::to_string(min_words) + ": no output can pass");
  }
  if (gate.on_fail == GateFailAction::kEscalate) {
    if (gate.escalate_to.empty()) {
      c.error(gate.loc, what + ": on_fail: escalate needs 'escalate_to: AGENT'");
    } else if (std::string problem = UnknownAgent(c, gate.escalate_to); !problem.empty()) {
      c.error(gate.loc, what + ": the gate escalates to " + problem);
    } else if (std::find(step.agents.begin(), step.agents.end(), gate.escalate_to) !=
               step.agents.end()) {
      c.error(gate.loc, what + ": the gate escalates to '" + gate.escalate_to +
                            "', the agent that produced the output: expected another agent");
    }
  }
}

void CheckWitness(const QualityCheck& c, const Step& step) {
  const WitnessSpec& w = step.witness;
  const std::string what = Describe(step);
  const int n = static_cast<int>(step.agents.size());
  if (n == 1) {
    c.error(step.loc, what + " has one agent: expected at least two independent witnesses");
  }
  std::set<std::string> seen;
  for (const std::string& agent : step.agents) {
    if (!seen.insert(agent).second) {
      c.error(step.loc, what + " lists agent '" + agent +
                            "' twice: each witness must be a different agent, or its votes are "
                            "not independent");
    }
  }
  if (w.quorum > n && n > 0) {
    c.error(step.loc, what + ": quorum " + std::to_string(w.quorum) + " is more than its " +
                          std::to_string(n) + " witnesses: expected 1 to " + std::to_string(n));
  }
  if (w.compare == WitnessCompareKind::kJudge) {
    if (std::string problem = UnknownAgent(c, w.judge); !problem.empty()) {
      c.error(step.loc, what + " compares answers with judge " + problem);
    } else if (seen.count(w.judge)) {
      c.warn(step.loc, what + ": judge '" + w.judge +
                           "' is also one of the witnesses, so it compares its own answer; "
                           "choose an agent that does not vote");
    }
  }
  // Witnesses on one model make correlated errors: a unanimous wrong answer is then likely.
  std::set<std::string> endpoints;
  std::set<std::string> model_names;
  for (const std::string& name : step.agents) {
    const AgentSpec* agent = c.team.FindAgent(name);
    if (agent == nullptr) return;  // already reported
    endpoints.insert(EndpointIdentity(c.team, *agent));
    model_names.insert(agent->model);
  }
  if (n >= 2 && endpoints.size() == 1) {
    const std::vector<std::string> names(model_names.begin(), model_names.end());
    const std::string which = names.size() == 1 ? "model '" + names[0] + "'"
                                                : "one model (" + QuotedList(names, "and") +
                                                      " are the same endpoint and model)";
    c.warn(step.loc, what + ": all " + std::to_string(n) + " witnesses run on " + which +
                         "; their errors are correlated, so a unanimous wrong answer is likely: "
                         "give the witnesses different models");
  }
}

}  // namespace chorus
