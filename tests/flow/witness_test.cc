// Witness steps: answer comparison as functions, then whole runs against the fake LLM server —
// validated, disputed, adaptive (requests counted at the server), every compare mode, and
// independence (no witness is shown another's answer) — and on the offline model.
#include "flow/witness.h"

#include <gtest/gtest.h>

#include "flow/quality_harness.h"

namespace chorus {
namespace {

using test::QualityRun;
using test::Reply;

TEST(WitnessCompare, NormalizesCaseWhitespacePunctuationAndYesNo) {
  EXPECT_EQ(NormalizeAnswer("  Yes, it is feasible. "), "yes");
  EXPECT_EQ(NormalizeAnswer("NO."), "no");
  EXPECT_EQ(NormalizeAnswer("true"), "yes");
  EXPECT_EQ(NormalizeAnswer("The  Frankfurt region."), "the frankfurt region");
  EXPECT_EQ(NormalizeAnswer("the frankfurt-region"), "the frankfurtregion");
  EXPECT_EQ(NormalizeAnswer("About 1,250.5 EUR!"), "about 1,250.5 eur");
  EXPECT_EQ(NormalizeAnswer("..."), "");
}

Step WitnessStep(WitnessSpec spec, int agents) {
  Step step;
  step.kind = StepKind::kWitness;
  step.id = "w";
  for (int i = 0; i < agents; ++i) step.agents.push_back("a" + std::to_string(i));
  step.witness = spec;
  return step;
}

std::vector<WitnessVote> Votes(const WitnessSpec& spec, const std::vector<std::string>& answers) {
  std::vector<WitnessVote> votes;
  for (size_t i = 0; i < answers.size(); ++i) {
    StepOutput out{answers[i], nlohmann::json::parse(answers[i], nullptr, false)};
    if (out.json.is_discarded()) out.json = nullptr;
    votes.push_back(MakeVote(spec, static_cast<int>(i), "a" + std::to_string(i), out));
  }
  return votes;
}

TEST(WitnessCompare, NumericToleranceGroupsAroundTheFirstVote) {
  WitnessSpec spec;
  spec.compare = WitnessCompareKind::kNumeric;
  spec.tolerance = 0.5;
  auto votes = Votes(spec, {"About 12.3 weeks", "12.7", "no idea", "15"});
  auto groups = GroupVotes(spec, votes);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0], (std::vector<int>{0, 1}));
  EXPECT_EQ(votes[2].problem, "the answer holds no number");
}

TEST(WitnessCompare, JsonFieldIgnoresTheRestOfTheAnswer) {
  WitnessSpec spec;
  spec.compare = WitnessCompareKind::kJsonField;
  spec.field = "region";
  auto votes = Votes(spec, {R"({"region": "Frankfurt", "why": "law"})",
                            R"({"region": "frankfurt.", "why": "latency"})", R"({"why": "x"})"});
  auto groups = GroupVotes(spec, votes);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].size(), 2u);
  EXPECT_EQ(votes[2].problem, "the answer has no field 'region'");
}

TEST(WitnessCompare, AdaptiveAsksOnlyWhatCanStillMakeAQuorum) {
  WitnessSpec spec;
  spec.quorum = 3;
  spec.adaptive = true;
  Step step = WitnessStep(spec, 5);
  EXPECT_EQ(InitialWitnesses(step), 3);
  WitnessState state;
  state.asked = 3;
  state.votes = Votes(spec, {"yes", "no", "yes"});
  WitnessDecision d = DecideWitness(step, state, GroupVotes(spec, state.votes));
  EXPECT_EQ(d.next, WitnessDecision::Next::kAskMore);
  EXPECT_EQ(d.ask_more, 1);
  state.asked = 5;
  state.votes = Votes(spec, {"yes", "no", "yes", "no", "maybe"});
  d = DecideWitness(step, state, GroupVotes(spec, state.votes));
  EXPECT_EQ(d.next, WitnessDecision::Next::kDecided);
  EXPECT_EQ(d.verdict, WitnessVerdict::kDisputed);
}

TEST(WitnessCompare, JudgeGroupsCoverEveryVoteOnce) {
  auto groups = GroupsFromJudge({{"groups", {{1, 3}, {3, 9}, {}}}}, 4);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0], (std::vector<int>{0, 2}));
  EXPECT_EQ(groups[1], (std::vector<int>{1}));
  EXPECT_EQ(groups[2], (std::vector<int>{3}));
}

