#include <signal.h>

#include <array>
#include <cerrno>
#include <optional>
#include <string_view>
#include <utility>

#include "chorus/store.h"

namespace chorus {
namespace {

// The names are stored in the runs table and shown by `chorus runs`: never rename one.
constexpr std::array<std::pair<RunStatus, std::string_view>, 4> kRunStatusNames = {{
    {RunStatus::kRunning, "running"},
    {RunStatus::kCompleted, "completed"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kInterrupted, "interrupted"},
}};

}  // namespace

std::string_view RunStatusName(RunStatus status) {
  for (const auto& [value, name] : kRunStatusNames) {
    if (value == status) return name;
  }
  return "unknown";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  for (const auto& [value, known] : kRunStatusNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

RunStatus EffectiveRunStatus(const RunRecord& run) {
  if (run.status != RunStatus::kRunning) return run.status;
  // Signal 0 only asks whether the process exists; EPERM means it does (another user's).
  if (run.pid > 0 && kill(static_cast<pid_t>(run.pid), 0) != 0 && errno == ESRCH) {
    return RunStatus::kInterrupted;
  }
  return run.status;
}

}  // namespace chorus
