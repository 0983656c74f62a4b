#include "model/tokenizer_bpe.h"

#include <queue>

namespace chorus::tokenizer {
namespace {

struct Part {
  uint32_t start;
  uint32_t rank;  // rank of this part merged with the next one, or kNoRank
};

}  // namespace

void BytePairEncodeByScan(const RankTable& ranks, std::string_view piece,
                          std::vector<uint32_t>* out) {
  const size_t n = piece.size();
  if (n == 0) return;
  if (n == 1) {
    out->push_back(ranks.ByteRank(static_cast<uint8_t>(piece[0])));
    return;
  }
  // parts[i].start are the boundaries; the last entry is the end sentinel.
  Part stack_parts[kQuadraticLimit + 1];
  std::vector<Part> heap_parts;
  Part* parts = stack_parts;
  if (n > kQuadraticLimit) {
    heap_parts.resize(n + 1);
    parts = heap_parts.data();
  }
  size_t count = n + 1;
  for (size_t i = 0; i + 1 < n; ++i) {
    parts[i] = {static_cast<uint32_t>(i), ranks.Find(piece.substr(i, 2))};
  }
  parts[n - 1] = {static_cast<uint32_t>(n - 1), kNoRank};
  parts[n] = {static_cast<uint32_t>(n), kNoRank};

  // The rank of parts[i] merged with parts[i+1], given the current boundaries.
  auto pair_rank = [&](size_t i) -> uint32_t {
    if (i + 2 >= count) return kNoRank;
    return ranks.Find(piece.substr(parts[i].start, parts[i + 2].start - parts[i].start));
  };

  while (count > 2) {
    uint32_t best = kNoRank;
    size_t at = 0;
    for (size_t i = 0; i + 1 < count; ++i) {
      if (parts[i].rank < best) {
        best = parts[i].rank;
        at = i;
      }
    }
    if (best == kNoRank) break;
    // Drop boundary at+1, then refresh the two pairs that now include the merged part.
    for (size_t i = at + 1; i + 1 < count; ++i) parts[i] = parts[i + 1];
    --count;
    parts[at].rank = pair_rank(at);
    if (at > 0) parts[at - 1].rank = pair_rank(at - 1);
  }
  for (size_t i = 0; i + 1 < count; ++i) {
    out->push_back(ranks.Find(piece.substr(parts[i].start, parts[i + 1].start - parts[i].start)));
  }
}

void BytePairEncodeByHeap(const RankTable& ranks, std::string_view piece,
                          std::vector<uint32_t>* out) {
  const size_t n = piece.size();
  if (n == 0) return;
  constexpr uint32_t kNone = kNoRank;
  // A doubly linked list of parts; part i starts at byte i and ends where next[i] starts.
  std::vector<uint32_t> next(n), prev(n), pair(n, kNoRank);
  for (size_t i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? static_cast<uint32_t>(i + 1) : kNone;
    prev[i] = i > 0 ? static_cast<uint32_t>(i - 1) : kNone;
  }
  auto end_of = [&](uint32_t i) -> size_t { return next[i] == kNone ? n : next[i]; };
  auto rank_with_next = [&](uint32_t i) -> uint32_t {
    if (next[i] == kNone) return kNoRank;
    return ranks.Find(piece.substr(i, end_of(next[i]) - i));
  };
  // (rank, start): popping the smallest gives the lowest rank, leftmost on ties, like the scan.
  using Entry = std::pair<uint32_t, uint32_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  for (uint32_t i = 0; i + 1 < n; ++i) {
    pair[i] = rank_with_next(i);
    if (pair[i] != kNoRank) heap.emplace(pair[i], i);
  }
  while (!heap.empty()) {
    const auto [rank, i] = heap.top();
    heap.pop();
    // Stale entries: the part was merged away or its pair changed since the push. A part's pair
    // rank identifies its bytes, so an equal rank means the entry is still exact.
    if (pair[i] != rank) continue;
    const uint32_t j = next[i];
    next[i] = next[j];
    if (next[j] != kNone) prev[next[j]] = i;
    pair[j] = kNoRank;
    pair[i] = rank_with_next(i);
    if (pair[i] != kNoRank) heap.emplace(pair[i], i);
    if (prev[i] != kNone) {
      const uint32_t p = prev[i];
      pair[p] = rank_with_next(p);
      if (pair[p] != kNoRank) heap.emplace(pair[p], p);
    }
  }
  for (uint32_t i = 0; i != kNone; i = next[i]) {
    out->push_back(ranks.Find(piece.substr(i, end_of(i) - i)));
  }
}

void BytePairEncode(const RankTable& ranks, std::string_view piece, std::vector<uint32_t>* out) {
  if (piece.size() <= kQuadraticLimit) {
    BytePairEncodeByScan(ranks, piece, out);
  } else {
    BytePairEncodeByHeap(ranks, piece, out);
  }
}

}  // namespace chorus::tokenizer
