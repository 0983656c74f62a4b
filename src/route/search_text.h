// Turning text into search terms for the framework index: lower-casing, splitting on anything
// that is not a letter or digit, dropping English stop words and a light suffix stemmer
// (plurals, -ing, -ed) so "prioritising features" meets "prioritise feature".
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chorus::route {

// The stem of one lower-case word: "companies" -> "company", "running" -> "run",
// "priced" -> "pric", "analysis" -> "analysis". The same word always gives the same stem, and
// plural, -ing and -ed forms of a word mostly meet their base form; stems need not be words.
std::string Stem(std::string_view word);

// The search terms of `text`, in order: stemmed words with stop words removed. Bytes >= 0x80
// count as letters, so UTF-8 words stay whole.
std::vector<std::string> Terms(std::string_view text);

// Terms plus, for each pair of neighbouring terms, the phrase term "a b" (phrases such as
// "five forces" or "root cause" rank above their scattered words).
std::vector<std::string> TermsWithPhrases(std::string_view text);

}  // namespace chorus::route
