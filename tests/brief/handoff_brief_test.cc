// HandoffBrief: its schema check, the FACT: markers, merging facts and the rendering the next
// generation starts from.
#include "chorus/handoff_brief.h"

#include <gtest/gtest.h>

namespace chorus {
namespace {

HandoffBrief SomeBrief() {
  HandoffBrief brief;
  brief.key_decisions = {"notes are kept in order"};
  brief.current_state = "twenty notes taken";
  brief.next_steps = {"take the next note"};
  brief.verbatim_facts = {"FACT: the budget is 40,000 EUR"};
  return brief;
}

TEST(HandoffBrief, ParsesAValidBriefAndRejectsAnIncompleteOneWithTheReason) {
  auto ok = ParseHandoffBrief("```json\n" + SomeBrief().ToJson().dump() + "\n```");
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->current_state, "twenty notes taken");

  nlohmann::json missing = SomeBrief().ToJson();
  missing.erase("verbatim_facts");
  auto bad = ParseHandoffBrief(missing.dump());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("verbatim_facts"), std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(ParseHandoffBrief("I cannot do that."));
}

TEST(HandoffBrief, MarkedFactsAreWholeLinesStartingWithTheMarker) {
  EXPECT_EQ(MarkedFacts("intro\n- FACT: a = 1\n  FACT: b = 2  \nnot a FACT: c\nFACT:"),
            (std::vector<std::string>{"FACT: a = 1", "FACT: b = 2"}));
  HandoffBrief brief;
  brief.verbatim_facts = {"FACT: a = 1"};
  EXPECT_EQ(MergeVerbatimFacts({"FACT: a = 1", "FACT: b = 2"}, &brief), 1);
  EXPECT_EQ(brief.verbatim_facts.size(), 2u);
}

TEST(HandoffBrief, RendersEveryNonEmptyPartUnderItsHeading) {
  std::string text = RenderHandoffBrief(SomeBrief(), 3);
  EXPECT_EQ(text.rfind("## Handoff brief (generation 3)", 0), 0u) << text;
  EXPECT_NE(text.find("generation 2, which reached its context limit"), std::string::npos);
  EXPECT_NE(text.find("### Current state\n\ntwenty notes taken"), std::string::npos);
  EXPECT_NE(text.find("### Facts to keep verbatim\n\n- FACT: the budget is 40,000 EUR"),
            std::string::npos);
  EXPECT_EQ(text.find("### Open questions"), std::string::npos) << "empty parts are left out";
}

}  // namespace
}  // namespace chorus
