// Reads the quality parts of a team file: `gate:` on a step and `witness` steps. Like the rest
// of the flow loader, only what a single value can get wrong is checked here; agents named by
// judges, escalations and witnesses are checked by CheckTeam, which also sees teams built in code.
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "flow/suggest.h"
#include "flow/team_loader.h"

namespace chorus {
namespace {

const std::vector<std::string> kGateKeys = {"checks", "retries", "on_fail", "escalate_to"};
const std::vector<std::string> kCheckKinds = {"sections",  "schema",    "regex",
                                              "min_words", "max_words", "judge"};
const std::vector<std::string> kJudgeKeys = {"judge", "rubric", "pass"};
const std::vector<std::string> kOnFail = {"retry_with_feedback", "escalate", "fail"};
const std::vector<std::string> kWitnessKeys = {"witness",    "about",  "question", "context",
                                               "agents",     "quorum", "compare",  "adaptive",
                                               "on_dispute", "retries"};
const std::vector<std::string> kWitnessMappingKeys = {
    "id",     "about",   "task",     "question",   "context", "agents",
    "quorum", "compare", "adaptive", "on_dispute", "retries"};
const std::vector<std::string> kCompareModes = {"normalized", "json:FIELD", "numeric:TOLERANCE",
                                                "judge:AGENT"};
const std::vector<std::string> kOnDispute = {"complete", "fail"};

constexpr int64_t kMaxRetries = 10;
constexpr int64_t kMaxWords = 1000000;
constexpr int64_t kMaxWitnesses = 100;

GateFailAction FailActionFromName(const std::string& name) {
  if (name == "escalate") return GateFailAction::kEscalate;
  if (name == "fail") return GateFailAction::kFail;
  return GateFailAction::kRetryWithFeedback;
}

GateCheckKind CheckKindFromName(const std::string& name) {
  if (name == "schema") return GateCheckKind::kSchema;
  if (name == "regex") return GateCheckKind::kRegex;
  if (name == "min_words") return GateCheckKind::kMinWords;
  if (name == "max_words") return GateCheckKind::kMaxWords;
  if (name == "judge") return GateCheckKind::kJudge;
  return GateCheckKind::kSections;
}

class GateParser {
 public:
  GateParser(YamlReader& reader, const SchemaParser& parse_schema)
      : r_(reader), parse_schema_(parse_schema) {}

  std::optional<GateSpec> Parse(const YamlEntry& entry);

 private:
  std::optional<GateCheck> ParseCheck(const YAML::Node& node, size_t index);
  void ParseJudge(const YAML::Node& node, const YamlEntry& kind, GateCheck& check);

