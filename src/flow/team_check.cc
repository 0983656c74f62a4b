// CheckTeam: whole-team validation on Team values, so teams built in code get the same checks
// as team files. Locations come from the SourceLocs the loader stored.
#include <algorithm>
#include <functional>
#include <map>
#include <tuple>

#include "chorus/team.h"
#include "core/template.h"
#include "flow/context_budget.h"
#include "flow/locality.h"
#include "flow/suggest.h"
#include "flow/team_check_quality.h"
#include "flow/team_route_loader.h"

namespace chorus {
namespace {

const std::vector<std::string> kReservedIds = {"inputs", "item", "item_index", "env"};

bool IsIdentifier(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

// Where a step sits in the run order: the top-level flow item it belongs to, and whether it
// is one of a parallel block's steps.
struct Position {
  const Step* step = nullptr;
  size_t top = 0;
  bool in_parallel = false;
};

class TeamChecker {
 public:
  TeamChecker(const Team& team, bool warnings) : team_(team), warnings_(warnings) {
    team_loc_.file = team.path;
  }

  std::vector<Diagnostic> Run();

 private:
  void Error(const SourceLoc& loc, std::string message) {
    out_.push_back(Diagnostic{loc, std::move(message)});
  }
  void Warn(const SourceLoc& loc, std::string message) {
    if (warnings_) out_.push_back(Diagnostic{loc, std::move(message), Severity::kWarning});
  }
  QualityCheck Quality() {
    return QualityCheck{team_, agent_names_,
                        [this](const SourceLoc& loc, std::string m) { Error(loc, std::move(m)); },
                        [this](const SourceLoc& loc, std::string m) { Warn(loc, std::move(m)); }};
  }
  template <class Spec, class NameOf>
  void CheckNames(const std::vector<Spec>& specs, std::string_view noun, NameOf name_of);
  void CheckModels();
  void CheckFallbackCycles();
  void CheckAgents();
  void IndexSteps();
  void WarnUnstageableFanIn(const Step& step, const std::string& what);
  void CheckStep(const Step& step, const Position& pos);
  void CheckAgentRefs(const Step& step, std::string_view what);
  void CheckBrief(const Step& step, const Position& pos);
  void CheckText(const Step& step, const Position& pos, const SourceLoc& loc,
                 std::string_view field, const std::string& text, bool item_allowed);
  // "" when `target` finishes before the step at `pos`; otherwise why it does not.
  std::string OrderProblem(const Position& pos, const std::string& target) const;
  std::string Describe(const Step& step) const {
    return std::string(StepKindName(step.kind)) + " '" + step.id + "'";
  }

  const Team& team_;
  bool warnings_;
  SourceLoc team_loc_;
  std::vector<Diagnostic> out_;
  std::map<std::string, Position> steps_;  // by id; the first of duplicates
  std::vector<std::string> step_ids_;      // in flow order, for suggestions
  std::vector<std::string> model_names_;
  std::vector<std::string> agent_names_;
  std::vector<std::string> input_names_;
};

std::vector<Diagnostic> TeamChecker::Run() {
  if (!IsIdentifier(team_.name)) {
    Error(team_loc_, team_.name.empty()
                         ? "the team has no name: expected letters, digits, '-' "
                           "and '_'"
                         : "team name '" + team_.name + "': expected letters, digits, '-' and '_'");
  }
  CheckNames(team_.models, "model", [](const ModelSpec& m) { return m.endpoint.name; });
  CheckNames(team_.inputs, "input", [](const InputSpec& i) { return i.name; });
  CheckNames(team_.agents, "agent", [](const AgentSpec& a) { return a.name; });
  for (const ModelSpec& m : team_.models) model_names_.push_back(m.endpoint.name);
  if (std::find(model_names_.begin(), model_names_.end(), "offline") == model_names_.end()) {
    model_names_.push_back("offline");
  }
  for (const InputSpec& i : team_.inputs) input_names_.push_back(i.name);
  for (const AgentSpec& a : team_.agents) agent_names_.push_back(a.name);
  CheckModels();
  CheckAgents();
  CheckPrivacy(team_, &out_);
  if (team_.flow.empty()) {
    Error(team_loc_, "the flow is empty: expected at least one step");
  }
  IndexSteps();
  for (size_t top = 0; top < team_.flow.size(); ++top) {
    const Step& step = team_.flow[top];
    CheckStep(step, Position{&step, top, false});
    for (const Step& child : step.children) CheckStep(child, Position{&child, top, true});
  }
  CheckRouting(team_, &out_);
  std::stable_sort(out_.begin(), out_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.loc.line, a.loc.column) < std::tie(b.loc.line, b.loc.column);
  });
  return std::move(out_);
}

template <class Spec, class NameOf>
void TeamChecker::CheckNames(const std::vector<Spec>& specs, std::string_view noun,
                             NameOf name_of) {
  std::map<std::string, const Spec*> seen;
  for (const Spec& spec : specs) {
    const std::string& name = name_of(spec);
    if (!IsIdentifier(name)) {
      Error(spec.loc,
            std::string(noun) + " name '" + name + "': expected letters, digits, '-' and '_'");
    }
    auto [it, inserted] = seen.emplace(name, &spec);
    if (!inserted) {
      Error(spec.loc, "duplicate " + std::string(noun) + " '" + name + "': already declared at " +
                          it->second->loc.ToString());
    }
  }
}

void TeamChecker::CheckModels() {
  for (const ModelSpec& model : team_.models) {
    const std::string& name = model.endpoint.name;
    if (name == "offline") {
      Error(model.loc,
            "model name 'offline' is reserved for the built-in offline model; choose "
            "another name");
    }
    for (const std::string& next : model.fallback) {
      if (team_.FindModel(next) == nullptr) {
        std::string hint = DidYouMean(next, model_names_);
        Error(model.loc, "model '" + name + "' falls back to '" + next +
                             "', which is not a declared model" +
                             (hint.empty() ? ": expected " + QuotedList(model_names_) : hint));
      }
    }
  }
  CheckFallbackCycles();
}

void TeamChecker::CheckFallbackCycles() {
  enum class Mark { kNew, kOnPath, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> path;
  // Depth-first over fallback edges; an edge back onto the current path closes a cycle.
  std::function<void(const ModelSpec&)> visit = [&](const ModelSpec& model) {
    marks[model.endpoint.name] = Mark::kOnPath;
    path.push_back(model.endpoint.name);
    for (const std::string& next : model.fallback) {
      const ModelSpec* target = team_.FindModel(next);
      if (target == nullptr) continue;
      Mark mark = marks.count(next) ? marks[next] : Mark::kNew;
      if (mark == Mark::kOnPath) {
        auto start = std::find(path.begin(), path.end(), next);
        std::string cycle;
        for (auto it = start; it != path.end(); ++it) cycle += *it + " -> ";
        cycle += next;
        Error(target->loc, "model '" + next + "' falls back to itself through a cycle: " + cycle +
                               "; a fallback chain must end");
      } else if (mark == Mark::kNew) {
        visit(*target);
      }
    }
    path.pop_back();
    marks[model.endpoint.name] = Mark::kDone;
  };
  for (const ModelSpec& model : team_.models) {
    if (!marks.count(model.endpoint.name)) visit(model);
  }
}

void TeamChecker::CheckAgents() {
  for (const AgentSpec& agent : team_.agents) {
    if (agent.role.empty()) {
      Error(agent.loc,
            "agent '" + agent.name + "' has no role: expected 'role', the agent's instructions");
    }
    if (team_.FindModel(agent.model) == nullptr) {
      Error(agent.loc, "agent '" + agent.name + "' uses model '" + agent.model +
                           "', which is not declared" +
                           (DidYouMean(agent.model, model_names_).empty()
                                ? ": expected " + QuotedList(model_names_)
                                : DidYouMean(agent.model, model_names_)));
    }
  }
}

void TeamChecker::IndexSteps() {
  auto add = [&](const Step& step, size_t top, bool in_parallel) {
    if (step.kind == StepKind::kParallel) return;
    if (step.id.empty()) {
      Error(step.loc, "a " + std::string(StepKindName(step.kind)) +
                          " step has no id: expected letters, digits, '-' and '_'");
      return;
    }
    if (!IsIdentifier(step.id)) {
      Error(step.loc, "step id '" + step.id + "': expected letters, digits, '-' and '_'");
    } else if (std::find(kReservedIds.begin(), kReservedIds.end(), step.id) != kReservedIds.end()) {
      Error(step.loc, "step id '" + step.id + "' is reserved (" + QuotedList(kReservedIds, "and") +
                          " have a meaning in ${...}); choose another");
    }
    auto [it, inserted] = steps_.emplace(step.id, Position{&step, top, in_parallel});
    if (!inserted) {
      Error(step.loc, "duplicate step id '" + step.id + "': already used by the " +
                          Describe(*it->second.step) + " at " + it->second.step->loc.ToString());
      return;
    }
    step_ids_.push_back(step.id);
  };
  for (size_t top = 0; top < team_.flow.size(); ++top) {
    add(team_.flow[top], top, false);
    for (const Step& child : team_.flow[top].children) add(child, top, true);
  }
}

void TeamChecker::CheckStep(const Step& step, const Position& pos) {
  const std::string what = Describe(step);
  if (step.retries < 0 || step.retries > 10) {
    Error(step.loc, what + ": retries: expected an integer from 0 to 10, found " +
                        std::to_string(step.retries));
  }
  switch (step.kind) {
    case StepKind::kParallel:
      if (pos.in_parallel) Error(step.loc, "parallel blocks do not nest");
      if (step.children.empty()) {
        Error(step.loc, "the parallel block has no steps: expected a list of task or map steps");
      }
      for (const Step& child : step.children) {
        if (child.kind != StepKind::kTask && child.kind != StepKind::kMap &&
            child.kind != StepKind::kWitness) {
          Error(child.loc,
                "a parallel block holds task, map and witness steps, found " + Describe(child));
        }
      }
      return;
    case StepKind::kTask:
    case StepKind::kSynthesize:
      // A routed task without an agent gets the one its route picks.
      if (!step.route.enabled || !step.agents.empty()) CheckAgentRefs(step, what);
      if (step.agents.size() > 1) {
        Error(step.loc, what + " has " + std::to_string(step.agents.size()) +
                            " agents: expected one (a map step spreads work over a pool)");
      }
      break;
    case StepKind::kMap:
      CheckAgentRefs(step, what);
      if (step.concurrency < 1) {
        Error(step.loc, what + ": concurrency: expected a positive integer, found " +
                            std::to_string(step.concurrency));
      }
      if (step.over_source.kind != MapSource::Kind::kNone) {
        // frameworks(...) and files(...) are checked by CheckRouting and at run time.
      } else if (step.over.empty() && step.over_items.empty()) {
        Error(step.loc, what +
                            " has no items: expected 'over' with a ${inputs.NAME} or ${STEP} "
                            "reference, or a list of items");
      } else if (!step.over.empty() && !step.over_items.empty()) {
        Error(step.loc, what + " has both an 'over' reference and a list of items: expected one");
      } else if (!step.over.empty()) {
        Result<std::vector<TemplateRef>> refs = FindTemplateRefs(step.over);
        if (refs && refs->empty()) {
          Error(step.loc, what +
                              ": over: expected a ${inputs.NAME} or ${STEP} reference or a "
                              "list of items, found plain text '" +
                              step.over + "'");
        } else {
          CheckText(step, pos, step.loc, "over", step.over, /*item_allowed=*/false);
        }
      }
      break;
    case StepKind::kWitness:
      CheckAgentRefs(step, what);
      CheckWitness(Quality(), step);
      break;
  }
  if (step.gate && step.kind == StepKind::kWitness) {
    Error(step.gate->loc, what +
                              " has a gate: gates apply to task, map and synthesize steps; a "
                              "witness step is checked by its quorum");
  } else if (step.gate) {
    CheckGate(Quality(), step);
  }
  if (step.kind == StepKind::kSynthesize) {
    if (step.from.empty()) {
      Error(step.loc, what + " has nothing to integrate: expected 'from' with at least one step");
    }
    for (const std::string& source : step.from) {
      if (steps_.count(source) == 0) {
        Error(step.loc, what + " integrates '" + source + "', which is not a step" +
                            DidYouMean(source, step_ids_));
      } else if (std::string problem = OrderProblem(pos, source); !problem.empty()) {
        Error(step.loc, "step '" + step.id + "' integrates '" + source + "', " + problem);
      }
    }
    WarnUnstageableFanIn(step, what);
  }
  CheckBrief(step, pos);
}

// A synthesis over a map is staged when the map's outputs overflow its model's window
// (flow/staged_synthesis.h); without a declared window it cannot be, however wide the map.
void TeamChecker::WarnUnstageableFanIn(const Step& step, const std::string& what) {
  const AgentSpec* agent = step.agents.size() == 1 ? team_.FindAgent(step.agents[0]) : nullptr;
  const ModelSpec* model = agent ? team_.FindModel(agent->model) : nullptr;
  if (model == nullptr || model->endpoint.context_window > 0) return;
  for (const std::string& source : step.from) {
    auto it = steps_.find(source);
    if (it == steps_.end() || it->second.step->kind != StepKind::kMap) continue;
    Warn(step.loc, what + " integrates map '" + source + "', but model '" + agent->model +
                       "' declares no context_window: however many items the map has, their "
                       "outputs go out in one prompt. Declare the model's context_window to have "
                       "a fan-in too large for it synthesized in levels");
    return;
  }
}

void TeamChecker::CheckAgentRefs(const Step& step, std::string_view what) {
  if (step.agents.empty()) {
    Error(step.loc, std::string(what) + " has no agent: expected " +
                        (step.kind == StepKind::kWitness ? "'agents: [NAMES]'"
                         : step.kind == StepKind::kMap   ? "'agent: NAME' or 'agents: [NAMES]'"
                                                         : "'agent: NAME'") +
                        (agent_names_.empty() ? "" : ", one of " + QuotedList(agent_names_)));
  }
  for (const std::string& agent : step.agents) {
    if (team_.FindAgent(agent) != nullptr) continue;
    std::string hint = DidYouMean(agent, agent_names_);
    Error(step.loc, std::string(what) + " names agent '" + agent + "', which is not declared" +
                        (!hint.empty()          ? hint
                         : agent_names_.empty() ? ": the team declares no agents"
                                                : ": expected " + QuotedList(agent_names_)));
  }
}

void TeamChecker::CheckBrief(const Step& step, const Position& pos) {
  const BriefTemplate& brief = step.brief;
  const SourceLoc& loc = brief.loc.line > 0 || step.loc.line == 0 ? brief.loc : step.loc;
  if (brief.objective.empty() && step.kind == StepKind::kWitness) {
    Error(loc, Describe(step) +
                   " has no question: expected 'question: TEXT', what every "
                   "witness is asked");
  } else if (brief.objective.empty() && step.kind != StepKind::kSynthesize) {
    Error(loc, Describe(step) +
                   " has a brief with no objective: expected 'brief: { objective: "
                   "... }' or 'brief: TEXT'");
  }
  bool in_map = step.kind == StepKind::kMap;
  CheckText(step, pos, loc, "objective", brief.objective, in_map);
  for (const std::string& text : brief.context) CheckText(step, pos, loc, "context", text, in_map);
  for (const std::string& text : brief.constraints) {
    CheckText(step, pos, loc, "constraints", text, in_map);
  }
  CheckText(step, pos, loc, "acceptance", brief.acceptance, in_map);
}

void TeamChecker::CheckText(const Step& step, const Position& pos, const SourceLoc& loc,
                            std::string_view field, const std::string& text, bool item_allowed) {
  const std::string where = "step '" + step.id + "'";
  Result<std::vector<TemplateRef>> refs = FindTemplateRefs(text);
  if (!refs) {
    Error(loc, where + " " + std::string(field) + ": " + refs.error().message());
    return;
  }
  for (const TemplateRef& ref : *refs) {
    const std::string written = text.substr(ref.begin, ref.end - ref.begin);
    if (ref.root == "inputs") {
      if (ref.field.empty()) {
        Error(loc, where + " references '${inputs}': expected ${inputs.NAME}");
      } else if (team_.FindInput(ref.field) == nullptr) {
        std::string hint = DidYouMean(ref.field, input_names_);
        Error(loc, where + " references '" + written + "', but '" + ref.field +
                       "' is not a declared input" +
                       (!hint.empty()          ? hint
                        : input_names_.empty() ? ": the team declares no inputs"
                                               : ": expected " + QuotedList(input_names_)));
      }
    } else if (ref.root == "item" || ref.root == "item_index") {
      if (!item_allowed) {
        Error(loc, where + " references '" + written + "' in its " + std::string(field) +
                       ": ${item} and ${item_index} exist only inside a map step's brief");
      } else if (ref.root == "item_index" && !ref.field.empty()) {
        Error(loc, where + " references '" + written +
                       "': ${item_index} is a number and has "
                       "no fields");
      }
    } else if (ref.root == "env") {
      Error(loc, where + " references '" + written +
                     "': briefs cannot read environment "
                     "variables; pass the value as an input");
    } else if (ref.root == step.id) {
      Error(loc, where + " references itself ('" + written + "')");
    } else if (steps_.count(ref.root) == 0) {
      std::string hint = team_.FindInput(ref.root) != nullptr
                             ? " (did you mean '${inputs." + ref.root + "}'?)"
                             : DidYouMean(ref.root, step_ids_);
      Error(loc,
            where + " references '" + written + "', but '" + ref.root + "' is not a step" + hint);
    } else if (std::string problem = OrderProblem(pos, ref.root); !problem.empty()) {
      Error(loc, where + " references '" + ref.root + "', " + problem);
    }
  }
}

std::string TeamChecker::OrderProblem(const Position& pos, const std::string& target) const {
  const Position& other = steps_.at(target);
  if (other.step == pos.step) return "which is the step itself";
  if (other.top < pos.top) return "";
  if (other.top == pos.top && pos.in_parallel && other.in_parallel) {
    return "which runs in parallel with it";
  }
  return "which runs later";
}

}  // namespace

std::vector<Diagnostic> CheckTeam(const Team& team) {
  std::vector<Diagnostic> problems = TeamChecker(team, /*warnings=*/false).Run();
  CheckContextBudgets(team, &problems);
  return problems;
}

std::vector<Diagnostic> LintTeam(const Team& team) {
  std::vector<Diagnostic> problems = TeamChecker(team, /*warnings=*/true).Run();
  CheckContextBudgets(team, &problems);
  return problems;
}

}  // namespace chorus
