// ReportFolder: builds a RunReport by folding a run's events, one at a time. The scheduler
// feeds it live; `chorus show` feeds it what the store holds. Single-threaded.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

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
  // The run's last fact: `text` is its output when it completed, its error when it failed.
  void RunEnded(int64_t ts_ms, bool completed, std::string_view text);

 private:
  StepReport* Find(std::string_view path);
  // Where map item `path` ("fan[12]") sits if the map's items were reported in order right
  // after the map: such items are found without an index entry (10,000 of them, 80 bytes
  // each, in a wide fan-out). nullopt when `path` is not a map item of a reported map.
  std::optional<size_t> ItemSlot(std::string_view path) const;

  RunReport* report_;
  // Looked up by string_view without building a string.
  struct PathHash {
    using is_transparent = void;
    size_t operator()(std::string_view path) const { return std::hash<std::string_view>{}(path); }
  };
  // Step path -> position in report_->steps, for all but the items found by ItemSlot.
  std::unordered_map<std::string, size_t, PathHash, std::equal_to<>> index_;
};

}  // namespace chorus
