// Staged synthesis: how a `synthesize` step reads sources that do not fit its model's context
// window. Sending them whole would fail at the provider (a context-length error) after
// paying for the upload, or be silently truncated; so the sources are cut, in order, into
// parts that fit, each part is synthesized on its own, and the parts' syntheses are then
// synthesized together, level after level, until one prompt holds them all. A tree reduce:
// every source is read once, by exactly one prompt of the first level, so the work grows
// linearly with the sources.
//
// This file holds what needs no scheduler: the pieces a level reads, cutting them into parts,
// and the text a part's prompt shows. The scheduler (scheduler_synthesis.cc) runs the levels.
// Values only; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "chorus/privacy.h"
#include "chorus/status.h"

namespace chorus {

// One indivisible input of a synthesis level: a whole step's output, one item of a map's, or
// (from the second level on) one part's synthesis.
struct SynthesisPiece {
  enum class Kind { kOutput, kMapItem, kPart };
  Kind kind = Kind::kOutput;
  std::string source;  // kOutput, kMapItem: the `from` step; kPart: the part's path
  size_t index = 0;    // kMapItem: the item's, 0-based; kPart: the part's among its level's
  size_t count = 0;    // kMapItem: the map's items; kPart: its level's parts
  std::string label;   // kMapItem: the item's label
  const std::string* text = nullptr;  // owned by the scheduler; outlives the level
  Label sensitivity = Label::kPublic;
  int64_t tokens = 0;  // what the piece takes in a prompt, its heading's share included
};

// [begin, end) into a level's pieces.
using SynthesisPart = std::pair<size_t, size_t>;

// Cuts `pieces`, in order, into the fewest consecutive parts whose tokens stay within
// `budget`, filling each part before starting the next. Fails, naming the piece, when one
// piece alone is over the budget: no cut can make it fit.
Result<std::vector<SynthesisPart>> CutIntoParts(const std::vector<SynthesisPiece>& pieces,
                                                int64_t budget);

// "item 17 of step 'fan'", "the output of step 'facts'", "the synthesis of part 3 of 7".
std::string DescribePiece(const SynthesisPiece& piece);

// The text `piece` adds to a prompt, before it crosses the data boundary (a map item's label
// is part of it). A map item reads as in the map's combined output ("### Item 3: label"), so
// a part shows its items exactly as the whole map would.
std::string SynthesisPieceText(const SynthesisPiece& piece, const std::string& text);

// The heading of consecutive pieces shown under one heading (map items of one map; any other
// piece stands alone): "Output of step 'fan', items 1-250 of 10000:", "Output of step
// 'facts':", "Partial synthesis 2 of 7:".
std::string SynthesisHeading(const SynthesisPiece& first, const SynthesisPiece& last);

// The constraint a part's agent is given on top of the synthesis's own: it sees part `part`
// (0-based) of `parts`, and its synthesis feeds the next level.
std::string PartialSynthesisConstraint(size_t part, size_t parts);

}  // namespace chorus
