// Conversation: the one conversation an agent with a `context:` budget keeps across all its
// units in a run. Each unit appends its brief as a user turn and, once accepted, its answer as
// an assistant turn. Before the prompt would cross `rollover_at` x `limit` tokens, the
// conversation rolls over: the model writes a HandoffBrief and generation n+1 starts from the
// role, that brief and the last `keep_last` turns. Lines marked "FACT:" in any turn are carried
// word for word into every later generation, even when the model's brief leaves them out.
//
// A Conversation is a plain value owned by the scheduler; it never talks to a model itself (the
// scheduler sends what BuildHandoffRequest returns). Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/brief.h"
#include "chorus/handoff_brief.h"
#include "chorus/model_client.h"
#include "flow/prompt_tokens.h"

namespace chorus {

struct ConversationTurn {
  std::string unit;       // the step path whose brief this was, e.g. "notes[3]"
  std::string user;       // the rendered brief
  std::string assistant;  // the accepted answer
};

enum class RolloverReason {
  kThreshold,              // the next prompt would cross rollover_at x limit
  kContextLengthExceeded,  // the server refused a prompt as too long
  kFit,                    // asked to fit a smaller window (failover to a smaller model)
};
std::string_view RolloverReasonName(RolloverReason reason);

class Conversation {
 public:
  // `system_prompt` is the role with the runtime's answering rules (RenderBrief's system
  // message); `limit` the window in tokens, `rollover_at` in (0, 1].
  Conversation(std::string system_prompt, int64_t limit, double rollover_at, int keep_last,
               PromptCounter counter);

  int generation() const { return generation_; }
  int64_t limit() const { return limit_; }
  // The prompt size that triggers a rollover: rollover_at x limit, or less when the window is
  // too small to also hold the next answer (the largest so far), the handoff request's
  // instructions and the handoff brief.
  int64_t threshold() const;
  const PromptCounter& counter() const { return counter_; }
  const std::vector<ConversationTurn>& turns() const { return turns_; }
  const std::vector<std::string>& facts() const { return facts_; }
  const std::optional<HandoffBrief>& handoff() const { return handoff_; }
  // Whether a rollover would shed anything: the generation holds at least one turn.
  bool CanRollOver() const { return !turns_.empty(); }

  // The whole prompt for sending `user` (a rendered brief, feedback included) now.
  std::vector<ChatMessage> Messages(const std::string& user) const;
  int64_t Count(const std::vector<ChatMessage>& messages) const { return counter_.Count(messages); }
  // Output tokens a request of `prompt_tokens` may ask for without crossing the limit.
  int64_t RoomFor(int64_t prompt_tokens) const { return limit_ - prompt_tokens; }

  void AddTurn(ConversationTurn turn);

  // A smaller window than configured: a server refused a prompt, or the conversation moves to
  // a model with a smaller window (and perhaps another tokenizer).
  void LowerLimit(int64_t limit);
  void SetCounter(PromptCounter counter) { counter_ = counter; }

  struct HandoffRequest {
    std::vector<ChatMessage> messages;
    DelegationBrief brief;  // the same request as a brief, for the offline model
    int64_t tokens = 0;
    int dropped_turns = 0;  // oldest turns left out so that the request fits
  };
  // The request that asks the model for its handoff brief, leaving room for the answer within
  // `fit_tokens`. Oldest turns are dropped (and the request says so) until it fits; fails when
  // it cannot fit even without them. `feedback` lists why earlier handoff briefs were refused.
  Result<HandoffRequest> BuildHandoffRequest(int64_t fit_tokens,
                                             const std::vector<std::string>& feedback) const;

  struct RolloverResult {
    int generation = 0;
    HandoffBrief brief;                   // as the next generation sees it, marked facts merged in
    int facts_merged = 0;                 // marked facts the model's brief had left out
    std::vector<std::string> kept_units;  // the turns carried over verbatim, oldest first
    int64_t tokens_after = 0;             // the prompt for `pending_user` in the new generation
  };
  // Starts generation n+1 from `brief`, keeping the last keep_last turns, fewer when the prompt
  // for `pending_user` would otherwise still cross the threshold.
  RolloverResult Rollover(HandoffBrief brief, const std::string& pending_user);

  // Restores a rollover recorded earlier (resume): generation, brief and the kept turns.
  void Restore(int generation, HandoffBrief brief, std::vector<ConversationTurn> kept);

 private:
  std::string SystemMessage() const;
  // The last user message of a handoff request.
  std::string HandoffAsk(size_t dropped, const std::vector<std::string>& feedback) const;
  // Tokens kept free for the handoff brief itself.
  static int64_t AnswerRoom(int64_t fit_tokens);

  std::string base_system_;
  int64_t limit_;
  double rollover_at_;
  int keep_last_;
  PromptCounter counter_;
  int generation_ = 1;
  std::optional<HandoffBrief> handoff_;  // what this generation started from (n > 1)
  std::vector<ConversationTurn> turns_;  // kept turns first, then this generation's own
  std::vector<std::string> facts_;       // every marked fact seen, in order
  int64_t largest_answer_ = 0;           // tokens of the longest accepted answer so far
};

}  // namespace chorus
