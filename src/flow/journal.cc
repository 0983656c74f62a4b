#include "flow/journal.h"

#include <functional>
#include <set>
#include <string_view>

#include "chorus/privacy.h"

namespace chorus {
namespace {

uint64_t Signature(const Event& e) {
  std::hash<std::string_view> hash;
  uint64_t h = hash(e.kind);
  for (std::string_view part :
       {std::string_view(e.step), std::string_view(e.agent), std::string_view(e.payload)}) {
    h = (h ^ hash(part)) * 0x9E3779B97F4A7C15ull;
  }
  return h;
}

bool SameFact(const Event& a, const Event& b) {
  return a.kind == b.kind && a.step == b.step && a.agent == b.agent && a.payload == b.payload;
}

// The kinds whose payloads the journal or a report fold reads; the others (briefs, verdicts,
// crossings…) are only compared whole, so resume does not parse them.
bool PayloadIsRead(const std::string& kind) {
  static const std::set<std::string, std::less<>> kRead = {
      "run.started", "run.completed", "run.failed",   "step.started", "step.completed",
      "step.failed", "llm.request",   "llm.response", "llm.error"};
  return kRead.count(kind) > 0;
}

// A request's messages are the bulk of its payload and nothing here reads them.
nlohmann::json ParsePayload(const Event& e) {
  if (!PayloadIsRead(e.kind)) return nlohmann::json::object();
  nlohmann::json p;
  if (e.kind == "llm.request") {
    p = nlohmann::json::parse(
        e.payload,
        [](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
          return !(depth == 1 && event == nlohmann::json::parse_event_t::key &&
                   parsed == "messages");
        },
        false);
  } else {
    p = nlohmann::json::parse(e.payload, nullptr, false);
  }
  if (p.is_discarded() || !p.is_object()) return nlohmann::json::object();
  return p;
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
    std::vector<Event> recorded,
    const std::function<void(const Event&, const nlohmann::json&)>& each) {
  RunJournal journal;
  journal.events_ = std::move(recorded);
  const std::vector<Event>& events = journal.events_;
  journal.event_count_ = events.size();
  journal.recorded_.reserve(events.size());
  std::map<std::string, std::string> latest_key;  // step path -> key of its latest request
  bool any_request = false, any_named_content = false;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    journal.recorded_.emplace(Signature(e), i);
    nlohmann::json p = ParsePayload(e);
    if (each) each(e, p);
    if (e.kind == "run.started") {
      journal.started_ = std::move(p);
      continue;
    }
    any_request = any_request || e.kind == "llm.request";
    any_named_content = any_named_content || e.kind == "llm.message";
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
  journal.contents_inline_ = any_request && !any_named_content;
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
  auto [begin, end] = recorded_.equal_range(Signature(event));
  for (auto it = begin; it != end; ++it) {
    if (SameFact(events_[it->second], event)) {
      recorded_.erase(it);  // each recorded occurrence stands for one re-added event
      return true;
    }
  }
  return false;
}

}  // namespace chorus
