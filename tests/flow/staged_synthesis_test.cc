// Staged synthesis: cutting a synthesis's sources into parts that fit (flow/staged_synthesis.h),
// and the scheduler running the levels in process, against a scripted model whose team-file
// description declares a small context window.
#include "flow/staged_synthesis.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "chorus/run.h"
#include "flow/prompt_tokens.h"
#include "flow/scripted_client.h"
#include "flow/step_output.h"

namespace chorus {
namespace {

SynthesisPiece Item(size_t index, int64_t tokens, std::string source = "fan") {
  SynthesisPiece p;
  p.kind = SynthesisPiece::Kind::kMapItem;
  p.source = std::move(source);
  p.index = index;
  p.count = 100;
  p.tokens = tokens;
  return p;
}

TEST(CutIntoParts, FillsEachPartInOrderBeforeStartingTheNext) {
  std::vector<SynthesisPiece> pieces = {Item(0, 40), Item(1, 60),  Item(2, 30),
                                        Item(3, 70), Item(4, 100), Item(5, 1)};
  auto parts = CutIntoParts(pieces, 100);
  ASSERT_TRUE(parts) << parts.error().ToString();
  // 40+60 fills the first exactly; 30+70 the second; 100 the third; 1 is left for a fourth.
  std::vector<SynthesisPart> expected = {{0, 2}, {2, 4}, {4, 5}, {5, 6}};
  EXPECT_EQ(*parts, expected);
}

TEST(CutIntoParts, NothingToCutMakesNoParts) {
  auto parts = CutIntoParts({}, 100);
  ASSERT_TRUE(parts);
  EXPECT_TRUE(parts->empty());
}

TEST(CutIntoParts, APieceOverTheBudgetIsNamed) {
  auto parts = CutIntoParts({Item(0, 10), Item(1, 20), Item(2, 101)}, 100);
  ASSERT_FALSE(parts);
  EXPECT_EQ(parts.error().code(), StatusCode::kContextExceeded);
  EXPECT_NE(parts.error().message().find("item 3 of step 'fan' alone takes about 101 tokens"),
            std::string::npos)
      << parts.error().message();
  EXPECT_NE(parts.error().message().find("the 100 one prompt has room for"), std::string::npos);
}

TEST(SynthesisText, HeadingsSayWhatAPromptHolds) {
  EXPECT_EQ(SynthesisHeading(Item(0, 1), Item(249, 1)),
            "Output of step 'fan', items 1-250 of 100:");
  EXPECT_EQ(SynthesisHeading(Item(6, 1), Item(6, 1)), "Output of step 'fan', item 7 of 100:");
  SynthesisPiece whole;
  whole.source = "facts";
  EXPECT_EQ(SynthesisHeading(whole, whole), "Output of step 'facts':");
  EXPECT_EQ(DescribePiece(whole), "the output of step 'facts'");
  SynthesisPiece part;
  part.kind = SynthesisPiece::Kind::kPart;
  part.source = "summary[1.1]";
  part.index = 1;
  part.count = 7;
  EXPECT_EQ(SynthesisHeading(part, part), "Partial synthesis 2 of 7:");
  EXPECT_EQ(DescribePiece(part), "the synthesis of part 2 of 7 (summary[1.1])");
}

TEST(SynthesisText, AMapItemReadsAsInTheMapsCombinedOutput) {
  StepOutput a{"first answer", nullptr, Label::kPublic};
  StepOutput b{"second answer", nullptr, Label::kPublic};
  const std::string combined = CombineMapOutputs({"alpha", "beta\nlabel"}, {&a, &b}).text;
  SynthesisPiece second = Item(1, 0);
  second.label = "beta\nlabel";
  const std::string shown = SynthesisPieceText(second, "second answer");
  EXPECT_EQ(shown, "### Item 2: beta label\n\nsecond answer");
  EXPECT_NE(combined.find("\n\n" + shown), std::string::npos) << combined;
}

TEST(StagedSynthesisLint, WarnsWhenAFanInOverAMapCannotBeStaged) {
  const std::string yaml = R"(name: w
models:
  open: { provider: openai, model: m, base_url: "http://127.0.0.1:9/v1" }
  sized: { provider: openai, model: m, base_url: "http://127.0.0.1:9/v1", context_window: 8000 }
agents:
  worker: { role: "W.", model: open }
  unsized: { role: "U.", model: open }
  windowed: { role: "S.", model: sized }
  local: { role: "L.", model: offline }
flow:
  - map: fan
    over: [ a, b ]
    agent: worker
    brief: { objective: "Answer ${item}" }
  - task: note
    agent: worker
    brief: { objective: "A note" }
  - synthesize: blind
    agent: unsized
    from: [ note, fan ]
  - synthesize: staged
    agent: windowed
    from: [ fan ]
  - synthesize: offline
    agent: local
    from: [ fan ]
  - synthesize: one_note
    agent: unsized
    from: [ note ]
)";
  Result<Team> team = ParseTeam(yaml, "w.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_TRUE(CheckTeam(*team).empty()) << "warnings never block a run";
  std::vector<Diagnostic> lint = LintTeam(*team);
  ASSERT_EQ(lint.size(), 1u);
  EXPECT_EQ(lint[0].severity, Severity::kWarning);
  EXPECT_EQ(lint[0].ToString(),
            "w.yaml:18:5: warning: synthesize 'blind' integrates map 'fan', but model 'open' "
            "declares no context_window: however many items the map has, their outputs go out "
            "in one prompt. Declare the model's context_window to have a fan-in too large for it "
            "synthesized in levels");
}

// A map of `items` items, each answered with a distinct ~100-token text, then a synthesis by
// `editor` on a model whose window is 2,000 tokens with 200 kept for the answer.
std::string TeamYaml(int items, const std::string& output = "") {
  std::string over;
  for (int i = 0; i < items; ++i) over += (i ? ", " : "") + std::string("q") + std::to_string(i);
  return R"(name: staged
models:
  m: { provider: openai, model: scripted, base_url: "http://127.0.0.1:9/v1",
       context_window: 2000, max_tokens: 200 }
agents:
  worker: { role: "You answer.", model: m }
  editor: { role: "You combine answers.", model: m }
flow:
  - map: fan
    over: [ )" +
         over +
         R"( ]
    agent: worker
    concurrency: 4
    brief: { objective: "Answer ${item}" }
  - synthesize: summary
    agent: editor
    from: [ fan ]
    brief: { objective: "Combine the answers" )" +
         output + R"( }
)";
}

// Each item's answer names its item and is long enough that 40 items overflow one prompt.
std::string ItemAnswer(const std::string& item) {
  std::string text = "ANSWER-" + item + ":";
  for (int i = 0; i < 40; ++i) text += " finding" + std::to_string(i);
  return text;
}

std::string ItemOf(const ChatRequest& r) {
  const std::string& user = r.messages.back().content;
  size_t at = user.find("Answer q");
  return user.substr(at + 7, user.find_first_not_of("q0123456789", at + 7) - (at + 7));
}

bool IsPart(const ChatRequest& r) {
  return r.idempotency_key.find("summary[") != std::string::npos;
}

class StagedSynthesisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "chorus-staged-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunReport Run(const std::string& yaml, ScriptedClient* client) {
    auto team = ParseTeam(yaml, dir_ + "/team.yaml");
    EXPECT_TRUE(team) << team.error().ToString();
    auto store = OpenSqliteStore(dir_ + "/s.db");
    EXPECT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    RunOptions o;
    o.store = store_.get();
    o.clients["m"] = client;
    auto report = RunTeam(*team, std::move(o));
    EXPECT_TRUE(report) << report.error().ToString();
    if (report) events_ = *store_->LoadEvents(report->run_id);
    return report ? *report : RunReport{};
  }

  std::vector<nlohmann::json> Staged() const {
    std::vector<nlohmann::json> out;
    for (const Event& e : events_) {
      if (e.kind == "synthesis.staged") out.push_back(nlohmann::json::parse(e.payload));
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::vector<Event> events_;
};

TEST_F(StagedSynthesisTest, SourcesOverflowingTheWindowAreSynthesizedInLevelsThatEachFit) {
  ScriptedClient client([](const ChatRequest& r) {
    if (r.agent == "worker") return Text(ItemAnswer(ItemOf(r)));
    if (IsPart(r)) return Text("PART<" + r.idempotency_key + ">");
    return Text("FINAL");
  });
  RunReport report = Run(TeamYaml(40), &client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  EXPECT_EQ(report.output, "FINAL");

  const PromptCounter estimate;  // the scripted model's tokenizer is the estimate
  std::vector<ChatRequest> parts, finals;
  for (const ChatRequest& r : client.requests()) {
    if (r.agent != "editor") continue;
    EXPECT_LE(estimate.Count(r.messages) + 200, 2000) << r.idempotency_key;
    (IsPart(r) ? parts : finals).push_back(r);
  }
  ASSERT_GE(parts.size(), 2u);
  ASSERT_EQ(finals.size(), 1u);
  // Every item's answer is read by exactly one part, and the parts read them in item order.
  size_t part = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string answer = ItemAnswer("q" + std::to_string(i));
    int readers = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
      if (parts[p].messages.back().content.find(answer) != std::string::npos) {
        ++readers;
        EXPECT_GE(p, part) << "item " << i << " is read before an earlier item";
        part = p;
      }
    }
    EXPECT_EQ(readers, 1) << "item " << i;
  }
  // The last prompt reads every part's synthesis, each under its own heading.
  const std::string& last = finals[0].messages.back().content;
  for (size_t p = 0; p < parts.size(); ++p) {
    EXPECT_NE(last.find("PART<" + parts[p].idempotency_key + ">"), std::string::npos);
    EXPECT_NE(last.find("Partial synthesis " + std::to_string(p + 1) + " of " +
                        std::to_string(parts.size()) + ":"),
              std::string::npos);
  }
  EXPECT_NE(
      parts[0].messages.back().content.find("This is part 1 of " + std::to_string(parts.size())),
      std::string::npos);

  std::vector<nlohmann::json> staged = Staged();
  ASSERT_EQ(staged.size(), 2u);
  EXPECT_EQ(staged[0]["level"], 1);
  EXPECT_EQ(staged[0]["inputs"], 40);
  EXPECT_EQ(staged[0]["parts"], parts.size());
  EXPECT_EQ(staged[0]["window"], 2000);
  EXPECT_EQ(staged[1]["level"], 2);
  EXPECT_EQ(staged[1]["parts"], 1);
  // The report lists the parts as steps of their own, with their usage.
  int part_steps = 0;
  for (const StepReport& s : report.steps) {
    if (s.step.rfind("summary[1.", 0) == 0) {
      ++part_steps;
      EXPECT_EQ(s.kind, "synthesis-part");
      EXPECT_EQ(s.status, "completed");
      EXPECT_GT(s.usage.input_tokens, 0);
    }
  }
  EXPECT_EQ(part_steps, static_cast<int>(parts.size()));
}

