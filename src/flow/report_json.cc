// The run report as JSON, written directly as text: a tree built first would cost a
// 10,000-item map some 200,000 small allocations before a byte is written. The text is what
// nlohmann::json would print for the same document (keys in the same order, same escaping);
// ReportToJson parses it for callers that embed the report in a larger document.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/run.h"

namespace chorus {
namespace {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  // Strings and numbers go through the library's own serializer, so escaping (invalid UTF-8
  // replaced) and number formatting match ReportToJson(...).dump() exactly.
  void Value(const nlohmann::json& v) {
    out_->append(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  void Int(int64_t v) { out_->append(std::to_string(v)); }
  void Open(char c) {
    out_->push_back(c);
    first_ = true;
  }
  void Close(char c) {
    out_->push_back(c);
    first_ = false;
  }
  // `"name":`, after a comma unless it is the first member of its object.
  void Key(std::string_view name) {
    Comma();
    Value(nlohmann::json(name));
    out_->push_back(':');
    first_ = true;  // the value that follows needs no comma
  }
  void Comma() {
    if (!first_) out_->push_back(',');
    first_ = false;
  }
  void Member(std::string_view name, const nlohmann::json& v) {
    Key(name);
    Value(v);
    first_ = false;
  }
  void IntMember(std::string_view name, int64_t v) {
    Key(name);
    Int(v);
    first_ = false;
  }
  void UsageMembers(const Usage& u) {
    Member("cost_usd", u.cost_usd);
    IntMember("input_tokens", u.input_tokens);
    IntMember("output_tokens", u.output_tokens);
  }
  void UsageObject(std::string_view name, const Usage& u) {
    Key(name);
    Open('{');
    UsageMembers(u);
    Close('}');
  }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace

std::string ReportToJsonText(const RunReport& r) {
  std::string out;
  out.reserve(r.output.size() + r.steps.size() * 320 + 1024);
  JsonWriter w(&out);
  // Members in the order nlohmann::json's std::map gives them: names byte-wise ascending.
  w.Open('{');
  if (!r.error.empty()) w.Member("error", r.error);
  if (!r.notices.empty()) w.Member("notices", r.notices);
  w.Member("output", r.output);
  w.Member("run_id", r.run_id);
  w.Member("status", std::string(RunStatusName(r.status)));
  w.Key("steps");
  w.Open('[');
  for (const StepReport& s : r.steps) {
    w.Comma();
    w.Open('{');
    w.Member("agent", s.agent);
    w.IntMember("attempts", s.attempts);
    w.IntMember("duration_ms", s.finished_ms ? s.finished_ms - s.started_ms : 0);
    if (!s.error.empty()) w.Member("error", s.error);
    w.Member("kind", s.kind);
    w.Member("model", s.model);
    w.Member("status", s.status);
    w.Member("step", s.step);
    w.UsageObject("usage", s.usage);
    w.Close('}');
  }
  w.Close(']');
  w.Member("team", r.team);
  w.Key("usage");
  w.Open('{');
  w.Key("by_agent");
  w.Open('{');
  for (const auto& [agent, u] : r.usage_by_agent) w.UsageObject(agent, u);
  w.Close('}');
  // An object keyed by path: sorted, and of two reports of one path the last one wins.
  std::vector<const StepReport*> by_path;
  by_path.reserve(r.steps.size());
  for (const StepReport& s : r.steps) by_path.push_back(&s);
  std::stable_sort(by_path.begin(), by_path.end(),
                   [](const StepReport* a, const StepReport* b) { return a->step < b->step; });
  w.Key("by_step");
  w.Open('{');
  for (size_t i = 0; i < by_path.size(); ++i) {
    if (i + 1 < by_path.size() && by_path[i + 1]->step == by_path[i]->step) continue;
    w.UsageObject(by_path[i]->step, by_path[i]->usage);
  }
  w.Close('}');
  w.UsageMembers(r.usage);
  w.Close('}');
  w.Close('}');
  return out;
}

nlohmann::json ReportToJson(const RunReport& report) {
  return nlohmann::json::parse(ReportToJsonText(report));
}

}  // namespace chorus
