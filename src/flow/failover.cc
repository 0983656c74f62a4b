#include "flow/failover.h"

#include <algorithm>
#include <functional>

#include "flow/prompt_tokens.h"

namespace chorus {

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
  return PromptCounter::ForEndpoint(endpoint).Count(messages);
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
         " tokens; only an agent with a `context:` budget keeps a conversation that can be "
         "carried into a smaller window as a handoff brief";
}

}  // namespace chorus
