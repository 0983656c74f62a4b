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
  // Appends everything added since the last flush. On failure nothing of the batch is
  // recorded and the caller must stop: effects of unrecorded facts must not happen.
  Status Flush();
  bool empty() const { return pending_.empty(); }
  size_t size() const { return pending_.size(); }
  // Resuming: events the journal already holds are not recorded (or reported) again.
  void SkipRecorded(RunJournal* journal) { journal_ = journal; }

 private:
  std::string run_id_;
  Store* store_;
  const Clock* clock_;
  ReportFolder* folder_;
  Observer observer_;
  RunJournal* journal_ = nullptr;
  std::vector<Event> pending_;
  std::vector<nlohmann::json> payloads_;
};

}  // namespace chorus
