#include "flow/scheduler.h"

#include <algorithm>
#include <functional>

#include "core/template.h"
#include "core/utf8.h"

namespace chorus {
namespace {

constexpr int64_t kMaxBackoffUs = 60'000'000;
constexpr int64_t kBaseBackoffUs = 500'000;

std::string ItemPath(const std::string& step, int index) {
  return step + "[" + std::to_string(index) + "]";
}

nlohmann::json MessagesJson(const std::vector<ChatMessage>& messages) {
  nlohmann::json out = nlohmann::json::array();
  for (const ChatMessage& m : messages) out.push_back({{"role", m.role}, {"content", m.content}});
  return out;
}

nlohmann::json UsageJson(const Usage& u, bool estimated) {
  return {{"input_tokens", u.input_tokens},
          {"output_tokens", u.output_tokens},
          {"cost_usd", u.cost_usd},
          {"estimated", estimated}};
}

}  // namespace

Scheduler::Scheduler(SchedulerConfig config, EventLog* log)
    : config_(std::move(config)), log_(log), rng_(config_.seed) {}

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
      std::vector<Completion> done;
      queue_->WaitAll(NextTimerWaitUs(), &done);
      for (Completion& c : done) Handle(std::move(c));
    }
    if (store_failed_) break;
    // The run's output is the last top-level item's output.
    if (flow[i].kind == StepKind::kParallel) {
      std::vector<std::string> labels;
      std::vector<StepOutput> parts;
      for (const Step& child : flow[i].children) {
        labels.push_back(child.id);
        if (auto it = outputs_.find(child.id); it != outputs_.end()) parts.push_back(it->second);
      }
      output_ = CombineMapOutputs(labels, parts).text;
    } else if (auto it = outputs_.find(flow[i].id); it != outputs_.end()) {
      output_ = it->second.text;
    }
  }
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
  StepRun run;
  run.step = &step;
  size_t run_index = step_runs_.size();
  auto add_unit = [&](std::string path, int item_index, std::string item, std::string agent) {
    Unit u;
    u.path = std::move(path);
    u.step = &step;
    u.step_run = run_index;
    u.item_index = item_index;
    u.item = std::move(item);
    u.agent = std::move(agent);
    run.units.push_back(units_.size());
    units_.push_back(std::move(u));
  };
  const std::string first_agent = step.agents.empty() ? std::string() : step.agents.front();
  if (step.kind != StepKind::kMap) {
    add_unit(step.id, -1, "", first_agent);
    step_runs_.push_back(std::move(run));
    return;
  }

  // A map: resolve its items now that the steps before it have finished.
  std::vector<std::string> items = step.over_items;
  Label over_sensitivity = Label::kPublic;
  std::string failure;
  if (items.empty()) {
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
    units_.back().item_sensitivity = over_sensitivity;
  }
  step_runs_.push_back(std::move(run));
  if (!failure.empty()) {
    StepRun& added = step_runs_.back();
    added.failed = true;
    stage_failed_ = true;
    if (error_.empty()) error_ = failure;
    log_->Add("step.failed", step.id, "", {{"error", failure}});
  }
}

void Scheduler::LaunchReady() {
  // Retries whose backoff has elapsed go first: they are older work.
  int64_t now = config_.clock->MonotonicUs();
  while (!timers_.empty() && timers_.front().due_us <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    size_t unit = timers_.back().unit;
    timers_.pop_back();
    if (units_[unit].state == UnitState::kWaiting) SendRequest(unit);
  }
  if (stage_failed_) return;  // let what is in flight finish; start nothing new
  for (StepRun& run : step_runs_) {
    if (run.failed) continue;
    int cap = run.step->kind == StepKind::kMap ? run.cap : 1;
    while (run.next < run.units.size() && run.in_flight < cap) {
      ++run.in_flight;
      Launch(run.units[run.next++]);
      if (stage_failed_) return;
    }
  }
}

