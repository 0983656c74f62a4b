// The run report as JSON, written directly as text: a tree built first would cost a
// 10,000-item map some 200,000 small allocations before a byte is written. JsonWriter prints
// what nlohmann::json would for the same document; ReportToJson parses the text for callers
// that embed the report in a larger document.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/run.h"
#include "core/json_text.h"

namespace chorus {
namespace {

void UsageMembers(JsonWriter& w, const Usage& u) {
  w.Key("cost_usd");
  w.Double(u.cost_usd);
  w.Member("input_tokens", u.input_tokens);
  w.Member("output_tokens", u.output_tokens);
}

void UsageObject(JsonWriter& w, std::string_view name, const Usage& u) {
  w.Key(name);
  w.BeginObject();
  UsageMembers(w, u);
  w.EndObject();
}

}  // namespace

std::string ReportToJsonText(const RunReport& r) {
  std::string out;
  out.reserve(r.output.size() + r.steps.size() * 320 + 1024);
  JsonWriter w(&out);
  // Members in the order nlohmann::json's std::map gives them: names byte-wise ascending.
  w.BeginObject();
  if (!r.error.empty()) w.Member("error", r.error);
  if (!r.notices.empty()) {
    w.Key("notices");
    w.Strings(r.notices);
  }
  w.Member("output", r.output);
  w.Member("run_id", r.run_id);
  w.Member("status", RunStatusName(r.status));
  w.Key("steps");
  w.BeginArray();
  for (const StepReport& s : r.steps) {
    w.BeginObject();
    w.Member("agent", s.agent);
    w.Member("attempts", s.attempts);
    w.Member("duration_ms", s.finished_ms ? s.finished_ms - s.started_ms : 0);
    if (!s.error.empty()) w.Member("error", s.error);
    w.Member("kind", s.kind);
    w.Member("model", s.model);
    w.Member("status", s.status);
    w.Member("step", s.step);
    UsageObject(w, "usage", s.usage);
    w.EndObject();
  }
  w.EndArray();
  w.Member("team", r.team);
  w.Key("usage");
  w.BeginObject();
  w.Key("by_agent");
  w.BeginObject();
  for (const auto& [agent, u] : r.usage_by_agent) UsageObject(w, agent, u);
  w.EndObject();
  // An object keyed by path: sorted, and of two reports of one path the last one wins.
  std::vector<const StepReport*> by_path;
  by_path.reserve(r.steps.size());
  for (const StepReport& s : r.steps) by_path.push_back(&s);
  std::stable_sort(by_path.begin(), by_path.end(),
                   [](const StepReport* a, const StepReport* b) { return a->step < b->step; });
  w.Key("by_step");
  w.BeginObject();
  for (size_t i = 0; i < by_path.size(); ++i) {
    if (i + 1 < by_path.size() && by_path[i + 1]->step == by_path[i]->step) continue;
    UsageObject(w, by_path[i]->step, by_path[i]->usage);
  }
  w.EndObject();
  UsageMembers(w, r.usage);
  w.EndObject();
  w.EndObject();
  return out;
}

nlohmann::json ReportToJson(const RunReport& report) {
  return nlohmann::json::parse(ReportToJsonText(report));
}

}  // namespace chorus
