#include "brief/markdown_sections.h"

#include <cctype>

namespace chorus {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view StripSuffixColon(std::string_view s) {
  s = TrimWhitespace(s);
  if (!s.empty() && s.back() == ':') s.remove_suffix(1);
  return TrimWhitespace(s);
}

// Strips one level of surrounding emphasis markers ("**x**" or "__x__").
std::string_view StripBold(std::string_view s) {
  for (std::string_view marker : {"**", "__"}) {
    if (s.size() > 2 * marker.size() && s.substr(0, 2) == marker &&
        s.substr(s.size() - 2) == marker) {
      return TrimWhitespace(s.substr(2, s.size() - 4));
    }
  }
  return s;
}

// The text of a bold-only line ("**Risks**", "**Risks:**", "**Risks**:"), or empty.
std::string_view BoldLineText(std::string_view line) {
  std::string_view s = StripSuffixColon(line);
  if (s.size() <= 4 || s.substr(0, 2) != "**" || s.substr(s.size() - 2) != "**") return {};
  std::string_view inner = s.substr(2, s.size() - 4);
  if (inner.find("**") != std::string_view::npos) return {};
  return StripSuffixColon(inner);
}

// Fence opener: up to three spaces, then at least three backticks or tildes.
size_t FenceLength(std::string_view line, char* fence_char) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return 0;
  const char c = line[i];
  size_t n = 0;
  while (i + n < line.size() && line[i + n] == c) ++n;
  if (n < 3) return 0;
  *fence_char = c;
  return n;
}

bool ParseAtx(std::string_view line, MarkdownHeading* heading) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  size_t level = 0;
  while (i + level < line.size() && line[i + level] == '#') ++level;
  if (level == 0 || level > 6) return false;
  i += level;
  if (i < line.size() && line[i] != ' ' && line[i] != '\t') return false;
  std::string_view rest = TrimWhitespace(line.substr(i));
  // An optional closing sequence of #'s, if separated by a space.
  size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#') --end;
  if (end == 0 || IsSpace(rest[end - 1])) rest = TrimWhitespace(rest.substr(0, end));
  heading->level = static_cast<int>(level);
  heading->text = std::string(StripSuffixColon(StripBold(StripSuffixColon(rest))));
  return true;
}

}  // namespace

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::string NormalizeHeading(std::string_view text) {
  std::string_view s = StripSuffixColon(StripBold(StripSuffixColon(text)));
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::vector<MarkdownHeading> FindHeadings(std::string_view text) {
  std::vector<MarkdownHeading> headings;
  char fence_char = 0;
  size_t fence_length = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    const size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view line = text.substr(pos, next - pos);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    char c = 0;
    const size_t run = FenceLength(line, &c);
    if (fence_length > 0) {
      // A closing fence: same character, at least as long, nothing after it.
      if (run >= fence_length && c == fence_char && TrimWhitespace(line).size() == run) {
        fence_length = 0;
      }
    } else if (run > 0) {
      fence_char = c;
      fence_length = run;
    } else {
      MarkdownHeading heading;
      if (ParseAtx(line, &heading)) {
        heading.begin = pos;
        heading.body = next;
        heading.key = NormalizeHeading(heading.text);
        headings.push_back(std::move(heading));
      } else if (std::string_view bold = BoldLineText(line); !bold.empty()) {
        heading.text = std::string(bold);
        heading.key = NormalizeHeading(bold);
        heading.level = kBoldLineHeadingLevel;
        heading.begin = pos;
        heading.body = next;
        headings.push_back(std::move(heading));
      }
    }
    pos = next;
  }
  return headings;
}

std::string_view UnwrapWholeFence(std::string_view text) {
  std::string_view t = TrimWhitespace(text);
  char c = 0;
  const size_t open = FenceLength(t, &c);
  if (open == 0) return text;
  const size_t first_eol = t.find('\n');
  if (first_eol == std::string_view::npos) return text;
  std::string_view info = TrimWhitespace(t.substr(open, first_eol - open));
  std::string lang;
  for (char ch : info) lang += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!lang.empty() && lang != "markdown" && lang != "md" && lang != "text") return text;
  const size_t last_eol = t.rfind('\n');
  if (last_eol == first_eol) return text;
  std::string_view closing = TrimWhitespace(t.substr(last_eol + 1));
  if (closing.size() < open || closing.find_first_not_of(c) != std::string_view::npos) {
    return text;
  }
  std::string_view inner = t.substr(first_eol + 1, last_eol - first_eol - 1);
  // Another fence of the same kind inside means the outer fence does not wrap everything.
  for (size_t p = 0; p < inner.size();) {
    size_t e = inner.find('\n', p);
    if (e == std::string_view::npos) e = inner.size();
    char inner_c = 0;
    if (FenceLength(inner.substr(p, e - p), &inner_c) >= open && inner_c == c) return text;
    p = e + 1;
  }
  return inner;
}

}  // namespace chorus
