#include "flow/circuit_breaker.h"

namespace chorus {

std::string_view CircuitStateName(CircuitState state) {
  switch (state) {
    case CircuitState::kClosed:
      return "closed";
    case CircuitState::kOpen:
      return "open";
    case CircuitState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

std::optional<CircuitChange> CircuitBreaker::Tick(int64_t now_us) {
  if (state_ != CircuitState::kOpen || now_us < open_until_us_) return std::nullopt;
  state_ = CircuitState::kHalfOpen;
  probe_in_flight_ = false;
  return CircuitChange{CircuitState::kHalfOpen, "cool-down over; one probe request may go", 0,
                       cool_down_us_};
}

bool CircuitBreaker::AllowsRequest() const {
  switch (state_) {
    case CircuitState::kClosed:
      return true;
    case CircuitState::kOpen:
      return false;
    case CircuitState::kHalfOpen:
      return !probe_in_flight_;
  }
  return true;
}

void CircuitBreaker::OnSent() {
  if (state_ == CircuitState::kHalfOpen) probe_in_flight_ = true;
}

std::optional<CircuitChange> CircuitBreaker::OnAnswer() {
  consecutive_failures_ = 0;
  if (state_ == CircuitState::kClosed) return std::nullopt;
  // An answer from a request sent before the circuit opened proves the endpoint is back too.
  const bool probe = state_ == CircuitState::kHalfOpen;
  state_ = CircuitState::kClosed;
  probe_in_flight_ = false;
  return CircuitChange{CircuitState::kClosed,
                       probe ? "the half-open probe succeeded" : "a request sent earlier succeeded",
                       0, 0};
}

std::optional<CircuitChange> CircuitBreaker::OnFailure(const std::string& cause, int64_t now_us) {
  ++consecutive_failures_;
  const bool probe_failed = state_ == CircuitState::kHalfOpen;
  const bool tripped =
      state_ == CircuitState::kClosed && threshold_ > 0 && consecutive_failures_ >= threshold_;
  if (!probe_failed && !tripped) return std::nullopt;
  state_ = CircuitState::kOpen;
  probe_in_flight_ = false;
  open_until_us_ = now_us + cool_down_us_;
  return CircuitChange{CircuitState::kOpen,
                       (probe_failed ? "the half-open probe failed: " : "") + cause,
                       consecutive_failures_, cool_down_us_};
}

void CircuitBreaker::OnInconclusive() {
  if (state_ == CircuitState::kHalfOpen) probe_in_flight_ = false;
}

}  // namespace chorus
