// kill -9, then `chorus resume`: the `chorus` binary runs a team against the fake LLM server
// and is killed with SIGKILL at many points — before any answer, mid-stream, between stages —
// and `chorus resume` finishes the run. The final output must be byte-identical to an
// uninterrupted run's, and no request whose answer was recorded before the kill may reach the
// server again.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "chorus/store.h"
#include "e2e/cli_harness.h"
#include "flow/journal.h"
#include "support/fake_llm_server.h"

namespace chorus::e2e {
namespace {

using test::FakeLlmServer;

std::string ResumableTeam(const FakeLlmServer& server) {
  return "name: resumable\nmodels:\n  fast: { provider: openai, model: gpt-4o-mini, base_url: \"" +
         server.openai_base_url() + R"(", price: { input_per_mtok: 1.0, output_per_mtok: 2.0 } }
agents:
  researcher: { role: "You research.", model: fast }
  reviewer: { role: "You review.", model: fast }
  worker: { role: "You work through items.", model: fast }
  synthesizer: { role: "You synthesize.", model: fast }
flow:
  - parallel:
      - task: research
        agent: researcher
        brief: { objective: "Research the launch", output: { format: markdown, sections: [ Findings ] } }
      - task: review
        agent: reviewer
        brief: { objective: "Review the launch" }
  - map: checks
    over: [ pricing, legal, support, sales, hiring, press ]
    agents: [ worker ]
    concurrency: 3
    brief: { objective: "Check ${item} against ${research.Findings}" }
  - synthesize: memo
    agent: synthesizer
    from: [ research, review, checks ]
)";
}

// Replies depend on the request only (never on how many came before), and stream slowly so
// that kills land mid-stream too.
nlohmann::json SlowScript() {
  return {{"default", {{"reply", "default answer"}}},
          {"rules",
           {{{"match", {{"agent", "researcher"}}},
             {"replies", {"## Findings\nDemand is strong in three regions."}},
             {"latency_ms", 60},
             {"chunk_interval_ms", 15}},
            {{"match", {{"agent", "reviewer"}}},
             {"replies", {"Review: ship it, watch support load."}},
             {"latency_ms", 40},
             {"chunk_interval_ms", 15}},
            {{"match", {{"agent", "worker"}}},
             {"replies", {"Checked: {{last_user}}"}},
             {"latency_ms", 50},
             {"chunk_interval_ms", 10}},
            {{"match", {{"agent", "synthesizer"}}},
             {"replies", {"MEMO: launch; every check passed."}},
             {"latency_ms", 30},
             {"chunk_interval_ms", 15}}}}};
}

std::set<std::string> AnsweredKeys(const std::string& store_path, const std::string& run_id) {
  auto store = OpenSqliteStore(store_path);
  EXPECT_TRUE(store);
  if (!store) return {};
  auto events = (*store)->LoadEvents(run_id);
  EXPECT_TRUE(events);
  if (!events) return {};
  RunJournal journal = RunJournal::FromEvents(*events);
  return {journal.answered_keys().begin(), journal.answered_keys().end()};
}

std::string OnlyRunId(const std::string& store_path) {
  auto store = OpenSqliteStore(store_path);
  EXPECT_TRUE(store);
  if (!store) return "";
  auto runs = (*store)->ListRuns(10);
  EXPECT_TRUE(runs && runs->size() == 1u);
  return runs && !runs->empty() ? runs->front().run_id : "";
}

