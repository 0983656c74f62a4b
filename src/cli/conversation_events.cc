#include "cli/conversation_events.h"

#include "cli/cli_common.h"

namespace chorus::cli {
namespace {

std::string Number(const nlohmann::json& p, const char* key) {
  return std::to_string(p.value(key, int64_t{0}));
}

std::string List(const nlohmann::json& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

void AppendBriefLines(const nlohmann::json& brief, std::string* out) {
  const std::string indent = "\n        ";
  *out += indent + "current state: " + brief.value("current_state", "");
  for (const char* key : {"key_decisions", "next_steps", "open_questions", "verbatim_facts"}) {
    const auto& items = brief.value(key, nlohmann::json::array());
    if (!items.empty()) *out += indent + key + ": " + List(items);
  }
  if (!brief.value("reasoning", "").empty()) {
    *out += indent + "reasoning: " + brief.value("reasoning", "");
  }
}

}  // namespace

std::string DescribeConversationEvent(const std::string& kind, const nlohmann::json& p, bool full) {
  if (kind == "conversation.started") {
    return "one conversation, limit " + Number(p, "limit") + " tokens (" +
           p.value("tokenizer", "estimate") + "), rollover at " +
           std::to_string(static_cast<int>(p.value("rollover_at", 0.0) * 100 + 0.5)) +
           "%, keep last " + Number(p, "keep_last");
  }
  if (kind == "conversation.rollover") {
    const auto& brief = p.value("brief", nlohmann::json::object());
    const auto& kept = p.value("kept_turns", nlohmann::json::array());
    std::string s = "generation " + Number(p, "generation") + " (" + p.value("reason", "") +
                    "): " + Number(p, "tokens_before") + " → " + Number(p, "tokens_after") +
                    " tokens of " + Number(p, "limit") + "; kept " +
                    (kept.empty() ? std::string("no turn") : List(kept)) + "; " +
                    std::to_string(brief.value("verbatim_facts", nlohmann::json::array()).size()) +
                    " fact(s) kept verbatim";
    if (p.value("facts_merged", 0) > 0) {
      s += " (" + Number(p, "facts_merged") + " added by chorus)";
    }
    if (p.contains("dropped_from_handoff")) {
      s += "; the handoff request left out the " + Number(p, "dropped_from_handoff") +
           " oldest turn(s)";
    }
    if (full) {
      AppendBriefLines(brief, &s);
    } else {
      s += "; state: " + Truncate(brief.value("current_state", ""), 80);
    }
    return s;
  }
  if (kind == "conversation.handoff_rejected") {
    return "handoff brief attempt " + Number(p, "attempt") + " rejected: " + p.value("reason", "");
  }
  return full ? p.dump() : Truncate(p.dump(), 100);
}

}  // namespace chorus::cli
