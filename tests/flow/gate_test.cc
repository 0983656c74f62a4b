// Quality gates: the local checks as functions, then whole runs against the fake LLM server
// whose scripted answers drive every branch — retry with feedback, judge below and above its
// threshold, escalation, failure — and the offline model.
#include "flow/gate.h"

#include <gtest/gtest.h>

#include "flow/quality_harness.h"

namespace chorus {
namespace {

using test::QualityRun;
using test::Reply;

GateSpec Gate(std::vector<GateCheck> checks) {
  GateSpec gate;
  gate.checks = std::move(checks);
  return gate;
}

GateCheck Check(GateCheckKind kind) {
  GateCheck c;
  c.kind = kind;
  return c;
}

TEST(GateChecks, LocalChecksQuoteWhatIsWrong) {
  GateCheck sections = Check(GateCheckKind::kSections);
  sections.sections = {"Goals", "Moves"};
  GateCheck regex = Check(GateCheckKind::kRegex);
  regex.regex = "Budget: \\d+";
  GateCheck min_words = Check(GateCheckKind::kMinWords);
  min_words.words = 5;
  GateRound round = StartGateRound(Gate({sections, regex, min_words}),
                                   StepOutput{"## Goals\n\nGrow.", nullptr}, 1, "writer");
  ASSERT_EQ(round.results.size(), 3u);
  EXPECT_FALSE(GatePassed(round));
  EXPECT_NE(round.results[0].detail.find("'Moves'"), std::string::npos) << round.results[0].detail;
  EXPECT_EQ(round.results[1].detail,
            "expected text matching the pattern /Budget: \\d+/, found no match");
  EXPECT_EQ(round.results[2].detail, "expected at least 5 words, found 2");
  std::vector<std::string> feedback = GateFeedback(round);
  ASSERT_EQ(feedback.size(), 3u);
  EXPECT_EQ(feedback[2],
            "The quality gate's min_words check failed: expected at least 5 words, "
            "found 2");
}

TEST(GateChecks, SchemaAndMaxWordsPass) {
  GateCheck schema = Check(GateCheckKind::kSchema);
  schema.schema = {{"type", "object"}, {"required", {"go"}}};
  GateCheck max_words = Check(GateCheckKind::kMaxWords);
  max_words.words = 3;
  GateRound round =
      StartGateRound(Gate({schema, max_words}), StepOutput{"{\"go\": true}", nullptr}, 1, "w");
  EXPECT_TRUE(GatePassed(round)) << GateVerdictJson(round).dump();
}

TEST(GateChecks, JudgeIsNotAskedWhenALocalCheckFailed) {
  GateCheck min_words = Check(GateCheckKind::kMinWords);
  min_words.words = 100;
  GateCheck judge = Check(GateCheckKind::kJudge);
  judge.judge = "reviewer";
  GateRound round = StartGateRound(Gate({min_words, judge}), StepOutput{"short", nullptr}, 1, "w");
  EXPECT_EQ(round.judges_pending, 0);
  EXPECT_TRUE(round.results[1].skipped);
  EXPECT_EQ(GateFeedback(round).size(), 1u);  // the judge's non-verdict is no reason
}

TEST(GateChecks, JudgeScoreAgainstThreshold) {
  GateCheck judge = Check(GateCheckKind::kJudge);
  judge.judge = "reviewer";
  judge.pass = 7;
  GateCheckResult low = JudgeResult(judge, {{"score", 6.5}, {"reasons", {"No dates"}}});
  EXPECT_FALSE(low.passed);
  EXPECT_EQ(low.detail, "judge reviewer scored 6.5/10 (pass: 7): No dates");
  EXPECT_TRUE(JudgeResult(judge, {{"score", 7}, {"reasons", nlohmann::json::array()}}).passed);
}

TEST(GateChecks, CountsWordsNotMarkup) {
  EXPECT_EQ(CountWords("## Goals\n\n- grow 10% — fast"), 4u);
  EXPECT_EQ(CountWords(""), 0u);
  EXPECT_EQ(CountWords("Überall ist Wachstum"), 3u);
}

TEST(GateSyntax, ReadsEveryCheckAndTheFailurePolicy) {
  Result<Team> team = ParseTeam(R"(name: t
agents:
  writer: { role: "W." }
  reviewer: { role: "R." }
  senior: { role: "S." }
flow:
  - task: draft
    agent: writer
    brief: { objective: "Draft", output: markdown }
    gate:
      checks:
        - sections: [ Goals, Moves ]
        - schema: { type: object }
        - regex: "Budget: [0-9]+"
        - min_words: 200
        - max_words: 800
        - judge: reviewer
          rubric: "Sound"
          pass: 7.5
      retries: 1
      on_fail: escalate
      escalate_to: senior
)",
                                "t.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  const GateSpec& gate = *team->flow[0].gate;
  ASSERT_EQ(gate.checks.size(), 6u);
  EXPECT_EQ(gate.checks[0].sections, (std::vector<std::string>{"Goals", "Moves"}));
  EXPECT_EQ(gate.checks[1].schema, nlohmann::json({{"type", "object"}}));
  EXPECT_EQ(gate.checks[2].regex, "Budget: [0-9]+");
  EXPECT_EQ(gate.checks[3].words, 200);
  EXPECT_EQ(gate.checks[4].kind, GateCheckKind::kMaxWords);
  EXPECT_EQ(gate.checks[5].judge, "reviewer");
  EXPECT_EQ(gate.checks[5].pass, 7.5);
  EXPECT_EQ(gate.checks[5].loc.ToString(), "t.yaml:17:11");
  EXPECT_EQ(gate.retries, 1);
  EXPECT_EQ(gate.on_fail, GateFailAction::kEscalate);
  EXPECT_EQ(gate.escalate_to, "senior");
}

TEST(GateSyntax, EscalatingToTheProducerIsAnError) {
  Result<Team> team = ParseTeam(R"(name: t
agents:
  writer: { role: "W." }
flow:
  - task: draft
    agent: writer
    brief: "Draft"
    gate: { checks: [ { min_words: 5 }, { max_words: 2 } ], on_fail: escalate, escalate_to: writer }
)",
                                "t.yaml");
  ASSERT_FALSE(team);
  EXPECT_NE(team.error().message().find("max_words 2 is below min_words 5"), std::string::npos);
  EXPECT_NE(team.error().message().find(
                "t.yaml:8:5: error: task 'draft': the gate escalates to 'writer', the agent that "
                "produced the output: expected another agent"),
            std::string::npos)
      << team.error().message();
}

const char* kDraftThenPublish = R"(agents:
  writer: { role: "You write.", model: fast }
  reviewer: { role: "You review.", model: fast }
  senior: { role: "You rescue drafts.", model: fast }
  publisher: { role: "You publish.", model: fast }
flow:
  - task: draft
    agent: writer
    brief: { objective: "Draft the plan", output: markdown }
    gate: GATE
  - task: publish
    agent: publisher
    brief: { objective: "Publish this", context: [ "${draft}" ] }
)";

