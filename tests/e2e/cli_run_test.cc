// End-to-end: the real `chorus` binary against the fake LLM server over loopback HTTP.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "e2e/cli_harness.h"
#include "support/fake_llm_server.h"

namespace chorus::e2e {
namespace {

using chorus::test::FakeLlmServer;

std::string Team(const std::string& models, const std::string& body) {
  return "name: e2e\nmodels:\n" + models + body;
}

std::string OpenAiModel(const FakeLlmServer& s, const std::string& extra = "") {
  return "  fast: { provider: openai, model: gpt-4o-mini, base_url: \"" + s.openai_base_url() +
         "\", price: { input_per_mtok: 1.0, output_per_mtok: 2.0 }" + extra + " }\n";
}

const char* kThreeAndSynthesis = R"(inputs:
  request: { text: true }
agents:
  researcher: { role: "You research.", model: fast }
  drafter: { role: "You draft.", model: fast }
  reviewer: { role: "You review.", model: fast }
  synthesizer: { role: "You synthesize.", model: fast }
flow:
  - parallel:
      - task: research
        agent: researcher
        brief: { objective: "Research ${inputs.request}", output: { format: markdown, sections: [ Findings ] } }
      - task: draft
        agent: drafter
        brief: { objective: "Draft ${inputs.request}" }
      - task: review
        agent: reviewer
        brief:
          objective: "Review ${inputs.request}"
          output: { format: json, schema: { type: object, required: [ verdict ], properties: { verdict: { enum: [ go, stop ] } } } }
  - synthesize: memo
    agent: synthesizer
    from: [ research, draft, review ]
)";

// One agent, one plain-text task: enough to exercise the wire and the error paths.
const char* kOneTask = R"(agents:
  a: { role: "r", model: fast }
flow:
  - task: t
    agent: a
    brief: { objective: "o" }
)";

nlohmann::json ThreeAgentScript() {
  return {
      {"default", {{"reply", "default answer"}}},
      {"rules",
       {{{"match", {{"agent", "researcher"}}}, {"replies", {"## Findings\nThe market is large."}}},
        {{"match", {{"agent", "drafter"}}}, {"replies", {"Plan: launch in Q3."}}},
        {{"match", {{"agent", "reviewer"}}}, {"replies", {"```json\n{\"verdict\": \"go\"}\n```"}}},
        {{"match", {{"agent", "synthesizer"}}}, {"replies", {"MEMO: go, launch in Q3."}}}}}};
}

