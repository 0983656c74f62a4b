#include "flow/witness.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace chorus {
namespace {

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// The first number in `text`: optional sign, digits with optional thousands commas, optional
// decimals ("about 1,250.5 units" -> 1250.5).
std::optional<double> FirstNumber(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!IsDigit(text[i])) continue;
    size_t begin = i;
    if (begin > 0 && (text[begin - 1] == '-' || text[begin - 1] == '+')) --begin;
    std::string digits(text.substr(begin, i - begin));
    size_t j = i;
    while (j < text.size() &&
           (IsDigit(text[j]) || (text[j] == ',' && j + 1 < text.size() && IsDigit(text[j + 1])) ||
            (text[j] == '.' && j + 1 < text.size() && IsDigit(text[j + 1])))) {
      if (text[j] != ',') digits += text[j];
      ++j;
    }
    return std::strtod(digits.c_str(), nullptr);
  }
  return std::nullopt;
}

std::string FormatNumber(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string FieldText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

int WitnessQuorum(const Step& step) {
  const int n = static_cast<int>(step.agents.size());
  return step.witness.quorum > 0 ? step.witness.quorum : n / 2 + 1;
}

int InitialWitnesses(const Step& step) {
  const int n = static_cast<int>(step.agents.size());
  return step.witness.adaptive ? std::min(n, WitnessQuorum(step)) : n;
}

std::string NormalizeAnswer(std::string_view answer) {
  std::string out;
  bool space = false;
  for (size_t i = 0; i < answer.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(answer[i]);
    // A '.' or ',' between digits is part of a number, not punctuation.
    const bool in_number = (c == '.' || c == ',') && i > 0 && i + 1 < answer.size() &&
                           IsDigit(answer[i - 1]) && IsDigit(answer[i + 1]);
    if (std::isspace(c)) {
      space = !out.empty();
    } else if (std::ispunct(c) && !in_number) {
      continue;
    } else {
      if (space) out += ' ';
      space = false;
      out += static_cast<char>(std::tolower(c));
    }
  }
  const std::string first = out.substr(0, out.find(' '));
  if (first == "yes" || first == "true") return "yes";
  if (first == "no" || first == "false") return "no";
  return out;
}

WitnessVote MakeVote(const WitnessSpec& spec, int witness, std::string agent,
                     const StepOutput& output) {
  WitnessVote vote;
  vote.witness = witness;
  vote.agent = std::move(agent);
  vote.answer = output.text;
  switch (spec.compare) {
    case WitnessCompareKind::kNormalized:
    case WitnessCompareKind::kJudge:
      vote.key = NormalizeAnswer(output.text);
      if (vote.key.empty()) vote.problem = "the answer has no words";
      break;
    case WitnessCompareKind::kJsonField:
      if (output.json.is_object() && output.json.contains(spec.field)) {
        const nlohmann::json& value = output.json.at(spec.field);
        vote.answer = FieldText(value);
        vote.key = value.is_string() ? NormalizeAnswer(value.get<std::string>()) : FieldText(value);
      } else {
        vote.problem = "the answer has no field '" + spec.field + "'";
      }
      break;
    case WitnessCompareKind::kNumeric:
      vote.number = FirstNumber(output.text);
      if (vote.number) {
        vote.key = FormatNumber(*vote.number);
      } else {
        vote.problem = "the answer holds no number";
      }
      break;
  }
  return vote;
}

std::vector<std::vector<int>> GroupVotes(const WitnessSpec& spec,
                                         const std::vector<WitnessVote>& votes) {
  std::vector<std::vector<int>> groups;
  for (size_t i = 0; i < votes.size(); ++i) {
    const WitnessVote& vote = votes[i];
    std::vector<int>* home = nullptr;
    if (vote.problem.empty()) {
      for (std::vector<int>& group : groups) {
        const WitnessVote& anchor = votes[group.front()];
        if (!anchor.problem.empty()) continue;
        const bool same = spec.compare == WitnessCompareKind::kNumeric
                              ? std::fabs(*anchor.number - *vote.number) <= spec.tolerance
                              : anchor.key == vote.key;
        if (same) {
          home = &group;
          break;
        }
      }
    }
    if (home != nullptr) {
      home->push_back(static_cast<int>(i));
    } else {
      groups.push_back({static_cast<int>(i)});
    }
  }
  return groups;
}

DelegationBrief EquivalenceBrief(const std::string& question, const std::vector<WitnessVote>& votes,
                                 const std::string& id) {
  DelegationBrief brief;
  brief.id = id;
  brief.objective =
      "Several people answered the same question independently. Group the answers that say the "
      "same thing: equivalent in substance even if worded differently. Answers that differ in "
      "substance belong to different groups. Refer to answers by their numbers; put every "
      "answer in exactly one group.";
  brief.context.push_back("The question:\n\n" + question);
  for (size_t i = 0; i < votes.size(); ++i) {
    brief.context.push_back("Answer " + std::to_string(i + 1) + ":\n\n" + votes[i].answer);
  }
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = {{"type", "object"},
                         {"required", {"groups"}},
                         {"properties",
                          {{"groups",
                            {{"type", "array"},
                             {"items",
                              {{"type", "array"},
                               {"items", {{"type", "integer"}, {"minimum", 1}}},
                               {"minItems", 1}}}}},
                           {"reasons", {{"type", "string"}}}}}};
  return brief;
}

std::vector<std::vector<int>> GroupsFromJudge(const nlohmann::json& answer, size_t votes) {
  std::vector<std::vector<int>> groups;
  std::vector<bool> placed(votes, false);
  for (const auto& group : answer.value("groups", nlohmann::json::array())) {
    std::vector<int> members;
    if (!group.is_array()) continue;
    for (const auto& number : group) {
      if (!number.is_number_integer()) continue;
      const int64_t index = number.get<int64_t>() - 1;
      if (index < 0 || index >= static_cast<int64_t>(votes) || placed[index]) continue;
      placed[index] = true;
      members.push_back(static_cast<int>(index));
    }
    if (!members.empty()) groups.push_back(std::move(members));
  }
  for (size_t i = 0; i < votes; ++i) {
    if (!placed[i]) groups.push_back({static_cast<int>(i)});
  }
  return groups;
}

WitnessDecision DecideWitness(const Step& step, const WitnessState& state,
                              const std::vector<std::vector<int>>& groups) {
  WitnessDecision d;
  size_t largest = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    // A group of unreadable answers never wins.
    if (!state.votes[groups[g].front()].problem.empty()) continue;
    if (groups[g].size() > largest) {
      largest = groups[g].size();
      d.best_group = static_cast<int>(g);
    }
  }
  const int quorum = WitnessQuorum(step);
  const int remaining = static_cast<int>(step.agents.size()) - state.asked;
  if (static_cast<int>(largest) >= quorum) {
    d.verdict = WitnessVerdict::kValidated;
  } else if (remaining > 0 && static_cast<int>(largest) + remaining >= quorum) {
    d.next = WitnessDecision::Next::kAskMore;
    // The fewest witnesses that could still complete a quorum with the current leader.
    d.ask_more = std::min(remaining, quorum - static_cast<int>(largest));
  }
  return d;
}

