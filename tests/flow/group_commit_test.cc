// When the scheduler commits its events. A request to a model outside the process is sent
// only after its llm.request event is in the store; requests to a model that answers in
// process (the offline model) are grouped, many steps to one transaction; a wide map is
// committed and sent in slices rather than all at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "chorus/run.h"
#include "flow/scripted_client.h"

namespace chorus {
namespace {

// Forwards to a real SQLite store and remembers the size of every appended batch.
class CountingStore final : public Store {
 public:
  explicit CountingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}
  Status CreateRun(const RunRecord& run) override { return inner_->CreateRun(run); }
  Status Append(std::span<Event> events) override {
    batches.push_back(events.size());
    if ((fail_from_batch > 0 && batches.size() >= fail_from_batch) ||
        batches.size() == fail_only_batch) {
      return Status::Unavailable("the disk is gone");
    }
    return inner_->Append(events);
  }
  Status UpdateRun(const RunRecord& run) override { return inner_->UpdateRun(run); }
  Result<std::vector<Event>> LoadEvents(const std::string& run_id) override {
    return inner_->LoadEvents(run_id);
  }
  Result<std::vector<RunRecord>> ListRuns(int limit) override { return inner_->ListRuns(limit); }
  Result<RunRecord> FindRun(const std::string& id) override { return inner_->FindRun(id); }

  std::vector<size_t> batches;
  size_t fail_from_batch = 0;  // > 0: that batch and every later one fail
  size_t fail_only_batch = 0;  // > 0: that batch fails, and no other

 private:
  std::unique_ptr<Store> inner_;
};

// Answers from its own threads, the nth request after delay_us(n); `before_answer`, if set,
// runs on that thread just before the answer is delivered.
class ThreadedClient final : public ModelClient {
 public:
  explicit ThreadedClient(std::function<int64_t(int)> delay_us) : delay_us_(std::move(delay_us)) {
    config_.name = "m";
  }
  ~ThreadedClient() override {
    for (std::thread& t : threads_) t.join();
  }
  void Submit(ChatRequest request, Callback done) override {
    int64_t delay_us = delay_us_(submitted_++);
    ++pending_;
    threads_.emplace_back([this, delay_us, key = request.idempotency_key, done = std::move(done)] {
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      if (before_answer) before_answer(key);
      --pending_;
      done(Text("ok"));
    });
  }
  const EndpointConfig& config() const override { return config_; }
  int64_t pending() const override { return pending_; }

  std::function<void(const std::string& key)> before_answer;

