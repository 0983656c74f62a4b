// The SQLite implementation of Store (see chorus/store.h for the contract).
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "chorus/store.h"
#include "store/sqlite_checkpointer.h"
#include "store/sqlite_events.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_util.h"
#include "store/sqlite_vault.h"

namespace chorus {
namespace {

using sqlite::Database;
using sqlite::ScopedReset;
using sqlite::Statement;
using sqlite::Transaction;
using sqlite::TransactionMode;

constexpr size_t kMinPrefixLength = 4;
constexpr int kMaxListedCandidates = 10;
// A checkpoint copies about this much of the WAL at a time, in the background. Small enough
// that a 1,000-agent run's 2.9 MB of events are mostly copied while its synthesis is out.
constexpr int64_t kCheckpointBatchBytes = int64_t{1} << 20;
// SQLite's own automatic checkpoint threshold, kept as the bound if the background falls behind.
constexpr int kInlineCheckpointFrames = 1000;

constexpr const char* kRunColumns =
    "run_id, team, team_path, status, started_ms, finished_ms, input_tokens, output_tokens, "
    "cost_usd, pid";

// The smallest string greater than every string that starts with `prefix`, or "" when there
// is none (a prefix of only 0xff bytes). Text compares bytewise (BINARY collation).
std::string PrefixUpperBound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty() && static_cast<unsigned char>(bound.back()) == 0xff) bound.pop_back();
  if (!bound.empty()) {
    bound.back() = static_cast<char>(static_cast<unsigned char>(bound.back()) + 1);
  }
  return bound;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  Status Prepare() {
    const std::string select_runs = std::string("SELECT ") + kRunColumns + " FROM runs ";
    const std::pair<Statement*, std::string> statements[] = {
        {&insert_run_, std::string("INSERT INTO runs (") + kRunColumns +
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
        {&update_run_,
         "UPDATE runs SET status = ?2, finished_ms = ?3, input_tokens = ?4, output_tokens = ?5, "
         "cost_usd = ?6, pid = ?7 WHERE run_id = ?1"},
        {&run_exists_, "SELECT 1 FROM runs WHERE run_id = ?1"},
        // rowid breaks ties in start time by creation order, and is part of the index.
        {&list_runs_, select_runs + "ORDER BY started_ms DESC, rowid DESC LIMIT ?1"},
        {&find_exact_, select_runs + "WHERE run_id = ?1"},
        {&find_prefix_,
         select_runs + "WHERE run_id >= ?1 AND run_id < ?2 ORDER BY run_id LIMIT ?3"},
    };
    for (const auto& [slot, sql] : statements) {
      Result<Statement> statement = Statement::Prepare(*db_, sql);
      if (!statement) return statement.error();
      *slot = std::move(*statement);
    }
    return events_.Prepare(*db_);
  }

  Status CreateRun(const RunRecord& run) override {
    if (run.run_id.empty()) {
      return Status::InvalidArgument("create run in " + db_->path() +
                                     ": expected a run id, got an empty one");
    }
    ScopedReset reset(insert_run_);
    insert_run_.BindText(1, run.run_id);
    insert_run_.BindText(2, run.team);
    insert_run_.BindText(3, run.team_path);
    insert_run_.BindText(4, RunStatusName(run.status));
    insert_run_.BindInt(5, run.started_ms);
    insert_run_.BindInt(6, run.finished_ms);
    insert_run_.BindInt(7, run.input_tokens);
    insert_run_.BindInt(8, run.output_tokens);
    insert_run_.BindDouble(9, run.cost_usd);
    insert_run_.BindInt(10, run.pid);
    Status status = insert_run_.Run("create run " + run.run_id);
    const int error = sqlite3_extended_errcode(db_->handle());
    if (!status.ok() &&
        (error == SQLITE_CONSTRAINT_PRIMARYKEY || error == SQLITE_CONSTRAINT_UNIQUE)) {
      return Status::FailedPrecondition("create run " + run.run_id + " in " + db_->path() +
                                        ": a run with this id already exists");
    }
    return status;
  }

  Status UpdateRun(const RunRecord& run) override {
    ScopedReset reset(update_run_);
    update_run_.BindText(1, run.run_id);
    update_run_.BindText(2, RunStatusName(run.status));
    update_run_.BindInt(3, run.finished_ms);
    update_run_.BindInt(4, run.input_tokens);
    update_run_.BindInt(5, run.output_tokens);
    update_run_.BindDouble(6, run.cost_usd);
    update_run_.BindInt(7, run.pid);
    Status status = update_run_.Run("update run " + run.run_id);
    if (!status.ok()) return status;
    if (sqlite3_changes(db_->handle()) == 0) {
      return Status::NotFound("update run in " + db_->path() + ": expected run '" + run.run_id +
                              "' to exist, found no such run");
    }
    return Status::Ok();
  }

  Status Append(std::span<Event> events) override { return events_.Append(events); }

  Result<std::vector<Event>> LoadEvents(const std::string& run_id) override {
    Result<std::vector<Event>> events = events_.Load(run_id);
    if (!events) return events;
    if (events->empty()) {
      Result<bool> exists = RunExists(run_id, "load events of run " + run_id);
      if (!exists) return Err(exists.error());
      if (!*exists) {
        return Err(Status::NotFound("load events from " + db_->path() + ": expected run '" +
                                    run_id + "' to exist, found no such run"));
      }
    }
    return events;
  }

  Result<std::vector<RunRecord>> ListRuns(int limit) override {
    ScopedReset reset(list_runs_);
    list_runs_.BindInt(1, limit > 0 ? limit : -1);  // a negative LIMIT means no limit
    return ReadRuns(list_runs_, "list runs");
  }

  Result<RunRecord> FindRun(const std::string& id_or_prefix) override;

  Status PrepareVault() { return vault_.Prepare(*db_); }

  // Copies the WAL into the database file off this thread as it grows (sqlite_checkpointer.h).
  Status StartCheckpointing() {
    Result<int64_t> page_size =
        sqlite::QueryInt(*db_, "PRAGMA page_size", "open store: read page_size");
    if (!page_size) return page_size.error();
    const int batch = static_cast<int>(kCheckpointBatchBytes / std::max<int64_t>(*page_size, 512));
    checkpointer_ = std::make_unique<sqlite::WalCheckpointer>(db_.get(), std::max(batch, 1),
                                                              kInlineCheckpointFrames);
    return Status::Ok();
  }
  Status SaveVault(const std::string& run_id, std::span<const VaultRecord> records) override {
    return vault_.Save(run_id, records);
  }
  Result<std::vector<VaultRecord>> LoadVault(const std::string& run_id) override {
    return vault_.Load(run_id);
  }

 private:
  Result<bool> RunExists(const std::string& run_id, std::string_view operation) {
    ScopedReset reset(run_exists_);
    run_exists_.BindText(1, run_id);
    return run_exists_.Step(operation);
  }

  Result<RunRecord> ReadRun(const Statement& statement) const {
    RunRecord run;
    run.run_id = statement.ColumnText(0);
    run.team = statement.ColumnText(1);
    run.team_path = statement.ColumnText(2);
    const std::string_view status = statement.ColumnText(3);
    std::optional<RunStatus> parsed = ParseRunStatus(status);
    if (!parsed) {
      return Err(Status::DataLoss("read run " + run.run_id + " from " + db_->path() +
                                  ": expected status running, completed, failed or "
                                  "interrupted, found '" +
                                  std::string(status) + "'"));
    }
    run.status = *parsed;
    run.started_ms = statement.ColumnInt(4);
    run.finished_ms = statement.ColumnInt(5);
    run.input_tokens = statement.ColumnInt(6);
    run.output_tokens = statement.ColumnInt(7);
    run.cost_usd = statement.ColumnDouble(8);
    run.pid = statement.ColumnInt(9);
    return run;
  }

  // Reads every row of an already bound statement; the caller resets it.
  Result<std::vector<RunRecord>> ReadRuns(Statement& statement, std::string_view operation) {
    std::vector<RunRecord> runs;
    while (true) {
      Result<bool> row = statement.Step(operation);
      if (!row) return Err(row.error());
      if (!*row) return runs;
      Result<RunRecord> run = ReadRun(statement);
      if (!run) return Err(run.error());
      runs.push_back(std::move(*run));
    }
  }

  // Declared first so that it is destroyed last, after the statements prepared on it.
  std::unique_ptr<Database> db_;
  // Stopped before the connection closes, so that the close checkpoints what is left alone.
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer_;
  Statement insert_run_;
  Statement update_run_;
  Statement run_exists_;
  Statement list_runs_;
  Statement find_exact_;
  Statement find_prefix_;
  sqlite::EventTable events_;
  sqlite::VaultTable vault_;
};

Result<RunRecord> SqliteStore::FindRun(const std::string& id_or_prefix) {
  if (id_or_prefix.empty()) {
    return Err(Status::InvalidArgument("find run in " + db_->path() +
                                       ": expected a run id or prefix, got an empty string"));
  }
  {
    ScopedReset reset(find_exact_);
    find_exact_.BindText(1, id_or_prefix);
    Result<bool> row = find_exact_.Step("find run " + id_or_prefix);
    if (!row) return Err(row.error());
    if (*row) return ReadRun(find_exact_);
  }
  if (id_or_prefix.size() < kMinPrefixLength) {
    return Err(Status::NotFound("find run in " + db_->path() + ": no run has id '" + id_or_prefix +
                                "', and a prefix needs at least " +
                                std::to_string(kMinPrefixLength) + " characters"));
  }

  const std::string upper = PrefixUpperBound(id_or_prefix);
  Result<std::vector<RunRecord>> matches;
  {
    ScopedReset reset(find_prefix_);
    find_prefix_.BindText(1, id_or_prefix);
    if (upper.empty()) {
      // No text bounds this prefix from above, but SQLite sorts every blob after every text.
      find_prefix_.BindBlob(2, "");
    } else {
      find_prefix_.BindText(2, upper);
    }
    find_prefix_.BindInt(3, kMaxListedCandidates + 1);
    matches = ReadRuns(find_prefix_, "find run by prefix " + id_or_prefix);
  }
  if (!matches) return Err(matches.error());
  if (matches->size() == 1) return std::move(matches->front());
  if (matches->empty()) {
    return Err(Status::NotFound("find run in " + db_->path() + ": no run id is or starts with '" +
                                id_or_prefix + "'"));
  }
  std::string candidates;
  const size_t listed = std::min(matches->size(), static_cast<size_t>(kMaxListedCandidates));
  for (size_t i = 0; i < listed; ++i) {
    if (i > 0) candidates += ", ";
    candidates += (*matches)[i].run_id;
  }
  if (matches->size() > listed) candidates += ", ...";
  return Err(Status::InvalidArgument("find run in " + db_->path() + ": expected prefix '" +
                                     id_or_prefix + "' to match one run, it matches " + candidates +
                                     "; give more characters"));
}

Status DirectoryError(const std::filesystem::path& directory, const std::string& path,
                      const std::error_code& error) {
  std::string message = "open store " + path + ": cannot create its directory " +
                        directory.string() + ": " + error.message();
  if (error == std::errc::permission_denied || error == std::errc::operation_not_permitted ||
      error == std::errc::read_only_file_system) {
    return Status::PermissionDenied(std::move(message));
  }
  return Status::FailedPrecondition(std::move(message));
}

// SQLite reports an unwritable location as a bare SQLITE_CANTOPEN, often with an unrelated
// errno, and silently opens a read-only file read-only; checking first gives a clear error.
// The store also needs to create the -wal and -shm files beside the database.
Status CheckAccess(const std::filesystem::path& file) {
  const std::filesystem::path directory = file.has_parent_path() ? file.parent_path() : ".";
  if (access(directory.c_str(), W_OK | X_OK) != 0) {
    return Status::PermissionDenied("open store " + file.string() +
                                    ": expected a writable directory for the database and its "
                                    "WAL files, found " +
                                    directory.string() + " is not (" + std::strerror(errno) + ")");
  }
  if (access(file.c_str(), F_OK) == 0 && access(file.c_str(), R_OK | W_OK) != 0) {
    return Status::PermissionDenied("open store " + file.string() +
                                    ": expected a readable and writable file (" +
                                    std::strerror(errno) + ")");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  if (path.empty()) {
    return Err(Status::InvalidArgument("open store: expected a database path, got an empty one"));
  }
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    const std::filesystem::path file(path);
    std::error_code error;
    if (std::filesystem::is_directory(file, error)) {
      return Err(Status::InvalidArgument("open store " + path +
                                         ": expected a SQLite database file, found a directory"));
    }
    const std::filesystem::path directory = file.parent_path();
    if (!directory.empty() && !std::filesystem::is_directory(directory, error)) {
      std::filesystem::create_directories(directory, error);
      if (error) return Err(DirectoryError(directory, path, error));
    }
    if (Status status = CheckAccess(file); !status.ok()) return Err(std::move(status));
  }

  Result<std::unique_ptr<Database>> db =
      Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db) return Err(db.error());
  if (Status status = sqlite::ConfigureConnection(**db, in_memory); !status.ok()) {
    return Err(std::move(status));
  }
  if (Status status = sqlite::EnsureSchema(**db); !status.ok()) return Err(std::move(status));
  auto store = std::make_unique<SqliteStore>(std::move(*db));
  if (Status status = store->Prepare(); !status.ok()) return Err(std::move(status));
  if (Status status = store->PrepareVault(); !status.ok()) return Err(std::move(status));
  if (!in_memory) {
    if (Status status = store->StartCheckpointing(); !status.ok()) return Err(std::move(status));
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace chorus
