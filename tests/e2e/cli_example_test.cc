// End-to-end: the shipped examples run on the offline model, and the store tells their story.
#include <gtest/gtest.h>

#include "e2e/cli_harness.h"

namespace chorus::e2e {
namespace {

const std::string kExample = std::string(CHORUS_SOURCE_DIR) + "/examples/launch-review.yaml";
const std::string kNotes = std::string(CHORUS_SOURCE_DIR) + "/examples/launch-notes.md";

TEST(Examples, LaunchReviewRunsOfflineAndSaysSo) {
  Scratch dir;
  std::string store = dir.Path("chorus.db");
  auto run = Chorus({"run", kExample, "--input", "request=Launch Quill in Germany", "--input",
                     "notes=@" + kNotes, "--store", store, "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  nlohmann::json out = JsonOut(run);
  EXPECT_EQ(out["status"], "completed");
  EXPECT_NE(run.stderr_text.find("runs on offline"), std::string::npos) << run.stderr_text;
  std::string memo = out["output"];
  for (const char* section : {"Decision", "Plan", "Risks and mitigations", "Open questions"}) {
    EXPECT_NE(memo.find(section), std::string::npos) << section << " missing in\n" << memo;
  }
  EXPECT_NE(memo.find("offline"), std::string::npos);
  ASSERT_EQ(out["steps"].size(), 4u);
  for (const auto& step : out["steps"]) EXPECT_EQ(step["status"], "completed");
  EXPECT_GT(out["usage"]["input_tokens"].get<int64_t>(), 0);
  EXPECT_EQ(out["usage"]["cost_usd"].get<double>(), 0.0);

  auto runs = Chorus({"runs", "--store", store});
  ASSERT_EQ(runs.exit_code, 0) << runs.stderr_text;
  EXPECT_NE(runs.stdout_text.find(out["run_id"].get<std::string>()), std::string::npos);
  EXPECT_NE(runs.stdout_text.find("completed"), std::string::npos);

  std::string prefix = out["run_id"].get<std::string>().substr(0, 12);
  auto show = Chorus({"show", prefix, "--store", store});
  ASSERT_EQ(show.exit_code, 0) << show.stderr_text;
  for (const char* kind : {"run.started", "brief.dispatched", "llm.request", "llm.response",
                           "step.completed", "run.completed"}) {
    EXPECT_NE(show.stdout_text.find(kind), std::string::npos) << kind;
  }
}

TEST(Examples, RunsListsNewestFirst) {
  Scratch dir;
  std::string store = dir.Path("chorus.db");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto run = Chorus({"run", kExample, "--input", "request=r" + std::to_string(i), "--store",
                       store, "--json", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
    ids.push_back(JsonOut(run)["run_id"]);
  }
  nlohmann::json runs = JsonOut(Chorus({"runs", "--store", store, "--json"}));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0]["run_id"], ids[2]);
  EXPECT_EQ(runs[2]["run_id"], ids[0]);
  for (const char* key : {"team", "status", "started_ms", "tokens", "cost_usd"}) {
    EXPECT_TRUE(runs[0].contains(key)) << key;
  }
}

TEST(Examples, EmbeddedTeamRunsFromCpp) {
  Scratch dir;
  test::ProcessOptions o;
  o.argv = {CHORUS_EMBED_EXAMPLE_PATH, dir.Path("embed.db")};
  test::Process p(std::move(o));
  auto status = p.Run(std::chrono::seconds(30));
  ASSERT_TRUE(status) << status.error();
  EXPECT_EQ(status->exit_code, 0) << status->stderr_text;
  EXPECT_NE(status->stdout_text.find("completed"), std::string::npos);
  EXPECT_NE(status->stdout_text.find("Verdict"), std::string::npos) << status->stdout_text;
}

TEST(Examples, ShowOfAnUnknownRunIsAUsageError) {
  Scratch dir;
  std::string store = dir.Path("chorus.db");
  ASSERT_EQ(
      Chorus({"run", kExample, "--input", "request=x", "--store", store, "--quiet"}).exit_code, 0);
  auto show = Chorus({"show", "ZZZZZZZZ", "--store", store});
  EXPECT_EQ(show.exit_code, 2);
  auto no_store = Chorus({"runs", "--store", dir.Path("missing.db")});
  EXPECT_EQ(no_store.exit_code, 2);
  EXPECT_NE(no_store.stderr_text.find("no store"), std::string::npos);
}

}  // namespace
}  // namespace chorus::e2e
