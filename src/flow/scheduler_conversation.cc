// The scheduler's side of conversations that span units (see conversation.h): claiming an
// agent's conversation for one unit at a time, rolling it over through a HandoffBrief before a
// prompt would cross its threshold or after a server refused one as too long, and recording
// each rollover as a `conversation.rollover` event before the next generation is used.
#include <algorithm>

#include "flow/scheduler.h"
#include "flow/step_events.h"

namespace chorus {
namespace {

// Handoff briefs the model may get wrong before the step fails, like a step's retries.
constexpr int kHandoffRetries = 2;

}  // namespace

Scheduler::PendingRollover Scheduler::NewRollover(RolloverReason reason, int64_t tokens_before) {
  PendingRollover rollover;
  rollover.reason = reason;
  rollover.tokens_before = tokens_before;
  return rollover;
}

// The one place conversations look up the unit's client: the model the unit uses now, which
// failover may have changed (Commit sends through the same one).
ModelClient* Scheduler::ConversationClient(const Unit& unit) const { return Client(unit); }

Scheduler::AgentConversation* Scheduler::ConversationOf(const Unit& unit) {
  const AgentSpec* agent = config_.team->FindAgent(unit.agent);
  if (agent == nullptr || !agent->context) return nullptr;
  auto it = conversations_.find(unit.agent);
  if (it != conversations_.end()) return &it->second;

  const EndpointConfig& endpoint = ConversationClient(unit)->config();
  const ContextBudget& budget = *agent->context;
  // The client may not be the one the team declared (offline fallback, an embedder's client);
  // the team's window stands in when the client knows none.
  int64_t limit = budget.limit > 0 ? budget.limit : endpoint.context_window;
  if (limit <= 0) limit = config_.team->FindModel(agent->model)->endpoint.context_window;
  PromptCounter counter = PromptCounter::ForEndpoint(endpoint);
  std::string system = RenderBrief(agent->role, DelegationBrief(), {}).front().content;
  log_->Add("conversation.started", unit.path, unit.agent,
            {{"generation", 1},
             {"limit", limit},
             {"rollover_at", budget.rollover_at},
             {"keep_last", budget.keep_last},
             {"endpoint", endpoint.name},
             {"tokenizer", std::string(counter.name())}});
  Conversation conversation(std::move(system), limit, budget.rollover_at, budget.keep_last,
                            counter);
  return &conversations_
              .emplace(unit.agent,
                       AgentConversation{std::move(conversation), std::nullopt, std::nullopt, 0})
              .first->second;
}

bool Scheduler::WaitsForConversation(size_t index) const {
  auto it = conversations_.find(units_[index].agent);
  return it != conversations_.end() && it->second.unit && *it->second.unit != index;
}

bool Scheduler::HandoffInFlight(size_t index) const {
  auto it = conversations_.find(units_[index].agent);
  return it != conversations_.end() && it->second.unit == index && it->second.rollover &&
         it->second.rollover->in_flight;
}

bool Scheduler::PrepareConversationRequest(size_t index, ChatRequest* request) {
  AgentConversation* slot = ConversationOf(units_[index]);
  slot->unit = index;
  if (slot->rollover) {  // a handoff that had to wait (backoff) goes out again
    SendHandoffRequest(index);
    return false;
  }
  Conversation& conversation = slot->conversation;
  std::vector<ChatMessage> messages = conversation.Messages(request->messages.back().content);
  const int64_t tokens = conversation.Count(messages);
  if (tokens > conversation.threshold() && conversation.CanRollOver()) {
    slot->rollover = NewRollover(RolloverReason::kThreshold, tokens);
    slot->rollover->threshold = conversation.threshold();
    SendHandoffRequest(index);
    return false;
  }
  // At the limit exactly there would be no room left for the answer.
  if (tokens >= conversation.limit()) {
    FailUnit(index, "the prompt needs " + std::to_string(tokens) + " tokens (counted with " +
                        std::string(conversation.counter().name()) + ") but the context limit is " +
                        std::to_string(conversation.limit()) +
                        ", which leaves no room for an answer, and the conversation holds no "
                        "earlier turn to roll over; shorten the brief or raise context.limit");
    return false;
  }
  slot->last_prompt_tokens = tokens;
  request->messages = std::move(messages);
  // Prompt plus answer must stay within the window too.
  const EndpointConfig& endpoint = ConversationClient(units_[index])->config();
  request->max_tokens =
      static_cast<int>(std::min<int64_t>(endpoint.max_tokens, conversation.RoomFor(tokens)));
  return true;
}

void Scheduler::SendHandoffRequest(size_t index) {
  Unit& unit = units_[index];
  AgentConversation& slot = conversations_.at(unit.agent);
  PendingRollover& rollover = *slot.rollover;
  Conversation& conversation = slot.conversation;
  Result<Conversation::HandoffRequest> built =
      conversation.BuildHandoffRequest(conversation.limit(), rollover.feedback);
  if (!built) {
    FailUnit(index, "cannot roll the conversation over: " + built.error().message());
    return;
  }
  const ModelClient* client = ConversationClient(unit);
  const EndpointConfig& endpoint = client->config();
  ++rollover.attempts;
  rollover.in_flight = true;
  rollover.dropped_turns = built->dropped_turns;
  rollover.handoff_tokens = built->tokens;
  unit.state = UnitState::kInFlight;
  ++in_flight_;

  ChatRequest request;
  request.messages = std::move(built->messages);
  request.json_output = true;
  request.max_tokens =
      static_cast<int>(std::min<int64_t>(endpoint.max_tokens, conversation.RoomFor(built->tokens)));
  request.idempotency_key = config_.run_id + "/" + unit.path + "/handoff-g" +
                            std::to_string(conversation.generation() + 1) + "-" +
                            std::to_string(rollover.attempts);
  request.agent = unit.agent;
  if (endpoint.provider == Provider::kOffline) request.brief = built->brief.ToJson();

  nlohmann::json payload = {
      {"purpose", "handoff"},
      {"attempt", rollover.attempts},
      {"key", request.idempotency_key},
      {"endpoint", endpoint.name},
      {"model", endpoint.model},
      {"generation", conversation.generation()},
      {"reason", std::string(RolloverReasonName(rollover.reason))},
      {"tokens_before", rollover.tokens_before},
      {"prompt_tokens", built->tokens},
      {"messages", RequestMessagesJson(*log_, request.messages, &message_contents_)}};
  if (built->dropped_turns > 0) payload["dropped_turns"] = built->dropped_turns;
  log_->Add("llm.request", unit.path, unit.agent, std::move(payload));
  to_send_.emplace_back(index, std::move(request));
}

void Scheduler::HandleHandoff(size_t index, ChatResult result) {
  Unit& unit = units_[index];
  AgentConversation& slot = conversations_.at(unit.agent);
  PendingRollover& rollover = *slot.rollover;
  rollover.in_flight = false;
  if (!result) {
    const ModelError& error = result.error();
    if (error.status.code() == StatusCode::kContextExceeded) {
      // The server's window is smaller than ours: believe it, and ask again with fewer turns.
      log_->Add("llm.error", unit.path, unit.agent,
                {{"purpose", "handoff"},
                 {"attempt", rollover.attempts},
                 {"code", std::string(StatusCodeName(error.status.code()))},
                 {"message", error.status.message()},
                 {"http_status", error.http_status},
                 {"transient", false}});
      slot.conversation.LowerLimit(rollover.handoff_tokens - 1);
      SendHandoffRequest(index);
      return;
    }
    // Retries and permanent failures go the way a unit's own request errors go; a retry
    // comes back through SendRequest, which re-sends the pending handoff.
    HandleError(index, error);
    return;
  }
  const ChatResponse& response = *result;
  log_->Add("llm.response", unit.path, unit.agent,
            {{"purpose", "handoff"},
             {"attempt", rollover.attempts},
             {"finish_reason", response.finish_reason},
             {"model", response.model},
             {"latency_ms", response.latency_ms},
             {"usage",
              {{"input_tokens", response.usage.input_tokens},
               {"output_tokens", response.usage.output_tokens},
               {"cost_usd", response.usage.cost_usd},
               {"estimated", response.usage_estimated}}},
             {"text", response.text}});
  Result<HandoffBrief> brief = ParseHandoffBrief(response.text);
  if (!brief) {
    const std::string& reason = brief.error().message();
    log_->Add("conversation.handoff_rejected", unit.path, unit.agent,
              {{"attempt", rollover.attempts}, {"reason", reason}});
    if (rollover.attempts > kHandoffRetries) {
      FailUnit(index, "the handoff brief missed its schema " + std::to_string(rollover.attempts) +
                          " time(s); last reason: " + reason);
      return;
    }
    rollover.feedback.push_back(reason);
    SendHandoffRequest(index);
    return;
  }
  ApplyHandoff(index, std::move(*brief));
}

void Scheduler::ApplyHandoff(size_t index, HandoffBrief brief) {
  Unit& unit = units_[index];
  AgentConversation& slot = conversations_.at(unit.agent);
  const PendingRollover rollover = *slot.rollover;
  slot.rollover.reset();
  const AgentSpec* agent = config_.team->FindAgent(unit.agent);
  const std::string pending = RenderBrief(agent->role, unit.brief, unit.feedback).back().content;
  Conversation::RolloverResult result = slot.conversation.Rollover(std::move(brief), pending);
  nlohmann::json payload = {{"generation", result.generation},
                            {"reason", std::string(RolloverReasonName(rollover.reason))},
                            {"tokens_before", rollover.tokens_before},
                            {"tokens_after", result.tokens_after},
                            {"limit", slot.conversation.limit()},
                            {"threshold", rollover.threshold},
                            {"brief", result.brief.ToJson()},
                            {"kept_turns", result.kept_units},
                            {"facts_merged", result.facts_merged},
                            {"handoff_attempts", rollover.attempts}};
  if (rollover.dropped_turns > 0) payload["dropped_from_handoff"] = rollover.dropped_turns;
  log_->Add("conversation.rollover", unit.path, unit.agent, std::move(payload));
  // The unit's own request now goes out in the new generation (or fails if it cannot fit).
  SendRequest(index);
}

bool Scheduler::RollOverAfterContextError(size_t index) {
  auto it = conversations_.find(units_[index].agent);
  if (it == conversations_.end() || it->second.unit != index) return false;
  AgentConversation& slot = it->second;
  if (!slot.conversation.CanRollOver()) return false;
  // The server refused what we counted as last_prompt_tokens: its window is smaller.
  slot.conversation.LowerLimit(slot.last_prompt_tokens - 1);
  slot.rollover = NewRollover(RolloverReason::kContextLengthExceeded, slot.last_prompt_tokens);
  SendHandoffRequest(index);
  return true;
}

bool Scheduler::CanRollOverToFit(size_t index) const {
  auto it = conversations_.find(units_[index].agent);
  return it != conversations_.end() && it->second.unit == index &&
         it->second.conversation.CanRollOver() && !it->second.rollover;
}

bool Scheduler::RollOverToFit(size_t index, int64_t fit_tokens, PromptCounter counter) {
  if (!CanRollOverToFit(index)) return false;
  AgentConversation& slot = conversations_.at(units_[index].agent);
  slot.conversation.SetCounter(counter);
  slot.conversation.LowerLimit(fit_tokens);
  slot.rollover = NewRollover(RolloverReason::kFit, slot.last_prompt_tokens);
  SendHandoffRequest(index);
  return true;
}

void Scheduler::EndConversationTurn(size_t index, const StepOutput& output) {
  Unit& unit = units_[index];
  auto it = conversations_.find(unit.agent);
  if (it == conversations_.end() || it->second.unit != index) return;
  const AgentSpec* agent = config_.team->FindAgent(unit.agent);
  // The turn keeps the brief as first sent: feedback on rejected attempts is not history.
  it->second.conversation.AddTurn(
      {unit.path, RenderBrief(agent->role, unit.brief, {}).back().content, output.text});
  it->second.unit.reset();
}

void Scheduler::ReleaseConversation(size_t index) {
  auto it = conversations_.find(units_[index].agent);
  if (it == conversations_.end() || it->second.unit != index) return;
  it->second.unit.reset();
  it->second.rollover.reset();
}

}  // namespace chorus
