#include "route/search_text.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace chorus::route {
namespace {

// Short function words that say nothing about which framework fits. Kept small: words such
// as "why", "what if" or "risk" carry meaning for this library and are not here.
constexpr std::string_view kStopWords[] = {
    "a",     "about", "after", "all",   "also",  "am",   "an",     "and",   "any",   "are",
    "as",    "at",    "be",    "been",  "being", "both", "but",    "by",    "can",   "could",
    "did",   "do",    "does",  "doing", "for",   "from", "get",    "give",  "got",   "had",
    "has",   "have",  "he",    "help",  "her",   "here", "him",    "his",   "how",   "i",
    "if",    "in",    "into",  "is",    "it",    "its",  "just",   "me",    "might", "more",
    "most",  "much",  "must",  "my",    "need",  "no",   "not",    "of",    "on",    "one",
    "only",  "or",    "other", "our",   "out",   "over", "please", "shall", "she",   "should",
    "so",    "some",  "such",  "than",  "that",  "the",  "their",  "them",  "then",  "there",
    "these", "they",  "this",  "those", "to",    "too",  "us",     "very",  "want",  "was",
    "we",    "were",  "which", "with",  "you"};

bool IsStopWord(std::string_view word) {
  return std::find(std::begin(kStopWords), std::end(kStopWords), word) != std::end(kStopWords);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsVowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

bool HasVowel(std::string_view s) { return std::any_of(s.begin(), s.end(), IsVowel); }

// "runn" -> "run", "stopp" -> "stop"; "ll", "ss" and "zz" stay ("fill", "pass").
std::string Undouble(std::string s) {
  size_t n = s.size();
  if (n >= 3 && s[n - 1] == s[n - 2] && !IsVowel(s[n - 1]) && s[n - 1] != 'l' && s[n - 1] != 's' &&
      s[n - 1] != 'z') {
    s.pop_back();
  }
  return s;
}

}  // namespace

std::string Stem(std::string_view word) {
  std::string w(word);
  if (w.size() <= 3) return w;
  // Plurals first, so "pricings" becomes "pricing" and then "pric".
  if (EndsWith(w, "ies") && w.size() > 4) {
    w.replace(w.size() - 3, 3, "y");
  } else if (EndsWith(w, "sses")) {
    w.resize(w.size() - 2);
  } else if (EndsWith(w, "s") && !EndsWith(w, "ss") && !EndsWith(w, "us") && !EndsWith(w, "is") &&
             !EndsWith(w, "ys") && w.size() > 3) {
    w.pop_back();
  }
  if (EndsWith(w, "ing") && w.size() > 5 && HasVowel(std::string_view(w).substr(0, w.size() - 3))) {
    w = Undouble(w.substr(0, w.size() - 3));
  } else if (EndsWith(w, "ied") && w.size() > 4) {
    w.replace(w.size() - 3, 3, "y");
  } else if (EndsWith(w, "ed") && !EndsWith(w, "eed") && w.size() > 4 &&
             HasVowel(std::string_view(w).substr(0, w.size() - 2))) {
    w = Undouble(w.substr(0, w.size() - 2));
  }
  // A final silent e joins "prioritise" with "prioritis(ing)" and "price" with "pric(ed)".
  if (EndsWith(w, "e") && w.size() > 4) w.pop_back();
  return w;
}

std::vector<std::string> Terms(std::string_view text) {
  std::vector<std::string> terms;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && !IsStopWord(word)) terms.push_back(Stem(word));
    word.clear();
  };
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u)) {
      word.push_back(static_cast<char>(std::tolower(u)));
    } else if (c == '\'' || c == 0x60) {
      // "Porter's" -> "porters" -> "porter": apostrophes join, they do not split.
    } else {
      flush();
    }
  }
  flush();
  return terms;
}

std::vector<std::string> TermsWithPhrases(std::string_view text) {
  std::vector<std::string> terms = Terms(text);
  size_t words = terms.size();
  for (size_t i = 0; i + 1 < words; ++i) terms.push_back(terms[i] + " " + terms[i + 1]);
  return terms;
}

}  // namespace chorus::route
