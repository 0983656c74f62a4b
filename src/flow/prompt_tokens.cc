#include "flow/prompt_tokens.h"

namespace chorus {
namespace {

// OpenAI's chat format wraps each message in about four tokens (role and separators) and
// primes the reply with three more; counting them keeps the total an upper bound.
constexpr int64_t kTokensPerMessage = 4;
constexpr int64_t kTokensPerReply = 3;

bool StartsWith(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }

}  // namespace

std::string TokenizerNameFor(const EndpointConfig& endpoint) {
  if (!endpoint.tokenizer.empty()) return endpoint.tokenizer;
  if (endpoint.provider != Provider::kOpenAI) return "estimate";
  const std::string_view model = endpoint.model;
  for (std::string_view prefix : {"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4"}) {
    if (StartsWith(model, prefix)) return "o200k_base";
  }
  for (std::string_view prefix : {"gpt-4", "gpt-3.5", "text-embedding-3"}) {
    if (StartsWith(model, prefix)) return "cl100k_base";
  }
  return "estimate";
}

PromptCounter PromptCounter::ForEndpoint(const EndpointConfig& endpoint) {
  const std::string name = TokenizerNameFor(endpoint);
  if (name == "estimate") return PromptCounter();
  // Without the rank files the estimate still never under-counts, so a budget stays safe.
  Result<const Tokenizer*> tokenizer = GetTokenizer(name);
  return tokenizer ? PromptCounter(*tokenizer) : PromptCounter();
}

int64_t PromptCounter::Count(const std::vector<ChatMessage>& messages) const {
  int64_t total = kTokensPerReply;
  for (const ChatMessage& m : messages) {
    total += kTokensPerMessage;
    total += CountText(m.content);
  }
  return total;
}

int64_t PromptCounter::CountText(std::string_view text) const {
  return static_cast<int64_t>(tokenizer_ != nullptr ? tokenizer_->Count(text)
                                                    : EstimateTokens(text));
}

std::string_view PromptCounter::name() const {
  return tokenizer_ != nullptr ? tokenizer_->name() : std::string_view("estimate");
}

}  // namespace chorus
