#include "chorus/handoff_brief.h"

#include <algorithm>

#include "brief/markdown_sections.h"
#include "chorus/brief.h"

namespace chorus {
namespace {

using nlohmann::json;

constexpr std::string_view kFactMarker = "FACT:";

json StringList(std::string_view description) {
  return {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", description}};
}

json Text(std::string_view description, int min_length) {
  return {{"type", "string"}, {"minLength", min_length}, {"description", description}};
}

std::vector<std::string> ReadList(const json& j, const char* key) {
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_array()) {
    for (const json& item : *it) out.push_back(item.get<std::string>());
  }
  return out;
}

void AppendList(std::string_view heading, const std::vector<std::string>& items, std::string* out) {
  if (items.empty()) return;
  *out += "### ";
  *out += heading;
  *out += "\n\n";
  for (const std::string& item : items) {
    *out += "- ";
    *out += TrimWhitespace(item);
    *out += '\n';
  }
  *out += '\n';
}

void AppendParagraph(std::string_view heading, const std::string& text, std::string* out) {
  if (TrimWhitespace(text).empty()) return;
  *out += "### ";
  *out += heading;
  *out += "\n\n";
  *out += TrimWhitespace(text);
  *out += "\n\n";
}

}  // namespace

json HandoffBrief::ToJson() const {
  return {{"key_decisions", key_decisions},   {"current_state", current_state},
          {"next_steps", next_steps},         {"reasoning", reasoning},
          {"open_questions", open_questions}, {"verbatim_facts", verbatim_facts}};
}

const json& HandoffBriefSchema() {
  static const json kSchema = {
      {"title", "HandoffBrief"},
      {"type", "object"},
      {"required",
       {"key_decisions", "current_state", "next_steps", "reasoning", "open_questions",
        "verbatim_facts"}},
      {"properties",
       {{"key_decisions", StringList("decisions taken so far that must not be reopened")},
        {"current_state", Text("where the work stands now", 1)},
        {"next_steps", StringList("what to do next, in order")},
        {"reasoning", Text("why the work went this way", 0)},
        {"open_questions", StringList("what is still unknown or undecided")},
        {"verbatim_facts",
         StringList("every line marked FACT: so far, copied exactly, marker included")}}}};
  return kSchema;
}

Result<HandoffBrief> ParseHandoffBrief(const std::string& text) {
  ExpectedOutput expected;
  expected.format = OutputFormat::kJson;
  expected.schema = HandoffBriefSchema();
  Result<AcceptedOutput> accepted = CheckOutput(expected, text);
  if (!accepted) return Err(accepted.error());
  const json& j = accepted->json;
  HandoffBrief brief;
  brief.key_decisions = ReadList(j, "key_decisions");
  brief.current_state = j.value("current_state", "");
  brief.next_steps = ReadList(j, "next_steps");
  brief.reasoning = j.value("reasoning", "");
  brief.open_questions = ReadList(j, "open_questions");
  brief.verbatim_facts = ReadList(j, "verbatim_facts");
  return brief;
}

int MergeVerbatimFacts(const std::vector<std::string>& facts, HandoffBrief* brief) {
  int added = 0;
  for (const std::string& fact : facts) {
    // A fact counts as carried only when some entry holds it word for word.
    bool carried =
        std::any_of(brief->verbatim_facts.begin(), brief->verbatim_facts.end(),
                    [&](const std::string& kept) { return kept.find(fact) != std::string::npos; });
    if (carried) continue;
    brief->verbatim_facts.push_back(fact);
    ++added;
  }
  return added;
}

std::vector<std::string> MarkedFacts(const std::string& text) {
  std::vector<std::string> facts;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line = TrimWhitespace(std::string_view(text).substr(start, end - start));
    if (line.starts_with("- ") || line.starts_with("* ")) line = TrimWhitespace(line.substr(2));
    if (line.starts_with(kFactMarker) && line.size() > kFactMarker.size()) {
      std::string fact(line);
      if (std::find(facts.begin(), facts.end(), fact) == facts.end()) facts.push_back(fact);
    }
    start = end + 1;
  }
  return facts;
}

std::string RenderHandoffBrief(const HandoffBrief& brief, int generation) {
  std::string out = "## Handoff brief (generation " + std::to_string(generation) + ")\n\n";
  out += "This conversation continues work begun in generation " + std::to_string(generation - 1) +
         ", which reached its context limit. Its handoff brief is below; treat it as what you "
         "already know. Keep every fact under \"Facts to keep verbatim\" word for word, and copy "
         "them into any handoff brief you are asked for later.\n\n";
  AppendParagraph("Current state", brief.current_state, &out);
  AppendList("Key decisions", brief.key_decisions, &out);
  AppendParagraph("Reasoning", brief.reasoning, &out);
  AppendList("Next steps", brief.next_steps, &out);
  AppendList("Open questions", brief.open_questions, &out);
  AppendList("Facts to keep verbatim", brief.verbatim_facts, &out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace chorus
