#include "flow/endpoint_governor.h"

#include <algorithm>

namespace chorus {

std::string_view LimitName(Limit limit) {
  switch (limit) {
    case Limit::kNone:
      return "none";
    case Limit::kCircuit:
      return "circuit";
    case Limit::kRetryAfter:
      return "retry_after";
    case Limit::kConcurrency:
      return "concurrency";
    case Limit::kRpm:
      return "rpm";
    case Limit::kTpm:
      return "tpm";
  }
  return "none";
}

EndpointGovernor::EndpointGovernor(GovernorLimits limits)
    : limits_(limits), circuit_(limits.circuit_failures, limits.circuit_cool_down_us) {}

Admission EndpointGovernor::Check(int64_t tokens, int64_t now_us) const {
  Admission held;
  held.verdict = Admission::Verdict::kWait;
  if (!circuit_.AllowsRequest()) {
    held.held_by = Limit::kCircuit;
    // Open: until the cool-down ends. Half-open: until the probe in flight ends.
    if (circuit_.state() == CircuitState::kOpen) held.until_us = circuit_.open_until_us();
    return held;
  }
  if (paused_until_us_ > now_us) {
    held.held_by = Limit::kRetryAfter;
    held.until_us = paused_until_us_;
    return held;
  }
  if (limits_.concurrency > 0 && in_flight_ >= limits_.concurrency) {
    held.held_by = Limit::kConcurrency;
    return held;
  }
  // window_ holds only live entries (Expire ran at now_us), oldest first.
  const int64_t live = static_cast<int64_t>(window_.size());
  if (limits_.rpm > 0 && live >= limits_.rpm) {
    held.held_by = Limit::kRpm;
    // The request may go once enough of the oldest have left the window.
    held.until_us = window_[static_cast<size_t>(live - limits_.rpm)].at_us + limits_.window_us;
    return held;
  }
  if (limits_.tpm > 0 && window_tokens_ + tokens > limits_.tpm) {
    held.held_by = Limit::kTpm;
    int64_t remaining = window_tokens_;
    for (const Sent& s : window_) {
      remaining -= s.tokens;
      if (remaining + tokens <= limits_.tpm) {
        held.until_us = s.at_us + limits_.window_us;
        break;
      }
    }
    return held;
  }
  return Admission{};
}

void EndpointGovernor::Expire(int64_t now_us) {
  while (!window_.empty() && window_.front().at_us + limits_.window_us <= now_us) {
    window_tokens_ -= window_.front().tokens;
    window_.pop_front();
  }
}

void EndpointGovernor::AdvanceCircuit(int64_t now_us) {
  if (auto change = circuit_.Tick(now_us)) changes_.push_back(std::move(*change));
}

void EndpointGovernor::Admit(const Ticket& ticket, int64_t now_us) {
  ++in_flight_;
  circuit_.OnSent();
  if (limits_.rpm > 0 || limits_.tpm > 0) {
    window_.push_back({now_us, ticket.tokens, ticket.id});
    window_tokens_ += ticket.tokens;
  }
}

Admission EndpointGovernor::Request(uint64_t id, int64_t tokens, bool can_fail_over,
                                    int64_t now_us) {
  AdvanceCircuit(now_us);
  Expire(now_us);
  last_now_us_ = now_us;
  Admission out;
  if (limits_.tpm > 0 && tokens > limits_.tpm) {
    out.verdict = Admission::Verdict::kNeverFits;
    out.held_by = Limit::kTpm;
    return out;
  }
  const bool open = circuit_.state() == CircuitState::kOpen;
  if (open && can_fail_over) {
    out.verdict = Admission::Verdict::kReject;
    out.held_by = Limit::kCircuit;
    out.until_us = circuit_.open_until_us();
    return out;
  }
  Ticket ticket{id, tokens, can_fail_over, now_us};
  if (queue_.empty()) {
    out = Check(tokens, now_us);
    if (out.held_by == Limit::kNone) {
      Admit(ticket, now_us);
      return out;
    }
  } else {
    // First come, first served: whatever holds the head holds this one too.
    out = Check(queue_.front().tokens, now_us);
    out.verdict = Admission::Verdict::kWait;
    out.ahead = queue_.size();
  }
  queue_.push_back(ticket);
  return out;
}

EndpointGovernor::Released EndpointGovernor::Pump(int64_t now_us) {
  AdvanceCircuit(now_us);
  Expire(now_us);
  last_now_us_ = now_us;
  Released out;
  if (circuit_.state() == CircuitState::kOpen) {
    auto stays = std::stable_partition(queue_.begin(), queue_.end(),
                                       [](const Ticket& t) { return !t.can_fail_over; });
    out.rejected.assign(stays, queue_.end());
    queue_.erase(stays, queue_.end());
  }
  while (!queue_.empty() && Check(queue_.front().tokens, now_us).held_by == Limit::kNone) {
    Admit(queue_.front(), now_us);
    out.admitted.push_back(queue_.front());
    queue_.pop_front();
  }
  return out;
}

std::optional<int64_t> EndpointGovernor::NextWakeUs() const {
  if (queue_.empty()) return std::nullopt;
  return Check(queue_.front().tokens, last_now_us_).until_us;
}

void EndpointGovernor::Finished(uint64_t id, RequestOutcome outcome, int64_t used_tokens,
                                std::optional<int64_t> retry_after_us, const std::string& cause,
                                int64_t now_us) {
  in_flight_ = std::max(0, in_flight_ - 1);
  if (used_tokens >= 0) {
    // Usually the newest entries end first; search from the back.
    auto it =
        std::find_if(window_.rbegin(), window_.rend(), [id](const Sent& s) { return s.id == id; });
    if (it != window_.rend()) {
      window_tokens_ += used_tokens - it->tokens;
      it->tokens = used_tokens;
    }
  }
  std::optional<CircuitChange> change;
  switch (outcome) {
    case RequestOutcome::kAnswered:
      change = circuit_.OnAnswer();
      break;
    case RequestOutcome::kRateLimited:
      circuit_.OnInconclusive();
      if (retry_after_us && now_us + *retry_after_us > paused_until_us_) {
        paused_until_us_ = now_us + *retry_after_us;
        new_pause_ = paused_until_us_;
      }
      break;
    case RequestOutcome::kFailed:
      change = circuit_.OnFailure(cause, now_us);
      break;
    case RequestOutcome::kCancelled:
      circuit_.OnInconclusive();
      break;
  }
  if (change) changes_.push_back(std::move(*change));
}

std::vector<CircuitChange> EndpointGovernor::TakeCircuitChanges() {
  std::vector<CircuitChange> out;
  out.swap(changes_);
  return out;
}

std::optional<int64_t> EndpointGovernor::TakePause() {
  std::optional<int64_t> out = new_pause_;
  new_pause_.reset();
  return out;
}

}  // namespace chorus
