// LogWriter: appends the event log's batches to the Store on a thread of its own, so that a
// run whose answers come from inside the process (the offline model, an embedded client)
// goes on deciding while its previous batch is written: the two share a machine's cores
// instead of taking turns on one.
//
// At most one batch is in its hands. The caller collects it before handing the next one, or
// before it uses the store itself, so the store still sees one caller at a time, batches
// arrive whole and in order, and a failed append is known before anything later is written.
// The thread starts with the first batch: a run that commits only before it sends (every
// request to a model outside the process) never starts it.
#pragma once

#include <condition_variable>
#include <mutex>
#include <span>
#include <thread>

#include "chorus/store.h"

namespace chorus {

class LogWriter {
 public:
  explicit LogWriter(Store* store) : store_(store) {}
  ~LogWriter();  // finishes the batch in hand, then stops the thread
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Starts appending `events`, which must stay untouched until Collect() returns. Nothing
  // may be in hand.
  void Hand(std::span<Event> events);
  // Waits until the batch in hand is appended and returns how that went (Ok with none).
  Status Collect();
  bool busy() const { return handed_; }

 private:
  void Loop();

  Store* store_;
  bool handed_ = false;  // the caller's view: a batch is out and not yet collected
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  std::span<Event> batch_;
  bool appending_ = false;  // the thread has a batch it has not finished
  bool stop_ = false;
  Status result_;
};

}  // namespace chorus
