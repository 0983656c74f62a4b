#include "flow/event_log.h"

namespace chorus {

Event EventLog::Make(std::string kind, std::string step, std::string agent,
                     std::string payload) const {
  Event e;
  e.run_id = run_id_;
  e.ts_ms = clock_->NowMs();
  e.kind = std::move(kind);
  e.step = std::move(step);
  e.agent = std::move(agent);
  e.payload = std::move(payload);
  return e;
}

void EventLog::Add(std::string kind, std::string step, std::string agent, nlohmann::json payload) {
  // Model answers and inputs may carry invalid UTF-8; the store keeps valid JSON regardless.
  Event e = Make(std::move(kind), std::move(step), std::move(agent),
                 payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (journal_ && journal_->ConsumeRecorded(e)) return;
  // The report is the run's own bookkeeping, not an effect: it may see a fact before its
  // commit (a failed commit fails the run, which the report then says).
  folder_->Apply(e.kind, e.step, e.agent, e.ts_ms, payload);
  Keep(std::move(e), std::move(payload));
}

void EventLog::Keep(Event e, nlohmann::json payload) {
  if (pending_.empty()) pending_since_us_ = clock_->MonotonicUs();
  pending_.push_back(std::move(e));
  if (observer_) payloads_.push_back(std::move(payload));
}

Status EventLog::Flush() {
  if (pending_.empty()) return Status::Ok();
  if (Status s = store_->Append(pending_); !s.ok()) {
    pending_.clear();
    payloads_.clear();
    return s;
  }
  if (observer_) {
    for (size_t i = 0; i < pending_.size(); ++i) observer_(pending_[i], payloads_[i]);
  }
  pending_.clear();
  payloads_.clear();
  return Status::Ok();
}

}  // namespace chorus
