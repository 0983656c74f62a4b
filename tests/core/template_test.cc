#include "core/template.h"

#include <gtest/gtest.h>

namespace chorus {
namespace {

TEST(Template, FindsRootsAndFields) {
  auto refs = FindTemplateRefs("a ${inputs.request} b ${draft} c ${draft.Risks}");
  ASSERT_TRUE(refs) << refs.error().ToString();
  ASSERT_EQ(refs->size(), 3u);
  EXPECT_EQ((*refs)[0].root, "inputs");
  EXPECT_EQ((*refs)[0].field, "request");
  EXPECT_EQ((*refs)[1].root, "draft");
  EXPECT_EQ((*refs)[1].field, "");
  EXPECT_EQ((*refs)[2].field, "Risks");
}

TEST(Template, ExpandsAndEscapes) {
  auto out = ExpandTemplate("x=${a} literal=$${a} cost=$5", [](const TemplateRef& r) {
    return Result<std::string>(r.root == "a" ? "1" : "?");
  });
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "x=1 literal=${a} cost=$5");
}

TEST(Template, RejectsUnterminatedAndEmptyReferences) {
  EXPECT_FALSE(FindTemplateRefs("oops ${inputs.x"));
  EXPECT_FALSE(FindTemplateRefs("oops ${}"));
  EXPECT_FALSE(FindTemplateRefs("oops ${a b}"));
  EXPECT_FALSE(FindTemplateRefs("oops ${a.}"));
}

TEST(Template, PropagatesResolverFailure) {
  auto out = ExpandTemplate("${missing}", [](const TemplateRef&) -> Result<std::string> {
    return Err(Status::NotFound("no step 'missing'"));
  });
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace chorus
