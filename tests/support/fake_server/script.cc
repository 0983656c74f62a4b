#include "support/fake_server/script.h"

#include <algorithm>
#include <array>

namespace chorus::fake {
namespace {

using Json = nlohmann::json;
using ParseError = tl::unexpected<std::string>;

constexpr size_t kLastUserLimit = 200;  // code points of {{last_user}}

constexpr std::array<std::pair<FaultKind, std::string_view>, 7> kFaultNames = {{
    {FaultKind::kHttpError, "http_error"},
    {FaultKind::kContextExceeded, "context_exceeded"},
    {FaultKind::kGarbage, "garbage"},
    {FaultKind::kCutStream, "cut_stream"},
    {FaultKind::kStall, "stall"},
    {FaultKind::kClose, "close"},
    {FaultKind::kAuth, "auth"},
}};

std::string Found(const Json& value) {
  std::string text = value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return "found " + text;
}

ParseError Expected(const std::string& where, const std::string& what, const Json& value) {
  return ParseError(where + ": expected " + what + ", " + Found(value));
}

tl::expected<void, std::string> CheckKeys(const Json& object, const std::string& where,
                                          std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (std::string_view name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
      return ParseError(where + ": unknown key \"" + key + "\" (expected one of " + list + ")");
    }
  }
  return {};
}

tl::expected<int64_t, std::string> NonNegative(const Json& value, const std::string& where) {
  if (!value.is_number_integer() || value.get<int64_t>() < 0) {
    return Expected(where, "a non-negative integer", value);
  }
  return value.get<int64_t>();
}

tl::expected<ReplySpec, std::string> ParseReply(const Json& value, const std::string& where) {
  if (value.is_string()) return ReplySpec{value.get<std::string>(), "stop"};
  if (!value.is_object())
    return Expected(where, "a string or {\"text\", \"finish_reason\"}", value);
  if (auto ok = CheckKeys(value, where, {"text", "finish_reason"}); !ok)
    return ParseError(ok.error());
  ReplySpec reply;
  if (!value.contains("text") || !value["text"].is_string()) {
    return Expected(where + ".text", "a string", value.value("text", Json()));
  }
  reply.text = value["text"].get<std::string>();
  if (value.contains("finish_reason")) {
    if (!value["finish_reason"].is_string()) {
      return Expected(where + ".finish_reason", "a string", value["finish_reason"]);
    }
    reply.finish_reason = value["finish_reason"].get<std::string>();
  }
  return reply;
}

tl::expected<FaultSpec, std::string> ParseFault(const Json& given, const std::string& where) {
  if (!given.is_object() || !given.contains("kind") || !given["kind"].is_string()) {
    return Expected(where, "an object with a string \"kind\"", given);
  }
  FaultSpec fault;
  Json value = given;  // without "probability", which every kind takes
  if (value.contains("probability")) {
    const Json& p = value["probability"];
    if (!p.is_number() || p.get<double>() <= 0 || p.get<double>() > 1) {
      return Expected(where + ".probability", "a number in (0, 1]", p);
    }
    fault.probability = p.get<double>();
    value.erase("probability");
  }
  const std::string kind = value["kind"].get<std::string>();
  auto named = std::find_if(kFaultNames.begin(), kFaultNames.end(),
                            [&](const auto& entry) { return entry.second == kind; });
  if (named == kFaultNames.end()) {
    return Expected(where + ".kind",
                    "one of http_error, context_exceeded, garbage, cut_stream, stall, close, auth",
                    value["kind"]);
  }
  fault.kind = named->first;
  switch (fault.kind) {
    case FaultKind::kHttpError: {
      if (auto ok = CheckKeys(value, where, {"kind", "status", "retry_after", "body"}); !ok) {
        return ParseError(ok.error());
      }
      if (value.contains("status")) {
        const Json& status = value["status"];
        if (!status.is_number_integer() || status.get<int>() < 400 || status.get<int>() > 599) {
          return Expected(where + ".status", "an HTTP error status 400..599", status);
        }
        fault.status = status.get<int>();
      }
      if (value.contains("retry_after")) {
        const Json& retry = value["retry_after"];
        if (retry.is_string()) {
          fault.retry_after = retry.get<std::string>();
        } else if (retry.is_number_integer() && retry.get<int64_t>() >= 0) {
          fault.retry_after = std::to_string(retry.get<int64_t>());
        } else {
          return Expected(where + ".retry_after", "a string or non-negative integer", retry);
        }
      }
      if (value.contains("body")) fault.body = value["body"];
      break;
    }
    case FaultKind::kGarbage:
      if (auto ok = CheckKeys(value, where, {"kind", "body"}); !ok) return ParseError(ok.error());
      if (value.contains("body")) {
        if (!value["body"].is_string()) return Expected(where + ".body", "a string", value["body"]);
        fault.body = value["body"];
      }
      break;
    case FaultKind::kCutStream:
      if (auto ok = CheckKeys(value, where, {"kind", "after_events"}); !ok) {
        return ParseError(ok.error());
      }
      if (value.contains("after_events")) {
        auto n = NonNegative(value["after_events"], where + ".after_events");
        if (!n) return ParseError(n.error());
        fault.after_events = *n;
      }
      break;
    case FaultKind::kContextExceeded:
      if (auto ok = CheckKeys(value, where, {"kind", "n_ctx"}); !ok) return ParseError(ok.error());
      if (value.contains("n_ctx")) {
        auto n = NonNegative(value["n_ctx"], where + ".n_ctx");
        if (!n) return ParseError(n.error());
        fault.n_ctx = *n;
      }
      break;
    case FaultKind::kStall:
    case FaultKind::kClose:
    case FaultKind::kAuth:
      if (auto ok = CheckKeys(value, where, {"kind"}); !ok) return ParseError(ok.error());
      break;
  }
  return fault;
}

tl::expected<RuleMatch, std::string> ParseMatch(const Json& value, const std::string& where) {
  if (!value.is_object() || value.empty()) return Expected(where, "a non-empty object", value);
  if (auto ok = CheckKeys(
          value, where, {"agent", "contains", "system_contains", "user_contains", "model", "path"});
      !ok) {
    return ParseError(ok.error());
  }
  RuleMatch match;
  for (const auto& [key, field] : value.items()) {
    if (!field.is_string()) return Expected(where + "." + key, "a string", field);
    std::string text = field.get<std::string>();
    if (key == "agent") match.agent = std::move(text);
    if (key == "contains") match.contains = std::move(text);
    if (key == "system_contains") match.system_contains = std::move(text);
    if (key == "user_contains") match.user_contains = std::move(text);
    if (key == "model") match.model = std::move(text);
    if (key == "path") match.path = std::move(text);
  }
  return match;
}

// `is_default`: the "default" entry, which has no "match".
tl::expected<Rule, std::string> ParseRule(const Json& value, const std::string& where,
                                          bool is_default) {
  if (!value.is_object()) return Expected(where, "an object", value);
  std::initializer_list<std::string_view> keys = {
      "match", "reply", "replies", "latency_ms", "chunk_interval_ms", "faults", "fault_times"};
  if (auto ok = CheckKeys(value, where, keys); !ok) return ParseError(ok.error());
  Rule rule;
  if (is_default && value.contains("match")) {
    return ParseError(where +
                      ": \"default\" answers whatever no rule matched; it takes no \"match\"");
  }
  if (!is_default) {
    if (!value.contains("match"))
      return ParseError(where + ": expected a \"match\" object, found none");
    auto match = ParseMatch(value["match"], where + ".match");
    if (!match) return ParseError(match.error());
    rule.match = std::move(*match);
  }
  if (value.contains("reply") && value.contains("replies")) {
    return ParseError(where + ": give either \"reply\" or \"replies\", not both");
  }
  if (value.contains("reply")) {
    auto reply = ParseReply(value["reply"], where + ".reply");
    if (!reply) return ParseError(reply.error());
    rule.replies.push_back(std::move(*reply));
  }
  if (value.contains("replies")) {
    const Json& replies = value["replies"];
    if (!replies.is_array() || replies.empty()) {
      return Expected(where + ".replies", "a non-empty array", replies);
    }
    for (size_t i = 0; i < replies.size(); ++i) {
      auto reply = ParseReply(replies[i], where + ".replies[" + std::to_string(i) + "]");
      if (!reply) return ParseError(reply.error());
      rule.replies.push_back(std::move(*reply));
    }
  }
  for (const char* key : {"latency_ms", "chunk_interval_ms"}) {
    if (!value.contains(key)) continue;
    auto ms = NonNegative(value[key], where + "." + key);
    if (!ms) return ParseError(ms.error());
    (std::string_view(key) == "latency_ms" ? rule.latency_ms : rule.chunk_interval_ms) = *ms;
  }
  if (value.contains("faults")) {
    const Json& faults = value["faults"];
    if (!faults.is_array()) return Expected(where + ".faults", "an array", faults);
    for (size_t i = 0; i < faults.size(); ++i) {
      auto fault = ParseFault(faults[i], where + ".faults[" + std::to_string(i) + "]");
      if (!fault) return ParseError(fault.error());
      rule.faults.push_back(std::move(*fault));
    }
  }
  rule.fault_times = static_cast<int64_t>(rule.faults.size());
  size_t with_probability = 0;
  double total = 0;
  for (const FaultSpec& f : rule.faults) {
    with_probability += f.probability ? 1 : 0;
    total += f.probability.value_or(0);
  }
  if (with_probability > 0) {
    if (with_probability != rule.faults.size()) {
      return ParseError(where + ": either every fault has a \"probability\" or none has");
    }
    if (total > 1.0 + 1e-9) {
      return ParseError(where + ": the faults' probabilities add up to " + std::to_string(total) +
                        "; expected at most 1");
    }
    if (value.contains("fault_times")) {
      return ParseError(where + ": \"fault_times\" does not apply to faults with a probability");
    }
    rule.random_faults = true;
  }
  if (value.contains("fault_times")) {
    auto times = NonNegative(value["fault_times"], where + ".fault_times");
    if (!times) return ParseError(times.error());
    if (*times > 0 && rule.faults.empty()) {
      return ParseError(where + ": \"fault_times\" is " + std::to_string(*times) +
                        " but \"faults\" is empty");
    }
    rule.fault_times = *times;
  }
  if (is_default && rule.replies.empty()) {
    return ParseError(where + ": expected \"reply\" or \"replies\", found neither");
  }
  return rule;
}

// Appends the text of an OpenAI/Anthropic content value: a string or an array of parts.
void AppendContentText(const Json& content, std::string& out) {
  if (content.is_string()) {
    out += content.get_ref<const std::string&>();
    return;
  }
  if (!content.is_array()) return;
  for (const Json& part : content) {
    if (part.is_string()) {
      out += part.get_ref<const std::string&>();
    } else if (part.is_object() && part.contains("text") && part["text"].is_string()) {
      out += part["text"].get_ref<const std::string&>();
    }
  }
}

std::string TruncateCodePoints(const std::string& text, size_t limit) {
  size_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    // A byte that does not continue a UTF-8 sequence starts a new code point.
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && points++ == limit) {
      return text.substr(0, i);
    }
  }
  return text;
}

