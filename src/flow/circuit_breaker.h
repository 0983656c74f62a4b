// CircuitBreaker: whether an endpoint is worth calling. It counts consecutive failures that say
// "the endpoint is down" (connect failures, timeouts, 5xx, cut streams, unreadable bodies: every
// transient error except 429, which says "up, but slow down" and is handled by the endpoint's
// budget instead). After `failures` of them in a row, across all agents, the circuit opens:
// requests are refused without being sent. After `cool_down_us` it half-opens and lets exactly
// one request through as a probe; the probe's success closes it, its failure opens it again for
// another cool-down. Any answer from the server (a response, or a permanent error such as 400,
// which proves the endpoint is up) resets the count.
//
// A pure state machine over caller-supplied times (the scheduler's clock); every change of
// state is returned as a CircuitChange for the caller to record. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chorus {

enum class CircuitState { kClosed, kOpen, kHalfOpen };
std::string_view CircuitStateName(CircuitState state);  // "closed", "open", "half_open"

struct CircuitChange {
  CircuitState to = CircuitState::kClosed;
  std::string cause;  // the error that opened it, "cool-down over", "probe succeeded"
  int failures = 0;   // consecutive failures when it opened
  int64_t cool_down_us = 0;
};

class CircuitBreaker {
 public:
  // `failures` = 0 disables the breaker: it never opens.
  CircuitBreaker(int failures, int64_t cool_down_us)
      : threshold_(failures), cool_down_us_(cool_down_us) {}

  // Moves an open circuit whose cool-down has passed to half-open (returned as a change).
  std::optional<CircuitChange> Tick(int64_t now_us);
  // Whether a request may be sent now. A half-open circuit allows one probe at a time; call
  // OnSent when the allowed request actually leaves.
  bool AllowsRequest() const;
  void OnSent();
  std::optional<CircuitChange> OnAnswer();  // the server answered (success or permanent error)
  std::optional<CircuitChange> OnFailure(const std::string& cause, int64_t now_us);
  // A request that proved nothing (429, cancelled): frees the half-open probe slot.
  void OnInconclusive();

  CircuitState state() const { return state_; }
  int64_t open_until_us() const { return open_until_us_; }

 private:
  int threshold_;
  int64_t cool_down_us_;
  CircuitState state_ = CircuitState::kClosed;
  int consecutive_failures_ = 0;
  int64_t open_until_us_ = 0;
  bool probe_in_flight_ = false;
};

}  // namespace chorus
