// UTF-8 validation for text that enters a run (inputs, model answers). Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chorus {

// The byte offset of the first invalid UTF-8 sequence, or nullopt when `text` is valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::optional<size_t> FindInvalidUtf8(std::string_view text);

// "line 3, column 14" for a byte offset (columns count bytes, 1-based).
std::string DescribeOffset(std::string_view text, size_t offset);

// `text` with each invalid sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view text);

}  // namespace chorus
