// Black-box tests of the fake LLM server: the real binary on loopback, driven with libcurl.
#include "support/fake_llm_server.h"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace chorus::test {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

struct HttpResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  milliseconds elapsed{0};

  Json json() const { return Json::parse(body); }
};

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

size_t AppendHeader(char* data, size_t size, size_t count, void* out) {
  std::string line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n") + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * count;
}

struct Request {
  std::string method = "POST";
  std::string url{};
  std::string body{};
  std::vector<std::string> headers = {"Content-Type: application/json"};
  long timeout_ms = 10000;
};

HttpResult Send(const Request& request) {
  HttpResult result;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  curl_slist* list = nullptr;
  for (const std::string& header : request.headers) list = curl_slist_append(list, header.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "POST")
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, request.body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &result.headers);
  const auto start = std::chrono::steady_clock::now();
  result.code = curl_easy_perform(curl.get());
  result.elapsed =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(list);
  return result;
}

Json Chat(const std::string& user, bool stream = false) {
  Json body = {{"model", "test-model"}, {"messages", {{{"role", "user"}, {"content", user}}}}};
  if (stream) body["stream"] = true;
  return body;
}

HttpResult PostOpenAi(const FakeLlmServer& server, const Json& body,
                      std::vector<std::string> extra_headers = {}) {
  Request request{.url = server.openai_base_url() + "/chat/completions", .body = body.dump()};
  request.headers.insert(request.headers.end(), extra_headers.begin(), extra_headers.end());
  return Send(request);
}

HttpResult PostAnthropic(const FakeLlmServer& server, Json body) {
  body["max_tokens"] = 64;
  return Send({.url = server.anthropic_base_url() + "/v1/messages", .body = body.dump()});
}

struct SseEvent {
  std::string event;  // the "event:" line; empty for OpenAI
  std::string data;
};

std::vector<SseEvent> ParseSse(const std::string& body) {
  std::vector<SseEvent> events;
  size_t begin = 0;
  for (size_t end; (end = body.find("\n\n", begin)) != std::string::npos; begin = end + 2) {
    SseEvent event;
    std::string block = body.substr(begin, end - begin);
    size_t line_begin = 0;
    while (line_begin <= block.size()) {
      size_t line_end = std::min(block.find('\n', line_begin), block.size());
      std::string line = block.substr(line_begin, line_end - line_begin);
      if (line.rfind("event: ", 0) == 0) event.event = line.substr(7);
      if (line.rfind("data: ", 0) == 0) event.data = line.substr(6);
      line_begin = line_end + 1;
    }
    events.push_back(event);
  }
  return events;
}

FakeLlmServer StartServer(FakeLlmServer::Options options = {}) {
  auto server = FakeLlmServer::Start(std::move(options));
  if (!server) throw std::runtime_error(server.error());
  return std::move(*server);
}

// A fresh path for a server's --record file, private to this test process.
std::string RecordPath(const std::string& stem) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            (stem + "_" + std::to_string(::getpid()) + ".jsonl"))
                               .string();
  std::filesystem::remove(path);
  return path;
}

// The records a server wrote to its --record file, one JSON document per line.
std::vector<Json> ReadRecordFile(const std::string& path) {
  std::ifstream file(path);
  std::vector<Json> records;
  for (std::string line; std::getline(file, line);) records.push_back(Json::parse(line));
  return records;
}

int64_t Tokens(size_t bytes) { return static_cast<int64_t>((bytes + 3) / 4); }

TEST(FakeLlmServer, AnswersOpenAiJsonWithUsageEstimatedFromBytes) {
  FakeLlmServer server = StartServer({.script = {{"default", {{"reply", "Hello, world!"}}}}});
  HttpResult result = PostOpenAi(server, Chat("Say hello"));
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  EXPECT_THAT(result.headers["content-type"], HasSubstr("application/json"));
  Json body = result.json();
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_THAT(body["id"].get<std::string>(), ::testing::StartsWith("chatcmpl-"));
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Hello, world!");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["usage"]["prompt_tokens"], Tokens(std::string("Say hello").size()));
  EXPECT_EQ(body["usage"]["completion_tokens"], Tokens(std::string("Hello, world!").size()));
  EXPECT_EQ(body["usage"]["total_tokens"], 3 + 4);
}

