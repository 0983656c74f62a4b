// EventLog: the scheduler's write-ahead buffer. Facts are added as they are decided and
// appended to the Store in one transaction by Flush(), before any of their effects happen
// (a request is only sent after its llm.request event is committed). The run's report is
// folded as facts are added; the observer sees them once committed. Single-threaded.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chorus/clock.h"
#include "chorus/store.h"
#include "flow/journal.h"
#include "flow/report_folder.h"

namespace chorus {

class EventLog {
 public:
  using Observer = std::function<void(const Event&, const nlohmann::json&)>;
  EventLog(std::string run_id, Store* store, const Clock* clock, ReportFolder* folder,
           Observer observer)
      : run_id_(std::move(run_id)),
        store_(store),
        clock_(clock),
        folder_(folder),
        observer_(std::move(observer)) {}

  void Add(std::string_view kind, std::string_view step, std::string_view agent,
           nlohmann::json payload);
  // A fact whose payload the caller wrote as JSON text (core/json_text.h), and `fold`, called
  // as fold(ReportFolder&, const Event&), which tells the report what the fact changes. The
  // frequent facts take this way: no tree is built, and none is parsed back.
  template <typename Fold>
  void AddText(std::string_view kind, std::string_view step, std::string_view agent,
               std::string payload, Fold&& fold) {
    Event& e = Make(kind, step, agent, std::move(payload));
    if (journal_ && journal_->ConsumeRecorded(e)) {
      Unmake();
      return;
    }
    fold(*folder_, static_cast<const Event&>(e));
    Keep(observer_ ? nlohmann::json::parse(e.payload) : nlohmann::json());
  }
  // A fact written as text that the report does not read (a dispatched brief).
  void AddText(std::string_view kind, std::string_view step, std::string_view agent,
               std::string payload) {
    AddText(kind, step, agent, std::move(payload), [](ReportFolder&, const Event&) {});
  }
  // Appends everything added since the last flush. On failure nothing of the batch is
  // recorded and the caller must stop: effects of unrecorded facts must not happen.
  Status Flush();
  bool empty() const { return pending_ == 0; }
  // When the oldest fact not yet flushed was added (Clock::MonotonicUs).
  int64_t pending_since_us() const { return pending_since_us_; }
  size_t size() const { return pending_; }
  // Resuming: events the journal already holds are not recorded (or reported) again.
  void SkipRecorded(RunJournal* journal) { journal_ = journal; }

 private:
  // The next slot, filled in. Slots are reused from flush to flush: their strings keep their
  // room, so a fact's run id, kind, step and agent are copied without allocating.
  Event& Make(std::string_view kind, std::string_view step, std::string_view agent,
              std::string payload);
  void Unmake();  // gives back the slot Make filled
  void Keep(nlohmann::json payload);
  void Release();  // after a flush: the slots keep their names, not their payloads

  std::string run_id_;
  Store* store_;
  const Clock* clock_;
  ReportFolder* folder_;
  Observer observer_;
  RunJournal* journal_ = nullptr;
  std::vector<Event> slots_;  // the first pending_ hold the facts not yet flushed
  size_t pending_ = 0;
  std::vector<nlohmann::json> payloads_;
  int64_t pending_since_us_ = 0;
};

}  // namespace chorus