StepOutput WitnessOutput(const Step& step, const WitnessState& state,
                         const std::vector<std::vector<int>>& groups,
                         const WitnessDecision& decision) {
  std::vector<int> group_of(state.votes.size(), 0);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (int v : groups[g]) group_of[v] = static_cast<int>(g) + 1;
  }
  nlohmann::json votes = nlohmann::json::array();
  for (size_t i = 0; i < state.votes.size(); ++i) {
    const WitnessVote& v = state.votes[i];
    nlohmann::json vote = {{"agent", v.agent},
                           {"answer", v.answer},
                           {"group", group_of[i]},
                           {"agrees", decision.verdict == WitnessVerdict::kValidated &&
                                          group_of[i] == decision.best_group + 1}};
    if (!v.problem.empty()) vote["problem"] = v.problem;
    votes.push_back(std::move(vote));
  }
  const bool validated = decision.verdict == WitnessVerdict::kValidated;
  nlohmann::json out = {
      {"verdict", std::string(WitnessVerdictName(decision.verdict))},
      {"answer", validated ? state.votes[groups[decision.best_group].front()].answer : ""},
      {"quorum", WitnessQuorum(step)},
      {"asked", state.asked},
      {"agreeing", validated ? groups[decision.best_group].size() : 0},
      {"compare", WitnessCompareName(step.witness)},
      {"votes", std::move(votes)}};
  if (!state.judge_note.empty()) out["note"] = state.judge_note;
  StepOutput output;
  output.text = out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  output.json = std::move(out);
  return output;
}

std::string_view WitnessVerdictName(WitnessVerdict verdict) {
  return verdict == WitnessVerdict::kValidated ? "validated" : "disputed";
}

std::string WitnessCompareName(const WitnessSpec& spec) {
  switch (spec.compare) {
    case WitnessCompareKind::kNormalized:
      return "normalized";
    case WitnessCompareKind::kJsonField:
      return "json:" + spec.field;
    case WitnessCompareKind::kNumeric:
      return "numeric:" + FormatNumber(spec.tolerance);
    case WitnessCompareKind::kJudge:
      return "judge:" + spec.judge;
  }
  return "normalized";
}

}  // namespace chorus
