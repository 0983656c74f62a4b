// The OpenAI-compatible protocol against byte-exact llama-server transcripts, fed to the
// decoder in uneven pieces the way the transport delivers them.

#include "model/openai_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/wire_fixture.h"

namespace chorus {
namespace {

EndpointConfig Config(bool stream) {
  EndpointConfig c;
  c.name = "local";
  c.provider = Provider::kOpenAI;
  c.base_url = "http://127.0.0.1:41481/v1/";
  c.model = "stories260K";
  c.stream = stream;
  return c;
}

ChatRequest Prompt() {
  ChatRequest r;
  r.messages = {{"user", "Once upon a time"}};
  return r;
}

ChatResult Decode(const EndpointConfig& config, const std::string& fixture,
                  const std::string& api_key = "") {
  auto protocol = MakeOpenAIProtocol(config, api_key);
  auto transcript = testing::ParseTranscript(testing::ReadFixture(fixture));
  auto decoder = protocol->NewDecoder(Prompt());
  decoder->OnHeaders(transcript.status, transcript.headers);
  std::string_view body = transcript.body;
  for (size_t i = 0, piece = 1; i < body.size(); i += piece, piece = piece * 3 % 251 + 1) {
    EXPECT_TRUE(decoder->OnData(body.substr(i, piece)));
  }
  return decoder->Finish(Status::Ok());
}

constexpr char kStoryText[] = "\"Here?\" Asked Jack.\n";

TEST(OpenAIDecoder, ParsesNonStreamingCompletionRegardlessOfKeyOrder) {
  ChatResult r = Decode(Config(false), "llamaserver-a-nonstream.http");
  ASSERT_TRUE(r) << r.error().status.ToString();
  EXPECT_EQ(r->text, kStoryText);
  EXPECT_EQ(r->finish_reason, "length");
  EXPECT_EQ(r->model, "stories260K");
  EXPECT_EQ(r->usage.input_tokens, 46);
  EXPECT_EQ(r->usage.output_tokens, 16);
  EXPECT_FALSE(r->usage_estimated);
}

TEST(OpenAIDecoder, AccumulatesStreamDeltasAndEstimatesMissingUsage) {
  ChatResult r = Decode(Config(true), "llamaserver-b-stream.http");
  ASSERT_TRUE(r) << r.error().status.ToString();
  EXPECT_EQ(r->text, kStoryText);
  EXPECT_EQ(r->finish_reason, "length");
  EXPECT_TRUE(r->usage_estimated);
  EXPECT_EQ(r->usage.input_tokens, 4);   // ceil(16 bytes / 4)
  EXPECT_EQ(r->usage.output_tokens, 5);  // ceil(20 bytes / 4)
}

TEST(OpenAIDecoder, ReadsUsageFromTheChunkWithEmptyChoices) {
  ChatResult r = Decode(Config(true), "llamaserver-c-stream-usage.http");
  ASSERT_TRUE(r) << r.error().status.ToString();
  EXPECT_EQ(r->text, kStoryText);
  EXPECT_EQ(r->usage.input_tokens, 46);
  EXPECT_EQ(r->usage.output_tokens, 16);
  EXPECT_FALSE(r->usage_estimated);
}

TEST(OpenAIDecoder, KeepsOnlyTheFirstChoiceWhenNIsTwo) {
  ChatResult json = Decode(Config(false), "llamaserver-h-n2.http");
  ChatResult sse = Decode(Config(true), "llamaserver-h2-n2-stream.http");
  ASSERT_TRUE(json && sse);
  EXPECT_EQ(json->text, kStoryText);
  EXPECT_EQ(sse->text, kStoryText);
}

TEST(OpenAIDecoder, ReportsStopFinishReasonAndJsonObjectContent) {
  ChatResult stop = Decode(Config(false), "llamaserver-j-stop-sequence.http");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->finish_reason, "stop");
  EXPECT_EQ(stop->text, "\"Here?\" Asked Jack");
  ChatResult json_object = Decode(Config(false), "llamaserver-g-json-object.http");
  ASSERT_TRUE(json_object);
  EXPECT_EQ(json_object->text, " \n \n            ");
}

TEST(OpenAIDecoder, ContextExceededIsItsOwnCodeWithTheServerMessage) {
  for (const char* fixture :
       {"llamaserver-d-context-exceeded.http", "llamaserver-d2-context-exceeded-stream.http"}) {
    ChatResult r = Decode(Config(true), fixture);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status.code(), StatusCode::kContextExceeded) << fixture;
    EXPECT_EQ(r.error().http_status, 400);
    const std::string& m = r.error().status.message();
    EXPECT_NE(m.find("exceeds the available context size (256 tokens)"), std::string::npos) << m;
    EXPECT_NE(m.find("endpoint \"local\""), std::string::npos) << m;
    EXPECT_NE(m.find("http://127.0.0.1:41481/v1/chat/completions"), std::string::npos) << m;
    EXPECT_NE(m.find("HTTP 400"), std::string::npos) << m;
  }
}

