// UTF-8 validation for text that enters a run (inputs, model answers). Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chorus {

// The length of the well-formed UTF-8 sequence starting at text[i] (Unicode table 3-7: no
// overlong forms, surrogates or code points above U+10FFFF), or 0 when there is none. Then
// `invalid_length`, if given, receives how many bytes the maximal invalid part spans: the lead
// byte and the continuation bytes that were still possible before the sequence broke off.
size_t Utf8SequenceAt(std::string_view text, size_t i, size_t* invalid_length = nullptr);

// The byte offset of the first invalid UTF-8 sequence, or nullopt when `text` is valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::optional<size_t> FindInvalidUtf8(std::string_view text);

// "line 3, column 14" for a byte offset (columns count bytes, 1-based).
std::string DescribeOffset(std::string_view text, size_t offset);

// `text` with each invalid sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view text);

}  // namespace chorus
