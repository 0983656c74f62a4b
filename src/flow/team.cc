// The small value-level parts of team.h: locations, diagnostics, lookups, the offline model.
#include "chorus/team.h"

#include <algorithm>

namespace chorus {
namespace {

template <class Spec>
const Spec* FindByName(const std::vector<Spec>& specs, const std::string& name) {
  auto it =
      std::find_if(specs.begin(), specs.end(), [&](const Spec& spec) { return spec.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

}  // namespace

std::string SourceLoc::ToString() const {
  std::string out = file.empty() ? "<team>" : file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

std::string Diagnostic::ToString() const {
  return loc.ToString() + (severity == Severity::kWarning ? ": warning: " : ": error: ") + message;
}

std::string_view StepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kTask:
      return "task";
    case StepKind::kParallel:
      return "parallel";
    case StepKind::kMap:
      return "map";
    case StepKind::kSynthesize:
      return "synthesize";
    case StepKind::kWitness:
      return "witness";
  }
  return "unknown";
}

const ModelSpec* Team::FindModel(const std::string& name) const {
  for (const ModelSpec& model : models) {
    if (model.endpoint.name == name) return &model;
  }
  if (name == "offline") {
    // Every team has the offline model without declaring it.
    static const ModelSpec kOffline = OfflineModelSpec();
    return &kOffline;
  }
  return nullptr;
}

const AgentSpec* Team::FindAgent(const std::string& name) const { return FindByName(agents, name); }

const InputSpec* Team::FindInput(const std::string& name) const { return FindByName(inputs, name); }

ModelSpec OfflineModelSpec() {
  ModelSpec spec;
  spec.endpoint.name = "offline";
  spec.endpoint.provider = Provider::kOffline;
  spec.endpoint.model = "offline";
  spec.endpoint.locality = "local";
  // Offline answers are computed in-process: no endpoint to protect from load.
  spec.endpoint.concurrency = 1000000;
  spec.endpoint.context_window = 128000;
  return spec;
}

}  // namespace chorus