TEST_F(StagedSynthesisTest, SourcesThatFitMakeOnePromptAsBefore) {
  ScriptedClient client([](const ChatRequest& r) {
    return Text(r.agent == "worker" ? ItemAnswer(ItemOf(r)) : std::string("FINAL"));
  });
  RunReport report = Run(TeamYaml(3), &client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  std::vector<ChatRequest> editor;
  for (const ChatRequest& r : client.requests()) {
    if (r.agent == "editor") editor.push_back(r);
  }
  ASSERT_EQ(editor.size(), 1u);
  EXPECT_NE(editor[0].messages.back().content.find("Output of step 'fan':\n\n### Item 1: q0\n\n" +
                                                   ItemAnswer("q0")),
            std::string::npos)
      << editor[0].messages.back().content;
  EXPECT_TRUE(Staged().empty());
}

TEST_F(StagedSynthesisTest, AnItemTooLargeForAnyPromptFailsTheStepNamingIt) {
  ScriptedClient client([](const ChatRequest& r) {
    if (r.agent != "worker") return Text("FINAL");
    std::string answer = ItemAnswer(ItemOf(r));
    if (ItemOf(r) == "q2") {
      for (int i = 0; i < 1000; ++i) answer += " word";
    }
    return Text(answer);
  });
  RunReport report = Run(TeamYaml(5), &client);
  ASSERT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("synthesis 'summary' cannot be staged to fit its model's "
                              "2000-token window: item 3 of step 'fan' alone takes about"),
            std::string::npos)
      << report.error;
  for (const ChatRequest& r : client.requests()) EXPECT_NE(r.agent, "editor");
}