void Scheduler::Launch(size_t index) {
  Unit& unit = units_[index];
  nlohmann::json started = {
      {"kind", unit.item_index >= 0 ? "map-item" : std::string(StepKindName(unit.step->kind))}};
  if (unit.item_index >= 0) started["item"] = unit.item;
  log_->Add("step.started", unit.path, unit.agent, std::move(started));
  Crossing crossing = config_.boundary ? config_.boundary->Begin(unit.agent) : Boundary::Track();
  Result<DelegationBrief> brief = BuildBrief(unit, &crossing);
  for (nlohmann::json& e : crossing.Events()) {
    log_->Add("boundary.crossed", unit.path, unit.agent, std::move(e));
  }
  unit.read_sensitivity = crossing.read_label();
  if (!brief) {
    FailUnit(index, "cannot build the brief: " + brief.error().message());
    return;
  }
  unit.brief = std::move(*brief);
  log_->Add("brief.dispatched", unit.path, unit.agent, unit.brief.ToJson());
  SendRequest(index);
}

void Scheduler::SendRequest(size_t index) {
  Unit& unit = units_[index];
  const AgentSpec* agent = config_.team->FindAgent(unit.agent);
  ModelClient* client = config_.clients.at(agent->model);
  unit.state = UnitState::kInFlight;
  ++unit.requests;
  ++in_flight_;

  ChatRequest request;
  request.messages = RenderBrief(agent->role, unit.brief, unit.feedback);
  request.json_output = unit.brief.output.format == OutputFormat::kJson;
  request.idempotency_key = config_.run_id + "/" + unit.path + "/" + std::to_string(unit.requests);
  request.agent = unit.agent;
  const EndpointConfig& endpoint = client->config();
  // Only the offline model answers from the structured brief; HTTP clients send messages.
  if (endpoint.provider == Provider::kOffline) request.brief = unit.brief.ToJson();

  log_->Add("llm.request", unit.path, unit.agent,
            {{"attempt", unit.requests},
             {"key", request.idempotency_key},
             {"endpoint", endpoint.name},
             {"model", endpoint.model},
             {"messages", MessagesJson(request.messages)}});
  to_send_.emplace_back(index, std::move(request));
}

bool Scheduler::Commit() {
  // Pseudonyms first: a request that uses one is only sent once the vault can restore it.
  Status s = config_.boundary ? config_.boundary->Persist() : Status::Ok();
  if (s.ok()) s = log_->Flush();
  if (!s.ok()) {
    // Without a record, nothing may happen: drop what was about to be sent and stop.
    store_failed_ = true;
    stage_failed_ = true;
    error_ = "the event store failed; the run stopped: " + s.ToString();
    in_flight_ -= static_cast<int>(to_send_.size());
    to_send_.clear();
    timers_.clear();
    return in_flight_ > 0;  // wait for what is already out, but record nothing more
  }
  std::vector<std::pair<size_t, ChatRequest>> sending;
  sending.swap(to_send_);
  for (auto& [index, request] : sending) {
    const Unit& unit = units_[index];
    ModelClient* client = config_.clients.at(config_.team->FindAgent(unit.agent)->model);
    std::shared_ptr<CompletionQueue> queue = queue_;
    int attempt = unit.requests;
    client->Submit(std::move(request), [queue, index, attempt](ChatResult result) {
      queue->Push(Completion{index, attempt, std::move(result)});
    });
  }
  return true;
}

bool Scheduler::StageSettled() const {
  if (in_flight_ > 0 || !timers_.empty() || !to_send_.empty()) return false;
  if (stage_failed_) return true;
  for (const StepRun& run : step_runs_) {
    if (run.done < run.units.size()) return false;
  }
  return true;
}

void Scheduler::Handle(Completion c) {
  --in_flight_;
  if (store_failed_) return;
  if (c.result) {
    HandleAnswer(c.unit, *c.result);
  } else {
    HandleError(c.unit, c.result.error());
  }
}