std::string Team(const std::string& gate) {
  std::string team = kDraftThenPublish;
  team.replace(team.find("GATE"), 4, gate);
  return team;
}

class GateRun : public QualityRun {};

TEST_F(GateRun, FailedChecksGoBackToTheWriterThenThePassingDraftIsPublished) {
  RunReport report = Run(
      Script({Rule("writer", {"## Goals\nGrow revenue.", "## Goals\nGrow.\n## Moves\nHire two."}),
              Rule("publisher", {"published"})}),
      Team("{ checks: [ { sections: [ Goals, Moves ] } ], retries: 2 }"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  std::vector<std::string> writer = Bodies("writer");
  ASSERT_EQ(writer.size(), 2u);
  EXPECT_EQ(writer[0].find("rejected"), std::string::npos);
  EXPECT_NE(writer[0].find("Before anyone uses your answer, a quality gate checks that it has the "
                           "sections Goals, Moves."),
            std::string::npos)
      << "the bar is told up front: " << writer[0];
  EXPECT_NE(writer[1].find("The quality gate's sections check failed: missing section 'Moves'"),
            std::string::npos)
      << writer[1];
  std::vector<std::string> publisher = Bodies("publisher");
  ASSERT_EQ(publisher.size(), 1u);
  EXPECT_NE(publisher[0].find("Hire two."), std::string::npos);
  EXPECT_EQ(publisher[0].find("Grow revenue."), std::string::npos) << "the failed draft leaked";

  auto verdicts = Events(report, "gate.verdict");
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0]["passed"], false);
  EXPECT_EQ(verdicts[0]["action"], "retry");
  EXPECT_EQ(verdicts[0]["attempt"], 1);
  EXPECT_EQ(verdicts[0]["checks"][0]["check"], "sections");
  EXPECT_EQ(verdicts[1]["passed"], true);
  EXPECT_EQ(verdicts[1]["action"], "accept");
  auto completed = Events(report, "step.completed");
  ASSERT_FALSE(completed.empty());
  EXPECT_EQ(completed[0]["_step"], "draft");
  EXPECT_NE(completed[0]["output"].get<std::string>().find("Hire two."), std::string::npos);
}

