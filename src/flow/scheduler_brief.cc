// The scheduler's briefs: expanding ${...} references and building a unit's DelegationBrief,
// with every value crossing the run's data boundary on its way in (flow/boundary.h), and
// dispatching the brief once it is built.
#include <algorithm>

#include "core/template.h"
#include "flow/scheduler.h"

namespace chorus {
namespace {

std::string FieldNames(const nlohmann::json& fields) {
  std::string out;
  for (const auto& [name, value] : fields.items()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

void Scheduler::DispatchBrief(size_t index) {
  Unit& unit = units_[index];
  if (config_.team->FindAgent(unit.agent) == nullptr) {
    FailUnit(index, "no agent to run it: the route picked none");
    return;
  }
  // Every value reaching the brief crosses the boundary: it may be pseudonymized, restored or
  // refused for this agent (flow/boundary.h).
  Crossing crossing = config_.boundary ? config_.boundary->Begin(unit.agent) : Boundary::Track();
  Status built = unit.judge == JudgeRole::kNone ? BuildUnitBrief(index, &crossing)
                                                : AdmitJudgeBrief(index, &crossing);
  for (nlohmann::json& e : crossing.Events()) {
    log_->Add("boundary.crossed", unit.path, unit.agent, std::move(e));
  }
  unit.read_sensitivity = crossing.read_label();
  if (!built.ok()) {
    FailUnit(index, "cannot build the brief: " + built.message());
    return;
  }
  log_->AddText("brief.dispatched", unit.path, unit.agent, unit.brief.ToJsonText());
  SendRequest(index);
}

Status Scheduler::BuildUnitBrief(size_t index, Crossing* crossing) {
  Unit& unit = units_[index];
  Result<DelegationBrief> brief = BuildBrief(unit, crossing);
  if (!brief) return brief.error();
  unit.brief = std::move(*brief);
  if (unit.Gated()) AddGateToAcceptance(*unit.step->gate, &unit.brief);
  return Status::Ok();
}

// A gate's judge reads the output it scores: that output is as sensitive as what its producer
// read, so the judge's brief crosses the boundary like any other.
Status Scheduler::AdmitJudgeBrief(size_t index, Crossing* crossing) {
  Unit& unit = units_[index];
  Label label = Label::kPublic;
  if (unit.judge == JudgeRole::kGate) {
    label = units_[unit.judged_unit].read_sensitivity;
  } else {  // a witness step's judge compares every vote
    for (size_t u : step_runs_[unit.step_run].units) {
      label = std::max(label, units_[u].read_sensitivity);
    }
  }
  const std::string source = "step " + unit.path.substr(0, unit.path.rfind('/'));
  for (std::string* text : {&unit.brief.objective, &unit.brief.acceptance}) {
    Result<std::string> admitted = crossing->Admit(source, label, std::move(*text));
    if (!admitted) return admitted.error();
    *text = std::move(*admitted);
  }
  for (std::vector<std::string>* list : {&unit.brief.context, &unit.brief.constraints}) {
    for (std::string& text : *list) {
      Result<std::string> admitted = crossing->Admit(source, label, std::move(text));
      if (!admitted) return admitted.error();
      text = std::move(*admitted);
    }
  }
  return Status::Ok();
}

Result<std::string> Scheduler::Expand(const std::string& text, const Unit& unit,
                                      Crossing* crossing) const {
  return ExpandTemplate(text, [&](const TemplateRef& ref) -> Result<std::string> {
    if (ref.root == "inputs") {
      auto it = config_.inputs.find(ref.field);
      if (it == config_.inputs.end()) {
        return Err(Status::NotFound("${inputs." + ref.field + "}: no such input"));
      }
      Label label = config_.boundary ? config_.boundary->InputLabel(ref.field) : Label::kPublic;
      return crossing->Admit("inputs." + ref.field, label, it->second);
    }
    if (ref.root == "item") {
      if (unit.item_index < 0) return Err(Status::InvalidArgument("${item} outside a map"));
      // Items of frameworks(...) and files(...) have fields; other items are plain text.
      if (!ref.field.empty() && unit.enrichment && unit.enrichment->item_fields.is_object()) {
        const nlohmann::json& fields = unit.enrichment->item_fields;
        if (auto f = fields.find(ref.field); f != fields.end()) {
          return crossing->Admit("item", unit.item_sensitivity,
                                 f->is_string() ? f->get<std::string>() : f->dump());
        }
        return Err(Status::NotFound("${item." + ref.field +
                                    "}: expected one of the item's fields " + FieldNames(fields)));
      }
      return crossing->Admit("item", unit.item_sensitivity, unit.item);
    }
    if (ref.root == "item_index") {
      if (unit.item_index < 0) return Err(Status::InvalidArgument("${item_index} outside a map"));
      return std::to_string(unit.item_index);
    }
    auto it = outputs_.find(ref.root);
    if (it == outputs_.end()) {
      return Err(Status::NotFound("${" + ref.root + "}: step '" + ref.root +
                                  "' has not produced an output"));
    }
    Result<std::string> value = it->second.text;
    if (!ref.field.empty()) value = SelectField(ref.root, it->second, ref.field);
    if (!value) return value;
    return crossing->Admit(ref.root, it->second.sensitivity, std::move(*value));
  });
}

Result<DelegationBrief> Scheduler::BuildBrief(const Unit& unit, Crossing* crossing,
                                              bool sources) const {
  const BriefTemplate& t = unit.step->brief;
  DelegationBrief brief;
  brief.id = unit.path;
  auto expand_into = [&](const std::string& in, std::string* out) -> Status {
    Result<std::string> r = Expand(in, unit, crossing);
    if (!r) return r.error();
    *out = std::move(*r);
    return Status::Ok();
  };
  if (Status s = expand_into(t.objective, &brief.objective); !s.ok()) return Err(s);
  if (Status s = expand_into(t.acceptance, &brief.acceptance); !s.ok()) return Err(s);
  for (const std::string& c : t.context) {
    std::string& out = brief.context.emplace_back();
    if (Status s = expand_into(c, &out); !s.ok()) return Err(s);
  }
  for (const std::string& c : t.constraints) {
    std::string& out = brief.constraints.emplace_back();
    if (Status s = expand_into(c, &out); !s.ok()) return Err(s);
  }
  if (unit.step->kind == StepKind::kMap && t.context.empty()) {
    Result<std::string> item = crossing->Admit("item", unit.item_sensitivity, unit.item);
    if (!item) return Err(item.error());
    brief.context.push_back("Item " + std::to_string(unit.item_index) + ": " + *item);
  }
  if (unit.step->kind == StepKind::kSynthesize && sources && step_runs_[unit.step_run].staged) {
    if (Status s = AddStagedSources(unit, crossing, &brief); !s.ok()) return Err(s);
  } else if (unit.step->kind == StepKind::kSynthesize && sources) {
    for (const std::string& from : unit.step->from) {
      auto it = outputs_.find(from);
      if (it == outputs_.end()) {
        return Err(Status::NotFound("synthesis source '" + from + "' has no output"));
      }
      Result<std::string> text = crossing->Admit(from, it->second.sensitivity, it->second.text);
      if (!text) return Err(text.error());
      brief.context.push_back("Output of step '" + from + "':\n\n" + *text);
    }
  }
  brief.output = t.output;
  if (unit.IsSynthesisPart()) {
    // What the step's output must satisfy applies to its last level, which reads this part.
    brief.output = ExpectedOutput{};
    brief.acceptance.clear();
  }
  if (unit.enrichment) ApplyFrameworks(unit.enrichment->frameworks, &brief);
  if (Status s = ValidateBrief(brief); !s.ok()) return Err(s);
  return brief;
}

}  // namespace chorus
