#include "model/openai_client.h"

#include <nlohmann/json.hpp>

#include "core/json_text.h"

namespace chorus {
namespace {

using nlohmann::json;

std::string_view StringOr(const json& object, const char* key, std::string_view fallback = "") {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return fallback;
  return it->get_ref<const std::string&>();
}

int64_t IntOr(const json& object, const char* key) {
  auto it = object.find(key);
  return (it != object.end() && it->is_number()) ? it->get<int64_t>() : 0;
}

// The first choice: index 0, or the first element when the server omits indices.
const json* FirstChoice(const json& choices) {
  if (!choices.is_array() || choices.empty()) return nullptr;
  for (const json& choice : choices) {
    auto index = choice.find("index");
    if (index == choice.end() || !index->is_number() || index->get<int64_t>() == 0) {
      return &choice;
    }
  }
  return nullptr;  // a chunk for another index (n > 1)
}

// o-series and gpt-5 reasoning models reject max_tokens in favour of max_completion_tokens;
// every other OpenAI-compatible server still expects max_tokens.
bool UsesMaxCompletionTokens(std::string_view model) {
  for (std::string_view prefix : {"o1", "o3", "o4", "gpt-5"}) {
    if (model.starts_with(prefix) &&
        (model.size() == prefix.size() || model[prefix.size()] == '-')) {
      return true;
    }
  }
  return false;
}

class OpenAIDecoder final : public ChatDecoder {
 public:
  using ChatDecoder::ChatDecoder;

 protected:
  std::optional<ModelError> OnEvent(const SseEvent& event) override {
    if (done_) return std::nullopt;
    if (event.IsDone()) {
      done_ = true;
      return std::nullopt;
    }
    json chunk = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
    if (chunk.is_discarded() || !chunk.is_object()) {
      return Transient("expected a JSON chat.completion.chunk in an SSE event after " +
                       std::to_string(bytes_received()) +
                       " bytes, found: " + std::string(event.data.substr(0, 200)));
    }
    if (chunk.contains("error"))
      return ErrorObjectToModelError(context().site, http_status(), chunk);
    if (std::string_view model = StringOr(chunk, "model"); !model.empty()) {
      response_.model = model;
    }
    if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
      ReadUsage(*usage);
    }
    auto choices = chunk.find("choices");
    if (choices != chunk.end() && choices->is_array() && !choices->empty()) saw_choice_ = true;
    const json* choice = choices == chunk.end() ? nullptr : FirstChoice(*choices);
    if (choice == nullptr) return std::nullopt;
    if (auto delta = choice->find("delta"); delta != choice->end() && delta->is_object()) {
      response_.text.append(StringOr(*delta, "content"));
    }
    if (std::string_view reason = StringOr(*choice, "finish_reason"); !reason.empty()) {
      response_.finish_reason = reason;
    }
    return std::nullopt;
  }

  bool StreamTerminated() const override { return done_; }

  ChatResult FinishStream() override {
    if (!done_ && response_.finish_reason.empty()) {
      return tl::unexpected(Transient("stream cut after " + std::to_string(bytes_received()) +
                                      " bytes: it ended without a finish_reason or [DONE]"));
    }
    if (!saw_choice_) {
      return tl::unexpected(Transient("the stream carried no choices"));
    }
    Finalize(response_, usage_reported_);
    return std::move(response_);
  }

  ChatResult ParseBody(std::string_view body) override {
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      std::string excerpt(body.substr(0, 200));
      return tl::unexpected(Transient("expected a JSON chat.completion in the HTTP " +
                                      std::to_string(http_status()) + " body, found " +
                                      std::to_string(body.size()) + " bytes: " + excerpt));
    }
    if (doc.contains("error")) {
      return tl::unexpected(ErrorObjectToModelError(context().site, http_status(), doc));
    }
    response_.model = StringOr(doc, "model");
    if (auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
      ReadUsage(*usage);
    }
    const json* choice = nullptr;
    if (auto choices = doc.find("choices"); choices != doc.end()) choice = FirstChoice(*choices);
    if (choice == nullptr) {
      return tl::unexpected(Transient("expected \"choices\" with at least one choice in the " +
                                      std::string("chat.completion, found none")));
    }
    if (auto message = choice->find("message"); message != choice->end() && message->is_object()) {
      response_.text = StringOr(*message, "content");
    }
    response_.finish_reason = StringOr(*choice, "finish_reason");
    Finalize(response_, usage_reported_);
    return std::move(response_);
  }

 private:
  void ReadUsage(const json& usage) {
    response_.usage.input_tokens = IntOr(usage, "prompt_tokens");
    response_.usage.output_tokens = IntOr(usage, "completion_tokens");
    usage_reported_ = true;
  }

  ChatResponse response_;
  bool done_ = false;
  bool saw_choice_ = false;
  bool usage_reported_ = false;
};

class OpenAIProtocol final : public ChatProtocol {
 public:
  OpenAIProtocol(const EndpointConfig& config, std::string api_key)
      : config_(config), api_key_(std::move(api_key)) {
    std::string base = config_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    url_ = base + "/chat/completions";
    redacted_url_ = "POST " + RedactUrl(url_);
    if (!api_key_.empty()) authorization_ = "Bearer " + api_key_;
    context_.config = &config_;
    context_.site = ErrorSite{config_.name, redacted_url_, api_key_};
  }

  void Encode(const ChatRequest& request, HttpRequest& out) const override {
    out.url = url_;
    out.method = "POST";
    std::string& body = out.body;
    body.reserve(static_cast<size_t>(PromptBytes(request)) + 64 * request.messages.size() + 256);
    body.append("{\"model\":");
    AppendJsonString(body, config_.model);
    body.append(",\"messages\":[");
    for (size_t i = 0; i < request.messages.size(); ++i) {
      if (i > 0) body.push_back(',');
      body.append("{\"role\":");
      AppendJsonString(body, request.messages[i].role);
      body.append(",\"content\":");
      AppendJsonString(body, request.messages[i].content);
      body.push_back('}');
    }
    body.push_back(']');
    int max_tokens = request.max_tokens > 0 ? request.max_tokens : config_.max_tokens;
    if (max_tokens > 0) {
      body.append(UsesMaxCompletionTokens(config_.model) ? ",\"max_completion_tokens\":"
                                                         : ",\"max_tokens\":");
      body.append(std::to_string(max_tokens));
    }
    if (request.temperature) {
      body.append(",\"temperature\":");
      AppendJsonNumber(body, *request.temperature);
    }
    if (config_.stream) {
      body.append(",\"stream\":true,\"stream_options\":{\"include_usage\":true}");
    } else {
      body.append(",\"stream\":false");
    }
    if (request.json_output) body.append(",\"response_format\":{\"type\":\"json_object\"}");
    body.push_back('}');

    if (!authorization_.empty()) AddHeader(out.headers, "Authorization", authorization_);
    AddCommonHeaders(out.headers, config_, request);
  }

  using ChatProtocol::NewDecoder;
  std::unique_ptr<ChatDecoder> NewDecoder(int64_t prompt_bytes) const override {
    return std::make_unique<OpenAIDecoder>(context_, prompt_bytes, config_.stream);
  }

 private:
  EndpointConfig config_;
  std::string api_key_;
  std::string url_;
  std::string redacted_url_;
  std::string authorization_;
  DecodeContext context_;
};

}  // namespace

std::unique_ptr<ChatProtocol> MakeOpenAIProtocol(const EndpointConfig& config,
                                                 std::string api_key) {
  return std::make_unique<OpenAIProtocol>(config, std::move(api_key));
}

}  // namespace chorus
