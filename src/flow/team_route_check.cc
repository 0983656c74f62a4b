// CheckRouting: whole-team checks of routes, route specs and maps over frameworks against the
// team's agents and its loaded framework library. See team_route_loader.h.
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "chorus/frameworks.h"
#include "core/template.h"
#include "flow/suggest.h"
#include "flow/team_route_loader.h"

namespace chorus {
namespace {

// The ${item.FIELD}s of a map over frameworks(...) or files(...); see flow/map_source.h.
const std::vector<std::string> kFrameworkItemFields = {
    "id",       "name",     "category",     "meta_category", "summary",
    "triggers", "examples", "instructions", "output"};
const std::vector<std::string> kFileItemFields = {"path", "name", "text"};

bool LooksLikeId(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](unsigned char c) { return std::isdigit(c) || c == '.'; });
}

class RoutingChecker {
 public:
  RoutingChecker(const Team& team, std::vector<Diagnostic>* out) : team_(team), out_(out) {
    for (const AgentSpec& a : team.agents) agent_names_.push_back(a.name);
    if (team.frameworks) {
      for (const Framework* fw : team.frameworks->List()) ids_.push_back(fw->id);
    }
  }

  void Run() {
    if (TeamUsesFrameworks(team_) && !team_.frameworks) {
      Error(team_.frameworks_loc.line > 0 ? team_.frameworks_loc : SourceLoc{team_.path, 1, 1},
            "the team routes or maps over frameworks but has no framework library loaded: "
            "expected Team::frameworks (FrameworkLibrary::Load)");
      return;
    }
    for (size_t i = 0; i < team_.routes.size(); ++i) CheckRule(team_.routes[i], i);
    for (const Step& top : team_.flow) {
      CheckStep(top);
      for (const Step& child : top.children) CheckStep(child);
    }
  }

 private:
  void Error(const SourceLoc& loc, std::string message) {
    out_->push_back(Diagnostic{loc, std::move(message)});
  }

  // `id` names one framework (exact) or, with `prefix_ok`, a meta-category or category.
  void CheckFrameworkId(const SourceLoc& loc, const std::string& where, const std::string& id,
                        bool prefix_ok) {
    const FrameworkLibrary& lib = *team_.frameworks;
    if (lib.Find(id) != nullptr) return;
    if (prefix_ok && !lib.List(id).empty()) return;
    std::string hint;
    if (LooksLikeId(id)) {
      // A wrong last number is best answered with the range its parent holds.
      size_t dot = id.rfind('.');
      std::string parent = dot == std::string::npos ? "" : id.substr(0, dot);
      std::vector<const Framework*> siblings =
          parent.empty() ? std::vector<const Framework*>{} : lib.List(parent);
      if (siblings.empty() && lib.size() > 0) {
        std::vector<const Framework*> all = lib.List();
        const std::string& first = all.front()->id;
        const std::string& last = all.back()->id;
        hint = " (the meta-categories run from " + first.substr(0, first.find('.')) + " to " +
               last.substr(0, last.find('.')) + ")";
      } else if (!siblings.empty()) {
        hint = " (did you mean one of " + siblings.front()->id + " to " + siblings.back()->id +
               ", the frameworks under " + parent + "?)";
      } else {
        hint = DidYouMean(id, ids_);
      }
    } else if (std::vector<SearchHit> hits = lib.Search(id, 1); !hits.empty()) {
      hint = " (did you mean " + hits.front().framework->id + ", " + hits.front().framework->name +
             "?)";
    }
    Error(loc, where + ": no framework '" + id + "' in the library: expected an id M.C.F such as " +
                   "2.3.5" + (prefix_ok ? " or a prefix such as 2.3" : "") + hint);
  }

  void CheckAgent(const SourceLoc& loc, const std::string& where, const std::string& agent) {
    if (team_.FindAgent(agent) != nullptr) return;
    std::string hint = DidYouMean(agent, agent_names_);
    Error(loc, where + " names agent '" + agent + "', which is not declared" +
                   (hint.empty() ? ": expected " + QuotedList(agent_names_) : hint));
  }

