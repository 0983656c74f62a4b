// The lazy-deletion deadline heap behind the HTTP/1.1 client's timeouts.

#include "model/deadline_heap.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace chorus {
namespace {

TEST(DeadlineHeap, PopsTheEarliestCurrentDeadlineAndSkipsLapsedOnes) {
  std::vector<uint32_t> generation(3, 0);
  auto current = [&](const DeadlineHeap::Entry& e) { return generation[e.slot] == e.generation; };
  DeadlineHeap heap;
  heap.Push({300, 0, 0}, current, 3);
  heap.Push({100, 1, 0}, current, 3);
  heap.Push({200, 2, 0}, current, 3);
  ++generation[1];  // slot 1's deadline was cancelled
  ASSERT_NE(heap.Top(current), nullptr);
  EXPECT_EQ(heap.Top(current)->slot, 2u);
  heap.Pop();
  EXPECT_EQ(heap.Top(current)->slot, 0u);
  heap.Pop();
  EXPECT_EQ(heap.Top(current), nullptr);
}

TEST(DeadlineHeap, StaleEntriesAreCompactedAwayUnderChurn) {
  // One live deadline per slot, moved 100 times each: the heap must not keep all 100,000.
  constexpr uint32_t kSlots = 1000;
  std::vector<uint32_t> generation(kSlots, 0);
  std::vector<int64_t> deadline(kSlots, 0);
  auto current = [&](const DeadlineHeap::Entry& e) { return generation[e.slot] == e.generation; };
  DeadlineHeap heap;
  std::mt19937 random(7);
  for (int round = 0; round < 100; ++round) {
    for (uint32_t slot = 0; slot < kSlots; ++slot) {
      deadline[slot] = random() % 1'000'000;
      heap.Push({deadline[slot], slot, ++generation[slot]}, current, kSlots);
    }
  }
  EXPECT_LE(heap.size(), 2 * kSlots + 1024 + kSlots);
  int64_t last = -1;
  size_t popped = 0;
  while (const DeadlineHeap::Entry* top = heap.Top(current)) {
    EXPECT_GE(top->at_us, last);
    EXPECT_EQ(top->at_us, deadline[top->slot]);
    last = top->at_us;
    ++generation[top->slot];  // fired
    heap.Pop();
    ++popped;
  }
  EXPECT_EQ(popped, kSlots);
}

}  // namespace
}  // namespace chorus
