#include "model/chat_decoder.h"

#include "chorus/clock.h"

namespace chorus {
namespace {

// How much of a malformed body an error message quotes.
constexpr size_t kQuotedBytes = 200;

}  // namespace

ChatDecoder::ChatDecoder(const DecodeContext& context, int64_t prompt_bytes, bool streaming)
    : context_(context), prompt_bytes_(prompt_bytes), streaming_requested_(streaming) {}

void ChatDecoder::OnHeaders(int http_status, const HttpHeaders& headers) {
  http_status_ = http_status;
  bool success = http_status >= 200 && http_status < 300;
  if (!success) {
    headers_ = headers;
    return;
  }
  auto type = headers.find("content-type");
  if (type != headers.end()) {
    sse_ = type->second.starts_with("text/event-stream");
  } else {
    sse_ = streaming_requested_;
  }
}

bool ChatDecoder::OnData(std::string_view data) {
  bytes_received_ += static_cast<int64_t>(data.size());
  if (static_cast<size_t>(bytes_received_) > kMaxResponseBytes) {
    failure_ = Transient("the response exceeded " + std::to_string(kMaxResponseBytes >> 20) +
                         " MiB; refusing the rest");
    return false;
  }
  if (!sse_) {
    body_.append(data);
    return true;
  }
  if (stream_head_.size() < kQuotedBytes) {
    stream_head_.append(data.substr(0, kQuotedBytes - stream_head_.size()));
  }
  return parser_.Feed(data, [this](const SseEvent& event) {
    ++sse_events_;
    failure_ = OnEvent(event);
    return !failure_.has_value();
  });
}

ChatResult ChatDecoder::Finish(const Status& transport) {
  // A failure we caused (an error event, the size limit) wins over the transport's report of
  // the abort it led to.
  if (failure_) return tl::unexpected(std::move(*failure_));
  bool success_status = http_status_ >= 200 && http_status_ < 300;
  if (!transport.ok() && !(sse_ && success_status && StreamTerminated())) {
    ModelError error;
    // The transport names "METHOD URL: " too; the site description already says both.
    std::string_view detail = transport.message();
    if (size_t cut = detail.find(": ");
        cut != std::string_view::npos &&
        detail.substr(0, cut).find(" http") != std::string_view::npos) {
      detail.remove_prefix(cut + 2);
    }
    std::string message = DescribeSite(context_.site) + ": " + std::string(detail);
    if (bytes_received_ > 0) {
      message += sse_ ? "; stream cut after " : "; response cut after ";
      message += std::to_string(bytes_received_) + " bytes";
    }
    error.status = Status(transport.code(), ScrubSecret(std::move(message), context_.site.secret));
    error.http_status = http_status_;
    return tl::unexpected(std::move(error));
  }
  if (!success_status) {
    return tl::unexpected(
        HttpErrorToModelError(context_.site, http_status_, headers_, body_, SystemClock().NowMs()));
  }
  if (sse_ && sse_events_ == 0 && bytes_received_ > 0) {
    // A server that says text/event-stream and then sends something else is lying; say so
    // rather than calling it a cut stream.
    return tl::unexpected(Transient(
        "expected SSE events (\"data: {...}\") in the " + std::to_string(bytes_received_) +
        "-byte text/event-stream body, found invalid JSON/SSE: " + stream_head_));
  }
  return sse_ ? FinishStream() : ParseBody(body_);
}

void ChatDecoder::Finalize(ChatResponse& response, bool usage_reported) const {
  if (!usage_reported) {
    // ~4 bytes per token is the usual rule of thumb for English BPE vocabularies.
    response.usage.input_tokens = (prompt_bytes_ + 3) / 4;
    response.usage.output_tokens = (static_cast<int64_t>(response.text.size()) + 3) / 4;
    response.usage_estimated = true;
  }
  response.usage.cost_usd =
      CostUsd(*context_.config, response.usage.input_tokens, response.usage.output_tokens);
}

ModelError ChatDecoder::Transient(std::string what) const {
  ModelError error;
  error.status = Status::Unavailable(
      ScrubSecret(DescribeSite(context_.site) + ": " + std::move(what), context_.site.secret));
  error.http_status = http_status_;
  return error;
}

std::unique_ptr<ChatDecoder> ChatProtocol::NewDecoder(const ChatRequest& request) const {
  return NewDecoder(PromptBytes(request));
}

int64_t PromptBytes(const ChatRequest& request) {
  int64_t total = 0;
  for (const ChatMessage& m : request.messages) total += static_cast<int64_t>(m.content.size());
  return total;
}

void AddHeader(std::vector<std::string>& headers, std::string_view name, std::string_view value) {
  std::string line;
  line.reserve(name.size() + value.size() + 2);
  for (char c : name) {
    if (c != '\r' && c != '\n' && c != ':') line.push_back(c);
  }
  if (value.empty()) {
    line.push_back(';');
  } else {
    line.append(": ");
    for (char c : value) {
      if (c != '\r' && c != '\n') line.push_back(c);
    }
  }
  headers.push_back(std::move(line));
}

void AddCommonHeaders(std::vector<std::string>& headers, const EndpointConfig& config,
                      const ChatRequest& request) {
  headers.reserve(headers.size() + 6 + config.headers.size());
  headers.emplace_back("Content-Type: application/json");
  headers.emplace_back(config.stream ? "Accept: text/event-stream" : "Accept: application/json");
  if (!request.idempotency_key.empty()) {
    AddHeader(headers, "Idempotency-Key", request.idempotency_key);
  }
  if (!request.agent.empty()) AddHeader(headers, "X-Chorus-Agent", request.agent);
  for (const auto& [name, value] : config.headers) AddHeader(headers, name, value);
}

}  // namespace chorus
