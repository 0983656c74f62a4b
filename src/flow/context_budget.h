// The `context:` key of an agent: reading it from a team file and checking it against the
// agent's model. The runtime side (one conversation per agent, rollover) is conversation.h.
// Pure functions; a YamlReader is used from one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chorus/team.h"
#include "flow/team_yaml.h"

namespace chorus {

// The smallest context limit an agent may have: a handoff request (instructions, schema and
// at least one turn) and its answer must fit in it.
inline constexpr int64_t kMinContextLimit = 1000;

// The values the models' `tokenizer` key accepts.
const std::vector<std::string>& TokenizerNames();

// `context: { limit: 2000, rollover_at: 0.75, keep_last: 1 }`; `where` names the agent.
// Reports problems through `reader` and returns nullopt when the value is not a mapping.
std::optional<ContextBudget> ParseContextBudget(YamlReader& reader, const YamlEntry& entry,
                                                const std::string& where);

// Checks each agent's budget against its model's context_window (a limit needs a window to
// default to, and must not exceed it). Appends to `problems`.
void CheckContextBudgets(const Team& team, std::vector<Diagnostic>* problems);

}  // namespace chorus