// One pass, so text substituted from the request is never itself expanded.
std::string Render(const std::string& text, const Prompt& prompt, int64_t n) {
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  while (at < text.size()) {
    size_t open = text.find("{{", at);
    size_t close = open == std::string::npos ? open : text.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(text, at, open - at);
    std::string_view name(text.data() + open + 2, close - open - 2);
    if (name == "last_user") {
      out += TruncateCodePoints(prompt.last_user, kLastUserLimit);
    } else if (name == "n") {
      out += std::to_string(n);
    } else if (name == "agent") {
      out += prompt.agent;
    } else {
      out.append(text, open, close + 2 - open);
    }
    at = close + 2;
  }
  out.append(text, at, std::string::npos);
  return out;
}

bool Contains(const std::string& haystack, const std::optional<std::string>& needle) {
  return haystack.find(*needle) != std::string::npos;
}

bool Matches(const RuleMatch& match, const Prompt& prompt) {
  if (match.agent && prompt.agent != *match.agent) return false;
  if (match.model && prompt.model != *match.model) return false;
  if (match.path && prompt.path != *match.path) return false;
  auto any_message = [&](const std::optional<std::string>& needle, std::string_view role) {
    if (!needle) return true;
    return std::any_of(prompt.messages.begin(), prompt.messages.end(), [&](const auto& message) {
      bool role_ok = role.empty() || message.first == role ||
                     (role == "system" && message.first == "developer");
      return role_ok && Contains(message.second, needle);
    });
  };
  return any_message(match.contains, "") && any_message(match.system_contains, "system") &&
         any_message(match.user_contains, "user");
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  for (const auto& [k, name] : kFaultNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

Script DefaultScript() {
  Script script;
  script.fallback.replies.push_back(
      {"This is the fake LLM server's answer to: {{last_user}}", "stop"});
  script.source = {{"default", {{"reply", script.fallback.replies.front().text}}}};
  return script;
}

tl::expected<Script, std::string> ParseScript(const Json& json) {
  if (!json.is_object()) return Expected("script", "a JSON object", json);
  if (auto ok = CheckKeys(json, "script", {"default", "rules", "seed"}); !ok) {
    return ParseError(ok.error());
  }
  Script script = DefaultScript();
  script.source = json;
  if (json.contains("seed")) {
    auto seed = NonNegative(json["seed"], "seed");
    if (!seed) return ParseError(seed.error());
    script.seed = static_cast<uint64_t>(*seed);
  }
  if (json.contains("default")) {
    auto fallback = ParseRule(json["default"], "default", /*is_default=*/true);
    if (!fallback) return ParseError(fallback.error());
    script.fallback = std::move(*fallback);
  }
  if (json.contains("rules")) {
    const Json& rules = json["rules"];
    if (!rules.is_array()) return Expected("rules", "an array", rules);
    for (size_t i = 0; i < rules.size(); ++i) {
      auto rule = ParseRule(rules[i], "rules[" + std::to_string(i) + "]", /*is_default=*/false);
      if (!rule) return ParseError(rule.error());
      script.rules.push_back(std::move(*rule));
    }
  }
  return script;
}

Prompt ExtractPrompt(std::string path, std::string agent, const Json& body) {
  Prompt prompt;
  prompt.path = std::move(path);
  prompt.agent = std::move(agent);
  if (!body.is_object()) return prompt;
  if (auto model = body.find("model"); model != body.end() && model->is_string()) {
    prompt.model = model->get<std::string>();
  }
  if (auto system = body.find("system"); system != body.end()) {
    std::string text;
    AppendContentText(*system, text);
    prompt.messages.emplace_back("system", std::move(text));
  }
  if (auto messages = body.find("messages"); messages != body.end() && messages->is_array()) {
    for (const Json& message : *messages) {
      if (!message.is_object()) continue;
      auto role_it = message.find("role");
      std::string role =
          role_it != message.end() && role_it->is_string() ? role_it->get<std::string>() : "";
      std::string text;
      if (auto content = message.find("content"); content != message.end()) {
        AppendContentText(*content, text);
      }
      if (role == "user") prompt.last_user = text;
      prompt.messages.emplace_back(std::move(role), std::move(text));
    }
  }
  for (const auto& message : prompt.messages) {
    prompt.text_bytes += static_cast<int64_t>(message.second.size());
  }
  return prompt;
}

ScriptRunner::ScriptRunner(Script script)
    : script_(std::move(script)), matches_(script_.rules.size() + 1, 0), random_(script_.seed) {}

Decision ScriptRunner::Decide(const Prompt& prompt) {
  Decision decision;
  const Rule* rule = &script_.fallback;
  size_t slot = script_.rules.size();
  for (size_t i = 0; i < script_.rules.size(); ++i) {
    if (Matches(script_.rules[i].match, prompt)) {
      rule = &script_.rules[i];
      slot = i;
      decision.rule = i;
      break;
    }
  }
  const int64_t n = matches_[slot]++;
  decision.latency_ms = rule->latency_ms;
  decision.chunk_interval_ms = rule->chunk_interval_ms;
  int64_t reply_n = n - rule->fault_times;
  if (rule->random_faults) {
    const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    double cumulative = 0;
    for (const FaultSpec& fault : rule->faults) {
      cumulative += *fault.probability;
      if (draw < cumulative) {
        decision.fault = fault;
        return decision;
      }
    }
    reply_n = n;
  } else if (n < rule->fault_times) {
    size_t index = std::min<size_t>(static_cast<size_t>(n), rule->faults.size() - 1);
    decision.fault = rule->faults[index];
    return decision;
  }
  const std::vector<ReplySpec>& replies =
      rule->replies.empty() ? script_.fallback.replies : rule->replies;
  size_t index = std::min<size_t>(static_cast<size_t>(reply_n), replies.size() - 1);
  decision.reply = replies[index];
  decision.reply.text = Render(decision.reply.text, prompt, n + 1);
  return decision;
}

void ScriptRunner::ResetCounters() {
  std::fill(matches_.begin(), matches_.end(), 0);
  random_.seed(script_.seed);
}

}  // namespace chorus::fake
