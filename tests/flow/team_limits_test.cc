// The team file's endpoint budget, circuit and fallback settings, and the failover helpers that
// read them.
#include <gtest/gtest.h>

#include "chorus/team.h"
#include "flow/failover.h"

namespace chorus {
namespace {

Team Parse(const std::string& models) {
  std::string yaml = "name: t\nmodels:\n" + models +
                     "agents:\n  a: { role: r, model: main }\nflow:\n  - task: x\n    agent: a\n"
                     "    brief: o\n";
  Result<Team> team = ParseTeam(yaml, "team.yaml");
  EXPECT_TRUE(team) << team.error().message();
  return team ? *team : Team{};
}

TEST(TeamLimits, RpmTpmWindowAndCircuitReachTheEndpoint) {
  Team team = Parse(
      "  main: { provider: openai, model: gpt-4o-mini, limits: { rpm: 500, tpm: 200000, "
      "concurrency: 8, window_s: 1.5 }, circuit: { failures: 3, cool_down_s: 0.25 } }\n");
  const ModelSpec* main = team.FindModel("main");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->endpoint.rpm, 500);
  EXPECT_EQ(main->endpoint.tpm, 200000);
  EXPECT_EQ(main->endpoint.concurrency, 8);
  EXPECT_EQ(main->endpoint.limit_window_ms, 1500);
  EXPECT_EQ(main->endpoint.circuit_failures, 3);
  EXPECT_EQ(main->endpoint.circuit_cool_down_ms, 250);
}

TEST(TeamLimits, DefaultsAreUnlimitedBudgetsAndAFiveFailureBreaker) {
  Team team = Parse("  main: { provider: openai, model: gpt-4o-mini }\n");
  const EndpointConfig& e = team.FindModel("main")->endpoint;
  EXPECT_EQ(e.rpm, 0);
  EXPECT_EQ(e.tpm, 0);
  EXPECT_EQ(e.limit_window_ms, 60000);
  EXPECT_EQ(e.circuit_failures, 5);
  EXPECT_EQ(e.circuit_cool_down_ms, 30000);
}

TEST(TeamLimits, ZeroFailuresTurnsTheBreakerOff) {
  Team team = Parse("  main: { provider: openai, model: m, circuit: { failures: 0 } }\n");
  EXPECT_EQ(team.FindModel("main")->endpoint.circuit_failures, 0);
}

TEST(Failover, ChainIsDepthFirstAndVisitsEachModelOnce) {
  Team team = Parse(
      "  main: { provider: openai, model: m1, fallback: [ b, c ] }\n"
      "  b: { provider: openai, model: m2, fallback: [ d ] }\n"
      "  c: { provider: openai, model: m3, fallback: [ d ] }\n"
      "  d: { provider: openai, model: m4 }\n");
  EXPECT_EQ(FallbackChain(team, "main"), (std::vector<std::string>{"main", "b", "d", "c"}));
  EXPECT_EQ(FallbackChain(team, "d"), std::vector<std::string>{"d"});
}

TEST(Failover, BudgetChargesPromptPlusAnswerAllowance) {
  EndpointConfig e;
  e.provider = Provider::kOpenAI;
  e.model = "gpt-4o-mini";
  e.max_tokens = 300;
  ChatRequest r;
  r.messages = {{"system", "You are terse."}, {"user", "hello world"}};
  const int64_t prompt = PromptTokens(e, r.messages);
  // 3 + 2 x 4 of chat framing, and a handful of tokens of text.
  EXPECT_GT(prompt, 11);
  EXPECT_LT(prompt, 25);
  EXPECT_EQ(BudgetTokens(e, r, prompt), prompt + 300);
  r.max_tokens = 50;
  EXPECT_EQ(BudgetTokens(e, r, prompt), prompt + 50);
}

TEST(Failover, SmallerWindowNamesBothWindows) {
  EndpointConfig big;
  big.name = "big";
  big.context_window = 128000;
  EndpointConfig small;
  small.name = "small";
  small.context_window = 8000;
  EXPECT_FALSE(WindowMismatch(big, small, 7000));
  std::optional<std::string> error = WindowMismatch(big, small, 9000);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("'big' (context window 128000 tokens)"), std::string::npos) << *error;
  EXPECT_NE(error->find("'small' (context window 8000 tokens)"), std::string::npos) << *error;
  EXPECT_NE(error->find("9000 tokens"), std::string::npos) << *error;
  small.context_window = 0;  // unknown: assume it fits and let the server say otherwise
  EXPECT_FALSE(WindowMismatch(big, small, 9000));
}

}  // namespace
}  // namespace chorus
