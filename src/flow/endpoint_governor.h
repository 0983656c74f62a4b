// EndpointGovernor: the one budget that every agent of a run shares on a model endpoint.
//
// It holds four limits and a circuit breaker:
//   rpm          at most `rpm` requests sent in any window of `window_us` (60 s by default);
//   tpm          at most `tpm` tokens in any such window. A request is charged, when it leaves,
//                its prompt tokens plus its answer allowance (max_tokens), the way OpenAI counts
//                it against TPM; when it ends the charge is corrected to the usage the server
//                reported;
//   concurrency  at most this many requests in flight;
//   retry_after  a 429 with Retry-After pauses the whole endpoint until then, not only the
//                agent that got it.
// The windows are exact sliding windows over what was sent, not refilling buckets: a bucket of
// capacity C refilling C per minute can let 2C through in one minute, and the provider counts
// per minute. Waiting requests queue FIFO: the head of the queue holds everyone behind it, so
// a large request is not starved by small ones and no wake-up sends a stampede.
//
// Pure and deterministic: every method takes the current time from the caller (the scheduler's
// Clock), nothing sleeps, and tickets are the caller's ids. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flow/circuit_breaker.h"

namespace chorus {

struct GovernorLimits {
  int64_t rpm = 0;      // 0: unlimited
  int64_t tpm = 0;      // 0: unlimited
  int concurrency = 0;  // 0: unlimited
  int64_t window_us = 60'000'000;
  int circuit_failures = 5;  // 0: the circuit never opens
  int64_t circuit_cool_down_us = 30'000'000;
};

// What holds a request back.
enum class Limit { kNone, kCircuit, kRetryAfter, kConcurrency, kRpm, kTpm };
std::string_view LimitName(Limit limit);  // "circuit", "retry_after", "concurrency", "rpm", "tpm"

struct Admission {
  enum class Verdict {
    kAdmit,      // send it now
    kWait,       // queued; Pump() will release it
    kReject,     // the circuit is open and the caller said it can go elsewhere
    kNeverFits,  // it needs more tokens than the whole tpm window holds
  };
  Verdict verdict = Verdict::kAdmit;
  // kWait with kNone: the head of the queue may go now (it leaves at the next Pump) and this
  // request waits its turn behind it.
  Limit held_by = Limit::kNone;
  std::optional<int64_t> until_us;  // when that limit lets go; nullopt: when a request ends
  size_t ahead = 0;                 // queued requests in front of it
};

// How a sent request ended, as far as the endpoint's health and budget are concerned.
enum class RequestOutcome {
  kAnswered,     // a response, or a permanent error: the endpoint is up
  kRateLimited,  // 429
  kFailed,       // any other transient error: counts towards opening the circuit
  kCancelled,    // proves nothing
};

struct Ticket {
  uint64_t id = 0;
  int64_t tokens = 0;
  bool can_fail_over = false;
  int64_t queued_at_us = 0;
};

class EndpointGovernor {
 public:
  explicit EndpointGovernor(GovernorLimits limits);

  // Asks to send request `id` costing `tokens`. kAdmit means it is counted as sent now.
  // `can_fail_over`: the caller has another model to try, so an open circuit rejects the request
  // instead of queueing it until the half-open probe.
  Admission Request(uint64_t id, int64_t tokens, bool can_fail_over, int64_t now_us);

  struct Released {
    std::vector<Ticket> admitted;  // in FIFO order; each counted as sent now
    std::vector<Ticket> rejected;  // the circuit opened while they waited and they can fail over
  };
  // Releases what the limits allow at `now_us`, head first.
  Released Pump(int64_t now_us);

  // The earliest time at which Pump could release something without any request ending;
  // nullopt when the queue is empty or only an ending request can free it.
  std::optional<int64_t> NextWakeUs() const;

  // Request `id` ended. `used_tokens` (< 0: unknown) corrects its charge; `retry_after_us`
  // (429 only) pauses the endpoint until now + it; `cause` is recorded if the circuit opens.
  void Finished(uint64_t id, RequestOutcome outcome, int64_t used_tokens,
                std::optional<int64_t> retry_after_us, const std::string& cause, int64_t now_us);

  // Circuit changes since the last call, oldest first.
  std::vector<CircuitChange> TakeCircuitChanges();
  // Whether the last Finished() paused the endpoint, and until when.
  std::optional<int64_t> TakePause();

  const GovernorLimits& limits() const { return limits_; }
  size_t queued() const { return queue_.size(); }
  int in_flight() const { return in_flight_; }
  CircuitState circuit() const { return circuit_.state(); }

 private:
  struct Sent {
    int64_t at_us;
    int64_t tokens;
    uint64_t id;
  };

  // What holds a request of `tokens` at `now_us` (kNone: it may go). Expire(now_us) first.
  Admission Check(int64_t tokens, int64_t now_us) const;
  void Expire(int64_t now_us);
  void AdvanceCircuit(int64_t now_us);
  void Admit(const Ticket& ticket, int64_t now_us);

  GovernorLimits limits_;
  CircuitBreaker circuit_;
  std::deque<Ticket> queue_;
  std::deque<Sent> window_;  // sent within the last window_us, oldest first
  int64_t window_tokens_ = 0;
  int in_flight_ = 0;
  int64_t paused_until_us_ = 0;
  int64_t last_now_us_ = 0;  // of the last Request/Pump, for NextWakeUs
  std::optional<int64_t> new_pause_;
  std::vector<CircuitChange> changes_;
};

}  // namespace chorus
