// End-to-end: the gate and witness examples, run by the real `chorus` binary on the offline
// model and against the fake LLM server (OpenAI and Anthropic wire formats) with scripted
// answers: a draft that fails its gate and then passes, a witness vote that is disputed until
// a third witness validates it, and one that stays disputed.
#include <gtest/gtest.h>

#include "e2e/cli_harness.h"
#include "support/fake_llm_server.h"

namespace chorus::e2e {
namespace {

using chorus::test::FakeLlmServer;

const std::string kGates = std::string(CHORUS_SOURCE_DIR) + "/examples/strategy-gates.yaml";
const std::string kWitness = std::string(CHORUS_SOURCE_DIR) + "/examples/witness-decision.yaml";
const std::string kFacts = std::string(CHORUS_SOURCE_DIR) + "/examples/witness-decision-facts.md";

nlohmann::json Rule(const std::string& agent, const std::vector<std::string>& replies) {
  return {{"match", {{"agent", agent}}}, {"replies", replies}};
}

// Runs `team` with both of its models pointed at `server` and keys set, so nothing runs offline.
test::ExitStatus RunOnServer(const FakeLlmServer& server, const std::string& team,
                             std::vector<std::string> args) {
  std::vector<std::string> argv = {"run",
                                   team,
                                   "--base-url",
                                   "fast=" + server.openai_base_url(),
                                   "--base-url",
                                   "deep=" + server.anthropic_base_url(),
                                   "--no-offline-fallback"};
  if (team == kWitness) {
    argv.insert(argv.end(), {"--base-url", "broad=" + server.openai_base_url()});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return Chorus(argv, {{"OPENAI_API_KEY", "test-key"}, {"ANTHROPIC_API_KEY", "test-key"}});
}

std::vector<std::string> Texts(const FakeLlmServer& server, const std::string& agent) {
  std::vector<std::string> out;
  for (const auto& r : server.Requests()) {
    if (r.value("agent", nlohmann::json()) == agent) out.push_back(r["body"].dump());
  }
  return out;
}

TEST(QualityExamples, BothRunOffline) {
  Scratch dir;
  std::string store = dir.Path("chorus.db");
  auto gates = Chorus(
      {"run", kGates, "--input", "request=Enter the Nordic market", "--store", store, "--json"});
  ASSERT_EQ(gates.exit_code, 0) << gates.stderr_text;
  EXPECT_EQ(JsonOut(gates)["status"], "completed");
  auto show = Chorus({"show", JsonOut(gates)["run_id"], "--store", store});
  EXPECT_NE(show.stdout_text.find("gate.verdict"), std::string::npos) << show.stdout_text;
  EXPECT_NE(show.stdout_text.find("judge reviewer not scored (offline model)"), std::string::npos)
      << show.stdout_text;

  auto witness = Chorus({"run", kWitness, "--input", "decision=Move to Frankfurt?", "--input",
                         "facts=@" + kFacts, "--store", store, "--json"});
  ASSERT_EQ(witness.exit_code, 0) << witness.stderr_text;
  EXPECT_EQ(JsonOut(witness)["status"], "completed");
  show = Chorus({"show", JsonOut(witness)["run_id"], "--store", store});
  EXPECT_NE(show.stdout_text.find("witness.verdict"), std::string::npos);
  EXPECT_NE(show.stdout_text.find("validated (2 of 2 asked agree"), std::string::npos)
      << show.stdout_text;
}

TEST(QualityExamples, GatedDraftFailsThenPassesAgainstTheFakeServer) {
  const std::string draft =
      "## Goals\nWin 200 Nordic customers by December.\n## Moves\nOpen a Stockholm office; "
      "partner with two accounting firms; localise invoices for Sweden, Norway and Denmark.\n"
      "## Risks\nLocal e-invoicing rules differ; mitigation: hire a compliance lead first. "
      "Currency swings eat margin; mitigation: price in local currency and hedge quarterly.";
  nlohmann::json script = {
      {"default", {{"reply", "unscripted"}}},
      {"rules",
       {Rule("researcher", {"## Market\nGrowing.\n## Competitors\nFortnox.\n## Sources\nSCB."}),
        Rule("strategist", {draft, draft + "\nOwners: Ana (office), Ben (partners)."}),
        Rule("reviewer", {R"({"score": 5, "reasons": ["Moves have no owners"]})",
                          R"({"score": 8, "reasons": []})"}),
        Rule(
            "synthesizer",
            {"## Recommendation\nGo.\n## Why\nDemand.\n## Risks\nRules.\n## Next steps\nHire."})}}};
  auto server = FakeLlmServer::Start({.script = script});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  auto run = RunOnServer(*server, kGates,
                         {"--input", "request=Nordics", "--store", dir.Path("s.db"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  nlohmann::json out = JsonOut(run);
  EXPECT_EQ(out["status"], "completed");
  std::vector<std::string> strategist = Texts(*server, "strategist");
  ASSERT_EQ(strategist.size(), 2u);
  EXPECT_NE(strategist[1].find("judge reviewer scored 5/10 (pass: 7): Moves have no owners"),
            std::string::npos);
  std::vector<std::string> synthesizer = Texts(*server, "synthesizer");
  ASSERT_EQ(synthesizer.size(), 1u);
  EXPECT_NE(synthesizer[0].find("Owners: Ana"), std::string::npos) << "the passing draft";

  auto show = Chorus({"show", out["run_id"], "--store", dir.Path("s.db")});
  EXPECT_NE(show.stdout_text.find("attempt 1 failed, score 5"), std::string::npos)
      << show.stdout_text;
  EXPECT_NE(show.stdout_text.find("→ retry"), std::string::npos);
  EXPECT_NE(show.stdout_text.find("attempt 2 passed, score 8 → accept"), std::string::npos);
}

nlohmann::json WitnessScript(const std::string& counsel) {
  return {{"default", {{"reply", "unscripted"}}},
          {"rules",
           {Rule("strategist", {"## Recommendation\nMove.\n## Reasons\nLaw.\n## Risks\nNotice."}),
            Rule("finance", {"Yes."}), Rule("operations", {"No."}), Rule("counsel", {counsel}),
            Rule("secretary", {"## Decision\nD.\n## Evidence\nE.\n## Open questions\nQ."})}}};
}

TEST(QualityExamples, WitnessDisputedUntilAThirdWitnessValidates) {
  auto server = FakeLlmServer::Start({.script = WitnessScript("yes")});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  auto run = RunOnServer(*server, kWitness,
                         {"--input", "decision=Move to Frankfurt?", "--input", "facts=@" + kFacts,
                          "--store", dir.Path("s.db"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  nlohmann::json out = JsonOut(run);
  EXPECT_EQ(Texts(*server, "counsel").size(), 1u);
  std::vector<std::string> secretary = Texts(*server, "secretary");
  ASSERT_EQ(secretary.size(), 1u);
  EXPECT_NE(secretary[0].find("verdict on feasibility is 'validated'"), std::string::npos);
  auto show = Chorus({"show", out["run_id"], "--store", dir.Path("s.db")});
  EXPECT_NE(show.stdout_text.find("witness.extended"), std::string::npos) << show.stdout_text;
  EXPECT_NE(show.stdout_text.find("asking 1 more witness(es) [\"counsel\"]"), std::string::npos);
  EXPECT_NE(show.stdout_text.find("validated (2 of 3 asked agree"), std::string::npos);
}

TEST(QualityExamples, WitnessStaysDisputedAndTheMemoDefers) {
  auto server = FakeLlmServer::Start({.script = WitnessScript("Unclear without the contracts.")});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  auto run = RunOnServer(
      *server, kWitness,
      {"--input", "decision=Move to Frankfurt?", "--store", dir.Path("s.db"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  std::vector<std::string> secretary = Texts(*server, "secretary");
  ASSERT_EQ(secretary.size(), 1u);
  EXPECT_NE(secretary[0].find("verdict on feasibility is 'disputed'"), std::string::npos);
  auto show = Chorus({"show", JsonOut(run)["run_id"], "--store", dir.Path("s.db")});
  EXPECT_NE(show.stdout_text.find("disputed (0 of 3 asked agree"), std::string::npos)
      << show.stdout_text;
}

TEST(QualityLint, WarnsAboutWitnessesOnOneModelWithoutFailing) {
  Scratch dir;
  std::string team = dir.Write("team.yaml", R"(name: w
agents:
  a: { role: "A." }
  b: { role: "B." }
flow:
  - witness: same
    question: "Q?"
    agents: [ a, b ]
)");
  auto lint = Chorus({"lint", team});
  EXPECT_EQ(lint.exit_code, 0) << lint.stderr_text;
  EXPECT_NE(lint.stderr_text.find(team + ":6:5: warning: witness 'same': all 2 witnesses run on "
                                         "model 'offline'"),
            std::string::npos)
      << lint.stderr_text;
  EXPECT_NE(lint.stdout_text.find("ok"), std::string::npos);
  auto json = Chorus({"lint", team, "--json"});
  EXPECT_EQ(JsonOut(json)["ok"], true);
  EXPECT_EQ(JsonOut(json)["diagnostics"].size(), 1u);
  auto run = Chorus({"run", team, "--store", dir.Path("s.db"), "--quiet"});
  EXPECT_EQ(run.exit_code, 0) << "a warning never blocks a run: " << run.stderr_text;
}

}  // namespace
}  // namespace chorus::e2e
