// Locality policy of a team: what each model may receive and what each agent may read in
// clear, from the team's `privacy:` block, the models' `locality` and the agents' `clearance`.
// CheckTeam uses it to refuse agents bound to models below their clearance; the run's
// Boundary uses it to decide which values cross in clear. Pure functions, thread-safe.
#pragma once

#include <vector>

#include "chorus/privacy.h"
#include "chorus/team.h"

namespace chorus {

// local -> confidential; cloud -> privacy.cloud_max_label (an unreadable one counts as public).
Label ModelMaxLabel(const Team& team, const ModelSpec& model);
// The declared clearance, or by default internal capped at what the agent's model may receive.
Label AgentClearance(const Team& team, const AgentSpec& agent);
// The highest label the agent reads in clear: its clearance, capped by its model.
Label AgentAllowance(const Team& team, const AgentSpec& agent);
// A declared input label; unlabelled inputs are public. An unreadable one counts as
// confidential, so a typo in code never lowers protection.
Label InputLabel(const InputSpec& input);

// Appends the privacy problems of a team: unknown labels, localities and on_violation values
// (with suggestions), agents whose clearance exceeds what their model may receive, and agents
// whose model fails over to one that may receive less than they read.
void CheckPrivacy(const Team& team, std::vector<Diagnostic>* out);

}  // namespace chorus
