#include "flow/context_budget.h"

#include <limits>

namespace chorus {
namespace {

const std::vector<std::string> kContextKeys = {"limit", "rollover_at", "keep_last"};
// More kept turns than this defeats the point of rolling over.
constexpr int64_t kMaxKeepLast = 100;

}  // namespace

const std::vector<std::string>& TokenizerNames() {
  static const std::vector<std::string> kNames = {"cl100k_base", "o200k_base", "estimate"};
  return kNames;
}

std::optional<ContextBudget> ParseContextBudget(YamlReader& reader, const YamlEntry& entry,
                                                const std::string& where) {
  ContextBudget budget;
  budget.loc = reader.Loc(entry.key_node);
  // `context: {}` keeps every default: one conversation, rolled over at 75% of the window.
  if (!entry.value.IsMap()) {
    reader.Error(entry,
                 "context: expected a mapping such as { limit: 32000, rollover_at: 0.75, "
                 "keep_last: 1 }, found " +
                     DescribeNode(entry.value));
    return std::nullopt;
  }
  for (const YamlEntry& e : reader.Entries(entry, kContextKeys, "the context of " + where)) {
    if (e.key == "limit") {
      if (auto n = reader.Integer(e, kMinContextLimit, std::numeric_limits<int64_t>::max())) {
        budget.limit = *n;
      }
    } else if (e.key == "rollover_at") {
      std::optional<double> at = reader.Number(e, 0, /*exclusive=*/true);
      if (at && *at > 1) {
        reader.Error(e,
                     "rollover_at: expected a fraction of the limit above 0 and at most 1 "
                     "(e.g. 0.75), found " +
                         DescribeNode(e.value));
      } else if (at) {
        budget.rollover_at = *at;
      }
    } else if (e.key == "keep_last") {
      if (auto n = reader.Integer(e, 0, kMaxKeepLast)) budget.keep_last = static_cast<int>(*n);
    }
  }
  return budget;
}

void CheckContextBudgets(const Team& team, std::vector<Diagnostic>* problems) {
  for (const AgentSpec& agent : team.agents) {
    if (!agent.context) continue;
    const ModelSpec* model = team.FindModel(agent.model);
    if (model == nullptr) continue;  // reported by the agent checks
    const ContextBudget& budget = *agent.context;
    const int64_t window = model->endpoint.context_window;
    const std::string who = "agent '" + agent.name + "'";
    if (budget.limit == 0 && window == 0) {
      problems->push_back({budget.loc, who + ": context: expected a 'limit', because model '" +
                                           agent.model +
                                           "' declares no context_window for it to default to; set "
                                           "context.limit or the model's context_window"});
    } else if (budget.limit == 0 && window < kMinContextLimit) {
      problems->push_back({budget.loc, who + ": context: model '" + agent.model +
                                           "' has a context_window of " + std::to_string(window) +
                                           " tokens; expected at least " +
                                           std::to_string(kMinContextLimit) +
                                           " to leave room for a handoff brief"});
    } else if (window > 0 && budget.limit > window) {
      problems->push_back({budget.loc, who + ": context: limit " + std::to_string(budget.limit) +
                                           " is larger than the context_window of model '" +
                                           agent.model + "' (" + std::to_string(window) +
                                           "); expected at most " + std::to_string(window)});
    }
  }
}

}  // namespace chorus
