// Reads the routing parts of a team file; see team_route_loader.h.
#include "flow/team_route_loader.h"

#include <algorithm>

#include "chorus/frameworks.h"
#include "flow/suggest.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kRuleKeys = {"name", "when", "frameworks", "framework", "agent"};
const std::vector<std::string> kWhenKeys = {"keywords", "regex", "label"};
const std::vector<std::string> kRouteKeys = {"frameworks", "top", "agents", "router"};
const std::vector<std::string> kDelegationKeys = {"local_if", "delegate_if"};
const std::vector<std::string> kLocalIfKeys = {"max_words", "label"};
const std::vector<std::string> kDelegateIfKeys = {"min_words", "holds_context"};
const std::vector<std::string> kLabels = {"public", "internal", "confidential"};

constexpr int64_t kMaxTop = 50;
constexpr int64_t kMaxWords = 100'000'000;

// `frameworks: auto`, `frameworks: 2.3.5` or `frameworks: [2.3.5, 1.4]`; auto = empty list.
std::optional<std::vector<std::string>> FrameworkIds(YamlReader& r, const YamlEntry& e,
                                                     bool allow_auto) {
  if (allow_auto && e.value.IsScalar() && e.value.Scalar() == "auto") {
    return std::vector<std::string>{};
  }
  std::optional<std::vector<std::string>> ids = r.StringList(e, /*allow_single=*/true);
  if (ids && ids->empty()) {
    r.Error(e, e.key + ": expected framework ids such as 2.3.5" +
                   std::string(allow_auto ? " or 'auto'" : "") + ", found an empty list");
    return std::nullopt;
  }
  return ids;
}

// The quoted or bare argument of `name(...)`, or nullopt when `text` is not such a call.
std::optional<std::string> CallArgument(const std::string& text, std::string_view name) {
  if (text.size() < name.size() + 2 || text.compare(0, name.size(), name) != 0 ||
      text[name.size()] != '(' || text.back() != ')') {
    return std::nullopt;
  }
  std::string arg = text.substr(name.size() + 1, text.size() - name.size() - 2);
  auto trim = [](std::string& s) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t") + 1);
  };
  trim(arg);
  if (arg.size() >= 2 && (arg.front() == '"' || arg.front() == '\'') && arg.back() == arg.front()) {
    arg = arg.substr(1, arg.size() - 2);
  }
  return arg;
}

}  // namespace

std::vector<std::string> ParseFrameworkSources(YamlReader& r, const YamlEntry& entry) {
  std::optional<std::vector<std::string>> sources = r.StringList(entry, /*allow_single=*/true);
  if (!sources) return {"default"};
  if (sources->empty()) {
    r.Error(entry,
            "frameworks: expected library sources such as [default, ./my-frameworks], found an "
            "empty list");
    return {"default"};
  }
  return *sources;
}

