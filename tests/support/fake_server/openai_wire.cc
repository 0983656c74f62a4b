#include <nlohmann/json.hpp>

#include "support/fake_server/wire.h"

namespace chorus::fake {
namespace {

using Json = nlohmann::json;

// Characters per streamed content chunk; llama.cpp streams one token (1–2 characters) per chunk.
constexpr size_t kChunkBytes = 4;
constexpr std::string_view kFingerprint = "fake-llm-server";

std::string Event(const Json& data) { return "data: " + data.dump() + "\n\n"; }

Json Chunk(const Completion& c, Json choices) {
  return {{"choices", std::move(choices)},
          {"created", c.created},
          {"id", c.id},
          {"model", c.model},
          {"system_fingerprint", kFingerprint},
          {"object", "chat.completion.chunk"}};
}

Json UsageJson(const Completion& c) {
  return {{"completion_tokens", c.completion_tokens},
          {"prompt_tokens", c.prompt_tokens},
          {"total_tokens", c.prompt_tokens + c.completion_tokens}};
}

}  // namespace

int64_t EstimateTokens(int64_t bytes) { return (bytes + 3) / 4; }

std::vector<std::string_view> SplitForStreaming(std::string_view text, size_t max_bytes) {
  std::vector<std::string_view> pieces;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = std::min(text.size(), begin + max_bytes);
    // Back off to a code point boundary: continuation bytes are 10xxxxxx.
    while (end < text.size() && end > begin &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (end == begin) {  // one code point longer than max_bytes
      end = begin + 1;
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    }
    pieces.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  return pieces;
}

std::string OpenAiCompletionJson(const Completion& c) {
  Json body = {
      {"choices", Json::array({{{"finish_reason", c.finish_reason},
                                {"index", 0},
                                {"message", {{"role", "assistant"}, {"content", c.text}}}}})},
      {"created", c.created},
      {"model", c.model},
      {"system_fingerprint", kFingerprint},
      {"object", "chat.completion"},
      {"usage", UsageJson(c)},
      {"id", c.id}};
  return body.dump();
}

std::vector<std::string> OpenAiCompletionEvents(const Completion& c, bool include_usage) {
  std::vector<std::string> events;
  events.push_back(
      Event(Chunk(c, Json::array({{{"finish_reason", nullptr},
                                   {"index", 0},
                                   {"delta", {{"role", "assistant"}, {"content", nullptr}}}}}))));
  for (std::string_view piece : SplitForStreaming(c.text, kChunkBytes)) {
    events.push_back(Event(Chunk(
        c, Json::array(
               {{{"finish_reason", nullptr}, {"index", 0}, {"delta", {{"content", piece}}}}}))));
  }
  events.push_back(Event(Chunk(
      c, Json::array(
             {{{"finish_reason", c.finish_reason}, {"index", 0}, {"delta", Json::object()}}}))));
  if (include_usage) {
    Json usage = Chunk(c, Json::array());
    usage["usage"] = UsageJson(c);
    events.push_back(Event(usage));
  }
  events.emplace_back("data: [DONE]\n\n");
  return events;
}

std::string_view OpenAiErrorType(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 501:
      return "not_supported_error";
    case 503:
      return "unavailable_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string OpenAiErrorJson(int status, std::string_view message, std::string_view type) {
  return Json{{"error", {{"code", status}, {"message", message}, {"type", type}}}}.dump();
}

std::string OpenAiContextExceededJson(int64_t prompt_tokens, int64_t context_tokens) {
  std::string message = "request (" + std::to_string(prompt_tokens) +
                        " tokens) exceeds the available context size (" +
                        std::to_string(context_tokens) + " tokens), try increasing it";
  return Json{{"error",
               {{"code", "context_length_exceeded"},
                {"message", message},
                {"type", "exceed_context_size_error"},
                {"param", "messages"},
                {"n_prompt_tokens", prompt_tokens},
                {"n_ctx", context_tokens}}}}
      .dump();
}

}  // namespace chorus::fake
