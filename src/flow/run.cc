#include "chorus/run.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/ids.h"
#include "core/utf8.h"
#include "flow/event_log.h"
#include "flow/journal.h"
#include "flow/locality.h"
#include "flow/report_folder.h"
#include "flow/scheduler.h"
#include "flow/step_events.h"

namespace chorus {
namespace {

std::string DescribeSize(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

std::string InputOrigin(const std::string& name, const InputValue& v) {
  return "input '" + name + "'" + (v.source.empty() ? "" : " (from " + v.source + ")");
}

// Checks the given inputs against the team's declarations and fills in defaults.
Result<std::map<std::string, std::string>> ResolveInputs(const Team& team,
                                                         const RunOptions& options) {
  std::map<std::string, std::string> resolved;
  std::string problems;
  auto problem = [&](const std::string& p) { problems += (problems.empty() ? "" : "\n") + p; };
  for (const auto& [name, value] : options.inputs) {
    if (!team.FindInput(name)) {
      std::string declared;
      for (const InputSpec& in : team.inputs) declared += (declared.empty() ? "" : ", ") + in.name;
      problem("unknown input '" + name + "'; team '" + team.name + "' declares " +
              (declared.empty() ? std::string("no inputs") : declared));
      continue;
    }
    if (value.text.size() > options.max_input_bytes) {
      problem(InputOrigin(name, value) + " is " + DescribeSize(value.text.size()) +
              "; the limit is " + DescribeSize(options.max_input_bytes) +
              " per input (raise it with --max-input-mb)");
      continue;
    }
    if (auto bad = FindInvalidUtf8(value.text)) {
      problem(InputOrigin(name, value) + " is not valid UTF-8: invalid byte 0x" +
              [&] {
                char hex[3];
                std::snprintf(hex, sizeof hex, "%02X",
                              static_cast<unsigned char>(value.text[*bad]));
                return std::string(hex);
              }() +
              " at byte " + std::to_string(*bad) + " (" + DescribeOffset(value.text, *bad) + ")");
      continue;
    }
    resolved[name] = value.text;
  }
  for (const InputSpec& in : team.inputs) {
    if (resolved.count(in.name) || options.inputs.count(in.name)) continue;
    if (in.default_value) {
      resolved[in.name] = *in.default_value;
    } else if (in.required) {
      problem("missing input '" + in.name + "': pass --input " + in.name +
              (in.file ? "=@FILE" : "=\"...\""));
    } else {
      resolved[in.name] = "";
    }
  }
  if (!problems.empty()) return Err(Status::InvalidArgument(problems));
  return resolved;
}

struct Clients {
  std::map<std::string, std::unique_ptr<ModelClient>> owned;
  std::map<std::string, ModelClient*> by_model;
  std::vector<std::string> notices;
  nlohmann::json described = nlohmann::json::object();
};

// `recorded`: the run.started "models" of a run being resumed, so that it continues on the
// endpoints it started with (same base URLs, same offline substitutions); null for a new run.
Result<Clients> MakeClients(const Team& team, const RunOptions& options,
                            const std::shared_ptr<HttpTransport>& transport,
                            const nlohmann::json* recorded) {
  Clients clients;
  std::vector<ModelSpec> models = team.models;
  // `offline` exists in every team without being declared (FindModel knows it; the list not).
  bool declared = std::any_of(models.begin(), models.end(),
                              [](const ModelSpec& m) { return m.endpoint.name == "offline"; });
  if (!declared) models.push_back(OfflineModelSpec());
  for (const ModelSpec& spec : models) {
    if (auto given = options.clients.find(spec.endpoint.name); given != options.clients.end()) {
      const EndpointConfig& c = given->second->config();
      clients.described[spec.endpoint.name] = {
          {"provider", "embedded"}, {"model", c.model}, {"offline_substitute", false}};
      clients.by_model[spec.endpoint.name] = given->second;
      continue;
    }
    EndpointConfig config = spec.endpoint;
    bool substitute = false;
    const nlohmann::json* was = nullptr;
    if (recorded && recorded->contains(config.name)) was = &(*recorded)[config.name];
    if (was && config.provider != Provider::kOffline) {
      config.base_url = was->value("base_url", config.base_url);
      substitute = was->value("offline_substitute", false);
      if (substitute) {
        clients.notices.push_back("model '" + config.name +
                                  "' runs on offline, as when the run started");
      }
    } else if (config.provider != Provider::kOffline) {
      if (options.offline) {
        substitute = true;
        clients.notices.push_back("model '" + config.name + "' runs on offline (--offline)");
      } else if (!config.api_key_env.empty() &&
                 std::getenv(config.api_key_env.c_str()) == nullptr &&
                 options.fallback_to_offline) {
        substitute = true;
        clients.notices.push_back("model '" + config.name +
                                  "' runs on offline: " + config.api_key_env +
                                  " is not set (set it to use " + config.model + ")");
      }
    }
    if (substitute) {
      EndpointConfig offline = OfflineModelSpec().endpoint;
      offline.name = config.name;
      config = offline;
    }
    Result<std::unique_ptr<ModelClient>> client = MakeModelClient(config, transport);
    if (!client) {
      return Err(Status(client.error().code(),
                        "model '" + config.name + "': " + client.error().message()));
    }
    clients.described[config.name] = {
        {"provider", config.provider == Provider::kOpenAI      ? "openai"
                     : config.provider == Provider::kAnthropic ? "anthropic"
                                                               : "offline"},
        {"model", config.model},
        {"base_url", config.base_url},
        {"offline_substitute", substitute}};
    clients.by_model[config.name] = client->get();
    clients.owned[config.name] = std::move(*client);
  }
  return clients;
}

// What a new and a resumed run share once the run record exists: the scheduler, the run's
// last event and its totals. `report` already holds what was recorded before a resume, so it
// covers the whole run; `opening` is run.started or run.resumed.
RunReport Execute(const Team& team, const RunOptions& options, const Clock* clock, RunRecord record,
                  std::map<std::string, std::string> inputs, const Clients& clients,
                  RunReport report, RunJournal* journal, Boundary& boundary,
                  const std::string& opening, nlohmann::json opening_payload) {
  report.run_id = record.run_id;
  report.team = team.name;
  // Every top-level step gets a row: room for them now, rather than doubling (and copying
  // and faulting in) the list as they start, which a long chain would pay at every step.
  report.steps.reserve(report.steps.size() + team.flow.size());
  ReportFolder folder(&report);  // picks up the steps already in the report
  EventLog log(record.run_id, options.store, clock, &folder, options.on_event);
  log.Add(opening, "", "", std::move(opening_payload));
  // Announced once recorded, so whoever learns the id can already resume the run by it (a
  // failed commit here fails the scheduler's first one too).
  if (log.Flush().ok() && options.on_start) {
    options.on_start(record.run_id, opening == "run.resumed");
  }
  log.SkipRecorded(journal);

  SchedulerConfig config;
  config.team = &team;
  config.run_id = record.run_id;
  config.inputs = std::move(inputs);
  config.clients = clients.by_model;
  config.transient_retries = options.transient_retries;
  config.seed = options.seed ? options.seed : std::random_device{}();
  config.clock = clock;
  config.journal = journal;
  config.boundary = &boundary;
  Scheduler scheduler(std::move(config), &log);
  RunStatus status = scheduler.Run();

  // The owner's output: pseudonyms written by agents that were not cleared are restored.
  const bool completed = status == RunStatus::kCompleted;
  RecordRunEnded(log, completed,
                 completed ? boundary.ForOwner(scheduler.output()) : scheduler.error());
  Status flushed = log.Flush();

  record.status = flushed.ok() ? status : RunStatus::kFailed;
  record.finished_ms = clock->NowMs();
  record.input_tokens = report.usage.input_tokens;
  record.output_tokens = report.usage.output_tokens;
  record.cost_usd = report.usage.cost_usd;
  Status updated = options.store->UpdateRun(record);
  report.status = record.status;
  report.finished_ms = record.finished_ms;
  if (report.status == RunStatus::kFailed && report.error.empty()) {
    report.error = scheduler.error().empty() ? flushed.ToString() : scheduler.error();
  }
  if (!updated.ok() && report.error.empty()) report.error = updated.ToString();
  if (options.redacted_output) {
    report.output = boundary.Redact(report.output);
    // Pseudonyms first issued here must stay restorable from the store like the others.
    if (Status saved = boundary.Persist(); !saved.ok() && report.error.empty()) {
      report.error = saved.ToString();
    }
  }
  return report;
}

Status CheckWholeTeam(const Team& team) {
  std::vector<Diagnostic> problems = CheckTeam(team);
  if (problems.empty()) return Status::Ok();
  std::string message;
  for (const Diagnostic& d : problems) message += (message.empty() ? "" : "\n") + d.ToString();
  return Status::InvalidArgument(message);
}

}  // namespace

std::shared_ptr<HttpTransport> TransportForRun(const Team& team, const RunOptions& options) {
  if (options.transport) return options.transport;
  for (const ModelSpec& m : team.models) {
    if (m.endpoint.provider == Provider::kOffline || options.offline) continue;
    if (!options.clients.count(m.endpoint.name)) return MakeHttpTransport();
  }
  return nullptr;
}

Result<RunReport> RunTeam(const Team& team, RunOptions options) {
  if (options.store == nullptr) return Err(Status::InvalidArgument("RunTeam needs a store"));
  if (Status s = CheckWholeTeam(team); !s.ok()) return Err(s);
  Result<std::map<std::string, std::string>> inputs = ResolveInputs(team, options);
  if (!inputs) return Err(inputs.error());

  const Clock* clock = options.clock ? options.clock : &SystemClock();
  Result<Clients> clients = MakeClients(team, options, TransportForRun(team, options), nullptr);
  if (!clients) return Err(clients.error());
  if (options.on_notice) {
    for (const std::string& n : clients->notices) options.on_notice(n);
  }

  RunRecord record;
  record.run_id = options.run_id.empty() ? NewRunId(clock->NowMs()) : options.run_id;
  record.team = team.name;
  record.team_path = team.path;
  record.status = RunStatus::kRunning;
  record.started_ms = clock->NowMs();
  record.pid = getpid();
  std::map<std::string, Label> input_labels;
  for (const InputSpec& in : team.inputs) {
    Label label = InputLabel(in);
    if (auto given = options.input_labels.find(in.name); given != options.input_labels.end()) {
      label = std::max(label, *ParseLabel(given->second));
    }
    input_labels[in.name] = label;
  }
  Result<std::unique_ptr<Boundary>> boundary =
      Boundary::Make(team, std::move(input_labels), *inputs, options.store, record.run_id);
  if (!boundary) return Err(boundary.error());
  if (Status s = options.store->CreateRun(record); !s.ok()) return Err(s);

  nlohmann::json input_json = nlohmann::json::object();
  for (const auto& [name, text] : *inputs) {
    auto given = options.inputs.find(name);
    input_json[name] = {{"text", text},
                        {"source", given == options.inputs.end() ? "" : given->second.source}};
    if (Label label = (*boundary)->InputLabel(name); label != Label::kPublic) {
      input_json[name]["label"] = LabelName(label);
    }
  }
  nlohmann::json started = {{"team", team.name},
                            {"team_path", team.path},
                            {"team_hash", team.source_hash},
                            {"inputs", std::move(input_json)},
                            {"models", clients->described},
                            {"options", {{"transient_retries", options.transient_retries}}},
                            {"notices", clients->notices}};
  return Execute(team, options, clock, std::move(record), std::move(*inputs), *clients, RunReport(),
                 nullptr, **boundary, "run.started", std::move(started));
}

Result<RunReport> ResumeRun(const Team& team, RunOptions options) {
  if (options.store == nullptr) return Err(Status::InvalidArgument("ResumeRun needs a store"));
  if (options.run_id.empty()) return Err(Status::InvalidArgument("ResumeRun needs a run id"));
  Result<RunRecord> found = options.store->FindRun(options.run_id);
  if (!found) return Err(found.error());
  RunRecord record = std::move(*found);
  const std::string& id = record.run_id;
  RunStatus status = EffectiveRunStatus(record);
  if (status == RunStatus::kRunning && record.pid != getpid()) {
    return Err(Status::FailedPrecondition("run " + id + " is still running (process " +
                                          std::to_string(record.pid) +
                                          "); only an interrupted run can be resumed"));
  }
  if (status == RunStatus::kCompleted || status == RunStatus::kFailed) {
    return Err(Status::FailedPrecondition("run " + id + " has " +
                                          std::string(RunStatusName(status)) +
                                          "; only an interrupted run can be resumed"));
  }
  if (record.team != team.name) {
    return Err(Status::FailedPrecondition("run " + id + " is a run of team '" + record.team +
                                          "', not of '" + team.name + "'"));
  }
  if (Status s = CheckWholeTeam(team); !s.ok()) return Err(s);

  Result<std::vector<Event>> past = options.store->LoadEvents(id);
  if (!past) return Err(past.error());
  // One pass over the record builds both the journal and the report so far.
  RunReport report;
  ReportFolder folder(&report);
  RunJournal journal =
      RunJournal::FromEvents(std::move(*past), [&](const Event& e, const nlohmann::json& p) {
        folder.Apply(e.kind, e.step, e.agent, e.ts_ms, p);
      });
  const nlohmann::json& started = journal.started();
  if (!started.is_object()) {
    return Err(Status::DataLoss("run " + id + " has no readable run.started event"));
  }
  std::string hash = started.value("team_hash", "");
  if (!hash.empty() && hash != team.source_hash) {
    return Err(Status::FailedPrecondition(
        "the team file " + (team.path.empty() ? team.name : team.path) + " changed since run " +
        id + " started; resume needs the team it started with"));
  }

  // The inputs are the recorded ones: a resumed run must see exactly what its steps saw.
  std::map<std::string, std::string> inputs;
  std::map<std::string, Label> input_labels;
  const nlohmann::json recorded_inputs = started.value("inputs", nlohmann::json::object());
  for (const auto& [name, value] : recorded_inputs.items()) {
    inputs[name] = value.value("text", "");
    input_labels[name] = ParseLabel(value.value("label", "public")).value_or(Label::kPublic);
  }
  // The vault comes back from the store, so the run keeps its pseudonyms (<PERSON_1> stays
  // the same person before and after the interruption).
  Result<std::unique_ptr<Boundary>> boundary =
      Boundary::Make(team, std::move(input_labels), inputs, options.store, record.run_id);
  if (!boundary) return Err(boundary.error());
  options.transient_retries = started.value("options", nlohmann::json::object())
                                  .value("transient_retries", options.transient_retries);
  const Clock* clock = options.clock ? options.clock : &SystemClock();
  nlohmann::json models = started.value("models", nlohmann::json::object());
  Result<Clients> clients = MakeClients(team, options, TransportForRun(team, options), &models);
  if (!clients) return Err(clients.error());
  if (options.on_notice) {
    for (const std::string& n : clients->notices) options.on_notice(n);
  }

  int64_t previous_pid = record.pid;
  record.status = RunStatus::kRunning;
  record.pid = getpid();
  record.finished_ms = 0;
  if (Status s = options.store->UpdateRun(record); !s.ok()) return Err(s);
  nlohmann::json resumed = {{"pid", record.pid},
                            {"previous_pid", previous_pid},
                            {"recorded_events", journal.event_count()},
                            {"recorded_answers", journal.answered_keys().size()}};
  return Execute(team, options, clock, std::move(record), std::move(inputs), *clients,
                 std::move(report), &journal, **boundary, "run.resumed", std::move(resumed));
}

}  // namespace chorus
