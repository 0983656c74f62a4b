// The scheduler, in process: a team built in code, a real SQLite store in a temp dir, and a
// ModelClient supplied through RunOptions::clients (the embedding seam) that answers from a
// script and records what it was asked (flow/scripted_client.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <mutex>

#include "chorus/run.h"
#include "flow/scripted_client.h"

namespace chorus {
namespace {

std::string LastUser(const ChatRequest& r) { return r.messages.back().content; }

InputSpec Input(std::string name) {
  InputSpec in;
  in.name = std::move(name);
  return in;
}

Step Task(std::string id, std::string agent, std::string objective) {
  Step s;
  s.id = std::move(id);
  s.agents = {std::move(agent)};
  s.brief.objective = std::move(objective);
  return s;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "chorus-flow-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto store = OpenSqliteStore(dir_ + "/s.db");
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    team_.name = "t";
    ModelSpec model;
    model.endpoint.name = "m";
    team_.models.push_back(model);
    for (const char* name : {"a", "b"}) {
      AgentSpec agent;
      agent.name = name;
      agent.role = std::string("role ") + name;
      agent.model = "m";
      team_.agents.push_back(agent);
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunReport Run(ScriptedClient* client, std::map<std::string, InputValue> inputs = {}) {
    RunOptions o;
    o.store = store_.get();
    o.inputs = std::move(inputs);
    o.clients["m"] = client;
    o.seed = 1;
    auto report = RunTeam(team_, std::move(o));
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : RunReport{};
  }

  std::vector<Event> Events(const std::string& run_id) {
    auto events = store_->LoadEvents(run_id);
    EXPECT_TRUE(events);
    return events ? *events : std::vector<Event>{};
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  Team team_;
};

TEST_F(SchedulerTest, SequentialStepsSeeEarlierOutputs) {
  team_.flow = {Task("one", "a", "first"), Task("two", "b", "second after ${one}")};
  ScriptedClient client(
      [](const ChatRequest& r) { return Text(r.agent == "a" ? "ALPHA" : "saw: " + LastUser(r)); });
  RunReport report = Run(&client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_NE(report.output.find("second after ALPHA"), std::string::npos);
  EXPECT_EQ(report.usage.input_tokens, 20);
  EXPECT_EQ(report.usage_by_agent["a"].output_tokens, 5);
}

TEST_F(SchedulerTest, EveryRequestIsRecordedBeforeItsResponse) {
  team_.flow = {Task("one", "a", "x"), Task("two", "b", "y")};
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  RunReport report = Run(&client);
  std::vector<std::string> kinds;
  for (const Event& e : Events(report.run_id)) kinds.push_back(e.kind + ":" + e.step);
  // Agents a and b have instructions of their own: each is recorded once, before the first
  // request that names it.
  std::vector<std::string> expected = {
      "run.started:",         "step.started:one", "brief.dispatched:one", "llm.message:",
      "llm.request:one",      "llm.response:one", "step.completed:one",   "step.started:two",
      "brief.dispatched:two", "llm.message:",     "llm.request:two",      "llm.response:two",
      "step.completed:two",   "run.completed:"};
  EXPECT_EQ(kinds, expected);
}

TEST_F(SchedulerTest, IdempotencyKeysNameRunStepAndAttempt) {
  team_.flow = {Task("one", "a", "x")};
  team_.flow[0].brief.output.format = OutputFormat::kJson;
  int n = 0;
  ScriptedClient client([&](const ChatRequest&) { return Text(n++ ? "{\"ok\":1}" : "nope"); });
  RunReport report = Run(&client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  auto requests = client.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].idempotency_key, report.run_id + "/one/1");
  EXPECT_EQ(requests[1].idempotency_key, report.run_id + "/one/2");
  EXPECT_TRUE(requests[1].json_output);
}

TEST_F(SchedulerTest, MapSplitsJsonArraysAndKeepsItemOrder) {
  Step map;
  map.kind = StepKind::kMap;
  map.id = "each";
  map.agents = {"a", "b"};
  map.over = "${inputs.list}";
  map.concurrency = 3;
  map.brief.objective = "do ${item} #${item_index}";
  team_.inputs.push_back(Input("list"));
  team_.flow = {map, Task("after", "a", "count ${each.2}")};
  ScriptedClient client([](const ChatRequest& r) {
    std::string u = LastUser(r);
    size_t at = u.find("do ");
    return Text("R(" + u.substr(at + 3, u.find('\n', at) - at - 3) + ")");
  });
  RunReport report = Run(&client, {{"list", {R"(["x", "y", {"k": 1}, "w"])", ""}}});
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  auto requests = client.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].agent, "a");
  EXPECT_EQ(requests[1].agent, "b");
  EXPECT_NE(LastUser(requests[4]).find("count R({\"k\":1} #2)"), std::string::npos)
      << LastUser(requests[4]);
}

TEST_F(SchedulerTest, MapOverYamlListAndPlainLines) {
  Step map;
  map.kind = StepKind::kMap;
  map.id = "each";
  map.agents = {"a"};
  map.over = "${inputs.list}";
  map.brief.objective = "item ${item}";
  team_.inputs.push_back(Input("list"));
  team_.flow = {map};
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  EXPECT_EQ(Run(&client, {{"list", {"- one\n- two\n- three\n", ""}}}).status,
            RunStatus::kCompleted);
  EXPECT_EQ(client.requests().size(), 3u);
  ScriptedClient lines([](const ChatRequest&) { return Text("ok"); });
  EXPECT_EQ(Run(&lines, {{"list", {"alpha\n\n beta \n", ""}}}).status, RunStatus::kCompleted);
  ASSERT_EQ(lines.requests().size(), 2u);
  EXPECT_NE(LastUser(lines.requests()[1]).find("item beta"), std::string::npos);
}

TEST_F(SchedulerTest, FailedStepStopsTheRunAndNamesTheStep) {
  team_.flow = {Task("one", "a", "x"), Task("two", "b", "y")};
  ScriptedClient client([](const ChatRequest&) -> ChatResult {
    return tl::unexpected(ModelError{Status::InvalidArgument("HTTP 400: bad request"), 400, {}});
  });
  RunReport report = Run(&client);
  EXPECT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("step 'one'"), std::string::npos) << report.error;
  EXPECT_NE(report.error.find("HTTP 400"), std::string::npos);
  EXPECT_EQ(client.requests().size(), 1u);  // permanent: no retry, and step two never ran
}

TEST_F(SchedulerTest, TransientErrorsRetryHonouringRetryAfter) {
  team_.flow = {Task("one", "a", "x")};
  int n = 0;
  ScriptedClient client([&](const ChatRequest&) -> ChatResult {
    if (n++ < 2) return tl::unexpected(ModelError{Status::ResourceExhausted("429"), 429, 0});
    return Text("finally");
  });
  RunReport report = Run(&client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_EQ(report.output, "finally");
  int errors = 0;
  for (const Event& e : Events(report.run_id)) errors += e.kind == "llm.error";
  EXPECT_EQ(errors, 2);
}

TEST_F(SchedulerTest, InputsAreCheckedBeforeAnythingIsRecorded) {
  team_.inputs.push_back(Input("req"));
  team_.flow = {Task("one", "a", "${inputs.req}")};
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  RunOptions o;
  o.store = store_.get();
  o.clients["m"] = &client;
  o.inputs["req"].text = "bad \xFF byte";
  auto report = RunTeam(team_, o);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message().find("not valid UTF-8"), std::string::npos);
  auto runs = store_->ListRuns(0);
  ASSERT_TRUE(runs);
  EXPECT_TRUE(runs->empty());
}

TEST_F(SchedulerTest, ReportFromEventsMatchesTheLiveReport) {
  team_.flow = {Task("one", "a", "x"), Task("two", "b", "y ${one}")};
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  RunReport live = Run(&client);
  auto record = store_->FindRun(live.run_id);
  ASSERT_TRUE(record);
  RunReport folded = ReportFromEvents(*record, Events(live.run_id));
  EXPECT_EQ(ReportToJson(folded).dump(), ReportToJson(live).dump());
}

}  // namespace
}  // namespace chorus
