#include "store/sqlite_events.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "store/event_batch.h"

namespace chorus::sqlite {
namespace {

// A row's body stops growing past this (an event larger than it gets a row of its own). While
// a row is written its bytes are held about three times (the body, SQLite's record, its
// pages): with rows of up to a megabyte, a 1,000-agent run's peak memory grew by 2 MB. At
// 128 KB a row still carries a hundred or more events, so its insert costs next to nothing
// per event.
constexpr size_t kMaxRowBytes = size_t{1} << 17;

// A rowid table: rows are up to hundreds of kilobytes, and SQLite keeps a WITHOUT ROWID table's
// rows in an index B-tree, which holds less of a row per page and is slower to split (its
// appends cost 1.8 times the CPU in bench/store_bench.cc). The price: a commit writes a page
// of the table and one of the index, so commits of a single event are about a third slower.
// Rows of one run never overlap in seq, so the row with the greatest first_seq holds the
// run's last event.
constexpr const char* kCreateSql = R"sql(
CREATE TABLE event_batches (
  run_id    TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  first_seq INTEGER NOT NULL CHECK (first_seq > 0),
  last_seq  INTEGER NOT NULL,
  events    BLOB NOT NULL,
  CHECK (last_seq >= first_seq)
) STRICT;
CREATE UNIQUE INDEX event_batches_by_seq ON event_batches (run_id, first_seq);
)sql";

// At least what AppendToBatch writes for `e`: its four strings, and five varints of at most
// ten bytes.
size_t EncodedSizeBound(const Event& e) {
  return e.kind.size() + e.step.size() + e.agent.size() + e.payload.size() + 50;
}

}  // namespace

const char* const kCreateEventBatches = kCreateSql;

namespace {

constexpr const char* kMigration = "open store: move the events of schema version 1 into rows";
constexpr const char* kSelectVersion1 =
    "SELECT run_id, seq, ts_ms, kind, step, agent, payload FROM events ORDER BY run_id, seq";

// The current row of a statement over the version 1 table, as an Event.
Event Version1Event(const Statement& read) {
  Event e;
  e.run_id = read.ColumnText(0);
  e.seq = read.ColumnInt(1);
  e.ts_ms = read.ColumnInt(2);
  e.kind = read.ColumnText(3);
  e.step = read.ColumnText(4);
  e.agent = read.ColumnText(5);
  e.payload = read.ColumnText(6);
  return e;
}

Status CopyVersion1Rows(Database& db) {
  Result<Statement> read = Statement::Prepare(db, kSelectVersion1, /*persistent=*/false);
  if (!read) return read.error();
  Result<Statement> insert = Statement::Prepare(
      db, "INSERT INTO event_batches (run_id, first_seq, last_seq, events) VALUES (?1, ?2, ?3, ?4)",
      false);
  if (!insert) return insert.error();
  std::string run_id;
  int64_t first_seq = 0, last_seq = 0;
  std::string body;
  auto flush = [&]() -> Status {
    if (body.empty()) return Status::Ok();
    ScopedReset reset(*insert);
    insert->BindText(1, run_id);
    insert->BindInt(2, first_seq);
    insert->BindInt(3, last_seq);
    insert->BindBlob(4, body);  // bound without a copy: cleared only once inserted
    Status inserted = insert->Run(kMigration);
    body.clear();
    return inserted;
  };
  while (true) {
    Result<bool> row = read->Step(kMigration);
    if (!row) return row.error();
    if (!*row) break;
    Event e = Version1Event(*read);
    if (e.run_id != run_id || e.seq != last_seq + 1 || body.size() >= kMaxRowBytes) {
      if (Status s = flush(); !s.ok()) return s;
      run_id = e.run_id;
      first_seq = e.seq;
    }
    last_seq = e.seq;
    AppendToBatch(body, e);
  }
  return flush();
}

// Reads the new rows back and compares every event with the row it came from, before the old
// table goes: a migration that would lose or change one event fails, and the store stays as
// it was (the caller's transaction is rolled back).
Status VerifyCopiedRows(Database& db) {
  Result<Statement> old_rows = Statement::Prepare(db, kSelectVersion1, false);
  if (!old_rows) return old_rows.error();
  Result<Statement> new_rows = Statement::Prepare(
      db,
      "SELECT run_id, first_seq, last_seq, events FROM event_batches ORDER BY run_id, first_seq",
      false);
  if (!new_rows) return new_rows.error();
  auto differs = [&](const std::string& what) {
    return Status::DataLoss("open store " + db.path() + ": moving the events of schema version " +
                            "1 into rows would change them (" + what +
                            "); the store was left as it was");
  };
  std::vector<Event> decoded;
  while (true) {
    Result<bool> row = new_rows->Step(kMigration);
    if (!row) return row.error();
    if (!*row) break;
    decoded.clear();
    const std::string run_id(new_rows->ColumnText(0));
    Status status = DecodeBatch(new_rows->ColumnBlob(3), run_id, new_rows->ColumnInt(1),
                                new_rows->ColumnInt(2), db.path(), &decoded);
    if (!status.ok()) return differs(status.message());
    for (const Event& e : decoded) {
      Result<bool> old_row = old_rows->Step(kMigration);
      if (!old_row) return old_row.error();
      if (!*old_row) return differs("event " + std::to_string(e.seq) + " of run " + run_id);
      const Event o = Version1Event(*old_rows);
      if (o.run_id != e.run_id || o.seq != e.seq || o.ts_ms != e.ts_ms || o.kind != e.kind ||
          o.step != e.step || o.agent != e.agent || o.payload != e.payload) {
        return differs("event " + std::to_string(o.seq) + " of run " + o.run_id);
      }
    }
  }
  Result<bool> left = old_rows->Step(kMigration);
  if (!left) return left.error();
  if (*left) return differs("event " + std::to_string(old_rows->ColumnInt(1)) + " is missing");
  return Status::Ok();
}

}  // namespace

