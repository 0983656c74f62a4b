// The events of the SQLite store: the `event_batches` table, where each row holds one run's
// events with consecutive seqs (store/event_batch.h says why). Appending numbers the events;
// loading unpacks the rows in seq order. Same threading contract as the connection.
#pragma once

#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "chorus/store.h"
#include "store/sqlite_util.h"

namespace chorus::sqlite {

// The table and its index, for a new store and for the migration from schema version 1.
extern const char* const kCreateEventBatches;

// Schema version 1 kept a row per event in `events`: moves them into `event_batches`, a row
// per run and run of consecutive seqs, and drops `events`. Runs inside the caller's
// transaction.
Status MigrateEventRowsToBatches(Database& db);

class EventTable {
 public:
  Status Prepare(Database& db);
  // Store::Append: seqs of 0 are assigned; the whole span is one transaction.
  Status Append(std::span<Event> events);
  // The run's events in seq order (none for an unknown run: the caller tells the two apart).
  Result<std::vector<Event>> Load(const std::string& run_id);

 private:
  // One row to insert: events [begin, end) of the span, all of one run, seqs first..last.
  struct Row {
    size_t begin = 0;
    size_t end = 0;
    int64_t first_seq = 0;
    int64_t last_seq = 0;
    bool explicit_seqs = false;
    size_t bytes = 0;  // at least the size of its body (EncodedSizeBound)
  };
  Status InsertRow(std::span<const Event> events, const Row& row, std::string& body);
  Result<int64_t> QueryNextSeq(const std::string& run_id);
  Status ForgetSeqsIfOthersWrote();

  Database* db_ = nullptr;
  Statement insert_;
  Statement next_seq_;
  Statement overlap_;
  Statement data_version_query_;
  Statement load_;

  // Next free seq per run, valid while no other connection writes (see ForgetSeqsIfOthersWrote).
  std::unordered_map<std::string, int64_t> next_seq_by_run_;
  int64_t data_version_ = -1;
};

}  // namespace chorus::sqlite
