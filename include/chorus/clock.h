// Clock: the source of time for the runtime, injected so tests can control it.
// Implementations must be thread-safe; SystemClock is.
#pragma once

#include <cstdint>

namespace chorus {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (wall time, for event timestamps).
  virtual int64_t NowMs() const = 0;
  // Monotonic microseconds (for durations and deadlines).
  virtual int64_t MonotonicUs() const = 0;
};

// The process-wide real clock.
const Clock& SystemClock();

}  // namespace chorus
