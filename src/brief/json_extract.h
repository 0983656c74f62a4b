// Locating the JSON value inside a model's reply: the whole reply, a ```json fence, or the
// first balanced {...} / [...] in prose. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chorus {

struct JsonCandidate {
  std::string_view text;  // a view into the reply
  size_t offset = 0;      // byte offset of `text` in the reply
  std::string origin;     // for messages: "the reply", "the ```json block at line 4", ...
};

// Where a JSON value may be, most deliberate first: the whole reply (trimmed), fenced blocks
// whose info string is empty or starts with "json", then up to `max_spans` balanced bracket
// spans in order of appearance. Linear in the reply's size for a fixed `max_spans`.
std::vector<JsonCandidate> FindJsonCandidates(std::string_view reply, size_t max_spans = 8);

// The byte offset of the first '{' or '[' that starts a span never closed, or npos.
size_t FindUnterminatedJsonStart(std::string_view reply);

// "line 3, column 5" (1-based; columns count bytes) for a byte offset of `text`.
std::string LineColumn(std::string_view text, size_t offset);

}  // namespace chorus
