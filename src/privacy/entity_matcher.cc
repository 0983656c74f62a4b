// The team's own entity list: each name matched case-insensitively on word boundaries, with an
// optional legal suffix after it ("Acme", "ACME Inc.", "acme gmbh").
#include <re2/re2.h>

#include <algorithm>
#include <array>

#include "privacy/scan.h"

namespace chorus::privacy {
namespace {

constexpr std::array<std::string_view, 22> kLegalSuffixes = {
    "incorporated", "corporation", "limited", "company", "inc", "ltd", "llc", "llp",
    "gmbh",         "corp",        "co",      "sa",      "s.a", "ag",  "plc", "bv",
    "b.v",          "nv",          "sas",     "sarl",    "srl", "oy"};

// Length of a legal suffix (with its leading ", " or " " and a trailing '.') at p, or 0.
size_t SuffixAt(std::string_view lower, size_t p) {
  size_t q = p;
  if (q < lower.size() && lower[q] == ',') ++q;
  if (q >= lower.size() || lower[q] != ' ') return 0;
  ++q;
  for (std::string_view s : kLegalSuffixes) {
    if (lower.substr(q).starts_with(s)) {
      size_t e = q + s.size();
      if (e < lower.size() && lower[e] == '.') ++e;
      if (e >= lower.size() || !IsWordByte(lower[e])) return e - p;
    }
  }
  return 0;
}

}  // namespace

EntityMatcher::EntityMatcher(const std::vector<std::string>& entities) {
  for (const std::string& e : entities) {
    std::string lower = Lowercase(e);
    while (!lower.empty() && (lower.back() == ' ' || lower.back() == '.')) lower.pop_back();
    // "Acme Corp." is matched as "acme" plus an optional suffix.
    for (;;) {
      const size_t cut = lower.rfind(' ');
      if (cut == std::string::npos || cut == 0) break;
      const size_t from = lower[cut - 1] == ',' ? cut - 1 : cut;
      if (SuffixAt(lower, from) != lower.size() - from) break;
      lower.resize(from);
    }
    if (lower.size() >= 2) cores_.push_back(lower);
  }
  // Longer names first so "Acme Europe" wins over "Acme".
  std::sort(cores_.begin(), cores_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  if (cores_.empty()) return;
  std::string alternation = "(?i)(?:";
  for (size_t i = 0; i < cores_.size(); ++i) {
    alternation += (i ? "|" : "") + re2::RE2::QuoteMeta(cores_[i]);
  }
  pattern_ = std::make_unique<re2::RE2>(alternation + ")");
}

EntityMatcher::~EntityMatcher() = default;

void EntityMatcher::Scan(std::string_view text, std::vector<PiiSpan>& out) const {
  if (!pattern_ || !pattern_->ok()) return;
  // Match with one submatch (the whole match) lets RE2 run its DFA instead of an NFA.
  const re2::StringPiece input(text.data(), text.size());
  re2::StringPiece match;
  for (size_t from = 0; from < text.size() && pattern_->Match(input, from, text.size(),
                                                              re2::RE2::UNANCHORED, &match, 1);) {
    const size_t at = static_cast<size_t>(match.data() - text.data());
    const size_t end = at + match.size();
    if ((at > 0 && IsWordByte(text[at - 1])) || (end < text.size() && IsWordByte(text[end]))) {
      from = at + 1;  // "acmeville": not this entity; another may start right after `at`
      continue;
    }
    const std::string after = Lowercase(text.substr(end, 16));
    const size_t full = end + SuffixAt(after, 0);
    out.push_back({at, full, EntityType::kClient});
    from = full;
  }
}

}  // namespace chorus::privacy
