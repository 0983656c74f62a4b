// Sensitivity label names.
#include <array>

#include "chorus/privacy.h"

namespace chorus {
namespace {
constexpr std::array<std::string_view, 3> kLabelNames = {"public", "internal", "confidential"};
}  // namespace

std::string_view LabelName(Label label) { return kLabelNames[static_cast<int>(label)]; }

Result<Label> ParseLabel(std::string_view name) {
  for (size_t i = 0; i < kLabelNames.size(); ++i) {
    if (kLabelNames[i] == name) return static_cast<Label>(i);
  }
  return Err(
      Status::InvalidArgument("expected a label ('public', 'internal' or 'confidential'), "
                              "found '" +
                              std::string(name) + "'"));
}

}  // namespace chorus
