// Reads `flow:` from a team file: task, parallel, map and synthesize steps and their briefs
// (gates and witness steps: team_quality_loader.cc).
// Cross-references (agents, steps, inputs) are left to CheckTeam, which also sees teams built
// in code; this file only checks what a single value can get wrong.
#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "flow/suggest.h"
#include "flow/team_loader.h"
#include "flow/team_route_loader.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kStepKinds = {"task", "parallel", "map", "synthesize", "witness"};
const std::vector<std::string> kTaskKeys = {"task", "agent", "brief", "retries", "gate", "route"};
const std::vector<std::string> kMapKeys = {"map",         "over",  "agents",  "agent",
                                           "concurrency", "brief", "retries", "gate"};
const std::vector<std::string> kSynthesizeKeys = {"synthesize", "agent",   "from",
                                                  "brief",      "retries", "gate"};
const std::vector<std::string> kSynthesizeMappingKeys = {"id",    "agent",   "from",
                                                         "brief", "retries", "gate"};
const std::vector<std::string> kBriefKeys = {"objective", "context", "constraints", "acceptance",
                                             "output"};
const std::vector<std::string> kOutputKeys = {"format", "sections", "schema", "description"};
const std::vector<std::string> kFormats = {"text", "markdown", "json"};

constexpr int64_t kMaxRetries = 10;
constexpr int64_t kMaxConcurrency = 1000000;

// Keys of step features that are designed (ARCHITECTURE §4) but not built yet: none today;
// a key listed here gets "not supported yet" instead of "unknown key".
const std::vector<YamlReader::Unsupported> kStepUnsupported = {};

OutputFormat FormatFromName(const std::string& name) {
  if (name == "markdown") return OutputFormat::kMarkdown;
  if (name == "json") return OutputFormat::kJson;
  return OutputFormat::kText;
}

// "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..." →
// "syntax error ...": the location is reported separately.
std::string JsonErrorReason(const std::string& what) {
  size_t column = what.find("column ");
  size_t colon = what.find(": ", column == std::string::npos ? 0 : column);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

class FlowParser {
 public:
  FlowParser(YamlReader& reader, fs::path base_dir) : r_(reader), base_dir_(std::move(base_dir)) {}

  std::optional<Step> ParseStep(const YAML::Node& node, bool in_parallel);

 private:
  std::optional<Step> ParseTask(const YAML::Node& node, const YamlEntry& kind);
  std::optional<Step> ParseParallel(const YAML::Node& node, const YamlEntry& kind);
  std::optional<Step> ParseMap(const YAML::Node& node, const YamlEntry& kind);
  std::optional<Step> ParseSynthesize(const YAML::Node& node, const YamlEntry& kind);
  std::string StepId(const YamlEntry& kind);

  // Whether the brief had an `output` key, for synthesize's default.
  struct ParsedBrief {
    BriefTemplate brief;
    bool has_output = false;
  };
  ParsedBrief ParseBrief(const YamlEntry& entry);
  ExpectedOutput ParseOutput(const YamlEntry& entry);
  std::optional<nlohmann::json> ParseSchema(const YamlEntry& entry);
  std::optional<nlohmann::json> LoadSchemaFile(const YamlEntry& ref);
  std::optional<GateSpec> Gate(const YamlEntry& entry) {
    return ParseGate(r_, entry, [this](const YamlEntry& e) { return ParseSchema(e); });
  }

  YamlReader& r_;
  fs::path base_dir_;
};

std::optional<Step> FlowParser::ParseStep(const YAML::Node& node, bool in_parallel) {
  const std::string expected =
      in_parallel ? "a step in a parallel block ('task', 'map' or 'witness')"
                  : "a step ('task', 'parallel', 'map', 'synthesize' or 'witness')";
  if (!node.IsMap()) {
    r_.Error(node, "expected " + expected + ", found " + DescribeNode(node));
    return std::nullopt;
  }
  std::vector<YamlEntry> kinds;
  std::vector<std::string> keys;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string& key = it->first.Scalar();
    keys.push_back(key);
    if (std::find(kStepKinds.begin(), kStepKinds.end(), key) != kStepKinds.end()) {
      kinds.push_back(YamlEntry{key, it->first, it->second});
    }
  }
  if (kinds.empty()) {
    if (std::find(keys.begin(), keys.end(), "route") != keys.end()) {
      r_.Error(node,
               "'route' goes on a task: expected '- task: ID' with 'route: auto' (or "
               "'route: { frameworks, top, agents, router }') beside it");
      return std::nullopt;
    }
    for (const auto& [key, explanation] : kStepUnsupported) {
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
        r_.Error(node,
                 "'" + std::string(key) + "' steps are not supported yet: expected " + expected);
        return std::nullopt;
      }
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      std::string hint = DidYouMean(it->first.Scalar(), kStepKinds);
      if (!hint.empty()) {
        r_.Error(it->first, "unknown key '" + it->first.Scalar() + "' in a step" + hint);
        return std::nullopt;
      }
    }
    r_.Error(node, "expected " + expected + ", found a mapping with " + QuotedList(keys, "and") +
                       " but no step kind");
    return std::nullopt;
  }
  if (kinds.size() > 1) {
    const bool witness_task = kinds[0].key == "witness" && kinds[1].key == "task";
    r_.Error(kinds[1].key_node, "a step has exactly one kind: found both '" + kinds[0].key +
                                    "' and '" + kinds[1].key + "'" +
                                    (witness_task ? "; name the step a witness examines with "
                                                    "'about: STEP'"
                                                  : ""));
    return std::nullopt;
  }
  const YamlEntry& kind = kinds[0];
  if (in_parallel && (kind.key == "parallel" || kind.key == "synthesize")) {
    r_.Error(kind.key_node, "expected " + expected + ", found a '" + kind.key + "' step: " +
                                (kind.key == "parallel"
                                     ? "parallel blocks do not nest; list the steps directly"
                                     : "a synthesis integrates finished steps, so it goes after "
                                       "the parallel block"));
    return std::nullopt;
  }
  if (kind.key == "task") return ParseTask(node, kind);
  if (kind.key == "parallel") return ParseParallel(node, kind);
  if (kind.key == "map") return ParseMap(node, kind);
  if (kind.key == "witness") return ParseWitness(r_, node, kind);
  return ParseSynthesize(node, kind);
}

