#include "flow/journal.h"

namespace chorus {
namespace {

ChatResponse ResponseFrom(const nlohmann::json& p) {
  ChatResponse r;
  r.text = p.value("text", "");
  r.finish_reason = p.value("finish_reason", "");
  r.model = p.value("model", "");
  r.latency_ms = p.value("latency_ms", int64_t{0});
  const nlohmann::json usage = p.value("usage", nlohmann::json::object());
  r.usage.input_tokens = usage.value("input_tokens", int64_t{0});
  r.usage.output_tokens = usage.value("output_tokens", int64_t{0});
  r.usage.cost_usd = usage.value("cost_usd", 0.0);
  r.usage_estimated = usage.value("estimated", false);
  return r;
}

}  // namespace

RunJournal RunJournal::FromEvents(const std::vector<Event>& events) {
  RunJournal journal;
  journal.event_count_ = events.size();
  std::map<std::string, std::string> key_of_latest_request;  // path -> idempotency key
  for (const Event& e : events) {
    nlohmann::json p = nlohmann::json::parse(e.payload, nullptr, false);
    if (p.is_discarded() || !p.is_object()) p = nlohmann::json::object();
    if (e.kind == "run.started") {
      journal.started_ = std::move(p);
      continue;
    }
    if (e.step.empty()) continue;
    UnitRecord& u = journal.units_[e.step];
    if (e.kind == "step.started") {
      u.started = true;
    } else if (e.kind == "brief.dispatched") {
      u.dispatched = true;
    } else if (e.kind == "llm.request") {
      u.requests = std::max(u.requests, p.value("attempt", u.requests + 1));
      u.awaiting_answer = true;
      u.undecided_answer.reset();
      key_of_latest_request[e.step] = p.value("key", "");
    } else if (e.kind == "llm.response") {
      u.awaiting_answer = false;
      u.undecided_answer = ResponseFrom(p);
      if (auto key = key_of_latest_request.find(e.step); key != key_of_latest_request.end()) {
        journal.answered_keys_.push_back(key->second);
      }
    } else if (e.kind == "llm.error") {
      u.awaiting_answer = false;
      if (p.contains("retry_in_ms")) ++u.transient_failures;
    } else if (e.kind == "output.rejected") {
      u.undecided_answer.reset();
      ++u.rejections;
      u.feedback.push_back(p.value("reason", ""));
    } else if (e.kind == "step.completed") {
      u.undecided_answer.reset();
      StepOutput out;
      out.text = p.value("output", "");
      if (auto json = p.find("json"); json != p.end()) out.json = *json;
      u.completed = std::move(out);
    } else if (e.kind == "step.failed") {
      u.undecided_answer.reset();
      u.failed = p.value("error", "");
    }
  }
  return journal;
}

const UnitRecord* RunJournal::Find(const std::string& path) const {
  auto it = units_.find(path);
  return it == units_.end() ? nullptr : &it->second;
}

}  // namespace chorus
