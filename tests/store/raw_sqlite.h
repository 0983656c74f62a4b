// Helpers for tests that look at a store's file from outside: opening it as a Store, and
// running SQL on it through a plain SQLite connection that bypasses the store.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "chorus/store.h"

namespace chorus::testing {

inline std::unique_ptr<Store> OpenOrFail(const std::string& path) {
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return store ? std::move(*store) : nullptr;
}

// The first column of every row the SQL returns, joined by '|'.
inline std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string result;
  char* error = nullptr;
  const int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int, char** values, char**) {
        auto* text = static_cast<std::string*>(out);
        if (!text->empty()) *text += "|";
        *text += values[0] != nullptr ? values[0] : "NULL";
        return 0;
      },
      &result, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
  return result;
}

}  // namespace chorus::testing
