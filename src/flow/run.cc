#include "chorus/run.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/ids.h"
#include "core/utf8.h"
#include "flow/boundary.h"
#include "flow/event_log.h"
#include "flow/locality.h"
#include "flow/report_folder.h"
#include "flow/scheduler.h"

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
    if (auto label = options.input_labels.find(name);
        label != options.input_labels.end() && !ParseLabel(label->second)) {
      problem(InputOrigin(name, value) + ": " + ParseLabel(label->second).error().message());
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

Result<Clients> MakeClients(const Team& team, const RunOptions& options,
                            const std::shared_ptr<HttpTransport>& transport) {
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
    if (config.provider != Provider::kOffline) {
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

}  // namespace

Result<RunReport> RunTeam(const Team& team, RunOptions options) {
  if (options.store == nullptr) return Err(Status::InvalidArgument("RunTeam needs a store"));
  if (std::vector<Diagnostic> problems = CheckTeam(team); !problems.empty()) {
    std::string message;
    for (const Diagnostic& d : problems) message += (message.empty() ? "" : "\n") + d.ToString();
    return Err(Status::InvalidArgument(message));
  }
  Result<std::map<std::string, std::string>> inputs = ResolveInputs(team, options);
  if (!inputs) return Err(inputs.error());

  const Clock* clock = options.clock ? options.clock : &SystemClock();
  std::shared_ptr<HttpTransport> transport = options.transport;
  bool uses_http = false;
  for (const ModelSpec& m : team.models) {
    uses_http |= m.endpoint.provider != Provider::kOffline && !options.offline;
  }
  if (!transport && uses_http) transport = MakeHttpTransport();
  Result<Clients> clients = MakeClients(team, options, transport);
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

  RunReport report;
  report.run_id = record.run_id;
  report.team = team.name;
  ReportFolder folder(&report);
  EventLog log(record.run_id, options.store, clock, &folder, options.on_event);

  nlohmann::json input_json = nlohmann::json::object();
  for (const auto& [name, text] : *inputs) {
    auto given = options.inputs.find(name);
    input_json[name] = {{"text", text},
                        {"source", given == options.inputs.end() ? "" : given->second.source}};
    if (Label label = (*boundary)->InputLabel(name); label != Label::kPublic) {
      input_json[name]["label"] = LabelName(label);
    }
  }
  log.Add("run.started", "", "",
          {{"team", team.name},
           {"team_path", team.path},
           {"inputs", std::move(input_json)},
           {"models", clients->described},
           {"notices", clients->notices}});

  SchedulerConfig config;
  config.team = &team;
  config.run_id = record.run_id;
  config.inputs = std::move(*inputs);
  config.clients = clients->by_model;
  config.transient_retries = options.transient_retries;
  config.seed = options.seed ? options.seed : std::random_device{}();
  config.clock = clock;
  config.boundary = boundary->get();
  Scheduler scheduler(std::move(config), &log);
  RunStatus status = scheduler.Run();

  if (status == RunStatus::kCompleted) {
    // The owner's output: pseudonyms written by agents that were not cleared are restored.
    log.Add("run.completed", "", "", {{"output", (*boundary)->ForOwner(scheduler.output())}});
  } else {
    log.Add("run.failed", "", "", {{"error", scheduler.error()}});
  }
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
    report.output = (*boundary)->Redact(report.output);
    // Pseudonyms first issued here must stay restorable from the store like the others.
    if (Status saved = (*boundary)->Persist(); !saved.ok() && report.error.empty()) {
      report.error = saved.ToString();
    }
  }
  return report;
}

}  // namespace chorus
