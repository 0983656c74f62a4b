// CheckOutput: does a reply satisfy the brief's expected output? Failure messages are written
// to be handed back to the agent as feedback, so they list everything wrong at once.
#include <set>
#include <string_view>

#include "brief/json_extract.h"
#include "brief/json_schema.h"
#include "brief/markdown_sections.h"
#include "chorus/brief.h"

namespace chorus {
namespace {

using nlohmann::json;

constexpr size_t kMaxListedHeadings = 20;

std::string QuotedList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += "'" + item + "'";
  }
  return out;
}

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return std::string(n == 1 ? one : many);
}

Result<AcceptedOutput> CheckText(const std::string& text) {
  std::string_view trimmed = TrimWhitespace(text);
  if (trimmed.empty()) {
    return Err(Status::InvalidArgument(text.empty()
                                           ? "expected a non-empty answer, found an empty reply"
                                           : "expected a non-empty answer, found only whitespace"));
  }
  return AcceptedOutput{std::string(trimmed), json()};
}

Result<AcceptedOutput> CheckMarkdown(const ExpectedOutput& expected, const std::string& text) {
  std::string_view body_text = TrimWhitespace(UnwrapWholeFence(text));
  if (body_text.empty()) {
    return Err(
        Status::InvalidArgument("expected a Markdown answer, found " +
                                std::string(text.empty() ? "an empty reply" : "only whitespace")));
  }
  const std::vector<MarkdownHeading> headings = FindHeadings(body_text);
  std::set<std::string> required_keys;
  for (const std::string& section : expected.sections) {
    required_keys.insert(NormalizeHeading(section));
  }

  json sections = json::object();
  std::vector<std::string> missing;
  std::vector<std::string> empty;
  for (const std::string& section : expected.sections) {
    const std::string key = NormalizeHeading(section);
    size_t index = 0;
    while (index < headings.size() && headings[index].key != key) ++index;
    if (index == headings.size()) {
      missing.push_back(section);
      continue;
    }
    const MarkdownHeading& heading = headings[index];
    // The body runs to the next heading of the same or a higher level, or to the next
    // required section whatever its level.
    size_t end = body_text.size();
    for (size_t next = index + 1; next < headings.size(); ++next) {
      if (headings[next].level <= heading.level || required_keys.count(headings[next].key)) {
        end = headings[next].begin;
        break;
      }
    }
    const size_t begin = std::min(heading.body, end);
    std::string_view body = TrimWhitespace(body_text.substr(begin, end - begin));
    if (body.empty()) empty.push_back(section);
    sections[section] = std::string(body);
  }

  std::vector<std::string> problems;
  if (!missing.empty()) {
    std::vector<std::string> found;
    for (const MarkdownHeading& heading : headings) {
      if (heading.level == kBoldLineHeadingLevel) continue;
      if (found.size() == kMaxListedHeadings) {
        found.push_back("...");
        break;
      }
      found.push_back(heading.text);
    }
    problems.push_back(
        "missing " + Plural(missing.size(), "section ", "sections ") + QuotedList(missing) + "; " +
        (found.empty() ? std::string("found no headings") : "found headings " + QuotedList(found)));
  }
  if (!empty.empty()) {
    problems.push_back(Plural(empty.size(), "section ", "sections ") + QuotedList(empty) +
                       Plural(empty.size(), " is empty", " are empty"));
  }
  if (!problems.empty()) {
    std::string message;
    for (const std::string& p : problems) message += (message.empty() ? "" : "; ") + p;
    return Err(Status::InvalidArgument(std::move(message)));
  }
  return AcceptedOutput{std::string(body_text), std::move(sections)};
}

std::string ParseErrorDetail(const json::parse_error& e) {
  // nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, column 5:
  // <detail>"; the location is restated relative to the whole reply.
  std::string_view what = e.what();
  size_t at = what.find("parse error");
  size_t colon = at == std::string_view::npos ? at : what.find(": ", at);
  if (colon == std::string_view::npos) return std::string(what);
  return std::string(what.substr(colon + 2));
}

