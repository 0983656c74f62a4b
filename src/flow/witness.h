// Witnesses: N agents answer the same question independently, and the answers are compared.
//
// Each witness gets its own brief built from the step alone (the question and its context), so
// no witness ever sees another's answer. Answers become WitnessVotes with a comparison key;
// votes with equal keys (or, with a judge, that the judge put together) form groups, and an
// answer backed by `quorum` votes is validated. With `adaptive`, only `quorum` witnesses are
// asked first and more only when they disagree. The scheduler (scheduler_witness.cc) asks, the
// functions here decide. Values and pure functions; thread-compatible.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/brief.h"
#include "chorus/team.h"
#include "flow/step_output.h"

namespace chorus {

struct WitnessVote {
  int witness = 0;  // index into the step's agents
  std::string agent;
  std::string answer;  // the accepted output text
  std::string key;     // what it is compared by; "" when it could not be read (see `problem`)
  std::optional<double> number;  // numeric compare
  std::string problem;
};

// The state of one witness step while it runs.
struct WitnessState {
  std::vector<WitnessVote> votes;
  int asked = 0;  // witnesses asked so far (agents[0..asked))
  int judge_rounds = 0;
  // With a judge: the groups it returned (indices into votes) and how many votes it saw.
  std::vector<std::vector<int>> judged_groups;
  size_t judged_votes = 0;
  std::string judge_note;  // why the judge was not used, when it was not
};

enum class WitnessVerdict { kValidated, kDisputed };

// The votes an answer needs: `quorum`, or a majority of the agents.
int WitnessQuorum(const Step& step);
// How many witnesses are asked at first.
int InitialWitnesses(const Step& step);

// The normalized form of a free-text answer: ASCII case folded, punctuation and surrounding
// whitespace dropped, inner whitespace collapsed, and an answer that starts with yes/no (or
// true/false) reduced to "yes"/"no".
std::string NormalizeAnswer(std::string_view answer);

// Reads `output` (a witness's accepted answer) into a vote, with its comparison key.
WitnessVote MakeVote(const WitnessSpec& spec, int witness, std::string agent,
                     const StepOutput& output);

// Groups the votes by key (numeric: within `tolerance` of a group's first vote), in order of
// first appearance. A vote that could not be read is a group of its own.
std::vector<std::vector<int>> GroupVotes(const WitnessSpec& spec,
                                         const std::vector<WitnessVote>& votes);

// The judge's brief: which of these answers to `question` say the same thing?
DelegationBrief EquivalenceBrief(const std::string& question, const std::vector<WitnessVote>& votes,
                                 const std::string& id);
// The judge's accepted answer as groups of vote indices. Every vote appears exactly once:
// votes the judge left out become groups of their own, repeats keep their first group.
std::vector<std::vector<int>> GroupsFromJudge(const nlohmann::json& answer, size_t votes);

struct WitnessDecision {
  enum class Next { kDecided, kAskMore } next = Next::kDecided;
  int ask_more = 0;  // kAskMore: how many more witnesses
  WitnessVerdict verdict = WitnessVerdict::kDisputed;
  int best_group = -1;  // the largest group (the earliest among equals); -1: no votes
};

// Validated when the largest group has `quorum` votes; otherwise more witnesses are asked while
// some remain and quorum is still reachable; otherwise disputed.
WitnessDecision DecideWitness(const Step& step, const WitnessState& state,
                              const std::vector<std::vector<int>>& groups);

// The step's output: {verdict, answer, quorum, asked, agreeing, compare, votes: [...]}; the
// text is the same JSON, so ${id} shows it all and ${id.verdict} / ${id.answer} pick fields.
StepOutput WitnessOutput(const Step& step, const WitnessState& state,
                         const std::vector<std::vector<int>>& groups,
                         const WitnessDecision& decision);

std::string_view WitnessVerdictName(WitnessVerdict verdict);
std::string WitnessCompareName(const WitnessSpec& spec);

}  // namespace chorus