// Three witnesses on one model here; the lint warning about that is tested separately.
std::string WitnessTeam(const std::string& witness, const std::string& extra_agents = "") {
  return R"(agents:
  a: { role: "Witness A.", model: fast }
  b: { role: "Witness B.", model: fast }
  c: { role: "Witness C.", model: fast }
  user: { role: "You act on verdicts.", model: fast }
)" + extra_agents +
         R"(flow:
  - witness: feasible
    question: "Is the plan feasible?"
)" + witness +
         R"(  - task: act
    agent: user
    brief: { objective: "Verdict ${feasible.verdict}; answer ${feasible.answer}" }
)";
}

class WitnessRun : public QualityRun {};

TEST_F(WitnessRun, ThreeAgreeingWitnessesValidate) {
  RunReport report = Run(Script({Rule("a", {"Yes."}), Rule("b", {"yes"}),
                                 Rule("c", {"YES, within budget"}), Rule("user", {"done"})}),
                         WitnessTeam("    agents: [ a, b, c ]\n"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  auto verdict = Events(report, "witness.verdict");
  ASSERT_EQ(verdict.size(), 1u);
  EXPECT_EQ(verdict[0]["verdict"], "validated");
  EXPECT_EQ(verdict[0]["answer"], "Yes.");
  EXPECT_EQ(verdict[0]["agreeing"], 3);
  EXPECT_EQ(verdict[0]["quorum"], 2);  // a majority of three
  ASSERT_EQ(verdict[0]["votes"].size(), 3u);
  EXPECT_EQ(Events(report, "witness.vote").size(), 3u);
  ASSERT_EQ(Bodies("user").size(), 1u);
  EXPECT_NE(Bodies("user")[0].find("Verdict validated; answer Yes."), std::string::npos);
}

TEST_F(WitnessRun, DisagreementIsDisputedAndTheStepStillCompletes) {
  RunReport report = Run(
      Script({Rule("a", {"yes"}), Rule("b", {"no"}), Rule("c", {"maybe"}), Rule("user", {"done"})}),
      WitnessTeam("    agents: [ a, b, c ]\n    quorum: 2\n"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  auto verdict = Events(report, "witness.verdict");
  ASSERT_EQ(verdict.size(), 1u);
  EXPECT_EQ(verdict[0]["verdict"], "disputed");
  EXPECT_EQ(verdict[0]["answer"], "");
  EXPECT_NE(Bodies("user").at(0).find("Verdict disputed"), std::string::npos);
}

TEST_F(WitnessRun, OnDisputeFailStopsTheRun) {
  RunReport report = Run(
      Script({Rule("a", {"yes"}), Rule("b", {"no"}), Rule("c", {"maybe"}), Rule("user", {"done"})}),
      WitnessTeam("    agents: [ a, b, c ]\n    on_dispute: fail\n"));
  EXPECT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("witness 'feasible' is disputed"), std::string::npos) << report.error;
  EXPECT_TRUE(Bodies("user").empty());
}

TEST_F(WitnessRun, AdaptiveAsksOnlyTheQuorumWhenItAgrees) {
  RunReport report = Run(
      Script({Rule("a", {"yes"}), Rule("b", {"Yes!"}), Rule("c", {"no"}), Rule("user", {"done"})}),
      WitnessTeam("    agents: [ a, b, c ]\n    quorum: 2\n    adaptive: true\n"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_EQ(Bodies("a").size(), 1u);
  EXPECT_EQ(Bodies("b").size(), 1u);
  EXPECT_TRUE(Bodies("c").empty()) << "the third witness was not needed";
  EXPECT_TRUE(Events(report, "witness.extended").empty());
  EXPECT_EQ(Events(report, "witness.verdict").at(0)["asked"], 2);
}

TEST_F(WitnessRun, AdaptiveAsksMoreOnDisagreementAndNoWitnessSeesAnother) {
  RunReport report =
      Run(Script({Rule("a", {"yes, token-alpha"}), Rule("b", {"no, token-bravo"}),
                  Rule("c", {"no, token-charlie"}), Rule("user", {"done"})}),
          WitnessTeam("    agents: [ a, b, c ]\n    quorum: 2\n    adaptive: true\n"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  ASSERT_EQ(Bodies("c").size(), 1u);
  auto extended = Events(report, "witness.extended");
  ASSERT_EQ(extended.size(), 1u);
  EXPECT_EQ(extended[0]["adding"], 1);
  auto verdict = Events(report, "witness.verdict").at(0);
  EXPECT_EQ(verdict["verdict"], "validated");
  EXPECT_EQ(verdict["answer"], "no, token-bravo");
  EXPECT_EQ(verdict["asked"], 3);
  // Independence: the third witness was asked after two answered, and saw neither answer.
  for (const char* agent : {"a", "b", "c"}) {
    for (const std::string& body : Bodies(agent)) {
      for (const char* token : {"token-alpha", "token-bravo", "token-charlie"}) {
        EXPECT_EQ(body.find(token), std::string::npos) << agent << " saw " << token;
      }
    }
  }
}

TEST_F(WitnessRun, JsonFieldCompare) {
  RunReport report =
      Run(Script({Rule("a", {Reply({{"region", "Frankfurt"}, {"why", "law"}})}),
                  Rule("b", {Reply({{"region", "frankfurt"}, {"why", "latency"}})}),
                  Rule("c", {Reply({{"region", "Dublin"}})}), Rule("user", {"done"})}),
          WitnessTeam("    agents: [ a, b, c ]\n    compare: \"json:region\"\n"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  auto verdict = Events(report, "witness.verdict").at(0);
  EXPECT_EQ(verdict["verdict"], "validated");
  EXPECT_EQ(verdict["answer"], "Frankfurt");
  EXPECT_EQ(verdict["compare"], "json:region");
  EXPECT_NE(Bodies("a").at(0).find("\"region\""), std::string::npos) << "the schema names it";
}

TEST_F(WitnessRun, AWitnessThatCannotAnswerFailsTheStep) {
  RunReport report =
      Run(Script({Rule("a", {Reply({{"region", "Frankfurt"}})}),
                  Rule("b", {Reply({{"region", "Frankfurt"}})}),
                  Rule("c", {"I refuse to answer in JSON"}), Rule("user", {"done"})}),
          WitnessTeam("    agents: [ a, b, c ]\n    compare: \"json:region\"\n"));
  EXPECT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("feasible[2]"), std::string::npos) << report.error;
  EXPECT_TRUE(Events(report, "witness.verdict").empty());
  EXPECT_TRUE(Bodies("user").empty());
}

TEST_F(WitnessRun, NumericCompareWithinTolerance) {
  RunReport report = Run(Script({Rule("a", {"About 12.3 weeks"}), Rule("b", {"12.6"}),
                                 Rule("c", {"20 weeks"}), Rule("user", {"done"})}),
                         WitnessTeam("    agents: [ a, b, c ]\n    compare: \"numeric:0.5\"\n"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  auto verdict = Events(report, "witness.verdict").at(0);
  EXPECT_EQ(verdict["verdict"], "validated");
  EXPECT_EQ(verdict["answer"], "About 12.3 weeks");
  EXPECT_EQ(verdict["votes"][2]["group"], 2);
}

TEST_F(WitnessRun, JudgeDecidesWhichDifferentlyWordedAnswersAgree) {
  const std::string judge = "  referee: { role: \"You compare answers.\", model: fast }\n";
  RunReport report =
      Run(Script({Rule("a", {"The 30-day notice period"}),
                  Rule("b", {"Customers must be told 30 days ahead"}), Rule("c", {"The budget"}),
                  Rule("referee", {Reply({{"groups", {{1, 2}, {3}}}})}), Rule("user", {"done"})}),
          WitnessTeam("    agents: [ a, b, c ]\n    compare: \"judge:referee\"\n", judge));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  std::vector<std::string> referee = Bodies("referee");
  ASSERT_EQ(referee.size(), 1u);
  EXPECT_NE(referee[0].find("Customers must be told 30 days ahead"), std::string::npos);
  auto verdict = Events(report, "witness.verdict").at(0);
  EXPECT_EQ(verdict["verdict"], "validated");
  EXPECT_EQ(verdict["answer"], "The 30-day notice period");
  EXPECT_EQ(Events(report, "witness.compare").size(), 1u);
}

TEST_F(WitnessRun, JudgeIsNotAskedWhenTheAnswersAreTheSameText) {
  const std::string judge = "  referee: { role: \"You compare answers.\", model: fast }\n";
  RunReport report = Run(
      Script({Rule("a", {"No."}), Rule("b", {"no"}), Rule("c", {"NO"}), Rule("user", {"done"})}),
      WitnessTeam("    agents: [ a, b, c ]\n    compare: \"judge:referee\"\n", judge));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_TRUE(Bodies("referee").empty());
  EXPECT_EQ(Events(report, "witness.verdict").at(0)["verdict"], "validated");
}

TEST_F(WitnessRun, OfflineWitnessesAgreeAndSaySo) {
  RunReport report = Run(Script({}), WitnessTeam("    agents: [ a, b, c ]\n    adaptive: true\n"),
                         /*offline=*/true);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_TRUE(requests_.empty());
  auto verdict = Events(report, "witness.verdict").at(0);
  EXPECT_EQ(verdict["verdict"], "validated");
  EXPECT_EQ(verdict["asked"], 2);
  EXPECT_NE(verdict["answer"].get<std::string>().find("offline"), std::string::npos);
}

TEST_F(WitnessRun, OfflineJudgeFallsBackToNormalizedTextAndSaysWhy) {
  const std::string judge = "  referee: { role: \"You compare answers.\" }\n";  // offline
  RunReport report =
      Run(Script({Rule("a", {"The notice period"}), Rule("b", {"the notice period."}),
                  Rule("c", {"Budget"}), Rule("user", {"done"})}),
          WitnessTeam("    agents: [ a, b, c ]\n    compare: \"judge:referee\"\n", judge));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  auto verdict = Events(report, "witness.verdict").at(0);
  EXPECT_EQ(verdict["verdict"], "validated");
  EXPECT_NE(verdict["note"].get<std::string>().find("offline model"), std::string::npos);
  EXPECT_TRUE(Events(report, "witness.compare").empty());
}

TEST(WitnessSyntax, MappingFormTakesTheArchitecturesTaskKey) {
  Result<Team> team = ParseTeam(R"(name: t
agents:
  a: { role: "A." }
  b: { role: "B.", model: other }
models:
  other: { provider: openai, model: gpt-4o, base_url: "http://127.0.0.1:9/v1" }
flow:
  - task: draft
    agent: a
    brief: "Draft"
  - witness: { task: draft, question: "Feasible?", agents: [ a, b ], quorum: 2,
               compare: "numeric:0.25", adaptive: true, on_dispute: fail }
)",
                                "t.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  const Step& w = team->flow[1];
  EXPECT_EQ(w.kind, StepKind::kWitness);
  EXPECT_EQ(w.id, "witness");
  EXPECT_EQ(w.brief.objective, "Feasible?");
  EXPECT_EQ(w.brief.context, (std::vector<std::string>{"${draft}"}));
  EXPECT_EQ(w.witness.compare, WitnessCompareKind::kNumeric);
  EXPECT_EQ(w.witness.tolerance, 0.25);
  EXPECT_TRUE(w.witness.adaptive);
  EXPECT_TRUE(w.witness.fail_on_dispute);
  EXPECT_TRUE(LintTeam(*team).empty());
}

TEST(WitnessLint, WarnsWhenEveryWitnessSharesOneModel) {
  const std::string yaml = R"(name: w
models:
  fast: { provider: openai, model: gpt-4o-mini }
  also_fast: { provider: openai, model: gpt-4o-mini }
  deep: { provider: anthropic, model: claude-sonnet-4 }
agents:
  a: { role: "A.", model: fast }
  b: { role: "B.", model: also_fast }
  c: { role: "C.", model: deep }
flow:
  - witness: same
    question: "Q?"
    agents: [ a, b ]
  - witness: mixed
    question: "Q?"
    agents: [ a, c ]
)";
  Result<Team> team = ParseTeam(yaml, "w.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_TRUE(CheckTeam(*team).empty()) << "warnings never block a run";
  std::vector<Diagnostic> lint = LintTeam(*team);
  ASSERT_EQ(lint.size(), 1u);
  EXPECT_EQ(lint[0].severity, Severity::kWarning);
  EXPECT_EQ(lint[0].ToString(),
            "w.yaml:11:5: warning: witness 'same': all 2 witnesses run on one model ('also_fast' "
            "and 'fast' are the same endpoint and model); "
            "their errors are correlated, so a unanimous wrong answer is likely: give the "
            "witnesses different models");
}

}  // namespace
}  // namespace chorus
