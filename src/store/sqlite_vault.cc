#include "store/sqlite_vault.h"

namespace chorus::sqlite {
namespace {

constexpr const char* kCreateVault = R"sql(
CREATE TABLE IF NOT EXISTS vault (
  run_id    TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  pseudonym TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  type      TEXT NOT NULL,
  label     TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (run_id, pseudonym)
) STRICT, WITHOUT ROWID;
)sql";

}  // namespace

Status VaultTable::Prepare(Database& db) {
  db_ = &db;
  if (Status s = db.Exec(kCreateVault, "open store: create the vault table"); !s.ok()) return s;
  Result<Statement> insert = Statement::Prepare(
      db,
      "INSERT INTO vault (run_id, pseudonym, seq, type, label, value) VALUES (?1, ?2, "
      "(SELECT count(*) FROM vault WHERE run_id = ?1), ?3, ?4, ?5) ON CONFLICT DO NOTHING");
  if (!insert) return insert.error();
  Result<Statement> load = Statement::Prepare(
      db, "SELECT pseudonym, type, label, value FROM vault WHERE run_id = ?1 ORDER BY seq");
  if (!load) return load.error();
  insert_ = std::move(*insert);
  load_ = std::move(*load);
  return Status::Ok();
}

Status VaultTable::Save(const std::string& run_id, std::span<const VaultRecord> records) {
  if (records.empty()) return Status::Ok();
  Result<Transaction> transaction =
      Transaction::Begin(*db_, TransactionMode::kImmediate, "save the vault of run " + run_id);
  if (!transaction) return transaction.error();
  for (const VaultRecord& r : records) {
    ScopedReset reset(insert_);
    insert_.BindText(1, run_id);
    insert_.BindText(2, r.pseudonym);
    insert_.BindText(3, r.type);
    insert_.BindText(4, r.label);
    insert_.BindText(5, r.value);
    // The value is never part of an error message: errors reach stderr and logs.
    if (Status s = insert_.Run("save the vault of run " + run_id); !s.ok()) return s;
  }
  return transaction->Commit();
}

Result<std::vector<VaultRecord>> VaultTable::Load(const std::string& run_id) {
  ScopedReset reset(load_);
  load_.BindText(1, run_id);
  std::vector<VaultRecord> out;
  while (true) {
    Result<bool> row = load_.Step("load the vault of run " + run_id);
    if (!row) return Err(row.error());
    if (!*row) break;
    out.push_back(VaultRecord{std::string(load_.ColumnText(0)), std::string(load_.ColumnText(3)),
                              std::string(load_.ColumnText(1)), std::string(load_.ColumnText(2))});
  }
  return out;
}

}  // namespace chorus::sqlite
