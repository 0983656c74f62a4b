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

 private:
  StepReport* Find(const std::string& path);

  RunReport* report_;
  std::map<std::string, size_t> index_;  // step path -> position in report_->steps
};

}  // namespace chorus