TEST(CliRun, ParallelTeamAndSynthesisOverOpenAiStreaming) {
  auto server = FakeLlmServer::Start({.script = ThreeAgentScript()});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team = dir.Write("team.yaml", Team(OpenAiModel(*server), kThreeAndSynthesis));
  auto run = Chorus({"run", team, "--input", "request=a note app", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  nlohmann::json out = JsonOut(run);
  EXPECT_EQ(out["status"], "completed");
  EXPECT_EQ(out["output"], "MEMO: go, launch in Q3.");
  EXPECT_EQ(out["run_id"].get<std::string>().size(), 26u);
  EXPECT_NE(run.stderr_text.find("run " + out["run_id"].get<std::string>() + " started"),
            std::string::npos);
  EXPECT_GT(out["usage"]["input_tokens"].get<int64_t>(), 0);
  EXPECT_GT(out["usage"]["output_tokens"].get<int64_t>(), 0);
  EXPECT_GT(out["usage"]["cost_usd"].get<double>(), 0.0);
  EXPECT_TRUE(out["usage"]["by_agent"].contains("synthesizer"));
  EXPECT_TRUE(out["usage"]["by_step"].contains("review"));
  ASSERT_EQ(out["steps"].size(), 4u);

  nlohmann::json requests = server->Requests();
  ASSERT_EQ(requests.size(), 4u);
  // The synthesis saw every parallel output in its brief.
  std::string synthesis_body = requests[3]["body"].dump();
  EXPECT_NE(synthesis_body.find("The market is large."), std::string::npos);
  EXPECT_NE(synthesis_body.find("launch in Q3"), std::string::npos);
  EXPECT_NE(synthesis_body.find("verdict"), std::string::npos);
  for (const auto& r : requests) EXPECT_EQ(r["body"]["stream"], true);
}

TEST(CliRun, AnthropicModelOverSse) {
  auto server = FakeLlmServer::Start({.script = ThreeAgentScript()});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string models = "  fast: { provider: anthropic, model: claude-sonnet-4, base_url: \"" +
                       server->anthropic_base_url() + "\" }\n";
  std::string team = dir.Write("team.yaml", Team(models, kThreeAndSynthesis));
  auto run =
      Chorus({"run", team, "--input", "request=x", "--json"}, {{"ANTHROPIC_API_KEY", "test-key"}});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  EXPECT_EQ(JsonOut(run)["output"], "MEMO: go, launch in Q3.");
  for (const auto& r : server->Requests()) EXPECT_EQ(r["path"], "/v1/messages");
}

TEST(CliRun, AnswerMissingItsSectionsIsSentBackWithTheReason) {
  nlohmann::json script = {{"default", {{"reply", "x"}}},
                           {"rules",
                            {{{"match", {{"agent", "writer"}}},
                              {"replies", {"## Intro\nno risks here", "## Risks\nNone known."}}}}}};
  auto server = FakeLlmServer::Start({.script = script});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team = dir.Write("team.yaml", Team(OpenAiModel(*server), R"(agents:
  writer: { role: "You write.", model: fast }
flow:
  - task: text
    agent: writer
    brief: { objective: "Write", output: { format: markdown, sections: [ Risks ] } }
)"));
  auto run = Chorus({"run", team, "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  auto requests = server->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[1]["body"].dump().find("Risks"), std::string::npos);
  EXPECT_NE(requests[1]["body"].dump().find("rejected"), std::string::npos);
  EXPECT_EQ(JsonOut(run)["steps"][0]["attempts"], 2);
}

TEST(CliRun, AnswerThatNeverFitsFailsTheRunWithExitCodeOne) {
  auto server = FakeLlmServer::Start({.script = {{"default", {{"reply", "not json"}}}}});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team = dir.Write("team.yaml", Team(OpenAiModel(*server), R"(agents:
  a: { role: "r", model: fast }
flow:
  - task: t
    agent: a
    retries: 1
    brief: { objective: "o", output: { format: json } }
)"));
  auto run = Chorus({"run", team, "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.stderr_text;
  nlohmann::json out = JsonOut(run);
  EXPECT_EQ(out["status"], "failed");
  EXPECT_NE(out["error"].get<std::string>().find("step 't'"), std::string::npos);
  EXPECT_EQ(server->Requests().size(), 2u);
}

TEST(CliRun, MapRunsOneTaskPerLineInOrderWithinItsConcurrencyCap) {
  nlohmann::json script = {{"default", {{"reply", "done: {{last_user}}"}}}};
  auto server = FakeLlmServer::Start({.script = script, .latency_ms = 50});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string items = dir.Write("items.txt", "alpha\nbeta\n\ngamma\ndelta\nepsilon\n");
  std::string team = dir.Write("team.yaml", Team(OpenAiModel(*server, ", stream: false"), R"(inputs:
  items: { file: true }
agents:
  a: { role: "r", model: fast }
  b: { role: "r", model: fast }
flow:
  - map: each
    over: "${inputs.items}"
    agents: [ a, b ]
    concurrency: 2
    brief: { objective: "Handle ITEM=${item} INDEX=${item_index}" }
)"));
  auto run = Chorus({"run", team, "--input", "items=@" + items, "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  std::string output = JsonOut(run)["output"];
  size_t a = output.find("ITEM=alpha"), e = output.find("ITEM=epsilon");
  ASSERT_NE(a, std::string::npos) << output;
  ASSERT_NE(e, std::string::npos) << output;
  EXPECT_LT(a, output.find("ITEM=beta"));
  EXPECT_LT(output.find("ITEM=delta"), e);
  EXPECT_EQ(server->Requests().size(), 5u);
  EXPECT_LE(server->Stats()["max_in_flight"].get<int>(), 2);
  std::set<std::string> agents;
  for (const auto& r : server->Requests()) agents.insert(r["agent"].get<std::string>());
  EXPECT_EQ(agents, (std::set<std::string>{"a", "b"}));
}

TEST(CliRun, AFanInTooLargeForTheModelsWindowIsSynthesizedInLevels) {
  nlohmann::json script = {{"default", {{"reply", "done: {{last_user}}"}}}};
  auto server = FakeLlmServer::Start({.script = script});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string lines;
  for (int i = 0; i < 200; ++i) lines += "question " + std::to_string(i) + "\n";
  std::string items = dir.Write("items.txt", lines);
  std::string team =
      dir.Write("team.yaml",
                Team(OpenAiModel(*server, ", stream: false, context_window: 4000, max_tokens: 300"),
                     R"(inputs:
  items: { file: true }
agents:
  a: { role: "r", model: fast }
  editor: { role: "You combine.", model: fast }
flow:
  - map: each
    over: "${inputs.items}"
    agent: a
    concurrency: 50
    brief: { objective: "Answer ${item}" }
  - synthesize: summary
    agent: editor
    from: [ each ]
)"));
  auto run = Chorus({"run", team, "--input", "items=@" + items, "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  EXPECT_NE(
      run.stderr_text.find("summary                               staged synthesis, level 1: "),
      std::string::npos)
      << run.stderr_text;
  nlohmann::json out = JsonOut(run);
  std::set<std::string> parts;
  for (const auto& step : out["steps"]) {
    if (step["step"].get<std::string>().starts_with("summary[")) parts.insert(step["step"]);
  }
  EXPECT_GE(parts.size(), 2u);
  EXPECT_TRUE(parts.count("summary[1.0]"));
  size_t editor_requests = 0, largest = 0;
  for (const auto& r : server->Requests()) {
    if (r["agent"] != "editor") continue;
    ++editor_requests;
    largest = std::max(largest, r.dump().size());
  }
  EXPECT_EQ(editor_requests, parts.size() + 1);  // the parts, then the step's own prompt
  // 200 echoed briefs are ~60 KB; no prompt of the synthesis comes near that.
  EXPECT_LT(largest, 20000u);
  auto show = Chorus({"show", out["run_id"], "--store", dir.Path(".chorus/chorus.db")});
  ASSERT_EQ(show.exit_code, 0) << show.stderr_text;
  EXPECT_NE(show.stdout_text.find("synthesis.staged"), std::string::npos) << show.stdout_text;
  EXPECT_NE(show.stdout_text.find("one prompt over"), std::string::npos) << show.stdout_text;
}

TEST(CliRun, IdleConnectionsMakeRoomWhenDescriptorsRunOut) {
  // The first map leaves 60 kept-alive connections to one server; the second needs 60 new
  // ones to another. Under a limit of 100 descriptors both fit only if idle connections are
  // closed to make room.
  nlohmann::json script = {{"default", {{"reply", "ok"}}}};
  auto first = FakeLlmServer::Start({.script = script, .latency_ms = 100});
  auto second = FakeLlmServer::Start({.script = script, .latency_ms = 100});
  ASSERT_TRUE(first && second);
  Scratch dir;
  auto model = [](const std::string& name, const FakeLlmServer& s) {
    return "  " + name + ": { provider: openai, model: m, stream: false, base_url: \"" +
           s.openai_base_url() + "\", limits: { concurrency: 60 } }\n";
  };
  std::string team =
      dir.Write("team.yaml", Team(model("one", *first) + model("two", *second), R"(agents:
  a: { role: "r", model: one }
  b: { role: "r", model: two }
flow:
  - map: first
    over: [ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60 ]
    agent: a
    concurrency: 60
    brief: { objective: "first ${item}" }
  - map: second
    over: [ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60 ]
    agent: b
    concurrency: 60
    brief: { objective: "second ${item}" }
)"));
  test::ProcessOptions o;
  o.argv = {"/bin/sh",
            "-c",
            "ulimit -n 100 && exec \"$0\" \"$@\"",
            CHORUS_CLI_PATH,
            "run",
            team,
            "--quiet",
            "--json",
            "--transient-retries",
            "0"};
  o.unset_env = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CHORUS_STORE"};
  test::Process process(std::move(o));
  auto run = process.Run(std::chrono::milliseconds(60000));
  ASSERT_TRUE(run) << run.error();
  ASSERT_EQ(run->exit_code, 0) << run->stdout_text.substr(0, 400) << run->stderr_text;
  EXPECT_EQ(JsonOut(*run)["status"], "completed");
  EXPECT_EQ(first->Requests().size(), 60u);
  EXPECT_EQ(second->Requests().size(), 60u);
}

TEST(CliRun, RateLimitIsRetriedAfterRetryAfterAndRecorded) {
  nlohmann::json script = {{"default", {{"reply", "fine"}}},
                           {"rules",
                            {{{"match", {{"path", "/v1/chat/completions"}}},
                              {"faults",
                               {{{"kind", "http_error"}, {"status", 429}, {"retry_after", "0"}},
                                {{"kind", "cut_stream"}, {"after_events", 2}}}},
                              {"replies", {"fine"}}}}}};
  auto server = FakeLlmServer::Start({.script = script});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team = dir.Write("team.yaml", Team(OpenAiModel(*server), kOneTask));
  std::string store = dir.Path("s.db");
  auto run = Chorus({"run", team, "--json", "--store", store, "--seed", "7"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  EXPECT_EQ(JsonOut(run)["output"], "fine");
  EXPECT_EQ(server->Requests().size(), 3u);

  auto show = Chorus({"show", JsonOut(run)["run_id"], "--store", store, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.stderr_text;
  std::vector<std::string> errors;
  const nlohmann::json events = JsonOut(show)["events"];
  for (const auto& e : events) {
    if (e["kind"] == "llm.error") errors.push_back(e["payload"]["code"]);
  }
  EXPECT_EQ(errors, (std::vector<std::string>{"RESOURCE_EXHAUSTED", "UNAVAILABLE"}));
}

TEST(CliRun, PermanentErrorFailsFastWithTheServersMessage) {
  auto server = FakeLlmServer::Start({.api_key = "right-key"});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team =
      dir.Write("team.yaml", Team(OpenAiModel(*server, ", api_key_env: TEST_KEY"), kOneTask));
  auto run = Chorus({"run", team, "--json"}, {{"TEST_KEY", "wrong-key"}});
  EXPECT_EQ(run.exit_code, 1);
  nlohmann::json out = JsonOut(run);
  EXPECT_NE(out["error"].get<std::string>().find("401"), std::string::npos) << out["error"];
  EXPECT_EQ(server->Requests().size(), 1u);
  EXPECT_EQ(run.stdout_text.find("wrong-key"), std::string::npos);
  EXPECT_EQ(run.stderr_text.find("wrong-key"), std::string::npos);
}

TEST(CliRun, ApiKeyNeverReachesTheStore) {
  auto server = FakeLlmServer::Start({.api_key = "sk-secret-123456"});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team =
      dir.Write("team.yaml", Team(OpenAiModel(*server, ", api_key_env: TEST_KEY"), kOneTask));
  std::string store = dir.Path("s.db");
  auto run = Chorus({"run", team, "--store", store}, {{"TEST_KEY", "sk-secret-123456"}});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  for (const auto& entry : std::filesystem::directory_iterator(dir.dir())) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(bytes.find("sk-secret-123456"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace chorus::e2e