TEST(FakeLlmServer, StreamsOpenAiRoleContentFinishUsageThenDone) {
  const std::string reply = "Streaming answer with ünïcödé — and more text";
  FakeLlmServer server = StartServer({.script = {{"default", {{"reply", reply}}}}});
  Json request = Chat("stream please", /*stream=*/true);
  request["stream_options"] = {{"include_usage", true}};
  HttpResult result = PostOpenAi(server, request);
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.headers["content-type"], "text/event-stream");
  EXPECT_EQ(result.headers["transfer-encoding"], "chunked");

  std::vector<SseEvent> events = ParseSse(result.body);
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events.back().data, "[DONE]");
  Json role = Json::parse(events[0].data);
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(role["choices"][0]["delta"]["content"].is_null());
  std::string text;
  size_t content_chunks = 0;
  for (size_t i = 1; i + 3 < events.size(); ++i) {
    Json chunk = Json::parse(events[i].data);
    EXPECT_EQ(chunk["id"], role["id"]);
    EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
    std::string piece = chunk["choices"][0]["delta"]["content"].get<std::string>();
    EXPECT_LE(piece.size(), 4u);
    text += piece;
    ++content_chunks;
  }
  EXPECT_EQ(text, reply);
  EXPECT_GT(content_chunks, 5u);
  Json finish = Json::parse(events[events.size() - 3].data);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(finish["choices"][0]["delta"].empty());
  Json usage = Json::parse(events[events.size() - 2].data);
  EXPECT_TRUE(usage["choices"].is_array() && usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], Tokens(reply.size()));
}

TEST(FakeLlmServer, OmitsTheUsageChunkWithoutIncludeUsage) {
  FakeLlmServer server = StartServer();
  HttpResult result = PostOpenAi(server, Chat("hi", /*stream=*/true));
  ASSERT_EQ(result.code, CURLE_OK);
  std::vector<SseEvent> events = ParseSse(result.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(result.body.find("\"usage\""), std::string::npos);
  Json finish = Json::parse(events[events.size() - 2].data);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
}

TEST(FakeLlmServer, AnswersAnthropicMessagesJson) {
  FakeLlmServer server = StartServer({.script = {{"default", {{"reply", "Bonjour"}}}}});
  Json request = Chat("Say bonjour");
  request["system"] = "You are French.";
  HttpResult result = PostAnthropic(server, request);
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  Json body = result.json();
  EXPECT_EQ(body["type"], "message");
  EXPECT_EQ(body["role"], "assistant");
  EXPECT_THAT(body["id"].get<std::string>(), ::testing::StartsWith("msg_"));
  EXPECT_EQ(body["content"][0]["type"], "text");
  EXPECT_EQ(body["content"][0]["text"], "Bonjour");
  EXPECT_EQ(body["stop_reason"], "end_turn");
  EXPECT_EQ(body["usage"]["input_tokens"],
            Tokens(std::string("You are French.Say bonjour").size()));
  EXPECT_EQ(body["usage"]["output_tokens"], Tokens(7));
}

TEST(FakeLlmServer, StreamsAnthropicEventSequence) {
  const std::string reply = "An Anthropic-style streamed reply.";
  FakeLlmServer server = StartServer({.script = {{"default", {{"reply", reply}}}}});
  HttpResult result = PostAnthropic(server, Chat("go", /*stream=*/true));
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.headers["content-type"], "text/event-stream");
  std::vector<SseEvent> events = ParseSse(result.body);
  std::vector<std::string> names;
  std::string text;
  for (const SseEvent& event : events) {
    Json data = Json::parse(event.data);
    EXPECT_EQ(data["type"], event.event);
    if (names.empty() || names.back() != event.event) names.push_back(event.event);
    if (event.event == "content_block_delta") {
      EXPECT_EQ(data["delta"]["type"], "text_delta");
      text += data["delta"]["text"].get<std::string>();
    }
    if (event.event == "message_delta") {
      EXPECT_EQ(data["delta"]["stop_reason"], "end_turn");
      EXPECT_EQ(data["usage"]["output_tokens"], Tokens(reply.size()));
    }
  }
  EXPECT_THAT(names, ::testing::ElementsAre("message_start", "content_block_start", "ping",
                                            "content_block_delta", "content_block_stop",
                                            "message_delta", "message_stop"));
  EXPECT_EQ(text, reply);
}

