// Dates of birth (a date shortly after "born", "DOB", "date of birth"...) and street addresses
// (house number + capitalised street name + a street suffix, or the German/French orders).
#include <re2/re2.h>

#include <array>
#include <cstring>

#include "privacy/scan.h"

namespace chorus::privacy {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

// Length of a month name (full or 3-4 letter abbreviation, optional '.') at p, or 0.
size_t MonthAt(std::string_view text, size_t p) {
  size_t q = p;
  while (q < text.size() && IsAlpha(text[q])) ++q;
  if (q - p < 3) return 0;
  const std::string w = Lowercase(text.substr(p, q - p));
  for (std::string_view m : kMonths) {
    if (w == m || w == m.substr(0, 3) || (w == "sept" && m == "september")) {
      return q + (q < text.size() && text[q] == '.' ? 1 : 0) - p;
    }
  }
  return 0;
}

size_t DigitsAt(std::string_view text, size_t p, size_t min, size_t max) {
  size_t q = p;
  while (q < text.size() && IsDigit(text[q]) && q - p < max) ++q;
  if (q - p < min || (q < text.size() && IsDigit(text[q]))) return 0;
  return q - p;
}

// Length of a date starting at p: 1985-03-12, 12/03/1985, 12.03.1985, 12 March 1985,
// March 12, 1985, 12-Mar-1985. 0 when none.
size_t DateAt(std::string_view text, size_t p) {
  const size_t n = text.size();
  if (size_t y = DigitsAt(text, p, 4, 4);
      y && p + 10 <= n && (text[p + 4] == '-' || text[p + 4] == '/')) {
    const char s = text[p + 4];
    if (DigitsAt(text, p + 5, 1, 2) == 2 && text[p + 7] == s && DigitsAt(text, p + 8, 1, 2) == 2) {
      return 10;
    }
  }
  if (size_t d = DigitsAt(text, p, 1, 2)) {
    size_t q = p + d;
    if (q < n && (text[q] == '/' || text[q] == '.' || text[q] == '-')) {
      const char s = text[q];
      if (size_t m = DigitsAt(text, q + 1, 1, 2); m && q + 1 + m < n && text[q + 1 + m] == s) {
        if (size_t y = DigitsAt(text, q + 2 + m, 2, 4); y == 2 || y == 4) return q + 2 + m + y - p;
      }
      if (size_t m = MonthAt(text, q + 1); m && q + 1 + m < n && text[q + 1 + m] == s) {
        if (size_t y = DigitsAt(text, q + 2 + m, 4, 4)) return q + 2 + m + y - p;
      }
    }
    // "12 March 1985", "12th of March 1985"
    while (q < n && IsLower(text[q]) && q - p - d < 2) ++q;
    if (q < n && text[q] == ' ') ++q;
    if (text.substr(q).starts_with("of ")) q += 3;
    if (size_t m = MonthAt(text, q); m) {
      q += m;
      if (q < n && text[q] == ',') ++q;
      if (q < n && text[q] == ' ') ++q;
      if (size_t y = DigitsAt(text, q, 4, 4)) return q + y - p;
    }
    return 0;
  }
  if (size_t m = MonthAt(text, p); m) {  // "March 12, 1985"
    size_t q = p + m;
    if (q < n && text[q] == ' ') ++q;
    if (size_t d = DigitsAt(text, q, 1, 2)) {
      q += d;
      while (q < n && IsLower(text[q]) && q - p < m + d + 3) ++q;  // 12th
      if (q < n && text[q] == ',') ++q;
      if (q < n && text[q] == ' ') ++q;
      if (size_t y = DigitsAt(text, q, 4, 4)) return q + y - p;
    }
  }
  return 0;
}

constexpr std::array<std::string_view, 34> kStreetSuffixes = {
    "street", "st",    "avenue",  "ave",     "road",    "rd",    "boulevard", "blvd",  "lane",
    "ln",     "drive", "dr",      "court",   "ct",      "way",   "place",     "pl",    "terrace",
    "square", "sq",    "parkway", "pkwy",    "highway", "hwy",   "crescent",  "close", "circle",
    "cir",    "row",   "walk",    "gardens", "mews",    "grove", "hill"};
constexpr std::array<std::string_view, 10> kGermanSuffixes = {
    "straße", "strasse", "str.", "weg", "allee", "platz", "gasse", "ring", "damm", "ufer"};
constexpr std::array<std::string_view, 8> kFrenchWays = {"rue",    "avenue", "boulevard", "place",
                                                         "chemin", "allée",  "impasse",   "quai"};

bool IsCapWord(std::string_view text, size_t p, size_t& end) {
  end = p;
  if (p >= text.size() || !(IsUpper(text[p]) || static_cast<unsigned char>(text[p]) >= 0xC0)) {
    return false;
  }
  while (end < text.size() && (IsWordByte(text[end]) || text[end] == '\'')) ++end;
  return end > p + 1 || (end == p + 1 && end < text.size() && text[end] == '.');
}

bool HasSuffix(std::string_view word) {
  const std::string w = Lowercase(word);
  for (std::string_view s : kGermanSuffixes) {
    if (w.size() > s.size() + 2 && w.ends_with(s)) return true;
  }
  return false;
}

}  // namespace

