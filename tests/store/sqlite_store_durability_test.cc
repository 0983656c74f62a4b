// The SQLite store against the world outside one well-behaved connection: other connections
// on the same file, a writer killed with SIGKILL, files that are not (or no longer) valid
// stores, and very large payloads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chorus/store.h"
#include "store/raw_sqlite.h"
#include "store/temp_dir.h"

namespace chorus {
namespace {

using ::testing::HasSubstr;
using testing::OpenOrFail;
using testing::RawQuery;

RunRecord MakeRun(const std::string& id) {
  RunRecord run;
  run.run_id = id;
  run.team = "durability";
  run.started_ms = 1;
  return run;
}

std::vector<Event> MakeBatch(const std::string& run_id, int batch, int size) {
  std::vector<Event> events(size);
  for (int i = 0; i < size; ++i) {
    events[i].run_id = run_id;
    events[i].kind = "llm.response";
    events[i].payload = "{\"batch\":" + std::to_string(batch) + ",\"i\":" + std::to_string(i) +
                        ",\"pad\":\"" + std::string(200, 'p') + "\"}";
  }
  return events;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(SqliteStoreSharing, ReaderSeesCommittedEventsWhileWriterContinues) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  std::unique_ptr<Store> writer = OpenOrFail(path);
  std::unique_ptr<Store> reader = OpenOrFail(path);
  ASSERT_TRUE(writer && reader);

  ASSERT_TRUE(writer->CreateRun(MakeRun("run-1")).ok());
  EXPECT_EQ(reader->FindRun("run-1")->run_id, "run-1");
  for (int batch = 0; batch < 5; ++batch) {
    std::vector<Event> events = MakeBatch("run-1", batch, 10);
    ASSERT_TRUE(writer->Append(events).ok());
    Result<std::vector<Event>> seen = reader->LoadEvents("run-1");
    ASSERT_TRUE(seen.has_value()) << seen.error().ToString();
    ASSERT_EQ(seen->size(), static_cast<size_t>((batch + 1) * 10));
    EXPECT_EQ(seen->back().seq, (batch + 1) * 10);
  }
}

TEST(SqliteStoreSharing, TwoWritersKeepOneContiguousSequence) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  std::unique_ptr<Store> first = OpenOrFail(path);
  std::unique_ptr<Store> second = OpenOrFail(path);
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->CreateRun(MakeRun("run-1")).ok());

  std::vector<Event> a = MakeBatch("run-1", 0, 2);
  ASSERT_TRUE(first->Append(a).ok());
  std::vector<Event> b = MakeBatch("run-1", 1, 2);
  ASSERT_TRUE(second->Append(b).ok());
  EXPECT_EQ(b[0].seq, 3);
  // `first` cached next seq 3 for the run; it must notice that `second` wrote since.
  std::vector<Event> c = MakeBatch("run-1", 2, 1);
  Status status = first->Append(c);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(c[0].seq, 5);
}

