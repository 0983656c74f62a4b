#include "model/anthropic_client.h"

#include <nlohmann/json.hpp>

#include "core/json_text.h"

namespace chorus {
namespace {

using nlohmann::json;

std::string_view StringOr(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get_ref<const std::string&>();
}

int64_t IntOr(const json& object, const char* key) {
  auto it = object.find(key);
  return (it != object.end() && it->is_number()) ? it->get<int64_t>() : 0;
}

// Anthropic's stop reasons in the vocabulary the rest of chorus uses (OpenAI's).
std::string NormalizeStopReason(std::string_view reason) {
  if (reason == "end_turn" || reason == "stop_sequence") return "stop";
  if (reason == "max_tokens") return "length";
  if (reason == "tool_use") return "tool_calls";
  return std::string(reason);
}

// Cached prompt tokens are reported apart from input_tokens; all of them were read.
int64_t InputTokens(const json& usage) {
  return IntOr(usage, "input_tokens") + IntOr(usage, "cache_creation_input_tokens") +
         IntOr(usage, "cache_read_input_tokens");
}

class AnthropicDecoder final : public ChatDecoder {
 public:
  using ChatDecoder::ChatDecoder;

 protected:
  std::optional<ModelError> OnEvent(const SseEvent& event) override {
    if (stopped_) return std::nullopt;
    json doc = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return Transient("expected a JSON object in the SSE event \"" + std::string(event.event) +
                       "\" after " + std::to_string(bytes_received()) +
                       " bytes, found: " + std::string(event.data.substr(0, 200)));
    }
    std::string_view type = StringOr(doc, "type");
    if (type.empty()) type = event.event;
    if (type == "message_start") {
      auto message = doc.find("message");
      if (message != doc.end() && message->is_object()) {
        response_.model = StringOr(*message, "model");
        if (auto usage = message->find("usage"); usage != message->end() && usage->is_object()) {
          response_.usage.input_tokens = InputTokens(*usage);
          response_.usage.output_tokens = IntOr(*usage, "output_tokens");
          usage_reported_ = true;
        }
      }
      started_ = true;
    } else if (type == "content_block_delta") {
      auto delta = doc.find("delta");
      if (delta != doc.end() && delta->is_object() && StringOr(*delta, "type") == "text_delta") {
        response_.text.append(StringOr(*delta, "text"));
      }
    } else if (type == "message_delta") {
      if (auto delta = doc.find("delta"); delta != doc.end() && delta->is_object()) {
        if (std::string_view reason = StringOr(*delta, "stop_reason"); !reason.empty()) {
          response_.finish_reason = NormalizeStopReason(reason);
        }
      }
      if (auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
        // Counts in message_delta are cumulative and final.
        if (usage->contains("output_tokens")) {
          response_.usage.output_tokens = IntOr(*usage, "output_tokens");
        }
        if (usage->contains("input_tokens")) response_.usage.input_tokens = InputTokens(*usage);
        usage_reported_ = true;
      }
    } else if (type == "message_stop") {
      stopped_ = true;
    } else if (type == "error") {
      return ErrorObjectToModelError(context().site, http_status(), doc);
    }
    // ping, content_block_start/stop and event types added later carry nothing we need.
    return std::nullopt;
  }

  bool StreamTerminated() const override { return stopped_; }

  ChatResult FinishStream() override {
    if (!stopped_ && response_.finish_reason.empty()) {
      return tl::unexpected(Transient("stream cut after " + std::to_string(bytes_received()) +
                                      " bytes: it ended without message_stop"));
    }
    if (!started_) return tl::unexpected(Transient("the stream carried no message_start"));
    Finalize(response_, usage_reported_);
    return std::move(response_);
  }

  ChatResult ParseBody(std::string_view body) override {
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return tl::unexpected(Transient(
          "expected a JSON message in the HTTP " + std::to_string(http_status()) + " body, found " +
          std::to_string(body.size()) + " bytes: " + std::string(body.substr(0, 200))));
    }
    if (doc.contains("error")) {
      return tl::unexpected(ErrorObjectToModelError(context().site, http_status(), doc));
    }
    auto content = doc.find("content");
    if (content == doc.end() || !content->is_array()) {
      return tl::unexpected(Transient("expected a \"content\" array in the message, found none"));
    }
    for (const json& block : *content) {
      if (block.is_object() && StringOr(block, "type") == "text") {
        response_.text.append(StringOr(block, "text"));
      }
    }
    response_.model = StringOr(doc, "model");
    response_.finish_reason = NormalizeStopReason(StringOr(doc, "stop_reason"));
    bool usage_reported = false;
    if (auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
      response_.usage.input_tokens = InputTokens(*usage);
      response_.usage.output_tokens = IntOr(*usage, "output_tokens");
      usage_reported = true;
    }
    Finalize(response_, usage_reported);
    return std::move(response_);
  }

 private:
  ChatResponse response_;
  bool started_ = false;
  bool stopped_ = false;
  bool usage_reported_ = false;
};

class AnthropicProtocol final : public ChatProtocol {
 public:
  AnthropicProtocol(const EndpointConfig& config, std::string api_key)
      : config_(config), api_key_(std::move(api_key)) {
    std::string base = config_.base_url.empty() ? kAnthropicDefaultBaseUrl : config_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    // Accept a base_url that already names the API version, as OpenAI-style ones do.
    url_ = base.ends_with("/v1") ? base + "/messages" : base + "/v1/messages";
    redacted_url_ = "POST " + RedactUrl(url_);
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
    // max_tokens is required by the Messages API.
    int max_tokens = request.max_tokens > 0 ? request.max_tokens : config_.max_tokens;
    body.append(",\"max_tokens\":");
    body.append(std::to_string(max_tokens > 0 ? max_tokens : 4096));

    std::string system;
    for (const ChatMessage& m : request.messages) {
      if (m.role != "system") continue;
      if (!system.empty()) system.append("\n\n");
      system.append(m.content);
    }
    if (!system.empty()) {
      body.append(",\"system\":");
      AppendJsonString(body, system);
    }
    body.append(",\"messages\":[");
    bool first = true;
    for (const ChatMessage& m : request.messages) {
      if (m.role == "system") continue;
      if (!first) body.push_back(',');
      first = false;
      body.append("{\"role\":");
      AppendJsonString(body, m.role);
      body.append(",\"content\":");
      AppendJsonString(body, m.content);
      body.push_back('}');
    }
    body.push_back(']');
    if (request.temperature) {
      body.append(",\"temperature\":");
      AppendJsonNumber(body, *request.temperature);
    }
    if (config_.stream) body.append(",\"stream\":true");
    body.push_back('}');

    out.headers.emplace_back(std::string("anthropic-version: ") + kAnthropicVersion);
    if (!api_key_.empty()) AddHeader(out.headers, "x-api-key", api_key_);
    AddCommonHeaders(out.headers, config_, request);
  }

  using ChatProtocol::NewDecoder;
  std::unique_ptr<ChatDecoder> NewDecoder(int64_t prompt_bytes) const override {
    return std::make_unique<AnthropicDecoder>(context_, prompt_bytes, config_.stream);
  }

 private:
  EndpointConfig config_;
  std::string api_key_;
  std::string url_;
  std::string redacted_url_;
  DecodeContext context_;
};

}  // namespace

std::unique_ptr<ChatProtocol> MakeAnthropicProtocol(const EndpointConfig& config,
                                                    std::string api_key) {
  return std::make_unique<AnthropicProtocol>(config, std::move(api_key));
}

}  // namespace chorus
