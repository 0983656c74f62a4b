// Whole-team checks of quality gates and witness steps, called by CheckTeam / LintTeam
// (team_check.cc): agents named by judges, escalations and witnesses, quorums, and the warning
// that witnesses which all run on one model make correlated errors. Pure; thread-compatible.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "chorus/team.h"

namespace chorus {

struct QualityCheck {
  const Team& team;
  const std::vector<std::string>& agent_names;
  std::function<void(const SourceLoc&, std::string)> error;
  std::function<void(const SourceLoc&, std::string)> warn;
};

// `step.gate` must be set.
void CheckGate(const QualityCheck& check, const Step& step);
// A witness step's own rules; its agents' existence is checked like any step's.
void CheckWitness(const QualityCheck& check, const Step& step);

}  // namespace chorus
