// Team: agents, the models they run on, the inputs a run takes, and the flow of steps.
//
// A Team is a plain value. It comes from a team file (LoadTeamFile) or is built in code (see
// examples/embed/). CheckTeam validates a whole team before anything runs; both the loader and
// the runner call it. All functions here are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chorus/brief.h"
#include "chorus/model_client.h"
#include "chorus/status.h"

namespace chorus {

// Where something was written in a team file; line and column are 1-based, 0 when unknown.
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
  std::string ToString() const;  // "team.yaml:12:5" (or "<team>" when built in code)
};

struct ModelSpec {
  EndpointConfig endpoint;            // endpoint.name is the key in `models:`
  std::vector<std::string> fallback;  // other models, tried in order (fault-tolerance issue)
  SourceLoc loc;
};

struct InputSpec {
  std::string name;
  bool file = false;  // the value is read from a file (--input name=@path)
  bool required = true;
  std::optional<std::string> default_value;
  std::string label;  // sensitivity label, e.g. "confidential"; "" = unlabelled
  std::string description;
  SourceLoc loc;
};

struct AgentSpec {
  std::string name;
  std::string role;   // the system prompt
  std::string model;  // a key of Team::models
  // The highest label the agent may read in clear. "" = "internal", or what its model may
  // receive when that is lower (see chorus/privacy.h for labels).
  std::string clearance;
  SourceLoc loc;
};

// The brief of a step before references are resolved: strings may hold ${inputs.x},
// ${step}, ${step.field}, and in a map ${item} and ${item_index}.
struct BriefTemplate {
  std::string objective;
  std::vector<std::string> context;
  std::vector<std::string> constraints;
  ExpectedOutput output;
  std::string acceptance;
  SourceLoc loc;
};

enum class StepKind { kTask, kParallel, kMap, kSynthesize };
std::string_view StepKindName(StepKind kind);

struct Step {
  StepKind kind = StepKind::kTask;
  std::string id;  // unique across the flow; referenced as ${id}
  SourceLoc loc;

  // task, synthesize: the agent. map: the pool (agents[i % size] takes item i).
  std::vector<std::string> agents;
  BriefTemplate brief;
  int retries = 2;  // extra attempts after a result misses its expected output

  std::vector<Step> children;  // parallel: the steps that run together

  // map: the items. Either a list written in the team file, or a template (${inputs.x},
  // ${step}) whose value is a JSON array, a YAML list, or text taken line by line.
  std::vector<std::string> over_items;
  std::string over;
  int concurrency = 8;  // map: items in flight at once

  std::vector<std::string> from;  // synthesize: the steps whose outputs are integrated
};

// The team's data-locality policy (`privacy:`). Labels are "public" < "internal" <
// "confidential"; a `local` model may receive confidential values, a `cloud` model at most
// cloud_max_label. Values above what an agent and its model may read are pseudonymized through
// the run's vault, or the step fails, per on_violation.
struct PrivacySpec {
  std::vector<std::string> entities;  // client names; entities_file's lines are appended
  std::string cloud_max_label = "internal";
  std::string on_violation = "pseudonymize";  // or "block"
  SourceLoc loc;                              // of `privacy:`; empty when not declared
};

struct Team {
  std::string name;
  std::string path;  // the team file, absolute; "" when built in code
  std::vector<ModelSpec> models;
  std::vector<InputSpec> inputs;
  std::vector<AgentSpec> agents;
  std::vector<Step> flow;
  PrivacySpec privacy;

  const ModelSpec* FindModel(const std::string& name) const;
  const AgentSpec* FindAgent(const std::string& name) const;
  const InputSpec* FindInput(const std::string& name) const;
};

// One problem found in a team: where, and what was expected.
struct Diagnostic {
  SourceLoc loc;
  std::string message;
  std::string ToString()
      const;  // "team.yaml:12:5: error: unknown key 'agnet' (did you mean 'agent'?)"
};

// Parses and checks a team file. On failure the Status (kInvalidArgument) message lists every
// diagnostic, one per line, in file order.
Result<Team> LoadTeamFile(const std::string& path);
Result<Team> ParseTeam(const std::string& yaml_text, const std::string& file_name);

// Checks a whole team: unknown agents and models, duplicate ids, references to inputs or
// steps that do not exist or do not finish before the reference, malformed ${...}, empty
// flows, maps without items. Returns every problem; empty means the team can run.
std::vector<Diagnostic> CheckTeam(const Team& team);

// The Team's built-in `offline` model, available in every team without being declared.
ModelSpec OfflineModelSpec();

}  // namespace chorus
