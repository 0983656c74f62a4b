// Behaviour of the SQLite store through the public Store interface: runs, events, sequence
// numbers, batch atomicity and lookups.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "chorus/store.h"
#include "store/temp_dir.h"

namespace chorus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RunRecord MakeRun(const std::string& id, int64_t started_ms = 1000) {
  RunRecord run;
  run.run_id = id;
  run.team = "launch-review";
  run.team_path = "/teams/launch-review.yaml";
  run.started_ms = started_ms;
  run.pid = 4242;
  return run;
}

Event MakeEvent(const std::string& run_id, const std::string& kind, int64_t seq = 0) {
  Event event;
  event.run_id = run_id;
  event.seq = seq;
  event.ts_ms = 1'700'000'000'000;
  event.kind = kind;
  event.step = "draft";
  event.agent = "strategist";
  event.payload = R"({"kind":")" + kind + R"("})";
  return event;
}

std::vector<int64_t> Seqs(const std::vector<Event>& events) {
  std::vector<int64_t> seqs;
  for (const Event& event : events) seqs.push_back(event.seq);
  return seqs;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = Open(); }

  std::unique_ptr<Store> Open() {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    return store ? std::move(*store) : nullptr;
  }

  void Append(std::vector<Event>& events) {
    Status status = store_->Append(events);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  testing::TempDir dir_;
  std::string path_ = dir_.File("nested/dirs/chorus.db");
  std::unique_ptr<Store> store_;
};

TEST(RunStatusNames, RoundTripAndRejectUnknownNames) {
  for (RunStatus status :
       {RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kFailed, RunStatus::kInterrupted}) {
    EXPECT_EQ(ParseRunStatus(RunStatusName(status)), status);
  }
  EXPECT_EQ(RunStatusName(RunStatus::kInterrupted), "interrupted");
  EXPECT_EQ(ParseRunStatus("Running"), std::nullopt);
  EXPECT_EQ(ParseRunStatus(""), std::nullopt);
}

TEST_F(SqliteStoreTest, CreatesParentDirectoriesAndOpensInWalMode) {
  ASSERT_NE(store_, nullptr);
  EXPECT_TRUE(std::filesystem::exists(path_));
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  // WAL mode keeps a -wal file beside the database while a connection is open.
  EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));
}

TEST_F(SqliteStoreTest, RoundTripsRunsAndEventsExactly) {
  RunRecord run = MakeRun("run-1");
  ASSERT_TRUE(store_->CreateRun(run).ok());
  std::vector<Event> events = {MakeEvent("run-1", "run.started"),
                               MakeEvent("run-1", "llm.request")};
  events[1].step = "reviews[3]";
  events[1].agent = "";
  events[1].payload = std::string("{\"text\":\"caf\xc3\xa9 \\u0000\"}") + std::string(1, '\0') +
                      "tail";  // embedded NUL and UTF-8 survive
  Append(events);

  Result<std::vector<Event>> loaded = store_->LoadEvents("run-1");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  ASSERT_EQ(loaded->size(), 2u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ((*loaded)[i].run_id, events[i].run_id);
    EXPECT_EQ((*loaded)[i].seq, events[i].seq);
    EXPECT_EQ((*loaded)[i].ts_ms, events[i].ts_ms);
    EXPECT_EQ((*loaded)[i].kind, events[i].kind);
    EXPECT_EQ((*loaded)[i].step, events[i].step);
    EXPECT_EQ((*loaded)[i].agent, events[i].agent);
    EXPECT_EQ((*loaded)[i].payload, events[i].payload);
  }

  run.status = RunStatus::kCompleted;
  run.finished_ms = 5000;
  run.input_tokens = 1234;
  run.output_tokens = 567;
  run.cost_usd = 0.0125;
  run.pid = 99;
  ASSERT_TRUE(store_->UpdateRun(run).ok());
  Result<RunRecord> found = store_->FindRun("run-1");
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  EXPECT_EQ(found->team, "launch-review");
  EXPECT_EQ(found->team_path, "/teams/launch-review.yaml");
  EXPECT_EQ(found->status, RunStatus::kCompleted);
  EXPECT_EQ(found->started_ms, 1000);
  EXPECT_EQ(found->finished_ms, 5000);
  EXPECT_EQ(found->input_tokens, 1234);
  EXPECT_EQ(found->output_tokens, 567);
  EXPECT_DOUBLE_EQ(found->cost_usd, 0.0125);
  EXPECT_EQ(found->pid, 99);
}

