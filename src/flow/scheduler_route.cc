// The scheduler's routing of `route:` tasks: rules and BM25 decide at once; a configured router
// agent is then asked to choose among the top candidates, and its answer is checked before it
// counts. Every decision is a route.decision event (and, for a task with its own agent, a
// route.delegation event) logged before the brief it shapes is dispatched.
#include <map>

#include "core/template.h"
#include "flow/scheduler.h"

namespace chorus {

bool Scheduler::BeginRoute(size_t index) {
  Unit& unit = units_[index];
  if (!routing_) {
    Result<std::unique_ptr<TeamRouting>> made = TeamRouting::Make(*config_.team);
    if (!made) {
      FailUnit(index, "cannot route: " + made.error().message());
      return false;
    }
    routing_ = std::move(*made);
  }
  // The request is the task's brief as written, before any framework shapes it.
  // The request may go to a router agent: it crosses the boundary as that agent's brief would.
  const std::string& router_agent = unit.step->route.router;
  Crossing crossing = config_.boundary && !router_agent.empty()
                          ? config_.boundary->Begin(router_agent)
                          : Boundary::Track();
  Result<DelegationBrief> plain = BuildBrief(unit, &crossing);
  for (nlohmann::json& e : crossing.Events()) {
    log_->Add("boundary.crossed", unit.path, router_agent, std::move(e));
  }
  if (!plain) {
    FailUnit(index, "cannot build the brief: " + plain.error().message());
    return false;
  }
  PendingRoute route;
  route.request = plain->objective;
  route.label = BriefLabel(*config_.team, *unit.step, config_.inputs);
  route.words = BriefWords(*plain);
  route.decision = routing_->Decide(*unit.step, route.request, route.label);

  const std::string& router = unit.step->route.router;
  // A rule is the team's explicit choice and a lone candidate leaves nothing to choose: the
  // router agent is asked only to choose among several search results.
  if (router.empty() || route.decision.rule != "bm25" || route.decision.candidates.size() < 2) {
    nlohmann::json note = nullptr;
    if (!router.empty()) {
      note = {{"agent", router},
              {"asked", false},
              {"reason", route.decision.rule == "bm25" ? "only one candidate"
                                                       : "decided by " + route.decision.rule}};
    }
    FinishRoute(index, std::move(route), std::move(note));
    return true;
  }
  unit.agent = router;
  unit.brief = RouterBrief(unit.path, route.request, *config_.team, route.decision,
                           routing_->AgentNames(*unit.step));
  unit.routing = std::make_unique<PendingRoute>(std::move(route));
  log_->AddText("brief.dispatched", unit.path, unit.agent, unit.brief.ToJsonText());
  SendRequest(index);
  return false;
}

void Scheduler::OnRouterAnswer(size_t index, const std::string& text) {
  Unit& unit = units_[index];
  PendingRoute route = std::move(*unit.routing);
  unit.routing.reset();
  const std::string router = unit.agent;
  route::Decision bm25 = route.decision;
  Status applied = ApplyRouterAnswer(text, routing_->library(), routing_->AgentNames(*unit.step),
                                     &route.decision);
  nlohmann::json note = {{"agent", router}, {"asked", true}, {"used", applied.ok()}};
  if (!applied.ok()) {
    route.decision = std::move(bm25);
    note["reason"] =
        "the router's answer was unusable (" + applied.message() + "); search's winner applies";
    route.decision.why += "; " + note["reason"].get<std::string>();
  }
  FinishRoute(index, std::move(route), std::move(note));
  DispatchBrief(index);
}

void Scheduler::OnRouterFailed(size_t index, const std::string& why) {
  Unit& unit = units_[index];
  PendingRoute route = std::move(*unit.routing);
  unit.routing.reset();
  std::string reason = "the router agent failed (" + why + "); search's winner applies";
  nlohmann::json note = {
      {"agent", unit.agent}, {"asked", true}, {"used", false}, {"reason", reason}};
  route.decision.why += "; " + reason;
  FinishRoute(index, std::move(route), std::move(note));
  DispatchBrief(index);
}

void Scheduler::FinishRoute(size_t index, PendingRoute route, nlohmann::json router_note) {
  Unit& unit = units_[index];
  nlohmann::json payload = DecisionJson(route.request, route.label, route.decision);
  if (!router_note.is_null()) payload["router"] = std::move(router_note);
  std::string agent = route.decision.agent;
  log_->Add("route.decision", unit.path, agent, std::move(payload));

  // A task with an agent of its own decides whether that agent keeps the piece.
  if (!unit.step->agents.empty()) {
    route::DelegationChoice choice =
        routing_->Delegate(*unit.step, agent, route.words, route.label, ContextHolder(*unit.step));
    log_->Add("route.delegation", unit.path, choice.agent,
              {{"owner", unit.step->agents.front()},
               {"routed", agent},
               {"agent", choice.agent},
               {"mode", choice.delegate ? "delegate" : "local"},
               {"rule", choice.rule},
               {"why", choice.why},
               {"words", route.words},
               {"label", route.label}});
    agent = choice.agent;
  }
  unit.agent = agent;
  unit.Enrich().frameworks = route.decision.frameworks;
  // The task's own attempts count from 1 again; the router's were keyed apart.
  unit.requests = 0;
  unit.transient_failures = 0;
  unit.rejections = 0;
  unit.feedback.clear();
}

std::string Scheduler::ContextHolder(const Step& step) const {
  std::map<std::string, int> produced;  // agent -> steps of its that the brief reads
  auto scan = [&](const std::string& text) {
    Result<std::vector<TemplateRef>> refs = FindTemplateRefs(text);
    if (!refs) return;
    for (const TemplateRef& ref : *refs) {
      for (const Unit& u : units_) {
        if (u.path == ref.root && u.state == UnitState::kDone && !u.agent.empty()) {
          ++produced[u.agent];
        }
      }
    }
  };
  scan(step.brief.objective);
  for (const std::string& c : step.brief.context) scan(c);
  std::string holder;
  int most = 0;
  for (const auto& [agent, count] : produced) {
    if (count > most) holder = agent, most = count;
  }
  return holder;
}

}  // namespace chorus
