// The step events written as text are byte-identical to the trees they replaced (a resumed
// run recognises recorded events by their text), and fold into the same report as the
// recorded event folds when `chorus show` reads it back.
#include "flow/step_events.h"

#include <gtest/gtest.h>

#include "chorus/privacy.h"
#include "flow/memory_store.h"

namespace chorus {
namespace {

std::string Printed(const nlohmann::json& tree) {
  return tree.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class StepEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = MemoryStoreWithRun("run-1", "t");
    ASSERT_NE(store_, nullptr);
    live_.run_id = "run-1";
    live_.team = "t";
  }

  // The one event recorded by `record`, once flushed; the live report folded it meanwhile.
  Event RecordOne(const std::function<void(EventLog&)>& record) {
    EventLog log("run-1", store_.get(), &SystemClock(), &folder_, nullptr);
    record(log);
    EXPECT_EQ(log.size(), 1u);
    EXPECT_TRUE(log.Flush().ok());
    auto events = store_->LoadEvents("run-1");
    EXPECT_TRUE(events && !events->empty());
    return events->back();
  }

  // Folding the recorded events afresh, as `chorus show` does, gives the live report.
  void ExpectShowAgrees() {
    auto events = store_->LoadEvents("run-1");
    ASSERT_TRUE(events);
    RunRecord run;
    run.run_id = "run-1";
    run.team = "t";
    RunReport shown = ReportFromEvents(run, *events);
    EXPECT_EQ(ReportToJsonText(shown), ReportToJsonText(live_));
  }

