// PromptCounter: how many tokens a chat request's messages take on one endpoint, counted with
// the endpoint's tokenizer (its `tokenizer` key, else guessed from the model id) or, for
// Anthropic, offline and unknown models, with the conservative estimate. Immutable after
// construction; safe to use from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/model_client.h"
#include "chorus/tokenizer.h"

namespace chorus {

class PromptCounter {
 public:
  // The estimate; never under-counts cl100k or o200k on the test corpus.
  PromptCounter() = default;
  static PromptCounter ForEndpoint(const EndpointConfig& endpoint);

  // Tokens of `messages` as a chat prompt: their contents plus the chat format's framing.
  int64_t Count(const std::vector<ChatMessage>& messages) const;
  // Tokens of `text` alone, as part of a message's content.
  int64_t CountText(std::string_view text) const;
  // "cl100k_base", "o200k_base" or "estimate".
  std::string_view name() const;

 private:
  explicit PromptCounter(const Tokenizer* tokenizer) : tokenizer_(tokenizer) {}
  const Tokenizer* tokenizer_ = nullptr;  // null: the estimate
};

// The encoding an endpoint's model uses: its `tokenizer` key when set, else by model id for
// OpenAI models ("gpt-4o…", "o1…" -> o200k_base; "gpt-4", "gpt-3.5…" -> cl100k_base), else
// "estimate".
std::string TokenizerNameFor(const EndpointConfig& endpoint);

}  // namespace chorus
