#include "flow/failover.h"

#include <algorithm>
#include <functional>

#include "chorus/tokenizer.h"

namespace chorus {
namespace {

// The chat format adds a few tokens per message (role, separators) and primes the answer.
constexpr int64_t kTokensPerMessage = 4;
constexpr int64_t kTokensPerReply = 3;

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

const Tokenizer* TokenizerFor(const EndpointConfig& endpoint) {
  if (endpoint.provider != Provider::kOpenAI) return nullptr;
  const std::string& m = endpoint.model;
  const char* encoding = nullptr;
  for (const char* p : {"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3", "o4"}) {
    if (StartsWith(m, p)) encoding = "o200k_base";
  }
  if (encoding == nullptr && (StartsWith(m, "gpt-4") || StartsWith(m, "gpt-3.5"))) {
    encoding = "cl100k_base";
  }
  if (encoding == nullptr) return nullptr;
  Result<const Tokenizer*> tokenizer = GetTokenizer(encoding);
  return tokenizer ? *tokenizer : nullptr;  // missing rank files: estimate instead
}

}  // namespace

std::vector<std::string> FallbackChain(const Team& team, const std::string& model) {
  std::vector<std::string> chain;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    if (std::find(chain.begin(), chain.end(), name) != chain.end()) return;
    const ModelSpec* spec = team.FindModel(name);
    if (spec == nullptr) return;
    chain.push_back(name);
    for (const std::string& next : spec->fallback) visit(next);
  };
  visit(model);
  if (chain.empty()) chain.push_back(model);
  return chain;
}

int64_t PromptTokens(const EndpointConfig& endpoint, const std::vector<ChatMessage>& messages) {
  const Tokenizer* tokenizer = TokenizerFor(endpoint);
  int64_t total = kTokensPerReply;
  for (const ChatMessage& m : messages) {
    total += kTokensPerMessage;
    total +=
        static_cast<int64_t>(tokenizer ? tokenizer->Count(m.content) : EstimateTokens(m.content));
  }
  return total;
}

int64_t BudgetTokens(const EndpointConfig& endpoint, const ChatRequest& request,
                     int64_t prompt_tokens) {
  return prompt_tokens + (request.max_tokens > 0 ? request.max_tokens : endpoint.max_tokens);
}

std::optional<std::string> WindowMismatch(const EndpointConfig& from, const EndpointConfig& to,
                                          int64_t prompt_tokens) {
  if (to.context_window <= 0 || prompt_tokens <= to.context_window) return std::nullopt;
  std::string from_window =
      from.context_window > 0 ? std::to_string(from.context_window) + " tokens" : "unknown";
  return "cannot fail over from model '" + from.name + "' (context window " + from_window +
         ") to '" + to.name + "' (context window " + std::to_string(to.context_window) +
         " tokens): the prompt is " + std::to_string(prompt_tokens) +
         " tokens and carrying a conversation into a smaller window needs a handoff brief, "
         "which this run cannot make yet";
}

}  // namespace chorus
