// How the SQLite store lays events out in rows (store/sqlite_events.h): a row per append and
// run, rows capped in size, seqs checked across rows, damaged rows reported, and stores of
// schema version 1 (a row per event) migrated on open.
#include "store/sqlite_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "chorus/store.h"
#include "store/raw_sqlite.h"
#include "store/temp_dir.h"

namespace chorus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OpenOrFail;
using testing::RawQuery;

RunRecord MakeRun(const std::string& id) {
  RunRecord run;
  run.run_id = id;
  run.team = "rows";
  run.started_ms = 1;
  return run;
}

std::vector<Event> MakeEvents(const std::string& run_id, int count, size_t payload_bytes = 40) {
  std::vector<Event> events(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    Event& e = events[static_cast<size_t>(i)];
    e.run_id = run_id;
    e.ts_ms = 1000 + i;
    e.kind = "llm.response";
    e.step = "fan[" + std::to_string(i) + "]";
    e.agent = "worker";
    e.payload =
        "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(payload_bytes, 'p') + "\"}";
  }
  return events;
}

std::vector<int64_t> Seqs(const std::vector<Event>& events) {
  std::vector<int64_t> seqs;
  for (const Event& e : events) seqs.push_back(e.seq);
  return seqs;
}

TEST(SqliteEventRows, OneAppendOfOneRunIsOneRow) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  {
    std::unique_ptr<Store> store = OpenOrFail(path);
    ASSERT_TRUE(store->CreateRun(MakeRun("run-a")).ok());
    ASSERT_TRUE(store->CreateRun(MakeRun("run-b")).ok());
    std::vector<Event> first = MakeEvents("run-a", 500);
    ASSERT_TRUE(store->Append(first).ok());
    // Two runs interleaved: a row per stretch of one run.
    std::vector<Event> mixed = MakeEvents("run-a", 3);
    mixed[1].run_id = "run-b";
    ASSERT_TRUE(store->Append(mixed).ok());
    EXPECT_THAT(Seqs(mixed), ElementsAre(501, 1, 502));
  }
  EXPECT_EQ(RawQuery(path,
                     "SELECT first_seq || '..' || last_seq FROM event_batches "
                     "WHERE run_id = 'run-a' ORDER BY first_seq"),
            "1..500|501..501|502..502");
  std::unique_ptr<Store> store = OpenOrFail(path);
  Result<std::vector<Event>> loaded = store->LoadEvents("run-a");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  ASSERT_EQ(loaded->size(), 502u);
  EXPECT_EQ((*loaded)[499].step, "fan[499]");
  EXPECT_EQ((*loaded)[499].ts_ms, 1499);
  EXPECT_EQ((*loaded)[501].step, "fan[2]");
}

TEST(SqliteEventRows, RowsStopGrowingAt128KilobytesAndLoadInOrder) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  std::unique_ptr<Store> store = OpenOrFail(path);
  ASSERT_TRUE(store->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> events = MakeEvents("run-1", 10, 50'000);
  ASSERT_TRUE(store->Append(events).ok());
  // Three events of 50 KB pass 128 KB: rows of 3, 3, 3 and 1.
  EXPECT_EQ(RawQuery(path, "SELECT last_seq - first_seq + 1 FROM event_batches ORDER BY first_seq"),
            "3|3|3|1");
  Result<std::vector<Event>> loaded = store->LoadEvents("run-1");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  ASSERT_EQ(loaded->size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_TRUE((*loaded)[i].payload == events[i].payload) << i;
}

TEST(SqliteEventRows, AnExplicitSeqInsideARecordedRowCollides) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  std::unique_ptr<Store> store = OpenOrFail(path);
  ASSERT_TRUE(store->CreateRun(MakeRun("run-1")).ok());
  std::vector<Event> five = MakeEvents("run-1", 5);
  ASSERT_TRUE(store->Append(five).ok());
  for (int64_t seq : {1, 3, 5}) {
    std::vector<Event> again = MakeEvents("run-1", 2);
    again[1].seq = seq;  // the first is numbered 6; the second falls inside 1..5
    Status status = store->Append(again);
    EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr("already has seq " + std::to_string(seq)));
    EXPECT_THAT(status.message(), HasSubstr("event #1 of the batch"));
  }
  // A stretch of explicit seqs that straddles the end of the recorded ones.
  std::vector<Event> straddling = MakeEvents("run-1", 3);
  for (size_t i = 0; i < 3; ++i) straddling[i].seq = static_cast<int64_t>(4 + i);
  Status status = store->Append(straddling);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("event #0 of the batch"));
  EXPECT_THAT(status.message(), HasSubstr("already has seq 4"));
  // Past the end, and into a gap, both fit.
  std::vector<Event> fits = MakeEvents("run-1", 2);
  fits[0].seq = 9;
  ASSERT_TRUE(store->Append(fits).ok());
  std::vector<Event> gap = MakeEvents("run-1", 2);
  gap[0].seq = 6;
  gap[1].seq = 7;
  ASSERT_TRUE(store->Append(gap).ok());
  EXPECT_THAT(Seqs(*store->LoadEvents("run-1")), ElementsAre(1, 2, 3, 4, 5, 6, 7, 9, 10));
}