  std::unique_ptr<Store> store_;
  RunReport live_;
  ReportFolder folder_{&live_};
};

TEST_F(StepEventsTest, StepStartedMatchesTheTree) {
  std::string item = "q\"1\xFF";
  Event plain =
      RecordOne([](EventLog& log) { RecordStepStarted(log, "draft", "writer", "task", nullptr); });
  EXPECT_EQ(plain.payload, Printed({{"kind", "task"}}));
  Event mapped = RecordOne(
      [&](EventLog& log) { RecordStepStarted(log, "fan[0]", "writer", "map-item", &item); });
  EXPECT_EQ(mapped.payload, Printed({{"kind", "map-item"}, {"item", item}}));
  EXPECT_EQ(live_.steps.size(), 2u);
  ExpectShowAgrees();
}

TEST_F(StepEventsTest, RequestMatchesTheTree) {
  std::vector<ChatMessage> messages = {{"system", "You are\nterse."}, {"user", "Brief \x01"}};
  RecordOne([](EventLog& log) { RecordStepStarted(log, "s", "a", "task", nullptr); });
  for (bool extras : {false, true}) {
    RequestFacts facts;
    facts.attempt = extras ? 2 : 1;
    facts.key = "run-1/s/1";
    facts.endpoint = "fast";
    facts.model = "gpt-4o-mini";
    facts.messages = &messages;
    if (extras) facts.queued_ms = 12, facts.resent = true;
    Event e = RecordOne([&](EventLog& log) { RecordRequest(log, "s", "a", facts); });
    nlohmann::json tree = {{"attempt", facts.attempt},
                           {"key", "run-1/s/1"},
                           {"endpoint", "fast"},
                           {"model", "gpt-4o-mini"},
                           {"messages",
                            {{{"role", "system"}, {"content", "You are\nterse."}},
                             {{"role", "user"}, {"content", "Brief \x01"}}}}};
    if (extras) tree["queued_ms"] = 12, tree["resent"] = true;
    EXPECT_EQ(e.payload, Printed(tree));
  }
  EXPECT_EQ(live_.steps[0].attempts, 2);
  EXPECT_EQ(live_.steps[0].model, "fast");
  ExpectShowAgrees();
}

TEST_F(StepEventsTest, ResponseMatchesTheTree) {
  RecordOne([](EventLog& log) { RecordStepStarted(log, "fan", "", "map", nullptr); });
  RecordOne([](EventLog& log) { RecordStepStarted(log, "fan[0]", "a", "map-item", nullptr); });
  ChatResponse r;
  r.text = "raw";
  r.finish_reason = "stop";
  r.model = "m-2024";
  r.latency_ms = 87;
  r.usage = {120, 7, 0.000315};
  r.usage_estimated = true;
  for (std::string warning : {"", "not valid UTF-8 at byte 3"}) {
    Event e = RecordOne(
        [&](EventLog& log) { RecordResponse(log, "fan[0]", "a", 3, r, "kept \"text\"", warning); });
    nlohmann::json tree = {{"attempt", 3},
                           {"finish_reason", "stop"},
                           {"model", "m-2024"},
                           {"latency_ms", 87},
                           {"usage",
                            {{"input_tokens", 120},
                             {"output_tokens", 7},
                             {"cost_usd", 0.000315},
                             {"estimated", true}}},
                           {"text", "kept \"text\""}};
    if (!warning.empty()) tree["warning"] = warning;
    EXPECT_EQ(e.payload, Printed(tree));
  }
  EXPECT_EQ(live_.usage.input_tokens, 240);
  EXPECT_EQ(live_.steps[0].usage.output_tokens, 14);  // the map's own line adds its items'
  EXPECT_EQ(live_.usage_by_agent["a"].input_tokens, 240);
  ExpectShowAgrees();
}

TEST_F(StepEventsTest, CompletionsMatchTheTree) {
  RecordOne([](EventLog& log) { RecordStepStarted(log, "s", "a", "task", nullptr); });
  RecordOne([](EventLog& log) { RecordStepStarted(log, "fan", "", "map", nullptr); });
  StepOutput output{"{\"a\":1}", {{"a", 1}}, Label::kConfidential};
  Event unit = RecordOne([&](EventLog& log) { RecordUnitCompleted(log, "s", "b", output, 2); });
  EXPECT_EQ(unit.payload, Printed({{"output", output.text},
                                   {"attempts", 2},
                                   {"json", output.json},
                                   {"label", "confidential"}}));
  StepOutput plain{"just text", nullptr, Label::kPublic};
  Event map = RecordOne([&](EventLog& log) { RecordMapCompleted(log, "fan", plain, 10000); });
  EXPECT_EQ(map.payload, Printed({{"output", "just text"}, {"items", 10000}}));
  EXPECT_EQ(live_.steps[0].status, "completed");
  EXPECT_EQ(live_.steps[0].agent, "b");  // a routed task's agent is known only now
  EXPECT_EQ(live_.steps[1].output, "just text");
  ExpectShowAgrees();
}

TEST_F(StepEventsTest, RunEndsMatchTheTree) {
  const std::string output = "line\n\"quoted\" \x01 caf\xC3\xA9 broken \xFF\xFE";
  Event completed = RecordOne([&](EventLog& log) { RecordRunEnded(log, true, output); });
  EXPECT_EQ(completed.kind, "run.completed");
  EXPECT_EQ(completed.payload, Printed({{"output", output}}));
  EXPECT_EQ(live_.status, RunStatus::kCompleted);
  EXPECT_EQ(live_.output, output);  // the report keeps the bytes; the store keeps valid JSON
  EXPECT_EQ(live_.finished_ms, completed.ts_ms);
  ExpectShowAgrees();

  Event failed = RecordOne([](EventLog& log) { RecordRunEnded(log, false, "a step failed"); });
  EXPECT_EQ(failed.kind, "run.failed");
  EXPECT_EQ(failed.payload, Printed({{"error", "a step failed"}}));
  EXPECT_EQ(live_.status, RunStatus::kFailed);
  EXPECT_EQ(live_.error, "a step failed");
  EXPECT_EQ(live_.output, "");
}

// The log reuses its slots from one flush to the next: a later, shorter fact carries nothing
// of the one that sat there before it, and the store numbers it afresh.
TEST_F(StepEventsTest, ReusedSlotsCarryNothingOfTheirLastFact) {
  EventLog log("run-1", store_.get(), &SystemClock(), &folder_, nullptr);
  log.AddText("brief.dispatched", "a-long-step-path[123456]", "an-agent-with-a-long-name",
              "{\"first\":1}");
  log.AddText("step.started", "draft", "writer", "{\"kind\":\"task\"}");
  ASSERT_TRUE(log.Flush().ok());
  EXPECT_TRUE(log.empty());
  log.AddText("x", "", "", "{}");
  ASSERT_EQ(log.size(), 1u);
  ASSERT_TRUE(log.Flush().ok());
  auto events = store_->LoadEvents("run-1");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  const Event& last = events->back();
  EXPECT_EQ(last.seq, 3);
  EXPECT_EQ(last.run_id, "run-1");
  EXPECT_EQ(last.kind, "x");
  EXPECT_EQ(last.step, "");
  EXPECT_EQ(last.agent, "");
  EXPECT_EQ(last.payload, "{}");
  EXPECT_EQ((*events)[0].step, "a-long-step-path[123456]");
}

}  // namespace
}  // namespace chorus
