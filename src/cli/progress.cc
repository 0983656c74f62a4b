#include "cli/progress.h"

#include "cli/cli_common.h"
#include "cli/quality_events.h"

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
  // On a terminal every map has its live line; elsewhere small maps print a line per item.
  return it != maps_.end() && (live_ || it->second.items > kItemLinesUpTo);
}

void ProgressPrinter::ClearBar() {
  if (!bar_shown_) return;
  std::fprintf(out_, "\r\x1b[K");
  bar_shown_ = false;
}

void ProgressPrinter::Line(const std::string& marker, const std::string& step,
                           const std::string& agent, const std::string& text) {
  ClearBar();
  std::fprintf(out_, "  %s %-22s %-14s %s\n", marker.c_str(), Truncate(step, 22).c_str(),
               Truncate(agent, 14).c_str(), text.c_str());
}

std::string ProgressPrinter::MapLine(const std::string& map, const MapProgress& p,
                                     int64_t now_ms) const {
  size_t finished = p.done + p.failed;
  std::string eta;
  if (finished > 0 && finished < p.items) {
    int64_t elapsed = now_ms - p.started_ms;
    eta = ", ETA " + FormatDuration(elapsed * static_cast<int64_t>(p.items - finished) /
                                    static_cast<int64_t>(finished));
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "  ▸ %-22s %zu/%zu done, %zu running, %zu failed, %lld tokens, %s%s",
                Truncate(map, 22).c_str(), p.done, p.items, p.running, p.failed,
                static_cast<long long>(p.tokens), FormatCost(p.cost).c_str(), eta.c_str());
  return line;
}

void ProgressPrinter::PrintMap(const std::string& map, const MapProgress& p, int64_t now_ms) {
  std::fprintf(out_, "%s\n", MapLine(map, p, now_ms).c_str());
}

void ProgressPrinter::DrawBar(const std::string& map, MapProgress& p, int64_t now_ms, bool force) {
  // A redraw every 100 ms is smooth to the eye and cheap for maps of many thousand items.
  if (!force && now_ms - p.last_print_ms < 100) return;
  p.last_print_ms = now_ms;
  bool finished = p.done + p.failed == p.items;
  std::fprintf(out_, "\r\x1b[K%s%s", MapLine(map, p, now_ms).c_str(), finished ? "\n" : "");
  std::fflush(out_);
  bar_shown_ = !finished;
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
  } else if (kind == "run.resumed") {
    std::fprintf(out_,
                 "chorus: run %s resumed: %lld recorded events kept, %lld recorded answers "
                 "reused\n",
                 e.run_id.c_str(), p.value("recorded_events", 0LL),
                 p.value("recorded_answers", 0LL));
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
    if (std::string map = MapOf(e.step); !map.empty()) {
      MapProgress& m = maps_[map];
      ++m.running;
      if (live_ && IsQuietItem(e.step)) DrawBar(map, m, e.ts_ms, /*force=*/false);
    }
    if (!IsQuietItem(e.step)) Line("▸", e.step, e.agent, "started");
  } else if (kind == "synthesis.staged") {
    // The parts of a staged synthesis ("summary[1.3]") show like a map's items, all levels
    // counted together.
    if (const size_t parts = p.value("parts", size_t{0}); parts > 1) {
      MapProgress& m = maps_[e.step];
      if (m.items == 0) m.started_ms = e.ts_ms;
      m.items += parts;
    }
    Line("▸", e.step, "", DescribeStagedSynthesis(p));
  } else if (kind == "route.decision") {
    const auto& winner = p.value("winner", nlohmann::json());
    std::string text = "routed (" + p.value("rule", "") + "): " +
                       (winner.is_object() ? winner.value("id", "") + " " + winner.value("name", "")
                                           : std::string("no framework"));
    if (!IsQuietItem(e.step)) Line("⇢", e.step, e.agent, text);
  } else if (kind == "route.delegation") {
    if (!IsQuietItem(e.step)) {
      Line("⇢", e.step, e.agent, p.value("mode", "") + " (" + p.value("rule", "") + ")");
    }
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
  } else if (kind == "conversation.rollover") {
    Line("⟳", e.step, e.agent,
         "context rollover to generation " + std::to_string(p.value("generation", 0)) + " (" +
             std::to_string(p.value("tokens_before", int64_t{0})) + " → " +
             std::to_string(p.value("tokens_after", int64_t{0})) + " tokens, " +
             p.value("reason", "") + ")");
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
  } else if (kind == "gate.verdict" || kind == "witness.verdict") {
    // A gate that passed without a score says nothing the ✓ line does not.
    bool plain_pass = p.value("passed", false) && !p.contains("score");
    if (IsQuietItem(e.step) || (kind == "gate.verdict" && plain_pass)) return;
    std::string line = DescribeQualityEvent(kind, p, /*full=*/false).value_or("");
    Line(kind == "gate.verdict" ? "⚑" : "⚖", e.step, e.agent, line.substr(0, line.find('\n')));
  } else if (kind == "llm.failover") {
    Line("⇢", e.step, e.agent,
         "failing over " + p.value("from", "") + " → " + p.value("to", "") + " (" +
             p.value("reason", "") + ")");
  } else if (kind == "circuit.opened" || kind == "circuit.closed") {
    std::fprintf(out_, "chorus: circuit of model '%s' %s: %s\n", p.value("endpoint", "").c_str(),
                 kind == "circuit.opened" ? "opened" : "closed",
                 Truncate(p.value("cause", ""), 100).c_str());
  } else if (kind == "step.completed" || kind == "step.failed") {
    bool ok = kind == "step.completed";
    std::string map = MapOf(e.step);
    if (!map.empty()) {
      MapProgress& m = maps_[map];
      (ok ? m.done : m.failed)++;
      if (m.running > 0) --m.running;
      if (IsQuietItem(e.step)) {
        bool last = m.done + m.failed == m.items;
        if (live_) {
          DrawBar(map, m, e.ts_ms, /*force=*/last);
        } else if (last || e.ts_ms - m.last_print_ms >= 1000) {
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
