#include "cli/progress.h"

#include "cli/cli_common.h"

namespace chorus::cli {
namespace {

// Maps with more items than this print aggregate progress, not a line per item.
constexpr size_t kItemLinesUpTo = 12;

std::string MapOf(const std::string& step) {
  size_t bracket = step.find('[');
  return bracket == std::string::npos ? std::string() : step.substr(0, bracket);
}

}  // namespace

bool ProgressPrinter::IsQuietItem(const std::string& step) const {
  std::string map = MapOf(step);
  if (map.empty() || verbose_) return false;
  auto it = maps_.find(map);
  return it != maps_.end() && it->second.items > kItemLinesUpTo;
}

void ProgressPrinter::Line(const std::string& marker, const std::string& step,
                           const std::string& agent, const std::string& text) {
  std::fprintf(out_, "  %s %-22s %-14s %s\n", marker.c_str(), Truncate(step, 22).c_str(),
               Truncate(agent, 14).c_str(), text.c_str());
}

void ProgressPrinter::PrintMap(const std::string& map, const MapProgress& p, int64_t now_ms) {
  size_t finished = p.done + p.failed;
  std::string eta;
  if (finished > 0 && finished < p.items) {
    int64_t elapsed = now_ms - p.started_ms;
    eta = ", ETA " + FormatDuration(elapsed * static_cast<int64_t>(p.items - finished) /
                                    static_cast<int64_t>(finished));
  }
  std::fprintf(out_, "  ▸ %-22s %zu/%zu done, %zu failed, %lld tokens, %s%s\n",
               Truncate(map, 22).c_str(), p.done, p.items, p.failed,
               static_cast<long long>(p.tokens), FormatCost(p.cost).c_str(), eta.c_str());
}

void ProgressPrinter::OnEvent(const Event& e, const nlohmann::json& p) {
  const std::string& kind = e.kind;
  if (kind == "run.started") {
    std::fprintf(out_, "chorus: run %s started (team %s)\n", e.run_id.c_str(),
                 p.value("team", "").c_str());
    if (auto n = p.find("notices"); n != p.end()) {
      for (const auto& notice : *n) {
        std::fprintf(out_, "chorus: note: %s\n", notice.get<std::string>().c_str());
      }
    }
  } else if (kind == "step.started") {
    started_ms_[e.step] = e.ts_ms;
    if (p.value("kind", "") == "map") {
      MapProgress& m = maps_[e.step];
      m.items = p.value("items", size_t{0});
      m.started_ms = e.ts_ms;
      Line("▸", e.step, "",
           "map over " + std::to_string(m.items) + " items, " +
               std::to_string(p.value("concurrency", 1)) + " at a time");
      return;
    }
    if (!IsQuietItem(e.step)) Line("▸", e.step, e.agent, "started");
  } else if (kind == "llm.response") {
    if (std::string map = MapOf(e.step); !map.empty()) {
      MapProgress& m = maps_[map];
      const auto& u = p.value("usage", nlohmann::json::object());
      m.tokens += u.value("input_tokens", int64_t{0}) + u.value("output_tokens", int64_t{0});
      m.cost += u.value("cost_usd", 0.0);
    }
  } else if (kind == "output.rejected") {
    if (!IsQuietItem(e.step)) {
      Line("↻", e.step, e.agent, "answer rejected: " + Truncate(p.value("reason", ""), 80));
    }
  } else if (kind == "boundary.crossed") {
    if (IsQuietItem(e.step)) return;
    int values = 0;
    const nlohmann::json by_type = p.value("counts", nlohmann::json::object());
    for (const auto& [type, n] : by_type.items()) {
      values += n.get<int>();
    }
    Line("⛨", e.step, e.agent,
         p.value("action", "") + " " + p.value("label", "") + " content for " +
             p.value("endpoint", "") + " (" + p.value("locality", "") +
             "): " + std::to_string(values) + " value(s)");
  } else if (kind == "llm.error") {
    if (IsQuietItem(e.step)) return;
    std::string text = p.value("message", "");
    if (p.contains("retry_in_ms")) {
      text = Truncate(text, 70) + "; retry in " + FormatDuration(p.value("retry_in_ms", 0));
    }
    Line("!", e.step, e.agent, text);
  } else if (kind == "step.completed" || kind == "step.failed") {
    bool ok = kind == "step.completed";
    std::string map = MapOf(e.step);
    if (!map.empty()) {
      MapProgress& m = maps_[map];
      (ok ? m.done : m.failed)++;
      if (IsQuietItem(e.step)) {
        bool last = m.done + m.failed == m.items;
        if (last || e.ts_ms - m.last_print_ms >= 1000) {
          m.last_print_ms = e.ts_ms;
          PrintMap(map, m, e.ts_ms);
        }
        if (ok || !last) return;
      }
    }
    int64_t took = e.ts_ms - started_ms_[e.step];
    if (ok) {
      Line("✓", e.step, e.agent, FormatDuration(took));
    } else {
      Line("✗", e.step, e.agent, "failed: " + p.value("error", ""));
    }
  }
}

}  // namespace chorus::cli
