// MakeModelClient + MakeHttpTransport end to end against a loopback server that replays
// recorded llama-server bytes (chunked framing included) or scripted faults.

#include "chorus/model_client.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <future>
#include <mutex>
#include <nlohmann/json.hpp>

#include "model/loopback_server.h"
#include "model/wire_fixture.h"

namespace chorus {
namespace {

using testing::LoopbackServer;
using testing::ReceivedRequest;
using testing::Reply;
using testing::SimpleReply;

EndpointConfig OpenAIConfig(const LoopbackServer& server) {
  EndpointConfig c;
  c.name = "local";
  c.provider = Provider::kOpenAI;
  c.base_url = server.base_url() + "/v1";
  c.model = "stories260K";
  c.timeout_ms = 5000;
  return c;
}

ChatRequest Prompt() {
  ChatRequest r;
  r.messages = {{"user", "Once upon a time"}};
  r.max_tokens = 16;
  r.idempotency_key = "run-1/story/0";
  r.agent = "writer";
  return r;
}

ChatResult Ask(ModelClient& client, ChatRequest request = Prompt()) {
  std::promise<ChatResult> promise;
  client.Submit(std::move(request), [&](ChatResult r) { promise.set_value(std::move(r)); });
  return promise.get_future().get();
}

std::unique_ptr<ModelClient> Make(const EndpointConfig& config) {
  auto client = MakeModelClient(config, MakeHttpTransport());
  EXPECT_TRUE(client) << client.error().ToString();
  return std::move(*client);
}

// Each HTTP chunk of the recorded response in its own write, 2 ms apart, with the first chunk
// further split mid-event.
Reply ReplayChunked(const std::string& wire) {
  Reply reply;
  size_t body = wire.find("\r\n\r\n") + 4;
  reply.segments.push_back({0, wire.substr(0, body)});
  size_t pos = body;
  while (pos < wire.size()) {
    size_t size_end = wire.find("\r\n", pos);
    size_t size = std::stoul(wire.substr(pos, size_end - pos), nullptr, 16);
    size_t end = std::min(wire.size(), size_end + 2 + size + 2);
    std::string chunk = wire.substr(pos, end - pos);
    if (chunk.size() > 100) {
      reply.segments.push_back({2, chunk.substr(0, 61)});
      chunk.erase(0, 61);
    }
    reply.segments.push_back({2, std::move(chunk)});
    pos = end;
  }
  return reply;
}

TEST(ModelClient, ReplaysARecordedChunkedStreamAndSendsTheExpectedRequest) {
  std::string wire = testing::ReadFixture("llamaserver-c-stream-usage.wire.resp");
  LoopbackServer server([&](const ReceivedRequest&) { return ReplayChunked(wire); });
  setenv("CHORUS_TEST_OPENAI_KEY", "sk-loopback-123", 1);
  EndpointConfig config = OpenAIConfig(server);
  config.api_key_env = "CHORUS_TEST_OPENAI_KEY";
  config.model = "gpt-4o-mini";
  auto client = Make(config);
  ChatResult r = Ask(*client);
  ASSERT_TRUE(r) << r.error().status.ToString();
  EXPECT_EQ(r->text, "\"Here?\" Asked Jack.\n");
  EXPECT_EQ(r->finish_reason, "length");
  EXPECT_EQ(r->usage.input_tokens, 46);
  EXPECT_EQ(r->usage.output_tokens, 16);
  EXPECT_DOUBLE_EQ(r->usage.cost_usd, (46 * 0.15 + 16 * 0.60) / 1e6);
  EXPECT_GE(r->latency_ms, 2 * 18);  // every chunk paused 2 ms

  auto received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, "/v1/chat/completions");
  EXPECT_EQ(received[0].headers["authorization"], "Bearer sk-loopback-123");
  EXPECT_EQ(received[0].headers["idempotency-key"], "run-1/story/0");
  EXPECT_EQ(received[0].headers["x-chorus-agent"], "writer");
  nlohmann::json body = nlohmann::json::parse(received[0].body);
  EXPECT_EQ(body["model"], "gpt-4o-mini");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(client->pending(), 0);
}

TEST(ModelClient, RateLimitCarriesRetryAfter) {
  LoopbackServer server([](const ReceivedRequest&) {
    return SimpleReply(429, "application/json",
                       R"({"error":{"message":"Rate limit reached","type":"requests"}})", 0, false,
                       "Retry-After: 2\r\n");
  });
  ChatResult r = Ask(*Make(OpenAIConfig(server)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.error().http_status, 429);
  EXPECT_EQ(r.error().retry_after_ms, 2000);
  EXPECT_TRUE(r.error().transient());
  EXPECT_NE(r.error().status.message().find("Rate limit reached"), std::string::npos);
}

TEST(ModelClient, StreamCutMidwayIsTransient) {
  std::string wire = testing::ReadFixture("llamaserver-c-stream-usage.wire.resp");
  LoopbackServer server([&](const ReceivedRequest&) {
    Reply reply = ReplayChunked(wire);
    reply.segments.resize(reply.segments.size() / 2);  // then the server closes the socket
    return reply;
  });
  ChatResult r = Ask(*Make(OpenAIConfig(server)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kUnavailable) << r.error().status.ToString();
  EXPECT_NE(r.error().status.message().find("stream cut after"), std::string::npos)
      << r.error().status.message();
}

TEST(ModelClient, GarbageBodyIsTransient) {
  LoopbackServer server([](const ReceivedRequest&) {
    return SimpleReply(200, "application/json", "\x01\x02 not json at all");
  });
  EndpointConfig config = OpenAIConfig(server);
  config.stream = false;
  ChatResult r = Ask(*Make(config));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.error().status.message().find("expected a JSON chat.completion"), std::string::npos);
}

TEST(ModelClient, ServerThatNeverAnswersTimesOut) {
  LoopbackServer server([](const ReceivedRequest&) { return Reply{{}, false, true}; });
  EndpointConfig config = OpenAIConfig(server);
  config.timeout_ms = 150;
  ChatResult r = Ask(*Make(config));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.error().status.message().find("endpoint \"local\""), std::string::npos);
}

TEST(ModelClient, ApiKeyEchoedByTheServerNeverAppearsInTheError) {
  LoopbackServer server([](const ReceivedRequest& r) {
    return SimpleReply(401, "application/json",
                       "{\"error\":{\"message\":\"bad key " + r.headers.at("authorization") +
                           "\",\"type\":\"authentication_error\"}}",
                       0, false);
  });
  setenv("CHORUS_TEST_LEAKY_KEY", "sk-do-not-print-me", 1);
  EndpointConfig config = OpenAIConfig(server);
  config.api_key_env = "CHORUS_TEST_LEAKY_KEY";
  ChatResult r = Ask(*Make(config));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.error().status.message().find("sk-do-not-print-me"), std::string::npos);
}

