// Failover: which model an agent tries next when its endpoint is down or exhausted, what a
// request costs against an endpoint's token budget, and whether the conversation fits the next
// model's context window. Pure functions over the team and the endpoint configuration;
// thread-safe.
//
// When to fail over (the scheduler decides, with these helpers):
//   - the endpoint's circuit is open (or this error opened it) reason "circuit_open"
//   - transient retries are used up, the last error a 429     reason "rate_limited"
//   - transient retries are used up, any other transient      reason "retries_exhausted"
// Permanent errors (400, 401, 403, 404, context length) never fail over: they say the request
// or the configuration is wrong, and another model would hide that. 404 included: a retired or
// misspelled model id is a team-file fix, and a silent switch would make every run cost more.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chorus/model_client.h"
#include "chorus/team.h"

namespace chorus {

// The models an agent on `model` tries, in order: `model` itself, then its `fallback` list,
// depth first (a fallback's own fallbacks come before the next entry of the list), each model
// once. CheckTeam has rejected cycles and unknown names; unknown names are skipped here.
std::vector<std::string> FallbackChain(const Team& team, const std::string& model);

// Prompt tokens of `messages` on `endpoint`: the exact tiktoken count when the model's encoding
// is known (OpenAI gpt-4o/4.1/5 and o-series: o200k_base; gpt-4 and gpt-3.5: cl100k_base), else
// EstimateTokens, which never under-counts. Includes the chat format's per-message overhead.
int64_t PromptTokens(const EndpointConfig& endpoint, const std::vector<ChatMessage>& messages);

// What a request is charged against a tpm budget when it leaves: its prompt plus its answer
// allowance (the request's max_tokens, else the endpoint's), as OpenAI counts it.
int64_t BudgetTokens(const EndpointConfig& endpoint, const ChatRequest& request,
                     int64_t prompt_tokens);

// Hook for carrying a conversation to a model with a smaller window. Returns an error naming
// both windows when a prompt of `prompt_tokens` does not fit `to`'s context window; nullopt when
// it fits or the window is unknown. Carrying the conversation as a HandoffBrief (context
// rollover) replaces this error once rollover exists: the scheduler calls it in FailOver.
std::optional<std::string> WindowMismatch(const EndpointConfig& from, const EndpointConfig& to,
                                          int64_t prompt_tokens);

}  // namespace chorus