TEST_F(GateRun, JudgeBelowThresholdSendsItsReasonsAndAboveThresholdPasses) {
  RunReport report =
      Run(Script({Rule("writer", {"Plan A: grow.", "Plan B: grow 10% by June, owner Ana."}),
                  Rule("reviewer", {Reply({{"score", 4}, {"reasons", {"No dates or owners"}}}),
                                    Reply({{"score", 8.5}, {"reasons", nlohmann::json::array()}})}),
                  Rule("publisher", {"published"})}),
          Team("{ checks: [ { judge: reviewer, rubric: \"Dated, owned moves\", pass: 7 } ] }"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  std::vector<std::string> reviewer = Bodies("reviewer");
  ASSERT_EQ(reviewer.size(), 2u);
  EXPECT_NE(reviewer[0].find("Dated, owned moves"), std::string::npos);
  EXPECT_NE(reviewer[0].find("Plan A: grow."), std::string::npos);
  EXPECT_NE(reviewer[1].find("Plan B"), std::string::npos);
  std::vector<std::string> writer = Bodies("writer");
  ASSERT_EQ(writer.size(), 2u);
  EXPECT_NE(writer[1].find("judge reviewer scored 4/10 (pass: 7): No dates or owners"),
            std::string::npos)
      << writer[1];
  auto verdicts = Events(report, "gate.verdict");
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0]["score"], 4);
  EXPECT_EQ(verdicts[1]["score"], 8.5);
  EXPECT_EQ(verdicts[1]["passed"], true);
  EXPECT_NE(Bodies("publisher").at(0).find("Plan B"), std::string::npos);
}

TEST_F(GateRun, EscalatesWithTheFailedOutputAndReasons) {
  RunReport report = Run(
      Script({Rule("writer", {"too short"}),
              Rule("senior", {"A complete plan with goals, moves, owners and dates for everyone."}),
              Rule("publisher", {"published"})}),
      Team("{ checks: [ { min_words: 8 } ], retries: 1, on_fail: escalate, escalate_to: senior }"));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_EQ(Bodies("writer").size(), 2u);  // the first try and one retry
  std::vector<std::string> senior = Bodies("senior");
  ASSERT_EQ(senior.size(), 1u);
  EXPECT_NE(senior[0].find("too short"), std::string::npos);
  EXPECT_NE(senior[0].find("expected at least 8 words, found 2"), std::string::npos) << senior[0];
  EXPECT_NE(senior[0].find("You rescue drafts."), std::string::npos);
  auto verdicts = Events(report, "gate.verdict");
  ASSERT_EQ(verdicts.size(), 3u);
  EXPECT_EQ(verdicts[0]["action"], "retry");
  EXPECT_EQ(verdicts[1]["action"], "escalate");
  EXPECT_EQ(verdicts[1]["escalate_to"], "senior");
  EXPECT_EQ(verdicts[2]["action"], "accept");
  EXPECT_EQ(verdicts[2]["_agent"], "senior");
  EXPECT_NE(Bodies("publisher").at(0).find("owners and dates"), std::string::npos);
}

