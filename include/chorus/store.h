// Store: the durable, append-only record of runs and their events.
//
// Every fact of a run (brief dispatched, request, response, error, step done) is an Event
// appended before it takes effect; a run's state is a fold over its events, and `chorus show`
// and resume read nothing else. A Store is used by one thread at a time (the scheduler, or a
// reader command); it is not internally synchronized. Several processes may open the same
// SQLite file: one writer and any number of readers (WAL).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chorus/status.h"

namespace chorus {

struct Event {
  std::string run_id;
  int64_t seq = 0;      // 1, 2, 3... per run; assigned by Append when 0
  int64_t ts_ms = 0;    // wall time, ms since epoch
  std::string kind;     // "run.started", "llm.request", "step.completed", ...
  std::string step;     // step path, e.g. "draft" or "reviews[3]"; empty for run-level events
  std::string agent;    // empty when not about an agent
  std::string payload;  // JSON text
};

enum class RunStatus { kRunning, kCompleted, kFailed, kInterrupted };
std::string_view RunStatusName(RunStatus status);  // "running", "completed", ...
std::optional<RunStatus> ParseRunStatus(std::string_view name);

struct RunRecord {
  std::string run_id;
  std::string team;       // the team's name
  std::string team_path;  // absolute path of the team file, "" for teams built in code
  RunStatus status = RunStatus::kRunning;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;  // 0 while running
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost_usd = 0.0;
  int64_t pid = 0;  // the process that runs it; lets readers tell running from interrupted
};

// The run's status as readers should see it: a "running" run whose process is gone (killed,
// crashed, machine restarted) was interrupted and can be resumed.
RunStatus EffectiveRunStatus(const RunRecord& run);
// One pseudonym of a run's vault. Vault rows live only in the local store: never in events,
// so never in what `chorus show`, logs or the viewer print.
struct VaultRecord {
  std::string pseudonym;  // "<PERSON_1>"
  std::string value;      // the original bytes
  std::string type;       // "PERSON", "EMAIL", ...
  std::string label;      // of the value it replaced: who may see it restored
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Status CreateRun(const RunRecord& run) = 0;
  // Appends a batch atomically (one transaction): all events or none. Events with seq 0 get
  // the next sequence numbers of their run; the assigned numbers are written back.
  virtual Status Append(std::span<Event> events) = 0;
  // Updates status, finish time and totals of a run.
  virtual Status UpdateRun(const RunRecord& run) = 0;

  // All events of a run in sequence order.
  virtual Result<std::vector<Event>> LoadEvents(const std::string& run_id) = 0;
  // Runs, newest first.
  virtual Result<std::vector<RunRecord>> ListRuns(int limit) = 0;
  // A run by full id or unique prefix.
  virtual Result<RunRecord> FindRun(const std::string& id_or_prefix) = 0;

  // Adds pseudonyms to a run's vault in one transaction; a pseudonym already saved for the
  // run is left as it is. Stores that cannot keep a vault refuse, and runs that need one fail.
  virtual Status SaveVault(const std::string& run_id, std::span<const VaultRecord> records) {
    (void)records;
    return Status::FailedPrecondition("this store cannot keep the pseudonym vault of run " +
                                      run_id);
  }
  // A run's vault in the order the pseudonyms were saved.
  virtual Result<std::vector<VaultRecord>> LoadVault(const std::string& run_id) {
    return Err(
        Status::FailedPrecondition("this store cannot keep the pseudonym vault of run " + run_id));
  }
};

// Opens (creating if needed, with parent directories) the SQLite store at `path`, in WAL
// mode with synchronous=NORMAL: a committed event survives the process being killed.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace chorus