TEST(ModelClient, ConcurrencyCapHoldsAndQueuedRequestsRunInOrder) {
  LoopbackServer server([](const ReceivedRequest&) {
    return SimpleReply(
        200, "application/json",
        R"({"choices":[{"index":0,"message":{"content":"x"},"finish_reason":"stop"}]})",
        /*delay_ms=*/20);
  });
  EndpointConfig config = OpenAIConfig(server);
  config.stream = false;
  config.concurrency = 4;
  auto client = Make(config);
  constexpr int kRequests = 40;
  std::mutex mu;
  std::vector<std::string> started_order;
  std::promise<void> all_done;
  int done = 0;
  for (int i = 0; i < kRequests; ++i) {
    ChatRequest request = Prompt();
    request.agent = "agent-" + std::to_string(i);
    client->Submit(std::move(request), [&](ChatResult r) {
      EXPECT_TRUE(r) << r.error().status.ToString();
      std::lock_guard<std::mutex> lock(mu);
      if (++done == kRequests) all_done.set_value();
    });
  }
  EXPECT_GT(client->pending(), 4);  // queued ones count too
  all_done.get_future().wait();
  EXPECT_EQ(client->pending(), 0);
  EXPECT_LE(server.max_in_flight(), 4);
  EXPECT_EQ(server.max_in_flight(), 4);
  auto received = server.received();
  ASSERT_EQ(received.size(), static_cast<size_t>(kRequests));
  for (int i = 4; i < kRequests; ++i) {  // FIFO past the first wave
    EXPECT_EQ(received[i].headers["x-chorus-agent"], "agent-" + std::to_string(i));
  }
}

