// Internal pieces of the PII detector: byte classes, candidate spans and the scanners that
// produce them. Every scanner is a pure function of its input (and of immutable lexicons), so
// the detector may run them from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chorus/privacy.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace chorus::privacy {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAlpha(char c) { return IsUpper(c) || IsLower(c); }
inline bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
// Bytes of multi-byte UTF-8 sequences count as letters: names like Müller stay one word.
inline bool IsWordByte(char c) { return IsAlnum(c) || static_cast<unsigned char>(c) >= 0x80; }
inline char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c + 32) : c; }
std::string Lowercase(std::string_view s);

// True when one of `words` (lower case) ends within `window` bytes before `pos`.
bool PrecededByKeyword(std::string_view text, size_t pos, size_t window,
                       std::span<const std::string_view> words);

// Scanners append candidates; overlaps are resolved by the detector.
void ScanEmails(std::string_view text, std::vector<PiiSpan>& out);
void ScanUrls(std::string_view text, std::vector<PiiSpan>& out);
void ScanIps(std::string_view text, std::vector<PiiSpan>& out);
void ScanNumbers(std::string_view text, std::vector<PiiSpan>& out);  // cards, SSNs, phones
void ScanIbans(std::string_view text, std::vector<PiiSpan>& out);
void ScanDatesOfBirth(std::string_view text, std::vector<PiiSpan>& out);
void ScanAddresses(std::string_view text, std::vector<PiiSpan>& out);

// Validators, exposed for tests.
bool LuhnValid(std::string_view digits);
bool CardIinValid(std::string_view digits);  // issuer range allows this length
bool IbanValid(std::string_view compact);    // country length + mod-97; upper case, no spaces
bool SsnValid(std::string_view digits);      // 9 digits, area/group/serial ranges
// International number: digits after '+' (country code first); true when the national
// significant number has a length the country's plan allows.
bool InternationalPhoneValid(std::string_view digits);

// First names, surnames, ordinary words and proper nouns, folded to lower case, in one table so
// that a capitalised word costs one lookup.
struct Lexicon {
  enum : uint8_t { kFirstName = 1, kSurname = 2, kWord = 4, kProperNoun = 8 };
  std::unordered_map<std::string, uint8_t> words;
  uint8_t Flags(const std::string& folded) const {
    auto it = words.find(folded);
    return it == words.end() ? 0 : it->second;
  }
};
Result<Lexicon> LoadLexicon(const std::string& data_dir, const std::string& dictionary_path);

// Person names. `taken` marks spans already claimed by structured detectors (e-mail, URL...),
// inside which no name is looked for.
void ScanPersons(std::string_view text, const Lexicon& lexicon, const std::vector<PiiSpan>& taken,
                 std::vector<PiiSpan>& out);

// The team's own entities, any case, with or without legal suffixes.
class EntityMatcher {
 public:
  explicit EntityMatcher(const std::vector<std::string>& entities);
  ~EntityMatcher();
  void Scan(std::string_view text, std::vector<PiiSpan>& out) const;

 private:
  std::vector<std::string> cores_;     // lower case, legal suffix removed, longest first
  std::unique_ptr<re2::RE2> pattern_;  // the cores as one case-insensitive alternation
};

}  // namespace chorus::privacy
