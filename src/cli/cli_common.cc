#include "cli/cli_common.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace chorus::cli {

std::string DefaultStorePath(const std::string& team_path) {
  if (const char* env = std::getenv("CHORUS_STORE"); env && *env) return env;
  if (team_path.empty()) return ".chorus/chorus.db";
  std::filesystem::path dir = std::filesystem::path(team_path).parent_path();
  return (dir / ".chorus" / "chorus.db").string();
}

Result<std::unique_ptr<Store>> OpenStoreForReading(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Err(Status::NotFound("no store at " + path +
                                " (runs are stored beside their team file, e.g. "
                                "examples/.chorus/chorus.db; pass --store PATH)"));
  }
  return OpenSqliteStore(path);
}

std::string FormatDuration(int64_t ms) {
  char buf[48];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000.0);
  } else {
    std::snprintf(buf, sizeof buf, "%lld min %lld s", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms % 60'000 / 1000));
  }
  return buf;
}

std::string FormatCost(double usd) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%.4f", usd);
  return buf;
}

std::string FormatTime(int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string FormatBytes(size_t bytes) {
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%zu B", bytes);
  } else if (bytes < (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KB", bytes / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1048576.0);
  }
  return buf;
}

std::string Truncate(const std::string& s, size_t max_chars) {
  std::string line;
  line.reserve(std::min(s.size(), max_chars + 4));
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (chars == max_chars) return line + "…";
      ++chars;
    }
    line += (c == '\n' || c == '\r' || c == '\t') ? ' ' : s[i];
  }
  return line;
}

std::string DescribeStagedSynthesis(const nlohmann::json& p) {
  const std::string level = "staged synthesis, level " + std::to_string(p.value("level", 0));
  if (p.value("parts", size_t{0}) <= 1) {
    return level + ": one prompt over " + std::to_string(p.value("inputs", size_t{0})) +
           " partial syntheses";
  }
  return level + ": " + std::to_string(p.value("parts", size_t{0})) + " parts of at most " +
         std::to_string(p.value("budget", int64_t{0})) + " tokens (" +
         std::to_string(p.value("tokens", int64_t{0})) + " in all, window " +
         std::to_string(p.value("window", int64_t{0})) + ")";
}

}  // namespace chorus::cli