// A child process appends batches until it is killed with SIGKILL at an arbitrary moment.
// Whatever it managed to commit must be there, whole; nothing of an unfinished batch may be.
TEST(SqliteStoreDurability, KillNineMidAppendLeavesOnlyWholeCommittedBatches) {
  constexpr int kBatchSize = 50;
  std::mt19937 random(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    testing::TempDir dir;
    const std::string path = dir.File("chorus.db");
    ASSERT_TRUE(OpenOrFail(path)->CreateRun(MakeRun("run-k")).ok());

    int acks[2];
    ASSERT_EQ(pipe(acks), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(acks[0]);
      Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
      if (!store) _exit(2);
      for (int batch = 0; batch < 1'000'000; ++batch) {
        std::vector<Event> events = MakeBatch("run-k", batch, kBatchSize);
        if (!(*store)->Append(events).ok()) _exit(3);
        const char ack = 'c';
        if (write(acks[1], &ack, 1) != 1) _exit(4);
      }
      _exit(5);
    }
    close(acks[1]);

    // Let it commit a few batches, then kill it somewhere inside the next ones.
    int acknowledged = 0;
    char buffer[256];
    while (acknowledged < 10) {
      const ssize_t n = read(acks[0], buffer, sizeof buffer);
      ASSERT_GT(n, 0) << "the child stopped before committing 10 batches";
      acknowledged += static_cast<int>(n);
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 5000)(random)));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int wait_status = 0;
    ASSERT_EQ(waitpid(child, &wait_status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wait_status)) << "child exited with " << WEXITSTATUS(wait_status);
    for (ssize_t n; (n = read(acks[0], buffer, sizeof buffer)) > 0;) {
      acknowledged += static_cast<int>(n);
    }
    close(acks[0]);

    std::unique_ptr<Store> store = OpenOrFail(path);
    ASSERT_NE(store, nullptr);
    Result<std::vector<Event>> events = store->LoadEvents("run-k");
    ASSERT_TRUE(events.has_value()) << events.error().ToString();
    ASSERT_EQ(events->size() % kBatchSize, 0u) << "a partial batch survived";
    ASSERT_GE(events->size(), static_cast<size_t>(acknowledged * kBatchSize))
        << "an acknowledged batch was lost";
    for (size_t i = 0; i < events->size(); ++i) {
      const Event& event = (*events)[i];
      ASSERT_EQ(event.seq, static_cast<int64_t>(i + 1));
      ASSERT_THAT(event.payload, HasSubstr("{\"batch\":" + std::to_string(i / kBatchSize) +
                                           ",\"i\":" + std::to_string(i % kBatchSize) + ","));
    }
    // The store keeps working after recovery and continues the sequence.
    std::vector<Event> more = MakeBatch("run-k", -1, 1);
    ASSERT_TRUE(store->Append(more).ok());
    EXPECT_EQ(more[0].seq, static_cast<int64_t>(events->size() + 1));
    store.reset();
    EXPECT_EQ(RawQuery(path, "PRAGMA integrity_check"), "ok");
  }
}

TEST(SqliteStoreFiles, FileThatIsNotADatabaseIsDataLoss) {
  testing::TempDir dir;
  const std::string path = dir.File("notes.db");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "These are meeting notes, not a database.\n";
  WriteFile(path, text);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kDataLoss) << store.error().ToString();
  EXPECT_THAT(store.error().message(), HasSubstr(path));
  EXPECT_THAT(store.error().message(), HasSubstr("not a database"));
}

TEST(SqliteStoreFiles, DamagedHeaderIsDataLoss) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  {
    std::unique_ptr<Store> store = OpenOrFail(path);
    ASSERT_TRUE(store->CreateRun(MakeRun("run-1")).ok());
  }
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.write("garbage-garbage!", 16);  // the 16-byte magic "SQLite format 3\0"
  file.close();
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kDataLoss) << store.error().ToString();
}

TEST(SqliteStoreFiles, CorruptPagesAreDataLossWhenRead) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  {
    std::unique_ptr<Store> store = OpenOrFail(path);
    ASSERT_TRUE(store->CreateRun(MakeRun("run-1")).ok());
    for (int batch = 0; batch < 20; ++batch) {
      std::vector<Event> events = MakeBatch("run-1", batch, 50);
      ASSERT_TRUE(store->Append(events).ok());
    }
  }  // the last connection to close checkpoints the WAL into the file
  const auto size = std::filesystem::file_size(path);
  const auto page_size = static_cast<size_t>(std::stoul(RawQuery(path, "PRAGMA page_size")));
  ASSERT_GT(size, 3 * page_size);
  {
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    // Keep page 1 (the schema) intact, wreck the B-tree pages after it.
    file.seekp(static_cast<std::streamoff>(page_size));
    const std::string noise(size - page_size, '\x5a');
    file.write(noise.data(), static_cast<std::streamsize>(noise.size()));
  }
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  Status status = store ? (*store)->LoadEvents("run-1").error() : store.error();
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(path));
}

