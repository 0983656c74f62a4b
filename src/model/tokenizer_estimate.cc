// EstimateTokens: a data-free, conservative token count.
//
// Anthropic does not publish its tokenizer, so budgets for its models use this estimate. It
// walks the text once, splitting it roughly the way tiktoken's pre-tokenizers do, and charges
// each kind of run what BPE vocabularies of the cl100k/o200k family cost at most on the test
// corpus. The weights were calibrated in tests/model/tokenizer_estimate_test.cc, which fails if
// the estimate ever falls below the cl100k or o200k count of a corpus text.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "chorus/tokenizer.h"

namespace chorus {
namespace {

bool IsAsciiLetter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Cost of one non-ASCII code point whose UTF-8 starts at s[0] and is `len` bytes long.
double NonAsciiCost(const unsigned char* s, size_t len) {
  if (len == 2) {
    const uint32_t cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
    if (cp >= 0xC0 && cp <= 0xFF) return 1.0;    // Latin-1 letters (é, ü, ñ): in-vocabulary
    if (cp >= 0x300 && cp <= 0x4FF) return 1.0;  // combining marks, Greek, Cyrillic
    if (cp >= 0x500) return 1.5;                 // Armenian, Hebrew, Arabic, Syriac...
    return 2.0;  // Latin-1 symbols and Latin Extended (ş, ƒ, Œ): often two byte tokens
  }
  if (len == 3) {
    const uint32_t cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    // CJK ideographs, kana, hangul and full-width forms: roughly one token each, some two.
    const bool cjk = (cp >= 0x3000 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
                     (cp >= 0xFF00 && cp <= 0xFFEF);
    return cjk ? 1.5 : 2.0;  // other BMP scripts (Indic, Thai, Georgian) split into bytes
  }
  return 3.0;  // emoji and other astral code points: usually 2-4 byte tokens
}

// Length of the UTF-8 sequence at s[0] (at most `avail` bytes), or 1 for a byte that does not
// start a complete sequence: tokenizers give such a byte a token of its own.
size_t SequenceLength(const unsigned char* s, size_t avail) {
  size_t len = 1;
  if (s[0] >= 0xC2 && s[0] <= 0xDF) {
    len = 2;
  } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
    len = 3;
  } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
    len = 4;
  }
  if (len > avail) return 1;
  for (size_t k = 1; k < len; ++k) {
    if ((s[k] & 0xC0) != 0x80) return 1;
  }
  return len;
}

}  // namespace

size_t EstimateTokens(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  double cost = 0;
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (IsAsciiLetter(c)) {
      // A word: one token, plus one per three letters past three. English words are usually one
      // token whatever their length, but other languages written in ASCII letters split often.
      size_t j = i + 1;
      size_t pieces = 1;
      while (j < n && IsAsciiLetter(s[j])) {
        // camelCase humps are separate pieces in o200k.
        if (s[j] <= 'Z' && s[j - 1] >= 'a') ++pieces;
        ++j;
      }
      const double len = static_cast<double>(j - i);
      cost += static_cast<double>(pieces) + std::max(0.0, len - 3.0 * pieces) / 3.0;
      i = j;
    } else if (IsDigit(c)) {
      size_t j = i + 1;
      while (j < n && IsDigit(s[j])) ++j;
      cost += std::ceil(static_cast<double>(j - i) / 3.0);  // digits come in groups of <= 3
      i = j;
    } else if (IsSpace(c)) {
      size_t j = i + 1;
      while (j < n && IsSpace(s[j])) ++j;
      // A single space before a word or symbol merges into it (not before digits: \p{N}{1,3}
      // takes no space); other runs are about one token.
      const bool merges = j - i == 1 && c == ' ' && j < n && !IsSpace(s[j]) && !IsDigit(s[j]);
      if (!merges) cost += 1.0 + static_cast<double>(j - i) / 16.0;
      i = j;
    } else if (c < 0x80) {
      cost += 0.8;  // punctuation: code often merges runs like "();" or "==", prose does not
      ++i;
    } else {
      const size_t len = SequenceLength(s + i, n - i);
      cost += len == 1 ? 1.0 : NonAsciiCost(s + i, len);
      i += len;
    }
  }
  // A small relative and absolute margin covers what the per-run weights average away.
  return static_cast<size_t>(std::ceil(cost * 1.1)) + (n > 0 ? 1 : 0);
}

}  // namespace chorus
