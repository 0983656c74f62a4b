#include "flow/scheduler.h"

#include <algorithm>
#include <filesystem>
#include <functional>

#include "core/template.h"
#include "core/utf8.h"
#include "flow/failover.h"
#include "flow/map_source.h"
#include "flow/step_events.h"

namespace chorus {
namespace {

constexpr int64_t kMaxBackoffUs = 60'000'000;
constexpr int64_t kBaseBackoffUs = 500'000;

std::string ItemPath(const std::string& step, int index) {
  return step + "[" + std::to_string(index) + "]";
}

}  // namespace

Scheduler::Scheduler(SchedulerConfig config, EventLog* log)
    : config_(std::move(config)), log_(log), rng_(config_.seed) {
  if (config_.journal && config_.journal->contents_inline()) message_contents_.WriteInline();
}

RunStatus Scheduler::Run() {
  const std::vector<Step>& flow = config_.team->flow;
  for (size_t i = 0; i < flow.size() && !stage_failed_; ++i) {
    step_runs_.clear();
    StartStage(flow[i]);
    while (true) {
      LaunchReady();
      // A settled stage leaves its last events for the next flush: they are committed with
      // the next stage's first requests, before those are sent (one transaction, not two).
      if (to_send_.empty() && StageSettled()) break;
      if (!Commit()) break;
      if (StageSettled()) break;
      bool stop = false;
      std::optional<int64_t> wait_us = FlushBeforeWaiting(&stop);
      if (stop) break;
      std::vector<Completion> done;
      queue_->WaitAll(wait_us, &done);
      for (Completion& c : done) {
        Handle(std::move(c));
        // Bounded like the launches; a failed store stops the run in FlushLog, and the
        // remaining answers are still handled so that nothing in flight is lost track of.
        if (log_->size() >= kMaxDeferredEvents) FlushLog();
      }
    }
    if (store_failed_) break;
    // The run's output is the last top-level item's output.
    if (flow[i].kind == StepKind::kParallel) {
      std::vector<std::string> labels;
      std::vector<const StepOutput*> parts;
      for (const Step& child : flow[i].children) {
        labels.push_back(child.id);
        if (auto it = outputs_.find(child.id); it != outputs_.end()) parts.push_back(&it->second);
      }
      output_ = CombineMapOutputs(labels, parts).text;
    } else if (auto it = outputs_.find(flow[i].id); it != outputs_.end()) {
      output_ = it->second.text;
    }
  }
  // What in-process answers left uncommitted, and the pseudonyms they issued.
  if (!store_failed_) FlushLog();
  return stage_failed_ || store_failed_ ? RunStatus::kFailed : RunStatus::kCompleted;
}

void Scheduler::StartStage(const Step& item) {
  stage_failed_ = false;
  if (item.kind == StepKind::kParallel) {
    for (const Step& child : item.children) AddStepRun(child);
  } else {
    AddStepRun(item);
  }
}

void Scheduler::AddStepRun(const Step& step) {
  if (step.kind == StepKind::kWitness) {
    AddWitnessRun(step);
    return;
  }
  if (step.kind == StepKind::kSynthesize) {
    AddSynthesisRun(step);
    return;
  }
  StepRun run;
  run.step = &step;
  size_t run_index = step_runs_.size();
  auto add_unit = [&](std::string path, int item_index, std::string item, std::string agent) {
    run.units.push_back(units_.size());
    Unit& u = units_.emplace_back();
    u.path = std::move(path);
    u.step = &step;
    u.step_run = run_index;
    u.item_index = item_index;
    u.item = std::move(item);
    u.agent = std::move(agent);
  };
  const std::string first_agent = step.agents.empty() ? std::string() : step.agents.front();
  if (step.kind != StepKind::kMap) {
    add_unit(step.id, -1, "", first_agent);
    step_runs_.push_back(std::move(run));
    return;
  }

  // A map: resolve its items now that the steps before it have finished.
  std::vector<std::string> items = step.over_items;
  std::vector<MapItem> sourced;  // over: frameworks(...) / files(...)
  Label over_sensitivity = Label::kPublic;
  std::string failure;
  if (step.over_source.kind != MapSource::Kind::kNone) {
    std::string base_dir = std::filesystem::path(config_.team->path).parent_path().string();
    Result<std::vector<MapItem>> resolved =
        ResolveMapSource(step.over_source, config_.team->frameworks.get(), base_dir);
    if (!resolved) {
      failure = "cannot read the items of map '" + step.id + "': " + resolved.error().message();
    } else {
      sourced = std::move(*resolved);
      for (const MapItem& m : sourced) items.push_back(m.text);
    }
  } else if (items.empty()) {
    Unit probe;
    probe.step = &step;
    Crossing tracking = Boundary::Track();
    Result<std::string> text = Expand(step.over, probe, &tracking);
    over_sensitivity = tracking.read_label();
    if (!text) {
      failure = "cannot resolve `over` of map '" + step.id + "': " + text.error().message();
    } else if (auto split = SplitItems(*text); !split) {
      failure = "cannot read the items of map '" + step.id + "': " + split.error().message();
    } else {
      items = std::move(*split);
    }
  }
  run.cap = std::max(1, step.concurrency);
  log_->Add("step.started", step.id, "",
            {{"kind", "map"},
             {"items", items.size()},
             {"concurrency", run.cap},
             {"agents", step.agents}});
  if (failure.empty() && items.empty()) failure = "map '" + step.id + "' has no items to run over";
  for (size_t i = 0; i < items.size(); ++i) {
    add_unit(ItemPath(step.id, static_cast<int>(i)), static_cast<int>(i), items[i],
             step.agents[i % step.agents.size()]);
    if (i < sourced.size()) {
      Enrichment& sourced_item = units_.back().Enrich();
      sourced_item.item_label = std::move(sourced[i].label);
      sourced_item.item_fields = std::move(sourced[i].fields);
    }
    units_.back().item_sensitivity = over_sensitivity;
  }
  step_runs_.push_back(std::move(run));
  if (!failure.empty()) FailStepRun(step_runs_.size() - 1, failure);
}

void Scheduler::LaunchReady() {
  // Requests already queued on an endpoint go first, then retries whose backoff has elapsed:
  // both are older work.
  PumpGovernors();
  int64_t now = config_.clock->MonotonicUs();
  while (!timers_.empty() && timers_.front().due_us <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    size_t unit = timers_.back().unit;
    timers_.pop_back();
    if (units_[unit].state == UnitState::kWaiting) SendRequest(unit);
  }
  PumpGovernors();
  if (stage_failed_) return;  // let what is in flight finish; start nothing new
  size_t slice = kFirstSendSlice;
  for (StepRun& run : step_runs_) {
    if (run.failed) continue;
    const StepKind kind = run.step->kind;
    int cap = kind == StepKind::kMap || kind == StepKind::kWitness || run.staged ? run.cap : 1;
    while (run.next < run.units.size() && run.in_flight < cap) {
      // A conversation is sequential: the agent's next brief waits for its current one.
      if (WaitsForConversation(run.units[run.next])) break;
      ++run.in_flight;
      Launch(run.units[run.next++]);
      // A wide map would otherwise hold every unit's request and events in memory before the
      // first one goes out: commit and send in slices, so memory stays bounded and the
      // first requests travel while the rest are being prepared. The slices start small and
      // double, so the server gets work within a millisecond and commits stay few.
      if (to_send_.size() >= slice || log_->size() >= kMaxDeferredEvents) {
        Commit();
        slice = std::min(2 * slice, kSendSlice);
      }
      if (stage_failed_) return;
    }
  }
}

void Scheduler::Launch(size_t index) {
  Unit& unit = units_[index];
  if (SettleFromRecord(index)) return;
  const std::string_view kind = unit.judge != JudgeRole::kNone ? "judge"
                                : unit.witness >= 0            ? "vote"
                                : unit.item_index >= 0         ? "map-item"
                                : unit.IsSynthesisPart()       ? "synthesis-part"
                                                               : StepKindName(unit.step->kind);
  const std::string* item = nullptr;
  if (unit.item_index >= 0) item = &unit.ItemLabel();
  RecordStepStarted(*log_, unit.path, unit.agent, kind, item);
  if (unit.judge == JudgeRole::kNone && unit.step->route.enabled && !BeginRoute(index)) return;
  DispatchBrief(index);
}

bool Scheduler::SettleFromRecord(size_t index) {
  if (config_.journal == nullptr) return false;
  const Unit& unit = units_[index];
  // Judges and witness votes feed decisions that are made again, so they run again (on their
  // recorded answers); a plain step's recorded outcome is final.
  if (unit.judge != JudgeRole::kNone || unit.witness >= 0) return false;
  // A unit of a conversation is a turn of it: it runs again so the history (and each
  // rollover) is rebuilt exactly.
  if (const AgentSpec* agent = config_.team->FindAgent(unit.agent); agent && agent->context) {
    return false;
  }
  const UnitRecord* past = config_.journal->Find(unit.path);
  if (past == nullptr) return false;
  if (past->completed) {
    CompleteUnit(index, *past->completed, /*record=*/false);
    return true;
  }
  if (past->failed) {
    FailUnit(index, *past->failed, /*record=*/false);
    return true;
  }
  return false;
}

void Scheduler::SendRequest(size_t index) {
  Unit& unit = units_[index];
  const AgentSpec* agent = config_.team->FindAgent(unit.agent);
  if (unit.models == nullptr || unit.models_of != agent) {
    // A router, a routed agent or an escalation target each has its own chain.
    auto chain = chains_.find(agent->model);
    if (chain == chains_.end()) {
      chain = chains_.emplace(agent->model, FallbackChain(*config_.team, agent->model)).first;
    }
    unit.models = &chain->second;
    unit.model_index = 0;
    unit.models_of = agent;
  }
  ChatRequest request;
  request.messages = RenderBrief(agent->role, unit.brief, unit.feedback);
  // An agent with a `context:` budget continues its conversation, rolling it over first if
  // the prompt would cross its threshold (then the handoff request is what goes out now).
  if (agent->context && !PrepareConversationRequest(index, &request)) return;
  request.json_output = unit.brief.output.format == OutputFormat::kJson;
  request.agent = unit.agent;
  // Only the offline model answers from the structured brief; HTTP clients send messages.
  if (Client(unit)->config().provider == Provider::kOffline) request.brief = unit.brief.ToJson();
  unit.pending = std::make_unique<ChatRequest>(std::move(request));
  AskToSend(index);
}

void Scheduler::Dispatch(size_t index) {
  Unit& unit = units_[index];
  unit.state = UnitState::kInFlight;
  ++unit.requests;
  ++in_flight_;
  ChatRequest request = std::move(*unit.pending);
  unit.pending.reset();
  // The router agent's requests have keys of their own: the task's attempts restart at 1.
  request.idempotency_key = config_.run_id + "/" + unit.path + (unit.routing ? "/route/" : "/") +
                            std::to_string(unit.requests);
  const EndpointConfig& endpoint = Client(unit)->config();
  RequestFacts facts;
  facts.attempt = unit.requests;
  facts.key = request.idempotency_key;
  facts.endpoint = endpoint.name;
  facts.model = endpoint.model;
  facts.messages = &request.messages;
  facts.contents = &message_contents_;
  if (unit.queued_at_us >= 0) {
    facts.queued_ms = (config_.clock->MonotonicUs() - unit.queued_at_us) / 1000;
    unit.queued_at_us = -1;
  }
  // Sent before an interruption but never answered: the same key goes out again.
  facts.resent = config_.journal && config_.journal->Requested(request.idempotency_key) &&
                 !config_.journal->Outcome(request.idempotency_key);
  RecordRequest(*log_, unit.path, unit.agent, facts);
  to_send_.emplace_back(index, std::move(request));
}

bool Scheduler::FlushLog() {
  // Pseudonyms first: a request that uses one is only sent once the vault can restore it.
  Status s = config_.boundary ? config_.boundary->Persist() : Status::Ok();
  if (s.ok()) s = log_->Flush();
  if (s.ok()) return true;
  // Without a record, nothing may happen: drop what was about to be sent and stop.
  store_failed_ = true;
  stage_failed_ = true;
  error_ = "the event store failed; the run stopped: " + s.ToString();
  in_flight_ -= static_cast<int>(to_send_.size());
  to_send_.clear();
  timers_.clear();
  return false;
}

std::optional<int64_t> Scheduler::FlushBeforeWaiting(bool* stop) {
  std::optional<int64_t> wait_us = NextTimerWaitUs();
  if (queue_->HasReady() || log_->empty()) return wait_us;
  // Time passes now, so what was decided is recorded even though nothing that goes out
  // needs it, and a watcher sees the run's progress: at once when nothing is in flight, and
  // otherwise within the commit window, with the answers that arrive meanwhile.
  const int64_t waited = config_.clock->MonotonicUs() - log_->pending_since_us();
  if (in_flight_ > 0 && waited < kCommitWindowUs) {
    return std::min(wait_us.value_or(kCommitWindowUs), kCommitWindowUs - waited);
  }
  // A failed store stops the run, but like Commit it waits for what is already out.
  if (!FlushLog() && in_flight_ == 0) *stop = true;
  return wait_us;
}

bool Scheduler::MustFlushBeforeSending() const {
  // Bounded, so a long in-process run still reaches the store (and its watchers) steadily.
  if (log_->size() >= kMaxDeferredEvents) return true;
  for (const auto& [index, request] : to_send_) {
    if (!Client(units_[index])->answers_in_process()) return true;
  }
  return false;
}

bool Scheduler::Commit() {
  if (MustFlushBeforeSending() && !FlushLog()) {
    return in_flight_ > 0;  // wait for what is already out, but record nothing more
  }
  std::vector<std::pair<size_t, ChatRequest>> sending;
  sending.swap(to_send_);
  for (auto& [index, request] : sending) {
    const Unit& unit = units_[index];
    if (config_.journal) {
      // Resuming, and this very request has a recorded outcome: it is not asked again (its
      // llm.request, identical to the recorded one, was not recorded twice either).
      if (const ChatResult* outcome = config_.journal->Outcome(request.idempotency_key)) {
        queue_->Push(Completion{index, unit.requests, *outcome, /*replayed=*/true});
        continue;
      }
    }
    ModelClient* client = Client(unit);
    std::shared_ptr<CompletionQueue> queue = queue_;
    int attempt = unit.requests;
    client->Submit(std::move(request), [queue, index, attempt](ChatResult result) {
      queue->Push(Completion{index, attempt, std::move(result)});
    });
  }
  return true;
}

bool Scheduler::StageSettled() const {
  if (in_flight_ > 0 || queued_ > 0 || !timers_.empty() || !to_send_.empty()) return false;
  if (stage_failed_) return true;
  for (const StepRun& run : step_runs_) {
    if (run.done < run.units.size()) return false;
  }
  return true;
}

void Scheduler::Handle(Completion c) {
  --in_flight_;
  const bool handoff = HandoffInFlight(c.unit);
  if (!handoff) ReleaseEndpoint(c.unit, c.result);  // handoffs do not pass the endpoint budget
  if (store_failed_) return;
  if (handoff) {
    HandleHandoff(c.unit, std::move(c.result));
    return;
  }
  if (c.result) {
    HandleAnswer(c.unit, *c.result, c.replayed);
  } else {
    HandleError(c.unit, c.result.error(), c.replayed);
  }
}

void Scheduler::HandleAnswer(size_t index, const ChatResponse& response, bool recorded) {
  Unit& unit = units_[index];
  // The answer as the run keeps it: the server's text, copied only when it must be repaired.
  std::string sanitized, warning;
  if (auto bad = FindInvalidUtf8(response.text)) {
    warning = "the answer was not valid UTF-8 at byte " + std::to_string(*bad) +
              "; invalid bytes were replaced with U+FFFD";
    sanitized = SanitizeUtf8(response.text);
  }
  const std::string& text = warning.empty() ? response.text : sanitized;
  if (!recorded) {
    RecordResponse(*log_, unit.path, unit.agent, unit.requests, response, text, warning);
  }
  if (unit.routing) {
    OnRouterAnswer(index, text);
    return;
  }

  Result<AcceptedOutput> accepted = CheckOutput(unit.brief.output, text);
  if (accepted) {
    StepOutput output{std::move(accepted->text), std::move(accepted->json)};
    if (DivertAccepted(index, output)) return;
    CompleteUnit(index, std::move(output));
    return;
  }
  ++unit.rejections;
  const std::string& reason = accepted.error().message();
  log_->Add("output.rejected", unit.path, unit.agent,
            {{"attempt", unit.requests}, {"reason", reason}});
  if (unit.rejections > unit.step->retries) {
    FailUnit(index, "the answer missed its expected output " + std::to_string(unit.rejections) +
                        " time(s); last reason: " + reason);
    return;
  }
  unit.feedback.push_back(reason);
  SendRequest(index);
}

void Scheduler::HandleError(size_t index, const ModelError& error, bool recorded) {
  Unit& unit = units_[index];
  const std::string& endpoint = Client(unit)->config().name;
  nlohmann::json payload = {{"attempt", unit.requests},
                            {"endpoint", endpoint},
                            {"code", std::string(StatusCodeName(error.status.code()))},
                            {"message", error.status.message()},
                            {"http_status", error.http_status},
                            {"transient", error.transient()}};
  bool retry = error.transient() && unit.transient_failures < config_.transient_retries;
  const std::string failover = FailoverReason(index, error, retry);
  if (retry && failover.empty()) {
    ++unit.transient_failures;
    if (error.retry_after_ms) ++unit.hinted_failures;
    // A recorded error's wait was already waited, before the interruption.
    int64_t wait_us = recorded ? 0 : BackoffUs(unit, error);
    payload["retry_in_ms"] = wait_us / 1000;
    if (!recorded) log_->Add("llm.error", unit.path, unit.agent, std::move(payload));
    unit.state = UnitState::kWaiting;
    timers_.push_back({config_.clock->MonotonicUs() + wait_us, index});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
    return;
  }
  if (!failover.empty()) payload["failover"] = failover;
  if (!recorded) log_->Add("llm.error", unit.path, unit.agent, std::move(payload));
  if (error.status.code() == StatusCode::kContextExceeded && RollOverAfterContextError(index)) {
    return;
  }
  if (!failover.empty()) {
    FailOver(index, failover, error.status.message());
    return;
  }
  std::string why = error.status.message();
  if (error.transient()) {
    why += " (gave up after " + std::to_string(unit.transient_failures + 1) + " attempts)";
  }
  if (unit.routing) {
    OnRouterFailed(index, why);
    return;
  }
  FailUnit(index, why);
}

int64_t Scheduler::BackoffUs(const Unit& unit, const ModelError& error) {
  if (error.retry_after_ms) {
    return std::clamp<int64_t>(*error.retry_after_ms * 1000, 0, kMaxBackoffUs);
  }
  // Full jitter: spread retries so parallel agents do not stampede together. The server said
  // when to come back after a 429 with Retry-After; only unexplained failures grow the wait.
  const int unhinted = std::clamp(unit.transient_failures - unit.hinted_failures, 1, 30);
  int64_t ceiling = std::min(kMaxBackoffUs, kBaseBackoffUs << (unhinted - 1));
  std::uniform_int_distribution<int64_t> jitter(ceiling / 2, ceiling);
  return jitter(rng_);
}

void Scheduler::CompleteUnit(size_t index, StepOutput output, bool record) {
  Unit& unit = units_[index];
  unit.state = UnitState::kDone;
  if (record) {
    // What an agent produces is as sensitive as what it read (a replayed output keeps the
    // label it was recorded with).
    output.sensitivity = unit.read_sensitivity;
    RecordUnitCompleted(*log_, unit.path, unit.agent, output, unit.requests);
  }
  EndConversationTurn(index, output);
  unit.output = std::move(output);
  unit.brief = DelegationBrief();  // the record keeps it; memory need not
  unit.feedback.clear();
  StepRun& run = step_runs_[unit.step_run];
  --run.in_flight;
  ++run.done;
  FinishStepRunIfDone(run);
}

void Scheduler::FinishStepRunIfDone(StepRun& run) {
  if (run.failed || run.done < run.units.size()) return;
  const Step& step = *run.step;
  if (step.kind == StepKind::kWitness) {
    DecideWitnessRun(static_cast<size_t>(&run - step_runs_.data()));
    return;
  }
  if (run.staged && !run.staged->parts.empty()) {
    NextSynthesisLevel(static_cast<size_t>(&run - step_runs_.data()));
    return;
  }
  if (step.kind != StepKind::kMap) {
    outputs_[step.id] = units_[run.units.back()].output;  // a staged synthesis's last level
    return;
  }
  std::vector<std::string> labels;
  std::vector<const StepOutput*> items;
  for (size_t u : run.units) {
    labels.push_back(units_[u].ItemLabel());
    items.push_back(&units_[u].output);
  }
  StepOutput combined = CombineMapOutputs(labels, items);
  // No "json": it is the array of the items' own outputs, each already in its item's
  // step.completed, and a wide map would write every answer into the store a third time.
  RecordMapCompleted(*log_, step.id, combined, items.size());
  outputs_[step.id] = std::move(combined);
  map_units_[step.id] = run.units;  // a later synthesis may need the items one by one
}

void Scheduler::FailUnit(size_t index, const std::string& why, bool record) {
  Unit& unit = units_[index];
  unit.state = UnitState::kFailed;
  ReleaseConversation(index);
  if (record) log_->Add("step.failed", unit.path, unit.agent, {{"error", why}});
  if (unit.judge == JudgeRole::kGate) {
    // A gate's judge belongs to no step run: the unit it was judging fails with it (once,
    // when several judges fail).
    if (units_[unit.judged_unit].state == UnitState::kInFlight) {
      FailUnit(unit.judged_unit, "the judge of its quality gate failed: " + why, record);
    }
    return;
  }
  StepRun& run = step_runs_[unit.step_run];
  --run.in_flight;
  if (record && !run.failed && unit.item_index >= 0) {
    log_->Add("step.failed", run.step->id, "",
              {{"error", "item " + std::to_string(unit.item_index) + " failed: " + why}});
  } else if (record && !run.failed &&
             (run.step->kind == StepKind::kWitness || unit.IsSynthesisPart())) {
    log_->Add("step.failed", run.step->id, "", {{"error", unit.path + " failed: " + why}});
  }
  run.failed = true;
  if (!stage_failed_) {
    stage_failed_ = true;
    error_ = "step '" + unit.path + "' (agent " + unit.agent + ") failed: " + why;
  }
}

void Scheduler::FailStepRun(size_t index, const std::string& why) {
  StepRun& run = step_runs_[index];
  run.failed = true;
  stage_failed_ = true;
  if (error_.empty()) error_ = why;
  log_->Add("step.failed", run.step->id, "", {{"error", why}});
}

std::optional<int64_t> Scheduler::NextTimerWaitUs() const {
  std::optional<int64_t> due = NextGovernorWakeUs();
  if (!timers_.empty()) {
    const int64_t timer = timers_.front().due_us;
    due = std::min(due.value_or(timer), timer);
  }
  if (!due) return std::nullopt;
  return std::max<int64_t>(0, *due - config_.clock->MonotonicUs());
}

}  // namespace chorus
