// Quality gates: the checks an accepted output must pass before any later step sees it.
//
// A GateRound is one evaluation of one output. The checks that need no model (sections, schema,
// regex, word counts) run when the round starts; each judge check is a question to a reviewer
// agent, whose brief JudgeBrief builds and whose scored answer JudgeResult reads. The
// scheduler (scheduler_gate.cc) sends the judge briefs, records the verdict and acts on it.
// Values and pure functions; thread-compatible.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chorus/brief.h"
#include "chorus/team.h"
#include "flow/step_output.h"

namespace chorus {

struct GateCheckResult {
  std::string check;  // "sections", "min_words", "judge reviewer", ...
  bool passed = false;
  bool pending = false;  // a judge that has not answered yet
  bool skipped = false;  // not evaluated (see `detail`); `passed` says how it counts
  std::string detail;    // why it failed, in words fit for the producing agent; or what passed
  std::optional<double> score;  // judge checks
};

struct GateRound {
  int attempt = 0;                       // the request whose answer is being gated
  std::string agent;                     // who produced it
  StepOutput output;                     // held back until the gate passes
  std::vector<GateCheckResult> results;  // one per check, in the gate's order
  int judges_pending = 0;
};

// Tells the producing agent the bar up front: appends what the gate checks to the brief's
// acceptance, so a first answer can pass.
void AddGateToAcceptance(const GateSpec& gate, DelegationBrief* brief);

// Starts a round: runs every check that needs no model. Judge checks are left pending, unless
// a check without a model already failed (a judge is not paid to score an output that is
// rejected anyway) — then they are skipped.
GateRound StartGateRound(const GateSpec& gate, StepOutput output, int attempt, std::string agent);

// The judge's brief for `check`: score `output`, produced for `produced_for`, against the
// rubric, answering {"score": 0-10, "reasons": [...]}.
DelegationBrief JudgeBrief(const GateCheck& check, const DelegationBrief& produced_for,
                           const std::string& output, const std::string& id);

// The result of a judge check from the judge's accepted JSON answer.
GateCheckResult JudgeResult(const GateCheck& check, const nlohmann::json& answer);

// A judge whose model cannot assess quality (the offline model): recorded as skipped.
GateCheckResult OfflineJudgeResult(const GateCheck& check);

bool GatePassed(const GateRound& round);

// The gate.verdict payload: {attempt, agent, passed, checks: [{check, passed, detail, score?}],
// score?} where score is the lowest judge score.
nlohmann::json GateVerdictJson(const GateRound& round);

// What the producing agent is told on retry: one line per failed check, its reason verbatim.
std::vector<std::string> GateFeedback(const GateRound& round);

// The context item an escalation agent receives: the failed output itself. The reasons it
// failed go with it as feedback (GateFeedback).
std::string EscalationContext(const GateRound& round);

// Whitespace-separated words that contain a letter or digit ("##" and "-" are not words).
size_t CountWords(const std::string& text);

}  // namespace chorus