  YamlReader& r_;
  const SchemaParser& parse_schema_;
};

std::optional<GateSpec> GateParser::Parse(const YamlEntry& entry) {
  GateSpec gate;
  gate.loc = r_.Loc(entry.key_node);
  if (!entry.value.IsMap()) {
    r_.Error(entry, "gate: expected a mapping with 'checks' (and 'retries', 'on_fail'), found " +
                        DescribeNode(entry.value));
    return std::nullopt;
  }
  std::optional<YamlEntry> retries_entry;
  std::optional<YamlEntry> escalate_entry;
  std::optional<YamlEntry> on_fail_entry;
  bool has_checks = false;
  for (const YamlEntry& e : r_.Entries(entry, kGateKeys, "gate")) {
    if (e.key == "checks") {
      has_checks = true;
      if (!e.value.IsSequence() || e.value.size() == 0) {
        r_.Error(e, "checks: expected a non-empty list of checks (" + QuotedList(kCheckKinds) +
                        "), found " + DescribeNode(e.value));
        continue;
      }
      for (size_t i = 0; i < e.value.size(); ++i) {
        if (auto check = ParseCheck(e.value[i], i)) gate.checks.push_back(std::move(*check));
      }
    } else if (e.key == "retries") {
      retries_entry = e;
      if (auto n = r_.Integer(e, 0, kMaxRetries)) gate.retries = static_cast<int>(*n);
    } else if (e.key == "on_fail") {
      on_fail_entry = e;
      if (auto action = r_.OneOf(e, kOnFail)) gate.on_fail = FailActionFromName(*action);
    } else if (e.key == "escalate_to") {
      escalate_entry = e;
      if (auto agent = r_.NonEmptyString(e)) gate.escalate_to = *agent;
    }
  }
  if (!has_checks) {
    r_.Error(entry.key_node,
             "gate: missing 'checks': expected a list of checks (" + QuotedList(kCheckKinds) + ")");
  }
  if (gate.on_fail == GateFailAction::kEscalate && !escalate_entry) {
    r_.Error(on_fail_entry->key_node,
             "on_fail: escalate needs 'escalate_to': the agent that takes over a failed task");
  } else if (gate.on_fail != GateFailAction::kEscalate && escalate_entry) {
    r_.Error(
        escalate_entry->key_node,
        "escalate_to: only used with 'on_fail: escalate', found on_fail '" +
            std::string(on_fail_entry ? on_fail_entry->value.Scalar() : "retry_with_feedback") +
            "'");
  }
  if (gate.on_fail == GateFailAction::kFail && retries_entry) {
    r_.Error(retries_entry->key_node,
             "retries: 'on_fail: fail' fails the step at the first failed gate, so retries have "
             "no effect; use 'on_fail: retry_with_feedback' to retry");
  }
  if (gate.on_fail == GateFailAction::kFail) gate.retries = 0;
  return gate;
}

std::optional<GateCheck> GateParser::ParseCheck(const YAML::Node& node, size_t index) {
  const std::string where = "checks[" + std::to_string(index) + "]";
  if (!node.IsMap()) {
    r_.Error(node, where + ": expected a check (a mapping with one of " + QuotedList(kCheckKinds) +
                       "), found " + DescribeNode(node));
    return std::nullopt;
  }
  std::optional<YamlEntry> kind;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string& key = it->first.Scalar();
    if (std::find(kCheckKinds.begin(), kCheckKinds.end(), key) == kCheckKinds.end()) continue;
    if (kind) {
      r_.Error(it->first, where + ": a check has one kind, found both '" + kind->key + "' and '" +
                              key + "'; write them as two checks");
      return std::nullopt;
    }
    kind = YamlEntry{key, it->first, it->second};
  }
  if (!kind) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      std::string hint = DidYouMean(it->first.Scalar(), kCheckKinds);
      r_.Error(it->first, "unknown key '" + it->first.Scalar() + "' in " + where +
                              (hint.empty() ? ": expected " + QuotedList(kCheckKinds) : hint));
      return std::nullopt;
    }
    r_.Error(node, where + ": expected one of " + QuotedList(kCheckKinds) + ", found nothing");
    return std::nullopt;
  }
  GateCheck check;
  check.kind = CheckKindFromName(kind->key);
  check.loc = r_.Loc(kind->key_node);
  if (check.kind == GateCheckKind::kJudge) {
    ParseJudge(node, *kind, check);
    return check;
  }
  // Every other check is the one key alone.
  r_.Entries(node, "a check", {kind->key}, where);
  switch (check.kind) {
    case GateCheckKind::kSections:
      if (auto list = r_.StringList(*kind, /*allow_single=*/true)) {
        if (list->empty()) r_.Error(*kind, "sections: expected at least one heading");
        check.sections = std::move(*list);
      }
      break;
    case GateCheckKind::kSchema:
      if (auto schema = parse_schema_(*kind)) check.schema = std::move(*schema);
      break;
    case GateCheckKind::kRegex:
      if (auto pattern = r_.NonEmptyString(*kind)) {
        RE2 re(*pattern, RE2::Quiet);
        if (!re.ok()) {
          // RE2 appends the pattern to its message; it is quoted already.
          std::string why = re.error();
          if (size_t at = why.rfind(": " + *pattern); at != std::string::npos) why.resize(at);
          r_.Error(*kind,
                   "regex: expected an RE2 regular expression, found '" + *pattern + "': " + why);
        }
        check.regex = std::move(*pattern);
      }
      break;
    case GateCheckKind::kMinWords:
    case GateCheckKind::kMaxWords:
      if (auto n = r_.Integer(*kind, 1, kMaxWords)) check.words = *n;
      break;
    case GateCheckKind::kJudge:
      break;
  }
  return check;
}

void GateParser::ParseJudge(const YAML::Node& node, const YamlEntry& kind, GateCheck& check) {
  bool has_rubric = false;
  for (const YamlEntry& e : r_.Entries(node, "a judge check", kJudgeKeys, "a judge check")) {
    if (e.key == "judge") {
      if (auto agent = r_.NonEmptyString(e)) check.judge = *agent;
    } else if (e.key == "rubric") {
      has_rubric = true;
      if (auto rubric = r_.NonEmptyString(e)) check.rubric = *rubric;
    } else if (e.key == "pass") {
      if (auto pass = r_.Number(e, 0, /*exclusive=*/false)) {
        if (*pass > 10) {
          r_.Error(e, "pass: expected a score from 0 to 10, found " + DescribeNode(e.value));
        } else {
          check.pass = *pass;
        }
      }
    }
  }
  if (!has_rubric) {
    r_.Error(kind.key_node, "judge '" + check.judge +
                                "' has no rubric: expected 'rubric: TEXT', what the output is "
                                "scored against");
  }
}

