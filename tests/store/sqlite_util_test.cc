// The RAII helpers under the SQLite store: transactions, statements, error mapping.
#include "store/sqlite_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace chorus::sqlite {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Database> OpenMemory() {
  Result<std::unique_ptr<Database>> db =
      Database::Open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  EXPECT_TRUE(db.has_value()) << db.error().ToString();
  EXPECT_TRUE((*db)->Exec("CREATE TABLE t (v TEXT NOT NULL)", "create table").ok());
  return std::move(*db);
}

int64_t Count(Database& db) {
  Result<Statement> count = Statement::Prepare(db, "SELECT count(*) FROM t");
  EXPECT_TRUE(count.has_value());
  EXPECT_TRUE(*count->Step("count"));
  return count->ColumnInt(0);
}

TEST(SqliteTransaction, RollsBackUnlessCommitted) {
  std::unique_ptr<Database> db = OpenMemory();
  {
    Result<Transaction> transaction = Transaction::Begin(*db, TransactionMode::kImmediate, "t");
    ASSERT_TRUE(transaction.has_value());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES ('dropped')", "insert").ok());
  }
  EXPECT_EQ(Count(*db), 0);
  {
    Result<Transaction> transaction = Transaction::Begin(*db, TransactionMode::kDeferred, "t");
    ASSERT_TRUE(transaction.has_value());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES ('kept')", "insert").ok());
    ASSERT_TRUE(transaction->Commit().ok());
    EXPECT_EQ(transaction->Commit().code(), StatusCode::kInternal) << "second commit";
  }
  EXPECT_EQ(Count(*db), 1);
}

TEST(SqliteStatement, ReusesAfterResetAndReportsConstraintFailures) {
  std::unique_ptr<Database> db = OpenMemory();
  Result<Statement> insert = Statement::Prepare(*db, "INSERT INTO t VALUES (?1)");
  ASSERT_TRUE(insert.has_value());
  for (const char* value : {"a", "b"}) {
    insert->BindText(1, value);
    ASSERT_TRUE(insert->Run("insert value").ok());
    insert->Reset();
  }
  EXPECT_EQ(Count(*db), 2);
  insert->BindNull(1);
  Status status = insert->Run("insert value");
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("insert value on :memory:"));
  EXPECT_THAT(status.message(), HasSubstr("NOT NULL constraint failed"));
}

TEST(SqliteStatement, BindFailureIsReportedByTheNextStep) {
  std::unique_ptr<Database> db = OpenMemory();
  Result<Statement> insert = Statement::Prepare(*db, "INSERT INTO t VALUES (?1)");
  ASSERT_TRUE(insert.has_value());
  insert->BindText(1, "fine");
  insert->BindText(2, "no such parameter");
  Status status = insert->Run("insert value");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("binding a parameter failed"));
  insert->Reset();
  insert->BindText(1, "fine");
  EXPECT_TRUE(insert->Run("insert value").ok()) << "Reset clears the remembered failure";
}

TEST(SqliteStatement, PrepareErrorQuotesTheSql) {
  std::unique_ptr<Database> db = OpenMemory();
  Result<Statement> bad = Statement::Prepare(*db, "SELEKT 1");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message(), HasSubstr("SELEKT 1"));
  EXPECT_THAT(bad.error().message(), HasSubstr("syntax error"));
}

TEST(SqliteErrorStatus, MapsResultCodesOntoStatusCodes) {
  EXPECT_EQ(ErrorStatus(SQLITE_NOTADB, 0, "op", "p", "d").code(), StatusCode::kDataLoss);
  EXPECT_EQ(ErrorStatus(SQLITE_CORRUPT_INDEX, 0, "op", "p", "d").code(), StatusCode::kDataLoss);
  EXPECT_EQ(ErrorStatus(SQLITE_BUSY_SNAPSHOT, 0, "op", "p", "d").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ErrorStatus(SQLITE_FULL, ENOSPC, "op", "p", "d").code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorStatus(SQLITE_CANTOPEN, EACCES, "op", "p", "d").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorStatus(SQLITE_CONSTRAINT_UNIQUE, 0, "op", "p", "d").code(),
            StatusCode::kFailedPrecondition);
  Status status = ErrorStatus(SQLITE_IOERR_WRITE, EIO, "append events", "/x/chorus.db", "disk");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("append events on /x/chorus.db: disk"));
  EXPECT_THAT(status.message(), HasSubstr("OS error"));
}

}  // namespace
}  // namespace chorus::sqlite
