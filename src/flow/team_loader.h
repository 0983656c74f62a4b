// Internal to the team loader: the `flow:` section is parsed in team_flow_loader.cc, the rest
// of the document in team_loader.cc. Not thread-safe beyond what YamlReader allows (one parse,
// one thread).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "chorus/team.h"
#include "flow/team_yaml.h"

namespace chorus {

// The steps under `flow:`. Problems go to `reader`; steps that could not be read are left out.
// `base_dir` is where `$ref` schema files are looked up (the team file's directory).
std::vector<Step> ParseFlow(YamlReader& reader, const YamlEntry& flow,
                            const std::filesystem::path& base_dir);

// `gate:` on a task, map or synthesize step (team_quality_loader.cc). `parse_schema` reads a
// `schema:` value the way a brief's output does (inline or { $ref: FILE }).
using SchemaParser = std::function<std::optional<nlohmann::json>(const YamlEntry&)>;
std::optional<GateSpec> ParseGate(YamlReader& reader, const YamlEntry& entry,
                                  const SchemaParser& parse_schema);

// A `witness` step, in either form: `witness: ID` with its keys beside it, or
// `witness: { id: ID, ... }` (team_quality_loader.cc).
std::optional<Step> ParseWitness(YamlReader& reader, const YAML::Node& node, const YamlEntry& kind);
// The `privacy:` policy (team_privacy_loader.cc). `base_dir` resolves a relative
// entities_file; its names are read now, so a missing file is a load error with a location.
PrivacySpec ParsePrivacy(YamlReader& reader, const YamlEntry& privacy,
                         const std::filesystem::path& base_dir);

}  // namespace chorus
