// "Did you mean" suggestions for misspelt names in team files.
#include <gtest/gtest.h>

#include "flow/suggest.h"

namespace chorus {
namespace {

TEST(EditDistance, CountsAnAdjacentSwapAsOneEdit) {
  EXPECT_EQ(EditDistance("agnet", "agent"), 1u);
  EXPECT_EQ(EditDistance("tsak", "task"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("same", "same"), 0u);
}

TEST(ClosestMatch, SuggestsOnlyWithinTwoEdits) {
  const std::vector<std::string> keys = {"agent", "agents", "brief", "retries"};
  EXPECT_EQ(ClosestMatch("agnet", keys), "agent");
  EXPECT_EQ(ClosestMatch("Brief", keys), "brief") << "a case slip is one edit";
  EXPECT_EQ(ClosestMatch("retires", keys), "retries");
  EXPECT_EQ(ClosestMatch("objective", keys), std::nullopt);
  EXPECT_EQ(ClosestMatch("xy", {"id"}), std::nullopt) << "two edits on two letters is anything";
  EXPECT_EQ(ClosestMatch("agent", keys), "agents") << "an exact match is never suggested";
}

TEST(DidYouMean, FormatsTheHint) {
  EXPECT_EQ(DidYouMean("fsat", {"fast", "deep"}), " (did you mean 'fast'?)");
  EXPECT_EQ(DidYouMean("zzzzzz", {"fast"}), "");
  EXPECT_EQ(QuotedList({"a"}), "'a'");
  EXPECT_EQ(QuotedList({"a", "b", "c"}), "'a', 'b' or 'c'");
  EXPECT_EQ(QuotedList({"a", "b"}, "and"), "'a' and 'b'");
}

}  // namespace
}  // namespace chorus