TEST(ModelClient, AnthropicStreamEndToEnd) {
  std::string sse =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":"
      "\"claude-3-5-haiku-20241022\",\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi!\"}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  LoopbackServer server([&](const ReceivedRequest&) {
    return testing::Trickle(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        "Connection: close\r\n\r\n" +
            sse,
        50, 1);
  });
  setenv("CHORUS_TEST_ANTHROPIC_KEY", "sk-ant-loop", 1);
  EndpointConfig config;
  config.name = "deep";
  config.provider = Provider::kAnthropic;
  config.base_url = server.base_url();
  config.model = "claude-3-5-haiku-20241022";
  config.api_key_env = "CHORUS_TEST_ANTHROPIC_KEY";
  ChatRequest request = Prompt();
  request.messages.insert(request.messages.begin(), {"system", "Be kind."});
  ChatResult r = Ask(*Make(config), std::move(request));
  ASSERT_TRUE(r) << r.error().status.ToString();
  EXPECT_EQ(r->text, "Hi!");
  EXPECT_EQ(r->usage.input_tokens, 9);
  EXPECT_EQ(r->usage.output_tokens, 3);
  auto received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, "/v1/messages");
  EXPECT_EQ(received[0].headers["x-api-key"], "sk-ant-loop");
  EXPECT_EQ(nlohmann::json::parse(received[0].body)["system"], "Be kind.");
}

TEST(MakeModelClient, RejectsUnusableConfigurations) {
  auto transport = MakeHttpTransport();
  EndpointConfig config;
  config.name = "fast";
  config.provider = Provider::kOpenAI;
  config.model = "gpt-4o-mini";
  auto no_url = MakeModelClient(config, transport);
  ASSERT_FALSE(no_url);
  EXPECT_EQ(no_url.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_url.error().message().find("base_url"), std::string::npos);

  config.base_url = "https://api.openai.com/v1";
  config.api_key_env = "CHORUS_TEST_DEFINITELY_UNSET_VAR";
  unsetenv("CHORUS_TEST_DEFINITELY_UNSET_VAR");
  auto no_key = MakeModelClient(config, transport);
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(no_key.error().message().find("CHORUS_TEST_DEFINITELY_UNSET_VAR"), std::string::npos);

  config.api_key_env.clear();
  EXPECT_FALSE(MakeModelClient(config, nullptr));
  config.concurrency = 0;
  EXPECT_FALSE(MakeModelClient(config, transport));
  config.concurrency = 8;
  auto ok = MakeModelClient(config, transport);
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ((*ok)->config().concurrency, 8);
}

TEST(ModelClient, RefusedConnectionReachesTheCallbackAsUnavailable) {
  auto transport = MakeHttpTransport();
  EndpointConfig config;
  config.name = "down";
  config.provider = Provider::kOpenAI;
  config.base_url = "http://127.0.0.1:9/v1";
  config.model = "m";
  auto client = MakeModelClient(config, transport);
  ASSERT_TRUE(client);
  ChatResult r = Ask(**client);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.error().http_status, 0);
  EXPECT_NE(r.error().status.message().find("http://127.0.0.1:9/v1/chat/completions"),
            std::string::npos)
      << r.error().status.message();
}

}  // namespace
}  // namespace chorus
