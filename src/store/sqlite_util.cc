#include "store/sqlite_util.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace chorus::sqlite {
namespace {

StatusCode CodeFor(int result_code, int system_errno) {
  switch (result_code & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return StatusCode::kDataLoss;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
      return StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return StatusCode::kResourceExhausted;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return StatusCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
      switch (system_errno) {
        case EACCES:
        case EPERM:
        case EROFS:
          return StatusCode::kPermissionDenied;
        case ENOENT:
          return StatusCode::kNotFound;
        case EISDIR:
        case ENOTDIR:
          return StatusCode::kInvalidArgument;
        default:
          return StatusCode::kUnavailable;
      }
    case SQLITE_CONSTRAINT:
      return StatusCode::kFailedPrecondition;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return StatusCode::kInvalidArgument;
    case SQLITE_INTERRUPT:
      return StatusCode::kCancelled;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

Status ErrorStatus(int result_code, int system_errno, std::string_view operation,
                   std::string_view path, std::string_view detail) {
  std::string message;
  message.append(operation).append(" on ").append(path).append(": ").append(detail);
  message.append(" (SQLite result ").append(std::to_string(result_code));
  // The errno only explains I/O-level failures; elsewhere it is stale noise.
  const int primary = result_code & 0xff;
  if (system_errno != 0 && (primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR ||
                            primary == SQLITE_FULL || primary == SQLITE_READONLY)) {
    message.append(", OS error: ").append(std::strerror(system_errno));
  }
  message.append(")");
  return Status(CodeFor(result_code, system_errno), std::move(message));
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = ErrorStatus(rc, db != nullptr ? sqlite3_system_errno(db) : 0, "open database",
                                path, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);  // a handle is returned even on failure, except out of memory
    return Err(std::move(status));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Database>(new Database(db, path));
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::Exec(std::string_view sql, std::string_view operation) {
  // sqlite3_exec wants a NUL-terminated string; the SQL here is short.
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, operation);
  return Status::Ok();
}

Status Database::Error(int result_code, std::string_view operation) const {
  return ErrorStatus(result_code, sqlite3_system_errno(db_), operation, path_, sqlite3_errmsg(db_));
}

Result<Statement> Statement::Prepare(const Database& db, std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    std::string operation = "prepare statement \"";
    operation.append(sql).append("\"");
    return Err(db.Error(rc, operation));
  }
  return Statement(&db, stmt);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::NoteBind(int result_code) {
  if (result_code != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = result_code;
}

void Statement::BindInt(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::BindDouble(int index, double value) {
  NoteBind(sqlite3_bind_double(stmt_, index, value));
}

void Statement::BindText(int index, std::string_view value) {
  // SQLITE_STATIC: no copy, which matters for multi-megabyte payloads; the caller keeps the
  // bytes alive until Reset. A NULL data pointer would bind SQL NULL, hence the "" fallback.
  NoteBind(sqlite3_bind_text64(stmt_, index, value.data() != nullptr ? value.data() : "",
                               value.size(), SQLITE_STATIC, SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::string_view value) {
  // A NULL data pointer would bind SQL NULL instead of an empty blob.
  NoteBind(sqlite3_bind_blob64(stmt_, index, value.data() != nullptr ? value.data() : "",
                               value.size(), SQLITE_STATIC));
}

void Statement::BindNull(int index) { NoteBind(sqlite3_bind_null(stmt_, index)); }

Result<bool> Statement::Step(std::string_view operation) {
  if (bind_error_ != SQLITE_OK) {
    return Err(
        ErrorStatus(bind_error_, 0, operation, db_->path(),
                    std::string("binding a parameter failed: ") + sqlite3_errstr(bind_error_)));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Err(db_->Error(rc, operation));
}

Status Statement::Run(std::string_view operation) {
  Result<bool> row = Step(operation);
  if (!row) return row.error();
  if (*row) {
    return Status::Internal(std::string(operation) + " on " + db_->path() +
                            ": expected a statement without result rows, got a row");
  }
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

std::string_view Statement::ColumnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string_view Statement::ColumnBlob(int column) const {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (bytes == nullptr) return {};
  return {bytes, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

Result<Transaction> Transaction::Begin(Database& db, TransactionMode mode,
                                       std::string_view operation) {
  Status begun = db.Exec(mode == TransactionMode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN",
                         std::string("begin transaction to ").append(operation));
  if (!begun.ok()) return Err(std::move(begun));
  return Transaction(&db, operation);
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), operation_(std::move(other.operation_)) {}

Transaction::~Transaction() {
  // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, ...); then the
  // connection is back in autocommit mode and there is nothing left to undo. A failed
  // ROLLBACK cannot be reported from here; SQLite then rolls back when the connection closes.
  if (db_ != nullptr && sqlite3_get_autocommit(db_->handle()) == 0) {
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Status Transaction::Commit() {
  if (db_ == nullptr) {
    return Status::Internal("commit to " + operation_ + ": the transaction is no longer open");
  }
  Status committed = db_->Exec("COMMIT", std::string("commit transaction to ") + operation_);
  if (committed.ok()) db_ = nullptr;
  return committed;
}

Result<int64_t> QueryInt(Database& db, const char* sql, std::string_view operation) {
  Result<Statement> statement = Statement::Prepare(db, sql, /*persistent=*/false);
  if (!statement) return Err(statement.error());
  Result<bool> row = statement->Step(operation);
  if (!row) return Err(row.error());
  if (!*row) {
    return Err(Status::Internal(std::string(operation) + " on " + db.path() +
                                ": expected one row, got none"));
  }
  return statement->ColumnInt(0);
}

}  // namespace chorus::sqlite
