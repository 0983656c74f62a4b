#include "model/tokenizer_ranks.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

namespace chorus::tokenizer {
namespace {

// A rank file with ids beyond this is not a tiktoken vocabulary; refusing it bounds memory.
constexpr uint32_t kMaxRank = 1u << 24;

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with '=' padding, as tiktoken writes it. Returns false on any malformed input.
bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  size_t padding = 0;
  if (in.back() == '=') ++padding;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++padding;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < in.size() - padding; ++i) {
    const int v = Base64Value(in[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

Status LineError(std::string_view source, size_t line_no, std::string_view what,
                 std::string_view line) {
  return Status::DataLoss(std::string(source) + ":" + std::to_string(line_no) + ": expected " +
                          std::string(what) + ", found \"" + std::string(line.substr(0, 80)) +
                          "\"");
}

}  // namespace

uint64_t RankTable::Hash(std::string_view bytes) {
  // Word-at-a-time multiply-xorshift: tokens are short, so per-byte loops (FNV) dominate lookups.
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = bytes.size() * kMul;
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
  }
  h ^= h >> 32;
  h *= kMul;
  return h ^ (h >> 29);
}

Result<RankTable> RankTable::Parse(std::string_view text, std::string_view source) {
  std::vector<std::pair<uint32_t, std::string>> entries;
  entries.reserve(text.size() / 12);
  std::string bytes;
  size_t line_no = 0;
  uint32_t max_rank = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos) {
      return Err(LineError(source, line_no, "\"<base64> <rank>\"", line));
    }
    if (!DecodeBase64(line.substr(0, space), &bytes)) {
      return Err(LineError(source, line_no, "base64 token bytes", line));
    }
    const std::string_view rank_text = line.substr(space + 1);
    uint32_t rank = 0;
    const auto [end, ec] =
        std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || end != rank_text.data() + rank_text.size() || rank >= kMaxRank) {
      return Err(LineError(source, line_no, "a decimal rank below 2^24", line));
    }
    max_rank = std::max(max_rank, rank);
    entries.emplace_back(rank, bytes);
  }
  if (entries.empty()) {
    return Err(Status::DataLoss(std::string(source) + ": expected rank lines, found none"));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  RankTable table;
  table.offsets_.assign(static_cast<size_t>(max_rank) + 2, 0);
  size_t total = 0;
  for (const auto& e : entries) total += e.second.size();
  table.blob_.reserve(total);
  size_t next = 0;  // next entry to place
  for (uint32_t r = 0; r <= max_rank; ++r) {
    table.offsets_[r] = static_cast<uint32_t>(table.blob_.size());
    if (next < entries.size() && entries[next].first == r) {
      table.blob_ += entries[next].second;
      ++next;
      if (next < entries.size() && entries[next].first == r) {
        return Err(Status::DataLoss(std::string(source) + ": expected unique ranks, found rank " +
                                    std::to_string(r) + " twice"));
      }
    }
  }
  table.offsets_[static_cast<size_t>(max_rank) + 1] = static_cast<uint32_t>(table.blob_.size());

  size_t capacity = 1;
  while (capacity < entries.size() * 2) capacity <<= 1;
  table.slots_.assign(capacity, kNoRank);
  table.mask_ = capacity - 1;
  for (const auto& e : entries) {
    size_t slot = Hash(e.second) & table.mask_;
    while (table.slots_[slot] != kNoRank) {
      if (table.Bytes(table.slots_[slot]) == e.second) {
        return Err(Status::DataLoss(
            std::string(source) + ": expected unique token bytes, found them at ranks " +
            std::to_string(table.slots_[slot]) + " and " + std::to_string(e.first)));
      }
      slot = (slot + 1) & table.mask_;
    }
    table.slots_[slot] = e.first;
  }

  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    table.byte_ranks_[b] = table.Find(std::string_view(&c, 1));
    if (table.byte_ranks_[b] == kNoRank) {
      return Err(Status::DataLoss(std::string(source) +
                                  ": expected a rank for every single byte, found none for 0x" +
                                  "0123456789abcdef"[b >> 4] + "0123456789abcdef"[b & 15]));
    }
  }
  return table;
}

}  // namespace chorus::tokenizer