Status MigrateEventRowsToBatches(Database& db) {
  if (Status s = db.Exec(kCreateEventBatches, kMigration); !s.ok()) return s;
  if (Status s = CopyVersion1Rows(db); !s.ok()) return s;
  if (Status s = VerifyCopiedRows(db); !s.ok()) return s;
  return db.Exec("DROP TABLE events", kMigration);
}

Status EventTable::Prepare(Database& db) {
  db_ = &db;
  const std::pair<Statement*, const char*> statements[] = {
      {&insert_,
       "INSERT INTO event_batches (run_id, first_seq, last_seq, events) VALUES (?1, ?2, ?3, ?4)"},
      {&next_seq_,
       "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = ?1), "
       "(SELECT last_seq FROM event_batches WHERE run_id = ?1 ORDER BY first_seq DESC LIMIT 1)"},
      // Of run ?1's rows, the one that starts last at or before seq ?2: the only one that can
      // overlap a stretch of seqs ending at ?2 (the rows of a run are disjoint).
      {&overlap_,
       "SELECT first_seq, last_seq FROM event_batches WHERE run_id = ?1 AND first_seq <= ?2 "
       "ORDER BY first_seq DESC LIMIT 1"},
      {&data_version_query_, "PRAGMA data_version"},
      {&load_,
       "SELECT first_seq, last_seq, events FROM event_batches WHERE run_id = ?1 "
       "ORDER BY first_seq"},
  };
  for (const auto& [slot, sql] : statements) {
    Result<Statement> statement = Statement::Prepare(db, sql);
    if (!statement) return statement.error();
    *slot = std::move(*statement);
  }
  return Status::Ok();
}

Status EventTable::Append(std::span<Event> events) {
  if (events.empty()) return Status::Ok();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].run_id.empty() || events[i].seq < 0) {
      return Status::InvalidArgument(
          "append events to " + db_->path() + ": expected a run id and a seq >= 0 in event #" +
          std::to_string(i) + " of the batch, found run id '" + events[i].run_id + "' and seq " +
          std::to_string(events[i].seq) + "; nothing was written");
    }
  }

  Result<Transaction> transaction =
      Transaction::Begin(*db_, TransactionMode::kImmediate, "append events");
  if (!transaction) return transaction.error();
  if (Status status = ForgetSeqsIfOthersWrote(); !status.ok()) return status;

  // Next seqs of the runs this batch touches; they replace the cached ones only on commit,
  // so a failed batch leaves the cache as the database is. Batches rarely span many runs.
  std::vector<std::pair<const std::string*, int64_t>> batch_next;
  std::vector<int64_t> assigned(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i];
    auto it = std::find_if(batch_next.begin(), batch_next.end(),
                           [&](const auto& entry) { return *entry.first == event.run_id; });
    if (it == batch_next.end()) {
      int64_t next = 0;
      if (auto cached = next_seq_by_run_.find(event.run_id); cached != next_seq_by_run_.end()) {
        next = cached->second;
      } else {
        Result<int64_t> queried = QueryNextSeq(event.run_id);
        if (!queried) return queried.error();
        next = *queried;
      }
      it = batch_next.insert(batch_next.end(), {&event.run_id, next});
    }
    assigned[i] = event.seq != 0 ? event.seq : it->second;
    it->second = std::max(it->second, assigned[i] + 1);
  }

  // Rows: runs of events of one run with consecutive seqs, up to kMaxRowBytes each.
  std::string body;
  Row row;
  for (size_t i = 0; i <= events.size(); ++i) {
    const bool continues = i < events.size() && i > 0 &&
                           events[i].run_id == events[row.begin].run_id &&
                           assigned[i] == row.last_seq + 1 && row.bytes < kMaxRowBytes;
    if (i > 0 && !continues) {
      row.end = i;
      if (Status s = InsertRow(events, row, body); !s.ok()) return s;
    }
    if (i == events.size()) break;
    if (i == 0 || !continues) row = Row{i, i, assigned[i], assigned[i], false, 0};
    row.last_seq = assigned[i];
    row.explicit_seqs = row.explicit_seqs || events[i].seq != 0;
    row.bytes += EncodedSizeBound(events[i]);
  }

  if (Status committed = transaction->Commit(); !committed.ok()) return committed;
  for (const auto& [run_id, next] : batch_next) next_seq_by_run_[*run_id] = next;
  for (size_t i = 0; i < events.size(); ++i) events[i].seq = assigned[i];
  return Status::Ok();
}

