// The `vault` table of the SQLite store: each run's pseudonym <-> value pairs.
//
// The table is additive: it is created when missing on every open, so stores written before
// it existed gain it and older builds, which never read it, are unaffected; the schema
// version does not change. Rows are deleted with their run. Same threading contract as the
// connection it is prepared on.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "chorus/store.h"
#include "store/sqlite_util.h"

namespace chorus::sqlite {

class VaultTable {
 public:
  // Creates the table if needed and prepares the statements.
  Status Prepare(Database& db);
  Status Save(const std::string& run_id, std::span<const VaultRecord> records);
  Result<std::vector<VaultRecord>> Load(const std::string& run_id);

 private:
  Database* db_ = nullptr;
  Statement insert_;
  Statement load_;
};

}  // namespace chorus::sqlite