  void CheckRule(const RouteRule& rule, size_t index) {
    const std::string where = "routes[" + std::to_string(index) + "]";
    if (!rule.regex.empty()) {
      RE2::Options options;
      options.set_log_errors(false);
      RE2 re(rule.regex, options);
      if (!re.ok()) {
        Error(rule.regex_loc.line > 0 ? rule.regex_loc : rule.loc,
              where + ": invalid regex '" + rule.regex + "': " + re.error() +
                  " (expected RE2 syntax)");
      }
    }
    for (const std::string& id : rule.frameworks) {
      CheckFrameworkId(rule.frameworks_loc.line > 0 ? rule.frameworks_loc : rule.loc, where, id,
                       /*prefix_ok=*/false);
    }
    if (!rule.agent.empty()) CheckAgent(rule.loc, where, rule.agent);
  }

  void CheckItemFields(const Step& step, const std::string& what) {
    const std::vector<std::string>& fields = step.over_source.kind == MapSource::Kind::kFrameworks
                                                 ? kFrameworkItemFields
                                                 : kFileItemFields;
    auto scan = [&](const std::string& text) {
      Result<std::vector<TemplateRef>> refs = FindTemplateRefs(text);
      if (!refs) return;  // CheckTeam reports malformed references
      for (const TemplateRef& ref : *refs) {
        if (ref.root != "item" || ref.field.empty()) continue;
        if (std::find(fields.begin(), fields.end(), ref.field) != fields.end()) continue;
        std::string hint = DidYouMean(ref.field, fields);
        Error(step.brief.loc.line > 0 ? step.brief.loc : step.loc,
              what + " references '${item." + ref.field + "}', but its items have no field '" +
                  ref.field + "'" + (hint.empty() ? ": expected " + QuotedList(fields) : hint));
      }
    };
    const BriefTemplate& b = step.brief;
    scan(b.objective);
    for (const std::string& c : b.context) scan(c);
    for (const std::string& c : b.constraints) scan(c);
    scan(b.acceptance);
  }

  void CheckStep(const Step& step) {
    const std::string what = std::string(StepKindName(step.kind)) + " '" + step.id + "'";
    if (step.over_source.kind == MapSource::Kind::kFrameworks &&
        step.over_source.argument != "all") {
      CheckFrameworkId(step.over_source.loc.line > 0 ? step.over_source.loc : step.loc,
                       what + ": over: frameworks(...)", step.over_source.argument,
                       /*prefix_ok=*/true);
    }
    if (step.over_source.kind != MapSource::Kind::kNone) CheckItemFields(step, what);
    if (!step.route.enabled) return;
    const RouteSpec& route = step.route;
    if (step.kind != StepKind::kTask) {
      Error(route.loc, what + ": route: only a task is routed, found a " +
                           std::string(StepKindName(step.kind)) + " step");
    }
    for (const std::string& id : route.frameworks) {
      CheckFrameworkId(route.frameworks_loc, what + ": route", id, /*prefix_ok=*/true);
    }
    for (const std::string& agent : route.agents) CheckAgent(route.loc, what + ": route", agent);
    if (!route.router.empty()) CheckAgent(route.loc, what + ": route: router", route.router);
    if (route.top < 1 || route.top > 50) {
      Error(route.loc, what + ": route: top: expected 1 to 50, found " + std::to_string(route.top));
    }
    if (step.agents.empty() && route.agents.empty() && agent_names_.empty()) {
      Error(route.loc, what + ": route has no agent to pick: the team declares no agents");
    }
  }

  const Team& team_;
  std::vector<Diagnostic>* out_;
  std::vector<std::string> agent_names_;
  std::vector<std::string> ids_;
};

}  // namespace

void CheckRouting(const Team& team, std::vector<Diagnostic>* out) {
  RoutingChecker(team, out).Run();
}

}  // namespace chorus
