// ParsePrivacy: the team file's `privacy:` policy.
//
//   privacy: { entities: [ "Acme Corp", "Jane Roe" ], entities_file: clients.txt,
//              cloud_max_label: internal, on_violation: pseudonymize }
#include "chorus/privacy.h"
#include "flow/suggest.h"
#include "flow/team_loader.h"

namespace chorus {
namespace {

const std::vector<std::string> kPrivacyKeys = {"entities", "entities_file", "cloud_max_label",
                                               "on_violation"};
const std::vector<std::string> kLabelNames = {"public", "internal", "confidential"};
const std::vector<std::string> kViolationActions = {"pseudonymize", "block"};

}  // namespace

PrivacySpec ParsePrivacy(YamlReader& r, const YamlEntry& privacy,
                         const std::filesystem::path& base_dir) {
  PrivacySpec spec;
  spec.loc = r.Loc(privacy.key_node);
  if (!privacy.value.IsMap()) {
    r.Error(privacy,
            "privacy: expected a mapping with 'entities', 'entities_file', "
            "'cloud_max_label' or 'on_violation', found " +
                DescribeNode(privacy.value));
    return spec;
  }
  std::vector<std::string> from_file;
  for (const YamlEntry& e : r.Entries(privacy, kPrivacyKeys, "privacy")) {
    if (e.key == "entities") {
      if (auto list = r.StringList(e, /*allow_single=*/false)) {
        for (std::string& name : *list) {
          if (name.empty()) {
            r.Error(e, "entities: expected client or project names, found an empty string");
          } else {
            spec.entities.push_back(std::move(name));
          }
        }
      }
    } else if (e.key == "entities_file") {
      std::optional<std::string> path = r.NonEmptyString(e);
      if (!path) continue;
      std::filesystem::path file(*path);
      if (file.is_relative()) file = base_dir / file;
      Result<std::vector<std::string>> names = ReadEntitiesFile(file.string());
      if (!names) {
        r.Error(e, "entities_file: expected a readable file of names, one per line: " +
                       names.error().message());
      } else {
        from_file = std::move(*names);
      }
    } else if (e.key == "cloud_max_label") {
      if (auto label = r.OneOf(e, kLabelNames)) spec.cloud_max_label = *label;
    } else if (e.key == "on_violation") {
      if (auto action = r.OneOf(e, kViolationActions)) spec.on_violation = *action;
    }
  }
  spec.entities.insert(spec.entities.end(), from_file.begin(), from_file.end());
  return spec;
}

}  // namespace chorus