 private:
  std::function<int64_t(int)> delay_us_;
  EndpointConfig config_;
  int submitted_ = 0;  // the scheduler's thread only
  std::atomic<int64_t> pending_{0};
  std::vector<std::thread> threads_;
};

// The first request is answered after 10 ms, the others after 300 ms.
ThreadedClient LateClient() {
  return ThreadedClient([](int n) -> int64_t { return n == 0 ? 10'000 : 300'000; });
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "chorus-gc-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto sqlite = OpenSqliteStore(dir_ + "/s.db");
    ASSERT_TRUE(sqlite) << sqlite.error().ToString();
    store_ = std::make_unique<CountingStore>(std::move(*sqlite));
    team_.name = "t";
    ModelSpec model;
    model.endpoint.name = "m";
    team_.models.push_back(model);
    AgentSpec agent;
    agent.name = "a";
    agent.role = "role a";
    agent.model = "m";
    team_.agents.push_back(agent);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void AddChain(int steps) {
    for (int i = 0; i < steps; ++i) {
      Step s;
      s.id = "s" + std::to_string(i);
      s.agents = {"a"};
      s.brief.objective =
          "step " + std::to_string(i) + (i ? " after ${s" + std::to_string(i - 1) + "}" : "");
      team_.flow.push_back(s);
    }
  }

  void AddMap(int items) {
    Step map;
    map.kind = StepKind::kMap;
    map.id = "fan";
    map.agents = {"a"};
    map.concurrency = items;
    for (int i = 0; i < items; ++i) map.over_items.push_back("q" + std::to_string(i));
    map.brief.objective = "answer ${item}";
    team_.flow.push_back(map);
  }

  RunReport Run(ScriptedClient* client) {
    RunOptions o;
    o.store = store_.get();
    o.clients["m"] = client;
    o.seed = 1;
    auto report = RunTeam(team_, std::move(o));
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : RunReport{};
  }

  // Whether the store holds an llm.request event carrying `key`.
  bool Recorded(const std::string& run_id, const std::string& key) {
    auto events = store_->LoadEvents(run_id);
    if (!events) return false;
    for (const Event& e : *events) {
      if (e.kind == "llm.request" && e.payload.find("\"" + key + "\"") != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  size_t Count(const std::string& run_id, const std::string& kind) {
    auto events = store_->LoadEvents(run_id);
    size_t n = 0;
    for (const Event& e : events ? *events : std::vector<Event>{}) n += e.kind == kind;
    return n;
  }

  std::string dir_;
  std::unique_ptr<CountingStore> store_;
  Team team_;
};

// The key begins with the run id, so the client can look its own request up in the store.
std::string RunIdOf(const std::string& key) { return key.substr(0, key.find('/')); }

TEST_F(GroupCommitTest, AnOutsideRequestIsInTheStoreBeforeItIsSent) {
  AddChain(12);
  AddMap(40);
  int sent = 0, unrecorded = 0;
  ScriptedClient client([&](const ChatRequest& r) {
    ++sent;
    if (!Recorded(RunIdOf(r.idempotency_key), r.idempotency_key)) ++unrecorded;
    return Text("ok");
  });
  RunReport report = Run(&client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_EQ(sent, 52);
  EXPECT_EQ(unrecorded, 0);
}

TEST_F(GroupCommitTest, InProcessAnswersShareTransactions) {
  AddChain(100);
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  client.set_answers_in_process(true);
  RunReport report = Run(&client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  // One commit per step before; now the opening, the grouped steps and the run's end.
  EXPECT_LE(store_->batches.size(), 3u);
  EXPECT_EQ(Count(report.run_id, "step.completed"), 100u);
  EXPECT_EQ(Count(report.run_id, "llm.response"), 100u);
  EXPECT_EQ(report.output, "ok");
}

TEST_F(GroupCommitTest, TheSameChainCommitsEveryStepWhenTheModelIsOutside) {
  AddChain(100);
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  RunReport report = Run(&client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_GE(store_->batches.size(), 100u);
  EXPECT_EQ(Count(report.run_id, "step.completed"), 100u);
}

TEST_F(GroupCommitTest, AWideMapIsCommittedAndSentInSlices) {
  AddMap(3000);
  size_t recorded_at_first_send = 0;
  int sent = 0;
  ScriptedClient client([&](const ChatRequest& r) {
    if (sent++ == 0) recorded_at_first_send = Count(RunIdOf(r.idempotency_key), "llm.request");
    return Text("ok");
  });
  RunReport report = Run(&client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_EQ(sent, 3000);
  // The first slice went out long before the last item was prepared.
  EXPECT_GT(recorded_at_first_send, 0u);
  EXPECT_LT(recorded_at_first_send, 1000u);
  for (size_t batch : store_->batches) EXPECT_LE(batch, 4096u + 8u);
  EXPECT_EQ(Count(report.run_id, "llm.request"), 3000u);
}

TEST_F(GroupCommitTest, AFailedStoreStillWaitsForWhatIsAlreadyOut) {
  AddMap(4);
  // Batch 1 opens the run, batch 2 records the four requests; batch 3, the first answer's
  // events written before waiting for the other three, fails.
  store_->fail_from_batch = 3;
  ThreadedClient client = LateClient();
  RunOptions o;
  o.store = store_.get();
  o.clients["m"] = &client;
  o.seed = 1;
  auto report = RunTeam(team_, std::move(o));
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->status, RunStatus::kFailed);
  EXPECT_NE(report->error.find("the disk is gone"), std::string::npos) << report->error;
  EXPECT_EQ(client.pending(), 0) << "the run returned with requests still in flight";
}

TEST_F(GroupCommitTest, ALongInProcessRunStillReachesTheStoreSteadily) {
  AddMap(5000);
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  client.set_answers_in_process(true);
  RunReport report = Run(&client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_GE(store_->batches.size(), 4u);  // 5,000 units make ~20,000 events
  for (size_t batch : store_->batches) EXPECT_LE(batch, 4096u + 8u);
  EXPECT_EQ(Count(report.run_id, "step.completed"), 5001u);
}

TEST_F(GroupCommitTest, AnswersArrivingTogetherShareACommit) {
  AddMap(100);
  // One answer every 0.2 ms: one commit each before the commit window. With it, a commit at
  // most every 10 ms: only a machine that spread these answers over half a second would make
  // the 50 this allows.
  ThreadedClient client([](int n) -> int64_t { return 20'000 + n * 200; });
  RunOptions o;
  o.store = store_.get();
  o.clients["m"] = &client;
  auto report = RunTeam(team_, std::move(o));
  ASSERT_TRUE(report && report->status == RunStatus::kCompleted);
  EXPECT_LT(store_->batches.size(), 50u);
  EXPECT_EQ(Count(report->run_id, "llm.response"), 100u);
  EXPECT_EQ(Count(report->run_id, "step.completed"), 101u);
}

TEST_F(GroupCommitTest, AnAnswerIsCommittedWhileTheRunWaitsForOthers) {
  AddMap(3);
  ThreadedClient client = LateClient();
  // Read from a connection of its own, as a watcher (`chorus show`) would.
  auto watcher = OpenSqliteStore(dir_ + "/s.db");
  ASSERT_TRUE(watcher);
  std::mutex mu;
  std::vector<size_t> responses_seen;
  client.before_answer = [&](const std::string& key) {
    std::lock_guard<std::mutex> lock(mu);  // a Store is used by one thread at a time
    auto events = (*watcher)->LoadEvents(RunIdOf(key));
    ASSERT_TRUE(events) << events.error().ToString();
    size_t n = 0;
    for (const Event& e : *events) n += e.kind == "llm.response";
    responses_seen.push_back(n);
  };
  RunOptions o;
  o.store = store_.get();
  o.clients["m"] = &client;
  auto report = RunTeam(team_, std::move(o));
  ASSERT_TRUE(report && report->status == RunStatus::kCompleted);
  ASSERT_EQ(responses_seen.size(), 3u);
  std::sort(responses_seen.begin(), responses_seen.end());
  // The first answer came 290 ms before the others: it was in the store when they came.
  EXPECT_EQ(responses_seen, (std::vector<size_t>{0, 1, 1}));
}

TEST_F(GroupCommitTest, NothingDecidedAfterALostBatchIsRecorded) {
  AddMap(3000);
  store_->fail_only_batch = 3;  // the second batch of the map's facts
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  client.set_answers_in_process(true);
  RunReport report = Run(&client);
  EXPECT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("the disk is gone"), std::string::npos) << report.error;
  // The opening, the map's first batch, the lost one, and then only the run's end: the
  // answers handled after the loss are not recorded past the gap it left.
  ASSERT_EQ(store_->batches.size(), 4u);
  EXPECT_EQ(store_->batches[3], 1u);
  auto events = store_->LoadEvents(report.run_id);
  ASSERT_TRUE(events) << events.error().ToString();
  EXPECT_EQ(events->size(), store_->batches[0] + store_->batches[1] + 1);
  EXPECT_EQ(events->back().kind, "run.failed");
}

TEST_F(GroupCommitTest, TheObserverSeesEveryCommittedEventOnceInOrder) {
  AddMap(3000);
  std::vector<int64_t> seen;
  std::thread::id observer_thread;
  ScriptedClient client([](const ChatRequest&) { return Text("ok"); });
  client.set_answers_in_process(true);
  RunOptions o;
  o.store = store_.get();
  o.clients["m"] = &client;
  o.on_event = [&](const Event& e, const nlohmann::json&) {
    seen.push_back(e.seq);
    observer_thread = std::this_thread::get_id();
  };
  auto report = RunTeam(team_, std::move(o));
  ASSERT_TRUE(report && report->status == RunStatus::kCompleted);
  auto events = store_->LoadEvents(report->run_id);
  ASSERT_TRUE(events);
  ASSERT_EQ(seen.size(), events->size());
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], static_cast<int64_t>(i + 1));
  // Watchers are called by the thread that runs the run.
  EXPECT_EQ(observer_thread, std::this_thread::get_id());
}

}  // namespace
}  // namespace chorus
