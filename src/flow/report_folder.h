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
  explicit ReportFolder(RunReport* report) : report_(report) {}
  void Apply(const std::string& kind, const std::string& step, const std::string& agent,
             int64_t ts_ms, const nlohmann::json& payload);

 private:
  StepReport* Find(const std::string& path);

  RunReport* report_;
  std::map<std::string, size_t> index_;  // step path -> position in report_->steps
};

}  // namespace chorus
