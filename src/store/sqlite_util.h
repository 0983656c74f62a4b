// Thin RAII layer over the SQLite C API: a connection, a prepared statement, a transaction.
//
// Every failure comes back as a Status whose message names the operation, the database path
// and what SQLite said, with the SQLite result code mapped onto chorus's StatusCode (a file
// that is not a database or is corrupt is kDataLoss, a busy database kUnavailable, ...).
// Nothing here throws. None of these types is internally synchronized: a connection and its
// statements belong to one thread at a time (the store opens connections with NOMUTEX).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "chorus/status.h"

namespace chorus::sqlite {

// Maps a SQLite result code (primary or extended) and the OS errno behind it to a Status.
// `operation` says what was being done ("append events"), `detail` is SQLite's message.
Status ErrorStatus(int result_code, int system_errno, std::string_view operation,
                   std::string_view path, std::string_view detail);

class Database {
 public:
  // Opens `path` with the given sqlite3_open_v2 flags. The connection uses extended result
  // codes so that constraint failures can be told apart.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, int flags);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  // Statements prepared on this connection must be destroyed first.
  ~Database();

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs one or more SQL statements that return no rows the caller needs.
  Status Exec(std::string_view sql, std::string_view operation);
  // The Status for `result_code`, using the connection's current error message.
  Status Error(int result_code, std::string_view operation) const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
};

// A prepared statement. Text and blob parameters are bound without copying: the bound bytes
// must outlive the statement's next Reset. A bind failure (a value too large, say) is
// remembered and reported by the following Step, so call sites can bind without checking.
class Statement {
 public:
  // `persistent` hints that the statement is cached and reused many times.
  static Result<Statement> Prepare(const Database& db, std::string_view sql,
                                   bool persistent = true);

  Statement() = default;  // empty until a prepared statement is moved in
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1, as in SQLite.
  void BindInt(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::string_view value);
  void BindNull(int index);

  // true when a row is ready, false when the statement has finished.
  Result<bool> Step(std::string_view operation);
  // Step for statements that produce no rows; a row is an error.
  Status Run(std::string_view operation);
  // Rewinds the statement and clears its bindings, ending any read it holds open.
  void Reset();

  // Columns are numbered from 0, as in SQLite.
  int64_t ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
  double ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }
  bool ColumnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  // Valid until the next Step or Reset.
  std::string_view ColumnText(int column) const;
  std::string_view ColumnBlob(int column) const;

 private:
  Statement(const Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int result_code);

  const Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

// Resets a (usually cached) statement when the scope ends, so that an early return never
// leaves it holding a read snapshot or dangling bindings.
class ScopedReset {
 public:
  explicit ScopedReset(Statement& statement) : statement_(statement) {}
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;
  ~ScopedReset() { statement_.Reset(); }

 private:
  Statement& statement_;
};

enum class TransactionMode {
  kDeferred,   // takes locks on first use; for reads
  kImmediate,  // takes the write lock up front, so a writer never fails half-way on BUSY
};

// A transaction that rolls back unless committed.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db, TransactionMode mode, std::string_view operation);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status Commit();

 private:
  Transaction(Database* db, std::string_view operation) : db_(db), operation_(operation) {}

  Database* db_;  // null once committed or moved from
  std::string operation_;
};

// The first column of the one row `sql` returns (a PRAGMA, a count); Internal when it
// returns none.
Result<int64_t> QueryInt(Database& db, const char* sql, std::string_view operation);

}  // namespace chorus::sqlite
