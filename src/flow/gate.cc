#include "flow/gate.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

namespace chorus {
namespace {

std::string FormatScore(double score) {
  std::ostringstream out;
  out << score;
  return out.str();
}

std::string CheckName(const GateCheck& check) {
  switch (check.kind) {
    case GateCheckKind::kSections:
      return "sections";
    case GateCheckKind::kSchema:
      return "schema";
    case GateCheckKind::kRegex:
      return "regex";
    case GateCheckKind::kMinWords:
      return "min_words";
    case GateCheckKind::kMaxWords:
      return "max_words";
    case GateCheckKind::kJudge:
      return "judge " + check.judge;
  }
  return "check";
}

GateCheckResult Pass(const GateCheck& check, std::string detail) {
  return {CheckName(check), true, false, false, std::move(detail), std::nullopt};
}

GateCheckResult Fail(const GateCheck& check, std::string detail) {
  return {CheckName(check), false, false, false, std::move(detail), std::nullopt};
}

// The checks that need no model. `output.text` is what later steps would see.
GateCheckResult RunLocalCheck(const GateCheck& check, const StepOutput& output) {
  switch (check.kind) {
    case GateCheckKind::kSections: {
      ExpectedOutput expected;
      expected.format = OutputFormat::kMarkdown;
      expected.sections = check.sections;
      Result<AcceptedOutput> r = CheckOutput(expected, output.text);
      return r ? Pass(check, "has every required section") : Fail(check, r.error().message());
    }
    case GateCheckKind::kSchema: {
      ExpectedOutput expected;
      expected.format = OutputFormat::kJson;
      expected.schema = check.schema;
      Result<AcceptedOutput> r = CheckOutput(expected, output.text);
      return r ? Pass(check, "validates against the schema") : Fail(check, r.error().message());
    }
    case GateCheckKind::kRegex: {
      RE2 re(check.regex, RE2::Quiet);
      if (!re.ok()) return Fail(check, "the pattern does not compile: " + re.error());
      return RE2::PartialMatch(output.text, re)
                 ? Pass(check, "matches /" + check.regex + "/")
                 : Fail(check,
                        "expected text matching the pattern /" + check.regex + "/, found no match");
    }
    case GateCheckKind::kMinWords:
    case GateCheckKind::kMaxWords: {
      const size_t words = CountWords(output.text);
      const bool min = check.kind == GateCheckKind::kMinWords;
      const bool ok = min ? words >= static_cast<size_t>(check.words)
                          : words <= static_cast<size_t>(check.words);
      std::string detail = "expected " + std::string(min ? "at least " : "at most ") +
                           std::to_string(check.words) + " words, found " + std::to_string(words);
      return ok ? Pass(check, std::to_string(words) + " words") : Fail(check, detail);
    }
    case GateCheckKind::kJudge:
      break;
  }
  return Fail(check, "not a local check");
}

}  // namespace

size_t CountWords(const std::string& text) {
  size_t words = 0;
  bool in_word = false;
  bool has_alnum = false;
  for (size_t i = 0; i <= text.size(); ++i) {
    unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (std::isspace(c)) {
      if (in_word && has_alnum) ++words;
      in_word = has_alnum = false;
    } else if (c == 0xE2 && i + 2 < text.size() &&
               (static_cast<unsigned char>(text[i + 1]) & 0xFE) == 0x80) {
      // U+2000..U+207F, General Punctuation (dashes, quotes, bullets): not letters.
      in_word = true;
      i += 2;
    } else {
      in_word = true;
      // Other multi-byte UTF-8 characters count as letters: most of them are.
      has_alnum |= std::isalnum(c) || c >= 0x80;
    }
  }
  return words;
}

void AddGateToAcceptance(const GateSpec& gate, DelegationBrief* brief) {
  std::string bar;
  auto add = [&bar](const std::string& item) { bar += (bar.empty() ? "" : "; ") + item; };
  for (const GateCheck& check : gate.checks) {
    switch (check.kind) {
      case GateCheckKind::kSections: {
        std::string names;
        for (const std::string& s : check.sections) names += (names.empty() ? "" : ", ") + s;
        add("it has the sections " + names);
        break;
      }
      case GateCheckKind::kSchema:
        add("it is JSON that validates against this schema: " + check.schema.dump());
        break;
      case GateCheckKind::kRegex:
        add("it contains text matching /" + check.regex + "/");
        break;
      case GateCheckKind::kMinWords:
        add("it has at least " + std::to_string(check.words) + " words");
        break;
      case GateCheckKind::kMaxWords:
        add("it has at most " + std::to_string(check.words) + " words");
        break;
      case GateCheckKind::kJudge:
        add("a reviewer scores it from 0 to 10 against this rubric, and " +
            FormatScore(check.pass) + " passes: " + check.rubric);
        break;
    }
  }
  std::string& acceptance = brief->acceptance;
  if (!acceptance.empty()) acceptance += "\n\n";
  acceptance += "Before anyone uses your answer, a quality gate checks that " + bar + ".";
}

GateRound StartGateRound(const GateSpec& gate, StepOutput output, int attempt, std::string agent) {
  GateRound round;
  round.attempt = attempt;
  round.agent = std::move(agent);
  round.output = std::move(output);
  bool local_failed = false;
  for (const GateCheck& check : gate.checks) {
    if (check.kind == GateCheckKind::kJudge) {
      GateCheckResult pending{CheckName(check), false, true, false, "", std::nullopt};
      round.results.push_back(std::move(pending));
      continue;
    }
    round.results.push_back(RunLocalCheck(check, round.output));
    local_failed |= !round.results.back().passed;
  }
  for (GateCheckResult& r : round.results) {
    if (!r.pending) continue;
    if (local_failed) {
      r.pending = false;
      r.skipped = true;
      r.passed = false;
      r.detail = "not asked: another check failed first";
    } else {
      ++round.judges_pending;
    }
  }
  return round;
}

DelegationBrief JudgeBrief(const GateCheck& check, const DelegationBrief& produced_for,
                           const std::string& output, const std::string& id) {
  DelegationBrief brief;
  brief.id = id;
  brief.objective =
      "Score the output below against the rubric, from 0 (fails it entirely) to 10 (meets it "
      "fully). A score of " +
      FormatScore(check.pass) +
      " or more passes. Give one reason per shortcoming, each specific enough that the author "
      "can fix it.";
  brief.context.push_back("Rubric:\n\n" + check.rubric);
  brief.context.push_back("The brief the output answers:\n\n" + produced_for.objective);
  brief.context.push_back("The output to score:\n\n" + output);
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = {{"type", "object"},
                         {"required", {"score", "reasons"}},
                         {"properties",
                          {{"score", {{"type", "number"}, {"minimum", 0}, {"maximum", 10}}},
                           {"reasons", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
  return brief;
}

GateCheckResult JudgeResult(const GateCheck& check, const nlohmann::json& answer) {
  double score = answer.value("score", 0.0);
  std::string reasons;
  for (const auto& r : answer.value("reasons", nlohmann::json::array())) {
    if (!r.is_string()) continue;
    reasons += (reasons.empty() ? "" : "; ") + r.get<std::string>();
  }
  const bool passed = score >= check.pass;
  std::string detail = "judge " + check.judge + " scored " + FormatScore(score) +
                       "/10 (pass: " + FormatScore(check.pass) + ")";
  if (!reasons.empty()) detail += ": " + reasons;
  GateCheckResult result = passed ? Pass(check, detail) : Fail(check, detail);
  result.score = score;
  return result;
}

GateCheckResult OfflineJudgeResult(const GateCheck& check) {
  GateCheckResult result = Pass(check, "not scored: judge " + check.judge +
                                           " runs on the offline model, which cannot assess "
                                           "quality");
  result.skipped = true;
  return result;
}

bool GatePassed(const GateRound& round) {
  return std::all_of(round.results.begin(), round.results.end(),
                     [](const GateCheckResult& r) { return !r.pending && r.passed; });
}

nlohmann::json GateVerdictJson(const GateRound& round) {
  nlohmann::json checks = nlohmann::json::array();
  std::optional<double> lowest;
  for (const GateCheckResult& r : round.results) {
    nlohmann::json c = {{"check", r.check}, {"passed", r.passed}, {"detail", r.detail}};
    if (r.skipped) c["skipped"] = true;
    if (r.score) {
      c["score"] = *r.score;
      lowest = lowest ? std::min(*lowest, *r.score) : *r.score;
    }
    checks.push_back(std::move(c));
  }
  nlohmann::json verdict = {{"attempt", round.attempt},
                            {"agent", round.agent},
                            {"passed", GatePassed(round)},
                            {"checks", std::move(checks)}};
  if (lowest) verdict["score"] = *lowest;
  return verdict;
}

std::vector<std::string> GateFeedback(const GateRound& round) {
  std::vector<std::string> lines;
  for (const GateCheckResult& r : round.results) {
    if (r.passed || r.pending || r.skipped) continue;
    lines.push_back("The quality gate's " + r.check + " check failed: " + r.detail);
  }
  return lines;
}

std::string EscalationContext(const GateRound& round) {
  std::string text = "An earlier answer to this brief, by agent " + round.agent +
                     ", failed the quality gate. It is shown so that you can do better; the "
                     "reasons it failed follow the brief.\n\n" +
                     round.output.text;
  return text;
}

}  // namespace chorus
