#include "model/tokenizer_split.h"

#include <cstring>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace chorus::tokenizer {
namespace {

// Unicode White_Space, the set Rust's regex crate uses for \s.
constexpr const char* kSpace =
    R"(\t\n\x0B\f\r\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F})"
    R"(\x{3000})";

std::string Ws() { return std::string("[") + kSpace + "]"; }
std::string NotWs() { return std::string("[^") + kSpace + "]"; }
std::string NotWsLetterNumber() { return std::string("[^") + kSpace + R"(\p{L}\p{N}])"; }

// Per-thread PCRE2 scratch: match data is written by every match and the JIT stack must not be
// shared between threads running at the same time.
struct ThreadScratch {
  pcre2_match_data* match_data = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  pcre2_match_context* context = nullptr;
  ThreadScratch() {
    match_data = pcre2_match_data_create(1, nullptr);
    // 32 KiB grows to 4 MiB: backtracking over \s+(?!\S) on long whitespace runs needs room.
    jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    context = pcre2_match_context_create(nullptr);
    if (context != nullptr && jit_stack != nullptr) {
      pcre2_jit_stack_assign(context, nullptr, jit_stack);
    }
  }
  ~ThreadScratch() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_data_free(match_data);
  }
  ThreadScratch(const ThreadScratch&) = delete;
  ThreadScratch& operator=(const ThreadScratch&) = delete;
};

ThreadScratch& Scratch() {
  thread_local ThreadScratch scratch;
  return scratch;
}

size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  return 2;
}

}  // namespace

std::string Cl100kPattern() {
  return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?)" +
         NotWsLetterNumber() + R"(+[\r\n]*|)" + Ws() + R"(*[\r\n]+|)" + Ws() + "+(?!" + NotWs() +
         ")|" + Ws() + "+";
}

std::string O200kPattern() {
  const std::string contraction = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)?)";
  return R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+)" +
         contraction +
         R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*)" +
         contraction + R"(|\p{N}{1,3}| ?)" + NotWsLetterNumber() + R"(+[\r\n/]*|)" + Ws() +
         R"(*[\r\n]+|)" + Ws() + "+(?!" + NotWs() + ")|" + Ws() + "+";
}

size_t ValidUtf8Prefix(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlongs
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // no overlongs
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return n;
}

struct PieceSplitter::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

PieceSplitter::PieceSplitter(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}

PieceSplitter::~PieceSplitter() = default;

Result<std::unique_ptr<PieceSplitter>> PieceSplitter::Create(const std::string& pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  // ANCHORED at compile time: JIT does not accept it per match, and every piece starts where
  // the previous one ended. UCP makes case folding and properties Unicode-aware.
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK,
                                   &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return Err(Status::Internal("tokenizer pattern: expected a valid PCRE2 regex, found error \"" +
                                std::string(reinterpret_cast<char*>(message)) + "\" at offset " +
                                std::to_string(offset)));
  }
  auto compiled = std::make_unique<Compiled>();
  compiled->code = code;
  // Without JIT (unsupported CPU) the interpreter gives the same pieces, only slower.
  compiled->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return std::unique_ptr<PieceSplitter>(new PieceSplitter(std::move(compiled)));
}

size_t PieceSplitter::MatchEnd(std::string_view segment, size_t pos) const {
  ThreadScratch& scratch = Scratch();
  int rc = PCRE2_ERROR_NOMATCH;
  if (scratch.match_data != nullptr) {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(segment.data());
    if (compiled_->jit) {
      rc = pcre2_jit_match(compiled_->code, subject, segment.size(), pos, 0, scratch.match_data,
                           scratch.context);
    } else {
      rc = pcre2_match(compiled_->code, subject, segment.size(), pos, PCRE2_NO_UTF_CHECK,
                       scratch.match_data, scratch.context);
    }
  }
  if (rc >= 0) {
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(scratch.match_data);
    if (ovector[0] == pos && ovector[1] > pos) return ovector[1];
  }
  return pos + Utf8Length(static_cast<unsigned char>(segment[pos]));
}

}  // namespace chorus::tokenizer
