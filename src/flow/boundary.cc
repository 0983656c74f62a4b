// The run's data-locality guard (see boundary.h).
#include "flow/boundary.h"

#include <algorithm>

#include "flow/locality.h"

namespace chorus {
namespace {

constexpr size_t kMinKnownValueBytes = 3;  // shorter vault values would match inside words
constexpr size_t kMaxPseudonymBytes = 40;

bool IsWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || u >= 0x80;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Client names and e-mail addresses are the same value in any case; a person's name written
// in lower case is too often an ordinary word ("will", "mark") to be replaced blindly.
bool MatchesAnyCase(EntityType type) {
  return type == EntityType::kClient || type == EntityType::kEmail;
}

bool Overlaps(const PiiSpan& a, const PiiSpan& b) { return a.start < b.end && b.start < a.end; }

std::string DescribeSource(const std::string& source) {
  if (source.rfind("inputs.", 0) == 0) return "input '" + source.substr(7) + "'";
  if (source == "item") return "the map item";
  return "the output of step '" + source + "'";
}

}  // namespace

void Crossing::Note(Record& record, const std::string& source, Label label) {
  if (std::find(record.from.begin(), record.from.end(), source) == record.from.end()) {
    record.from.push_back(source);
  }
  record.label = std::max(record.label, label);
}

Result<std::string> Crossing::Admit(const std::string& source, Label label, std::string value) {
  read_label_ = std::max(read_label_, label);
  if (boundary_ == nullptr || !boundary_->active_) return value;
  if (label <= allowed_) {
    // A cleared reader gets back the values behind pseudonyms other agents wrote.
    std::string restored = boundary_->RestoreUpTo(value, allowed_, &restored_.counts);
    if (restored != value) Note(restored_, source, label);
    return restored;
  }
  if (boundary_->block_) {
    Note(blocked_, source, label);
    return Err(Status::PermissionDenied(
        DescribeSource(source) + " is " + std::string(LabelName(label)) + " but agent '" + agent_ +
        "' may read at most " + std::string(LabelName(allowed_)) + " (model '" + model_ +
        "' is a " + locality_ +
        " endpoint); privacy.on_violation is block, so nothing was sent. Expected the agent on "
        "a local model with a clearance of " +
        std::string(LabelName(label)) + ", or on_violation: pseudonymize"));
  }
  std::vector<PiiSpan> spans = boundary_->SpansToReplace(value);
  for (const PiiSpan& s : spans) ++pseudonymized_.counts[std::string(EntityTypeName(s.type))];
  Note(pseudonymized_, source, label);
  std::string anonymized = boundary_->vault_.Anonymize(value, spans);
  boundary_->NoteIssued(label);
  return anonymized;
}

std::vector<nlohmann::json> Crossing::Events() const {
  std::vector<nlohmann::json> out;
  auto add = [&](const Record& r, const char* action) {
    if (r.from.empty()) return;
    out.push_back({{"from", r.from},
                   {"to", agent_},
                   {"endpoint", model_},
                   {"locality", locality_},
                   {"label", LabelName(r.label)},
                   {"allowed", LabelName(allowed_)},
                   {"action", action},
                   {"counts", r.counts}});
  };
  add(blocked_, "blocked");
  add(pseudonymized_, "pseudonymized");
  add(restored_, "restored");
  return out;
}

Result<std::unique_ptr<Boundary>> Boundary::Make(const Team& team,
                                                 std::map<std::string, Label> input_labels,
                                                 const std::map<std::string, std::string>& inputs,
                                                 Store* store, const std::string& run_id) {
  std::unique_ptr<Boundary> b(new Boundary(team, std::move(input_labels), store, run_id));
  b->block_ = team.privacy.on_violation == "block";
  Label highest = Label::kPublic;
  for (const auto& [name, label] : b->input_labels_) highest = std::max(highest, label);
  Label lowest_allowed = Label::kConfidential;
  for (const AgentSpec& agent : team.agents) {
    lowest_allowed = std::min(lowest_allowed, AgentAllowance(team, agent));
  }
  // Labels only rise from inputs, so without an input above some agent's allowance no value
  // ever crosses: no detector, no vault, no cost.
  b->active_ = highest > lowest_allowed;
  if (!b->active_) return b;

  PiiDetectorOptions options;
  options.entities = team.privacy.entities;
  Result<std::unique_ptr<PiiDetector>> detector = PiiDetector::Make(std::move(options));
  if (!detector) {
    return Err(Status::FailedPrecondition(
        "cannot enforce the privacy policy (a " + std::string(LabelName(highest)) +
        " input may reach an agent cleared for less): " + detector.error().message()));
  }
  b->detector_ = std::move(*detector);

  Result<std::vector<VaultRecord>> saved = store->LoadVault(run_id);
  if (!saved) return Err(saved.error());
  for (const VaultRecord& r : *saved) {
    Result<EntityType> type = ParseEntityType(r.type);
    if (!type)
      return Err(Status::DataLoss("vault of run " + run_id + ": " + type.error().message()));
    if (Status s = b->vault_.Reload({r.pseudonym, r.value, *type}); !s.ok()) return Err(s);
    // Rows written before labels were kept count as confidential.
    Result<Label> label = ParseLabel(r.label);
    b->NoteIssued(label ? *label : Label::kConfidential);
  }
  b->saved_ = b->vault_.size();
  // The client's name is as sensitive as the most sensitive input it protects.
  for (const std::string& entity : team.privacy.entities) {
    b->vault_.Pseudonymize(entity, EntityType::kClient);
  }
  b->NoteIssued(highest);
  for (const auto& [name, text] : inputs) {
    if (b->InputLabel(name) <= lowest_allowed) continue;
    b->vault_.Anonymize(text, b->detector_->Detect(text));
    b->NoteIssued(b->InputLabel(name));
  }
  return b;
}

Label Boundary::InputLabel(const std::string& input) const {
  auto it = input_labels_.find(input);
  return it == input_labels_.end() ? Label::kPublic : it->second;
}

Crossing Boundary::Begin(const std::string& agent_name) {
  Crossing c;
  c.boundary_ = this;
  c.agent_ = agent_name;
  if (const AgentSpec* agent = team_.FindAgent(agent_name)) {
    c.model_ = agent->model;
    c.allowed_ = AgentAllowance(team_, *agent);
    if (const ModelSpec* model = team_.FindModel(agent->model)) {
      c.locality_ = model->endpoint.locality;
    }
  } else {
    c.allowed_ = Label::kPublic;  // unreachable after CheckTeam; fail safe regardless
  }
  return c;
}

Status Boundary::Persist() {
  if (!active_ || vault_.size() == saved_) return Status::Ok();
  std::vector<Vault::Entry> entries = vault_.Entries();
  std::vector<VaultRecord> fresh;
  for (size_t i = saved_; i < entries.size(); ++i) {
    fresh.push_back({entries[i].pseudonym, entries[i].value,
                     std::string(EntityTypeName(entries[i].type)),
                     std::string(LabelName(label_of_.at(entries[i].pseudonym)))});
  }
  if (Status s = store_->SaveVault(run_id_, fresh); !s.ok()) return s;
  saved_ = entries.size();
  return Status::Ok();
}

std::string Boundary::ForOwner(std::string_view text) const {
  return active_ ? vault_.Restore(text) : std::string(text);
}

std::string Boundary::Redact(std::string_view text) {
  if (!active_) return std::string(text);
  std::string redacted = vault_.Anonymize(text, SpansToReplace(text));
  NoteIssued(Label::kConfidential);  // the owner's output may hold anything the run read
  return redacted;
}

void Boundary::NoteIssued(Label label) {
  if (vault_.size() == label_of_.size()) return;
  for (const Vault::Entry& e : vault_.Entries()) label_of_.try_emplace(e.pseudonym, label);
}

std::string Boundary::RestoreUpTo(std::string_view text, Label allowed,
                                  std::map<std::string, int>* counts) const {
  std::string out;
  size_t at = 0;
  for (size_t lt = text.find('<'); lt != std::string_view::npos; lt = text.find('<', lt + 1)) {
    const size_t gt = text.find('>', lt);
    if (gt == std::string_view::npos) break;
    if (gt - lt > kMaxPseudonymBytes) continue;
    const std::string token(text.substr(lt, gt - lt + 1));
    auto label = label_of_.find(token);
    // A pseudonym of a value above the reader's allowance stays a pseudonym, even when it
    // arrives inside a value the reader may see (a literal "<PERSON_1>" in a public input).
    if (label == label_of_.end() || label->second > allowed) continue;
    out.append(text.substr(at, lt - at));
    out += vault_.Restore(token);
    ++(*counts)[token.substr(1, token.rfind('_') - 1)];
    at = gt + 1;
    lt = gt;
  }
  if (at == 0) return std::string(text);
  out.append(text.substr(at));
  return out;
}

std::vector<PiiSpan> Boundary::SpansToReplace(std::string_view text) const {
  std::vector<PiiSpan> spans = detector_->Detect(text);
  std::vector<PiiSpan> known;
  const std::string lowered = AsciiLower(text);
  auto find_all = [&](const std::string& value, EntityType type) {
    if (value.size() < kMinKnownValueBytes) return;
    const bool any_case = MatchesAnyCase(type);
    const std::string needle = any_case ? AsciiLower(value) : value;
    const std::string_view haystack = any_case ? std::string_view(lowered) : text;
    for (size_t at = haystack.find(needle); at != std::string_view::npos;
         at = haystack.find(needle, at + 1)) {
      const size_t end = at + needle.size();
      if (at > 0 && IsWordByte(text[at - 1]) && IsWordByte(text[at])) continue;
      if (end < text.size() && IsWordByte(text[end]) && IsWordByte(text[end - 1])) continue;
      known.push_back({at, end, type});
    }
  };
  for (const Vault::Entry& e : vault_.Entries()) {
    find_all(e.value, e.type);
    if (e.type != EntityType::kPerson) continue;
    // "Okonkwo agrees": a model shortens a known name to one of its parts, which alone the
    // detector may not recognise. Capitalised parts only, to spare ordinary words.
    for (size_t b = 0; b < e.value.size();) {
      size_t space = e.value.find(' ', b);
      if (space == std::string::npos) space = e.value.size();
      if (space - b < e.value.size() && e.value[b] >= 'A' && e.value[b] <= 'Z') {
        find_all(e.value.substr(b, space - b), EntityType::kPerson);
      }
      b = space + 1;
    }
  }
  if (known.empty()) return spans;
  // Longer known values first where they start together ("Jane Roe" before "Jane").
  std::sort(known.begin(), known.end(), [](const PiiSpan& a, const PiiSpan& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  const size_t detected = spans.size();
  for (const PiiSpan& k : known) {
    bool free =
        std::none_of(spans.begin(), spans.end(), [&](const PiiSpan& s) { return Overlaps(s, k); });
    if (free) spans.push_back(k);
  }
  if (spans.size() > detected) {
    std::sort(spans.begin(), spans.end(),
              [](const PiiSpan& a, const PiiSpan& b) { return a.start < b.start; });
  }
  return spans;
}

}  // namespace chorus