// "numeric:0.5" -> 0.5; nullopt when the text after the colon is not a number.
std::optional<double> ParseTolerance(std::string_view s) {
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

void ParseCompare(YamlReader& r, const YamlEntry& e, WitnessSpec& spec) {
  std::optional<std::string> text = r.NonEmptyString(e);
  if (!text) return;
  size_t colon = text->find(':');
  std::string mode = text->substr(0, colon);
  std::string arg = colon == std::string::npos ? "" : text->substr(colon + 1);
  if (mode == "normalized" && colon == std::string::npos) {
    spec.compare = WitnessCompareKind::kNormalized;
  } else if (mode == "json" && !arg.empty()) {
    spec.compare = WitnessCompareKind::kJsonField;
    spec.field = arg;
  } else if (mode == "numeric") {
    std::optional<double> tolerance =
        arg.empty() ? std::optional<double>(0.0) : ParseTolerance(arg);
    if (!tolerance || *tolerance < 0) {
      r.Error(e, "compare: expected 'numeric:TOLERANCE' with a number of at least 0, found '" +
                     *text + "'");
      return;
    }
    spec.compare = WitnessCompareKind::kNumeric;
    spec.tolerance = *tolerance;
  } else if (mode == "judge" && !arg.empty()) {
    spec.compare = WitnessCompareKind::kJudge;
    spec.judge = arg;
  } else {
    std::string hint = DidYouMean(mode, {"normalized", "json", "numeric", "judge"});
    r.Error(e, "compare: expected " + QuotedList(kCompareModes) + ", found '" + *text + "'" + hint);
  }
}

// What a witness is asked to reply with, so its answers can be compared.
ExpectedOutput WitnessOutput(const WitnessSpec& spec) {
  ExpectedOutput out;
  switch (spec.compare) {
    case WitnessCompareKind::kNormalized:
      out.description =
          "Answer in one short line: 'yes' or 'no' when the question asks for it, otherwise the "
          "answer alone, without explanation.";
      break;
    case WitnessCompareKind::kJsonField:
      out.format = OutputFormat::kJson;
      out.schema = {{"type", "object"}, {"required", {spec.field}}};
      break;
    case WitnessCompareKind::kNumeric:
      out.description = "Answer with a single number and nothing else.";
      break;
    case WitnessCompareKind::kJudge:
      out.description = "Answer in at most three sentences.";
      break;
  }
  return out;
}

}  // namespace

std::optional<GateSpec> ParseGate(YamlReader& reader, const YamlEntry& entry,
                                  const SchemaParser& parse_schema) {
  return GateParser(reader, parse_schema).Parse(entry);
}

std::optional<Step> ParseWitness(YamlReader& r, const YAML::Node& node, const YamlEntry& kind) {
  Step step;
  step.kind = StepKind::kWitness;
  step.loc = r.Loc(kind.key_node);
  step.brief.loc = step.loc;
  std::vector<YamlEntry> entries;
  if (kind.value.IsMap()) {
    step.id = "witness";
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() != "witness") {
        r.Error(it->first, "'" + it->first.Scalar() +
                               "' beside a witness mapping: put it inside the mapping, or "
                               "write 'witness: ID' with the other keys beside it");
      }
    }
    entries = r.Entries(kind, kWitnessMappingKeys, "witness");
  } else if (kind.value.IsScalar()) {
    step.id = kind.value.Scalar();
    entries = r.Entries(node, "a witness step", kWitnessKeys, "witness '" + step.id + "'");
  } else {
    r.Error(kind,
            "witness: expected the step's id or a mapping, found " + DescribeNode(kind.value));
    return std::nullopt;
  }
  std::vector<std::string> context;
  for (const YamlEntry& e : entries) {
    if (e.key == "id") {
      if (auto id = r.String(e)) step.id = *id;
    } else if (e.key == "about" || e.key == "task") {  // `task:` as ARCHITECTURE §4 spells it
      if (auto about = r.NonEmptyString(e)) step.witness.about = *about;
    } else if (e.key == "question") {
      if (auto question = r.String(e)) step.brief.objective = *question;
    } else if (e.key == "context") {
      if (auto list = r.StringList(e, /*allow_single=*/true)) context = std::move(*list);
    } else if (e.key == "agents") {
      if (auto agents = r.StringList(e, /*allow_single=*/false)) step.agents = std::move(*agents);
    } else if (e.key == "quorum") {
      if (auto n = r.Integer(e, 1, kMaxWitnesses)) step.witness.quorum = static_cast<int>(*n);
    } else if (e.key == "compare") {
      ParseCompare(r, e, step.witness);
    } else if (e.key == "adaptive") {
      if (auto b = r.Bool(e)) step.witness.adaptive = *b;
    } else if (e.key == "on_dispute") {
      if (auto action = r.OneOf(e, kOnDispute)) step.witness.fail_on_dispute = *action == "fail";
    } else if (e.key == "retries") {
      if (auto n = r.Integer(e, 0, kMaxRetries)) step.retries = static_cast<int>(*n);
    }
  }
  // `about: STEP` puts that step's output in front of the witnesses, first.
  if (!step.witness.about.empty()) step.brief.context.push_back("${" + step.witness.about + "}");
  for (std::string& c : context) step.brief.context.push_back(std::move(c));
  step.brief.output = WitnessOutput(step.witness);
  return step;
}

}  // namespace chorus
