// `chorus redact`: anonymizes one document standalone, with the same detector and vault that
// guard boundaries inside a run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace chorus::cli {

// Adds the `redact` subcommand to `app`; after parsing, if it was chosen, `*run` returns the
// exit code. Returns the subcommand so the caller can test whether it was chosen.
CLI::App* AddRedactCommand(CLI::App& app, std::function<int()>* run);

}  // namespace chorus::cli
