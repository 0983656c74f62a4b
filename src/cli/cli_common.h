// Shared pieces of the `chorus` subcommands: exit codes, store location, small formatting.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chorus/store.h"

namespace chorus::cli {

// Exit codes: 0 the run completed, 1 the run failed, 2 bad invocation or team file.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRunFailed = 1;
inline constexpr int kExitUsage = 2;

// The store a command uses: --store if given, else $CHORUS_STORE, else `.chorus/chorus.db`
// beside the team file (run, resume) or in the current directory (runs, show).
std::string DefaultStorePath(const std::string& team_path);

// Opens an existing store for reading; says where runs usually are when there is none.
Result<std::unique_ptr<Store>> OpenStoreForReading(const std::string& path);

std::string FormatDuration(int64_t ms);                        // "420 ms", "3.2 s", "2 min 5 s"
std::string FormatCost(double usd);                            // "$0.0042"
std::string FormatTime(int64_t epoch_ms);                      // "2026-11-24 03:40:01" (local time)
std::string FormatBytes(size_t bytes);                         // "1.2 KB"
std::string Truncate(const std::string& s, size_t max_chars);  // one line, "…" when cut

// A synthesis.staged event: "staged synthesis, level 1: 108 parts of at most 3474 tokens
// (368003 in all, window 8000)", or for the last level "…: one prompt over 2 partial syntheses".
std::string DescribeStagedSynthesis(const nlohmann::json& p);

}  // namespace chorus::cli
