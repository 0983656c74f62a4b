#include "flow/conversation.h"

#include <algorithm>
#include <cmath>

namespace chorus {
namespace {

// A handoff brief needs this many tokens to be written, or an eighth of the window if more.
constexpr int64_t kMinHandoffAnswerTokens = 300;

// Kept short: it is sent at the fullest point of the window. The shape stands in for the full
// schema (the answer is still validated against HandoffBriefSchema and refused with reasons).
constexpr std::string_view kHandoffInstructions =
    "# Write a handoff brief\n\n"
    "This conversation is at its context limit. A fresh conversation will continue it, seeing "
    "only your role, the brief you write now and the last turn. Write it for your successor: "
    "the key decisions (not to be reopened), the current state, the next steps in order, the "
    "reasoning, the open questions, and every line marked FACT: so far, copied exactly.\n\n"
    "Reply with only this JSON object (every key required; no prose):\n"
    "{\"key_decisions\": [string], \"current_state\": string, \"next_steps\": [string], "
    "\"reasoning\": string, \"open_questions\": [string], \"verbatim_facts\": [string]}\n";

std::string TurnAsContext(const ConversationTurn& turn) {
  return "Brief (" + turn.unit + "):\n" + turn.user + "\n\nYour accepted answer:\n" +
         turn.assistant;
}

void AppendBullets(const std::vector<std::string>& items, std::string* out) {
  for (const std::string& item : items) *out += "- " + item + "\n";
}

}  // namespace

std::string_view RolloverReasonName(RolloverReason reason) {
  switch (reason) {
    case RolloverReason::kThreshold:
      return "threshold";
    case RolloverReason::kContextLengthExceeded:
      return "context_length_exceeded";
    case RolloverReason::kFit:
      return "fit";
  }
  return "threshold";
}

Conversation::Conversation(std::string system_prompt, int64_t limit, double rollover_at,
                           int keep_last, PromptCounter counter)
    : base_system_(std::move(system_prompt)),
      limit_(limit),
      rollover_at_(rollover_at),
      keep_last_(keep_last),
      counter_(counter) {}

int64_t Conversation::AnswerRoom(int64_t fit_tokens) {
  return std::max(kMinHandoffAnswerTokens, fit_tokens / 8);
}

int64_t Conversation::threshold() const {
  const auto by_fraction =
      static_cast<int64_t>(std::floor(static_cast<double>(limit_) * rollover_at_));
  // After this turn the history grows by its answer, and the handoff request repeats that
  // history under its own instructions and needs room for the brief: roll over early enough
  // that the handoff request can still see every turn.
  const int64_t handoff_overhead =
      counter_.Count({{"user", HandoffAsk(0, {})}}) + AnswerRoom(limit_) + largest_answer_;
  return std::max<int64_t>(0, std::min(by_fraction, limit_ - handoff_overhead));
}

std::string Conversation::HandoffAsk(size_t dropped,
                                     const std::vector<std::string>& feedback) const {
  std::string ask(kHandoffInstructions);
  if (dropped > 0) {
    ask += "\nThe " + std::to_string(dropped) +
           " oldest turn(s) of this conversation no longer fit in this request and were left "
           "out; build on the handoff brief and the turns you can see.\n";
  }
  if (!facts_.empty()) {
    ask += "\nLines marked FACT: so far (copy each into verbatim_facts exactly):\n";
    AppendBullets(facts_, &ask);
  }
  if (!feedback.empty()) {
    ask += "\n## Your previous handoff brief was rejected\n\n";
    AppendBullets(feedback, &ask);
    ask += "\nFix every point above and reply with the whole handoff brief again.\n";
  }
  return ask;
}

std::string Conversation::SystemMessage() const {
  if (!handoff_) return base_system_;
  return base_system_ + "\n\n" + RenderHandoffBrief(*handoff_, generation_);
}

std::vector<ChatMessage> Conversation::Messages(const std::string& user) const {
  std::vector<ChatMessage> messages;
  messages.reserve(2 + 2 * turns_.size());
  messages.push_back({"system", SystemMessage()});
  for (const ConversationTurn& turn : turns_) {
    messages.push_back({"user", turn.user});
    messages.push_back({"assistant", turn.assistant});
  }
  messages.push_back({"user", user});
  return messages;
}

void Conversation::AddTurn(ConversationTurn turn) {
  for (const std::string* text : {&turn.user, &turn.assistant}) {
    for (std::string& fact : MarkedFacts(*text)) {
      if (std::find(facts_.begin(), facts_.end(), fact) == facts_.end()) {
        facts_.push_back(std::move(fact));
      }
    }
  }
  largest_answer_ = std::max(largest_answer_, counter_.Count({{"assistant", turn.assistant}}));
  turns_.push_back(std::move(turn));
}

void Conversation::LowerLimit(int64_t limit) { limit_ = std::min(limit_, limit); }

Result<Conversation::HandoffRequest> Conversation::BuildHandoffRequest(
    int64_t fit_tokens, const std::vector<std::string>& feedback) const {
  const int64_t answer_room = AnswerRoom(fit_tokens);
  for (size_t drop = 0; drop <= turns_.size(); ++drop) {
    HandoffRequest request;
    request.dropped_turns = static_cast<int>(drop);
    std::string ask = HandoffAsk(drop, feedback);
    request.messages.push_back({"system", SystemMessage()});
    for (size_t i = drop; i < turns_.size(); ++i) {
      request.messages.push_back({"user", turns_[i].user});
      request.messages.push_back({"assistant", turns_[i].assistant});
    }
    request.messages.push_back({"user", ask});
    request.tokens = counter_.Count(request.messages);
    if (request.tokens + answer_room > fit_tokens) continue;

    DelegationBrief& brief = request.brief;
    brief.id = "handoff-g" + std::to_string(generation_ + 1);
    brief.objective = "Write the handoff brief that generation " + std::to_string(generation_ + 1) +
                      " of this conversation starts from: key decisions, current state, next "
                      "steps, reasoning, open questions and the facts to keep verbatim.";
    if (handoff_) brief.context.push_back(RenderHandoffBrief(*handoff_, generation_));
    for (size_t i = drop; i < turns_.size(); ++i) brief.context.push_back(TurnAsContext(turns_[i]));
    brief.constraints.push_back(
        "Copy every line marked FACT: into verbatim_facts exactly, marker included.");
    for (const std::string& fact : facts_) brief.constraints.push_back("Keep verbatim: " + fact);
    brief.output.format = OutputFormat::kJson;
    brief.output.schema = HandoffBriefSchema();
    return request;
  }
  return Err(Status::ContextExceeded("a handoff brief request needs more than the " +
                                     std::to_string(fit_tokens) +
                                     "-token window even without any turn of the conversation"));
}

Conversation::RolloverResult Conversation::Rollover(HandoffBrief brief,
                                                    const std::string& pending_user) {
  RolloverResult result;
  result.facts_merged = MergeVerbatimFacts(facts_, &brief);
  for (const std::string& fact : brief.verbatim_facts) {
    if (std::find(facts_.begin(), facts_.end(), fact) == facts_.end()) facts_.push_back(fact);
  }
  size_t keep = std::min(turns_.size(), static_cast<size_t>(keep_last_));
  std::vector<ConversationTurn> old = std::move(turns_);
  ++generation_;
  handoff_ = std::move(brief);
  // Fewer kept turns rather than a new generation that is already over its threshold.
  while (true) {
    turns_.assign(old.end() - static_cast<std::ptrdiff_t>(keep), old.end());
    result.tokens_after = Count(Messages(pending_user));
    if (result.tokens_after <= threshold() || keep == 0) break;
    --keep;
  }
  result.generation = generation_;
  result.brief = *handoff_;
  for (const ConversationTurn& turn : turns_) result.kept_units.push_back(turn.unit);
  return result;
}

void Conversation::Restore(int generation, HandoffBrief brief, std::vector<ConversationTurn> kept) {
  generation_ = generation;
  for (const std::string& fact : brief.verbatim_facts) {
    if (std::find(facts_.begin(), facts_.end(), fact) == facts_.end()) facts_.push_back(fact);
  }
  handoff_ = std::move(brief);
  turns_.clear();
  for (ConversationTurn& turn : kept) AddTurn(std::move(turn));
}

}  // namespace chorus
