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
#include <deque>
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
#include "flow/conversation.h"
#include "flow/endpoint_governor.h"
#include "flow/event_log.h"
#include "flow/gate.h"
#include "flow/journal.h"
#include "flow/message_contents.h"
#include "flow/prompt_tokens.h"
#include "flow/route_step.h"
#include "flow/staged_synthesis.h"
#include "flow/step_output.h"
#include "flow/witness.h"

namespace chorus {

struct SchedulerConfig {
  const Team* team = nullptr;
  std::string run_id;
  std::map<std::string, std::string> inputs;    // resolved input texts
  std::map<std::string, ModelClient*> clients;  // model name -> client
  int transient_retries = 3;
  uint64_t seed = 1;
  const Clock* clock = nullptr;
  // Set when resuming (see flow/journal.h): finished steps keep their recorded outputs,
  // recorded answers and errors are reused, and only what the record lacks is asked for.
  RunJournal* journal = nullptr;
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
  // kWaiting: a retry timer runs; kQueued: waiting for its endpoint's budget.
  enum class UnitState { kPending, kWaiting, kQueued, kInFlight, kDone, kFailed };
  enum class JudgeRole { kNone, kGate, kWitness };

  // What only some units have beyond their step's brief: a sourced item's id and fields, the
  // frameworks a route chose. A plain 10,000-item map's units hold none of it (72 bytes each).
  struct Enrichment {
    std::string item_label;      // map over frameworks/files: the id or path ("" = item)
    nlohmann::json item_fields;  // map over frameworks/files: ${item.FIELD}
    std::vector<const Framework*> frameworks;  // routed: applied to the brief
    int synthesis_part = -1;  // a staged synthesis's part: its index among its level's parts
  };

  struct Unit {
    std::string path;  // "draft", "reviews[3]"
    const Step* step = nullptr;
    size_t step_run = 0;  // index into step_runs_
    int item_index = -1;
    std::string item;
    std::unique_ptr<Enrichment> enrichment;  // null for most units (a plain map's items)
    std::unique_ptr<PendingRoute> routing;   // non-null while the router agent is asked
    std::string agent;
    Label item_sensitivity = Label::kPublic;  // the label of the map's `over` value
    Label read_sensitivity = Label::kPublic;  // the highest label in the brief: the output's
    UnitState state = UnitState::kPending;
    int requests = 0;            // attempt number of the latest request
    int rejections = 0;          // answers that missed the expected output
    int transient_failures = 0;  // timeouts, 429, 5xx
    int hinted_failures = 0;     // of those, 429s with Retry-After: they do not grow the backoff
    std::vector<std::string> feedback;
    DelegationBrief brief;
    StepOutput output;

    // Quality gates and witnesses. A judge's brief is built when it is created. A gate's judge
    // scores another unit's output and is not one of its step run's units; a witness step's
    // judge groups the votes and is one of them.
    JudgeRole judge = JudgeRole::kNone;
    size_t judged_unit = 0;           // gate judges: the unit whose output is scored
    size_t judge_check = 0;           // gate judges: the index of the check in the gate
    std::unique_ptr<GateRound> gate;  // the output held back while its gate decides
    int witness = -1;  // witness steps: the index of this unit's agent among the witnesses
    int gate_failures = 0;
    bool escalated = false;
    // Its agent's model, then the fallback chain: shared by every unit of that model.
    const std::vector<std::string>* models = nullptr;
    const AgentSpec* models_of = nullptr;  // the agent `models` belongs to (routing, escalation)
    size_t model_index = 0;                // the one in use
    std::unique_ptr<ChatRequest> pending;  // built, not yet admitted by the endpoint's budget
    int64_t prompt_tokens = 0;             // of `pending` (counted when a token budget needs it)
    int64_t queued_at_us = -1;

    Enrichment& Enrich() {
      if (!enrichment) enrichment = std::make_unique<Enrichment>();
      return *enrichment;
    }
    // The item as the record and combined outputs name it: its id or path when sourced.
    const std::string& ItemLabel() const {
      return enrichment && !enrichment->item_label.empty() ? enrichment->item_label : item;
    }
    // A part of a staged synthesis (not its last prompt, which is the step's own unit).
    bool IsSynthesisPart() const { return enrichment && enrichment->synthesis_part >= 0; }
    // Whether its step's gate judges its output: a staged synthesis is judged at its last level.
    bool Gated() const { return step->gate && !IsSynthesisPart(); }
  };

