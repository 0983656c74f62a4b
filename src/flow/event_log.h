// EventLog: the scheduler's write-ahead buffer. Facts are added as they are decided and
// appended to the Store in one transaction by Flush(), before any of their effects happen
// (a request is only sent after its llm.request event is committed). The run's report is
// folded as facts are added; the observer sees them once committed. Single-threaded.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
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

  void Add(std::string kind, std::string step, std::string agent, nlohmann::json payload);
  // A fact whose payload the caller wrote as JSON text (core/json_text.h), and `fold`, called
  // as fold(ReportFolder&, const Event&), which tells the report what the fact changes. The
  // frequent facts take this way: no tree is built, and none is parsed back.
  template <typename Fold>
  void AddText(std::string kind, std::string step, std::string agent, std::string payload,
               Fold&& fold) {
    Event e = Make(std::move(kind), std::move(step), std::move(agent), std::move(payload));
    if (journal_ && journal_->ConsumeRecorded(e)) return;
    fold(*folder_, static_cast<const Event&>(e));
    nlohmann::json parsed = observer_ ? nlohmann::json::parse(e.payload) : nlohmann::json();
    Keep(std::move(e), std::move(parsed));
  }
  // A fact written as text that the report does not read (a dispatched brief).
  void AddText(std::string kind, std::string step, std::string agent, std::string payload) {
    AddText(std::move(kind), std::move(step), std::move(agent), std::move(payload),
            [](ReportFolder&, const Event&) {});
  }
  // Appends everything added since the last flush. On failure nothing of the batch is
  // recorded and the caller must stop: effects of unrecorded facts must not happen.
  Status Flush();
  bool empty() const { return pending_.empty(); }
  // When the oldest fact not yet flushed was added (Clock::MonotonicUs).
  int64_t pending_since_us() const { return pending_since_us_; }
  size_t size() const { return pending_.size(); }
  // Resuming: events the journal already holds are not recorded (or reported) again.
  void SkipRecorded(RunJournal* journal) { journal_ = journal; }

 private:
  Event Make(std::string kind, std::string step, std::string agent, std::string payload) const;
  void Keep(Event e, nlohmann::json payload);

  std::string run_id_;
  Store* store_;
  const Clock* clock_;
  ReportFolder* folder_;
  Observer observer_;
  RunJournal* journal_ = nullptr;
  std::vector<Event> pending_;
  std::vector<nlohmann::json> payloads_;
  int64_t pending_since_us_ = 0;
};

}  // namespace chorus
