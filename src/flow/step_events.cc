#include "flow/step_events.h"

#include "chorus/privacy.h"
#include "core/json_text.h"

namespace chorus {
namespace {

void LabelMember(JsonWriter& w, Label label) {
  if (label != Label::kPublic) w.Member("label", LabelName(label));
}

// The id that names message `i` of `messages` in an llm.request, its content recorded first
// (llm.message) if this is its first use here; null to write the content inline. The last
// message is what is new in a request: it is always inline.
const std::string* ContentId(EventLog& log, MessageContents* contents,
                             const std::vector<ChatMessage>& messages, size_t i) {
  if (contents == nullptr || i + 1 >= messages.size()) return nullptr;
  const std::string& content = messages[i].content;
  std::optional<MessageContents::Name> name = contents->NameOf(content);
  if (!name) return nullptr;
  if (name->first_use) {
    std::string payload;
    payload.reserve(content.size() + 48);
    JsonWriter w(&payload);
    w.BeginObject();
    w.Member("content", content);
    w.Member("id", *name->id);
    w.EndObject();
    log.AddText("llm.message", "", "", std::move(payload));
  }
  return name->id;
}

}  // namespace

void RecordStepStarted(EventLog& log, std::string_view path, std::string_view agent,
                       std::string_view kind, const std::string* item) {
  std::string payload;
  JsonWriter w(&payload);
  w.BeginObject();
  if (item) w.Member("item", *item);
  w.Member("kind", kind);
  w.EndObject();
  log.AddText("step.started", path, agent, std::move(payload),
              [kind](ReportFolder& report, const Event& e) {
                report.StepStarted(e.step, e.agent, e.ts_ms, kind, 0);
              });
}

void RecordRequest(EventLog& log, std::string_view path, std::string_view agent,
                   const RequestFacts& r) {
  std::string payload;
  // Room for what is written: a content that will be named takes its id's place, not its own
  // (until the commit, a wide map holds hundreds of these payloads).
  const std::vector<ChatMessage>& messages = *r.messages;
  size_t size = 160;
  for (size_t i = 0; i < messages.size(); ++i) {
    const bool named = r.contents != nullptr && i + 1 < messages.size() &&
                       messages[i].content.size() >= kNamedContentMinBytes;
    size += (named ? 16 : messages[i].content.size()) + 32;
  }
  payload.reserve(size);
  JsonWriter w(&payload);
  w.BeginObject();
  w.Member("attempt", r.attempt);
  w.Member("endpoint", r.endpoint);
  w.Member("key", r.key);
  w.Key("messages");
  w.BeginArray();
  for (size_t i = 0; i < messages.size(); ++i) {
    w.BeginObject();
    if (const std::string* id = ContentId(log, r.contents, messages, i)) {
      w.Member("content_id", *id);
    } else {
      w.Member("content", messages[i].content);
    }
    w.Member("role", messages[i].role);
    w.EndObject();
  }
  w.EndArray();
  w.Member("model", r.model);
  if (r.queued_ms >= 0) w.Member("queued_ms", r.queued_ms);
  if (r.resent) w.Member("resent", true);
  w.EndObject();
  log.AddText("llm.request", path, agent, std::move(payload),
              [&r](ReportFolder& report, const Event& e) {
                report.Requested(e.step, r.attempt, r.endpoint);
              });
}

nlohmann::json RequestMessagesJson(EventLog& log, const std::vector<ChatMessage>& messages,
                                   MessageContents* contents) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string* id = ContentId(log, contents, messages, i);
    out.push_back({{"role", messages[i].role},
                   id ? nlohmann::json::object_t::value_type{"content_id", *id}
                      : nlohmann::json::object_t::value_type{"content", messages[i].content}});
  }
  return out;
}

void RecordResponse(EventLog& log, std::string_view path, std::string_view agent, int attempt,
                    const ChatResponse& response, std::string_view text, std::string_view warning) {
  std::string payload;
  payload.reserve(text.size() + 256);
  JsonWriter w(&payload);
  w.BeginObject();
  w.Member("attempt", attempt);
  w.Member("finish_reason", response.finish_reason);
  w.Member("latency_ms", response.latency_ms);
  w.Member("model", response.model);
  w.Member("text", text);
  w.Key("usage");
  w.BeginObject();
  w.Key("cost_usd");
  w.Double(response.usage.cost_usd);
  w.Member("estimated", response.usage_estimated);
  w.Member("input_tokens", response.usage.input_tokens);
  w.Member("output_tokens", response.usage.output_tokens);
  w.EndObject();
  if (!warning.empty()) w.Member("warning", warning);
  w.EndObject();
  log.AddText("llm.response", path, agent, std::move(payload),
              [&response](ReportFolder& report, const Event& e) {
                report.Answered(e.step, e.agent, response.usage);
              });
}

void RecordUnitCompleted(EventLog& log, std::string_view path, std::string_view agent,
                         const StepOutput& output, int attempts) {
  std::string payload;
  payload.reserve(output.text.size() * (output.json.is_null() ? 1 : 2) + 64);
  JsonWriter w(&payload);
  w.BeginObject();
  w.Member("attempts", attempts);
  if (!output.json.is_null()) {
    w.Key("json");
    w.Json(output.json);
  }
  LabelMember(w, output.sensitivity);
  w.Member("output", output.text);
  w.EndObject();
  log.AddText("step.completed", path, agent, std::move(payload),
              [&output](ReportFolder& report, const Event& e) {
                report.StepEnded(e.step, e.agent, e.ts_ms, true, output.text);
              });
}

void RecordMapCompleted(EventLog& log, std::string_view path, const StepOutput& combined,
                        size_t items) {
  std::string payload;
  payload.reserve(combined.text.size() + 64);
  JsonWriter w(&payload);
  w.BeginObject();
  w.Member("items", static_cast<int64_t>(items));
  LabelMember(w, combined.sensitivity);
  w.Member("output", combined.text);
  w.EndObject();
  log.AddText("step.completed", path, "", std::move(payload),
              [&combined](ReportFolder& report, const Event& e) {
                report.StepEnded(e.step, e.agent, e.ts_ms, true, combined.text);
              });
}

void RecordRunEnded(EventLog& log, bool completed, const std::string& text) {
  std::string payload;
  payload.reserve(text.size() + 16);
  JsonWriter w(&payload);
  w.BeginObject();
  w.Member(completed ? MemberName("output") : MemberName("error"), text);
  w.EndObject();
  log.AddText(completed ? "run.completed" : "run.failed", "", "", std::move(payload),
              [completed, &text](ReportFolder& report, const Event& e) {
                report.RunEnded(e.ts_ms, completed, text);
              });
}

}  // namespace chorus