  // A synthesis too large for one prompt, run in levels (flow/staged_synthesis.h).
  struct StagedSynthesis {
    int64_t window = 0;                  // the model's context window
    int64_t budget = 0;                  // tokens the sources of one prompt may take
    PromptCounter counter;               // the model's tokenizer, or the estimate
    int level = 0;                       // the level running now, from 1
    std::vector<SynthesisPiece> pieces;  // what this level reads
    std::vector<SynthesisPart> parts;    // its cut, one unit each; empty at the last level
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
    WitnessState witness;                     // witness steps (scheduler_witness.cc)
    std::unique_ptr<StagedSynthesis> staged;  // a synthesis run in levels, else null
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
  void DispatchBrief(size_t unit);  // builds, records and sends the unit's brief
  // Routing (scheduler_route.cc). BeginRoute returns true when the unit may dispatch now,
  // false when it asked the router agent or failed.
  bool BeginRoute(size_t unit);
  void FinishRoute(size_t unit, PendingRoute route, nlohmann::json router_note);
  void OnRouterAnswer(size_t unit, const std::string& text);
  void OnRouterFailed(size_t unit, const std::string& why);
  std::string ContextHolder(const Step& step) const;
  void SendRequest(size_t unit);
  // Endpoint budgets, circuit breakers and failover (scheduler_limits.cc).
  void AskToSend(size_t unit);
  void Dispatch(size_t unit);  // records the admitted request and queues it for sending
  void PumpGovernors();
  void ReleaseEndpoint(size_t unit, const ChatResult& result);
  // "" to retry or fail here; else why the unit moves to its next model.
  std::string FailoverReason(size_t unit, const ModelError& error, bool retries_left);
  void FailOver(size_t unit, const std::string& reason, const std::string& error);
  void RecordCircuitChanges(const std::string& model);
  EndpointGovernor& Governor(const std::string& model);
  ModelClient* Client(const Unit& unit) const;
  std::optional<int64_t> NextGovernorWakeUs() const;
  void Handle(Completion c);
  // `recorded`: the outcome is already in the store (a resumed run deciding about it again).
  void HandleAnswer(size_t unit, const ChatResponse& response, bool recorded = false);
  void HandleError(size_t unit, const ModelError& error, bool recorded = false);
  // `record` is false when the outcome is already in the store (a resumed run replaying it).
  void CompleteUnit(size_t unit, StepOutput output, bool record = true);
  void FailUnit(size_t unit, const std::string& why, bool record = true);
  // Fails a whole step (not one of its units) and the stage with it, recording step.failed.
  void FailStepRun(size_t run, const std::string& why);
  // Resuming: settles a plain unit whose outcome is recorded, without running it; true if so.
  bool SettleFromRecord(size_t unit);
  void FinishStepRunIfDone(StepRun& run);
  bool StageSettled() const;

  // Quality gates and witnesses: scheduler_gate.cc and scheduler_witness.cc.
  // Called with every accepted answer; true when a gate or a judge took the output over (the
  // unit is then not complete yet).
  bool DivertAccepted(size_t unit, StepOutput& output);
  void StartGate(size_t unit, StepOutput output);
  void LaunchGateJudge(size_t unit, size_t check);
  void FinishJudge(size_t judge, const StepOutput& output);
  void DecideGate(size_t unit);
  bool IsOfflineAgent(const std::string& agent) const;
  // Synthesis steps, staged when their sources overflow the model (scheduler_synthesis.cc).
  void AddSynthesisRun(const Step& step);
  std::unique_ptr<StagedSynthesis> PlanStagedSynthesis(const Step& step, std::string* failure);
  std::vector<SynthesisPiece> SourcePieces(const Step& step, const PromptCounter& counter) const;
  void StartSynthesisLevel(size_t run);
  void NextSynthesisLevel(size_t run);
  void AddSynthesisUnit(size_t run, std::string path, int part);
  Status AddStagedSources(const Unit& unit, Crossing* crossing, DelegationBrief* brief) const;
  void AddWitnessRun(const Step& step);
  void AddWitnessUnits(size_t run, int count);
  void DecideWitnessRun(size_t run);
  // Sends what was decided, after committing the log unless every request goes to a model
  // that answers in process (then the commit is deferred and grouped). False if the store
  // failed and nothing is left in flight.
  bool Commit();
  bool FlushLog();  // false (and the run stops) when the store failed
  // Events that may wait for a commit, and requests prepared before they are sent in one go.
  static constexpr size_t kMaxDeferredEvents = 4096;
  static constexpr size_t kFirstSendSlice = 32;
  static constexpr size_t kSendSlice = 512;
  // How long facts may wait for their commit while the scheduler waits for answers: answers
  // arriving close together share a transaction (a 10,000-agent map made 2,000 commits of
  // two events each). Nothing waits on it: a request's own facts are committed before it goes.
  static constexpr int64_t kCommitWindowUs = 10'000;
  bool MustFlushBeforeSending() const;
  // Before waiting: commits what waited long enough; returns how long the wait may last.
  // Sets *stop when the store failed and nothing is left in flight.
  std::optional<int64_t> FlushBeforeWaiting(bool* stop);

