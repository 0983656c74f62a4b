// Non-cryptographic hashing for change detection and table lookups (never for security).
#pragma once

#include <cstdint>
#include <string_view>

namespace chorus {

// 64-bit FNV-1a.
constexpr uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace chorus
