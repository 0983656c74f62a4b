// RankTable: the BPE vocabulary of one encoding, byte strings <-> ranks (= token ids).
//
// Parsed once from a tiktoken rank file ("<base64 bytes> <rank>" per line) and read-only after
// that, so any number of threads may call its const methods at once. Lookups go through an
// open-addressing hash table over one contiguous byte buffer because the BPE merge loop calls
// Find for every candidate pair; std::unordered_map<std::string, ...> costs an allocation per key
// and a pointer chase per probe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/status.h"

namespace chorus::tokenizer {

inline constexpr uint32_t kNoRank = 0xFFFFFFFFu;

class RankTable {
 public:
  // Parses the text of a rank file; `source` names it in error messages. Requires unique ranks,
  // unique byte strings and a rank for each of the 256 single bytes (so every input encodes).
  static Result<RankTable> Parse(std::string_view text, std::string_view source);

  // The rank of `bytes`, or kNoRank.
  uint32_t Find(std::string_view bytes) const {
    if (bytes.empty()) return kNoRank;
    size_t slot = Hash(bytes) & mask_;
    while (true) {
      const uint32_t rank = slots_[slot];
      if (rank == kNoRank) return kNoRank;
      if (Bytes(rank) == bytes) return rank;
      slot = (slot + 1) & mask_;
    }
  }

  // The bytes of `rank`; empty when the rank is not in the vocabulary.
  std::string_view Bytes(uint32_t rank) const {
    if (rank + 1 >= offsets_.size()) return {};
    return std::string_view(blob_).substr(offsets_[rank], offsets_[rank + 1] - offsets_[rank]);
  }

  // The rank of the single byte `b` (always present after a successful Parse).
  uint32_t ByteRank(uint8_t b) const { return byte_ranks_[b]; }

  // One past the largest rank.
  uint32_t size() const { return static_cast<uint32_t>(offsets_.size() - 1); }

  static uint64_t Hash(std::string_view bytes);

 private:
  std::string blob_;               // all token bytes, in rank order
  std::vector<uint32_t> offsets_;  // rank r is blob_[offsets_[r], offsets_[r+1]); gaps are empty
  std::vector<uint32_t> slots_;    // hash table of ranks; kNoRank marks an empty slot
  size_t mask_ = 0;
  uint32_t byte_ranks_[256] = {};
};

}  // namespace chorus::tokenizer
