#include "flow/report_folder.h"

namespace chorus {
namespace {

constexpr size_t kStepsAfterAMap = 8;

Usage UsageFrom(const nlohmann::json& j) {
  Usage u;
  u.input_tokens = j.value("input_tokens", int64_t{0});
  u.output_tokens = j.value("output_tokens", int64_t{0});
  u.cost_usd = j.value("cost_usd", 0.0);
  return u;
}

// "reviews[3]" -> "reviews"; "" when the path is not a map item.
std::string_view ParentPath(std::string_view path) {
  size_t bracket = path.find('[');
  return bracket == std::string_view::npos ? std::string_view() : path.substr(0, bracket);
}

}  // namespace

std::optional<size_t> ReportFolder::ItemSlot(std::string_view path) const {
  const size_t bracket = path.find('[');
  if (bracket == std::string_view::npos || bracket + 2 > path.size() - 1 || path.back() != ']') {
    return std::nullopt;
  }
  size_t item = 0;
  for (char c : path.substr(bracket + 1, path.size() - bracket - 2)) {
    if (c < '0' || c > '9' || item > (size_t{1} << 40)) return std::nullopt;
    item = item * 10 + static_cast<size_t>(c - '0');
  }
  auto parent = index_.find(path.substr(0, bracket));
  if (parent == index_.end()) return std::nullopt;
  return parent->second + 1 + item;
}

StepReport* ReportFolder::Find(std::string_view path) {
  std::vector<StepReport>& steps = report_->steps;
  if (std::optional<size_t> slot = ItemSlot(path); slot && *slot < steps.size()) {
    if (steps[*slot].step == path) return &steps[*slot];
  }
  auto it = index_.find(path);
  return it == index_.end() ? nullptr : &steps[it->second];
}

void ReportFolder::Apply(const std::string& kind, const std::string& step, const std::string& agent,
                         int64_t ts_ms, const nlohmann::json& p) {
  RunReport& r = *report_;
  if (kind == "run.started") {
    r.team = p.value("team", r.team);
    r.started_ms = ts_ms;
    r.status = RunStatus::kRunning;
    if (auto it = p.find("notices"); it != p.end() && it->is_array()) {
      for (const auto& n : *it) r.notices.push_back(n.get<std::string>());
    }
  } else if (kind == "step.started") {
    StepStarted(step, agent, ts_ms, p.value("kind", "task"), p.value("items", size_t{0}));
  } else if (kind == "llm.request") {
    // A handoff request (context rollover) is not an attempt at the step's brief.
    if (p.value("purpose", "") == "handoff") return;
    const StepReport* s = Find(step);
    if (s == nullptr) return;
    Requested(step, p.value("attempt", int64_t{s->attempts} + 1), p.value("endpoint", s->model));
  } else if (kind == "llm.response") {
    Answered(step, agent, UsageFrom(p.value("usage", nlohmann::json::object())));
  } else if (kind == "step.completed") {
    StepEnded(step, agent, ts_ms, true, p.value("output", ""));
  } else if (kind == "step.failed") {
    StepEnded(step, agent, ts_ms, false, p.value("error", ""));
  } else if (kind == "run.completed") {
    RunEnded(ts_ms, true, p.value("output", ""));
  } else if (kind == "run.failed") {
    RunEnded(ts_ms, false, p.value("error", ""));
  }
}

void ReportFolder::RunEnded(int64_t ts_ms, bool completed, std::string_view text) {
  RunReport& r = *report_;
  r.status = completed ? RunStatus::kCompleted : RunStatus::kFailed;
  r.finished_ms = ts_ms;
  (completed ? r.output : r.error).assign(text);
  (completed ? r.error : r.output).clear();
}

void ReportFolder::StepStarted(const std::string& step, const std::string& agent, int64_t ts_ms,
                               std::string_view kind, size_t map_items) {
  if (StepReport* existing = Find(step)) {
    existing->status = "running";
    return;
  }
  RunReport& r = *report_;
  if (kind == "map") {
    // Its items follow: room for them now, rather than doubling (and copying) the list as
    // they start, which would leave up to half of it unused at 10,000 items. And room for a
    // few steps after them (the synthesis that usually follows), which would otherwise move
    // the whole list once more, 2 MB at 10,000 items, while the run waits for that step.
    r.steps.reserve(r.steps.size() + 1 + map_items + kStepsAfterAMap);
  }
  StepReport& s = r.steps.emplace_back();
  s.step = step;
  s.kind = kind;
  s.agent = agent;
  s.status = "running";
  s.started_ms = ts_ms;
  const size_t position = r.steps.size() - 1;
  if (ItemSlot(step) != position) index_.emplace(step, position);
}

void ReportFolder::Requested(const std::string& step, int64_t attempt, std::string_view endpoint) {
  if (StepReport* s = Find(step)) {
    s->attempts = static_cast<int>(attempt);
    s->model = endpoint;
  }
}

void ReportFolder::Answered(const std::string& step, const std::string& agent, const Usage& u) {
  RunReport& r = *report_;
  r.usage += u;
  if (!agent.empty()) r.usage_by_agent[agent] += u;
  if (StepReport* s = Find(step)) s->usage += u;
  if (StepReport* parent = Find(ParentPath(step))) parent->usage += u;
}

void ReportFolder::StepEnded(const std::string& step, const std::string& agent, int64_t ts_ms,
                             bool completed, std::string_view text) {
  StepReport* s = Find(step);
  if (s == nullptr) return;
  s->status = completed ? "completed" : "failed";
  s->finished_ms = ts_ms;
  if (!agent.empty()) s->agent = agent;  // a routed task's agent is known only now
  (completed ? s->output : s->error) = text;
}

RunReport ReportFromEvents(const RunRecord& run, const std::vector<Event>& events) {
  RunReport report;
  report.run_id = run.run_id;
  report.team = run.team;
  report.status = run.status;
  ReportFolder folder(&report);
  for (const Event& e : events) {
    auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (payload.is_discarded()) payload = nlohmann::json::object();
    folder.Apply(e.kind, e.step, e.agent, e.ts_ms, payload);
  }
  // The runs table is authoritative for the status (it also knows about interruptions).
  if (run.status != RunStatus::kRunning) report.status = run.status;
  return report;
}

}  // namespace chorus
