// Team: agents, the models they run on, the inputs a run takes, and the flow of steps.
//
// A Team is a plain value. It comes from a team file (LoadTeamFile) or is built in code (see
// examples/embed/). CheckTeam validates a whole team before anything runs; both the loader and
// the runner call it. All functions here are pure and thread-safe.
#pragma once

#include <cstdint>
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

// An agent's context budget (`context:` in the team file). An agent that has one keeps ONE
// conversation across all its units in a run and rolls it over through a HandoffBrief before a
// request would cross `rollover_at` x `limit` tokens (see src/flow/conversation.h).
struct ContextBudget {
  int64_t limit = 0;          // tokens; 0: the model's context_window
  double rollover_at = 0.75;  // fraction of `limit` a prompt may reach before a rollover
  int keep_last = 1;          // turns carried verbatim into the next generation
  SourceLoc loc;
};

struct AgentSpec {
  std::string name;
  std::string role;   // the system prompt
  std::string model;  // a key of Team::models
  // The highest label the agent may read in clear. "" = "internal", or what its model may
  // receive when that is lower (see chorus/privacy.h for labels).
  std::string clearance;
  std::optional<ContextBudget> context;  // set: one conversation across the agent's units
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

enum class StepKind { kTask, kParallel, kMap, kSynthesize, kWitness };
std::string_view StepKindName(StepKind kind);

// One check of a quality gate (`gate: { checks: [...] }`).
enum class GateCheckKind { kSections, kSchema, kRegex, kMinWords, kMaxWords, kJudge };
struct GateCheck {
  GateCheckKind kind = GateCheckKind::kSections;
  std::vector<std::string> sections;  // sections: Markdown headings that must be present
  nlohmann::json schema;              // schema: the output parsed as JSON must validate
  std::string regex;                  // regex: RE2 syntax, must match somewhere in the output
  int64_t words = 0;                  // min_words / max_words
  std::string judge;                  // judge: the reviewer agent
  std::string rubric;                 // judge: what the reviewer scores against
  double pass = 7;                    // judge: the lowest passing score, 0 to 10
  SourceLoc loc;
};

// What a failed gate does: send the reasons back to the producing agent (up to `retries`
// times, then fail), hand the task to `escalate_to` once the retries are spent, or fail at once.
enum class GateFailAction { kRetryWithFeedback, kEscalate, kFail };
struct GateSpec {
  std::vector<GateCheck> checks;
  int retries = 2;
  GateFailAction on_fail = GateFailAction::kRetryWithFeedback;
  std::string escalate_to;  // on_fail: escalate
  SourceLoc loc;
};

// How witness answers are compared.
enum class WitnessCompareKind { kNormalized, kJsonField, kNumeric, kJudge };
struct WitnessSpec {
  int quorum = 0;  // votes an answer needs; 0 = a majority of the agents
  WitnessCompareKind compare = WitnessCompareKind::kNormalized;
  std::string field;      // json:<field>
  double tolerance = 0;   // numeric:<tolerance>, absolute
  std::string judge;      // judge:<agent>
  bool adaptive = false;  // ask `quorum` witnesses first, more only on disagreement
  bool fail_on_dispute = false;
  std::string about;  // `about: STEP`: the step whose output the witnesses examine
};

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

  // task, synthesize, map: checks an accepted output must pass before later steps see it.
  std::optional<GateSpec> gate;
  // witness: `agents` are the witnesses; the brief's objective is the question.
  WitnessSpec witness;
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
  // A hash of the team file's text ("" when built in code): a run can only be resumed with
  // the team it started with.
  std::string source_hash;
  std::vector<ModelSpec> models;
  std::vector<InputSpec> inputs;
  std::vector<AgentSpec> agents;
  std::vector<Step> flow;
  PrivacySpec privacy;

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

// One problem found in a team: where, and what was expected. Errors stop a team from running;
// warnings (from LintTeam) point at something that runs but is likely a mistake.
enum class Severity { kError, kWarning };
struct Diagnostic {
  SourceLoc loc;
  std::string message;
  Severity severity = Severity::kError;
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

// CheckTeam's errors and also warnings (e.g. witnesses that all run on one model, whose
// errors are correlated), in file order. For `chorus lint`; warnings never block a run.
std::vector<Diagnostic> LintTeam(const Team& team);

// The Team's built-in `offline` model, available in every team without being declared.
ModelSpec OfflineModelSpec();

}  // namespace chorus