void ScanDatesOfBirth(std::string_view text, std::vector<PiiSpan>& out) {
  // One pass of a DFA finds every cue; most texts have none.
  static const re2::RE2 kCue(
      "(?i)(?:date of birth|birth ?date|dob|d\\.o\\.b|born|birthday|geburtsdatum|geboren)");
  const re2::StringPiece input(text.data(), text.size());
  re2::StringPiece match;
  for (size_t from = 0; from < text.size() &&
                        kCue.Match(input, from, text.size(), re2::RE2::UNANCHORED, &match, 1);) {
    const size_t at = static_cast<size_t>(match.data() - text.data());
    const size_t cue_end = at + match.size();
    from = cue_end;
    if ((at > 0 && IsAlpha(text[at - 1])) || (cue_end < text.size() && IsAlpha(text[cue_end]))) {
      continue;  // inside a longer word: "Dobson", "borne"
    }
    // The date follows within a short window: "born on 12 March 1985", "DOB: 1985-03-12".
    const size_t limit = std::min(text.size(), cue_end + 24);
    for (size_t p = cue_end; p < limit; ++p) {
      if (!IsAlnum(text[p]) || (p > 0 && IsAlnum(text[p - 1]))) continue;
      if (size_t len = DateAt(text, p)) {
        out.push_back({p, p + len, EntityType::kDateOfBirth});
        break;
      }
    }
  }
}

void ScanAddresses(std::string_view text, std::vector<PiiSpan>& out) {
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(text[i]) ||
        (i > 0 && (IsWordByte(text[i - 1]) || text[i - 1] == '.' || text[i - 1] == ',' ||
                   text[i - 1] == '-' || text[i - 1] == '$'))) {
      continue;
    }
    size_t p = i;
    while (p < n && IsDigit(text[p]) && p - i < 6) ++p;
    if (p - i > 5 || p >= n) continue;
    if (IsUpper(text[p]) && p + 1 < n && text[p + 1] == ' ') ++p;  // 12B Baker Street
    if (p >= n || text[p] != ' ') continue;
    ++p;
    // French order: "12 rue de la Paix".
    size_t w_end = p;
    while (w_end < n && IsWordByte(text[w_end])) ++w_end;
    const std::string first = Lowercase(text.substr(p, w_end - p));
    bool french = false;
    for (std::string_view w : kFrenchWays) french = french || first == w;
    if (french && w_end < n && text[w_end] == ' ') {
      size_t q = w_end + 1, end = 0, e = 0;
      for (int words = 0; words < 5 && q < n; ++words) {
        if (IsCapWord(text, q, e)) {
          end = e;
        } else {
          size_t l = q;
          while (l < n && IsLower(text[l])) ++l;
          const std::string part = Lowercase(text.substr(q, l - q));
          if (part != "de" && part != "la" && part != "du" && part != "des" && part != "le") break;
          e = l;
          if (e < n && text[e] == '\'') ++e;
        }
        q = e + (e < n && text[e] == ' ' ? 1 : 0);
        if (e < n && text[e] == '\'') q = e + 1;
      }
      if (end) {
        out.push_back({i, end, EntityType::kAddress});
        i = end;
      }
      continue;
    }
    // English order: up to four capitalised words, the last a street suffix.
    size_t q = p, e = 0;
    for (int words = 0; words < 5 && IsCapWord(text, q, e); ++words) {
      std::string w = Lowercase(text.substr(q, e - q));
      if (!w.empty() && w.back() == '.') w.pop_back();
      bool suffix = false;
      for (std::string_view s : kStreetSuffixes) suffix = suffix || w == s;
      if (suffix && words > 0) {
        size_t end = e;
        if (end < n && text[end] == '.' && w.size() <= 4) ++end;
        out.push_back({i, end, EntityType::kAddress});
        i = end;
        break;
      }
      if (e >= n || text[e] != ' ') break;
      q = e + 1;
    }
  }
  // German order: "Hauptstraße 12", "Bahnhofstr. 5a".
  for (size_t i = 0; i < n; ++i) {
    size_t e = 0;
    if (i > 0 && IsWordByte(text[i - 1])) continue;
    if (!IsCapWord(text, i, e)) continue;
    size_t word_end = e;
    if (word_end < n && text[word_end] == '.') ++word_end;
    if (HasSuffix(text.substr(i, word_end - i)) && word_end + 1 < n && text[word_end] == ' ' &&
        IsDigit(text[word_end + 1])) {
      size_t p = word_end + 1;
      while (p < n && IsDigit(text[p]) && p - word_end < 5) ++p;
      if (p < n && IsLower(text[p]) && (p + 1 >= n || !IsWordByte(text[p + 1]))) ++p;
      if (p >= n || !IsWordByte(text[p])) out.push_back({i, p, EntityType::kAddress});
      i = p;
    } else {
      i = e;
    }
  }
}

}  // namespace chorus::privacy
