#include <gtest/gtest.h>

#include "chorus/brief.h"

namespace chorus {
namespace {

using nlohmann::json;

ExpectedOutput Markdown(std::vector<std::string> sections) {
  ExpectedOutput out;
  out.format = OutputFormat::kMarkdown;
  out.sections = std::move(sections);
  return out;
}

ExpectedOutput Json(json schema = nullptr) {
  ExpectedOutput out;
  out.format = OutputFormat::kJson;
  out.schema = std::move(schema);
  return out;
}

TEST(CheckOutputText, AcceptsNonBlankAndTrims) {
  auto ok = CheckOutput(ExpectedOutput{}, "\n  Hello.  \n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->text, "Hello.");
  EXPECT_TRUE(ok->json.is_null());
}

TEST(CheckOutputText, RejectsBlank) {
  auto empty = CheckOutput(ExpectedOutput{}, "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "expected a non-empty answer, found an empty reply");
  auto blank = CheckOutput(ExpectedOutput{}, " \n\t ");
  ASSERT_FALSE(blank);
  EXPECT_EQ(blank.error().message(), "expected a non-empty answer, found only whitespace");
}

TEST(CheckOutputText, DoesNotCrashOnInvalidUtf8) {
  auto ok = CheckOutput(ExpectedOutput{}, "bad \xff\xfe bytes");
  EXPECT_TRUE(ok);
}

TEST(CheckOutputMarkdown, FindsSectionsInAnyOrderAndForm) {
  const std::string text =
      "Intro line.\n\n"
      "## risks:\nRain.\n\n"
      "### **Goals**\nGrow 10%.\n#### Detail\nIn EMEA.\n\n"
      "**Next Steps:**\nHire.\n\n"
      "# Moves #\nShip it.\n";
  auto ok = CheckOutput(Markdown({"Goals", "Risks", "Moves", "Next steps"}), text);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->json["Risks"], "Rain.");
  // A section keeps its sub-headings.
  EXPECT_EQ(ok->json["Goals"], "Grow 10%.\n#### Detail\nIn EMEA.");
  EXPECT_EQ(ok->json["Next steps"], "Hire.");
  EXPECT_EQ(ok->json["Moves"], "Ship it.");
  EXPECT_EQ(ok->text, text.substr(0, text.size() - 1));
}

TEST(CheckOutputMarkdown, BoldLineWithColonOutside) {
  auto ok = CheckOutput(Markdown({"Risks"}), "**Risks**:\n- none known");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->json["Risks"], "- none known");
}

TEST(CheckOutputMarkdown, ListsEveryMissingSectionAtOnce) {
  auto bad = CheckOutput(Markdown({"Risks", "Goals"}), "## Intro\nHello\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "missing sections 'Risks', 'Goals'; found headings 'Intro'");
}

TEST(CheckOutputMarkdown, SingularMessagesAndNoHeadings) {
  auto bad = CheckOutput(Markdown({"Risks"}), "Just prose, no structure.");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "missing section 'Risks'; found no headings");
}

TEST(CheckOutputMarkdown, HeadingsInsideCodeFencesDoNotCount) {
  auto bad = CheckOutput(Markdown({"Risks"}), "## Plan\nx\n```\n## Risks\n```\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "missing section 'Risks'; found headings 'Plan'");
}

TEST(CheckOutputMarkdown, RejectsEmptySections) {
  auto bad = CheckOutput(Markdown({"Goals", "Risks"}), "## Goals\n\n## Risks\nRain\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "section 'Goals' is empty");
}

TEST(CheckOutputMarkdown, UnwrapsAWholeReplyFence) {
  auto ok = CheckOutput(Markdown({"Goals"}), "```markdown\n## Goals\nGrow.\n```\n");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->json["Goals"], "Grow.");
  EXPECT_EQ(ok->text, "## Goals\nGrow.");
}

TEST(CheckOutputMarkdown, WithoutSectionsAnyNonBlankTextPasses) {
  auto ok = CheckOutput(Markdown({}), "Some notes");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->json, json::object());
  EXPECT_FALSE(CheckOutput(Markdown({}), "   "));
}

const json kScoreSchema = json::parse(R"({
  "type": "object",
  "required": ["score"],
  "properties": {"score": {"type": "number"}}
})");

TEST(CheckOutputJson, AcceptsRawJsonAndDumpsCompact) {
  auto ok = CheckOutput(Json(kScoreSchema), "  {\n  \"score\": 7\n}\n");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->text, "{\"score\":7}");
  EXPECT_EQ(ok->json["score"], 7);
}

