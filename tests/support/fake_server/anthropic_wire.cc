#include <nlohmann/json.hpp>

#include "support/fake_server/wire.h"

namespace chorus::fake {
namespace {

using Json = nlohmann::json;

constexpr size_t kChunkBytes = 4;

// Anthropic names every event twice: in the "event:" line and in the payload's "type".
std::string Event(const Json& data) {
  return "event: " + data["type"].get<std::string>() + "\ndata: " + data.dump() + "\n\n";
}

}  // namespace

std::string AnthropicStopReason(std::string_view finish_reason) {
  if (finish_reason == "stop") return "end_turn";
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls") return "tool_use";
  return std::string(finish_reason);
}

std::string AnthropicMessageJson(const Completion& c) {
  Json body = {
      {"id", c.id},
      {"type", "message"},
      {"role", "assistant"},
      {"model", c.model},
      {"content", Json::array({{{"type", "text"}, {"text", c.text}}})},
      {"stop_reason", AnthropicStopReason(c.finish_reason)},
      {"stop_sequence", nullptr},
      {"usage", {{"input_tokens", c.prompt_tokens}, {"output_tokens", c.completion_tokens}}}};
  return body.dump();
}

std::vector<std::string> AnthropicMessageEvents(const Completion& c) {
  std::vector<std::string> events;
  events.push_back(
      Event({{"type", "message_start"},
             {"message",
              {{"id", c.id},
               {"type", "message"},
               {"role", "assistant"},
               {"model", c.model},
               {"content", Json::array()},
               {"stop_reason", nullptr},
               {"stop_sequence", nullptr},
               {"usage", {{"input_tokens", c.prompt_tokens}, {"output_tokens", 1}}}}}}));
  events.push_back(Event({{"type", "content_block_start"},
                          {"index", 0},
                          {"content_block", {{"type", "text"}, {"text", ""}}}}));
  events.push_back(Event({{"type", "ping"}}));
  for (std::string_view piece : SplitForStreaming(c.text, kChunkBytes)) {
    events.push_back(Event({{"type", "content_block_delta"},
                            {"index", 0},
                            {"delta", {{"type", "text_delta"}, {"text", piece}}}}));
  }
  events.push_back(Event({{"type", "content_block_stop"}, {"index", 0}}));
  events.push_back(
      Event({{"type", "message_delta"},
             {"delta",
              {{"stop_reason", AnthropicStopReason(c.finish_reason)}, {"stop_sequence", nullptr}}},
             {"usage", {{"output_tokens", c.completion_tokens}}}}));
  events.push_back(Event({{"type", "message_stop"}}));
  return events;
}

std::string_view AnthropicErrorType(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string AnthropicErrorJson(std::string_view message, std::string_view type) {
  return Json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump();
}

}  // namespace chorus::fake