TEST_F(StagedSynthesisTest, PartSynthesesThatDoNotShrinkFailInsteadOfGoingOnForever) {
  ScriptedClient client([](const ChatRequest& r) {
    if (r.agent == "worker") return Text(ItemAnswer(ItemOf(r)));
    std::string padded = "PART";
    for (int i = 0; i < 900; ++i) padded += " word";  // nearly a whole prompt's room
    return Text(padded);
  });
  RunReport report = Run(TeamYaml(40), &client);
  ASSERT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("parts are too long to combine"), std::string::npos) << report.error;
}

TEST_F(StagedSynthesisTest, OnlyTheLastLevelMustMatchTheExpectedOutput) {
  ScriptedClient client([](const ChatRequest& r) {
    if (r.agent == "worker") return Text(ItemAnswer(ItemOf(r)));
    if (IsPart(r)) return Text("plain notes, not JSON");
    return Text(R"({"verdict": "go"})");
  });
  RunReport report =
      Run(TeamYaml(
              40, R"(, output: { format: json, schema: { type: object, required: [ verdict ] } })"),
          &client);
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  int parts = 0;
  for (const ChatRequest& r : client.requests()) {
    if (r.agent != "editor") continue;
    EXPECT_EQ(r.json_output, !IsPart(r)) << r.idempotency_key;
    parts += IsPart(r);
  }
  EXPECT_GE(parts, 2);
  EXPECT_EQ(nlohmann::json::parse(report.output)["verdict"], "go");
}

}  // namespace
}  // namespace chorus
