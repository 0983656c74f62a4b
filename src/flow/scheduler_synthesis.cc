// The scheduler's side of `synthesize` steps. A synthesis whose sources fit its model's
// context window is one unit, as any task. One whose sources do not is staged
// (flow/staged_synthesis.h): each level is a set of parts, run at once, and the next level
// reads their syntheses, until the last level's single prompt, the step's own unit, holds
// them all. Each level's cut is recorded (synthesis.staged) before its parts start, and it
// is computed again, identically, by a resumed run from the same recorded outputs.
#include <algorithm>

#include "flow/scheduler.h"

namespace chorus {
namespace {

// What a piece's heading and separators add at most, in tokens, on top of its text; pseudonyms
// can lengthen a text a little too, which the margin below covers.
constexpr int64_t kPieceFramingTokens = 16;
// Kept free in every prompt, as a share of the window: a count is close, not exact.
constexpr int64_t kWindowMarginDivisor = 50;

std::string PartPath(const std::string& step, int level, size_t part) {
  return step + "[" + std::to_string(level) + "." + std::to_string(part) + "]";
}

}  // namespace

void Scheduler::AddSynthesisRun(const Step& step) {
  StepRun run;
  run.step = &step;
  step_runs_.push_back(std::move(run));
  const size_t index = step_runs_.size() - 1;
  std::string failure;
  std::unique_ptr<StagedSynthesis> staged = PlanStagedSynthesis(step, &failure);
  if (!failure.empty()) {
    FailStepRun(index, failure);
    return;
  }
  if (!staged) {
    AddSynthesisUnit(index, step.id, -1);
    return;
  }
  step_runs_[index].staged = std::move(staged);
  StartSynthesisLevel(index);
}

std::unique_ptr<Scheduler::StagedSynthesis> Scheduler::PlanStagedSynthesis(const Step& step,
                                                                           std::string* failure) {
  const AgentSpec* agent = step.agents.empty() ? nullptr : config_.team->FindAgent(step.agents[0]);
  auto client = agent ? config_.clients.find(agent->model) : config_.clients.end();
  if (client == config_.clients.end()) return nullptr;  // the plain unit reports what is wrong
  // The client's own description, else the team file's (a client supplied by an embedding
  // program may not know the model's window).
  const EndpointConfig* endpoint = &client->second->config();
  if (endpoint->context_window <= 0) {
    const ModelSpec* model = config_.team->FindModel(agent->model);
    if (model == nullptr || model->endpoint.context_window <= 0) return nullptr;  // nothing to fit
    endpoint = &model->endpoint;
  }

  // The brief without its sources: the room it leaves is what the sources may take.
  Unit probe;
  probe.step = &step;
  probe.path = step.id;
  probe.agent = agent->name;
  Crossing tracking = Boundary::Track();
  Result<DelegationBrief> bare = BuildBrief(probe, &tracking, /*sources=*/false);
  if (!bare) return nullptr;
  const PromptCounter counter = PromptCounter::ForEndpoint(*endpoint);
  // A part's prompt carries one more constraint than the bare brief.
  bare->constraints.push_back(PartialSynthesisConstraint(0, 1));
  const int64_t fixed = counter.Count(RenderBrief(agent->role, *bare, {}));
  const int64_t window = endpoint->context_window;
  const int64_t budget = window - endpoint->max_tokens - fixed - window / kWindowMarginDivisor;

  std::vector<SynthesisPiece> pieces = SourcePieces(step, counter);
  if (pieces.empty()) return nullptr;  // a source has no output: the plain unit says which
  int64_t total = 0;
  for (const SynthesisPiece& p : pieces) total += p.tokens;
  if (total <= budget) return nullptr;
  if (budget <= 0) {
    *failure = "synthesis '" + step.id + "' cannot fit model '" + endpoint->name +
               "': its brief takes about " + std::to_string(fixed) + " tokens and its answer " +
               std::to_string(endpoint->max_tokens) + " of a context_window of " +
               std::to_string(window) + ", leaving no room for its sources";
    return nullptr;
  }
  auto staged = std::make_unique<StagedSynthesis>();
  staged->window = window;
  staged->budget = budget;
  staged->counter = counter;
  staged->pieces = std::move(pieces);
  return staged;
}

std::vector<SynthesisPiece> Scheduler::SourcePieces(const Step& step,
                                                    const PromptCounter& counter) const {
  std::vector<SynthesisPiece> pieces;
  for (const std::string& from : step.from) {
    auto output = outputs_.find(from);
    if (output == outputs_.end()) return {};
    auto items = map_units_.find(from);
    if (items == map_units_.end()) {
      SynthesisPiece& p = pieces.emplace_back();
      p.source = from;
      p.text = &output->second.text;
      p.sensitivity = output->second.sensitivity;
      p.tokens = counter.CountText(*p.text) + kPieceFramingTokens;
      continue;
    }
    // A map's items are the pieces: a part can hold some of them.
    for (size_t i = 0; i < items->second.size(); ++i) {
      const Unit& item = units_[items->second[i]];
      SynthesisPiece& p = pieces.emplace_back();
      p.kind = SynthesisPiece::Kind::kMapItem;
      p.source = from;
      p.index = i;
      p.count = items->second.size();
      p.label = item.ItemLabel();
      p.text = &item.output.text;
      p.sensitivity = item.output.sensitivity;
      p.tokens = counter.CountText(p.label) + counter.CountText(*p.text) + kPieceFramingTokens;
    }
  }
  return pieces;
}

void Scheduler::StartSynthesisLevel(size_t index) {
  StepRun& run = step_runs_[index];
  StagedSynthesis& staged = *run.staged;
  const Step& step = *run.step;
  ++staged.level;
  int64_t total = 0;
  for (const SynthesisPiece& p : staged.pieces) total += p.tokens;
  staged.parts.clear();
  auto record_cut = [&](size_t parts) {
    log_->Add("synthesis.staged", step.id, "",
              {{"level", staged.level},
               {"parts", parts},
               {"inputs", staged.pieces.size()},
               {"tokens", total},
               {"budget", staged.budget},
               {"window", staged.window}});
  };
  if (staged.level > 1 && total <= staged.budget) {
    // The last level: the step's own unit reads every part's synthesis.
    record_cut(1);
    AddSynthesisUnit(index, step.id, -1);
    return;
  }
  Result<std::vector<SynthesisPart>> parts = CutIntoParts(staged.pieces, staged.budget);
  std::string failure;
  if (!parts) {
    failure = parts.error().message();
  } else if (staged.level > 1 && parts->size() >= staged.pieces.size()) {
    // Each part's synthesis nearly fills a prompt on its own: another level would not shrink.
    failure = "the syntheses of its " + std::to_string(staged.pieces.size()) +
              " parts are too long to combine (about " + std::to_string(total) +
              " tokens; one prompt has room for " + std::to_string(staged.budget) + ")";
  }
  if (!failure.empty()) {
    FailStepRun(index, "synthesis '" + step.id + "' cannot be staged to fit its model's " +
                           std::to_string(staged.window) + "-token window: " + failure);
    return;
  }
  staged.parts = std::move(*parts);
  record_cut(staged.parts.size());
  run.cap = static_cast<int>(staged.parts.size());  // the endpoint's own cap still applies
  for (size_t k = 0; k < staged.parts.size(); ++k) {
    AddSynthesisUnit(index, PartPath(step.id, staged.level, k), static_cast<int>(k));
  }
}

void Scheduler::NextSynthesisLevel(size_t index) {
  StepRun& run = step_runs_[index];
  StagedSynthesis& staged = *run.staged;
  const size_t parts = staged.parts.size();
  std::vector<SynthesisPiece> pieces;
  for (size_t k = 0; k < parts; ++k) {
    const Unit& part = units_[run.units[run.units.size() - parts + k]];
    SynthesisPiece& p = pieces.emplace_back();
    p.kind = SynthesisPiece::Kind::kPart;
    p.source = part.path;
    p.index = k;
    p.count = parts;
    p.text = &part.output.text;
    p.sensitivity = part.output.sensitivity;
    p.tokens = staged.counter.CountText(*p.text) + kPieceFramingTokens;
  }
  staged.pieces = std::move(pieces);
  StartSynthesisLevel(index);
}

void Scheduler::AddSynthesisUnit(size_t index, std::string path, int part) {
  StepRun& run = step_runs_[index];
  Unit& u = units_.emplace_back();
  u.path = std::move(path);
  u.step = run.step;
  u.step_run = index;
  u.agent = run.step->agents.empty() ? std::string() : run.step->agents.front();
  if (part >= 0) u.Enrich().synthesis_part = part;
  run.units.push_back(units_.size() - 1);
}

Status Scheduler::AddStagedSources(const Unit& unit, Crossing* crossing,
                                   DelegationBrief* brief) const {
  const StagedSynthesis& staged = *step_runs_[unit.step_run].staged;
  const std::vector<SynthesisPiece>& pieces = staged.pieces;
  const bool part = unit.IsSynthesisPart();
  const SynthesisPart range =
      part ? staged.parts[static_cast<size_t>(unit.enrichment->synthesis_part)]
           : SynthesisPart{0, pieces.size()};
  for (size_t i = range.first; i < range.second;) {
    // A map's consecutive items share one heading; any other piece has its own.
    size_t end = i + 1;
    if (pieces[i].kind == SynthesisPiece::Kind::kMapItem) {
      while (end < range.second && pieces[end].kind == SynthesisPiece::Kind::kMapItem &&
             pieces[end].source == pieces[i].source) {
        ++end;
      }
    }
    std::string entry = SynthesisHeading(pieces[i], pieces[end - 1]);
    for (size_t k = i; k < end; ++k) {
      // The item's label is its input, as sensitive as its output: both cross together.
      Result<std::string> text = crossing->Admit(pieces[k].source, pieces[k].sensitivity,
                                                 SynthesisPieceText(pieces[k], *pieces[k].text));
      if (!text) return text.error();
      entry += "\n\n";
      entry += *text;
    }
    brief->context.push_back(std::move(entry));
    i = end;
  }
  if (part) {
    brief->constraints.push_back(PartialSynthesisConstraint(
        static_cast<size_t>(unit.enrichment->synthesis_part), staged.parts.size()));
  }
  return Status::Ok();
}

}  // namespace chorus
