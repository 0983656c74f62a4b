// End-to-end: `chorus frameworks list|show|search` on the shipped library and on user
// libraries layered over it.
#include <gtest/gtest.h>

#include "e2e/cli_harness.h"

namespace chorus::e2e {
namespace {

const char* kUserLibrary = R"(meta_category: {id: 1, name: Sensing & analysis}
categories:
  - id: 1.2
    name: Industry & market structure
    frameworks:
      - id: 1.2.1
        name: House five forces
        summary: Our firm's adaptation of the five forces.
        triggers: [house forces]
        examples: ["Run our house five forces"]
        instructions: [Do it our way]
        output: {format: markdown, sections: [Forces, Verdict]}
      - id: 1.2.8
        name: Zebra crossing review
        summary: Reviews zebra crossings.
        triggers: [zebra crossing]
        examples: ["Are our zebra crossings safe?"]
        instructions: [Count zebras, Review crossings]
        output: {format: markdown, sections: [Crossings, Findings]}
)";

TEST(CliFrameworks, ListJsonHasAll343InIdOrder) {
  auto r = Chorus({"frameworks", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  nlohmann::json j = JsonOut(r);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 343u);
  EXPECT_EQ(j[0]["id"], "1.1.1");
  EXPECT_EQ(j[342]["id"], "7.7.7");
  EXPECT_TRUE(j[0].contains("name"));
  EXPECT_TRUE(j[0].contains("category"));
}

TEST(CliFrameworks, ListUnderCategoryPrintsItsSevenFrameworks) {
  auto r = Chorus({"frameworks", "list", "2.3"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(r.stdout_text.find("Portfolio strategy"), std::string::npos) << r.stdout_text;
  EXPECT_NE(r.stdout_text.find("2.3.1"), std::string::npos);
  EXPECT_NE(r.stdout_text.find("2.3.7"), std::string::npos);
  EXPECT_EQ(r.stdout_text.find("2.4.1"), std::string::npos);
  auto bad = Chorus({"frameworks", "list", "two"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.stderr_text.find("found 'two'"), std::string::npos) << bad.stderr_text;
}

TEST(CliFrameworks, ShowJsonCarriesStepsAndOutputShape) {
  auto r = Chorus({"frameworks", "show", "1.2.1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  nlohmann::json j = JsonOut(r);
  EXPECT_EQ(j["name"], "Porter's five forces");
  EXPECT_GE(j["instructions"].size(), 3u);
  EXPECT_EQ(j["output"]["format"], "markdown");
  EXPECT_FALSE(j["output"]["sections"].empty());
  auto schema = JsonOut(Chorus({"frameworks", "show", "4.4.1", "--json"}));
  EXPECT_EQ(schema["output"]["format"], "json");
  EXPECT_EQ(schema["output"]["schema"]["type"], "object");
}

TEST(CliFrameworks, ShowUnknownIdFailsWithUsageError) {
  auto r = Chorus({"frameworks", "show", "9.9.9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("'9.9.9'"), std::string::npos) << r.stderr_text;
}

TEST(CliFrameworks, SearchJsonIsBestFirstWithScores) {
  auto r =
      Chorus({"frameworks", "search", "how attractive is the meal-kit industry for a new entrant",
              "--json", "-k", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  nlohmann::json j = JsonOut(r);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["id"], "1.2.1");
  EXPECT_GE(j[0]["score"].get<double>(), j[1]["score"].get<double>());
  EXPECT_GE(j[1]["score"].get<double>(), j[2]["score"].get<double>());
  auto human = Chorus({"frameworks", "search", "run a pre-mortem on the launch", "-k", "1"});
  ASSERT_EQ(human.exit_code, 0);
  EXPECT_NE(human.stdout_text.find("7.2.1"), std::string::npos) << human.stdout_text;
}

TEST(CliFrameworks, UserLibraryOverridesAndAddsEntries) {
  Scratch dir;
  dir.Write("mine.yaml", kUserLibrary);
  auto show = Chorus(
      {"frameworks", "show", "1.2.1", "--json", "--library", "default", "--library", dir.dir()});
  ASSERT_EQ(show.exit_code, 0) << show.stderr_text;
  EXPECT_EQ(JsonOut(show)["name"], "House five forces");
  auto list =
      Chorus({"frameworks", "list", "--json", "--library", "default", "--library", dir.dir()});
  EXPECT_EQ(JsonOut(list).size(), 344u);
  auto search = Chorus({"frameworks", "search", "zebra crossing", "--json", "--library", "default",
                        "--library", dir.dir()});
  EXPECT_EQ(JsonOut(search)[0]["id"], "1.2.8");
  // The environment variable replaces the default library.
  auto env = Chorus({"frameworks", "list", "--json"}, {{"CHORUS_FRAMEWORKS_DIR", dir.dir()}});
  EXPECT_EQ(JsonOut(env).size(), 2u);
}

TEST(CliFrameworks, BrokenUserLibraryNamesFileLineAndColumn) {
  Scratch dir;
  std::string text = kUserLibrary;
  text.replace(text.find("        instructions: [Do it our way]\n"), 38, "");
  dir.Write("mine.yaml", text);
  auto r = Chorus({"frameworks", "list", "--library", dir.dir()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("mine.yaml:6:9: missing key 'instructions'"), std::string::npos)
      << r.stderr_text;
}

}  // namespace
}  // namespace chorus::e2e
