// CompletionQueue: where model answers, produced on the transport's I/O thread, wait for
// the scheduler thread. Push is thread-safe and never blocks for long; WaitAll is called
// only by the scheduler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "chorus/model_client.h"

namespace chorus {

struct Completion {
  size_t unit = 0;
  int attempt = 0;
  ChatResult result;
  bool replayed = false;  // a recorded outcome given back to a resumed run, not a new answer
};

class CompletionQueue {
 public:
  void Push(Completion c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(c));
    }
    cv_.notify_one();
  }

  bool HasReady() {
    std::lock_guard<std::mutex> lock(mu_);
    return !items_.empty();
  }

  // Waits until at least one completion is queued or `timeout_us` passes (nullopt: forever),
  // then moves everything queued into `out`.
  void WaitAll(std::optional<int64_t> timeout_us, std::vector<Completion>* out) {
    std::unique_lock<std::mutex> lock(mu_);
    auto ready = [&] { return !items_.empty(); };
    if (timeout_us) {
      cv_.wait_for(lock, std::chrono::microseconds(*timeout_us), ready);
    } else {
      cv_.wait(lock, ready);
    }
    out->swap(items_);
    items_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Completion> items_;
};

}  // namespace chorus
