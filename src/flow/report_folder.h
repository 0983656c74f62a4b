// ReportFolder: builds a RunReport by folding a run's events, one at a time. The scheduler
// feeds it live; `chorus show` feeds it what the store holds. Single-threaded.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "chorus/run.h"

namespace chorus {

class ReportFolder {
 public:
  // Continues folding into `report`, which may already hold steps (a resumed run's record).
  explicit ReportFolder(RunReport* report) : report_(report) {
    for (size_t i = 0; i < report->steps.size(); ++i) index_[report->steps[i].step] = i;
  }
  void Apply(const std::string& kind, const std::string& step, const std::string& agent,
             int64_t ts_ms, const nlohmann::json& payload);

  // What Apply reads of the frequent facts, for a caller that has them at hand: the scheduler
  // writes those events as text and does not parse them back.
  void StepStarted(const std::string& step, const std::string& agent, int64_t ts_ms,
                   std::string_view kind, size_t map_items);
  void Requested(const std::string& step, int64_t attempt, std::string_view endpoint);
  void Answered(const std::string& step, const std::string& agent, const Usage& usage);
  // `text` is the output of a completed step, the error of a failed one.
  void StepEnded(const std::string& step, const std::string& agent, int64_t ts_ms, bool completed,
                 std::string_view text);

 private:
  StepReport* Find(const std::string& path);

  RunReport* report_;
  std::map<std::string, size_t> index_;  // step path -> position in report_->steps
};

}  // namespace chorus