TEST(SqliteStoreFiles, NewStoresUseSixteenKilobytePages) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  {
    std::unique_ptr<Store> store = OpenOrFail(path);
    ASSERT_TRUE(store->CreateRun(MakeRun("run-1")).ok());
  }
  EXPECT_EQ(RawQuery(path, "PRAGMA page_size"), "16384");
}

TEST(SqliteStoreFiles, AStoreWithSmallerPagesKeepsThemAndWorks) {
  // A store created before chorus chose 16 KB pages: its page size cannot change in WAL mode,
  // so opening it must leave it alone rather than fail.
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  RawQuery(path, "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL");
  {
    std::unique_ptr<Store> store = OpenOrFail(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateRun(MakeRun("run-1")).ok());
    std::vector<Event> events = MakeBatch("run-1", 0, 100);
    ASSERT_TRUE(store->Append(events).ok());
  }
  EXPECT_EQ(RawQuery(path, "PRAGMA page_size"), "4096");
  std::unique_ptr<Store> reopened = OpenOrFail(path);
  ASSERT_NE(reopened, nullptr);
  Result<std::vector<Event>> loaded = reopened->LoadEvents("run-1");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->size(), 100u);
}

TEST(SqliteStoreFiles, DirectoryIsNotAStore) {
  testing::TempDir dir;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(dir.path().string());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.error().message(), HasSubstr("directory"));
}

TEST(SqliteStoreFiles, ParentThatIsAFileGivesAClearError) {
  testing::TempDir dir;
  WriteFile(dir.File("plain"), "x");
  const std::string path = dir.File("plain/sub/chorus.db");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kFailedPrecondition) << store.error().ToString();
  EXPECT_THAT(store.error().message(), HasSubstr(path));
  EXPECT_THAT(store.error().message(), HasSubstr("directory"));
}

TEST(SqliteStoreFiles, UnwritableDirectoryIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  testing::TempDir dir;
  const std::filesystem::path locked = dir.path() / "locked";
  std::filesystem::create_directory(locked);
  ASSERT_EQ(chmod(locked.c_str(), 0500), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore((locked / "chorus.db").string());
  chmod(locked.c_str(), 0700);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kPermissionDenied) << store.error().ToString();
}

TEST(SqliteStoreFiles, RefusesANewerSchemaVersion) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  OpenOrFail(path);
  RawQuery(path, "PRAGMA user_version = 7");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.error().message(), HasSubstr("found 7"));
  EXPECT_THAT(store.error().message(), HasSubstr(path));
}

TEST(SqliteStoreFiles, RefusesToTakeOverAnotherProgramsDatabase) {
  testing::TempDir dir;
  const std::string path = dir.File("other.db");
  RawQuery(path, "CREATE TABLE contacts (name TEXT)");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM sqlite_schema"), "1");
}

TEST(SqliteStoreLargePayloads, FiftyMegabytePayloadRoundTrips) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  // Varied content (not one repeated byte) so a misplaced overflow page would show.
  std::string payload(50u << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  }
  {
    std::unique_ptr<Store> store = OpenOrFail(path);
    ASSERT_TRUE(store->CreateRun(MakeRun("run-big")).ok());
    std::vector<Event> events(2);
    events[0].run_id = events[1].run_id = "run-big";
    events[0].kind = "llm.response";
    events[0].payload = payload;
    events[1].kind = "step.completed";
    events[1].payload = "{}";
    Status status = store->Append(events);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  std::unique_ptr<Store> store = OpenOrFail(path);
  Result<std::vector<Event>> events = store->LoadEvents("run-big");
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_TRUE((*events)[0].payload == payload) << "50 MB payload differs after the round trip";
  EXPECT_EQ((*events)[1].payload, "{}");
}

}  // namespace
}  // namespace chorus
