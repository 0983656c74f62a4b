#include <gtest/gtest.h>

#include "chorus/brief.h"

namespace chorus {
namespace {

using nlohmann::json;
using Violations = std::vector<std::string>;

Violations Check(const char* schema, const char* value) {
  return ValidateJsonSchema(json::parse(schema), json::parse(value));
}

TEST(JsonSchema, TypesIncludingIntegerVersusNumber) {
  EXPECT_EQ(Check(R"({"type":"integer"})", "3"), Violations{});
  EXPECT_EQ(Check(R"({"type":"integer"})", "3.0"), Violations{});
  EXPECT_EQ(Check(R"({"type":"integer"})", "3.5"), Violations{"$: expected integer, found number"});
  EXPECT_EQ(Check(R"({"type":"number"})", "3"), Violations{});
  EXPECT_EQ(Check(R"({"type":"string"})", "true"), Violations{"$: expected string, found boolean"});
  EXPECT_EQ(Check(R"({"type":"object"})", "[]"), Violations{"$: expected object, found array"});
}

TEST(JsonSchema, NullableThroughTypeLists) {
  EXPECT_EQ(Check(R"({"type":["string","null"]})", "null"), Violations{});
  EXPECT_EQ(Check(R"({"type":["string","null"]})", "1"),
            Violations{"$: expected string or null, found number"});
}

TEST(JsonSchema, PathsThroughObjectsAndArrays) {
  const char* schema = R"({"type":"object","properties":{"items":{"type":"array",
      "items":{"type":"object","properties":{"score":{"type":"number"}}}},
      "odd key":{"type":"string"}}})";
  EXPECT_EQ(Check(schema, R"({"items":[{"score":1},{"score":2},{"score":"x"}],"odd key":1})"),
            (Violations{"$.items[2].score: expected number, found string",
                        "$['odd key']: expected string, found number"}));
}

TEST(JsonSchema, RequiredAndAdditionalProperties) {
  const char* schema = R"({"type":"object","required":["a","b"],
      "properties":{"a":{}},"additionalProperties":false})";
  EXPECT_EQ(Check(schema, R"({"a":1,"c":2})"),
            (Violations{"$: missing required property 'b'",
                        "$: unexpected property 'c' (allowed: 'a')"}));
  EXPECT_EQ(Check(R"({"additionalProperties":{"type":"integer"}})", R"({"x":"1"})"),
            Violations{"$.x: expected integer, found string"});
}

TEST(JsonSchema, EnumAndConst) {
  EXPECT_EQ(Check(R"({"enum":["yes","no"]})", R"("maybe")"),
            Violations{"$: expected one of \"yes\", \"no\", found \"maybe\""});
  EXPECT_EQ(Check(R"({"const":1})", "2"), Violations{"$: expected 1, found 2"});
}

TEST(JsonSchema, NumericBounds) {
  EXPECT_EQ(Check(R"({"minimum":1,"maximum":10})", "0"),
            Violations{"$: expected a number >= 1, found 0"});
  EXPECT_EQ(Check(R"({"minimum":1,"maximum":10})", "11.5"),
            Violations{"$: expected a number <= 10, found 11.5"});
  EXPECT_EQ(Check(R"({"exclusiveMinimum":0})", "0"),
            Violations{"$: expected a number > 0, found 0"});
  EXPECT_EQ(Check(R"({"minimum":1,"maximum":10})", "10"), Violations{});
}

TEST(JsonSchema, StringLengthsCountCharacters) {
  EXPECT_EQ(Check(R"({"maxLength":3})", R"("äöü")"), Violations{});
  EXPECT_EQ(Check(R"({"minLength":2})", R"("a")"),
            Violations{"$: expected at least 2 characters, found 1"});
  EXPECT_EQ(Check(R"({"maxLength":2})", R"("abc")"),
            Violations{"$: expected at most 2 characters, found 3"});
}

