// The store copies its WAL into the database file in the background as a run's events grow,
// keeps every event while it does, and bounds the WAL itself if the background cannot help.
#include "store/sqlite_checkpointer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chorus/store.h"
#include "store/raw_sqlite.h"
#include "store/sqlite_util.h"
#include "store/temp_dir.h"
#include "support/eventually.h"

namespace chorus {
namespace {

using testing::Eventually;
using testing::OpenOrFail;

constexpr uintmax_t kMiB = uintmax_t{1} << 20;

std::vector<Event> Batch(const std::string& run_id, int batch, int size, size_t pad) {
  std::vector<Event> events(size);
  for (int i = 0; i < size; ++i) {
    events[i].run_id = run_id;
    events[i].kind = "llm.request";
    events[i].step = "fan[" + std::to_string(batch * size + i) + "]";
    events[i].payload = "{\"batch\":" + std::to_string(batch) + ",\"i\":" + std::to_string(i) +
                        ",\"pad\":\"" + std::string(pad, 'p') + "\"}";
  }
  return events;
}

uintmax_t FileSize(const std::string& path) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// A store at `path` holding the run "run-1".
std::unique_ptr<Store> OpenWithRun(const std::string& path) {
  std::unique_ptr<Store> store = OpenOrFail(path);
  if (store == nullptr) return nullptr;
  RunRecord run;
  run.run_id = "run-1";
  EXPECT_TRUE(store->CreateRun(run).ok());
  return store;
}

int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

TEST(WalCheckpointer, CopiesTheLogIntoTheDatabaseWhileTheStoreStaysOpen) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  std::unique_ptr<Store> store = OpenWithRun(path);
  ASSERT_NE(store, nullptr);
  const uintmax_t before = FileSize(path);
  // 3 MB of events in 30 commits: far below SQLite's own automatic checkpoint (1,000 pages).
  for (int b = 0; b < 30; ++b) {
    std::vector<Event> events = Batch("run-1", b, 100, 1000);
    ASSERT_TRUE(store->Append(events).ok());
  }
  EXPECT_TRUE(Eventually([&] { return FileSize(path) >= before + 2 * kMiB; }))
      << "the database file stayed at " << FileSize(path) << " bytes while the WAL holds "
      << FileSize(path + "-wal");

  Result<std::vector<Event>> loaded = store->LoadEvents("run-1");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->size(), 3000u);
}

// A store opened by a relative name keeps checkpointing the same file after the program
// changes its working directory.
TEST(WalCheckpointer, FollowsTheFileNotARelativeNameAfterAChangeOfDirectory) {
  testing::TempDir dir;
  testing::TempDir elsewhere;
  const std::filesystem::path before_cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  std::unique_ptr<Store> store = OpenWithRun("chorus.db");
  std::filesystem::current_path(elsewhere.path());
  ASSERT_NE(store, nullptr);
  const std::string path = dir.File("chorus.db");
  const uintmax_t before = FileSize(path);
  for (int b = 0; b < 30; ++b) {
    std::vector<Event> events = Batch("run-1", b, 100, 1000);
    ASSERT_TRUE(store->Append(events).ok());
  }
  EXPECT_TRUE(Eventually([&] { return FileSize(path) >= before + 2 * kMiB; }))
      << "the database file stayed at " << FileSize(path) << " bytes";
  EXPECT_FALSE(std::filesystem::exists(elsewhere.File("chorus.db")));
  store.reset();
  std::filesystem::current_path(before_cwd);
}

TEST(WalCheckpointer, EveryEventSurvivesCheckpointsBetweenCommits) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  std::vector<Event> written;
  {
    std::unique_ptr<Store> store = OpenWithRun(path);
    ASSERT_NE(store, nullptr);
    // Small commits, so that checkpoints run while later ones are being written.
    for (int b = 0; b < 400; ++b) {
      std::vector<Event> events = Batch("run-1", b, 5, 2000);
      ASSERT_TRUE(store->Append(events).ok());
      written.insert(written.end(), events.begin(), events.end());
    }
  }
  // Closed: the WAL is gone and the database file alone holds every event.
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  std::unique_ptr<Store> reopened = OpenOrFail(path);
  ASSERT_NE(reopened, nullptr);
  Result<std::vector<Event>> loaded = reopened->LoadEvents("run-1");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  ASSERT_EQ(loaded->size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    ASSERT_EQ((*loaded)[i].seq, static_cast<int64_t>(i + 1));
    ASSERT_EQ((*loaded)[i].step, written[i].step);
    ASSERT_EQ((*loaded)[i].payload, written[i].payload);
  }
}

TEST(WalCheckpointer, AStoreOpenedToReadStartsNoThread) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  {
    std::unique_ptr<Store> store = OpenWithRun(path);
    ASSERT_NE(store, nullptr);
    std::vector<Event> events = Batch("run-1", 0, 10, 100);
    ASSERT_TRUE(store->Append(events).ok());
  }
  const int threads = ThreadCount();
  std::unique_ptr<Store> reader = OpenOrFail(path);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->ListRuns(10).has_value());
  ASSERT_TRUE(reader->LoadEvents("run-1").has_value());
  EXPECT_EQ(ThreadCount(), threads);
}

// With the background out of reach (a batch it never reaches), the writer's own commits keep
// the WAL bounded, as SQLite's automatic checkpoint would.
TEST(WalCheckpointer, TheWriterCheckpointsInlinePastItsBound) {
  testing::TempDir dir;
  const std::string path = dir.File("raw.db");
  Result<std::unique_ptr<sqlite::Database>> db = sqlite::Database::Open(
      path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  ASSERT_TRUE(db.has_value()) << db.error().ToString();
  ASSERT_TRUE((*db)->Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x BLOB)", "setup").ok());
  sqlite::WalCheckpointer checkpointer(db->get(), /*batch_frames=*/1 << 30,
                                       /*inline_frames=*/16);
  const uintmax_t before = FileSize(path);
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (zeroblob(8192))", "insert").ok());
  }
  EXPECT_GE(FileSize(path), before + 32 * 8192);
  EXPECT_EQ(checkpointer.completed(), 0);  // all of it inline: no thread was started
}

}  // namespace
}  // namespace chorus
