#include "flow/log_writer.h"

#include <system_error>

namespace chorus {

LogWriter::~LogWriter() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LogWriter::Hand(std::span<Event> events) {
  handed_ = true;
  if (!thread_.joinable()) {
    try {
      thread_ = std::thread([this] { Loop(); });
    } catch (const std::system_error&) {
      // No thread to be had (a process at its limit): the batch is written here, now.
      result_ = store_->Append(events);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch_ = events;
    appending_ = true;
  }
  cv_.notify_all();
}

Status LogWriter::Collect() {
  if (!handed_) return Status::Ok();
  handed_ = false;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !appending_; });
  Status result = std::move(result_);
  result_ = Status::Ok();
  return result;
}

void LogWriter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return appending_ || stop_; });
    if (!appending_) return;  // stopping, with nothing in hand
    std::span<Event> batch = batch_;
    lock.unlock();
    Status result = store_->Append(batch);
    lock.lock();
    result_ = std::move(result);
    appending_ = false;
    cv_.notify_all();
  }
}

}  // namespace chorus
