// Finding the headings of a Markdown answer, for checking required sections. Pure functions,
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chorus {

// Bold-only lines ("**Risks**", "**Risks:**") rank below every ATX level.
inline constexpr int kBoldLineHeadingLevel = 7;

struct MarkdownHeading {
  std::string text;  // as written, without the #'s or ** markers, trimmed
  std::string key;   // NormalizeHeading(text)
  int level = 1;     // 1..6 for "#".."######"; kBoldLineHeadingLevel for a bold-only line
  size_t begin = 0;  // byte offset where the heading line starts
  size_t body = 0;   // byte offset just after the heading line
};

// Every ATX heading and bold-only line of `text`, in order, skipping fenced code blocks.
std::vector<MarkdownHeading> FindHeadings(std::string_view text);

// The form in which a heading and a section name are compared: surrounding whitespace,
// **bold** / __bold__ markers and a trailing colon removed, inner whitespace collapsed, ASCII
// lower-cased.
std::string NormalizeHeading(std::string_view text);

// `text` without a fence wrapping all of it (```markdown ... ```), which some models add.
std::string_view UnwrapWholeFence(std::string_view text);

// `text` without leading and trailing ASCII whitespace.
std::string_view TrimWhitespace(std::string_view text);

}  // namespace chorus
