#include "support/fake_server/service.h"

#include <algorithm>
#include <chrono>

#include "support/fake_server/wire.h"

namespace chorus::fake {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr std::string_view kOpenAiPath = "/v1/chat/completions";
constexpr std::string_view kAnthropicPath = "/v1/messages";
constexpr std::string_view kFakeModel = "fake-model";
constexpr std::string_view kGarbage = "<html><body>502 Bad Gateway</body></html> {\"partial\": tr";

int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Header(const HttpExchange& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return {};
}

Answer JsonAnswer(int status, std::string body) {
  Answer answer;
  answer.status = status;
  answer.body = std::move(body);
  answer.close_connection = status >= 400;  // as llama.cpp's server does
  return answer;
}

bool IsAnthropic(const std::string& path) { return path == kAnthropicPath; }

// "/v1/x?y" from a target in origin-form or, as a client sends it through a proxy (this
// server then stands for both), absolute-form: "http://host:port/v1/x?y".
std::string PathOf(const std::string& target) {
  size_t start = 0;
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    start = target.find('/', target.find("//") + 2);
    if (start == std::string::npos) return "/";
  }
  return target.substr(start, target.find('?', start) - start);
}

bool IsTrue(const Json& object, const char* key) {
  if (!object.is_object()) return false;
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

Service::Service(ServiceOptions options, Script script)
    : options_(std::move(options)),
      runner_(std::move(script)),
      log_(options_.keep_requests),
      random_(std::random_device{}()) {}

void Service::ConnectionOpened() {
  ++stats_.connections;
  stats_.max_connections = std::max(stats_.max_connections, stats_.connections);
}

std::string Service::RandomId(std::string_view prefix, size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(prefix);
  for (size_t i = 0; i < length; ++i) id += kAlphabet[random_() % kAlphabet.size()];
  return id;
}

Answer Service::Error(const std::string& path, int status, std::string_view message) const {
  if (IsAnthropic(path)) {
    return JsonAnswer(status, AnthropicErrorJson(message, AnthropicErrorType(status)));
  }
  return JsonAnswer(status, OpenAiErrorJson(status, message, OpenAiErrorType(status)));
}

bool Service::Authorized(const HttpExchange& request) const {
  return Header(request, "authorization") == "Bearer " + options_.api_key ||
         Header(request, "x-api-key") == options_.api_key;
}

Answer Service::Handle(const HttpExchange& request) {
  const std::string path = PathOf(request.target);
  if (path.rfind("/_", 0) == 0) return HandleControl(request, path);

  ++stats_.requests;
  ++stats_.in_flight;
  stats_.max_in_flight = std::max(stats_.max_in_flight, stats_.in_flight);

  Json headers = Json::object();
  for (const auto& [name, value] : request.headers) {
    const bool secret = name == "authorization" || name == "x-api-key";
    const bool is_test_key = !options_.api_key.empty() &&
                             (value == options_.api_key || value == "Bearer " + options_.api_key);
    std::string shown = secret && !is_test_key ? "<redacted>" : value;
    if (headers.contains(name)) {
      headers[name] = headers[name].get<std::string>() + ", " + shown;
    } else {
      headers[name] = std::move(shown);
    }
  }
  Json body = request.body.empty() ? Json() : Json::parse(request.body, nullptr, false);
  if (body.is_discarded()) body = request.body;
  const std::string agent = Header(request, "x-chorus-agent");
  Json record = {{"seq", ++seq_},
                 {"method", request.method},
                 {"path", path},
                 {"headers", std::move(headers)},
                 {"body", std::move(body)},
                 {"agent", agent.empty() ? Json() : Json(agent)},
                 {"rule", nullptr},
                 {"fault", nullptr},
                 {"ts_ms", NowMs()}};

  Answer answer = HandleApi(request, path, record);
  answer.counted = true;
  record["status"] = answer.mode == Answer::Mode::kRespond || answer.mode == Answer::Mode::kStream
                         ? Json(answer.status)
                         : Json();
  log_.Append(record);
  return answer;
}

Answer Service::HandleControl(const HttpExchange& request, const std::string& path) {
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (path == "/_requests" && get) return JsonAnswer(200, log_.ToJsonArray());
  if (path == "/_stats" && get) {
    return JsonAnswer(200, Json{{"requests", stats_.requests},
                                {"in_flight", stats_.in_flight},
                                {"max_in_flight", stats_.max_in_flight},
                                {"connections", stats_.connections},
                                {"max_connections", stats_.max_connections}}
                               .dump());
  }
  if (path == "/_reset" && post) {
    log_.Clear();
    runner_.ResetCounters();
    seq_ = 0;
    stats_.requests = 0;
    stats_.max_in_flight = stats_.in_flight;
    stats_.max_connections = stats_.connections;
    return JsonAnswer(200, R"({"ok":true})");
  }
  if (path == "/_script" && get) return JsonAnswer(200, runner_.script().source.dump());
  if (path == "/_script" && post) {
    Json json = Json::parse(request.body, nullptr, false);
    if (json.is_discarded()) {
      return Error(path, 400, "POST /_script: expected a JSON script body, found unparseable text");
    }
    auto script = ParseScript(json);
    if (!script) return Error(path, 400, "POST /_script: " + script.error());
    runner_ = ScriptRunner(std::move(*script));
    return JsonAnswer(200, R"({"ok":true})");
  }
  return Error(path, 404,
               "no control endpoint " + request.method + " " + path +
                   " (expected GET /_requests, GET /_stats, POST /_reset, GET|POST "
                   "/_script)");
}

Answer Service::HandleApi(const HttpExchange& request, const std::string& path, Json& record) {
  const bool chat = path == kOpenAiPath || path == kAnthropicPath;
  if (path == "/health" && request.method == "GET") return JsonAnswer(200, R"({"status":"ok"})");
  if (!options_.api_key.empty() && !Authorized(request)) return Error(path, 401, "Invalid API Key");
  if (path == "/v1/models" && request.method == "GET") {
    Json data = Json::array();
    std::vector<std::string> ids = {std::string(kFakeModel)};
    for (const Rule& rule : runner_.script().rules) {
      if (rule.match.model && std::find(ids.begin(), ids.end(), *rule.match.model) == ids.end()) {
        ids.push_back(*rule.match.model);
      }
    }
    for (const std::string& id : ids) {
      data.push_back({{"id", id},
                      {"object", "model"},
                      {"created", NowMs() / 1000},
                      {"owned_by", "fake-llm-server"}});
    }
    return JsonAnswer(200, Json{{"object", "list"}, {"data", std::move(data)}}.dump());
  }
  if (!chat) return Error(path, 404, "File Not Found: " + request.method + " " + path);
  if (request.method != "POST") {
    return Error(path, 405, "expected POST " + path + ", found " + request.method);
  }
  const Json& body = record["body"];
  if (!body.is_object()) {
    std::string found = "an empty body";
    if (!request.body.empty()) {
      try {
        found = std::string("a JSON ") + Json::parse(request.body).type_name();
      } catch (const Json::parse_error& e) {
        found = std::string("invalid JSON: ") + e.what();
      }
    }
    return Error(path, 400, "expected a JSON object as the request body, found " + found);
  }
  if (!body.contains("messages") || !body["messages"].is_array()) {
    return Error(path, 400, "'messages' is required");
  }
  if (IsAnthropic(path) && !body.contains("max_tokens")) {
    return Error(path, 400, "max_tokens: Field required");
  }
  return HandleChat(request, path, body, record);
}

Answer Service::HandleChat(const HttpExchange& request, const std::string& path, const Json& body,
                           Json& record) {
  const bool anthropic = IsAnthropic(path);
  const bool stream = IsTrue(body, "stream");
  Prompt prompt = ExtractPrompt(path, Header(request, "x-chorus-agent"), body);
  Decision decision = runner_.Decide(prompt);
  if (decision.rule) record["rule"] = *decision.rule;

  const milliseconds delay(decision.latency_ms.value_or(options_.latency_ms));
  const milliseconds interval(decision.chunk_interval_ms.value_or(options_.chunk_interval_ms));
  const int64_t prompt_tokens = EstimateTokens(prompt.text_bytes);

  Completion completion;
  completion.id = anthropic ? RandomId("msg_", 24) : RandomId("chatcmpl-", 32);
  completion.created = NowMs() / 1000;
  completion.model = prompt.model.empty() ? std::string(kFakeModel) : prompt.model;
  completion.prompt_tokens = prompt_tokens;

  Answer answer;
  answer.delay = delay;
  if (decision.fault) {
    const FaultSpec& fault = *decision.fault;
    record["fault"] = FaultKindName(fault.kind);
    std::string where = "rule " + (decision.rule ? std::to_string(*decision.rule) : "default");
    switch (fault.kind) {
      case FaultKind::kHttpError: {
        answer = Error(
            path, fault.status,
            "fake-llm-server: scripted HTTP " + std::to_string(fault.status) + " (" + where + ")");
        if (fault.body.is_string()) {
          answer.body = fault.body.get<std::string>();
        } else if (!fault.body.is_null()) {
          answer.body = fault.body.dump();
        }
        if (fault.retry_after) answer.headers.emplace_back("Retry-After", *fault.retry_after);
        break;
      }
      case FaultKind::kContextExceeded: {
        const int64_t n_ctx =
            fault.n_ctx > 0 ? fault.n_ctx : std::max<int64_t>(1, prompt_tokens / 2);
        if (anthropic) {
          answer = Error(path, 400,
                         "prompt is too long: " + std::to_string(prompt_tokens) + " tokens > " +
                             std::to_string(n_ctx) + " maximum");
        } else {
          answer = JsonAnswer(400, OpenAiContextExceededJson(prompt_tokens, n_ctx));
        }
        break;
      }
      case FaultKind::kGarbage:
        answer.status = 200;
        answer.content_type = stream ? "text/event-stream" : "application/json; charset=utf-8";
        answer.body =
            fault.body.is_string() ? fault.body.get<std::string>() : std::string(kGarbage);
        break;
      case FaultKind::kCutStream:
        completion.text = "This answer is cut off before it ends; the connection closes mid-way.";
        completion.finish_reason = "stop";
        completion.completion_tokens = EstimateTokens(static_cast<int64_t>(completion.text.size()));
        answer.cut = true;
        if (stream) {
          answer.mode = Answer::Mode::kStream;
          answer.events = anthropic ? AnthropicMessageEvents(completion)
                                    : OpenAiCompletionEvents(completion, false);
          answer.cut_after_events = static_cast<size_t>(std::min<int64_t>(
              fault.after_events, static_cast<int64_t>(answer.events.size()) - 1));
        } else {
          answer.body =
              anthropic ? AnthropicMessageJson(completion) : OpenAiCompletionJson(completion);
        }
        break;
      case FaultKind::kStall:
        answer.mode = Answer::Mode::kStall;
        break;
      case FaultKind::kClose:
        answer.mode = Answer::Mode::kClose;
        break;
      case FaultKind::kAuth:
        answer = Error(path, 401, "Invalid API Key");
        break;
    }
    answer.delay = delay;
    answer.event_interval = interval;
    return answer;
  }

  completion.text = std::move(decision.reply.text);
  completion.finish_reason = std::move(decision.reply.finish_reason);
  completion.completion_tokens = EstimateTokens(static_cast<int64_t>(completion.text.size()));
  if (stream) {
    const bool include_usage =
        body.contains("stream_options") && IsTrue(body["stream_options"], "include_usage");
    answer.mode = Answer::Mode::kStream;
    answer.events = anthropic ? AnthropicMessageEvents(completion)
                              : OpenAiCompletionEvents(completion, include_usage);
    answer.event_interval = interval;
  } else {
    answer.body = anthropic ? AnthropicMessageJson(completion) : OpenAiCompletionJson(completion);
  }
  return answer;
}

}  // namespace chorus::fake
