// Run ids: 26-character Crockford base32 strings that sort by creation time (the ULID layout:
// 48 bits of milliseconds, then 80 random bits). Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace chorus {

std::string NewRunId(int64_t now_ms);

}  // namespace chorus