TEST_F(GateRun, OnFailFailStopsTheRunBeforeTheNextStage) {
  RunReport report = Run(Script({Rule("writer", {"too short"}), Rule("publisher", {"published"})}),
                         Team("{ checks: [ { min_words: 8 } ], on_fail: fail }"));
  EXPECT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("failed the quality gate"), std::string::npos) << report.error;
  EXPECT_NE(report.error.find("expected at least 8 words, found 2"), std::string::npos);
  EXPECT_EQ(Bodies("writer").size(), 1u);
  EXPECT_TRUE(Bodies("publisher").empty()) << "the next stage must never start";
  EXPECT_TRUE(Events(report, "step.completed").empty());
  auto verdicts = Events(report, "gate.verdict");
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0]["action"], "fail");
}

TEST_F(GateRun, RetriesSpentFailTheStep) {
  RunReport report = Run(Script({Rule("writer", {"short"}), Rule("publisher", {"published"})}),
                         Team("{ checks: [ { regex: \"Budget: [0-9]+\" } ], retries: 2 }"));
  EXPECT_EQ(report.status, RunStatus::kFailed);
  EXPECT_EQ(Bodies("writer").size(), 3u);
  EXPECT_TRUE(Bodies("publisher").empty());
  EXPECT_NE(report.error.find("3 time(s)"), std::string::npos) << report.error;
}

TEST_F(GateRun, AJudgeThatCannotAnswerFailsTheGatedStep) {
  RunReport report = Run(Script({Rule("writer", {"Plan."}), Rule("reviewer", {"not json at all"}),
                                 Rule("publisher", {"published"})}),
                         Team("{ checks: [ { judge: reviewer, rubric: \"r\" } ] }"));
  EXPECT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("judge of its quality gate failed"), std::string::npos)
      << report.error;
  EXPECT_TRUE(Bodies("publisher").empty());
}

TEST_F(GateRun, TwoFailingJudgesFailTheStepOnce) {
  RunReport report = Run(
      Script({Rule("writer", {"Plan."}), Rule("reviewer", {"nope"}), Rule("senior", {"nope"}),
              Rule("publisher", {"published"})}),
      Team("{ checks: [ { judge: reviewer, rubric: \"r\" }, { judge: senior, rubric: \"s\" } ] }"));
  EXPECT_EQ(report.status, RunStatus::kFailed);
  int draft_failures = 0;
  for (const auto& e : Events(report, "step.failed")) draft_failures += e["_step"] == "draft";
  EXPECT_EQ(draft_failures, 1);
  EXPECT_EQ(Bodies("reviewer").size(), 3u);  // the judge's own retries on a malformed score
  EXPECT_TRUE(Bodies("publisher").empty());
}

TEST_F(GateRun, MapItemsAreGatedOneByOne) {
  const char* team = R"(agents:
  writer: { role: "You write.", model: fast }
flow:
  - map: notes
    over: [ alpha, beta ]
    agent: writer
    brief: "Write about ${item}"
    gate: { checks: [ { regex: "^OK" } ], retries: 1 }
)";
  RunReport report = Run(Script({{{"match", {{"agent", "writer"}, {"user_contains", "alpha"}}},
                                  {"replies", {"no", "OK alpha"}}},
                                 {{"match", {{"agent", "writer"}, {"user_contains", "beta"}}},
                                  {"replies", {"OK beta"}}}}),
                         team);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_EQ(Bodies("writer").size(), 3u);
  auto verdicts = Events(report, "gate.verdict");
  ASSERT_EQ(verdicts.size(), 3u);
  EXPECT_NE(report.output.find("OK alpha"), std::string::npos);
}

TEST_F(GateRun, OfflineJudgeIsRecordedAsNotScoredAndLocalChecksStillApply) {
  const std::string team =
      Team("{ checks: [ { min_words: 5 }, { judge: reviewer, rubric: \"Clear\", pass: 9 } ] }");
  RunReport report = Run(Script({}), team, /*offline=*/true);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_TRUE(requests_.empty());
  auto verdicts = Events(report, "gate.verdict");
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0]["checks"][1]["skipped"], true);
  EXPECT_NE(verdicts[0]["checks"][1]["detail"].get<std::string>().find("offline"),
            std::string::npos);

  RunReport strict = Run(Script({}), Team("{ checks: [ { max_words: 3 } ], retries: 1 }"),
                         /*offline=*/true);
  EXPECT_EQ(strict.status, RunStatus::kFailed);
  EXPECT_NE(strict.error.find("expected at most 3 words"), std::string::npos) << strict.error;
}

}  // namespace
}  // namespace chorus
