#include "flow/staged_synthesis.h"

#include "flow/step_output.h"

namespace chorus {

Result<std::vector<SynthesisPart>> CutIntoParts(const std::vector<SynthesisPiece>& pieces,
                                                int64_t budget) {
  std::vector<SynthesisPart> parts;
  size_t begin = 0;
  int64_t sum = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const int64_t tokens = pieces[i].tokens;
    if (tokens > budget) {
      return Err(Status::ContextExceeded(DescribePiece(pieces[i]) + " alone takes about " +
                                         std::to_string(tokens) + " tokens, more than the " +
                                         std::to_string(budget) + " one prompt has room for"));
    }
    if (i > begin && sum + tokens > budget) {
      parts.emplace_back(begin, i);
      begin = i;
      sum = 0;
    }
    sum += tokens;
  }
  if (begin < pieces.size()) parts.emplace_back(begin, pieces.size());
  return parts;
}

std::string DescribePiece(const SynthesisPiece& piece) {
  switch (piece.kind) {
    case SynthesisPiece::Kind::kMapItem:
      return "item " + std::to_string(piece.index + 1) + " of step '" + piece.source + "'";
    case SynthesisPiece::Kind::kPart:
      return "the synthesis of part " + std::to_string(piece.index + 1) + " of " +
             std::to_string(piece.count) + " (" + piece.source + ")";
    case SynthesisPiece::Kind::kOutput:
      break;
  }
  return "the output of step '" + piece.source + "'";
}

std::string SynthesisPieceText(const SynthesisPiece& piece, const std::string& text) {
  if (piece.kind != SynthesisPiece::Kind::kMapItem) return text;
  std::string out;
  AppendMapItem(&out, piece.index, piece.label, text);
  return out;
}

std::string SynthesisHeading(const SynthesisPiece& first, const SynthesisPiece& last) {
  switch (first.kind) {
    case SynthesisPiece::Kind::kMapItem: {
      const std::string range =
          first.index == last.index
              ? "item " + std::to_string(first.index + 1)
              : "items " + std::to_string(first.index + 1) + "-" + std::to_string(last.index + 1);
      return "Output of step '" + first.source + "', " + range + " of " +
             std::to_string(first.count) + ":";
    }
    case SynthesisPiece::Kind::kPart:
      return "Partial synthesis " + std::to_string(first.index + 1) + " of " +
             std::to_string(first.count) + ":";
    case SynthesisPiece::Kind::kOutput:
      break;
  }
  return "Output of step '" + first.source + "':";
}

std::string PartialSynthesisConstraint(size_t part, size_t parts) {
  return "This is part " + std::to_string(part + 1) + " of " + std::to_string(parts) +
         " of the material, too much for one prompt; another step combines your synthesis "
         "with those of the other parts. Keep every fact, figure, source and disagreement it "
         "will need, and say which items they come from.";
}

}  // namespace chorus
