// "Did you mean …?" for names a user misspelt in a team file: the closest candidate by
// Damerau-Levenshtein distance (optimal string alignment). Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus {

// Edits (insert, delete, substitute, swap of adjacent characters) that turn `a` into `b`.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` within 2 edits (and fewer edits than `word` has characters,
// so "id" is never offered for "xy"); ties go to the earlier candidate. A candidate equal to
// `word` is never suggested.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

// " (did you mean 'agent'?)" or "" when nothing is close.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

// "'a', 'b' or 'c'", for messages that list what was allowed.
std::string QuotedList(const std::vector<std::string>& items, std::string_view conjunction = "or");

}  // namespace chorus
