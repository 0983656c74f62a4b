// Runs of digits with separators, classified as payment card, US SSN or phone number only when
// a checksum or numbering plan says so. Everything else (order numbers, ISBNs, dates, prices,
// versions) is left alone.
#include <cstring>

#include "privacy/scan.h"

namespace chorus::privacy {
namespace {

// One run such as "+44 (0)20 7946 0958" or "4111-1111-1111-1111".
struct NumberRun {
  size_t start = 0;
  bool plus = false;        // starts with '+'
  bool trunk_zero = false;  // "(0)" after the country code
  bool parens = false;      // an area code in parentheses
  std::string digits;
  std::vector<int> groups;   // digits per group
  std::vector<size_t> ends;  // byte offset after each group
  std::string seps;          // separator bytes between groups (' ' '-' '.' '/' ')')
};

constexpr std::string_view kNotPhoneWords[] = {
    "order", "invoice", "ref",   "ticket", "isbn", "part", "sku", "serial", "tracking", "po",
    "build", "version", "batch", "lot",    "case", "no.",  "#",   "id",     "account"};
constexpr std::string_view kPhoneWords[] = {"phone", "tel",  "call",     "mobile",  "cell",
                                            "fax",   "ph",   "whatsapp", "telefon", "contact",
                                            "reach", "dial", "number",   "text"};

constexpr std::string_view kSsnWords[] = {"ssn", "security"};

bool SameSeparators(std::string_view seps) {
  for (char c : seps) {
    if (c != seps[0]) return false;
  }
  return true;
}

bool IsCard(const NumberRun& r, size_t k) {  // the first k groups
  std::string d;
  std::vector<int> g(r.groups.begin(), r.groups.begin() + k);
  for (int x : g) d.append(r.digits.substr(d.size(), x));
  if (r.plus || r.parens || d.size() < 13 || d.size() > 19) return false;
  const std::string seps = r.seps.substr(0, k - 1);
  if (!SameSeparators(seps) || (!seps.empty() && seps[0] != ' ' && seps[0] != '-')) return false;
  bool layout = k == 1;
  if (!layout) {
    layout = true;
    for (size_t j = 0; j + 1 < k; ++j) layout = layout && g[j] == 4;
    layout = layout && g[k - 1] >= 1 && g[k - 1] <= 4;
    if (k == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4))
      layout = true;  // Amex, Diners
  }
  return layout && LuhnValid(d) && CardIinValid(d);
}

bool IsSsn(std::string_view text, const NumberRun& r, size_t k) {
  if (r.plus || r.parens) return false;
  if (k == 3 && r.groups[0] == 3 && r.groups[1] == 2 && r.groups[2] == 4 &&
      SameSeparators(r.seps.substr(0, 2)) && (r.seps[0] == '-' || r.seps[0] == ' ')) {
    return SsnValid(r.digits.substr(0, 9));
  }
  return k == 1 && r.groups[0] == 9 && SsnValid(r.digits.substr(0, 9)) &&
         PrecededByKeyword(text, r.start, 24, kSsnWords);
}

// Context looked up once per run: words before it that make it a phone or rule that out.
struct RunContext {
  bool not_phone = false;
  bool phone_word = false;
};

bool IsPhone(const NumberRun& r, size_t k, const RunContext& ctx) {
  size_t ndigits = 0;
  for (size_t j = 0; j < k; ++j) ndigits += r.groups[j];
  const std::string d = r.digits.substr(0, ndigits);
  const std::string seps = r.seps.substr(0, k - 1);
  if (r.plus) {
    if (ndigits < 8 || ndigits > 15 || k < 2) return false;
    std::string national = d;
    if (r.trunk_zero) {
      // "(0)" sits after the country code: drop it before checking the plan.
      const size_t zero = r.groups[0];
      if (zero < national.size() && national[zero] == '0') national.erase(zero, 1);
    }
    return InternationalPhoneValid(national);
  }
  if (ctx.not_phone) return false;
  const bool keyword = ctx.phone_word;
  // North American Numbering Plan: area code and exchange each start with 2-9, then four
  // digits: "(212) 555-0147", "212-555-0147", "1-212-555-0147".
  auto nanp = [&](size_t off) { return d[off] >= '2' && d[off + 3] >= '2'; };
  if (ndigits == 10 && k == 3 && r.groups[0] == 3 && r.groups[1] == 3 && r.groups[2] == 4) {
    if ((SameSeparators(seps) && seps[0] != '/') || r.parens) return nanp(0);
  }
  if (ndigits == 11 && k == 4 && d[0] == '1' && r.groups[0] == 1 && r.groups[1] == 3 &&
      r.groups[2] == 3 && SameSeparators(seps)) {
    return nanp(1);
  }
  if (ndigits == 10 && k == 1 && keyword) return nanp(0);
  // National formats with a trunk 0 (UK, DE, FR, NL, ...): 10-11 digits in 2+ groups.
  if (d[0] == '0' && d[1] != '0' && ndigits >= 10 && ndigits <= 11 && k >= 2 && k <= 6 &&
      SameSeparators(seps) && r.groups[0] <= 5) {
    for (size_t j = 0; j < k; ++j) {
      if (r.groups[j] < 2) return false;
    }
    return seps[0] != '.' || keyword || k == 5;
  }
  return false;
}

// Reads the run that starts at `i`; false when the bytes there do not start one.
bool ReadRun(std::string_view text, size_t i, NumberRun& r) {
  const size_t n = text.size();
  r = NumberRun{};
  r.start = i;
  size_t p = i;
  if (text[p] == '+') {
    r.plus = true;
    ++p;
  } else if (text[p] == '(') {
    r.parens = true;
    ++p;
  }
  if (p >= n || !IsDigit(text[p])) return false;
  while (p < n) {
    const size_t g0 = p;
    while (p < n && IsDigit(text[p])) r.digits.push_back(text[p++]);
    r.groups.push_back(static_cast<int>(p - g0));
    r.ends.push_back(p);
    if (p >= n) break;
    // "(0)" trunk marker after an international country code.
    if (r.plus && r.groups.size() == 1 && text.substr(p).starts_with(" (0)")) {
      r.trunk_zero = true;
      r.digits.push_back('0');
      p += 4;
      if (p < n && text[p] == ' ') ++p;
      r.seps.push_back(' ');
      if (p < n && IsDigit(text[p])) continue;
      break;
    }
    if (r.plus && r.groups.size() == 1 && text.substr(p).starts_with("(0)")) {
      r.trunk_zero = true;
      r.digits.push_back('0');
      p += 3;
      if (p < n && text[p] == ' ') ++p;
      r.seps.push_back(' ');
      if (p < n && IsDigit(text[p])) continue;
      break;
    }
    if (text[p] == ')' && r.parens && r.groups.size() == 1) {
      ++p;
      if (p < n && (text[p] == ' ' || text[p] == '-')) ++p;
      r.seps.push_back(' ');
      if (p < n && IsDigit(text[p])) continue;
      return false;
    }
    const char c = text[p];
    if ((c == ' ' || c == '-' || c == '.' || c == '/') && p + 1 < n && IsDigit(text[p + 1])) {
      r.seps.push_back(c);
      ++p;
      continue;
    }
    break;
  }
  // A letter or another digit-ish glued to the end makes it a part number ("4512-B").
  if (p < n && (IsWordByte(text[p]) || ((text[p] == '-' || text[p] == '/' || text[p] == '.') &&
                                        p + 1 < n && IsAlnum(text[p + 1])))) {
    return r.groups.size() > 1;  // classify prefixes only
  }
  return true;
}

}  // namespace

