// Conversation, HandoffBrief and the `context:` key, without a model: generations, kept turns,
// marked facts, the handoff request's fit, and the team file's errors.
#include "flow/conversation.h"

#include <gtest/gtest.h>

#include "chorus/handoff_brief.h"
#include "chorus/team.h"
#include "model/offline_client.h"

namespace chorus {
namespace {

ConversationTurn Turn(int i, std::string extra = "") {
  return {"notes[" + std::to_string(i) + "]",
          "# Brief: notes[" + std::to_string(i) + "]\n\n## Objective\n\nNote " + std::to_string(i) +
              " about the plan, with enough words to take some room in the window." + extra,
          "Noted " + std::to_string(i) + ". The plan is unchanged and the next note may follow."};
}

HandoffBrief SomeBrief() {
  HandoffBrief brief;
  brief.key_decisions = {"notes are kept in order"};
  brief.current_state = "twenty notes taken";
  brief.next_steps = {"take the next note"};
  return brief;
}

Conversation Make(int64_t limit, int keep_last = 1) {
  return Conversation("You take notes.", limit, 0.75, keep_last, PromptCounter());
}

TEST(Conversation, MessagesHoldEveryTurnInOrder) {
  Conversation c = Make(4000);
  c.AddTurn(Turn(0));
  c.AddTurn(Turn(1));
  std::vector<ChatMessage> m = c.Messages("next");
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[0].role, "system");
  EXPECT_EQ(m[1].content, Turn(0).user);
  EXPECT_EQ(m[4].role, "assistant");
  EXPECT_EQ(m[5].content, "next");
  EXPECT_GT(c.Count(m), c.Count(Make(4000).Messages("next")));
}

TEST(Conversation, RolloverStartsTheNextGenerationFromTheBriefAndTheLastTurns) {
  Conversation c = Make(4000, 2);
  for (int i = 0; i < 5; ++i) c.AddTurn(Turn(i));
  Conversation::RolloverResult r = c.Rollover(SomeBrief(), "next");
  EXPECT_EQ(r.generation, 2);
  EXPECT_EQ(r.kept_units, (std::vector<std::string>{"notes[3]", "notes[4]"}));
  std::vector<ChatMessage> m = c.Messages("next");
  ASSERT_EQ(m.size(), 6u);
  EXPECT_NE(m[0].content.find("## Handoff brief (generation 2)"), std::string::npos);
  EXPECT_NE(m[0].content.find("twenty notes taken"), std::string::npos);
  EXPECT_EQ(r.tokens_after, c.Count(m));
}

TEST(Conversation, RolloverKeepsFewerTurnsRatherThanStartOverItsThreshold) {
  Conversation c = Make(4000, 3);
  std::string padding;
  for (int i = 0; i < 700; ++i) padding += " word" + std::to_string(i);
  for (int i = 0; i < 3; ++i) c.AddTurn(Turn(i, padding));
  ASSERT_GT(c.Count(c.Messages("next")), c.threshold()) << "the test needs turns that overflow";
  Conversation::RolloverResult r = c.Rollover(SomeBrief(), "next");
  EXPECT_LT(r.kept_units.size(), 3u);
  EXPECT_LE(r.tokens_after, c.threshold());
}

TEST(Conversation, MarkedFactsSurviveEveryGenerationEvenWhenTheBriefOmitsThem) {
  Conversation c = Make(4000);
  c.AddTurn(Turn(0));
  c.AddTurn(Turn(1, "\n\n```text\nFACT: the budget is 40,000 EUR\n```"));
  for (int generation = 2; generation <= 4; ++generation) {
    c.AddTurn(Turn(generation + 10));
    Conversation::RolloverResult r = c.Rollover(SomeBrief(), "next");
    EXPECT_EQ(r.generation, generation);
    EXPECT_EQ(r.facts_merged, 1);
    EXPECT_NE(c.Messages("next")[0].content.find("- FACT: the budget is 40,000 EUR"),
              std::string::npos)
        << "generation " << generation;
  }
}

TEST(Conversation, RestoreRebuildsAGenerationFromWhatTheRolloverRecorded) {
  Conversation live = Make(4000);
  for (int i = 0; i < 4; ++i) live.AddTurn(Turn(i));
  HandoffBrief brief = SomeBrief();
  brief.verbatim_facts = {"FACT: the budget is 40,000 EUR"};
  Conversation::RolloverResult r = live.Rollover(brief, "next");

  Conversation resumed = Make(4000);
  resumed.Restore(r.generation, r.brief, {Turn(3)});
  EXPECT_EQ(resumed.generation(), 2);
  EXPECT_EQ(resumed.facts(), std::vector<std::string>{"FACT: the budget is 40,000 EUR"});
  ASSERT_EQ(resumed.Messages("next").size(), live.Messages("next").size());
  for (size_t i = 0; i < live.Messages("next").size(); ++i) {
    EXPECT_EQ(resumed.Messages("next")[i].content, live.Messages("next")[i].content) << i;
  }
}

TEST(Conversation, HandoffRequestDropsOldestTurnsToFitAndSaysSo) {
  Conversation c = Make(100000);
  for (int i = 0; i < 12; ++i) c.AddTurn(Turn(i, " " + std::string(400, 'q')));
  auto roomy = c.BuildHandoffRequest(100000, {});
  ASSERT_TRUE(roomy) << roomy.error().ToString();
  EXPECT_EQ(roomy->dropped_turns, 0);

  auto tight = c.BuildHandoffRequest(2000, {"$.current_state: missing"});
  ASSERT_TRUE(tight) << tight.error().ToString();
  EXPECT_GT(tight->dropped_turns, 0);
  EXPECT_LE(tight->tokens + 300, 2000);
  const std::string& ask = tight->messages.back().content;
  EXPECT_NE(ask.find("oldest turn(s) of this conversation no longer fit"), std::string::npos);
  EXPECT_NE(ask.find("$.current_state: missing"), std::string::npos);
  EXPECT_EQ(tight->brief.output.schema, HandoffBriefSchema());

  auto impossible = c.BuildHandoffRequest(400, {});
  ASSERT_FALSE(impossible);
  EXPECT_EQ(impossible.error().code(), StatusCode::kContextExceeded);
}

TEST(Conversation, MovesIntoASmallerWindowAsFailoverNeeds) {
  Conversation c = Make(16000);
  for (int i = 0; i < 20; ++i) c.AddTurn(Turn(i, " " + std::string(300, 'q')));
  ASSERT_GT(c.Count(c.Messages("next")), 2000);
  c.LowerLimit(2000);
  auto request = c.BuildHandoffRequest(c.limit(), {});
  ASSERT_TRUE(request) << request.error().ToString();
  EXPECT_GT(request->dropped_turns, 0);
  EXPECT_LT(request->tokens, 2000);
  Conversation::RolloverResult r = c.Rollover(SomeBrief(), "next");
  EXPECT_LE(r.tokens_after, c.threshold());
  EXPECT_LT(c.threshold(), 2000);
}

TEST(Conversation, OfflineModelAnswersTheHandoffRequestWithAValidBrief) {
  Conversation c = Make(4000);
  c.AddTurn(Turn(0));
  c.AddTurn(Turn(1, "\n\n```text\nFACT: the budget is 40,000 EUR\n```"));
  c.AddTurn(Turn(2));
  auto request = c.BuildHandoffRequest(4000, {});
  ASSERT_TRUE(request) << request.error().ToString();
  EndpointConfig offline;
  offline.name = "offline";
  auto client = MakeOfflineClient(offline);
  ASSERT_TRUE(client) << client.error().ToString();
  ChatRequest chat;
  chat.messages = request->messages;
  chat.brief = request->brief.ToJson();
  std::optional<ChatResult> answer;
  (*client)->Submit(std::move(chat), [&](ChatResult r) { answer = std::move(r); });
  ASSERT_TRUE(answer && *answer);
  Result<HandoffBrief> brief = ParseHandoffBrief((*answer)->text);
  ASSERT_TRUE(brief) << brief.error().ToString() << "\n" << (*answer)->text;
  EXPECT_EQ(brief->verbatim_facts, std::vector<std::string>{"FACT: the budget is 40,000 EUR"});
  ASSERT_EQ(brief->key_decisions.size(), 3u);
  EXPECT_EQ(brief->key_decisions[2],
            "notes[2]: Noted 2. The plan is unchanged and the next note may follow.");
  EXPECT_NE(brief->current_state.find("3 brief(s)"), std::string::npos) << brief->current_state;
  EXPECT_NE(brief->current_state.find("notes[2]: Note 2 about the plan"), std::string::npos)
      << brief->current_state;
}

std::string TeamWith(const std::string& model, const std::string& context) {
  return "name: t\nmodels:\n  m: " + model +
         "\nagents:\n  a: { role: R., model: m, context: " + context +
         " }\nflow:\n  - task: x\n    agent: a\n    brief: Go\n";
}

TEST(ContextKey, DefaultsToTheModelsWindowAndReadsEveryField) {
  auto team = ParseTeam(TeamWith("{ provider: offline, context_window: 8000 }", "{}"), "t.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  ASSERT_TRUE(team->agents[0].context);
  EXPECT_EQ(team->agents[0].context->limit, 0);
  EXPECT_DOUBLE_EQ(team->agents[0].context->rollover_at, 0.75);
  EXPECT_EQ(team->agents[0].context->keep_last, 1);

  team = ParseTeam(TeamWith("{ provider: openai, model: gpt-4o, tokenizer: o200k_base }",
                            "{ limit: 2000, rollover_at: 0.5, keep_last: 3 }"),
                   "t.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_EQ(team->agents[0].context->limit, 2000);
  EXPECT_DOUBLE_EQ(team->agents[0].context->rollover_at, 0.5);
  EXPECT_EQ(team->agents[0].context->keep_last, 3);
  EXPECT_EQ(team->models[0].endpoint.tokenizer, "o200k_base");
}

TEST(ContextKey, ErrorsNameTheLineAndWhatWasExpected) {
  auto first_error = [](const std::string& model, const std::string& context) {
    auto team = ParseTeam(TeamWith(model, context), "t.yaml");
    return team ? std::string()
                : team.error().message().substr(0, team.error().message().find('\n'));
  };
  const std::string offline = "{ provider: offline }";
  EXPECT_EQ(first_error(offline, "{ rollover_at: 75 }"),
            "t.yaml:5:52: error: rollover_at: expected a fraction of the limit above 0 and at "
            "most 1 (e.g. 0.75), found '75'");
  EXPECT_EQ(first_error(offline, "{ keep_lst: 2 }"),
            "t.yaml:5:39: error: unknown key 'keep_lst' in the context of agent 'a' (did you mean "
            "'keep_last'?)");
  EXPECT_EQ(first_error(offline, "{ limit: 200 }"),
            "t.yaml:5:46: error: limit: expected an integer of at least 1000, found '200'");
  EXPECT_EQ(first_error(offline, "32000"),
            "t.yaml:5:37: error: context: expected a mapping such as { limit: 32000, "
            "rollover_at: 0.75, keep_last: 1 }, found '32000'");
  EXPECT_EQ(first_error("{ provider: openai, model: x, tokenizer: o200k-base }", "{}"),
            "t.yaml:3:47: error: tokenizer: expected 'cl100k_base', 'o200k_base' or "
            "'estimate', found 'o200k-base' (did you mean 'o200k_base'?)");
}

}  // namespace
}  // namespace chorus
