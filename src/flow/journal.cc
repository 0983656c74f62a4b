#include "flow/journal.h"

#include "chorus/privacy.h"

namespace chorus {
namespace {

std::string Signature(const Event& e) {
  std::string s;
  s.reserve(e.kind.size() + e.step.size() + e.agent.size() + e.payload.size() + 3);
  s.append(e.kind).push_back('\0');
  s.append(e.step).push_back('\0');
  s.append(e.agent).push_back('\0');
  s.append(e.payload);
  return s;
}

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

ModelError ErrorFrom(const nlohmann::json& p) {
  StatusCode code = ParseStatusCode(p.value("code", "")).value_or(StatusCode::kInternal);
  ModelError error{Status(code, p.value("message", "")), p.value("http_status", 0), std::nullopt};
  return error;
}

}  // namespace

RunJournal RunJournal::FromEvents(
    const std::vector<Event>& events,
    const std::function<void(const Event&, const nlohmann::json&)>& each) {
  RunJournal journal;
  journal.event_count_ = events.size();
  std::map<std::string, std::string> latest_key;  // step path -> key of its latest request
  for (const Event& e : events) {
    ++journal.recorded_[Signature(e)];
    nlohmann::json p = nlohmann::json::parse(e.payload, nullptr, false);
    if (p.is_discarded() || !p.is_object()) p = nlohmann::json::object();
    if (each) each(e, p);
    if (e.kind == "run.started") {
      journal.started_ = std::move(p);
      continue;
    }
    if (e.step.empty()) continue;
    if (e.kind == "llm.request") {
      std::string key = p.value("key", "");
      journal.requested_.insert(key);
      latest_key[e.step] = std::move(key);
    } else if (e.kind == "llm.response" || e.kind == "llm.error") {
      auto key = latest_key.find(e.step);
      if (key == latest_key.end()) continue;
      if (e.kind == "llm.response") {
        journal.outcomes_.insert_or_assign(key->second, ChatResult(ResponseFrom(p)));
        journal.answered_keys_.push_back(key->second);
      } else {
        journal.outcomes_.insert_or_assign(key->second, ChatResult(tl::unexpected(ErrorFrom(p))));
      }
    } else if (e.kind == "step.completed") {
      StepOutput out;
      out.text = p.value("output", "");
      if (auto json = p.find("json"); json != p.end()) out.json = *json;
      out.sensitivity = ParseLabel(p.value("label", "public")).value_or(Label::kPublic);
      journal.units_[e.step].completed = std::move(out);
    } else if (e.kind == "step.failed") {
      journal.units_[e.step].failed = p.value("error", "");
    }
  }
  return journal;
}

const UnitRecord* RunJournal::Find(const std::string& path) const {
  auto it = units_.find(path);
  return it == units_.end() ? nullptr : &it->second;
}

const ChatResult* RunJournal::Outcome(const std::string& key) const {
  auto it = outcomes_.find(key);
  return it == outcomes_.end() ? nullptr : &it->second;
}

bool RunJournal::ConsumeRecorded(const Event& event) {
  auto it = recorded_.find(Signature(event));
  if (it == recorded_.end() || it->second == 0) return false;
  --it->second;
  return true;
}

}  // namespace chorus