  // One conversation per agent with a `context:` budget (scheduler_conversation.cc).
  struct PendingRollover {
    RolloverReason reason = RolloverReason::kThreshold;
    int64_t tokens_before = 0;
    int64_t threshold = 0;  // the threshold the prompt crossed (kThreshold)
    int attempts = 0;       // handoff requests sent
    std::vector<std::string> feedback;
    bool in_flight = false;
    int dropped_turns = 0;
    int64_t handoff_tokens = 0;  // the prompt of the latest handoff request
  };
  struct AgentConversation {
    Conversation conversation;
    std::optional<size_t> unit;  // the unit holding it; units of one agent run one at a time
    std::optional<PendingRollover> rollover;
    int64_t last_prompt_tokens = 0;
  };
  static PendingRollover NewRollover(RolloverReason reason, int64_t tokens_before);
  ModelClient* ConversationClient(const Unit& unit) const;
  // Rolls the conversation held by `unit` over into a generation that fits `fit_tokens`
  // counted with `counter` (for failover to a model with a smaller window), then re-sends the
  // unit's request. The handoff request is queued like the unit's own requests (to the client
  // ConversationClient names). Returns false, doing nothing, when the unit's agent keeps no
  // conversation, it holds no turn, or a rollover is already under way.
  bool RollOverToFit(size_t unit, int64_t fit_tokens, PromptCounter counter);
  bool CanRollOverToFit(size_t unit) const;
  AgentConversation* ConversationOf(const Unit& unit);
  bool WaitsForConversation(size_t unit) const;
  bool PrepareConversationRequest(size_t unit, ChatRequest* request);
  void SendHandoffRequest(size_t unit);
  bool HandoffInFlight(size_t unit) const;
  void HandleHandoff(size_t unit, ChatResult result);
  void ApplyHandoff(size_t unit, HandoffBrief brief);
  bool RollOverAfterContextError(size_t unit);
  void EndConversationTurn(size_t unit, const StepOutput& output);
  void ReleaseConversation(size_t unit);

  // Values pass through `crossing` (which may pseudonymize, restore or refuse them).
  Result<std::string> Expand(const std::string& text, const Unit& unit, Crossing* crossing) const;
  // Without `sources`, a synthesis's brief lacks what it synthesizes (to size the rest).
  Result<DelegationBrief> BuildBrief(const Unit& unit, Crossing* crossing,
                                     bool sources = true) const;
  Status BuildUnitBrief(size_t unit, Crossing* crossing);
  Status AdmitJudgeBrief(size_t unit, Crossing* crossing);
  std::optional<int64_t> NextTimerWaitUs() const;
  int64_t BackoffUs(const Unit& unit, const ModelError& error);

  SchedulerConfig config_;
  EventLog* log_;
  std::shared_ptr<CompletionQueue> queue_ = std::make_shared<CompletionQueue>();
  std::mt19937_64 rng_;

  // A deque: units are large, and growing never moves them (references stay valid too).
  std::deque<Unit> units_;
  std::vector<StepRun> step_runs_;
  std::vector<Timer> timers_;  // min-heap on due_us
  std::vector<std::pair<size_t, ChatRequest>> to_send_;
  MessageContents message_contents_;                   // what requests name instead of repeating
  std::map<std::string, EndpointGovernor> governors_;  // by model name
  std::map<std::string, std::vector<std::string>> chains_;  // fallback chains by first model
  int queued_ = 0;                                          // units waiting in governors' queues
  std::map<std::string, StepOutput> outputs_;               // step id -> output, for ${...}
  std::map<std::string, std::vector<size_t>> map_units_;    // map step id -> its item units

  // Agent name -> its conversation, for agents with a `context:` budget.
  std::map<std::string, AgentConversation> conversations_;
  std::unique_ptr<TeamRouting> routing_;  // built when the first routed task starts
  int in_flight_ = 0;
  bool stage_failed_ = false;
  bool store_failed_ = false;
  std::string error_;
  std::string output_;
};

}  // namespace chorus
