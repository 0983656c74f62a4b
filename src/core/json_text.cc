#include "core/json_text.h"

#include <bit>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/utf8.h"

namespace chorus {
namespace {

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

// The high bit of each of the eight bytes of `w` that is below 0x20, a quote, a backslash or
// not ASCII: the bytes that cannot be copied into a JSON string as they are. A borrow can
// only mark a byte above one that is marked already, so the lowest mark is exact.
uint64_t AttentionMask(uint64_t w) {
  auto zero_bytes = [](uint64_t v) { return (v - kOnes) & ~v & kHighBits; };
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighBits;
  return (w & kHighBits) | below_space | zero_bytes(w ^ (kOnes * '"')) |
         zero_bytes(w ^ (kOnes * '\\'));
}

void AppendEscapedByte(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out.append("\\\"");
      break;
    case '\\':
      out.append("\\\\");
      break;
    case '\n':
      out.append("\\n");
      break;
    case '\r':
      out.append("\\r");
      break;
    case '\t':
      out.append("\\t");
      break;
    case '\b':
      out.append("\\b");
      break;
    case '\f':
      out.append("\\f");
      break;
    default:
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
  }
}

// How many bytes from `i` on can be copied as they are, sixteen at a time where the CPU has
// SSE2 (every x86-64 does), then eight at a time: the first byte that needs attention is
// found from its block's mask, without going back over the block. The last few bytes are
// read as a word padded with spaces, which need nothing.
size_t CleanRunFrom(const unsigned char* s, size_t i, size_t n) {
#if defined(__SSE2__)
  // A signed comparison with 0x20 catches the control bytes and also every byte from 0x80 up
  // (negative as signed), which need a look as well.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmplt_epi8(v, space));
    if (const int mask = _mm_movemask_epi8(hits)) {
      return i + static_cast<size_t>(std::countr_zero(static_cast<unsigned>(mask)));
    }
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    for (; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if (uint64_t mask = AttentionMask(word)) return i + std::countr_zero(mask) / 8;
    }
    if (i == n) return n;
    uint64_t word = kOnes * ' ';
    std::memcpy(&word, s + i, n - i);
    uint64_t mask = AttentionMask(word);
    return mask ? i + std::countr_zero(mask) / 8 : n;
  }
  while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\') ++i;
  return i;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  out.push_back('"');
  // Bytes are copied in runs: a run ends only at a byte that must be escaped or replaced, so
  // most strings (keys, names, valid UTF-8 prose) are a single append.
  size_t verbatim = 0;  // start of the run not yet copied
  size_t i = 0;
  while ((i = CleanRunFrom(s, i, n)) < n) {
    const unsigned char c = s[i];
    if (c >= 0x80) {
      size_t skip = 0;
      if (size_t len = Utf8SequenceAt(text, i, &skip)) {
        i += len;  // valid: part of the run
        continue;
      }
      // A broken sequence is one replacement; the byte that broke it is read again, as the
      // start of what follows (nlohmann::json's rule).
      out.append(text.data() + verbatim, i - verbatim);
      out.append("\xEF\xBF\xBD");
      i += skip;
    } else {
      out.append(text.data() + verbatim, i - verbatim);
      AppendEscapedByte(out, c);
      ++i;
    }
    verbatim = i;
  }
  out.append(text.data() + verbatim, n - verbatim);
  out.push_back('"');
}

void AppendJsonNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("null");  // JSON has no NaN or infinity
    return;
  }
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

void JsonWriter::BeforeValue() {
  if (need_comma_) out_->push_back(',');
  need_comma_ = true;
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  need_comma_ = false;
#ifndef NDEBUG
  last_keys_.emplace_back();
#endif
}

void JsonWriter::EndObject() {
  out_->push_back('}');
  need_comma_ = true;
#ifndef NDEBUG
  last_keys_.pop_back();
#endif
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  need_comma_ = false;
}

void JsonWriter::EndArray() {
  out_->push_back(']');
  need_comma_ = true;
}

void JsonWriter::Key(MemberName name) {
#ifndef NDEBUG
  assert(!last_keys_.empty() && "a member name outside an object");
  assert((last_keys_.back().empty() || last_keys_.back() < name.text()) &&
         "member names must ascend, as nlohmann::json prints them");
  last_keys_.back().assign(name.text());
#endif
  const std::string_view text = name.text();
  char quoted[64];
  if (name.plain() && text.size() + 4 <= sizeof quoted) {
    // The separator, the quoted name and the colon in one append.
    size_t n = 0;
    if (need_comma_) quoted[n++] = ',';
    quoted[n++] = '"';
    std::memcpy(quoted + n, text.data(), text.size());
    n += text.size();
    quoted[n++] = '"';
    quoted[n++] = ':';
    out_->append(quoted, n);
  } else {
    BeforeValue();
    AppendJsonString(*out_, text);
    out_->push_back(':');
  }
  need_comma_ = false;  // the value follows
}

void JsonWriter::String(std::string_view text) {
  BeforeValue();
  AppendJsonString(*out_, text);
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out_->append(buffer, end);
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
}

void JsonWriter::Double(double value) {
  BeforeValue();
  if (value == 0.0 && !std::signbit(value)) {
    out_->append("0.0");  // the usual cost of a free model, without a detour
    return;
  }
  out_->append(nlohmann::json(value).dump());
}

void JsonWriter::Json(const nlohmann::json& value) {
  BeforeValue();
  if (value.is_null()) {
    out_->append("null");  // most briefs have no schema: no serializer for them
    return;
  }
  out_->append(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void JsonWriter::Strings(const std::vector<std::string>& items) {
  BeginArray();
  for (const std::string& item : items) String(item);
  EndArray();
}

}  // namespace chorus