std::string FlowParser::StepId(const YamlEntry& kind) {
  if (!kind.value.IsScalar()) {
    r_.Error(kind, kind.key + ": expected the step's id, found " + DescribeNode(kind.value));
    return "";
  }
  return kind.value.Scalar();
}

std::optional<Step> FlowParser::ParseTask(const YAML::Node& node, const YamlEntry& kind) {
  Step step;
  step.kind = StepKind::kTask;
  step.loc = r_.Loc(kind.key_node);
  step.id = StepId(kind);
  step.brief.loc = step.loc;
  for (const YamlEntry& e :
       r_.Entries(node, "a task step", kTaskKeys, "task '" + step.id + "'", kStepUnsupported)) {
    if (e.key == "agent") {
      if (auto agent = r_.String(e)) step.agents = {*agent};
    } else if (e.key == "brief") {
      step.brief = ParseBrief(e).brief;
    } else if (e.key == "retries") {
      if (auto n = r_.Integer(e, 0, kMaxRetries)) step.retries = static_cast<int>(*n);
    } else if (e.key == "gate") {
      step.gate = Gate(e);
    } else if (e.key == "route") {
      step.route = ParseRouteSpec(r_, e);
    }
  }
  return step;
}

std::optional<Step> FlowParser::ParseParallel(const YAML::Node& node, const YamlEntry& kind) {
  Step step;
  step.kind = StepKind::kParallel;
  step.loc = r_.Loc(kind.key_node);
  r_.Entries(node, "a parallel step", {"parallel"}, "a parallel step");
  if (!kind.value.IsSequence() || kind.value.size() == 0) {
    r_.Error(kind,
             "parallel: expected a non-empty list of steps, found " + DescribeNode(kind.value));
    return step;
  }
  for (const YAML::Node& child : kind.value) {
    if (std::optional<Step> parsed = ParseStep(child, /*in_parallel=*/true)) {
      step.children.push_back(std::move(*parsed));
    }
  }
  return step;
}

std::optional<Step> FlowParser::ParseMap(const YAML::Node& node, const YamlEntry& kind) {
  Step step;
  step.kind = StepKind::kMap;
  step.loc = r_.Loc(kind.key_node);
  step.id = StepId(kind);
  step.brief.loc = step.loc;
  std::optional<YamlEntry> agent_key;
  for (const YamlEntry& e :
       r_.Entries(node, "a map step", kMapKeys, "map '" + step.id + "'", kStepUnsupported)) {
    if (e.key == "agent" || e.key == "agents") {
      if (agent_key) {
        r_.Error(e.key_node, "map '" + step.id + "' has both 'agent' and 'agents': expected one");
        continue;
      }
      agent_key = e;
      if (e.key == "agent") {
        if (auto agent = r_.String(e)) step.agents = {*agent};
      } else if (auto agents = r_.StringList(e, /*allow_single=*/false)) {
        if (agents->empty()) {
          r_.Error(e, "agents: expected a non-empty list of agents, found an empty list");
        }
        step.agents = std::move(*agents);
      }
    } else if (e.key == "over") {
      if (std::optional<MapSource> source = ParseMapSource(r_, e)) {
        step.over_source = std::move(*source);
      } else if (e.value.IsScalar()) {
        step.over = e.value.Scalar();
      } else if (e.value.IsSequence()) {
        if (auto items = r_.StringList(e, /*allow_single=*/false)) {
          if (items->empty()) {
            r_.Error(e,
                     "over: expected a non-empty list of items or a ${...} reference, "
                     "found an empty list");
          }
          step.over_items = std::move(*items);
        }
      } else {
        r_.Error(e, "over: expected a ${...} reference or a list of items, found " +
                        DescribeNode(e.value));
      }
    } else if (e.key == "concurrency") {
      if (auto n = r_.Integer(e, 1, kMaxConcurrency)) step.concurrency = static_cast<int>(*n);
    } else if (e.key == "brief") {
      step.brief = ParseBrief(e).brief;
    } else if (e.key == "retries") {
      if (auto n = r_.Integer(e, 0, kMaxRetries)) step.retries = static_cast<int>(*n);
    } else if (e.key == "gate") {
      step.gate = Gate(e);
    }
  }
  return step;
}

