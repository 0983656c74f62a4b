// Scheduler: executes a team's flow, stage by stage. Top-level flow items run in order; the
// children of a `parallel` run together; a `map` runs one unit per item with at most
// `concurrency` in flight. Each unit is one agent working on one brief: the scheduler renders
// the brief, records the request, sends it, records the answer, checks it against the expected
// output and either accepts it or sends it back with the reasons.
//
// Single-threaded and deterministic: it runs on the caller's thread, never blocks on I/O,
// and every decision is an event committed before its effect. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "chorus/model_client.h"
#include "chorus/run.h"
#include "chorus/team.h"
#include "flow/boundary.h"
#include "flow/completion_queue.h"
#include "flow/event_log.h"
#include "flow/step_output.h"

namespace chorus {

struct SchedulerConfig {
  const Team* team = nullptr;
  std::string run_id;
  std::map<std::string, std::string> inputs;    // resolved input texts
  std::map<std::string, ModelClient*> clients;  // model name -> client
  int transient_retries = 3;
  uint64_t seed = 1;
  const Clock* clock = nullptr;
  Boundary* boundary = nullptr;  // not owned; null: no locality policy, every value public
};

class Scheduler {
 public:
  Scheduler(SchedulerConfig config, EventLog* log);
  // Runs the whole flow. Returns the run's final status; the run-level event is the caller's.
  // On failure `error()` says which step failed and why.
  RunStatus Run();
  const std::string& error() const { return error_; }
  const std::string& output() const { return output_; }

 private:
  enum class UnitState { kPending, kWaiting, kInFlight, kDone, kFailed };

  struct Unit {
    std::string path;  // "draft", "reviews[3]"
    const Step* step = nullptr;
    size_t step_run = 0;  // index into step_runs_
    int item_index = -1;
    std::string item;
    std::string agent;
    Label item_sensitivity = Label::kPublic;  // the label of the map's `over` value
    Label read_sensitivity = Label::kPublic;  // the highest label in the brief: the output's
    UnitState state = UnitState::kPending;
    int requests = 0;            // attempt number of the latest request
    int rejections = 0;          // answers that missed the expected output
    int transient_failures = 0;  // timeouts, 429, 5xx
    std::vector<std::string> feedback;
    DelegationBrief brief;
    StepOutput output;
  };

  // One step of the current stage (a task, a map or a synthesis).
  struct StepRun {
    const Step* step = nullptr;
    std::vector<size_t> units;
    size_t next = 0;  // next unit to launch
    int in_flight = 0;
    size_t done = 0;
    bool failed = false;
    int cap = 1;
  };

  struct Timer {
    int64_t due_us;
    size_t unit;
    bool operator>(const Timer& o) const { return due_us > o.due_us; }
  };

  void StartStage(const Step& item);
  void AddStepRun(const Step& step);
  void LaunchReady();
  void Launch(size_t unit);
  void SendRequest(size_t unit);
  void Handle(Completion c);
  void HandleAnswer(size_t unit, const ChatResponse& response);
  void HandleError(size_t unit, const ModelError& error);
  void CompleteUnit(size_t unit, StepOutput output);
  void FailUnit(size_t unit, const std::string& why);
  void FinishStepRunIfDone(StepRun& run);
  bool StageSettled() const;
  bool Commit();  // flushes the log and sends what it allowed; false if the store failed

  // Values pass through `crossing` (which may pseudonymize, restore or refuse them).
  Result<std::string> Expand(const std::string& text, const Unit& unit, Crossing* crossing) const;
  Result<DelegationBrief> BuildBrief(const Unit& unit, Crossing* crossing) const;
  std::optional<int64_t> NextTimerWaitUs() const;
  int64_t BackoffUs(const Unit& unit, const ModelError& error);

  SchedulerConfig config_;
  EventLog* log_;
  std::shared_ptr<CompletionQueue> queue_ = std::make_shared<CompletionQueue>();
  std::mt19937_64 rng_;

  std::vector<Unit> units_;
  std::vector<StepRun> step_runs_;
  std::vector<Timer> timers_;  // min-heap on due_us
  std::vector<std::pair<size_t, ChatRequest>> to_send_;
  std::map<std::string, StepOutput> outputs_;  // step id -> output, for ${...}
  int in_flight_ = 0;
  bool stage_failed_ = false;
  bool store_failed_ = false;
  std::string error_;
  std::string output_;
};

}  // namespace chorus
