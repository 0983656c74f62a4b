#include "core/utf8.h"

#include <gtest/gtest.h>

#include "core/ids.h"

namespace chorus {
namespace {

TEST(Utf8, AcceptsValidTextOfEveryLength) {
  EXPECT_FALSE(FindInvalidUtf8("plain ascii text that is longer than eight bytes"));
  EXPECT_FALSE(FindInvalidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
}

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(FindInvalidUtf8("abcdefghij\xFFz"), 10u);
  EXPECT_EQ(FindInvalidUtf8("ab\xC3"), 2u);            // truncated sequence
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1u);     // UTF-16 surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
}

TEST(Utf8, DescribesOffsetsAsLineAndColumn) {
  EXPECT_EQ(DescribeOffset("ab\ncd\xFF", 5), "line 2, column 3");
}

TEST(Utf8, SanitizeReplacesInvalidBytes) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(RunId, SortsByTimeAndIsUnique) {
  std::string a = NewRunId(1000), b = NewRunId(2000), c = NewRunId(2000);
  EXPECT_EQ(a.size(), 26u);
  EXPECT_LT(a, b);
  EXPECT_NE(b, c);
}

}  // namespace
}  // namespace chorus
