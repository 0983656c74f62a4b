#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include "chorus/run.h"
#include "chorus/team.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/run_heap.h"

namespace chorus::cli {
namespace {

Result<InputValue> ReadInput(const std::string& spec_value) {
  InputValue value;
  if (spec_value.empty() || spec_value[0] != '@') {
    value.text = spec_value;
    return value;
  }
  std::string path = spec_value.substr(1);
  value.source = path == "-" ? "standard input" : path;
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Err(Status::NotFound("cannot read input file '" + path + "'"));
    buffer << in.rdbuf();
    if (in.bad()) return Err(Status::DataLoss("error while reading input file '" + path + "'"));
  }
  value.text = std::move(buffer).str();
  return value;
}

// "notes=@f.md:confidential": a trailing ":public", ":internal" or ":confidential" labels the
// input. Only these three suffixes count, so "@C:/x.md" or "time=10:30" keep their colons; a
// file whose name really ends in one is still read when it exists and the shorter name does
// not.
std::pair<std::string, std::string> SplitLabel(const std::string& value) {
  for (const char* label : {"public", "internal", "confidential"}) {
    const std::string suffix = std::string(":") + label;
    if (value.size() <= suffix.size() ||
        value.compare(value.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    std::string shorter = value.substr(0, value.size() - suffix.size());
    if (value[0] == '@' && shorter != "@-") {
      std::error_code ec;
      if (!std::filesystem::exists(shorter.substr(1), ec) &&
          std::filesystem::exists(value.substr(1), ec)) {
        return {value, ""};
      }
    }
    return {std::move(shorter), label};
  }
  return {value, ""};
}

Result<std::map<std::string, InputValue>> ParseInputs(const std::vector<std::string>& specs,
                                                      std::map<std::string, std::string>* labels) {
  std::map<std::string, InputValue> inputs;
  for (const std::string& spec : specs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Err(Status::InvalidArgument("--input '" + spec +
                                         "': expected name=text, name=@file or name=@-"));
    }
    std::string name = spec.substr(0, eq);
    if (inputs.count(name)) {
      return Err(Status::InvalidArgument("--input '" + name + "' is given twice"));
    }
    auto [text, label] = SplitLabel(spec.substr(eq + 1));
    Result<InputValue> value = ReadInput(text);
    if (!value) return Err(value.error());
    if (!label.empty()) (*labels)[name] = std::move(label);
    inputs[name] = std::move(*value);
  }
  return inputs;
}

Status ApplyBaseUrls(const std::vector<std::string>& overrides, Team* team) {
  for (const std::string& o : overrides) {
    size_t eq = o.find('=');
    bool scoped = eq != std::string::npos && o.find("://") > eq;
    std::string model = scoped ? o.substr(0, eq) : "";
    std::string url = scoped ? o.substr(eq + 1) : o;
    bool matched = false;
    for (ModelSpec& m : team->models) {
      if (m.endpoint.provider == Provider::kOffline) continue;
      if (!model.empty() && m.endpoint.name != model) continue;
      m.endpoint.base_url = url;
      matched = true;
    }
    if (!matched && !model.empty()) {
      return Status::InvalidArgument("--base-url " + o + ": the team has no HTTP model '" + model +
                                     "'");
    }
  }
  return Status::Ok();
}

void PrintSummary(const RunReport& r) {
  int64_t took = r.finished_ms > r.started_ms ? r.finished_ms - r.started_ms : 0;
  std::printf("── %s · run %s · %s in %s ──\n\n", r.team.c_str(), r.run_id.c_str(),
              std::string(RunStatusName(r.status)).c_str(), FormatDuration(took).c_str());
  if (r.status == RunStatus::kCompleted) {
    std::printf("%s\n\n", r.output.c_str());
  } else {
    std::printf("error: %s\n\n", r.error.c_str());
  }
  std::printf("usage: %lld input + %lld output tokens, %s\n",
              static_cast<long long>(r.usage.input_tokens),
              static_cast<long long>(r.usage.output_tokens), FormatCost(r.usage.cost_usd).c_str());
  for (const auto& [agent, u] : r.usage_by_agent) {
    std::printf("  %-16s %8lld in %8lld out  %s\n", agent.c_str(),
                static_cast<long long>(u.input_tokens), static_cast<long long>(u.output_tokens),
                FormatCost(u.cost_usd).c_str());
  }
}

// What is left once the report is out: closing the idle connections of a wide map (about
// 10 µs each) and the store's closing checkpoint. Neither waits for the other, so they run at
// once (10,000 agents: wall × 0.96 in paired runs).
void CloseTogether(std::shared_ptr<HttpTransport> transport, std::unique_ptr<Store> store) {
  std::thread closing([transport = std::move(transport)]() mutable { transport.reset(); });
  store.reset();
  closing.join();
}

// Runs with live progress on stderr, then prints the report.
int Report(const RunArgs& args, const std::string& store_path, RunOptions options,
           const std::function<Result<RunReport>(RunOptions)>& execute) {
  const char* term = std::getenv("TERM");
  bool live = isatty(fileno(stderr)) && !(term && std::string(term) == "dumb");
  ProgressPrinter progress(stderr, args.verbose, live);
  if (args.quiet) {
    // The run id is always announced, even when progress is not.
    options.on_start = [](const std::string& run_id, bool resumed) {
      std::fprintf(stderr, "chorus: run %s %s\n", run_id.c_str(), resumed ? "resumed" : "started");
    };
  } else {
    options.on_event = [&](const Event& e, const nlohmann::json& payload) {
      progress.OnEvent(e, payload);
    };
  }
  Result<RunReport> report = execute(std::move(options));
  if (!report) {
    std::fprintf(stderr, "chorus: %s\n", report.error().message().c_str());
    return kExitUsage;
  }
  if (args.json) {
    std::string out = ReportToJsonText(*report);
    std::printf("%s\n", out.c_str());
  } else {
    PrintSummary(*report);
  }
  if (!args.quiet) {
    std::fprintf(stderr, "chorus: run %s %s; details: chorus show %s --store %s\n",
                 report->run_id.c_str(), std::string(RunStatusName(report->status)).c_str(),
                 report->run_id.c_str(), store_path.c_str());
  }
  return report->status == RunStatus::kCompleted ? kExitOk : kExitRunFailed;
}

// Runs (or resumes) `team` with live progress on stderr, prints the report, then closes the
// store and the run's HTTP transport together: what `run` and `resume` share. The transport is
// owned here rather than by the run, so that CloseTogether can close it beside the store.
int Drive(const RunArgs& args, const Team& team, std::unique_ptr<Store> store,
          const std::string& store_path, RunOptions options,
          const std::function<Result<RunReport>(RunOptions)>& execute) {
  options.store = store.get();
  std::shared_ptr<HttpTransport> transport = TransportForRun(team, options);
  options.transport = transport;
  const int exit_code = Report(args, store_path, std::move(options), execute);
  CloseTogether(std::move(transport), std::move(store));
  return exit_code;
}

}  // namespace

int RunCommand(const RunArgs& args) {
  PrepareRunHeap();
  Result<Team> team = LoadTeamFile(args.team_path);
  if (!team) {
    std::fprintf(stderr, "%s\n", team.error().message().c_str());
    return kExitUsage;
  }
  if (Status s = ApplyBaseUrls(args.base_urls, &*team); !s.ok()) {
    std::fprintf(stderr, "chorus: %s\n", s.message().c_str());
    return kExitUsage;
  }
  std::map<std::string, std::string> input_labels;
  Result<std::map<std::string, InputValue>> inputs = ParseInputs(args.inputs, &input_labels);
  if (!inputs) {
    std::fprintf(stderr, "chorus: %s\n", inputs.error().message().c_str());
    return kExitUsage;
  }
  std::string store_path = args.store.empty() ? DefaultStorePath(team->path) : args.store;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(store_path);
  if (!store) {
    std::fprintf(stderr, "chorus: cannot open the store: %s\n", store.error().message().c_str());
    return kExitUsage;
  }

  RunOptions options;
  options.inputs = std::move(*inputs);
  options.input_labels = std::move(input_labels);
  options.offline = args.offline;
  options.fallback_to_offline = !args.no_offline_fallback;
  options.max_input_bytes = static_cast<size_t>(args.max_input_mb * 1024 * 1024);
  options.seed = args.seed;
  options.transient_retries = args.transient_retries;
  options.redacted_output = args.redacted;
  return Drive(args, *team, std::move(*store), store_path, std::move(options),
               [&](RunOptions o) { return RunTeam(*team, std::move(o)); });
}

int ResumeCommand(const RunArgs& args, const std::string& run_id) {
  PrepareRunHeap();
  std::string store_path = args.store.empty() ? DefaultStorePath("") : args.store;
  Result<std::unique_ptr<Store>> store = OpenStoreForReading(store_path);
  if (!store) {
    std::fprintf(stderr, "chorus: %s\n", store.error().message().c_str());
    return kExitUsage;
  }
  Result<RunRecord> run = (*store)->FindRun(run_id);
  if (!run) {
    std::fprintf(stderr, "chorus: %s\n", run.error().message().c_str());
    return kExitUsage;
  }
  if (run->team_path.empty()) {
    std::fprintf(stderr,
                 "chorus: run %s ran a team built in code; resume it from that program "
                 "(chorus::ResumeRun)\n",
                 run->run_id.c_str());
    return kExitUsage;
  }
  Result<Team> team = LoadTeamFile(run->team_path);
  if (!team) {
    std::fprintf(stderr, "chorus: cannot load the team of run %s: %s\n", run->run_id.c_str(),
                 team.error().message().c_str());
    return kExitUsage;
  }
  RunOptions options;
  options.run_id = run->run_id;
  options.seed = args.seed;
  return Drive(args, *team, std::move(*store), store_path, std::move(options),
               [&](RunOptions o) { return ResumeRun(*team, std::move(o)); });
}

int LintCommand(const std::string& team_path, bool json) {
  Result<Team> team = LoadTeamFile(team_path);
  // A team that loads has no errors; what LintTeam adds are warnings, which do not fail lint.
  std::vector<std::string> warnings;
  if (team) {
    for (const Diagnostic& d : LintTeam(*team)) {
      if (d.severity == Severity::kWarning) warnings.push_back(d.ToString());
    }
  }
  if (json) {
    nlohmann::json out = {{"file", team_path}, {"ok", bool(team)}};
    nlohmann::json diagnostics = nlohmann::json::array();
    if (!team) {
      std::istringstream lines(team.error().message());
      for (std::string line; std::getline(lines, line);) diagnostics.push_back(line);
    }
    for (const std::string& w : warnings) diagnostics.push_back(w);
    out["diagnostics"] = diagnostics;
    std::printf("%s\n", out.dump().c_str());
    return team ? kExitOk : kExitUsage;
  }
  if (!team) {
    std::fprintf(stderr, "%s\n", team.error().message().c_str());
    return kExitUsage;
  }
  for (const std::string& w : warnings) std::fprintf(stderr, "%s\n", w.c_str());
  size_t steps = 0;
  for (const Step& s : team->flow) steps += s.kind == StepKind::kParallel ? s.children.size() : 1;
  std::printf("%s: ok — team '%s': %zu agents, %zu models, %zu steps\n", team_path.c_str(),
              team->name.c_str(), team->agents.size(), team->models.size(), steps);
  return kExitOk;
}

}  // namespace chorus::cli
