// Running a team: RunTeam executes a Team's flow to completion and returns its report.
//
// The scheduler is deterministic and single-threaded: it runs on the thread that calls
// RunTeam, never blocks on I/O (model calls complete on the transport's I/O thread and are
// posted back to it), and appends every fact to the Store before acting on it. A RunReport is
// a fold over the run's events, so the same report can be rebuilt later from the store alone
// (ReportFromEvents), which is what `chorus show` does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chorus/clock.h"
#include "chorus/model_client.h"
#include "chorus/status.h"
#include "chorus/store.h"
#include "chorus/team.h"

namespace chorus {

struct InputValue {
  std::string text;
  std::string source;  // the file it was read from, "" for literal text
};

struct RunOptions {
  Store* store = nullptr;  // required; not owned
  std::map<std::string, InputValue> inputs;
  // Sensitivity labels given with inputs ("confidential"), by input name. A label can raise
  // what the team declares for the input, never lower it.
  std::map<std::string, std::string> input_labels;
  std::string run_id;                  // "" = a new, time-ordered id
  bool offline = false;                // every model runs on the built-in offline model
  bool fallback_to_offline = true;     // a model whose API key variable is unset runs on offline
  size_t max_input_bytes = 16u << 20;  // per input; larger inputs are refused before the run
  int transient_retries = 3;           // retries of timeouts, 429 and 5xx per attempt
  uint64_t seed = 0;                   // backoff jitter; 0 = random
  std::shared_ptr<HttpTransport> transport;  // null = a new one for this run
  // Clients supplied by the embedding program, by model name (not owned; they must outlive
  // the run). They replace what the team declares for that model, e.g. an in-house gateway.
  std::map<std::string, ModelClient*> clients;
  const Clock* clock = nullptr;  // null = SystemClock()
  // RunReport::output keeps the run's pseudonyms (<PERSON_1>) instead of the owner's view with
  // the values restored; personal data the last step wrote in clear is pseudonymized too.
  bool redacted_output = false;
  // Called on the scheduler thread for each event once its batch is durably appended, with
  // the payload still parsed. It must be quick; it is how the CLI prints live progress.
  // Leave it unset when nothing needs it: the parsed payloads are then not kept until their
  // batch is committed.
  std::function<void(const Event&, const nlohmann::json& payload)> on_event;
  // Called once with the run id when the run is recorded (started or resumed), before any
  // step runs.
  std::function<void(const std::string& run_id, bool resumed)> on_start;
  // Called once, before the run starts, with notices such as "model 'fast' runs on offline".
  std::function<void(const std::string&)> on_notice;
};

struct StepReport {
  std::string step;  // path: "draft", "reviews[3]"
  std::string kind;  // "task", "map", "map-item", "synthesize"
  std::string agent;
  std::string model;   // endpoint name that answered last
  std::string status;  // "completed", "failed", "running"
  int attempts = 0;
  Usage usage;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::string output;
  std::string error;
};

struct RunReport {
  std::string run_id;
  std::string team;
  RunStatus status = RunStatus::kRunning;
  std::string output;  // the last top-level step's output
  std::string error;
  Usage usage;
  std::map<std::string, Usage> usage_by_agent;
  std::vector<StepReport> steps;  // in the order they started
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::vector<std::string> notices;
};

// The HTTP transport a run of `team` with `options` uses: options.transport if set, else a new
// one when some model is reached over HTTP, else null. A caller that sets options.transport
// to it owns the transport beyond the run, and chooses when (and on which thread) it closes.
std::shared_ptr<HttpTransport> TransportForRun(const Team& team, const RunOptions& options);

// Runs `team` to the end. Fails (without creating a run) when the team does not pass CheckTeam,
// an input is missing, unknown, not UTF-8 or too large, or a model cannot be set up. Once the
// run exists, failures of steps are reported in RunReport::status/error, not as an error.
Result<RunReport> RunTeam(const Team& team, RunOptions options);

// Continues the interrupted run `options.run_id` (an id or unique prefix) of `team` from
// what `options.store` recorded: the recorded inputs and endpoints, finished steps kept with
// their outputs, recorded answers reused and never requested again; a request that was sent
// but not answered goes out again under its idempotency key. The report covers the whole
// run. Fails when the run does not exist, has completed or failed, still runs in a live
// process, or belongs to another team or an edited team file.
Result<RunReport> ResumeRun(const Team& team, RunOptions options);

// Rebuilds a run's report from its events.
RunReport ReportFromEvents(const RunRecord& run, const std::vector<Event>& events);

// {"run_id", "status", "output", "usage": {..., "by_agent": {...}}, "steps": [...]}, as text
// (invalid UTF-8 replaced), written without building a tree: a report of 10,000 steps in a
// fraction of the time. ReportToJson is the same document parsed.
std::string ReportToJsonText(const RunReport& report);
nlohmann::json ReportToJson(const RunReport& report);

}  // namespace chorus