std::vector<RouteRule> ParseRoutes(YamlReader& r, const YamlEntry& entry) {
  std::vector<RouteRule> rules;
  if (!entry.value.IsSequence()) {
    r.Error(entry,
            "routes: expected a list of rules ({ when: {...}, frameworks: [...], agent }), "
            "found " +
                DescribeNode(entry.value));
    return rules;
  }
  for (size_t i = 0; i < entry.value.size(); ++i) {
    const YAML::Node node = entry.value[i];
    RouteRule rule;
    rule.loc = r.Loc(node);
    const std::string where = "routes[" + std::to_string(i) + "]";
    bool has_when = false;
    bool has_condition = false;  // any key under `when`; bad ones are reported on their own
    for (const YamlEntry& e : r.Entries(node, "a route rule", kRuleKeys, where)) {
      if (e.key == "name") {
        r.NonEmptyString(e);  // names are for readers of the file; decisions cite routes[i]
      } else if (e.key == "when") {
        has_when = true;
        has_condition = e.value.IsMap() && e.value.size() > 0;
        for (const YamlEntry& w : r.Entries(e, kWhenKeys, where + ".when")) {
          if (w.key == "keywords") {
            if (auto k = r.StringList(w, /*allow_single=*/true)) rule.keywords = std::move(*k);
          } else if (w.key == "regex") {
            rule.regex_loc = r.Loc(w);
            if (auto re = r.NonEmptyString(w)) rule.regex = std::move(*re);
          } else if (w.key == "label") {
            if (auto l = r.OneOf(w, kLabels)) rule.label = std::move(*l);
          }
        }
      } else if (e.key == "frameworks" || e.key == "framework") {
        rule.frameworks_loc = r.Loc(e);
        if (auto ids = FrameworkIds(r, e, /*allow_auto=*/false)) rule.frameworks = std::move(*ids);
      } else if (e.key == "agent") {
        if (auto a = r.NonEmptyString(e)) rule.agent = std::move(*a);
      }
    }
    if (!has_when) {
      r.Error(node, where + ": missing 'when': expected conditions (keywords, regex, label)");
    } else if (!has_condition) {
      r.Error(node, where + ": 'when' sets no condition: expected keywords, regex or label");
    }
    if (rule.frameworks.empty() && rule.agent.empty()) {
      r.Error(node, where + ": a rule must pick something: expected 'frameworks' or 'agent'");
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

DelegationPolicy ParseDelegation(YamlReader& r, const YamlEntry& entry) {
  DelegationPolicy policy;
  policy.loc = r.Loc(entry.key_node);
  for (const YamlEntry& e : r.Entries(entry, kDelegationKeys, "delegation")) {
    const bool local = e.key == "local_if";
    for (const YamlEntry& c :
         r.Entries(e, local ? kLocalIfKeys : kDelegateIfKeys, "delegation." + e.key)) {
      if (c.key == "max_words") {
        if (auto n = r.Integer(c, 1, kMaxWords)) policy.local_max_words = *n;
      } else if (c.key == "label") {
        if (auto l = r.OneOf(c, kLabels)) policy.local_label = std::move(*l);
      } else if (c.key == "min_words") {
        if (auto n = r.Integer(c, 1, kMaxWords)) policy.delegate_min_words = *n;
      } else if (c.key == "holds_context") {
        if (auto b = r.Bool(c)) policy.holds_context = *b;
      }
    }
  }
  return policy;
}

RouteSpec ParseRouteSpec(YamlReader& r, const YamlEntry& entry) {
  RouteSpec spec;
  spec.enabled = true;
  spec.loc = r.Loc(entry.key_node);
  spec.frameworks_loc = spec.loc;
  // `route: auto` is the whole library with the defaults.
  if (entry.value.IsScalar() && entry.value.Scalar() == "auto") return spec;
  if (!entry.value.IsMap()) {
    r.Error(entry, "route: expected 'auto' or a mapping (frameworks, top, agents, router), found " +
                       DescribeNode(entry.value));
    return spec;
  }
  for (const YamlEntry& e : r.Entries(entry, kRouteKeys, "route")) {
    if (e.key == "frameworks") {
      spec.frameworks_loc = r.Loc(e);
      if (auto ids = FrameworkIds(r, e, /*allow_auto=*/true)) spec.frameworks = std::move(*ids);
    } else if (e.key == "top") {
      if (auto n = r.Integer(e, 1, kMaxTop)) spec.top = static_cast<int>(*n);
    } else if (e.key == "agents") {
      if (auto a = r.StringList(e, /*allow_single=*/true)) spec.agents = std::move(*a);
    } else if (e.key == "router") {
      if (auto a = r.NonEmptyString(e)) spec.router = std::move(*a);
    }
  }
  return spec;
}

std::optional<MapSource> ParseMapSource(YamlReader& r, const YamlEntry& over) {
  if (!over.value.IsScalar()) return std::nullopt;
  const std::string& text = over.value.Scalar();
  MapSource source;
  source.loc = r.Loc(over);
  if (auto arg = CallArgument(text, "frameworks")) {
    source.kind = MapSource::Kind::kFrameworks;
    source.argument = arg->empty() ? "all" : *arg;
  } else if (auto glob = CallArgument(text, "files")) {
    source.kind = MapSource::Kind::kFiles;
    source.argument = *glob;
    if (glob->empty()) {
      r.Error(over, "over: files(...) expected a glob such as \"docs/*.md\", found nothing");
    }
  } else {
    if (text.rfind("frameworks", 0) == 0 || text.rfind("files", 0) == 0) {
      r.Error(over,
              "over: expected frameworks(\"2.3\"), frameworks(all) or files(\"GLOB\"), "
              "found '" +
                  text + "'");
    }
    return std::nullopt;
  }
  return source;
}

bool TeamUsesFrameworks(const Team& team) {
  bool uses = !team.routes.empty();
  for (const Step& top : team.flow) {
    auto check = [&](const Step& s) {
      uses |= s.route.enabled || s.over_source.kind == MapSource::Kind::kFrameworks;
    };
    check(top);
    for (const Step& child : top.children) check(child);
  }
  return uses;
}

void LoadTeamFrameworks(YamlReader& r, Team& team, const fs::path& base_dir) {
  if (!TeamUsesFrameworks(team)) return;
  Result<FrameworkLibrary> library = FrameworkLibrary::Load(team.framework_sources, base_dir);
  if (!library) {
    SourceLoc at = team.frameworks_loc.line > 0 ? team.frameworks_loc : SourceLoc{r.file(), 1, 1};
    r.Error(at, "frameworks: cannot load the framework library: " + library.error().message());
    return;
  }
  team.frameworks = std::make_shared<const FrameworkLibrary>(std::move(*library));
}

}  // namespace chorus