TEST(OpenAIDecoder, MapsRecordedErrorResponses) {
  struct Case {
    const char* fixture;
    StatusCode code;
    int http;
    const char* quoted;
  };
  for (const Case& c : {
           Case{"llamaserver-e-malformed-json.http", StatusCode::kUnavailable, 500,
                "parse error at line 1, column 98"},
           Case{"llamaserver-i-n5-over-slots.http", StatusCode::kInvalidArgument, 400,
                "Value must be between 1 <= value <= 4"},
           Case{"llamaserver-k-missing-messages.http", StatusCode::kInvalidArgument, 400,
                "'messages' is required"},
           Case{"llamaserver-m-unknown-route.http", StatusCode::kNotFound, 404, "File Not Found"},
           Case{"llamaserver-o-auth-wrong-key.http", StatusCode::kUnauthenticated, 401,
                "Invalid API Key"},
       }) {
    ChatResult r = Decode(Config(false), c.fixture);
    ASSERT_FALSE(r) << c.fixture;
    EXPECT_EQ(r.error().status.code(), c.code) << c.fixture;
    EXPECT_EQ(r.error().http_status, c.http) << c.fixture;
    EXPECT_NE(r.error().status.message().find(c.quoted), std::string::npos)
        << r.error().status.message();
  }
}

TEST(OpenAIDecoder, PricesUsageFromTheBuiltInTable) {
  EndpointConfig config = Config(false);
  config.model = "gpt-4o-mini";
  ChatResult r = Decode(config, "llamaserver-a-nonstream.http");
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->usage.cost_usd, (46 * 0.15 + 16 * 0.60) / 1e6);
}

TEST(OpenAIDecoder, StreamWithoutFinishOrDoneIsATransientCut) {
  auto transcript =
      testing::ParseTranscript(testing::ReadFixture("llamaserver-c-stream-usage.http"));
  std::string cut = transcript.body.substr(0, transcript.body.size() / 2);
  auto protocol = MakeOpenAIProtocol(Config(true), "");
  auto decoder = protocol->NewDecoder(Prompt());
  decoder->OnHeaders(200, transcript.headers);
  decoder->OnData(cut);
  ChatResult r = decoder->Finish(Status::Ok());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kUnavailable);
  EXPECT_NE(
      r.error().status.message().find("stream cut after " + std::to_string(cut.size()) + " bytes"),
      std::string::npos)
      << r.error().status.message();
}

TEST(OpenAIDecoder, GarbageOrChoicelessBodiesAreTransient) {
  auto protocol = MakeOpenAIProtocol(Config(false), "");
  HttpHeaders json_type{{"content-type", "application/json"}};
  for (const char* body :
       {"<html>502 from a proxy</html>", "{\"object\":\"chat.completion\"}", "{\"choices\":[]}"}) {
    auto decoder = protocol->NewDecoder(Prompt());
    decoder->OnHeaders(200, json_type);
    decoder->OnData(body);
    ChatResult r = decoder->Finish(Status::Ok());
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().status.code(), StatusCode::kUnavailable) << body;
    EXPECT_TRUE(r.error().transient());
  }
}

