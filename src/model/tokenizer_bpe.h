// Byte-pair merging of one pre-tokenized piece into token ids, as tiktoken does it: start from
// single bytes and repeatedly merge the adjacent pair whose concatenation has the lowest rank
// (the leftmost on ties) until no adjacent pair is in the vocabulary.
//
// Pure functions over a const RankTable: safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/tokenizer_ranks.h"

namespace chorus::tokenizer {

// Appends the tokens of `piece` to `out`. Pieces up to kQuadraticLimit bytes use the scan of
// tiktoken (fast for the short pieces a pre-tokenizer makes); longer ones use a heap so a
// megabyte of one character is O(n log n), not O(n^2).
void BytePairEncode(const RankTable& ranks, std::string_view piece, std::vector<uint32_t>* out);

// The two strategies, exposed so tests can check they agree on every input.
void BytePairEncodeByScan(const RankTable& ranks, std::string_view piece,
                          std::vector<uint32_t>* out);
void BytePairEncodeByHeap(const RankTable& ranks, std::string_view piece,
                          std::vector<uint32_t>* out);

inline constexpr size_t kQuadraticLimit = 128;

}  // namespace chorus::tokenizer
