// What the scheduler needs to route a task (`route:`): the team's Router built once, the
// scope of each routed step, the brief a router agent answers, checking that answer, the
// event payloads, and putting the chosen framework into the task's DelegationBrief.
//
// A TeamRouting is built once per run and used on the scheduler thread only.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/brief.h"
#include "chorus/team.h"
#include "route/delegation.h"
#include "route/router.h"

namespace chorus {

// A route waiting for its router agent's answer.
struct PendingRoute {
  std::string request;
  std::string label;
  int64_t words = 0;
  route::Decision decision;
};

class TeamRouting {
 public:
  // Fails when the team has no library or a rule does not compile (CheckTeam reports both).
  static Result<std::unique_ptr<TeamRouting>> Make(const Team& team);

  route::Decision Decide(const Step& step, const std::string& request,
                         const std::string& label) const;

  // The agents a router agent may choose from for `step`, in preference order.
  const std::vector<std::string>& AgentNames(const Step& step) const;

  route::DelegationChoice Delegate(const Step& step, const std::string& routed, int64_t words,
                                   const std::string& label,
                                   const std::string& context_holder) const;

  const FrameworkLibrary& library() const { return router_.library(); }

 private:
  struct StepScope {
    route::Scope scope;
    std::vector<std::string> agent_names;
  };
  TeamRouting(const Team& team, route::Router router) : team_(team), router_(std::move(router)) {}
  const StepScope& ScopeOf(const Step& step) const;

  const Team& team_;
  route::Router router_;
  mutable std::map<const Step*, StepScope> scopes_;  // built on first use
};

// The highest label among the inputs a step's brief references and that are not empty in
// `inputs` (an empty input carries nothing); "" when none is labelled.
std::string BriefLabel(const Team& team, const Step& step,
                       const std::map<std::string, std::string>& inputs);

// Words in the objective and context of a brief: the size of the piece of work.
int64_t BriefWords(const DelegationBrief& brief);

// The route.decision payload: request excerpt, label, rule, candidates {id, name, score},
// winner, frameworks, agent, why.
nlohmann::json DecisionJson(const std::string& request, const std::string& label,
                            const route::Decision& decision);

// Adds the frameworks' instructions to `brief` as constraints and, when the brief's own
// expected output is plain text with no sections or schema, takes the primary framework's
// output shape.
void ApplyFrameworks(const std::vector<const Framework*>& frameworks, DelegationBrief* brief);

// The brief a router agent receives: the request, the candidates with their scores and
// summaries, the agents with their roles; it answers JSON {framework, agent, why}.
DelegationBrief RouterBrief(const std::string& id, const std::string& request, const Team& team,
                            const route::Decision& decision,
                            const std::vector<std::string>& agents);

// Applies a router agent's answer to `decision` (winner, agent, why) when the answer is usable;
// otherwise leaves it and says why not.
Status ApplyRouterAnswer(const std::string& answer, const FrameworkLibrary& library,
                         const std::vector<std::string>& agents, route::Decision* decision);

}  // namespace chorus
