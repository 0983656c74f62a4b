// WalCheckpointer: copies a store's write-ahead log into its database file on a thread of
// its own, so that the connection appending a run's events never stops to do it.
//
// Why: SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the
// committing thread, and the last connection's close checkpoints whatever is left. For a run,
// that thread is the scheduler: a 10,000-agent run stalled mid-run for one 16 MB checkpoint,
// and a 1,000-agent run spent the ~20 ms after its last answer copying 2.9 MB and waiting for
// two fsyncs before it could exit. Checkpointing as the log grows moves that work into the
// time the run spends waiting for models, and leaves the close a few pages to copy.
//
// The writer's connection reports each commit's WAL size (Committed, from SQLite's WAL hook);
// past `batch_frames`, the checkpointer wakes and runs a PASSIVE checkpoint on a connection of
// its own: it copies what no reader still needs and never blocks the writer, nor is blocked
// by it. Should it fall behind (a busy disk, another process holding the checkpoint lock),
// the writer checkpoints inline past `inline_frames`, as SQLite would have, so the WAL stays
// bounded. The thread and its connection are made on the first request: a store opened to
// read (`chorus show`) never starts them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite_util.h"

struct sqlite3;

namespace chorus::sqlite {

class WalCheckpointer {
 public:
  // Reports the WAL size of every commit on `writer` (a WAL-mode connection to `path`).
  // The writer must outlive the checkpointer.
  WalCheckpointer(Database* writer, int batch_frames, int inline_frames);
  // Lets a checkpoint in progress finish, stops the thread and unhooks the writer.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Checkpoints completed by the thread (each copied at least one frame): for tests.
  int64_t completed() const;

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames);
  void Committed(int frames);
  void Loop();

  Database* writer_;
  const std::string path_;  // the database file's absolute name
  const int batch_frames_;
  const int inline_frames_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool wanted_ = false;
  bool stopping_ = false;
  bool failed_to_start_ = false;
  int64_t completed_ = 0;
  std::thread thread_;
};

}  // namespace chorus::sqlite