Status EventTable::InsertRow(std::span<const Event> events, const Row& row, std::string& body) {
  const std::string& run_id = events[row.begin].run_id;
  if (row.explicit_seqs) {
    // Seqs given by the caller may collide with recorded ones, or with this batch's earlier
    // rows; seqs assigned here follow every seq the run has, so they cannot.
    ScopedReset reset(overlap_);
    overlap_.BindText(1, run_id);
    overlap_.BindInt(2, row.last_seq);
    Result<bool> found = overlap_.Step("append events");
    if (!found) return found.error();
    if (*found && overlap_.ColumnInt(1) >= row.first_seq) {
      const int64_t seq = std::max(row.first_seq, overlap_.ColumnInt(0));
      return Status::FailedPrecondition(
          "append events to " + db_->path() + ": expected a free seq for event #" +
          std::to_string(row.begin + static_cast<size_t>(seq - row.first_seq)) +
          " of the batch, found run '" + run_id + "' already has seq " + std::to_string(seq) +
          "; the whole batch was rolled back");
    }
  }
  body.clear();
  body.reserve(row.bytes);  // one allocation, not a doubling per few events
  for (size_t i = row.begin; i < row.end; ++i) AppendToBatch(body, events[i]);
  ScopedReset reset(insert_);
  insert_.BindText(1, run_id);
  insert_.BindInt(2, row.first_seq);
  insert_.BindInt(3, row.last_seq);
  insert_.BindBlob(4, body);
  // A literal operation name: the run and the position are added only on failure.
  Status inserted = insert_.Run("append events");
  if (inserted.ok()) return inserted;
  return Status(inserted.code(), inserted.message() + " (events #" + std::to_string(row.begin) +
                                     ".." + std::to_string(row.end - 1) + " of the batch, run " +
                                     run_id + "); the whole batch was rolled back");
}

Result<std::vector<Event>> EventTable::Load(const std::string& run_id) {
  std::vector<Event> events;
  ScopedReset reset(load_);
  load_.BindText(1, run_id);
  const std::string operation = "load events of run " + run_id;
  while (true) {
    Result<bool> row = load_.Step(operation);
    if (!row) return Err(row.error());
    if (!*row) break;
    const int64_t first = load_.ColumnInt(0);
    const int64_t last = load_.ColumnInt(1);
    if (!events.empty() && first <= events.back().seq) {
      return Err(Status::DataLoss(operation + " from " + db_->path() + ": the row of events " +
                                  std::to_string(first) + ".." + std::to_string(last) +
                                  " overlaps the one before it"));
    }
    Status decoded = DecodeBatch(load_.ColumnBlob(2), run_id, first, last, db_->path(), &events);
    if (!decoded.ok()) return Err(std::move(decoded));
  }
  return events;
}

// The next free seq of `run_id` as the database has it, inside the caller's transaction.
Result<int64_t> EventTable::QueryNextSeq(const std::string& run_id) {
  ScopedReset reset(next_seq_);
  next_seq_.BindText(1, run_id);
  Result<bool> row = next_seq_.Step("append events to run " + run_id);
  if (!row) return Err(row.error());
  if (!*row || next_seq_.ColumnInt(0) == 0) {
    return Err(Status::NotFound("append events to " + db_->path() + ": expected run '" + run_id +
                                "' to exist (CreateRun first), found no such run"));
  }
  return next_seq_.ColumnIsNull(1) ? 1 : next_seq_.ColumnInt(1) + 1;
}

// Another connection that appended since our last look makes the cached next seqs stale.
// PRAGMA data_version changes only for commits by other connections.
Status EventTable::ForgetSeqsIfOthersWrote() {
  ScopedReset reset(data_version_query_);
  Result<bool> row = data_version_query_.Step("append events: read data_version");
  if (!row) return row.error();
  const int64_t version = *row ? data_version_query_.ColumnInt(0) : -1;
  if (version != data_version_) next_seq_by_run_.clear();
  data_version_ = version;
  return Status::Ok();
}

}  // namespace chorus::sqlite
