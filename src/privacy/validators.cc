// Checksums and numbering-plan checks that turn digit runs into card numbers, IBANs, SSNs and
// phone numbers only when they are valid ones.
#include <algorithm>
#include <array>
#include <cstring>

#include "privacy/scan.h"

namespace chorus::privacy {
namespace {

int Prefix(std::string_view digits, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n && i < digits.size(); ++i) v = v * 10 + (digits[i] - '0');
  return v;
}

struct IbanLength {
  char country[3];
  int length;
};
// Registry lengths per country (SWIFT IBAN registry).
constexpr IbanLength kIbanLengths[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
    {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20},
    {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24},
    {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31},
    {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29},
    {"VA", 22}, {"VG", 24}, {"XK", 20},
};

struct PhonePlan {
  int code;
  int min_len;  // national significant number, without trunk prefix
  int max_len;
};
// Lengths of national significant numbers per ITU country code (ranges cover fixed and mobile).
constexpr PhonePlan kPhonePlans[] = {
    {1, 10, 10},  {7, 10, 10},   {20, 9, 10},  {27, 9, 9},   {30, 10, 10}, {31, 9, 9},
    {32, 8, 9},   {33, 9, 9},    {34, 9, 9},   {36, 8, 9},   {39, 6, 11},  {40, 9, 9},
    {41, 9, 9},   {43, 7, 13},   {44, 9, 10},  {45, 8, 8},   {46, 7, 9},   {47, 8, 8},
    {48, 9, 9},   {49, 7, 12},   {51, 8, 9},   {52, 10, 10}, {53, 8, 8},   {54, 10, 11},
    {55, 10, 11}, {56, 9, 9},    {57, 10, 10}, {58, 10, 10}, {60, 8, 10},  {61, 9, 9},
    {62, 8, 12},  {63, 10, 10},  {64, 8, 10},  {65, 8, 8},   {66, 8, 9},   {81, 9, 10},
    {82, 8, 10},  {84, 9, 10},   {86, 10, 11}, {90, 10, 10}, {91, 10, 10}, {92, 9, 10},
    {93, 9, 9},   {94, 9, 9},    {95, 8, 10},  {98, 10, 10}, {212, 9, 9},  {213, 9, 9},
    {216, 8, 8},  {233, 9, 9},   {234, 8, 10}, {254, 9, 9},  {255, 9, 9},  {256, 9, 9},
    {351, 9, 9},  {352, 8, 11},  {353, 7, 9},  {354, 7, 9},  {356, 8, 8},  {357, 8, 8},
    {358, 7, 10}, {359, 8, 9},   {370, 8, 8},  {371, 8, 8},  {372, 7, 8},  {380, 9, 9},
    {381, 8, 9},  {385, 8, 9},   {386, 8, 8},  {420, 9, 9},  {421, 9, 9},  {852, 8, 8},
    {853, 8, 8},  {880, 10, 10}, {886, 9, 9},  {961, 7, 8},  {962, 8, 9},  {964, 10, 10},
    {965, 8, 8},  {966, 9, 9},   {968, 8, 8},  {971, 8, 9},  {972, 8, 9},  {973, 8, 8},
    {974, 8, 8},  {994, 9, 9},   {995, 9, 9},  {998, 9, 9},
};

}  // namespace

bool LuhnValid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool CardIinValid(std::string_view d) {
  const size_t n = d.size();
  const int p1 = Prefix(d, 1), p2 = Prefix(d, 2), p3 = Prefix(d, 3), p4 = Prefix(d, 4),
            p6 = Prefix(d, 6);
  if (p1 == 4) return n == 13 || n == 16 || n == 19;                         // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;  // Mastercard
  if (p2 == 34 || p2 == 37) return n == 15;                                  // Amex
  if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || (p6 >= 622126 && p6 <= 622925)) {
    return n >= 16 && n <= 19;  // Discover
  }
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;  // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) {
    return n >= 14 && n <= 19;  // Diners
  }
  if (p2 == 62) return n >= 16 && n <= 19;                            // UnionPay
  if (p4 >= 2200 && p4 <= 2204) return n == 16;                       // Mir
  if (p2 == 50 || (p2 >= 56 && p2 <= 69)) return n >= 12 && n <= 19;  // Maestro
  return false;
}

bool IbanValid(std::string_view s) {
  if (s.size() < 15 || s.size() > 34 || !IsUpper(s[0]) || !IsUpper(s[1]) || !IsDigit(s[2]) ||
      !IsDigit(s[3])) {
    return false;
  }
  int expected = 0;
  for (const auto& e : kIbanLengths) {
    if (e.country[0] == s[0] && e.country[1] == s[1]) expected = e.length;
  }
  if (expected != static_cast<int>(s.size())) return false;
  int rem = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    char c = s[(k + 4) % s.size()];  // the first four characters move to the end
    if (IsDigit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else if (IsUpper(c)) {
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return rem == 1;
}

bool SsnValid(std::string_view d) {
  if (d.size() != 9) return false;
  const int area = Prefix(d, 3), group = Prefix(d.substr(3), 2), serial = Prefix(d.substr(5), 4);
  return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

bool InternationalPhoneValid(std::string_view d) {
  for (size_t len = 1; len <= 3 && len < d.size(); ++len) {
    const int code = Prefix(d, len);
    for (const auto& plan : kPhonePlans) {
      if (plan.code != code) continue;
      const int nsn = static_cast<int>(d.size() - len);
      if (d[len] == '0' && code != 39) return false;  // a trunk 0 is written as (0) or dropped
      return nsn >= plan.min_len && nsn <= plan.max_len;
    }
  }
  return false;
}

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLower(c);
  return out;
}

bool PrecededByKeyword(std::string_view text, size_t pos, size_t window,
                       std::span<const std::string_view> words) {
  // Walk back word by word (a word: letters/digits with an optional trailing '.', or one
  // symbol such as '#') and compare each, lower case, with the keywords.
  const size_t from = pos > window ? pos - window : 0;
  size_t p = pos;
  char buf[24];
  while (p > from) {
    const char c = text[p - 1];
    if (c == ' ' || c == '\t' || c == '\n' || c == ':' || c == ',' || c == '(' || c == '-') {
      --p;
      continue;
    }
    size_t start = p;
    if (c == '.' && start - 1 > from && IsAlnum(text[start - 2])) --start;  // "no."
    if (IsAlnum(text[start - 1])) {
      while (start > from && IsAlnum(text[start - 1])) --start;
    } else {
      start = p - 1;
    }
    const size_t len = std::min(p - start, sizeof(buf));
    for (size_t k = 0; k < len; ++k) buf[k] = ToLower(text[start + k]);
    const std::string_view word(buf, len);
    for (std::string_view w : words) {
      if (w == word) return true;
    }
    p = start;
  }
  return false;
}

}  // namespace chorus::privacy