TEST(CheckOutputJson, AcceptsAFencedBlockAmidProse) {
  auto ok = CheckOutput(Json(kScoreSchema),
                        "Here is my answer:\n\n```json\n{\"score\": 4.5}\n```\nHope it helps.");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->text, "{\"score\":4.5}");
}

TEST(CheckOutputJson, AcceptsTheFirstBalancedValueInProse) {
  auto ok = CheckOutput(Json(kScoreSchema),
                        "See [1] for the method. Result: {\"score\": 3, \"note\": \"a } b\"} ok");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->json["note"], "a } b");
  auto any = CheckOutput(Json(), "The list is [1, 2, 3].");
  ASSERT_TRUE(any) << any.error().message();
  EXPECT_EQ(any->text, "[1,2,3]");
}

TEST(CheckOutputJson, ParseErrorsSayWhere) {
  auto bad = CheckOutput(Json(), "{\n  \"score\": 7,\n  \"x\": tru\n}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().rfind("expected a JSON value, found invalid JSON at line 3, ", 0),
            0u)
      << bad.error().message();

  auto fenced = CheckOutput(Json(), "Answer:\n```json\n{\"a\": }\n```");
  ASSERT_FALSE(fenced);
  EXPECT_NE(fenced.error().message().find("in the fenced JSON block at line 2 at line 3, column"),
            std::string::npos)
      << fenced.error().message();
}

TEST(CheckOutputJson, ReportsTruncatedAndMissingJson) {
  auto cut = CheckOutput(Json(), "Sure: {\"a\": [1, 2");
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message(),
            "expected a JSON value, found one starting at line 1, column 7 that is never closed "
            "(is the reply cut off?)");
  auto none = CheckOutput(Json(), "I cannot answer that.");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(),
            "expected a JSON value, found no JSON object or array in the reply, which starts "
            "with \"I cannot answer that.\"");
}

TEST(CheckOutputJson, ListsEverySchemaViolation) {
  const json schema = json::parse(R"({
    "type": "object",
    "required": ["items", "title"],
    "properties": {
      "title": {"type": "string"},
      "items": {"type": "array", "items": {
        "type": "object", "required": ["score"],
        "properties": {"score": {"type": "number"}}}}
    }
  })");
  auto bad = CheckOutput(Json(schema), R"({"items": [{"score": 1}, {}, {"score": "high"}]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "the JSON does not match the schema: $: missing required property 'title'; "
            "$.items[1]: missing required property 'score'; "
            "$.items[2].score: expected number, found string");
}

TEST(CheckOutputJson, PrefersTheValidCandidate) {
  // The first bracket span is prose; the schema wants an object.
  auto ok = CheckOutput(Json(kScoreSchema), "Per [2], {\"score\": 1}");
  ASSERT_TRUE(ok) << ok.error().message();
  auto bad = CheckOutput(Json(kScoreSchema), "Per [2], {\"score\": \"x\"}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "the JSON does not match the schema (read from the JSON starting at line 1, column "
            "10): $.score: expected number, found string");
}

TEST(CheckOutputJson, InvalidUtf8IsAnErrorNotACrash) {
  auto bad = CheckOutput(Json(), "{\"a\": \"\xff\"}");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("invalid JSON"), std::string::npos);
}

}  // namespace
}  // namespace chorus
