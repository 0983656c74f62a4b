// chorus: the command line. Parses arguments and hands over to the subcommands.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/frameworks_command.h"
#include "cli/redact_command.h"

int main(int argc, char** argv) {
  using namespace chorus::cli;
  CLI::App app{"chorus — run teams of AI agents as an engineered distributed system"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "chorus 0.1.0");

  RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a team file");
  run_cmd->add_option("team", run.team_path, "Team file (YAML)")->required();
  run_cmd->add_option("-i,--input", run.inputs,
                      "Input: name=text, name=@file, name=@- (stdin); a trailing :public, "
                      ":internal or :confidential labels it");
  run_cmd->add_option("--store", run.store,
                      "SQLite store (default: .chorus/chorus.db beside the team file)");
  run_cmd->add_option("--base-url", run.base_urls,
                      "Override base_url: URL for every HTTP model, or model=URL");
  run_cmd->add_flag("--json", run.json, "Print one JSON object with the result at the end");
  run_cmd->add_flag("--offline", run.offline, "Run every model on the built-in offline model");
  run_cmd->add_flag("--no-offline-fallback", run.no_offline_fallback,
                    "Fail instead of running on offline when a model's API key is not set");
  run_cmd->add_flag("-q,--quiet", run.quiet, "No progress on standard error");
  run_cmd->add_flag("-v,--verbose", run.verbose, "A progress line for every map item");
  run_cmd->add_option("--max-input-mb", run.max_input_mb, "Largest accepted input, in MiB")
      ->check(CLI::PositiveNumber);
  run_cmd
      ->add_option("--transient-retries", run.transient_retries,
                   "Retries of timeouts, 429 and 5xx per request (default 3)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--seed", run.seed, "Seed for retry jitter (reproducible runs)");
  run_cmd->add_flag("--redacted", run.redacted,
                    "Print the output with pseudonyms (<PERSON_1>) instead of restored values");

  RunArgs resume;
  std::string resume_run;
  CLI::App* resume_cmd =
      app.add_subcommand("resume", "Continue an interrupted run from what its store recorded");
  resume_cmd->add_option("run", resume_run, "Run id (or a unique prefix)")->required();
  resume_cmd->add_option("--store", resume.store, "SQLite store (default: ./.chorus/chorus.db)");
  resume_cmd->add_flag("--json", resume.json, "Print one JSON object with the result at the end");
  resume_cmd->add_flag("-q,--quiet", resume.quiet, "No progress on standard error");
  resume_cmd->add_flag("-v,--verbose", resume.verbose, "A progress line for every map item");
  resume_cmd->add_option("--seed", resume.seed, "Seed for retry jitter");

  std::string lint_path;
  bool lint_json = false;
  CLI::App* lint_cmd = app.add_subcommand("lint", "Check a team file without running it");
  lint_cmd->add_option("team", lint_path, "Team file (YAML)")->required();
  lint_cmd->add_flag("--json", lint_json, "Print diagnostics as JSON");

  InspectArgs runs;
  CLI::App* runs_cmd = app.add_subcommand("runs", "List recorded runs, newest first");
  runs_cmd->add_option("--store", runs.store, "SQLite store (default: ./.chorus/chorus.db)");
  runs_cmd->add_option("-n,--limit", runs.limit, "How many runs to list");
  runs_cmd->add_flag("--json", runs.json, "Print a JSON array");

  InspectArgs show;
  CLI::App* show_cmd = app.add_subcommand("show", "Show a run's timeline from the store");
  show_cmd->add_option("run", show.run, "Run id (or a unique prefix)")->required();
  show_cmd->add_option("--store", show.store, "SQLite store (default: ./.chorus/chorus.db)");
  show_cmd->add_flag("--json", show.json, "Print the run, its report and every event as JSON");
  show_cmd->add_flag("--full", show.full, "Print whole messages and outputs");

  FrameworksArgs frameworks;
  CLI::App* frameworks_cmd = AddFrameworksCommand(app, &frameworks);
  std::function<int()> redact_run;
  CLI::App* redact_cmd = AddRedactCommand(app, &redact_run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (*run_cmd) return RunCommand(run);
  if (*resume_cmd) return ResumeCommand(resume, resume_run);
  if (*lint_cmd) return LintCommand(lint_path, lint_json);
  if (*runs_cmd) return RunsCommand(runs);
  if (*show_cmd) return ShowCommand(show);
  if (*redact_cmd) return redact_run();
  if (*frameworks_cmd) return FrameworksCommand(frameworks);
  return kExitUsage;
}
