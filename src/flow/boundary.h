// Boundary: a run's data-locality guard. Every value that goes into a brief (an input, a step's
// output, a map item, a synthesis source) passes through it with its sensitivity label; a value
// labelled above what the receiving agent may read in clear (its clearance, capped by its
// model's locality) is pseudonymized through the run's vault, or refused when the policy says
// `on_violation: block`. A value the agent may read has the vault's pseudonyms restored. The
// vault lives in the run's local store (Store::SaveVault), never in events.
//
// One Boundary per run, used from the scheduler's thread only; not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chorus/privacy.h"
#include "chorus/store.h"
#include "chorus/team.h"

namespace chorus {

class Boundary;

// The values of one brief on their way to one agent. Records what crossed so that the
// scheduler can log it (BoundaryEvents) before the brief takes effect.
class Crossing {
 public:
  // The value to put into the brief, or an error naming the source, labels, agent and model
  // when the policy blocks it. `source` names where the value comes from: "inputs.notes",
  // "situation", "item".
  Result<std::string> Admit(const std::string& source, Label label, std::string value);
  // The highest label among the admitted values: the label of what the agent produces.
  Label read_label() const { return read_label_; }
  // boundary.crossed payloads: {from, to, endpoint, locality, label, allowed, action, counts}
  // with action pseudonymized, blocked or restored. Counts by entity type, never values.
  std::vector<nlohmann::json> Events() const;

 private:
  friend class Boundary;
  struct Record {
    std::vector<std::string> from;
    Label label = Label::kPublic;
    std::map<std::string, int> counts;
  };
  void Note(Record& record, const std::string& source, Label label);

  Boundary* boundary_ = nullptr;  // null: labels are tracked, values pass unchanged
  std::string agent_;
  std::string model_;
  std::string locality_;
  Label allowed_ = Label::kConfidential;
  Label read_label_ = Label::kPublic;
  Record pseudonymized_;
  Record blocked_;
  Record restored_;
};

class Boundary {
 public:
  // Builds the guard for one run: reloads the run's vault from `store` (a resumed run keeps its
  // pseudonyms), seeds it with the team's entities as CLIENT, and registers the personal data
  // found in every input some agent may not read, so that a model repeating such a value in a
  // context the detector would miss still has it replaced. Fails when the detector's data
  // cannot be loaded while a crossing is possible: the run must not start unprotected.
  // `team` and `store` must outlive the Boundary.
  static Result<std::unique_ptr<Boundary>> Make(const Team& team,
                                                std::map<std::string, Label> input_labels,
                                                const std::map<std::string, std::string>& inputs,
                                                Store* store, const std::string& run_id);

  Label InputLabel(const std::string& input) const;
  // A crossing into a brief for `agent` (a name in the team).
  Crossing Begin(const std::string& agent);
  // A crossing that only tracks labels (resolving a map's items, for instance).
  static Crossing Track() { return Crossing(); }

  // Saves the pseudonyms issued since the last call. Call before anything they protect is sent.
  Status Persist();
  // The owner's view: every pseudonym of this run's vault replaced by its value.
  std::string ForOwner(std::string_view text) const;
  // Text as a cloud endpoint would see it: personal data and known values pseudonymized.
  std::string Redact(std::string_view text);
  bool active() const { return active_; }

 private:
  friend class Crossing;
  Boundary(const Team& team, std::map<std::string, Label> input_labels, Store* store,
           std::string run_id)
      : team_(team), input_labels_(std::move(input_labels)), store_(store), run_id_(run_id) {}
  // Spans to replace: the detector's, plus every value already in the vault wherever it
  // appears as a whole word and the detector did not cover it.
  std::vector<PiiSpan> SpansToReplace(std::string_view text) const;
  // Labels the pseudonyms issued since the last call with the label of what they replaced.
  void NoteIssued(Label label);
  // Restores the pseudonyms whose values are labelled at most `allowed`; counts them by type.
  std::string RestoreUpTo(std::string_view text, Label allowed,
                          std::map<std::string, int>* counts) const;

  const Team& team_;
  std::map<std::string, Label> input_labels_;
  Store* store_;
  std::string run_id_;
  bool active_ = false;  // some value may be above what some agent may read
  bool block_ = false;
  std::unique_ptr<PiiDetector> detector_;
  Vault vault_;
  std::unordered_map<std::string, Label> label_of_;  // pseudonym -> label of its value
  size_t saved_ = 0;                                 // vault entries already in the store
};

}  // namespace chorus
