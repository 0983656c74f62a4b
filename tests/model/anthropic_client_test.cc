// The Anthropic Messages protocol: encoding, and decoding of JSON and SSE answers in the shape
// the Messages API documents (message_start … message_stop, ping, error events).

#include "model/anthropic_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace chorus {
namespace {

EndpointConfig Config(bool stream) {
  EndpointConfig c;
  c.name = "deep";
  c.provider = Provider::kAnthropic;
  c.model = "claude-sonnet-4-20250514";
  c.stream = stream;
  return c;
}

ChatRequest Prompt() {
  ChatRequest r;
  r.messages = {{"system", "You draft strategy."}, {"system", "Be brief."}, {"user", "Go"}};
  return r;
}

constexpr char kStream[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
    "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-20250514\","
    "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,"
    "\"output_tokens\":1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n\n"
    "event: ping\ndata: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\", world\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

ChatResult Decode(bool stream, int status, std::string_view content_type, std::string_view body,
                  const Status& transport = Status::Ok()) {
  auto protocol = MakeAnthropicProtocol(Config(stream), "sk-ant-secret");
  auto decoder = protocol->NewDecoder(Prompt());
  decoder->OnHeaders(status, {{"content-type", std::string(content_type)}});
  for (size_t i = 0; i < body.size(); i += 7) {
    if (!decoder->OnData(body.substr(i, 7))) break;
  }
  return decoder->Finish(transport);
}

TEST(AnthropicDecoder, AccumulatesTextDeltasAndUsageFromAStream) {
  ChatResult r = Decode(true, 200, "text/event-stream", kStream);
  ASSERT_TRUE(r) << r.error().status.ToString();
  EXPECT_EQ(r->text, "Hello, world");
  EXPECT_EQ(r->finish_reason, "stop");
  EXPECT_EQ(r->model, "claude-sonnet-4-20250514");
  EXPECT_EQ(r->usage.input_tokens, 25);
  EXPECT_EQ(r->usage.output_tokens, 15);
  EXPECT_FALSE(r->usage_estimated);
  EXPECT_DOUBLE_EQ(r->usage.cost_usd, (25 * 3.0 + 15 * 15.0) / 1e6);
}

TEST(AnthropicDecoder, StreamWithoutMessageStopIsACut) {
  std::string_view stream = kStream;
  ChatResult r = Decode(true, 200, "text/event-stream", stream.substr(0, 600));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.error().status.message().find("stream cut after 600 bytes"), std::string::npos);
}

TEST(AnthropicDecoder, CompleteStreamSurvivesAConnectionErrorAfterMessageStop) {
  ChatResult r =
      Decode(true, 200, "text/event-stream", kStream, Status::Unavailable("connection reset"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "Hello, world");
}

TEST(AnthropicDecoder, OverloadedErrorEventIsTransient) {
  std::string body = std::string(kStream).substr(0, 400);
  body = body.substr(0, body.rfind("\n\n") + 2);
  body +=
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
      "\"message\":\"Overloaded\"}}\n\n";
  ChatResult r = Decode(true, 200, "text/event-stream", body, Status::Cancelled("aborted"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.error().status.message().find("Overloaded"), std::string::npos);
}

TEST(AnthropicDecoder, ParsesAJsonMessage) {
  ChatResult r = Decode(false, 200, "application/json", R"({
    "id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",
    "content":[{"type":"text","text":"Hi"},{"type":"tool_use","id":"t","name":"x","input":{}},
               {"type":"text","text":" there"}],
    "stop_reason":"max_tokens","stop_sequence":null,
    "usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":2}})");
  ASSERT_TRUE(r) << r.error().status.ToString();
  EXPECT_EQ(r->text, "Hi there");
  EXPECT_EQ(r->finish_reason, "length");
  EXPECT_EQ(r->usage.input_tokens, 15);
  EXPECT_EQ(r->usage.output_tokens, 2);
}

TEST(AnthropicDecoder, MapsOverloadedAndPromptTooLong) {
  ChatResult overloaded = Decode(false, 529, "application/json",
                                 R"({"type":"error","error":{"type":"overloaded_error",
                                 "message":"Overloaded"}})");
  ASSERT_FALSE(overloaded);
  EXPECT_EQ(overloaded.error().status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(overloaded.error().http_status, 529);
  ChatResult too_long = Decode(false, 400, "application/json",
                               R"({"type":"error","error":{"type":"invalid_request_error",
                               "message":"prompt is too long: 204716 tokens > 200000 maximum"}})");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().status.code(), StatusCode::kContextExceeded);
  EXPECT_NE(too_long.error().status.message().find("https://api.anthropic.com/v1/messages"),
            std::string::npos);
}

TEST(AnthropicProtocol, LiftsSystemMessagesAndSendsVersionAndKeyHeaders) {
  ChatRequest request = Prompt();
  request.temperature = 0.5;
  HttpRequest http;
  MakeAnthropicProtocol(Config(true), "sk-ant-secret")->Encode(request, http);
  EXPECT_EQ(http.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(nlohmann::json::parse(http.body), nlohmann::json::parse(R"({
    "model": "claude-sonnet-4-20250514", "max_tokens": 4096,
    "system": "You draft strategy.\n\nBe brief.",
    "messages": [{"role": "user", "content": "Go"}],
    "temperature": 0.5, "stream": true})"));
  auto has = [&](const std::string& line) {
    return std::find(http.headers.begin(), http.headers.end(), line) != http.headers.end();
  };
  EXPECT_TRUE(has("x-api-key: sk-ant-secret"));
  EXPECT_TRUE(has("anthropic-version: 2023-06-01"));
}

TEST(AnthropicProtocol, AcceptsABaseUrlThatAlreadyNamesV1) {
  EndpointConfig config = Config(false);
  config.base_url = "http://127.0.0.1:8080/v1/";
  HttpRequest http;
  MakeAnthropicProtocol(config, "")->Encode(Prompt(), http);
  EXPECT_EQ(http.url, "http://127.0.0.1:8080/v1/messages");
}

}  // namespace
}  // namespace chorus
