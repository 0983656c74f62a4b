// The scheduler's side of endpoint budgets, circuit breakers and failover: every request asks
// its endpoint's EndpointGovernor before it is recorded and sent; waits, pauses, circuit
// changes and failovers are events committed before their effects.
#include <algorithm>

#include "flow/failover.h"
#include "flow/scheduler.h"

namespace chorus {
namespace {

GovernorLimits LimitsOf(const EndpointConfig& endpoint) {
  GovernorLimits limits;
  // The offline model is in-process: nothing to budget, nothing that can go down.
  if (endpoint.provider == Provider::kOffline) {
    limits.circuit_failures = 0;
    return limits;
  }
  limits.rpm = endpoint.rpm;
  limits.tpm = endpoint.tpm;
  limits.concurrency = endpoint.concurrency;
  limits.window_us = endpoint.limit_window_ms * 1000;
  limits.circuit_failures = endpoint.circuit_failures;
  limits.circuit_cool_down_us = endpoint.circuit_cool_down_ms * 1000;
  return limits;
}

int64_t Ms(int64_t us) { return us / 1000; }

}  // namespace

ModelClient* Scheduler::Client(const Unit& unit) const {
  if (unit.models == nullptr) {
    return config_.clients.at(config_.team->FindAgent(unit.agent)->model);
  }
  return config_.clients.at((*unit.models)[unit.model_index]);
}

EndpointGovernor& Scheduler::Governor(const std::string& model) {
  auto it = governors_.find(model);
  if (it == governors_.end()) {
    it = governors_.try_emplace(model, LimitsOf(config_.clients.at(model)->config())).first;
  }
  return it->second;
}

void Scheduler::AskToSend(size_t index) {
  Unit& unit = units_[index];
  const std::string& model = (*unit.models)[unit.model_index];
  const EndpointConfig& endpoint = Client(unit)->config();
  EndpointGovernor& governor = Governor(model);
  const bool can_fail_over = unit.model_index + 1 < unit.models->size();
  // Counting costs a tokenizer pass on every request; only a token budget needs it (failover
  // counts the prompt for the next model itself, with that model's tokenizer).
  const bool token_budget = governor.limits().tpm > 0;
  unit.prompt_tokens = token_budget ? PromptTokens(endpoint, unit.pending->messages) : 0;
  const int64_t tokens =
      token_budget ? BudgetTokens(endpoint, *unit.pending, unit.prompt_tokens) : 0;
  const int64_t now = config_.clock->MonotonicUs();
  Admission admission = governor.Request(index, tokens, can_fail_over, now);
  RecordCircuitChanges(model);
  switch (admission.verdict) {
    case Admission::Verdict::kAdmit:
      Dispatch(index);
      return;
    case Admission::Verdict::kWait: {
      unit.state = UnitState::kQueued;
      unit.queued_at_us = now;
      ++queued_;
      // Limit::kNone: the head of the queue may go and leaves at the next pump; this one waits
      // its turn behind it.
      std::string limit = admission.held_by == Limit::kNone
                              ? std::string("queue")
                              : std::string(LimitName(admission.held_by));
      nlohmann::json payload = {{"endpoint", model}, {"limit", limit}, {"ahead", admission.ahead}};
      if (tokens > 0) payload["tokens"] = tokens;
      if (admission.until_us) payload["wait_ms"] = Ms(*admission.until_us - now);
      log_->Add("llm.throttled", unit.path, unit.agent, std::move(payload));
      return;
    }
    case Admission::Verdict::kReject:
      FailOver(index, "circuit_open",
               "the circuit of model '" + model + "' is open; it half-opens in " +
                   std::to_string(Ms(admission.until_us.value_or(now) - now)) + " ms");
      return;
    case Admission::Verdict::kNeverFits:
      FailUnit(index, "the request needs " + std::to_string(tokens) + " tokens (prompt " +
                          std::to_string(unit.prompt_tokens) + " + answer allowance) but model '" +
                          model + "' allows " + std::to_string(governor.limits().tpm) +
                          " per limit window; raise limits.tpm or lower max_tokens");
      return;
  }
}

void Scheduler::PumpGovernors() {
  const int64_t now = config_.clock->MonotonicUs();
  for (auto& [model, governor] : governors_) {
    if (governor.queued() == 0 && governor.circuit() == CircuitState::kClosed) continue;
    EndpointGovernor::Released released = governor.Pump(now);
    RecordCircuitChanges(model);
    for (const Ticket& t : released.rejected) {
      --queued_;
      units_[t.id].queued_at_us = -1;
      FailOver(t.id, "circuit_open", "the circuit of model '" + model + "' opened");
    }
    for (const Ticket& t : released.admitted) {
      --queued_;
      Dispatch(t.id);
    }
  }
}

void Scheduler::ReleaseEndpoint(size_t index, const ChatResult& result) {
  Unit& unit = units_[index];
  if (unit.models == nullptr) return;
  const std::string& model = (*unit.models)[unit.model_index];
  EndpointGovernor& governor = Governor(model);
  RequestOutcome outcome = RequestOutcome::kAnswered;
  // A failed request is charged what it sent; the answer allowance is given back.
  int64_t used = unit.prompt_tokens;
  std::optional<int64_t> retry_after_us;
  std::string cause;
  if (result) {
    used = result->usage.input_tokens + result->usage.output_tokens;
  } else if (const ModelError& e = result.error(); e.status.code() == StatusCode::kCancelled) {
    outcome = RequestOutcome::kCancelled;
  } else if (e.http_status == 429) {
    outcome = RequestOutcome::kRateLimited;
    if (e.retry_after_ms) retry_after_us = *e.retry_after_ms * 1000;
  } else if (e.transient()) {
    outcome = RequestOutcome::kFailed;
    cause = e.status.message();
  }
  const int64_t now = config_.clock->MonotonicUs();
  governor.Finished(index, outcome, used, retry_after_us, cause, now);
  if (std::optional<int64_t> until = governor.TakePause()) {
    log_->Add("endpoint.paused", "", "",
              {{"endpoint", model},
               {"pause_ms", Ms(*until - now)},
               {"cause", "HTTP 429 with Retry-After to " + unit.path}});
  }
  RecordCircuitChanges(model);
}

std::string Scheduler::FailoverReason(size_t index, const ModelError& error, bool retries_left) {
  const Unit& unit = units_[index];
  if (!error.transient() || unit.model_index + 1 >= unit.models->size()) return "";
  // An endpoint whose circuit is open will refuse the retry anyway: move on now.
  if (Governor((*unit.models)[unit.model_index]).circuit() == CircuitState::kOpen) {
    return "circuit_open";
  }
  if (retries_left) return "";
  return error.http_status == 429 ? "rate_limited" : "retries_exhausted";
}

void Scheduler::FailOver(size_t index, const std::string& reason, const std::string& error) {
  Unit& unit = units_[index];
  if (unit.model_index + 1 >= unit.models->size()) {
    FailUnit(index, error);
    return;
  }
  const std::string from = (*unit.models)[unit.model_index];
  const std::string& to = (*unit.models)[unit.model_index + 1];
  const EndpointConfig& to_endpoint = config_.clients.at(to)->config();
  const AgentSpec* agent = config_.team->FindAgent(unit.agent);
  const int64_t prompt =
      PromptTokens(to_endpoint, RenderBrief(agent->role, unit.brief, unit.feedback));
  std::optional<std::string> mismatch = WindowMismatch(Client(unit)->config(), to_endpoint, prompt);
  // A conversation that does not fit the next model's window is carried over as a handoff
  // brief sized for it; a one-off request that does not fit cannot fail over.
  const bool carry = mismatch && CanRollOverToFit(index);
  if (mismatch && !carry) {
    FailUnit(index, *mismatch + " (failing over because: " + error + ")");
    return;
  }
  nlohmann::json payload = {
      {"from", from}, {"to", to}, {"reason", reason}, {"error", error}, {"attempt", unit.requests}};
  if (carry) payload["handoff"] = true;
  log_->Add("llm.failover", unit.path, unit.agent, std::move(payload));
  ++unit.model_index;
  unit.transient_failures = 0;  // each model gets its own retries
  unit.hinted_failures = 0;
  if (carry &&
      RollOverToFit(index, to_endpoint.context_window, PromptCounter::ForEndpoint(to_endpoint))) {
    return;  // the handoff goes to the new model first; the request follows it
  }
  SendRequest(index);
}

void Scheduler::RecordCircuitChanges(const std::string& model) {
  for (const CircuitChange& change : Governor(model).TakeCircuitChanges()) {
    nlohmann::json payload = {{"endpoint", model}, {"cause", change.cause}};
    if (change.to == CircuitState::kOpen) {
      payload["failures"] = change.failures;
      payload["cool_down_ms"] = Ms(change.cool_down_us);
    }
    const char* kind = change.to == CircuitState::kOpen       ? "circuit.opened"
                       : change.to == CircuitState::kHalfOpen ? "circuit.half_open"
                                                              : "circuit.closed";
    log_->Add(kind, "", "", std::move(payload));
  }
}

std::optional<int64_t> Scheduler::NextGovernorWakeUs() const {
  std::optional<int64_t> earliest;
  for (const auto& [model, governor] : governors_) {
    std::optional<int64_t> wake = governor.NextWakeUs();
    if (wake) earliest = std::min(earliest.value_or(*wake), *wake);
  }
  return earliest;
}

}  // namespace chorus
