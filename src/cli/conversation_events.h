// How `chorus show` describes the `conversation.*` events (context budgets and rollovers).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace chorus::cli {

// One line (several with `full`) for a conversation.started, conversation.rollover or
// conversation.handoff_rejected event.
std::string DescribeConversationEvent(const std::string& kind, const nlohmann::json& payload,
                                      bool full);

}  // namespace chorus::cli
