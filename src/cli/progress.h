// Live progress of a run on standard error: one line per agent's step as it starts,
// retries, finishes or fails; maps with many items report aggregate progress instead.
// Used only on the scheduler thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "chorus/store.h"

namespace chorus::cli {

class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::FILE* out, bool verbose) : out_(out), verbose_(verbose) {}
  void OnEvent(const Event& e, const nlohmann::json& payload);

 private:
  struct MapProgress {
    size_t items = 0, done = 0, failed = 0;
    int64_t started_ms = 0, last_print_ms = 0;
    int64_t tokens = 0;
    double cost = 0;
  };
  bool IsQuietItem(const std::string& step) const;
  void PrintMap(const std::string& map, const MapProgress& p, int64_t now_ms);
  void Line(const std::string& marker, const std::string& step, const std::string& agent,
            const std::string& text);

  std::FILE* out_;
  bool verbose_;
  std::map<std::string, MapProgress> maps_;
  std::map<std::string, int64_t> started_ms_;
};

}  // namespace chorus::cli
