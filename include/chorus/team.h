// Team: agents, the models they run on, the inputs a run takes, and the flow of steps.
//
// A Team is a plain value. It comes from a team file (LoadTeamFile) or is built in code (see
// examples/embed/). CheckTeam validates a whole team before anything runs; both the loader and
// the runner call it. All functions here are pure and thread-safe.
#pragma once

#include <memory>
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

class FrameworkLibrary;

// Routing (see route/router.h): a `routes:` rule of the team file. A rule fires for a routed
// request when every condition it sets holds; the first rule that fires decides.
struct RouteRule {
  std::vector<std::string> keywords;  // any of them in the request (case-insensitive, whole words)
  std::string regex;                  // RE2 syntax, searched in the request, case-sensitive
  std::string label;                  // the request carries this label or a higher one
  std::vector<std::string> frameworks;  // framework ids the rule picks (first = primary)
  std::string agent;                    // "" = choose among the route's agents as usual
  SourceLoc loc, regex_loc, frameworks_loc;
};

// `route:` on a task: pick the framework (and the agent, when the task names none) per run.
struct RouteSpec {
  bool enabled = false;
  // Candidate frameworks: ids or id prefixes ("2.3"); empty = the whole library (`auto`).
  std::vector<std::string> frameworks;
  int top = 3;                      // candidates recorded and offered to the router agent
  std::vector<std::string> agents;  // candidate agents; empty = the task's agent, else all
  std::string router;               // an agent that chooses among the top candidates; optional
  SourceLoc loc, frameworks_loc;
};

// `delegation:`: whether a routed task's own agent does the piece itself (local) or hands it
// to the routed agent. Checked in this order; the first that applies decides.
struct DelegationPolicy {
  bool holds_context = false;      // delegate to the agent that produced the ${steps} it reads
  int64_t local_max_words = 0;     // pieces of at most this many words stay local; 0 = off
  std::string local_label;         // pieces carrying this label or higher stay local; "" = off
  int64_t delegate_min_words = 0;  // pieces of at least this many words are delegated; 0 = off
  SourceLoc loc;
};

// Where a map's items come from when they are not a list or a ${...} reference.
struct MapSource {
  enum class Kind { kNone, kFrameworks, kFiles };
  Kind kind = Kind::kNone;
  std::string argument;  // frameworks: "all", "2" or "2.3"; files: a glob
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
  int concurrency = 8;    // map: items in flight at once
  MapSource over_source;  // map: over: frameworks("2.3") / files("docs/*.md")

  RouteSpec route;  // task: pick the framework (and agent) for the request

  std::vector<std::string> from;  // synthesize: the steps whose outputs are integrated
};

struct Team {
  std::string name;
  std::string path;  // the team file, absolute; "" when built in code
  std::vector<ModelSpec> models;
  std::vector<InputSpec> inputs;
  std::vector<AgentSpec> agents;
  std::vector<Step> flow;

  // Frameworks: the library sources (`frameworks:`, "default" or folders relative to the team
  // file), the library loaded from them when the team routes or maps over frameworks (null
  // otherwise), the `routes:` rules and the `delegation:` policy.
  std::vector<std::string> framework_sources = {"default"};
  std::shared_ptr<const FrameworkLibrary> frameworks;
  std::vector<RouteRule> routes;
  DelegationPolicy delegation;
  SourceLoc frameworks_loc;

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