TEST(SqliteEventRows, ADamagedRowIsDataLossNamingTheFileAndTheSeqs) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  {
    std::unique_ptr<Store> store = OpenOrFail(path);
    ASSERT_TRUE(store->CreateRun(MakeRun("run-1")).ok());
    std::vector<Event> events = MakeEvents("run-1", 20);
    ASSERT_TRUE(store->Append(events).ok());
  }
  RawQuery(path, "UPDATE event_batches SET events = substr(events, 1, length(events) - 7)");
  std::unique_ptr<Store> store = OpenOrFail(path);
  Result<std::vector<Event>> loaded = store->LoadEvents("run-1");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(loaded.error().message(), HasSubstr(path));
  EXPECT_THAT(loaded.error().message(), HasSubstr("events 1..20 is damaged"));
}

// What chorus wrote before events were kept in rows of many.
constexpr const char* kSchemaVersion1 = R"sql(
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY NOT NULL, team TEXT NOT NULL, team_path TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
  started_ms INTEGER NOT NULL, finished_ms INTEGER NOT NULL, input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, pid INTEGER NOT NULL) STRICT;
CREATE INDEX runs_by_started ON runs (started_ms);
CREATE TABLE events (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  seq INTEGER NOT NULL CHECK (seq > 0), ts_ms INTEGER NOT NULL, kind TEXT NOT NULL,
  step TEXT NOT NULL, agent TEXT NOT NULL, payload TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)) STRICT, WITHOUT ROWID;
INSERT INTO runs VALUES ('old-a', 'team', '/t.yaml', 'completed', 1, 2, 3, 4, 0.5, 0);
INSERT INTO runs VALUES ('old-b', 'team', '/t.yaml', 'running', 1, 0, 0, 0, 0, 0);
INSERT INTO events VALUES ('old-a', 1, 1764000000123, 'run.started', '', '', '{"team":"team"}');
INSERT INTO events VALUES ('old-a', 2, 1764000000456, 'step.started', 'draft', 'writer', '{}');
INSERT INTO events VALUES ('old-a', 4, 1764000001789, 'run.completed', '', '', '{"output":"x"}');
INSERT INTO events VALUES ('old-b', 1, 1764000002000, 'run.started', '', '', '{}');
PRAGMA user_version = 1;
)sql";

TEST(SqliteEventRows, AStoreOfSchemaVersionOneIsMigratedOnOpen) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  RawQuery(path, kSchemaVersion1);

  std::unique_ptr<Store> store = OpenOrFail(path);
  ASSERT_NE(store, nullptr);
  Result<std::vector<Event>> a = store->LoadEvents("old-a");
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  ASSERT_THAT(Seqs(*a), ElementsAre(1, 2, 4));
  const struct {
    int64_t ts_ms;
    const char* kind;
    const char* step;
    const char* agent;
    const char* payload;
  } expected[] = {{1764000000123, "run.started", "", "", R"({"team":"team"})"},
                  {1764000000456, "step.started", "draft", "writer", "{}"},
                  {1764000001789, "run.completed", "", "", R"({"output":"x"})"}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*a)[i].ts_ms, expected[i].ts_ms) << i;
    EXPECT_EQ((*a)[i].kind, expected[i].kind) << i;
    EXPECT_EQ((*a)[i].step, expected[i].step) << i;
    EXPECT_EQ((*a)[i].agent, expected[i].agent) << i;
    EXPECT_EQ((*a)[i].payload, expected[i].payload) << i;
  }
  Result<std::vector<Event>> b = store->LoadEvents("old-b");
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  ASSERT_THAT(Seqs(*b), ElementsAre(1));
  EXPECT_EQ((*b)[0].ts_ms, 1764000002000);
  Result<RunRecord> run = store->FindRun("old-a");
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->input_tokens, 3);

  // The gap at seq 3 splits old-a into two rows; new events continue each run.
  std::vector<Event> more = MakeEvents("old-b", 2);
  ASSERT_TRUE(store->Append(more).ok());
  EXPECT_THAT(Seqs(more), ElementsAre(2, 3));
  store.reset();
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "2");
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'events'"), "0");
  EXPECT_EQ(RawQuery(path,
                     "SELECT first_seq || '..' || last_seq FROM event_batches "
                     "ORDER BY run_id, first_seq"),
            "1..2|4..4|1..1|2..3");
  EXPECT_EQ(RawQuery(path, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace chorus
