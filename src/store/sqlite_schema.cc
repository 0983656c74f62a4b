#include "store/sqlite_schema.h"

#include <string>

#include "store/sqlite_events.h"

namespace chorus::sqlite {
namespace {

// The page cache of each connection, in KiB (see ConfigureConnection).
constexpr int kCacheKiB = 512;

// The runs. Their events live in `event_batches` (store/sqlite_events.h).
constexpr const char* kCreateRuns = R"sql(
CREATE TABLE runs (
  run_id        TEXT PRIMARY KEY NOT NULL,
  team          TEXT NOT NULL,
  team_path     TEXT NOT NULL,
  status        TEXT NOT NULL
                CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
  started_ms    INTEGER NOT NULL,
  finished_ms   INTEGER NOT NULL,
  input_tokens  INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cost_usd      REAL NOT NULL,
  pid           INTEGER NOT NULL
) STRICT;
CREATE INDEX runs_by_started ON runs (started_ms);
)sql";

}  // namespace

Status ConfigureConnection(Database& db, bool in_memory) {
  // Before anything that locks: another process may be holding the write lock right now.
  Status status = db.Exec("PRAGMA busy_timeout = 5000", "open store: set busy_timeout");
  if (!status.ok()) return status;
  if (!in_memory) {
    // Events are appended in large, mostly sequential batches: 16 KB pages write the same
    // bytes to the WAL in a quarter of the frames and syscalls (bench/store_bench.cc). It
    // only takes effect on a new, empty file; an existing store keeps its page size.
    status = db.Exec("PRAGMA page_size = 16384", "open store: set page_size");
    if (!status.ok()) return status;
    Result<Statement> wal = Statement::Prepare(db, "PRAGMA journal_mode = WAL", false);
    if (!wal) return wal.error();
    Result<bool> row = wal->Step("open store: set journal_mode=WAL");
    if (!row) return row.error();
    const std::string mode(*row ? wal->ColumnText(0) : std::string_view());
    if (mode != "wal") {
      return Status::FailedPrecondition("open store " + db.path() +
                                        ": expected journal_mode wal, SQLite switched to '" + mode +
                                        "' (is the file system read-only or remote?)");
    }
  }
  // Appends touch the right edge of two B-trees and loads read rows in order, so a few dozen
  // pages serve both; SQLite's default cache (2 MB) was an eighth of a 1,000-agent run's
  // resident memory.
  return db.Exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = " +
                     std::to_string(-kCacheKiB),
                 "open store: set synchronous, foreign_keys and cache_size");
}

Status EnsureSchema(Database& db) {
  Result<int64_t> version = QueryInt(db, "PRAGMA user_version", "open store: read schema version");
  if (!version) return version.error();
  if (*version == kSchemaVersion) return Status::Ok();
  if (*version > kSchemaVersion) {
    return Status::FailedPrecondition("open store " + db.path() + ": expected schema version " +
                                      std::to_string(kSchemaVersion) + " or older, found " +
                                      std::to_string(*version) +
                                      " (written by a newer chorus; upgrade chorus to read it)");
  }

  // Several processes may open a new file at once: the write lock makes one of them create
  // the schema and the others see it when they re-read the version under the lock.
  Result<Transaction> transaction =
      Transaction::Begin(db, TransactionMode::kImmediate, "create the store schema");
  if (!transaction) return transaction.error();
  version = QueryInt(db, "PRAGMA user_version", "open store: read schema version");
  if (!version) return version.error();
  if (*version == kSchemaVersion) return Status::Ok();
  Status status;
  if (*version == 1) {
    status = MigrateEventRowsToBatches(db);
  } else if (*version != 0) {
    return Status::FailedPrecondition("open store " + db.path() + ": expected schema version " +
                                      std::to_string(kSchemaVersion) + ", found " +
                                      std::to_string(*version) + " while creating the schema");
  } else {
    Result<int64_t> objects =
        QueryInt(db, "SELECT count(*) FROM sqlite_schema", "open store: inspect schema");
    if (!objects) return objects.error();
    if (*objects != 0) {
      return Status::FailedPrecondition(
          "open store " + db.path() + ": expected an empty file or a chorus store, found a " +
          "SQLite database with " + std::to_string(*objects) +
          " schema objects and no chorus schema version; refusing to modify it");
    }
    status = db.Exec(kCreateRuns, "open store: create schema");
    if (status.ok()) status = db.Exec(kCreateEventBatches, "open store: create schema");
  }
  if (!status.ok()) return status;
  status = db.Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion),
                   "open store: record schema version");
  if (!status.ok()) return status;
  return transaction->Commit();
}

}  // namespace chorus::sqlite
