#include "brief/json_extract.h"

#include <algorithm>
#include <cctype>

#include "brief/markdown_sections.h"

namespace chorus {
namespace {

constexpr size_t kNotFound = std::string_view::npos;
// Each failed start rescans to the end of the reply; bounding the attempts keeps the search
// linear.
constexpr int kMaxUnterminatedStarts = 16;

// The end (one past the closing bracket) of the bracket span starting at `begin`, honouring
// JSON strings and escapes, or npos if it never closes.
size_t BalancedEnd(std::string_view s, size_t begin) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = begin; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return kNotFound;
}

bool StartsWithJsonInfo(std::string_view info) {
  info = TrimWhitespace(info);
  if (info.empty()) return true;
  if (info.size() < 4) return false;
  for (size_t i = 0; i < 4; ++i) {
    if (std::tolower(static_cast<unsigned char>(info[i])) != "json"[i]) return false;
  }
  return true;
}

void AddFencedBlocks(std::string_view reply, std::vector<JsonCandidate>* out) {
  size_t pos = 0;
  size_t line_number = 1;
  // The open fence: its character, length, the content start and its line.
  char fence_char = 0;
  size_t fence_length = 0;
  size_t content_begin = 0;
  size_t fence_line = 0;
  bool wanted = false;
  while (pos < reply.size()) {
    size_t eol = reply.find('\n', pos);
    const size_t next = eol == kNotFound ? reply.size() : eol + 1;
    std::string_view line = reply.substr(pos, next - pos);
    size_t indent = 0;
    while (indent < line.size() && indent < 3 && line[indent] == ' ') ++indent;
    size_t run = 0;
    const char c = indent < line.size() ? line[indent] : 0;
    if (c == '`' || c == '~') {
      while (indent + run < line.size() && line[indent + run] == c) ++run;
    }
    if (run >= 3) {
      std::string_view rest = line.substr(indent + run);
      if (fence_length == 0) {
        fence_char = c;
        fence_length = run;
        content_begin = next;
        fence_line = line_number;
        wanted = StartsWithJsonInfo(rest);
      } else if (c == fence_char && run >= fence_length && TrimWhitespace(rest).empty()) {
        if (wanted) {
          out->push_back({reply.substr(content_begin, pos - content_begin), content_begin,
                          "the fenced JSON block at line " + std::to_string(fence_line)});
        }
        fence_length = 0;
      }
    }
    pos = next;
    ++line_number;
  }
}

}  // namespace

std::vector<JsonCandidate> FindJsonCandidates(std::string_view reply, size_t max_spans) {
  std::vector<JsonCandidate> out;
  std::string_view trimmed = TrimWhitespace(reply);
  if (trimmed.empty()) return out;
  const size_t trimmed_offset = static_cast<size_t>(trimmed.data() - reply.data());
  out.push_back({trimmed, trimmed_offset, "the reply"});
  AddFencedBlocks(reply, &out);

  size_t spans = 0;
  int failed_starts = 0;
  size_t pos = reply.find_first_of("{[");
  while (pos != kNotFound && spans < max_spans) {
    const size_t end = BalancedEnd(reply, pos);
    if (end == kNotFound) {
      if (++failed_starts > kMaxUnterminatedStarts) break;
      pos = reply.find_first_of("{[", pos + 1);
      continue;
    }
    std::string_view span = reply.substr(pos, end - pos);
    // The whole reply is already the first candidate.
    if (span != trimmed) {
      out.push_back({span, pos, "the JSON starting at " + LineColumn(reply, pos)});
    }
    ++spans;
    pos = reply.find_first_of("{[", end);
  }
  return out;
}

size_t FindUnterminatedJsonStart(std::string_view reply) {
  size_t pos = reply.find_first_of("{[");
  int starts = 0;
  while (pos != kNotFound && starts++ < kMaxUnterminatedStarts) {
    const size_t end = BalancedEnd(reply, pos);
    if (end == kNotFound) return pos;
    pos = reply.find_first_of("{[", end);
  }
  return kNotFound;
}

std::string LineColumn(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_start + 1);
}

}  // namespace chorus
