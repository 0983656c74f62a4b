#include "core/ids.h"

#include <random>

namespace chorus {

std::string NewRunId(int64_t now_ms) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(26, '0');
  uint64_t ms = static_cast<uint64_t>(now_ms);
  for (int i = 9; i >= 0; --i) {
    id[i] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  uint64_t hi = rng(), lo = rng();
  for (int i = 10; i < 26; ++i) {
    uint64_t& src = i < 18 ? hi : lo;
    id[i] = kAlphabet[src & 31];
    src >>= 5;
  }
  return id;
}

}  // namespace chorus
