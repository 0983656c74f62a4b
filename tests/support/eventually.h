// Waiting in tests for something another thread does: polls until it holds.
#pragma once

#include <chrono>
#include <thread>

namespace chorus::testing {

// Polls `done` every 5 ms; false after ten seconds. The bound is for a loaded CI machine, not
// a measurement: what the tests wait for normally happens within milliseconds.
template <typename Done>
bool Eventually(Done done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace chorus::testing
