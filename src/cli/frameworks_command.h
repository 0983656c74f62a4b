// `chorus frameworks list|show|search`: browse and search the framework library.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace chorus::cli {

struct FrameworksArgs {
  std::vector<std::string> libraries{"default"};  // sources, later ones override earlier ones
  std::string prefix;                             // list: "2" or "2.3"
  std::string id;                                 // show
  std::string query;                              // search
  int k = 10;                                     // search: how many hits
  bool json = false;
  CLI::App* list = nullptr;  // which subcommand was chosen
  CLI::App* show = nullptr;
  CLI::App* search = nullptr;
};

// Declares `frameworks` and its subcommands on `app`, parsing into `*args` (which must outlive
// parsing). Returns the `frameworks` subcommand, true after parsing when it was chosen.
CLI::App* AddFrameworksCommand(CLI::App& app, FrameworksArgs* args);

// Runs the chosen subcommand; returns the exit code (see cli_common.h).
int FrameworksCommand(const FrameworksArgs& args);

}  // namespace chorus::cli
