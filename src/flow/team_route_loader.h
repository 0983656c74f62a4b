// Internal to the team loader: the routing parts of a team file — `frameworks:` (library
// sources), `routes:` (trigger rules), `delegation:` (delegate vs. local), a task's `route:`
// and a map's `over: frameworks(...)` / `over: files(...)`. Cross-checks against the loaded
// library (unknown framework ids, bad regexes) are CheckRouting's, in team_route_check.cc.
// One parse, one thread, like YamlReader.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chorus/team.h"
#include "flow/team_yaml.h"

namespace chorus {

std::vector<std::string> ParseFrameworkSources(YamlReader& r, const YamlEntry& entry);
std::vector<RouteRule> ParseRoutes(YamlReader& r, const YamlEntry& entry);
DelegationPolicy ParseDelegation(YamlReader& r, const YamlEntry& entry);
RouteSpec ParseRouteSpec(YamlReader& r, const YamlEntry& entry);

// `frameworks("2.3")`, `frameworks(all)`, `files("docs/*.md")`; nullopt for anything else (a
// ${...} reference). Reports a malformed call.
std::optional<MapSource> ParseMapSource(YamlReader& r, const YamlEntry& over);

// Whether the team routes or maps over frameworks, and so needs its library.
bool TeamUsesFrameworks(const Team& team);

// Loads team.framework_sources (relative to `base_dir`) into team.frameworks when the team
// uses frameworks; problems are reported at `frameworks:` (or the top of the file).
void LoadTeamFrameworks(YamlReader& r, Team& team, const std::filesystem::path& base_dir);

// Problems with routing in a whole team: unknown framework ids and prefixes (with "did you
// mean"), bad regexes and labels, unknown router and candidate agents, a route or a map over
// frameworks with no library loaded. Called by CheckTeam.
void CheckRouting(const Team& team, std::vector<Diagnostic>* out);

}  // namespace chorus