TEST_F(SqliteStoreTest, EmptyBatchIsANoOp) { EXPECT_TRUE(store_->Append({}).ok()); }

TEST_F(SqliteStoreTest, AssignsSequenceNumbersAcrossBatchesAndWritesThemBack) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> first = {MakeEvent("run-1", "a"), MakeEvent("run-1", "b")};
  Append(first);
  EXPECT_THAT(Seqs(first), ElementsAre(1, 2));
  std::vector<Event> second = {MakeEvent("run-1", "c"), MakeEvent("run-1", "d"),
                               MakeEvent("run-1", "e")};
  Append(second);
  EXPECT_THAT(Seqs(second), ElementsAre(3, 4, 5));
  EXPECT_THAT(Seqs(*store_->LoadEvents("run-1")), ElementsAre(1, 2, 3, 4, 5));
}

TEST_F(SqliteStoreTest, SequencesAreIndependentPerRunWithinOneBatch) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-a")).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-b")).ok());
  std::vector<Event> batch = {MakeEvent("run-a", "x"), MakeEvent("run-b", "x"),
                              MakeEvent("run-a", "y"), MakeEvent("run-b", "y"),
                              MakeEvent("run-b", "z")};
  Append(batch);
  EXPECT_THAT(Seqs(batch), ElementsAre(1, 1, 2, 2, 3));
  EXPECT_THAT(Seqs(*store_->LoadEvents("run-a")), ElementsAre(1, 2));
  EXPECT_THAT(Seqs(*store_->LoadEvents("run-b")), ElementsAre(1, 2, 3));
}

TEST_F(SqliteStoreTest, ContinuesSequenceAfterReopen) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> first = {MakeEvent("run-1", "a"), MakeEvent("run-1", "b"),
                              MakeEvent("run-1", "c")};
  Append(first);
  store_.reset();
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  std::vector<Event> second = {MakeEvent("run-1", "d"), MakeEvent("run-1", "e")};
  Append(second);
  EXPECT_THAT(Seqs(second), ElementsAre(4, 5));
}

TEST_F(SqliteStoreTest, ExplicitSequenceNumbersAreKeptAndAutomaticOnesFollowThem) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> batch = {MakeEvent("run-1", "a", 10), MakeEvent("run-1", "b")};
  Append(batch);
  EXPECT_THAT(Seqs(batch), ElementsAre(10, 11));
  std::vector<Event> gap_filler = {MakeEvent("run-1", "c", 3)};
  Append(gap_filler);
  std::vector<Event> next = {MakeEvent("run-1", "d")};
  Append(next);
  EXPECT_THAT(Seqs(next), ElementsAre(12));
  EXPECT_THAT(Seqs(*store_->LoadEvents("run-1")), ElementsAre(3, 10, 11, 12));
}

TEST_F(SqliteStoreTest, CollidingSequenceFailsTheWholeBatchAndLeavesNothing) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> first = {MakeEvent("run-1", "a"), MakeEvent("run-1", "b")};
  Append(first);

  std::vector<Event> bad = {MakeEvent("run-1", "c"), MakeEvent("run-1", "d"),
                            MakeEvent("run-1", "e", 2)};
  Status status = store_->Append(bad);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("seq 2"));
  EXPECT_THAT(status.message(), HasSubstr(path_));
  EXPECT_THAT(Seqs(bad), ElementsAre(0, 0, 2)) << "seqs are written back only on success";
  EXPECT_THAT(Seqs(*store_->LoadEvents("run-1")), ElementsAre(1, 2));

  // The failed batch did not consume sequence numbers.
  std::vector<Event> retry = {MakeEvent("run-1", "c")};
  Append(retry);
  EXPECT_THAT(Seqs(retry), ElementsAre(3));
}

TEST_F(SqliteStoreTest, CollisionWithinOneBatchIsRejected) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> batch = {MakeEvent("run-1", "a"), MakeEvent("run-1", "b", 1)};
  EXPECT_EQ(store_->Append(batch).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->LoadEvents("run-1")->empty());
}

