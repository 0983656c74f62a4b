// DeadlineHeap: the pending deadlines of many objects, earliest first, for an event loop.
//
// A binary min-heap with lazy deletion: cancelling or moving a deadline does not touch the heap,
// the owner just bumps its generation, and entries whose generation no longer matches are
// dropped when they reach the top or when stale entries outnumber live ones. Push and pop are
// O(log n), so tens of thousands of pending timeouts cost little.
//
// Thread-safety: none; it belongs to one event loop.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace chorus {

// Now on the clock the event loops keep their deadlines on: steady, in microseconds.
inline int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class DeadlineHeap {
 public:
  struct Entry {
    int64_t at_us;
    uint32_t slot;        // which object
    uint32_t generation;  // the object's generation when the deadline was set
    bool operator>(const Entry& o) const { return at_us > o.at_us; }
  };

  // `is_current(entry)` says whether an entry still stands; `live` is roughly how many do.
  template <typename IsCurrent>
  void Push(Entry entry, IsCurrent is_current, size_t live) {
    if (entries_.size() > 2 * live + 1024) {
      std::erase_if(entries_, [&](const Entry& e) { return !is_current(e); });
      std::make_heap(entries_.begin(), entries_.end(), std::greater<>());
    }
    entries_.push_back(entry);
    std::push_heap(entries_.begin(), entries_.end(), std::greater<>());
  }

  // The earliest current entry, or nullptr; stale entries above it are dropped.
  template <typename IsCurrent>
  const Entry* Top(IsCurrent is_current) {
    while (!entries_.empty() && !is_current(entries_.front())) Pop();
    return entries_.empty() ? nullptr : &entries_.front();
  }

  size_t size() const { return entries_.size(); }

  void Pop() {
    std::pop_heap(entries_.begin(), entries_.end(), std::greater<>());
    entries_.pop_back();
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace chorus
