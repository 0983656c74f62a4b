// The SQLite store's connection settings and schema, versioned through PRAGMA user_version.
//
// Functions here run on a connection owned by the caller's thread; they share its contract.
#pragma once

#include "chorus/status.h"
#include "store/sqlite_util.h"

namespace chorus::sqlite {

// The schema this build reads and writes. Bump it together with a migration in
// EnsureSchema; a store written by a newer chorus is refused rather than misread.
// 1: a row per event. 2: a row per run of consecutive events (store/sqlite_events.h).
inline constexpr int kSchemaVersion = 2;

// busy_timeout, WAL (except for ":memory:"), synchronous=NORMAL, foreign keys. This is the
// first statement that reads the file, so a file that is not a database fails here.
Status ConfigureConnection(Database& db, bool in_memory);

// Creates the schema in an empty database, accepts the current version, migrates version 1,
// and refuses a newer version or a SQLite database that some other program owns.
Status EnsureSchema(Database& db);

}  // namespace chorus::sqlite
