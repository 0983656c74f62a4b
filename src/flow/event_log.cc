#include "flow/event_log.h"

#include <span>

namespace chorus {

Event& EventLog::Make(std::string_view kind, std::string_view step, std::string_view agent,
                      std::string payload) {
  Batch& b = filling_;
  if (b.pending == b.slots.size()) b.slots.emplace_back();
  Event& e = b.slots[b.pending++];
  e.run_id.assign(run_id_);
  e.seq = 0;  // the store numbers it
  e.ts_ms = clock_->NowMs();
  e.kind.assign(kind);
  e.step.assign(step);
  e.agent.assign(agent);
  e.payload = std::move(payload);
  return e;
}

void EventLog::Unmake() { std::string().swap(filling_.slots[--filling_.pending].payload); }

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
  if (filling_.pending == 1) pending_since_us_ = clock_->MonotonicUs();
  if (observer_) filling_.payloads.push_back(std::move(payload));
}

void EventLog::Release(Batch& batch) {
  // A wide map's batch holds megabytes of payloads; the next batch brings its own.
  for (size_t i = 0; i < batch.pending; ++i) std::string().swap(batch.slots[i].payload);
  batch.pending = 0;
  batch.payloads.clear();
}

void EventLog::Notify(const Batch& batch) {
  if (!observer_) return;
  for (size_t i = 0; i < batch.pending; ++i) observer_(batch.slots[i], batch.payloads[i]);
}

Status EventLog::Collect() {
  if (!writer_.busy()) return Status::Ok();
  Status s = writer_.Collect();
  if (s.ok()) {
    Notify(in_hand_);
  } else {
    Release(filling_);
  }
  Release(in_hand_);
  return s;
}

Status EventLog::Flush() {
  if (Status s = Collect(); !s.ok()) return s;
  if (filling_.pending == 0) return Status::Ok();
  Status s = store_->Append(std::span<Event>(filling_.slots.data(), filling_.pending));
  if (s.ok()) Notify(filling_);
  Release(filling_);
  return s;
}

Status EventLog::FlushInBackground() {
  if (Status s = Collect(); !s.ok()) return s;
  if (filling_.pending == 0) return Status::Ok();
  std::swap(filling_, in_hand_);  // filling_ takes the slots the last batch left
  writer_.Hand(std::span<Event>(in_hand_.slots.data(), in_hand_.pending));
  return Status::Ok();
}

}  // namespace chorus