void Scheduler::HandleAnswer(size_t index, const ChatResponse& response) {
  Unit& unit = units_[index];
  std::string text = response.text;
  nlohmann::json payload = {{"attempt", unit.requests},
                            {"finish_reason", response.finish_reason},
                            {"model", response.model},
                            {"latency_ms", response.latency_ms},
                            {"usage", UsageJson(response.usage, response.usage_estimated)}};
  if (auto bad = FindInvalidUtf8(text)) {
    payload["warning"] = "the answer was not valid UTF-8 at byte " + std::to_string(*bad) +
                         "; invalid bytes were replaced with U+FFFD";
    text = SanitizeUtf8(text);
  }
  payload["text"] = text;
  log_->Add("llm.response", unit.path, unit.agent, std::move(payload));

  Result<AcceptedOutput> accepted = CheckOutput(unit.brief.output, text);
  if (accepted) {
    CompleteUnit(index, StepOutput{std::move(accepted->text), std::move(accepted->json)});
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

void Scheduler::HandleError(size_t index, const ModelError& error) {
  Unit& unit = units_[index];
  const std::string& endpoint =
      config_.clients.at(config_.team->FindAgent(unit.agent)->model)->config().name;
  nlohmann::json payload = {{"attempt", unit.requests},
                            {"endpoint", endpoint},
                            {"code", std::string(StatusCodeName(error.status.code()))},
                            {"message", error.status.message()},
                            {"http_status", error.http_status},
                            {"transient", error.transient()}};
  bool retry = error.transient() && unit.transient_failures < config_.transient_retries;
  if (retry) {
    ++unit.transient_failures;
    int64_t wait_us = BackoffUs(unit, error);
    payload["retry_in_ms"] = wait_us / 1000;
    log_->Add("llm.error", unit.path, unit.agent, std::move(payload));
    unit.state = UnitState::kWaiting;
    timers_.push_back({config_.clock->MonotonicUs() + wait_us, index});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
    return;
  }
  log_->Add("llm.error", unit.path, unit.agent, std::move(payload));
  std::string why = error.status.message();
  if (error.transient()) {
    why += " (gave up after " + std::to_string(unit.transient_failures + 1) + " attempts)";
  }
  FailUnit(index, why);
}

int64_t Scheduler::BackoffUs(const Unit& unit, const ModelError& error) {
  if (error.retry_after_ms) {
    return std::clamp<int64_t>(*error.retry_after_ms * 1000, 0, kMaxBackoffUs);
  }
  // Full jitter: spread retries so parallel agents do not stampede together.
  int64_t ceiling = std::min(kMaxBackoffUs, kBaseBackoffUs << (unit.transient_failures - 1));
  std::uniform_int_distribution<int64_t> jitter(ceiling / 2, ceiling);
  return jitter(rng_);
}

void Scheduler::CompleteUnit(size_t index, StepOutput output) {
  Unit& unit = units_[index];
  unit.state = UnitState::kDone;
  output.sensitivity = unit.read_sensitivity;
  nlohmann::json payload = {{"output", output.text}, {"attempts", unit.requests}};
  if (!output.json.is_null()) payload["json"] = output.json;
  if (output.sensitivity != Label::kPublic) payload["label"] = LabelName(output.sensitivity);
  log_->Add("step.completed", unit.path, unit.agent, std::move(payload));
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
  if (step.kind != StepKind::kMap) {
    outputs_[step.id] = units_[run.units.front()].output;
    return;
  }
  std::vector<std::string> labels;
  std::vector<StepOutput> items;
  for (size_t u : run.units) {
    labels.push_back(units_[u].item);
    items.push_back(units_[u].output);
  }
  StepOutput combined = CombineMapOutputs(labels, items);
  nlohmann::json payload = {
      {"output", combined.text}, {"json", combined.json}, {"items", items.size()}};
  if (combined.sensitivity != Label::kPublic) payload["label"] = LabelName(combined.sensitivity);
  log_->Add("step.completed", step.id, "", std::move(payload));
  outputs_[step.id] = std::move(combined);
}

void Scheduler::FailUnit(size_t index, const std::string& why) {
  Unit& unit = units_[index];
  unit.state = UnitState::kFailed;
  log_->Add("step.failed", unit.path, unit.agent, {{"error", why}});
  StepRun& run = step_runs_[unit.step_run];
  --run.in_flight;
  if (!run.failed && unit.item_index >= 0) {
    log_->Add("step.failed", run.step->id, "",
              {{"error", "item " + std::to_string(unit.item_index) + " failed: " + why}});
  }
  run.failed = true;
  if (!stage_failed_) {
    stage_failed_ = true;
    error_ = "step '" + unit.path + "' (agent " + unit.agent + ") failed: " + why;
  }
}

std::optional<int64_t> Scheduler::NextTimerWaitUs() const {
  if (timers_.empty()) return std::nullopt;
  return std::max<int64_t>(0, timers_.front().due_us - config_.clock->MonotonicUs());
}

Result<std::string> Scheduler::Expand(const std::string& text, const Unit& unit,
                                      Crossing* crossing) const {
  return ExpandTemplate(text, [&](const TemplateRef& ref) -> Result<std::string> {
    if (ref.root == "inputs") {
      auto it = config_.inputs.find(ref.field);
      if (it == config_.inputs.end()) {
        return Err(Status::NotFound("${inputs." + ref.field + "}: no such input"));
      }
      Label label = config_.boundary ? config_.boundary->InputLabel(ref.field) : Label::kPublic;
      return crossing->Admit("inputs." + ref.field, label, it->second);
    }
    if (ref.root == "item") {
      if (unit.item_index < 0) return Err(Status::InvalidArgument("${item} outside a map"));
      return crossing->Admit("item", unit.item_sensitivity, unit.item);
    }
    if (ref.root == "item_index") {
      if (unit.item_index < 0) return Err(Status::InvalidArgument("${item_index} outside a map"));
      return std::to_string(unit.item_index);
    }
    auto it = outputs_.find(ref.root);
    if (it == outputs_.end()) {
      return Err(Status::NotFound("${" + ref.root + "}: step '" + ref.root +
                                  "' has not produced an output"));
    }
    Result<std::string> value = it->second.text;
    if (!ref.field.empty()) value = SelectField(ref.root, it->second, ref.field);
    if (!value) return value;
    return crossing->Admit(ref.root, it->second.sensitivity, std::move(*value));
  });
}

Result<DelegationBrief> Scheduler::BuildBrief(const Unit& unit, Crossing* crossing) const {
  const BriefTemplate& t = unit.step->brief;
  DelegationBrief brief;
  brief.id = unit.path;
  auto expand_into = [&](const std::string& in, std::string* out) -> Status {
    Result<std::string> r = Expand(in, unit, crossing);
    if (!r) return r.error();
    *out = std::move(*r);
    return Status::Ok();
  };
  if (Status s = expand_into(t.objective, &brief.objective); !s.ok()) return Err(s);
  if (Status s = expand_into(t.acceptance, &brief.acceptance); !s.ok()) return Err(s);
  for (const std::string& c : t.context) {
    std::string& out = brief.context.emplace_back();
    if (Status s = expand_into(c, &out); !s.ok()) return Err(s);
  }
  for (const std::string& c : t.constraints) {
    std::string& out = brief.constraints.emplace_back();
    if (Status s = expand_into(c, &out); !s.ok()) return Err(s);
  }
  if (unit.step->kind == StepKind::kMap && t.context.empty()) {
    Result<std::string> item = crossing->Admit("item", unit.item_sensitivity, unit.item);
    if (!item) return Err(item.error());
    brief.context.push_back("Item " + std::to_string(unit.item_index) + ": " + *item);
  }
  if (unit.step->kind == StepKind::kSynthesize) {
    for (const std::string& from : unit.step->from) {
      auto it = outputs_.find(from);
      if (it == outputs_.end()) {
        return Err(Status::NotFound("synthesis source '" + from + "' has no output"));
      }
      Result<std::string> text = crossing->Admit(from, it->second.sensitivity, it->second.text);
      if (!text) return Err(text.error());
      brief.context.push_back("Output of step '" + from + "':\n\n" + *text);
    }
  }
  brief.output = t.output;
  if (Status s = ValidateBrief(brief); !s.ok()) return Err(s);
  return brief;
}

}  // namespace chorus
