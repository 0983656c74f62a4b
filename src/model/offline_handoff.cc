#include "model/offline_handoff.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "model/offline_text.h"

namespace chorus::offline {
namespace {

using nlohmann::json;

// A handoff brief must stay small: it is the seed of every later generation.
constexpr size_t kMaxDecisions = 5;
constexpr size_t kMaxQuestions = 3;
constexpr size_t kDecisionBytes = 120;
constexpr std::string_view kTurnPrefix = "Brief (";
constexpr std::string_view kAnswerMarker = "\n\nYour accepted answer:\n";
constexpr std::string_view kKeepPrefix = "Keep verbatim: ";

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view WithoutBullet(std::string_view line) {
  line = Trim(line);
  if (line.starts_with("- ") || line.starts_with("* ")) line = Trim(line.substr(2));
  return line;
}

void AddUnique(std::string value, std::vector<std::string>* out) {
  if (std::find(out->begin(), out->end(), value) == out->end()) out->push_back(std::move(value));
}

// The first line of an answer that says something: not the offline notice, a heading, a
// fence or a blank line.
std::string OpeningLine(std::string_view answer) {
  for (std::string_view line : Lines(answer)) {
    std::string_view t = WithoutBullet(line);
    // The offline answers' own scaffolding ("Objective: ...", "What the context says:") is
    // not a decision; the first line of substance is.
    if (t.empty() || t.starts_with(">") || t.starts_with("#") || t.starts_with("```") ||
        t.starts_with("{") || t.starts_with("}") || t.starts_with("Objective:") ||
        t.ends_with(":")) {
      continue;
    }
    return Truncate(OneLine(t), kDecisionBytes);
  }
  return Truncate(OneLine(answer), kDecisionBytes);
}

// The objective paragraph of a rendered brief ("## Objective\n\n...").
std::string ObjectiveOf(std::string_view brief) {
  constexpr std::string_view kHeading = "## Objective\n\n";
  size_t at = brief.find(kHeading);
  if (at == std::string_view::npos) return Truncate(OneLine(brief), kDecisionBytes);
  std::string_view rest = brief.substr(at + kHeading.size());
  return Truncate(OneLine(rest.substr(0, rest.find("\n\n"))), kDecisionBytes);
}

// The bullets under "### HEADING" in an earlier handoff brief's rendering.
std::vector<std::string> BulletsUnder(std::string_view rendered, std::string_view heading) {
  std::vector<std::string> out;
  bool inside = false;
  for (std::string_view line : Lines(rendered)) {
    if (line.starts_with("### ")) {
      inside = line.substr(4) == heading;
    } else if (inside && line.starts_with("- ")) {
      out.emplace_back(Trim(line.substr(2)));
    }
  }
  return out;
}

}  // namespace

bool IsHandoffRequest(const json& brief) {
  if (!brief.is_object()) return false;
  auto output = brief.find("output");
  if (output == brief.end() || !output->is_object()) return false;
  auto schema = output->find("schema");
  return schema != output->end() && schema->is_object() &&
         schema->value("title", "") == "HandoffBrief";
}

std::string AnswerHandoff(const json& brief) {
  std::vector<std::string> decisions;
  std::vector<std::string> facts;
  std::vector<std::string> questions;
  std::string last_unit;
  std::string last_objective;
  size_t turns = 0;
  for (const json& item : brief.value("context", json::array())) {
    if (!item.is_string()) continue;
    const std::string_view text = item.get_ref<const std::string&>();
    for (std::string_view line : Lines(text)) {
      std::string_view t = WithoutBullet(line);
      if (t.starts_with("FACT:")) AddUnique(std::string(t), &facts);
    }
    if (!text.starts_with(kTurnPrefix)) {  // an earlier generation's handoff brief
      for (std::string& d : BulletsUnder(text, "Key decisions"))
        AddUnique(std::move(d), &decisions);
      for (std::string& q : BulletsUnder(text, "Open questions"))
        AddUnique(std::move(q), &questions);
      continue;
    }
    ++turns;
    size_t close = text.find(')');
    size_t answer = text.find(kAnswerMarker);
    if (close == std::string_view::npos || answer == std::string_view::npos) continue;
    last_unit = std::string(text.substr(kTurnPrefix.size(), close - kTurnPrefix.size()));
    last_objective = ObjectiveOf(text.substr(0, answer));
    std::string_view answer_text = text.substr(answer + kAnswerMarker.size());
    AddUnique(last_unit + ": " + OpeningLine(answer_text), &decisions);
    if (answer_text.find("- [ ]") != std::string_view::npos) {
      AddUnique("Checklist items marked '- [ ]' in the answers still need a person.", &questions);
    }
  }
  for (const json& c : brief.value("constraints", json::array())) {
    if (!c.is_string()) continue;
    std::string_view text = c.get_ref<const std::string&>();
    if (text.starts_with(kKeepPrefix))
      AddUnique(std::string(text.substr(kKeepPrefix.size())), &facts);
  }
  if (decisions.size() > kMaxDecisions) {
    decisions.erase(decisions.begin(),
                    decisions.end() - static_cast<std::ptrdiff_t>(kMaxDecisions));
  }
  if (questions.size() > kMaxQuestions) questions.resize(kMaxQuestions);
  std::string state = std::to_string(turns) + " brief(s) answered in the previous generation";
  if (!last_unit.empty()) state += "; the latest was " + last_unit + ": " + last_objective;
  std::vector<std::string> next = {"Answer the next brief the way the earlier ones were answered.",
                                   "Keep the key decisions and the verbatim facts unchanged."};
  json value = {{"key_decisions", decisions},
                {"current_state", state},
                {"next_steps", next},
                {"reasoning",
                 "Drafted by chorus's offline model (no LLM was called): each decision is the "
                 "opening line of an accepted answer, most recent last."},
                {"open_questions", questions},
                {"verbatim_facts", facts}};
  return value.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace chorus::offline
