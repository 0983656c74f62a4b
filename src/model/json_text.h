// Writing JSON text directly into a buffer: request bodies are built without an intermediate
// nlohmann::json tree, so message contents are copied once, into the body. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace chorus {

// Appends `text` as a quoted JSON string. Invalid UTF-8 is replaced by U+FFFD (servers reject
// bodies that are not UTF-8, and one bad byte in a model's answer must not poison a
// conversation).
void AppendJsonString(std::string& out, std::string_view text);

// Appends a JSON number with the shortest representation that round-trips.
void AppendJsonNumber(std::string& out, double value);

}  // namespace chorus
