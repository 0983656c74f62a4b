// End-to-end: the shipped examples run on the offline model, and the store tells their story.
#include <gtest/gtest.h>

#include "e2e/cli_harness.h"

namespace chorus::e2e {
namespace {

const std::string kExample = std::string(CHORUS_SOURCE_DIR) + "/examples/launch-review.yaml";
const std::string kNotes = std::string(CHORUS_SOURCE_DIR) + "/examples/launch-notes.md";

// The launch-review example, on the offline model, recorded in `store`.
test::ExitStatus RunLaunchReview(const std::string& store) {
  return Chorus({"run", kExample, "--input", "request=Launch Quill in Germany", "--input",
                 "notes=@" + kNotes, "--store", store, "--json"});
}

TEST(Examples, LaunchReviewRunsOfflineAndSaysSo) {
  Scratch dir;
  std::string store = dir.Path("chorus.db");
  auto run = RunLaunchReview(store);
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

// The store names each agent's instructions once; `show` puts them back into every request.
TEST(Examples, ShowPrintsEveryRequestWhole) {
  Scratch dir;
  std::string store = dir.Path("chorus.db");
  auto run = RunLaunchReview(store);
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const std::string id = JsonOut(run)["run_id"];
  const std::string role = "You are a skeptical risk reviewer.";

  auto json = Chorus({"show", id, "--store", store, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.stderr_text;
  const nlohmann::json shown = JsonOut(json);
  size_t requests = 0, named = 0;
  for (const nlohmann::json& e : shown["events"]) {
    if (e["kind"] != "llm.request") continue;
    ++requests;
    const nlohmann::json& messages = e["payload"]["messages"];
    ASSERT_GE(messages.size(), 2u);
    for (const nlohmann::json& m : messages) {
      ASSERT_TRUE(m.contains("content")) << m.dump();
      named += m.contains("content_id");
    }
    if (e["agent"] == "risk_reviewer") {
      EXPECT_EQ(messages[0]["content"].get<std::string>().rfind(role, 0), 0u) << messages[0];
    }
  }
  EXPECT_EQ(requests, 4u);
  EXPECT_EQ(named, 4u);  // each request's instructions

  auto full = Chorus({"show", id, "--store", store, "--full"});
  ASSERT_EQ(full.exit_code, 0) << full.stderr_text;
  EXPECT_NE(full.stdout_text.find("[system] " + role), std::string::npos) << full.stdout_text;
  EXPECT_NE(full.stdout_text.find("llm.message"), std::string::npos);
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