void ScanNumbers(std::string_view text, std::vector<PiiSpan>& out) {
  const size_t n = text.size();
  NumberRun r;
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (!IsDigit(c) && c != '+' && c != '(') continue;
    if (i > 0) {
      const char b = text[i - 1];
      // Inside a word, an amount or a dotted/dashed code ("A-4512", "v1.2", "$1299").
      if (IsWordByte(b) || b == '$' || b == '#' || b == '+' || b == ':' ||
          ((b == '-' || b == '.' || b == '/' || b == ',') && i > 1 && IsAlnum(text[i - 2]))) {
        while (i + 1 < n && IsDigit(text[i + 1])) ++i;
        continue;
      }
    }
    if (!ReadRun(text, i, r)) {
      while (i + 1 < n && IsDigit(text[i + 1])) ++i;
      continue;
    }
    // Longest classified prefix of the run, in groups.
    bool matched = false;
    const RunContext ctx{PrecededByKeyword(text, r.start, 20, kNotPhoneWords),
                         PrecededByKeyword(text, r.start, 30, kPhoneWords)};
    const bool tail_glued = r.ends.back() < n && IsWordByte(text[r.ends.back()]);
    for (size_t k = r.groups.size() - (tail_glued ? 1 : 0); k >= 1 && !matched; --k) {
      EntityType type;
      if (IsCard(r, k)) {
        type = EntityType::kCreditCard;
      } else if (IsSsn(text, r, k)) {
        type = EntityType::kSsn;
      } else if (IsPhone(r, k, ctx)) {
        type = EntityType::kPhone;
      } else {
        continue;
      }
      out.push_back({r.start, r.ends[k - 1], type});
      i = r.ends[k - 1] - 1;
      matched = true;
    }
    // Nothing matched: the next group may start a value of its own ("...0130 00 4111 1111").
    if (!matched) i = r.ends.front() - 1;
  }
}

}  // namespace chorus::privacy