TEST(CliResumeTest, KillNineAtManyPointsThenResumeGivesTheSameOutput) {
  auto server = FakeLlmServer::Start({.script = SlowScript()});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team = dir.Write("team.yaml", ResumableTeam(*server));

  test::ExitStatus whole = Chorus({"run", team, "--json", "-q", "--store", dir.Path("whole.db")});
  ASSERT_TRUE(whole.ok()) << whole.Describe() << whole.stderr_text;
  const std::string expected = JsonOut(whole)["output"];
  const size_t total_requests = server->Requests().size();
  ASSERT_EQ(total_requests, 9u);  // two parallel tasks, six map items, one synthesis

  // Kill when the server has received the k-th request, plus a delay that moves the kill
  // into the stream of answers in flight.
  const std::vector<std::pair<size_t, int>> kill_points = {{1, 0},  {2, 70}, {3, 130}, {4, 0},
                                                           {5, 90}, {7, 40}, {8, 120}, {9, 20}};
  int interrupted = 0;
  for (const auto& [k, delay_ms] : kill_points) {
    SCOPED_TRACE("kill at request " + std::to_string(k) + " + " + std::to_string(delay_ms) + " ms");
    server->Reset();
    std::string store = dir.Path("kill-" + std::to_string(k) + ".db");
    test::ProcessOptions o;
    o.argv = {CHORUS_CLI_PATH, "run", team, "--json", "-q", "--store", store};
    o.unset_env = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CHORUS_STORE"};
    test::Process run(o);
    ASSERT_TRUE(run.Start());
    ASSERT_TRUE(server->WaitForRequests(k, std::chrono::seconds(20)));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    run.Kill(SIGKILL);
    auto killed = run.Wait(std::chrono::seconds(10));
    ASSERT_TRUE(killed);
    if (killed->exited) continue;  // it finished before the kill landed: nothing to resume
    ++interrupted;

    std::string run_id = OnlyRunId(store);
    std::set<std::string> answered = AnsweredKeys(store, run_id);
    const size_t seen_before = server->Requests().size();

    test::ExitStatus runs = Chorus({"runs", "--store", store});
    EXPECT_NE(runs.stdout_text.find("interrupted"), std::string::npos) << runs.stdout_text;
    EXPECT_NE(runs.stdout_text.find("chorus resume " + run_id), std::string::npos)
        << runs.stdout_text;

    test::ExitStatus resumed = Chorus({"resume", run_id, "--json", "--store", store});
    ASSERT_TRUE(resumed.ok()) << resumed.Describe() << resumed.stderr_text;
    nlohmann::json out = JsonOut(resumed);
    EXPECT_EQ(out["output"], expected);
    EXPECT_EQ(out["status"], "completed");
    EXPECT_EQ(out["run_id"], run_id);
    EXPECT_NE(resumed.stderr_text.find("resumed"), std::string::npos) << resumed.stderr_text;

    nlohmann::json requests = server->Requests();
    for (size_t i = seen_before; i < requests.size(); ++i) {
      std::string key = requests[i]["headers"].value("idempotency-key", "");
      EXPECT_FALSE(key.empty());
      EXPECT_FALSE(answered.count(key)) << key << " was answered before the kill, asked again";
    }
    // Everything not answered before the kill was asked exactly once after it.
    EXPECT_EQ(requests.size() - seen_before, total_requests - answered.size());
  }
  // The kills are timed by the server's view, so nearly all land before the run's end.
  EXPECT_GE(interrupted, 6);
}

TEST(CliResumeTest, ResumeExplainsWhatItCannotDo) {
  Scratch dir;
  test::ExitStatus none = Chorus({"resume", "nope", "--store", dir.Path("missing.db")});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.stderr_text.find("no store"), std::string::npos) << none.stderr_text;

  std::string team = dir.Write("team.yaml", R"(name: tiny
agents:
  a: { role: "r", model: offline }
flow:
  - task: t
    agent: a
    brief: { objective: "o" }
)");
  std::string store = dir.Path("s.db");
  test::ExitStatus done = Chorus({"run", team, "--json", "-q", "--store", store});
  ASSERT_TRUE(done.ok()) << done.stderr_text;
  std::string run_id = JsonOut(done)["run_id"];
  test::ExitStatus again = Chorus({"resume", run_id, "--store", store});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.stderr_text.find("has completed; only an interrupted run can be resumed"),
            std::string::npos)
      << again.stderr_text;
  test::ExitStatus unknown = Chorus({"resume", "zzz", "--store", store});
  EXPECT_EQ(unknown.exit_code, 2);
}

}  // namespace
}  // namespace chorus::e2e
