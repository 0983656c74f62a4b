// Script: what the fake LLM server answers, parsed from the --script / POST /_script JSON.
//
//   { "default": {"reply": "text"},
//     "rules": [ { "match": {"agent": "...", "contains": "...", "system_contains": "...",
//                            "user_contains": "...", "model": "...", "path": "..."},
//                  "replies": ["first", {"text": "second", "finish_reason": "length"}],
//                  "latency_ms": 50, "chunk_interval_ms": 5,
//                  "faults": [{"kind": "http_error", "status": 429, "retry_after": "1"}],
//                  "fault_times": 1 } ],
//     "seed": 7 }
//
// The first rule whose every match key holds answers; "default" answers the rest. A rule's n-th
// match (0-based) first consumes faults (faults[min(n, size-1)] while n < fault_times, which
// defaults to faults.size()), then gets replies[min(n - fault_times, size-1)]. Replies may use
// {{last_user}}, {{n}} (1-based match count) and {{agent}}.
//
// Random faults: when a rule's faults carry "probability" (all of them, summing to at most 1),
// every match draws once from the script's seeded generator ("seed", default 1) and gets the
// first fault whose cumulative probability exceeds the draw, else replies[min(n, size-1)]:
//   "faults": [{"kind": "http_error", "status": 429, "retry_after": "0.05", "probability": 0.6},
//              {"kind": "cut_stream", "probability": 0.1}]
// The sequence of draws is fixed by the seed; which request gets which draw depends on the order
// the requests arrive in.
//
// Thread-safety: none. ScriptRunner is owned by the server's single I/O thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace chorus::fake {

struct ReplySpec {
  std::string text;
  std::string finish_reason = "stop";
};

enum class FaultKind { kHttpError, kContextExceeded, kGarbage, kCutStream, kStall, kClose, kAuth };

std::string_view FaultKindName(FaultKind kind);

struct FaultSpec {
  FaultKind kind = FaultKind::kHttpError;
  int status = 500;                        // http_error
  std::optional<std::string> retry_after;  // http_error: the Retry-After header value
  nlohmann::json body;                     // http_error: replaces the error body; garbage: text
  int64_t after_events = 3;                // cut_stream: SSE events sent before the cut
  int64_t n_ctx = 0;  // context_exceeded: the context size reported; 0: half the prompt
  std::optional<double> probability;  // random faults (see above)
};

struct RuleMatch {
  std::optional<std::string> agent;
  std::optional<std::string> contains;
  std::optional<std::string> system_contains;
  std::optional<std::string> user_contains;
  std::optional<std::string> model;
  std::optional<std::string> path;
};

struct Rule {
  RuleMatch match;
  std::vector<ReplySpec> replies;  // empty: the default rule's replies
  std::optional<int64_t> latency_ms;
  std::optional<int64_t> chunk_interval_ms;
  std::vector<FaultSpec> faults;
  int64_t fault_times = 0;
  bool random_faults = false;  // the faults carry probabilities
};

struct Script {
  Rule fallback;  // "default"; its match is always empty
  std::vector<Rule> rules;
  nlohmann::json source;  // the JSON it was parsed from, served by GET /_script
  uint64_t seed = 1;      // random faults
};

// The script a server runs when given none: every request gets one canned reply.
Script DefaultScript();

// Fails with a message naming the offending key path, e.g.
// "rules[1].faults[0].kind: expected one of http_error, ..., found \"boom\"".
tl::expected<Script, std::string> ParseScript(const nlohmann::json& json);

// The parts of a chat request that rules look at, extracted once per request from either wire
// format (OpenAI "messages" with string or content-part contents; Anthropic top-level "system").
struct Prompt {
  std::string path;
  std::string agent;  // X-Chorus-Agent
  std::string model;
  std::vector<std::pair<std::string, std::string>> messages;  // role, text
  std::string last_user;
  int64_t text_bytes = 0;  // all message text, for the token estimate
};

Prompt ExtractPrompt(std::string path, std::string agent, const nlohmann::json& body);

struct Decision {
  std::optional<size_t> rule;  // index into Script::rules; nullopt: "default"
  std::optional<FaultSpec> fault;
  ReplySpec reply;  // rendered; meaningful when !fault
  std::optional<int64_t> latency_ms;
  std::optional<int64_t> chunk_interval_ms;
};

class ScriptRunner {
 public:
  explicit ScriptRunner(Script script);

  // Picks the rule for `prompt`, advances its counter and renders the reply.
  Decision Decide(const Prompt& prompt);
  void ResetCounters();
  const Script& script() const { return script_; }

 private:
  Script script_;
  std::vector<int64_t> matches_;  // per rule, then one slot for the default
  std::mt19937_64 random_;
};

}  // namespace chorus::fake