std::optional<Step> FlowParser::ParseSynthesize(const YAML::Node& node, const YamlEntry& kind) {
  Step step;
  step.kind = StepKind::kSynthesize;
  step.loc = r_.Loc(kind.key_node);
  std::vector<YamlEntry> entries;
  if (kind.value.IsMap()) {
    // Mapping form: `synthesize: { id, agent, from, brief }`, nothing beside it.
    step.id = "synthesis";
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() != "synthesize") {
        r_.Error(it->first, "'" + it->first.Scalar() +
                                "' beside a synthesize mapping: put it inside the mapping, or "
                                "write 'synthesize: ID' with the other keys beside it");
      }
    }
    entries = r_.Entries(kind, kSynthesizeMappingKeys, "synthesize", kStepUnsupported);
  } else {
    step.id = StepId(kind);
    entries = r_.Entries(node, "a synthesize step", kSynthesizeKeys, "synthesize '" + step.id + "'",
                         kStepUnsupported);
  }
  bool has_brief = false;
  bool has_output = false;
  for (const YamlEntry& e : entries) {
    if (e.key == "id") {
      if (auto id = r_.String(e)) step.id = *id;
    } else if (e.key == "agent") {
      if (auto agent = r_.String(e)) step.agents = {*agent};
    } else if (e.key == "from") {
      if (auto from = r_.StringList(e, /*allow_single=*/true)) step.from = std::move(*from);
    } else if (e.key == "brief") {
      ParsedBrief parsed = ParseBrief(e);
      step.brief = std::move(parsed.brief);
      has_brief = true;
      has_output = parsed.has_output;
    } else if (e.key == "retries") {
      if (auto n = r_.Integer(e, 0, kMaxRetries)) step.retries = static_cast<int>(*n);
    } else if (e.key == "gate") {
      step.gate = Gate(e);
    }
  }
  if (!has_brief) step.brief.loc = step.loc;
  if (step.brief.objective.empty()) {
    std::string names;
    for (size_t i = 0; i < step.from.size(); ++i) {
      if (i > 0) names += i + 1 == step.from.size() ? " and " : ", ";
      names += step.from[i];
    }
    step.brief.objective = "Integrate the outputs of " + names + " into one coherent result.";
  }
  if (!has_output) step.brief.output.format = OutputFormat::kMarkdown;
  return step;
}

FlowParser::ParsedBrief FlowParser::ParseBrief(const YamlEntry& entry) {
  ParsedBrief parsed;
  parsed.brief.loc = r_.Loc(entry);
  if (entry.value.IsScalar()) {
    parsed.brief.objective = entry.value.Scalar();
    return parsed;
  }
  if (!entry.value.IsMap()) {
    r_.Error(entry,
             "brief: expected a mapping (objective, context, constraints, acceptance, "
             "output) or a string (the objective), found " +
                 DescribeNode(entry.value));
    return parsed;
  }
  BriefTemplate& brief = parsed.brief;
  for (const YamlEntry& e : r_.Entries(entry, kBriefKeys, "a brief")) {
    if (e.key == "objective") {
      if (auto s = r_.String(e)) brief.objective = std::move(*s);
    } else if (e.key == "context") {
      if (auto list = r_.StringList(e, /*allow_single=*/true)) brief.context = std::move(*list);
    } else if (e.key == "constraints") {
      if (auto list = r_.StringList(e, /*allow_single=*/true)) {
        brief.constraints = std::move(*list);
      }
    } else if (e.key == "acceptance") {
      if (auto s = r_.String(e)) brief.acceptance = std::move(*s);
    } else if (e.key == "output") {
      parsed.has_output = true;
      brief.output = ParseOutput(e);
    }
  }
  return parsed;
}

