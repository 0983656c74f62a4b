// The locality policy (see locality.h).
#include "flow/locality.h"

#include <algorithm>
#include <set>

#include "flow/suggest.h"

namespace chorus {
namespace {

const std::vector<std::string> kLabelNames = {"public", "internal", "confidential"};
const std::vector<std::string> kLocalities = {"local", "cloud"};
const std::vector<std::string> kViolationActions = {"pseudonymize", "block"};

Label LabelOr(const std::string& name, Label fallback) {
  Result<Label> label = ParseLabel(name);
  return label ? *label : fallback;
}

std::string Unknown(std::string_view what, const std::string& value,
                    const std::vector<std::string>& allowed) {
  std::string hint = DidYouMean(value, allowed);
  return std::string(what) + ": expected " + QuotedList(allowed) + ", found '" + value + "'" + hint;
}

}  // namespace

Label ModelMaxLabel(const Team& team, const ModelSpec& model) {
  if (model.endpoint.locality == "local") return Label::kConfidential;
  return LabelOr(team.privacy.cloud_max_label, Label::kPublic);
}

Label AgentClearance(const Team& team, const AgentSpec& agent) {
  if (!agent.clearance.empty()) return LabelOr(agent.clearance, Label::kPublic);
  const ModelSpec* model = team.FindModel(agent.model);
  if (model == nullptr) return Label::kPublic;
  return std::min(Label::kInternal, ModelMaxLabel(team, *model));
}

Label AgentAllowance(const Team& team, const AgentSpec& agent) {
  const ModelSpec* model = team.FindModel(agent.model);
  if (model == nullptr) return Label::kPublic;
  return std::min(AgentClearance(team, agent), ModelMaxLabel(team, *model));
}

Label InputLabel(const InputSpec& input) {
  if (input.label.empty()) return Label::kPublic;
  return LabelOr(input.label, Label::kConfidential);
}

void CheckPrivacy(const Team& team, std::vector<Diagnostic>* out) {
  auto error = [&](const SourceLoc& loc, std::string message) {
    out->push_back(Diagnostic{loc, std::move(message)});
  };
  const PrivacySpec& privacy = team.privacy;
  if (!ParseLabel(privacy.cloud_max_label)) {
    error(privacy.loc, Unknown("privacy.cloud_max_label", privacy.cloud_max_label, kLabelNames));
  }
  if (std::find(kViolationActions.begin(), kViolationActions.end(), privacy.on_violation) ==
      kViolationActions.end()) {
    error(privacy.loc, Unknown("privacy.on_violation", privacy.on_violation, kViolationActions));
  }
  for (const ModelSpec& model : team.models) {
    const std::string& locality = model.endpoint.locality;
    if (std::find(kLocalities.begin(), kLocalities.end(), locality) == kLocalities.end()) {
      error(model.loc,
            Unknown("model '" + model.endpoint.name + "': locality", locality, kLocalities));
    }
  }
  for (const InputSpec& input : team.inputs) {
    if (!input.label.empty() && !ParseLabel(input.label)) {
      error(input.loc, Unknown("input '" + input.name + "': label", input.label, kLabelNames));
    }
  }
  std::set<std::string> clearance_errors;  // one error per agent is enough
  for (const AgentSpec& agent : team.agents) {
    if (!agent.clearance.empty() && !ParseLabel(agent.clearance)) {
      error(agent.loc,
            Unknown("agent '" + agent.name + "': clearance", agent.clearance, kLabelNames));
      continue;
    }
    const ModelSpec* model = team.FindModel(agent.model);
    if (model == nullptr || agent.clearance.empty()) continue;  // unknown models: CheckAgents
    const Label clearance = AgentClearance(team, agent);
    const Label most = ModelMaxLabel(team, *model);
    if (clearance <= most) continue;
    clearance_errors.insert(agent.name);
    error(agent.loc, "agent '" + agent.name + "' has clearance " +
                         std::string(LabelName(clearance)) + " but model '" + agent.model +
                         "' is a " + model->endpoint.locality +
                         " endpoint that may receive at most " + std::string(LabelName(most)) +
                         ": expected a model with 'locality: local', a clearance of at most " +
                         std::string(LabelName(most)) +
                         ", or privacy.cloud_max_label: " + std::string(LabelName(clearance)));
  }
  // A failover must not carry what an agent reads to a model that may not receive it.
  for (const AgentSpec& agent : team.agents) {
    const ModelSpec* model = team.FindModel(agent.model);
    if (model == nullptr || clearance_errors.count(agent.name)) continue;
    const Label allowance = AgentAllowance(team, agent);
    std::set<std::string> seen = {model->endpoint.name};
    std::vector<const ModelSpec*> chain = {model};
    for (size_t i = 0; i < chain.size(); ++i) {
      for (const std::string& name : chain[i]->fallback) {
        const ModelSpec* next = team.FindModel(name);
        if (next == nullptr || !seen.insert(name).second) continue;  // CheckModels reports
        chain.push_back(next);
        const Label most = ModelMaxLabel(team, *next);
        if (allowance <= most) continue;
        error(agent.loc, "agent '" + agent.name + "' reads " + std::string(LabelName(allowance)) +
                             " values on model '" + agent.model + "', whose fallback '" + name +
                             "' is a " + next->endpoint.locality +
                             " endpoint that may receive at most " + std::string(LabelName(most)) +
                             ": expected only local fallbacks for this model, or a clearance of "
                             "at most " +
                             std::string(LabelName(most)));
      }
    }
  }
}

}  // namespace chorus