struct Parsed {
  const JsonCandidate* candidate = nullptr;
  json value;
};

Result<AcceptedOutput> CheckJson(const ExpectedOutput& expected, const std::string& text) {
  std::string_view trimmed = TrimWhitespace(text);
  if (trimmed.empty()) {
    return Err(
        Status::InvalidArgument("expected a JSON value, found " +
                                std::string(text.empty() ? "an empty reply" : "only whitespace")));
  }
  const std::vector<JsonCandidate> candidates = FindJsonCandidates(text);
  std::vector<Parsed> parsed;
  std::string first_error;  // from the most deliberate candidate that failed to parse
  for (const JsonCandidate& candidate : candidates) {
    try {
      json value = json::parse(candidate.text.begin(), candidate.text.end());
      if (expected.schema.is_null() || ValidateJsonSchema(expected.schema, value).empty()) {
        return AcceptedOutput{value.dump(-1, ' ', false, json::error_handler_t::replace),
                              std::move(value)};
      }
      parsed.push_back({&candidate, std::move(value)});
    } catch (const json::parse_error& e) {
      // A reply that is prose around JSON fails to parse as a whole; that failure is only
      // worth reporting when the reply itself starts like JSON.
      const bool whole = &candidate == &candidates.front();
      if (!first_error.empty() || (whole && trimmed.front() != '{' && trimmed.front() != '[')) {
        continue;
      }
      const size_t at = candidate.offset + (e.byte > 0 ? e.byte - 1 : 0);
      first_error = "expected a JSON value, found invalid JSON" +
                    (whole ? std::string() : " in " + candidate.origin) + " at " +
                    LineColumn(text, at) + ": " + ParseErrorDetail(e);
    }
  }

  if (!parsed.empty()) {
    // Report against the candidate whose top-level type the schema asks for, if any.
    const Parsed* chosen = &parsed.front();
    auto type = expected.schema.find("type");
    if (type != expected.schema.end() && type->is_string()) {
      for (const Parsed& p : parsed) {
        if (p.value.is_object() == (*type == "object") &&
            p.value.is_array() == (*type == "array")) {
          chosen = &p;
          break;
        }
      }
    }
    std::vector<std::string> violations = ValidateJsonSchema(expected.schema, chosen->value);
    std::string message = "the JSON does not match the schema";
    if (chosen->candidate->origin != "the reply")
      message += " (read from " + chosen->candidate->origin + ")";
    message += ": ";
    for (size_t i = 0; i < violations.size(); ++i) {
      message += (i == 0 ? "" : "; ") + violations[i];
    }
    return Err(Status::InvalidArgument(std::move(message)));
  }
  if (!first_error.empty()) return Err(Status::InvalidArgument(std::move(first_error)));
  if (size_t start = FindUnterminatedJsonStart(text); start != std::string_view::npos) {
    return Err(Status::InvalidArgument("expected a JSON value, found one starting at " +
                                       LineColumn(text, start) +
                                       " that is never closed (is the reply cut off?)"));
  }
  return Err(
      Status::InvalidArgument("expected a JSON value, found no JSON object or array in the "
                              "reply, which starts with " +
                              DumpForMessage(json(std::string(trimmed.substr(0, 60))), 70)));
}

}  // namespace

Result<AcceptedOutput> CheckOutput(const ExpectedOutput& expected, const std::string& text) {
  switch (expected.format) {
    case OutputFormat::kText:
      return CheckText(text);
    case OutputFormat::kMarkdown:
      return CheckMarkdown(expected, text);
    case OutputFormat::kJson:
      return CheckJson(expected, text);
  }
  return Err(Status::Internal("CheckOutput: unknown output format"));
}

}  // namespace chorus