ExpectedOutput FlowParser::ParseOutput(const YamlEntry& entry) {
  ExpectedOutput output;
  // `output: markdown` names just the format.
  if (entry.value.IsScalar()) {
    if (auto format = r_.OneOf(entry, kFormats)) output.format = FormatFromName(*format);
    return output;
  }
  std::optional<YamlEntry> format_entry;
  std::optional<YamlEntry> sections_entry;
  std::optional<YamlEntry> schema_entry;
  std::optional<std::string> format;
  for (const YamlEntry& e : r_.Entries(entry, kOutputKeys, "an output")) {
    if (e.key == "format") {
      format_entry = e;
      format = r_.OneOf(e, kFormats);
    } else if (e.key == "sections") {
      sections_entry = e;
      if (auto list = r_.StringList(e, /*allow_single=*/false)) output.sections = std::move(*list);
    } else if (e.key == "schema") {
      schema_entry = e;
      if (auto schema = ParseSchema(e)) output.schema = std::move(*schema);
    } else if (e.key == "description") {
      if (auto s = r_.String(e)) output.description = std::move(*s);
    }
  }
  if (format_entry && !format) return output;  // already reported
  if (sections_entry && schema_entry) {
    r_.Error(schema_entry->key_node,
             "an output has either sections (markdown) or a schema (json), not both");
  } else if (sections_entry && format && *format != "markdown") {
    r_.Error(sections_entry->key_node,
             "sections: only a markdown output has sections, found format '" + *format + "'");
  } else if (schema_entry && format && *format != "json") {
    r_.Error(schema_entry->key_node,
             "schema: only a json output has a schema, found format '" + *format + "'");
  }
  // Sections imply markdown and a schema implies json unless the format says otherwise.
  if (format) {
    output.format = FormatFromName(*format);
  } else if (sections_entry) {
    output.format = OutputFormat::kMarkdown;
  } else if (schema_entry) {
    output.format = OutputFormat::kJson;
  }
  return output;
}

std::optional<nlohmann::json> FlowParser::ParseSchema(const YamlEntry& entry) {
  if (!entry.value.IsMap()) {
    r_.Error(entry, "schema: expected a JSON Schema (a mapping) or { $ref: FILE }, found " +
                        DescribeNode(entry.value));
    return std::nullopt;
  }
  YAML::Node ref = entry.value["$ref"];
  if (!ref.IsDefined()) return r_.Json(entry.value);
  if (entry.value.size() != 1) {
    r_.Error(entry, "schema: '$ref' names a schema file and must be the only key, found " +
                        std::to_string(entry.value.size()) + " keys");
    return std::nullopt;
  }
  YAML::Node key;
  for (auto it = entry.value.begin(); it != entry.value.end(); ++it) key = it->first;
  return LoadSchemaFile(YamlEntry{"$ref", key, ref});
}

std::optional<nlohmann::json> FlowParser::LoadSchemaFile(const YamlEntry& ref) {
  std::optional<std::string> name = r_.NonEmptyString(ref);
  if (!name) return std::nullopt;
  fs::path path = fs::path(*name).is_absolute() ? fs::path(*name) : base_dir_ / *name;
  // Name the schema file the way the team file was named, so messages read alike.
  std::string shown = fs::path(*name).is_absolute()
                          ? *name
                          : (fs::path(r_.file()).parent_path() / *name).lexically_normal().string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    r_.Error(ref, "$ref: expected a JSON Schema file, found no file at '" + shown + "'");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    r_.Error(ref, "$ref: cannot read schema file '" + shown + "'");
    return std::nullopt;
  }
  std::string text = buffer.str();
  nlohmann::json schema;
  try {
    schema = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    r_.Error(LocOfOffset(text, offset, shown),
             "invalid JSON in schema file: " + JsonErrorReason(e.what()));
    return std::nullopt;
  }
  if (!schema.is_object()) {
    r_.Error(SourceLoc{shown, 1, 1},
             "expected a JSON Schema (an object), found " + std::string(schema.type_name()));
    return std::nullopt;
  }
  return schema;
}

}  // namespace

std::vector<Step> ParseFlow(YamlReader& reader, const YamlEntry& flow,
                            const std::filesystem::path& base_dir) {
  if (!flow.value.IsSequence() || flow.value.size() == 0) {
    reader.Error(flow,
                 "flow: expected a non-empty list of steps, found " + DescribeNode(flow.value));
    return {};
  }
  FlowParser parser(reader, base_dir);
  std::vector<Step> steps;
  for (const YAML::Node& node : flow.value) {
    if (std::optional<Step> step = parser.ParseStep(node, /*in_parallel=*/false)) {
      steps.push_back(std::move(*step));
    }
  }
  return steps;
}

}  // namespace chorus
