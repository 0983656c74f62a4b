#include "flow/report_folder.h"

namespace chorus {
namespace {

Usage UsageFrom(const nlohmann::json& j) {
  Usage u;
  u.input_tokens = j.value("input_tokens", int64_t{0});
  u.output_tokens = j.value("output_tokens", int64_t{0});
  u.cost_usd = j.value("cost_usd", 0.0);
  return u;
}

// "reviews[3]" -> "reviews"; "" when the path is not a map item.
std::string ParentPath(const std::string& path) {
  size_t bracket = path.find('[');
  return bracket == std::string::npos ? std::string() : path.substr(0, bracket);
}

}  // namespace

StepReport* ReportFolder::Find(const std::string& path) {
  auto it = index_.find(path);
  return it == index_.end() ? nullptr : &report_->steps[it->second];
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
    if (StepReport* existing = Find(step)) {
      existing->status = "running";
      return;
    }
    StepReport s;
    s.step = step;
    s.kind = p.value("kind", "task");
    if (s.kind == "map") {
      // Its items follow: room for them now, rather than doubling (and copying) the list as
      // they start, which would leave up to half of it unused at 10,000 items.
      r.steps.reserve(r.steps.size() + 1 + p.value("items", size_t{0}));
    }
    s.agent = agent;
    s.status = "running";
    s.started_ms = ts_ms;
    index_[step] = r.steps.size();
    r.steps.push_back(std::move(s));
  } else if (kind == "llm.request") {
    // A handoff request (context rollover) is not an attempt at the step's brief.
    if (p.value("purpose", "") == "handoff") return;
    if (StepReport* s = Find(step)) {
      s->attempts = p.value("attempt", s->attempts + 1);
      s->model = p.value("endpoint", s->model);
    }
  } else if (kind == "llm.response") {
    Usage u = UsageFrom(p.value("usage", nlohmann::json::object()));
    r.usage += u;
    if (!agent.empty()) r.usage_by_agent[agent] += u;
    if (StepReport* s = Find(step)) s->usage += u;
    if (StepReport* parent = Find(ParentPath(step))) parent->usage += u;
  } else if (kind == "step.completed" || kind == "step.failed") {
    if (StepReport* s = Find(step)) {
      s->status = kind == "step.completed" ? "completed" : "failed";
      s->finished_ms = ts_ms;
      if (!agent.empty()) s->agent = agent;  // a routed task's agent is known only now
      if (kind == "step.completed") {
        s->output = p.value("output", "");
      } else {
        s->error = p.value("error", "");
      }
    }
  } else if (kind == "run.completed" || kind == "run.failed") {
    r.status = kind == "run.completed" ? RunStatus::kCompleted : RunStatus::kFailed;
    r.finished_ms = ts_ms;
    r.output = p.value("output", "");
    r.error = p.value("error", "");
  }
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

namespace {

nlohmann::json UsageJson(const Usage& u) {
  return {{"input_tokens", u.input_tokens},
          {"output_tokens", u.output_tokens},
          {"cost_usd", u.cost_usd}};
}

}  // namespace

nlohmann::json ReportToJson(const RunReport& r) {
  nlohmann::json usage = UsageJson(r.usage);
  nlohmann::json by_agent = nlohmann::json::object();
  for (const auto& [agent, u] : r.usage_by_agent) by_agent[agent] = UsageJson(u);
  nlohmann::json by_step = nlohmann::json::object();
  nlohmann::json steps = nlohmann::json::array();
  for (const StepReport& s : r.steps) {
    by_step[s.step] = UsageJson(s.usage);
    nlohmann::json j = {{"step", s.step},
                        {"kind", s.kind},
                        {"agent", s.agent},
                        {"model", s.model},
                        {"status", s.status},
                        {"attempts", s.attempts},
                        {"usage", UsageJson(s.usage)},
                        {"duration_ms", s.finished_ms ? s.finished_ms - s.started_ms : 0}};
    if (!s.error.empty()) j["error"] = s.error;
    steps.push_back(std::move(j));
  }
  usage["by_agent"] = std::move(by_agent);
  usage["by_step"] = std::move(by_step);
  nlohmann::json out = {{"run_id", r.run_id},
                        {"team", r.team},
                        {"status", std::string(RunStatusName(r.status))},
                        {"output", r.output},
                        {"usage", std::move(usage)},
                        {"steps", std::move(steps)}};
  if (!r.error.empty()) out["error"] = r.error;
  if (!r.notices.empty()) out["notices"] = r.notices;
  return out;
}

}  // namespace chorus
