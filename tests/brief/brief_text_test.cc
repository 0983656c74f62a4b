// DelegationBrief::ToJsonText prints what ToJson().dump() prints, byte for byte.
#include <gtest/gtest.h>

#include "chorus/brief.h"

namespace chorus {
namespace {

std::string ViaTree(const DelegationBrief& b) {
  return b.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(BriefText, EmptyBriefMatches) {
  DelegationBrief b;
  EXPECT_EQ(b.ToJsonText(), ViaTree(b));
}

TEST(BriefText, FullBriefMatches) {
  DelegationBrief b;
  b.id = "reviews[2]";
  b.objective = "Review \"the plan\"\nfor risks \xFF";
  b.context = {"notes: caf\xC3\xA9", "second\tline"};
  b.constraints = {"At most five"};
  b.output.format = OutputFormat::kJson;
  b.output.sections = {"Risks", "Mitigations"};
  b.output.schema = {{"type", "object"}, {"required", {"risks"}}};
  b.output.description = "a risk list";
  b.acceptance = "every risk has a mitigation";
  EXPECT_EQ(b.ToJsonText(), ViaTree(b));
}

}  // namespace
}  // namespace chorus