TEST_F(SqliteStoreTest, BatchWithAnUnknownRunWritesNothing) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> batch = {MakeEvent("run-1", "a"), MakeEvent("no-such-run", "b")};
  Status status = store_->Append(batch);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("no-such-run"));
  EXPECT_TRUE(store_->LoadEvents("run-1")->empty());
}

TEST_F(SqliteStoreTest, RejectsEventsWithoutRunIdOrWithNegativeSeq) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> no_run = {MakeEvent("", "a")};
  EXPECT_EQ(store_->Append(no_run).code(), StatusCode::kInvalidArgument);
  std::vector<Event> negative = {MakeEvent("run-1", "a", -1)};
  EXPECT_EQ(store_->Append(negative).code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, DuplicateRunIsFailedPrecondition) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run-1")).ok());
  Status status = store_->CreateRun(MakeRun("run-1"));
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("run-1"));
  EXPECT_THAT(status.message(), HasSubstr("already exists"));
  EXPECT_EQ(store_->CreateRun(MakeRun("")).code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, UnknownRunsAreNotFound) {
  EXPECT_EQ(store_->LoadEvents("nope").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateRun(MakeRun("nope")).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->CreateRun(MakeRun("empty")).ok());
  Result<std::vector<Event>> none = store_->LoadEvents("empty");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteStoreTest, ListsRunsNewestFirstWithLimit) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("old", 100)).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun("new", 300)).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun("mid", 200)).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun("mid-later", 200)).ok());

  auto ids = [](const std::vector<RunRecord>& runs) {
    std::vector<std::string> out;
    for (const RunRecord& run : runs) out.push_back(run.run_id);
    return out;
  };
  EXPECT_THAT(ids(*store_->ListRuns(0)), ElementsAre("new", "mid-later", "mid", "old"));
  EXPECT_THAT(ids(*store_->ListRuns(-1)), ElementsAre("new", "mid-later", "mid", "old"));
  EXPECT_THAT(ids(*store_->ListRuns(2)), ElementsAre("new", "mid-later"));
}

TEST_F(SqliteStoreTest, FindsRunsByIdOrUniquePrefix) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("20240501-abcdef")).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun("20240501-abcxyz")).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun("20240502-qqqqqq")).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun("abc")).ok());

  EXPECT_EQ(store_->FindRun("20240501-abcdef")->run_id, "20240501-abcdef");
  EXPECT_EQ(store_->FindRun("20240501-abcd")->run_id, "20240501-abcdef");
  EXPECT_EQ(store_->FindRun("20240502")->run_id, "20240502-qqqqqq");
  // An exact id wins even when it is short and a prefix of nothing else.
  EXPECT_EQ(store_->FindRun("abc")->run_id, "abc");

  Result<RunRecord> ambiguous = store_->FindRun("20240501-abc");
  ASSERT_FALSE(ambiguous.has_value());
  EXPECT_EQ(ambiguous.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ambiguous.error().message(), HasSubstr("20240501-abcdef"));
  EXPECT_THAT(ambiguous.error().message(), HasSubstr("20240501-abcxyz"));

  EXPECT_EQ(store_->FindRun("2099").error().code(), StatusCode::kNotFound);
  Result<RunRecord> short_prefix = store_->FindRun("202");
  EXPECT_EQ(short_prefix.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(short_prefix.error().message(), HasSubstr("at least 4"));
  EXPECT_EQ(store_->FindRun("").error().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, PrefixOfHighBytesHasNoUpperBoundAndStillMatches) {
  const std::string id = "\xff\xff\xff\xff-run";
  ASSERT_TRUE(store_->CreateRun(MakeRun(id)).ok());
  Result<RunRecord> found = store_->FindRun("\xff\xff\xff\xff");
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  EXPECT_EQ(found->run_id, id);
}

TEST_F(SqliteStoreTest, PrefixCharactersAreNotPatterns) {
  ASSERT_TRUE(store_->CreateRun(MakeRun("run_%-1")).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun("runXY-2")).ok());
  EXPECT_EQ(store_->FindRun("run_%")->run_id, "run_%-1");
}

TEST(SqliteStoreInMemory, WorksWithoutAFile) {
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(":memory:");
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  ASSERT_TRUE((*store)->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> batch = {MakeEvent("run-1", "a")};
  ASSERT_TRUE((*store)->Append(batch).ok());
  EXPECT_EQ((*store)->LoadEvents("run-1")->size(), 1u);
}

}  // namespace
}  // namespace chorus