TEST(JsonSchema, PatternSearchesAnywhere) {
  EXPECT_EQ(Check(R"({"pattern":"[0-9]{4}"})", R"("in 2024")"), Violations{});
  EXPECT_EQ(Check(R"({"pattern":"^[a-z]+$"})", R"("Abc")"),
            Violations{"$: expected a string matching /^[a-z]+$/, found \"Abc\""});
}

TEST(JsonSchema, ItemCounts) {
  EXPECT_EQ(Check(R"({"minItems":2})", "[1]"), Violations{"$: expected at least 2 items, found 1"});
  EXPECT_EQ(Check(R"({"maxItems":1})", "[1,2]"),
            Violations{"$: expected at most 1 items, found 2"});
}

TEST(JsonSchema, LocalRefsIntoDefs) {
  const char* schema = R"({"$defs":{"step":{"type":"object","required":["name"],
      "properties":{"name":{"type":"string"},
                    "then":{"type":"array","items":{"$ref":"#/$defs/step"}}}}},
      "$ref":"#/$defs/step"})";
  EXPECT_EQ(Check(schema, R"({"name":"a","then":[{"name":"b","then":[{"name":3}]}]})"),
            Violations{"$.then[0].then[0].name: expected string, found number"});
  EXPECT_EQ(Check(R"({"$ref":"#/$defs/nope"})", "1"),
            Violations{"$: schema $ref '#/$defs/nope' does not resolve"});
}

TEST(JsonSchema, RefCyclesAreReportedNotFollowedForever) {
  auto v = Check(
      R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})", "1");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("$ref cycle"), std::string::npos);
}

TEST(JsonSchema, Combinators) {
  EXPECT_EQ(Check(R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "1"), Violations{});
  EXPECT_EQ(Check(R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "true"),
            Violations{"$: matches none of the 2 anyOf alternatives (1: $: expected string, "
                       "found boolean; 2: $: expected integer, found boolean)"});
  EXPECT_EQ(Check(R"({"oneOf":[{"type":"number"},{"type":"integer"}]})", "1"),
            Violations{"$: matches 2 of the 2 oneOf alternatives (1, 2), expected exactly one"});
  EXPECT_EQ(Check(R"({"allOf":[{"minimum":1},{"maximum":2}]})", "3"),
            Violations{"$: expected a number <= 2, found 3"});
}

TEST(JsonSchema, BooleanSchemasAndEmptySchema) {
  EXPECT_EQ(Check("true", "1"), Violations{});
  EXPECT_EQ(Check("{}", R"({"anything":[1]})"), Violations{});
  EXPECT_EQ(Check(R"({"properties":{"x":false}})", R"({"x":1})"),
            Violations{"$.x: no value is allowed here, found 1"});
}

TEST(JsonSchema, ManyViolationsAreCapped) {
  json value = json::array();
  for (int i = 0; i < 500; ++i) value.push_back("x");
  auto v = ValidateJsonSchema(json::parse(R"({"items":{"type":"number"}})"), value);
  ASSERT_EQ(v.size(), 101u);
  EXPECT_EQ(v.back(), "... and 400 more violations");
}

}  // namespace
}  // namespace chorus

namespace chorus {
namespace {

// Regression: counts given as signed integers (schemas converted from YAML, or built in code)
// were ignored by validation and rejected by the schema check.
TEST(JsonSchemaRegression, SignedCountKeywordsAreHonoured) {
  nlohmann::json schema = {{"type", "array"}, {"minItems", int64_t{2}}};
  EXPECT_FALSE(ValidateJsonSchema(schema, nlohmann::json::array({1})).empty());
  EXPECT_TRUE(ValidateJsonSchema(schema, nlohmann::json::array({1, 2})).empty());
  DelegationBrief brief;
  brief.objective = "x";
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = schema;
  EXPECT_TRUE(ValidateBrief(brief).ok()) << ValidateBrief(brief).ToString();
}

}  // namespace
}  // namespace chorus
