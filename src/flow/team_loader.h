// Internal to the team loader: the `flow:` section is parsed in team_flow_loader.cc, the rest
// of the document in team_loader.cc. Not thread-safe beyond what YamlReader allows (one parse,
// one thread).
#pragma once

#include <filesystem>
#include <vector>

#include "chorus/team.h"
#include "flow/team_yaml.h"

namespace chorus {

// The steps under `flow:`. Problems go to `reader`; steps that could not be read are left out.
// `base_dir` is where `$ref` schema files are looked up (the team file's directory).
std::vector<Step> ParseFlow(YamlReader& reader, const YamlEntry& flow,
                            const std::filesystem::path& base_dir);

// The `privacy:` policy (team_privacy_loader.cc). `base_dir` resolves a relative
// entities_file; its names are read now, so a missing file is a load error with a location.
PrivacySpec ParsePrivacy(YamlReader& reader, const YamlEntry& privacy,
                         const std::filesystem::path& base_dir);

}  // namespace chorus
