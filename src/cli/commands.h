// The `chorus` subcommands. Each returns the process exit code (see cli_common.h).
#pragma once

#include <string>
#include <vector>

namespace chorus::cli {

struct RunArgs {
  std::string team_path;
  std::vector<std::string> inputs;     // "name=value" or "name=@file" ("@-": stdin)
  std::vector<std::string> base_urls;  // "URL" (every HTTP model) or "model=URL"
  std::string store;
  bool json = false;
  bool offline = false;
  bool no_offline_fallback = false;
  bool quiet = false;
  bool verbose = false;
  double max_input_mb = 16;
  uint64_t seed = 0;
  int transient_retries = 3;
  bool redacted = false;  // print the output with the run's pseudonyms kept
};
int RunCommand(const RunArgs& args);
// Continues an interrupted run; uses args.store, json, quiet, verbose and seed.
int ResumeCommand(const RunArgs& args, const std::string& run_id);

int LintCommand(const std::string& team_path, bool json);

struct InspectArgs {
  std::string store;
  std::string run;  // show: id or prefix
  bool json = false;
  bool full = false;  // show: whole payloads
  int limit = 50;     // runs
};
int RunsCommand(const InspectArgs& args);
int ShowCommand(const InspectArgs& args);

}  // namespace chorus::cli
