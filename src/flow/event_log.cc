#include "flow/event_log.h"

#include <span>

namespace chorus {

Event& EventLog::Make(std::string_view kind, std::string_view step, std::string_view agent,
                      std::string payload) {
  if (pending_ == slots_.size()) slots_.emplace_back();
  Event& e = slots_[pending_++];
  e.run_id.assign(run_id_);
  e.seq = 0;  // the store numbers it
  e.ts_ms = clock_->NowMs();
  e.kind.assign(kind);
  e.step.assign(step);
  e.agent.assign(agent);
  e.payload = std::move(payload);
  return e;
}

void EventLog::Unmake() { std::string().swap(slots_[--pending_].payload); }

void EventLog::Add(std::string_view kind, std::string_view step, std::string_view agent,
                   nlohmann::json payload) {
  // Model answers and inputs may carry invalid UTF-8; the store keeps valid JSON regardless.
  Event& e = Make(kind, step, agent,
                  payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (journal_ && journal_->ConsumeRecorded(e)) {
    Unmake();
    return;
  }
  // The report is the run's own bookkeeping, not an effect: it may see a fact before its
  // commit (a failed commit fails the run, which the report then says).
  folder_->Apply(e.kind, e.step, e.agent, e.ts_ms, payload);
  Keep(std::move(payload));
}

void EventLog::Keep(nlohmann::json payload) {
  if (pending_ == 1) pending_since_us_ = clock_->MonotonicUs();
  if (observer_) payloads_.push_back(std::move(payload));
}

void EventLog::Release() {
  // A wide map's batch holds megabytes of payloads; the next batch brings its own.
  for (size_t i = 0; i < pending_; ++i) std::string().swap(slots_[i].payload);
  pending_ = 0;
  payloads_.clear();
}

Status EventLog::Flush() {
  if (pending_ == 0) return Status::Ok();
  if (Status s = store_->Append(std::span<Event>(slots_.data(), pending_)); !s.ok()) {
    Release();
    return s;
  }
  if (observer_) {
    for (size_t i = 0; i < pending_; ++i) observer_(slots_[i], payloads_[i]);
  }
  Release();
  return Status::Ok();
}

}  // namespace chorus
