// Live progress of a run on standard error: one line per agent's step as it starts,
// retries, finishes or fails; maps report aggregate progress instead (done / running /
// failed items, tokens, cost, ETA): on a terminal as one line redrawn in place, otherwise as
// a plain line at most once a second and when the map ends.
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
  // `live`: `out` is a terminal, so a map's progress is one line redrawn in place.
  ProgressPrinter(std::FILE* out, bool verbose, bool live = false)
      : out_(out), verbose_(verbose), live_(live) {}
  void OnEvent(const Event& e, const nlohmann::json& payload);

 private:
  struct MapProgress {
    size_t items = 0, done = 0, failed = 0, running = 0;
    int64_t started_ms = 0, last_print_ms = 0;
    int64_t tokens = 0;
    double cost = 0;
  };
  bool IsQuietItem(const std::string& step) const;
  std::string MapLine(const std::string& map, const MapProgress& p, int64_t now_ms) const;
  void PrintMap(const std::string& map, const MapProgress& p, int64_t now_ms);
  // Redraws the live line (throttled unless `force`); the last redraw ends the line.
  void DrawBar(const std::string& map, MapProgress& p, int64_t now_ms, bool force);
  void ClearBar();
  void Line(const std::string& marker, const std::string& step, const std::string& agent,
            const std::string& text);

  std::FILE* out_;
  bool verbose_;
  bool live_;
  bool bar_shown_ = false;
  std::map<std::string, MapProgress> maps_;
  std::map<std::string, int64_t> started_ms_;
};

}  // namespace chorus::cli
