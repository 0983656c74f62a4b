#include "chorus/brief.h"

#include <gtest/gtest.h>

namespace chorus {
namespace {

using nlohmann::json;

DelegationBrief FullBrief() {
  DelegationBrief brief;
  brief.id = "reviews[2]";
  brief.objective = "Review the launch plan";
  brief.context = {"The plan ships in May.", "Budget: 40k EUR."};
  brief.constraints = {"No more than 300 words", "Cite the context"};
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = {{"type", "object"}, {"required", {"verdict"}}};
  brief.output.description = "A verdict and reasons";
  brief.acceptance = "A reviewer can act on it";
  return brief;
}

TEST(BriefJson, RoundTripsEveryField) {
  const DelegationBrief brief = FullBrief();
  auto back = DelegationBrief::FromJson(brief.ToJson());
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->id, brief.id);
  EXPECT_EQ(back->objective, brief.objective);
  EXPECT_EQ(back->context, brief.context);
  EXPECT_EQ(back->constraints, brief.constraints);
  EXPECT_EQ(back->output.format, OutputFormat::kJson);
  EXPECT_EQ(back->output.schema, brief.output.schema);
  EXPECT_EQ(back->output.description, brief.output.description);
  EXPECT_EQ(back->acceptance, brief.acceptance);
  EXPECT_EQ(back->ToJson(), brief.ToJson());
}

TEST(BriefJson, HasTheStableShape) {
  DelegationBrief brief;
  brief.objective = "x";
  brief.output.format = OutputFormat::kMarkdown;
  brief.output.sections = {"Goals"};
  const json j = brief.ToJson();
  EXPECT_EQ(j, json::parse(R"({"id":"","objective":"x","context":[],"constraints":[],
      "output":{"format":"markdown","sections":["Goals"],"schema":null,"description":""},
      "acceptance":""})"));
}

TEST(BriefJson, MissingFieldsTakeDefaults) {
  auto brief = DelegationBrief::FromJson(json{{"objective", "Summarise"}});
  ASSERT_TRUE(brief) << brief.error().ToString();
  EXPECT_EQ(brief->objective, "Summarise");
  EXPECT_EQ(brief->output.format, OutputFormat::kText);
  EXPECT_TRUE(brief->output.schema.is_null());
  EXPECT_TRUE(brief->context.empty());
}

TEST(BriefJson, ErrorsNameTheField) {
  auto not_object = DelegationBrief::FromJson(json::array());
  ASSERT_FALSE(not_object);
  EXPECT_EQ(not_object.error().message(), "brief: expected an object, found array");

  auto bad_item = DelegationBrief::FromJson(json{{"objective", "x"}, {"context", {"a", 3}}});
  ASSERT_FALSE(bad_item);
  EXPECT_EQ(bad_item.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_item.error().message(), "brief.context[1]: expected a string, found number");

  auto bad_format =
      DelegationBrief::FromJson(json{{"objective", "x"}, {"output", {{"format", "xml"}}}});
  ASSERT_FALSE(bad_format);
  EXPECT_EQ(bad_format.error().message(),
            "brief.output.format: expected \"text\", \"markdown\" or \"json\", found \"xml\"");

  auto bad_objective = DelegationBrief::FromJson(json{{"objective", 7}});
  ASSERT_FALSE(bad_objective);
  EXPECT_EQ(bad_objective.error().message(), "brief.objective: expected a string, found number");

  auto bad_sections =
      DelegationBrief::FromJson(json{{"objective", "x"}, {"output", {{"sections", "Goals"}}}});
  ASSERT_FALSE(bad_sections);
  EXPECT_EQ(bad_sections.error().message(),
            "brief.output.sections: expected a list of strings, found string");
}

TEST(ValidateBrief, AcceptsAFullBrief) { EXPECT_TRUE(ValidateBrief(FullBrief()).ok()); }

TEST(ValidateBrief, RejectsABlankObjective) {
  DelegationBrief brief = FullBrief();
  brief.objective = "  \n\t";
  Status s = ValidateBrief(brief);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "brief 'reviews[2]': objective: expected a non-blank objective, found \"  \\n\\t\"");
}

TEST(ValidateBrief, AllowsMarkdownWithoutSections) {
  DelegationBrief brief;
  brief.objective = "Write notes";
  brief.output.format = OutputFormat::kMarkdown;
  EXPECT_TRUE(ValidateBrief(brief).ok());
}

TEST(ValidateBrief, RejectsASchemaThatIsNotAnObject) {
  DelegationBrief brief = FullBrief();
  brief.output.schema = "object";
  Status s = ValidateBrief(brief);
  EXPECT_EQ(s.message(),
            "brief 'reviews[2]': output.schema: expected a JSON Schema object or null, found "
            "\"object\"");
}

TEST(ValidateBrief, RejectsMalformedSchemas) {
  DelegationBrief brief = FullBrief();
  brief.output.schema = {{"type", "object"}, {"properties", {{"score", {{"type", "float"}}}}}};
  Status s = ValidateBrief(brief);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("output.schema.properties.score.type: expected a type name"),
            std::string::npos)
      << s.message();

  brief.output.schema = {{"$ref", "#/$defs/missing"}};
  s = ValidateBrief(brief);
  EXPECT_NE(s.message().find("output.schema.$ref"), std::string::npos) << s.message();

  brief.output.schema = {{"type", "string"}, {"pattern", "([a-z"}};
  s = ValidateBrief(brief);
  EXPECT_NE(s.message().find("expected a valid regular expression"), std::string::npos)
      << s.message();

  brief.output.schema = {{"$defs", {{"item", {{"type", "string"}}}}},
                         {"type", "array"},
                         {"items", {{"$ref", "#/$defs/item"}}}};
  EXPECT_TRUE(ValidateBrief(brief).ok());
}

TEST(ValidateBrief, RejectsEmptyAndDuplicateSections) {
  DelegationBrief brief;
  brief.objective = "Plan";
  brief.output.format = OutputFormat::kMarkdown;
  brief.output.sections = {"Goals", " "};
  EXPECT_EQ(ValidateBrief(brief).message(),
            "brief: output.sections[1]: expected a non-empty, single-line section name, found "
            "\" \"");
  brief.output.sections = {"Goals", "Risks", "goals:"};
  EXPECT_EQ(ValidateBrief(brief).message(),
            "brief: output.sections[2]: expected unique section names, found 'goals:' twice");
}

}  // namespace
}  // namespace chorus