TEST(FakeLlmServer, RulesMatchByAgentAndUserTextAndRepeatTheLastReply) {
  Json script = {{"default", {{"reply", "default answer"}}},
                 {"rules",
                  {{{"match", {{"agent", "researcher"}}},
                    {"replies", {"first for {{agent}}", "second #{{n}}: {{last_user}}"}}},
                   {{"match", {{"user_contains", "budget"}}}, {"replies", {"about budgets"}}}}}};
  FakeLlmServer server = StartServer({.script = script});
  auto text = [](const HttpResult& r) { return r.json()["choices"][0]["message"]["content"]; };
  const std::string agent = "X-Chorus-Agent: researcher";
  EXPECT_EQ(text(PostOpenAi(server, Chat("q1"), {agent})), "first for researcher");
  EXPECT_EQ(text(PostOpenAi(server, Chat("q2 {{n}}"), {agent})), "second #2: q2 {{n}}");
  EXPECT_EQ(text(PostOpenAi(server, Chat("q3"), {agent})), "second #3: q3");
  EXPECT_EQ(text(PostOpenAi(server, Chat("the budget is tight"))), "about budgets");
  EXPECT_EQ(text(PostOpenAi(server, Chat("anything else"))), "default answer");

  Json records = server.Requests();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0]["rule"], 0);
  EXPECT_EQ(records[0]["agent"], "researcher");
  EXPECT_EQ(records[3]["rule"], 1);
  EXPECT_TRUE(records[4]["rule"].is_null());
}

TEST(FakeLlmServer, RuleNeedsEveryMatchKeyAndFirstMatchWins) {
  Json script = {
      {"rules",
       {{{"match", {{"model", "big"}, {"system_contains", "reviewer"}}}, {"reply", "both"}},
        {{"match", {{"path", "/v1/messages"}}}, {"reply", "anthropic path"}},
        {{"match", {{"contains", "reviewer"}}}, {"reply", "contains"}}}}};
  FakeLlmServer server = StartServer({.script = script});
  Json both = {{"model", "big"},
               {"messages",
                {{{"role", "system"}, {"content", "You are a reviewer."}},
                 {{"role", "user"}, {"content", "go"}}}}};
  Json wrong_model = both;
  wrong_model["model"] = "small";
  auto text = [](const HttpResult& r) { return r.json()["choices"][0]["message"]["content"]; };
  EXPECT_EQ(text(PostOpenAi(server, both)), "both");
  EXPECT_EQ(text(PostOpenAi(server, wrong_model)), "contains");
  EXPECT_EQ(PostAnthropic(server, both).json()["content"][0]["text"], "both");
  EXPECT_EQ(PostAnthropic(server, wrong_model).json()["content"][0]["text"], "anthropic path");
}

