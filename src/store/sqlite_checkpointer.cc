#include "store/sqlite_checkpointer.h"

#include <sqlite3.h>

#include <memory>
#include <system_error>
#include <utility>

namespace chorus::sqlite {
namespace {

// The absolute name SQLite resolved when the writer opened the file: a relative one would name
// another file once the program changed its working directory.
std::string ResolvedPath(const Database& db) {
  const char* name = sqlite3_db_filename(db.handle(), "main");
  return name != nullptr && *name != '\0' ? std::string(name) : db.path();
}

}  // namespace

WalCheckpointer::WalCheckpointer(Database* writer, int batch_frames, int inline_frames)
    : writer_(writer),
      path_(ResolvedPath(*writer)),
      batch_frames_(batch_frames),
      inline_frames_(inline_frames) {
  // Replaces SQLite's own hook, which is what runs the automatic checkpoint.
  sqlite3_wal_hook(writer_->handle(), &WalCheckpointer::OnCommit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(writer_->handle(), nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int64_t WalCheckpointer::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int frames) {
  static_cast<WalCheckpointer*>(self)->Committed(frames);
  return SQLITE_OK;  // the commit has happened whatever this returns
}

void WalCheckpointer::Committed(int frames) {
  if (frames >= inline_frames_) {
    // Behind (or never started): what SQLite's automatic checkpoint would do. BUSY, when the
    // thread holds the checkpoint lock, means it is already at work.
    sqlite3_wal_checkpoint_v2(writer_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
    return;
  }
  if (frames < batch_frames_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_to_start_ || stopping_) return;
  wanted_ = true;
  if (!thread_.joinable()) {
    try {
      thread_ = std::thread([this] { Loop(); });
    } catch (const std::system_error&) {
      failed_to_start_ = true;  // no thread: the inline checkpoint above keeps the WAL bounded
      return;
    }
  }
  wake_.notify_one();
}

void WalCheckpointer::Loop() {
  // Opened here, not in the commit that asked for it: opening takes longer than a commit.
  Result<std::unique_ptr<Database>> opened =
      Database::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!opened) {
    std::lock_guard<std::mutex> lock(mu_);
    failed_to_start_ = true;
    return;
  }
  const std::unique_ptr<Database> own = std::move(*opened);
  // The same syncing as the writer: the WAL before the copy, the database after it.
  sqlite3_exec(own->handle(), "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return wanted_ || stopping_; });
    // Stopping: the writer's close checkpoints what is left.
    if (stopping_) break;
    wanted_ = false;
    lock.unlock();
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(own->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             nullptr, &copied);
    lock.lock();
    // BUSY: another connection is checkpointing. Other failures leave the frames in the WAL,
    // where they are as durable as before; the writer's inline checkpoint and its close retry.
    if (rc == SQLITE_OK && copied > 0) ++completed_;
  }
}

}  // namespace chorus::sqlite