TEST(OpenAIDecoder, ErrorEventInsideAStreamEndsTheRequest) {
  auto protocol = MakeOpenAIProtocol(Config(true), "");
  auto decoder = protocol->NewDecoder(Prompt());
  decoder->OnHeaders(200, {{"content-type", "text/event-stream"}});
  EXPECT_FALSE(decoder->OnData(
      "data: {\"error\":{\"message\":\"This model's maximum context length is 8192 tokens\","
      "\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}\n\n"));
  ChatResult r = decoder->Finish(Status::Cancelled("aborted by the receiver"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kContextExceeded);
}

TEST(OpenAIProtocol, EncodesTheRequestBodyAndHeaders) {
  EndpointConfig config = Config(true);
  config.headers = {{"X-Team", "launch"}};
  auto protocol = MakeOpenAIProtocol(config, "sk-test-123");
  ChatRequest request = Prompt();
  request.messages.insert(request.messages.begin(), {"system", "Be \"brief\"\n"});
  request.max_tokens = 16;
  request.temperature = 0.25;
  request.json_output = true;
  request.idempotency_key = "run1/draft/0";
  request.agent = "strategist";
  HttpRequest http;
  protocol->Encode(request, http);
  EXPECT_EQ(http.url, "http://127.0.0.1:41481/v1/chat/completions");
  EXPECT_EQ(http.method, "POST");
  nlohmann::json body = nlohmann::json::parse(http.body);
  EXPECT_EQ(body, nlohmann::json::parse(R"({
    "model": "stories260K",
    "messages": [{"role": "system", "content": "Be \"brief\"\n"},
                 {"role": "user", "content": "Once upon a time"}],
    "max_tokens": 16, "temperature": 0.25, "stream": true,
    "stream_options": {"include_usage": true},
    "response_format": {"type": "json_object"}})"));
  auto has = [&](const std::string& line) {
    return std::find(http.headers.begin(), http.headers.end(), line) != http.headers.end();
  };
  EXPECT_TRUE(has("Content-Type: application/json"));
  EXPECT_TRUE(has("Authorization: Bearer sk-test-123"));
  EXPECT_TRUE(has("Idempotency-Key: run1/draft/0"));
  EXPECT_TRUE(has("X-Chorus-Agent: strategist"));
  EXPECT_TRUE(has("X-Team: launch"));
}

TEST(OpenAIProtocol, OmitsUnsetOptionsAndUsesMaxCompletionTokensForReasoningModels) {
  EndpointConfig config = Config(false);
  config.model = "o3-2025-04-16";
  config.max_tokens = 100;
  HttpRequest http;
  MakeOpenAIProtocol(config, "")->Encode(Prompt(), http);
  nlohmann::json body = nlohmann::json::parse(http.body);
  EXPECT_EQ(body["max_completion_tokens"], 100);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_FALSE(body.contains("temperature"));
  EXPECT_FALSE(body.contains("stream_options"));
  EXPECT_FALSE(body.contains("response_format"));
  EXPECT_EQ(body["stream"], false);
  for (const std::string& h : http.headers) EXPECT_FALSE(h.starts_with("Authorization"));
}

TEST(OpenAIProtocol, ReplacesInvalidUtf8AndStripsHeaderInjection) {
  ChatRequest request = Prompt();
  request.messages[0].content = "ok \xFF\xFE end";
  request.agent = "evil\r\nX-Injected: 1";
  HttpRequest http;
  MakeOpenAIProtocol(Config(false), "")->Encode(request, http);
  nlohmann::json body = nlohmann::json::parse(http.body);
  EXPECT_EQ(body["messages"][0]["content"], "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
  for (const std::string& h : http.headers) {
    EXPECT_EQ(h.find('\n'), std::string::npos);
    EXPECT_FALSE(h.starts_with("X-Injected"));
  }
}

}  // namespace
}  // namespace chorus