TEST(FakeLlmServer, ReplyObjectSetsTheFinishReasonInBothFormats) {
  Json script = {{"default", {{"reply", {{"text", "cut sh"}, {"finish_reason", "length"}}}}}};
  FakeLlmServer server = StartServer({.script = script});
  EXPECT_EQ(PostOpenAi(server, Chat("x")).json()["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(PostAnthropic(server, Chat("x")).json()["stop_reason"], "max_tokens");
}

TEST(FakeLlmServer, HttpErrorFaultSends429WithRetryAfterThenReplies) {
  Json script = {{"rules",
                  {{{"match", {{"contains", "hello"}}},
                    {"replies", {"after the fault"}},
                    {"faults", {{{"kind", "http_error"}, {"status", 429}, {"retry_after", "1"}}}},
                    {"fault_times", 2}}}}};
  FakeLlmServer server = StartServer({.script = script});
  for (int i = 0; i < 2; ++i) {
    HttpResult limited = PostOpenAi(server, Chat("hello"));
    ASSERT_EQ(limited.code, CURLE_OK);
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.headers["retry-after"], "1");
    EXPECT_EQ(limited.json()["error"]["code"], 429);
    EXPECT_EQ(limited.json()["error"]["type"], "rate_limit_error");
  }
  HttpResult ok = PostOpenAi(server, Chat("hello"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.json()["choices"][0]["message"]["content"], "after the fault");
  Json records = server.Requests();
  EXPECT_EQ(records[0]["fault"], "http_error");
  EXPECT_EQ(records[0]["status"], 429);
  EXPECT_TRUE(records[2]["fault"].is_null());

  HttpResult anthropic_limited = PostAnthropic(server, Chat("hello"));  // counters continue
  EXPECT_EQ(anthropic_limited.status, 200);
}

TEST(FakeLlmServer, ContextExceededIsA400WithContextLengthCode) {
  Json script = {{"default", {{"reply", "x"}, {"faults", {{{"kind", "context_exceeded"}}}}}}};
  FakeLlmServer server = StartServer({.script = script});
  HttpResult openai = PostOpenAi(server, Chat(std::string(400, 'a')));
  EXPECT_EQ(openai.status, 400);
  Json error = openai.json()["error"];
  EXPECT_EQ(error["code"], "context_length_exceeded");
  EXPECT_EQ(error["n_prompt_tokens"], 100);
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("exceeds the available context size"));
  server.Reset();
  HttpResult anthropic = PostAnthropic(server, Chat("long"));
  EXPECT_EQ(anthropic.status, 400);
  EXPECT_EQ(anthropic.json()["type"], "error");
  EXPECT_EQ(anthropic.json()["error"]["type"], "invalid_request_error");
  EXPECT_THAT(anthropic.json()["error"]["message"].get<std::string>(),
              HasSubstr("prompt is too long"));
}

TEST(FakeLlmServer, GarbageFaultIsA200WithANonJsonBody) {
  Json script = {{"default", {{"reply", "x"}, {"faults", {{{"kind", "garbage"}}}}}}};
  FakeLlmServer server = StartServer({.script = script});
  HttpResult result = PostOpenAi(server, Chat("x"));
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  EXPECT_FALSE(result.body.empty());
  EXPECT_TRUE(Json::parse(result.body, nullptr, false).is_discarded());
}

TEST(FakeLlmServer, CutStreamClosesTheSocketMidStream) {
  Json script = {
      {"default", {{"reply", "x"}, {"faults", {{{"kind", "cut_stream"}, {"after_events", 3}}}}}}};
  FakeLlmServer server =
      StartServer({.script = script, .extra_args = {"--chunk-interval-ms", "20"}});
  HttpResult result = PostOpenAi(server, Chat("x", /*stream=*/true));
  // The chunked body never ends: curl sees the connection close before the last chunk.
  EXPECT_NE(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  std::vector<SseEvent> events = ParseSse(result.body);
  EXPECT_EQ(events.size(), 3u);
  EXPECT_EQ(result.body.find("[DONE]"), std::string::npos);
  EXPECT_GE(result.elapsed, milliseconds(40));  // paced events: it was really mid-stream

  HttpResult again = PostOpenAi(server, Chat("x", /*stream=*/true));  // fault consumed
  EXPECT_EQ(again.code, CURLE_OK);
  EXPECT_EQ(ParseSse(again.body).back().data, "[DONE]");
}

TEST(FakeLlmServer, StallHoldsTheRequestUntilTheClientGivesUp) {
  Json script = {{"default", {{"reply", "x"}, {"faults", {{{"kind", "stall"}}}}}}};
  FakeLlmServer server = StartServer({.script = script});
  Request request{.url = server.openai_base_url() + "/chat/completions",
                  .body = Chat("x").dump(),
                  .timeout_ms = 300};
  HttpResult result = Send(request);
  EXPECT_EQ(result.code, CURLE_OPERATION_TIMEDOUT);
  // Held until the client gave up, not answered or closed at once. libcurl waits in
  // whole-millisecond polls and can give up a fraction of a millisecond early, which the
  // truncation to milliseconds here makes 299 (about one run in 40 on a loaded machine).
  EXPECT_GE(result.elapsed, milliseconds(290));
  EXPECT_EQ(result.status, 0);
  // The server notices the client's close and stops counting the request as in flight.
  Json stats;
  for (int i = 0; i < 2000; ++i) {  // up to 10 s on a loaded machine
    stats = server.Stats();
    if (stats["in_flight"] == 0) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(stats["in_flight"], 0);
  EXPECT_EQ(stats["max_in_flight"], 1);
}

TEST(FakeLlmServer, CloseFaultClosesWithoutAResponse) {
  Json script = {{"default", {{"reply", "x"}, {"faults", {{{"kind", "close"}}}}}}};
  FakeLlmServer server = StartServer({.script = script});
  HttpResult result = PostOpenAi(server, Chat("x"));
  EXPECT_EQ(result.code, CURLE_GOT_NOTHING);
  EXPECT_EQ(server.Requests()[0]["fault"], "close");
}

TEST(FakeLlmServer, AuthFaultAndApiKeyGive401) {
  Json script = {
      {"rules", {{{"match", {{"agent", "intruder"}}}, {"faults", {{{"kind", "auth"}}}}}}}};
  FakeLlmServer server = StartServer({.script = script, .api_key = "test-key"});
  HttpResult missing = PostOpenAi(server, Chat("x"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.json()["error"]["type"], "authentication_error");
  EXPECT_EQ(PostOpenAi(server, Chat("x"), {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(PostOpenAi(server, Chat("x"), {"Authorization: Bearer test-key"}).status, 200);
  EXPECT_EQ(PostOpenAi(server, Chat("x"), {"x-api-key: test-key"}).status, 200);
  EXPECT_EQ(
      PostOpenAi(server, Chat("x"), {"x-api-key: test-key", "X-Chorus-Agent: intruder"}).status,
      401);
  EXPECT_EQ(Send({.method = "GET", .url = server.anthropic_base_url() + "/health"}).status, 200);
  EXPECT_EQ(Send({.method = "GET", .url = server.openai_base_url() + "/models"}).status, 401);

  Json records = server.Requests();
  ASSERT_EQ(records.size(), 7u);
  EXPECT_EQ(records[1]["headers"]["authorization"], "<redacted>");
  EXPECT_EQ(records[2]["headers"]["authorization"], "Bearer test-key");
  EXPECT_EQ(records[4]["fault"], "auth");
}

TEST(FakeLlmServer, KeepingNoRequestsStillAnswersAndStillWritesTheRecordFile) {
  // What the benchmarks run: --keep-requests 0 keeps no records in memory, and the record
  // file, when there is one, still gets every request.
  const std::string record_path = RecordPath("fake_keep0");
  FakeLlmServer server =
      StartServer({.script = {{"default", {{"reply", "kept nothing"}}}},
                   .extra_args = {"--keep-requests", "0", "--record", record_path}});
  HttpResult result = PostOpenAi(server, Chat("first"));
  EXPECT_EQ(result.json()["choices"][0]["message"]["content"], "kept nothing");
  PostOpenAi(server, Chat("second"));
  EXPECT_TRUE(server.Requests().empty());
  EXPECT_EQ(server.Stats()["requests"], 2);
  std::vector<Json> lines = ReadRecordFile(record_path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["body"]["messages"][0]["content"], "second");
  std::filesystem::remove(record_path);
}

TEST(FakeLlmServer, RecordsRequestsInMemoryAndToAJsonLinesFile) {
  const std::string record_path = RecordPath("fake_record");
  FakeLlmServer server = StartServer({.extra_args = {"--record", record_path}});
  PostOpenAi(server, Chat("first"), {"X-Chorus-Agent: writer", "Authorization: Bearer sk-secret"});
  Send({.url = server.openai_base_url() + "/chat/completions", .body = "not json"});

  Json records = server.Requests();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["seq"], 1);
  EXPECT_EQ(records[0]["path"], "/v1/chat/completions");
  EXPECT_EQ(records[0]["agent"], "writer");
  EXPECT_EQ(records[0]["headers"]["x-chorus-agent"], "writer");
  EXPECT_EQ(records[0]["headers"]["authorization"], "<redacted>");
  EXPECT_EQ(records[0]["body"]["messages"][0]["content"], "first");
  EXPECT_TRUE(records[0]["ts_ms"].is_number_integer());
  EXPECT_EQ(records[1]["body"], "not json");
  EXPECT_EQ(records[1]["status"], 400);

  std::vector<Json> lines = ReadRecordFile(record_path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], records[0]);
  EXPECT_EQ(server.Stats()["requests"], 2);

  server.Reset();
  EXPECT_TRUE(server.Requests().empty());
  EXPECT_EQ(server.Stats()["requests"], 0);
  std::filesystem::remove(record_path);
}

TEST(FakeLlmServer, UnknownRouteIs404AndMalformedBodyIs400) {
  FakeLlmServer server = StartServer();
  HttpResult missing = Send({.method = "GET", .url = server.openai_base_url() + "/nope"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["error"]["code"], 404);
  EXPECT_EQ(missing.json()["error"]["type"], "not_found_error");

  HttpResult malformed = Send({.url = server.openai_base_url() + "/chat/completions",
                               .body = R"({"model":"m","messages":[)"});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_THAT(malformed.json()["error"]["message"].get<std::string>(), HasSubstr("invalid JSON"));

  HttpResult no_messages = PostOpenAi(server, {{"model", "m"}});
  EXPECT_EQ(no_messages.status, 400);
  EXPECT_EQ(no_messages.json()["error"]["message"], "'messages' is required");

  Json models = Send({.method = "GET", .url = server.openai_base_url() + "/models"}).json();
  EXPECT_EQ(models["object"], "list");
  EXPECT_EQ(models["data"][0]["id"], "fake-model");
}

TEST(FakeLlmServer, LatencyDelaysEveryAnswerAndRulesOverrideIt) {
  Json script = {
      {"rules", {{{"match", {{"contains", "fast"}}}, {"reply", "quick"}, {"latency_ms", 0}}}}};
  FakeLlmServer server = StartServer({.script = script, .latency_ms = 250});
  HttpResult slow = PostOpenAi(server, Chat("slow"));
  EXPECT_EQ(slow.status, 200);
  EXPECT_GE(slow.elapsed, milliseconds(250));
  HttpResult fast = PostOpenAi(server, Chat("fast"));
  EXPECT_EQ(fast.status, 200);
  EXPECT_LT(fast.elapsed, milliseconds(200));
}

TEST(FakeLlmServer, SetScriptReplacesTheRulesAndRejectsInvalidScripts) {
  FakeLlmServer server = StartServer();
  server.SetScript({{"default", {{"reply", "replaced"}}}});
  EXPECT_EQ(PostOpenAi(server, Chat("x")).json()["choices"][0]["message"]["content"], "replaced");
  try {
    server.SetScript({{"rules", {{{"match", {{"agnt", "typo"}}}, {"reply", "x"}}}}});
    FAIL() << "an invalid script was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("rules[0].match: unknown key \\\"agnt\\\""));
  }
}

TEST(FakeLlmServer, InvalidScriptFileFailsStartWithTheReason) {
  auto server = FakeLlmServer::Start({.script = {{"default", {{"reply", 42}}}}});
  ASSERT_FALSE(server);
  EXPECT_THAT(server.error(), HasSubstr("default.reply: expected a string"));
}

TEST(FakeLlmServer, StopsCleanlyOnSigterm) {
  FakeLlmServer server = StartServer();
  ExitStatus status = server.Stop();
  EXPECT_TRUE(status.ok()) << status.Describe() << " " << status.stderr_text;
}

TEST(FakeLlmServer, AnswersTwoThousandConcurrentConnectionsAfterTheLatency) {
  constexpr int kConnections = 2000;
  constexpr auto kLatency = milliseconds(1000);
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < kConnections + 200) GTEST_SKIP() << "RLIMIT_NOFILE " << limit.rlim_cur;

  FakeLlmServer server = StartServer({.latency_ms = static_cast<int>(kLatency.count())});
  const std::string url = server.openai_base_url() + "/chat/completions";
  const std::string body = Chat("concurrent").dump();
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  std::vector<std::string> bodies(kConnections);
  std::vector<CURL*> handles;
  for (int i = 0; i < kConnections; ++i) {
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &bodies[i]);
    curl_multi_add_handle(multi, easy);
    handles.push_back(easy);
  }
  const auto start = std::chrono::steady_clock::now();
  int running = 0;
  do {
    curl_multi_perform(multi, &running);
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  } while (running > 0);
  const auto elapsed = std::chrono::steady_clock::now() - start;

  int answered = 0;
  int messages_left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi, &messages_left)) {
    long status = 0;
    curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    if (message->msg == CURLMSG_DONE && message->data.result == CURLE_OK && status == 200)
      ++answered;
  }
  for (CURL* easy : handles) {
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
  }
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);

  EXPECT_EQ(answered, kConnections);
  EXPECT_GE(elapsed, kLatency);
  // Served one after another this would take 2000 s; concurrently it is the latency plus setup.
  EXPECT_LT(elapsed, kLatency + std::chrono::seconds(8));
  for (const std::string& reply : bodies) {
    ASSERT_EQ(Json::parse(reply)["object"], "chat.completion");
  }
  Json stats = server.Stats();
  EXPECT_EQ(stats["requests"], kConnections);
  // How many overlapped depends on how fast this client connects (slow under sanitizers);
  // finishing within the bound above already proves the server answers them concurrently.
  EXPECT_GT(stats["max_in_flight"].get<int>(), 100);
  EXPECT_EQ(stats["in_flight"], 0);
}

}  // namespace
}  // namespace chorus::test
