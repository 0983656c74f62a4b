// End-to-end: `chorus run` with an agent that keeps one conversation in a small window, on the
// offline model, then `chorus show` telling the rollovers' story.
#include <gtest/gtest.h>

#include "e2e/cli_harness.h"

namespace chorus::e2e {
namespace {

constexpr const char* kTeam = R"(name: diary
agents:
  keeper:
    role: You keep the project diary.
    context: { limit: 2000, rollover_at: 0.75, keep_last: 1 }
flow:
  - map: entries
    agent: keeper
    over: [ "Kick-off held", "FACT: the launch code is ZEBRA-42", "Design review passed",
            "Budget approved", "Supplier chosen", "Prototype built", "Tests written",
            "Beta opened", "Feedback sorted", "Fixes shipped", "Docs written", "Launch set" ]
    brief:
      objective: Log entry ${item_index} of the project diary
      context: [ "${item}" ]
)";

TEST(CliRollover, ShowDisplaysEachGenerationWithItsBrief) {
  Scratch dir;
  const std::string store = dir.Path("chorus.db");
  auto run = Chorus({"run", dir.Write("diary.yaml", kTeam), "--store", store});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  EXPECT_NE(run.stderr_text.find("context rollover to generation 2"), std::string::npos)
      << run.stderr_text;

  nlohmann::json runs = JsonOut(Chorus({"runs", "--store", store, "--json"}));
  ASSERT_EQ(runs.size(), 1u);
  auto show = Chorus({"show", runs[0]["run_id"], "--store", store});
  ASSERT_EQ(show.exit_code, 0) << show.stderr_text;
  const std::string& text = show.stdout_text;
  EXPECT_NE(text.find("conversation.started"), std::string::npos);
  EXPECT_NE(text.find("one conversation, limit 2000 tokens (estimate), rollover at 75%"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("generation 2 (threshold)"), std::string::npos) << text;
  EXPECT_NE(text.find("handoff brief request, attempt 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace chorus::e2e
