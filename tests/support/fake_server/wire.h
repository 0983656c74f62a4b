// Wire formats the fake LLM server speaks: OpenAI chat completions (modelled on llama.cpp's
// server, see tests/fixtures/wire/llama-server/README.md) and Anthropic Messages. Pure functions
// that build response bodies and SSE events; no I/O. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::fake {

struct Completion {
  std::string id;       // "chatcmpl-…" or "msg_…"
  int64_t created = 0;  // Unix seconds
  std::string model;
  std::string text;
  std::string finish_reason;  // OpenAI vocabulary: "stop", "length", ...
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// ceil(bytes / 4): the fake's token estimate for prompts and replies.
int64_t EstimateTokens(int64_t bytes);

// Splits `text` into pieces of at most `max_bytes` bytes without splitting a UTF-8 sequence
// (a longer code point gets a piece of its own).
std::vector<std::string_view> SplitForStreaming(std::string_view text, size_t max_bytes);

// --- OpenAI / llama.cpp ---
std::string OpenAiCompletionJson(const Completion& c);
// Complete SSE events ("data: {…}\n\n"): role chunk, content chunks, finish chunk, the usage
// chunk ("choices":[]) when `include_usage`, then "data: [DONE]".
std::vector<std::string> OpenAiCompletionEvents(const Completion& c, bool include_usage);
// {"error":{"code":<status>,"message":…,"type":…}}
std::string OpenAiErrorJson(int status, std::string_view message, std::string_view type);
// OpenAI's context_length_exceeded code with llama.cpp's message and n_prompt_tokens / n_ctx.
std::string OpenAiContextExceededJson(int64_t prompt_tokens, int64_t context_tokens);
std::string_view OpenAiErrorType(int status);

// --- Anthropic Messages ---
std::string AnthropicMessageJson(const Completion& c);
// message_start, content_block_start, ping, content_block_delta…, content_block_stop,
// message_delta (stop_reason, usage.output_tokens), message_stop.
std::vector<std::string> AnthropicMessageEvents(const Completion& c);
// {"type":"error","error":{"type":…,"message":…}}
std::string AnthropicErrorJson(std::string_view message, std::string_view type);
std::string_view AnthropicErrorType(int status);
// "stop" -> "end_turn", "length" -> "max_tokens", "tool_calls" -> "tool_use"; others unchanged.
std::string AnthropicStopReason(std::string_view finish_reason);

}  // namespace chorus::fake
