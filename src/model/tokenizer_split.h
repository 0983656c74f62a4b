// PieceSplitter: tiktoken's pre-tokenizer. Cuts text into the pieces (words, number groups,
// punctuation runs, whitespace) that BPE then encodes one by one, using the encoding's regex
// compiled by PCRE2 with JIT.
//
// Why PCRE2 and not a hand-written scanner: both patterns need Unicode general categories
// (\p{L}, \p{Lu}, \p{M}, \p{N}...), case-insensitive contractions and a look-ahead (\s+(?!\S));
// PCRE2 has Unicode tables and backtracking semantics identical to the fancy-regex crate
// tiktoken uses, so equivalence is by construction rather than by a second Unicode table of ours.
//
// Input may be any bytes: maximal valid UTF-8 runs go through the regex, and each byte of an
// invalid sequence becomes a one-byte piece. A compiled splitter is immutable; ForEach may run
// on many threads at once (match buffers and the JIT stack are per thread).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "chorus/status.h"

namespace chorus::tokenizer {

// tiktoken's patterns, with \s spelled as Unicode White_Space (what Rust's \s matches) because
// PCRE2's \s differs on U+0085 and U+180E.
std::string Cl100kPattern();
std::string O200kPattern();

// Length of the longest prefix of `text` that is valid UTF-8 (RFC 3629: no overlongs,
// surrogates or code points above U+10FFFF).
size_t ValidUtf8Prefix(std::string_view text);

class PieceSplitter {
 public:
  static Result<std::unique_ptr<PieceSplitter>> Create(const std::string& pattern);
  ~PieceSplitter();
  PieceSplitter(const PieceSplitter&) = delete;
  PieceSplitter& operator=(const PieceSplitter&) = delete;

  // Calls fn(std::string_view piece) for consecutive pieces that together are exactly `text`.
  template <class Fn>
  void ForEach(std::string_view text, Fn&& fn) const {
    while (!text.empty()) {
      const size_t valid = ValidUtf8Prefix(text);
      std::string_view segment = text.substr(0, valid);
      size_t pos = 0;
      while (pos < segment.size()) {
        const size_t end = MatchEnd(segment, pos);
        fn(segment.substr(pos, end - pos));
        pos = end;
      }
      if (valid < text.size()) fn(text.substr(valid, 1));  // one byte of an invalid sequence
      text.remove_prefix(valid < text.size() ? valid + 1 : valid);
    }
  }

 private:
  struct Compiled;
  explicit PieceSplitter(std::unique_ptr<Compiled> compiled);

  // End of the piece that starts at `pos` of valid UTF-8 `segment` (> pos). Where the regex
  // would not match at pos (impossible for the two patterns) or fails, the piece is one
  // code point, so progress and the round trip are guaranteed.
  size_t MatchEnd(std::string_view segment, size_t pos) const;

  std::unique_ptr<Compiled> compiled_;
};

}  // namespace chorus::tokenizer
