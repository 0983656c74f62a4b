// Context rollover end to end: a team whose agent keeps one conversation with a small window
// runs against the fake LLM server over loopback HTTP (or the offline model), and the tests
// read what the server received and what the store recorded.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "chorus/run.h"
#include "chorus/team.h"
#include "chorus/tokenizer.h"
#include "flow/message_contents.h"
#include "store/temp_dir.h"
#include "support/fake_llm_server.h"

namespace chorus {
namespace {

using nlohmann::json;

constexpr std::string_view kFact = "FACT: the launch code is ZEBRA-42";
constexpr std::string_view kHandoffMarker = "# Write a handoff brief";

json HandoffJson(json facts = json::array()) {
  return {{"key_decisions", {"Entries are logged in order, one per brief"}},
          {"current_state", "The diary holds every entry so far"},
          {"next_steps", {"Log the next entry"}},
          {"reasoning", "A diary is append-only"},
          {"open_questions", json::array()},
          {"verbatim_facts", std::move(facts)}};
}

// A model reply long enough that a 2,000-token window fills up within a few turns.
const char* kEntryReply =
    "Logged entry {{n}}. The diary now records this step with its status, its owner and the "
    "date it was reviewed; nothing else in the plan changed, the earlier entries stay as they "
    "were, and the next entry can follow whenever it is ready.";

json Rule(json match, json replies) { return {{"match", std::move(match)}, {"replies", replies}}; }

json HandoffRule(json replies) {
  return Rule({{"user_contains", std::string(kHandoffMarker)}}, std::move(replies));
}

std::vector<std::string> DiaryItems(int count) {
  std::vector<std::string> items;
  for (int i = 0; i < count; ++i) {
    items.push_back(i == 1 ? std::string(kFact)
                           : "Entry " + std::to_string(i) + ": component " + std::to_string(i) +
                                 " was reviewed and its status is green.");
  }
  return items;
}

std::string TeamYaml(const std::string& model_yaml, const std::string& context_yaml,
                     const std::vector<std::string>& items) {
  std::string over;
  for (const std::string& item : items) over += "      - \"" + item + "\"\n";
  return "name: diary\nmodels:\n  small: " + model_yaml +
         "\nagents:\n  keeper: { role: You keep the project diary., model: small, context: " +
         context_yaml +
         " }\nflow:\n  - map: entries\n    agent: keeper\n    concurrency: 4\n    over:\n" + over +
         "    brief:\n      objective: Log entry ${item_index} of the project diary\n"
         "      context: [ \"${item}\" ]\n";
}

std::string HttpModel(const test::FakeLlmServer& server, int window) {
  return "{ provider: openai, base_url: " + server.openai_base_url() +
         ", model: gpt-4o-mini, tokenizer: o200k_base, stream: false, context_window: " +
         std::to_string(window) + " }";
}

class RolloverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteStore(dir_.File("chorus.db"));
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }

  test::FakeLlmServer StartServer(json rules) {
    json script = {{"default", {{"reply", kEntryReply}}}, {"rules", std::move(rules)}};
    auto server = test::FakeLlmServer::Start({.script = std::move(script)});
    if (!server) throw std::runtime_error(server.error());
    return std::move(*server);
  }

  RunReport Run(const std::string& yaml) {
    Result<Team> team = ParseTeam(yaml, "diary.yaml");
    EXPECT_TRUE(team) << team.error().ToString();
    if (!team) return {};
    RunOptions options;
    options.store = store_.get();
    options.seed = 1;
    Result<RunReport> report = RunTeam(*team, std::move(options));
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : RunReport{};
  }

  // The payloads of the run's events of `kind`, in order.
  std::vector<json> Payloads(const std::string& run_id, const std::string& kind) {
    std::vector<json> out;
    auto events = store_->LoadEvents(run_id);
    EXPECT_TRUE(events);
    if (!events) return out;
    for (const Event& e : *events) {
      if (e.kind == kind) out.push_back(json::parse(e.payload));
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

std::string SystemOf(const json& body) { return body["messages"][0]["content"].get<std::string>(); }

bool IsHandoffRequest(const json& body) {
  return body["messages"].back()["content"].get<std::string>().find(kHandoffMarker) !=
         std::string::npos;
}

int64_t ContentTokens(const Tokenizer& tokenizer, const json& body) {
  int64_t tokens = 0;
  for (const json& m : body["messages"]) tokens += tokenizer.Count(m["content"].get<std::string>());
  return tokens;
}

TEST_F(RolloverTest, TwoThousandTokenWindowWorksThroughThirtyTurnsAndKeepsMarkedFacts) {
  // The model's handoff briefs never mention the fact: chorus must carry it on its own.
  test::FakeLlmServer server = StartServer(json::array({HandoffRule({HandoffJson().dump()})}));
  RunReport report =
      Run(TeamYaml(HttpModel(server, 2000), "{ rollover_at: 0.75, keep_last: 1 }", DiaryItems(30)));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;

  std::vector<json> rollovers = Payloads(report.run_id, "conversation.rollover");
  ASSERT_GE(rollovers.size(), 3u) << "a 30-turn task in 2,000 tokens must roll over repeatedly";
  for (size_t i = 0; i < rollovers.size(); ++i) {
    EXPECT_EQ(rollovers[i]["generation"], static_cast<int>(i) + 2);
    EXPECT_EQ(rollovers[i]["reason"], "threshold");
    EXPECT_GT(rollovers[i]["tokens_before"], rollovers[i]["threshold"]);
    EXPECT_LE(rollovers[i]["threshold"].get<int64_t>(), 1500) << "rollover_at 0.75 of 2,000";
    EXPECT_FALSE(rollovers[i].contains("dropped_from_handoff"))
        << "the handoff request of a threshold rollover sees every turn";
    EXPECT_LT(rollovers[i]["tokens_after"], rollovers[i]["tokens_before"]);
    EXPECT_LE(rollovers[i]["kept_turns"].size(), 1u);
  }
  EXPECT_GT(rollovers[0]["facts_merged"].get<int>(), 0) << "the runtime merged the fact in";

  Result<const Tokenizer*> o200k = GetTokenizer("o200k_base");
  ASSERT_TRUE(o200k) << o200k.error().ToString();
  json requests = server.Requests();
  size_t turns = 0;
  size_t generation4_prompts = 0;
  for (const json& record : requests) {
    const json& body = record["body"];
    const int64_t prompt = ContentTokens(**o200k, body);
    EXPECT_LE(prompt, 2000) << "request " << record["seq"] << " crossed the window";
    EXPECT_LE(prompt + body.value("max_tokens", 0), 2000)
        << "request " << record["seq"] << " left no room for its answer within the window";
    if (IsHandoffRequest(body)) continue;
    ++turns;
    if (SystemOf(body).find("## Handoff brief (generation 4)") != std::string::npos) {
      ++generation4_prompts;
      EXPECT_NE(body.dump().find(kFact), std::string::npos)
          << "generation 4 lost the fact marked in turn 2";
    }
  }
  EXPECT_EQ(turns, 30u);
  EXPECT_GT(generation4_prompts, 0u);
  // The step report counts the diary's own attempts, not the handoff requests.
  for (const StepReport& step : report.steps) {
    if (step.kind == "map-item") {
      EXPECT_EQ(step.attempts, 1) << step.step;
    }
  }
}

TEST_F(RolloverTest, InvalidHandoffBriefIsRetriedWithTheReason) {
  json incomplete = HandoffJson();
  incomplete.erase("current_state");
  test::FakeLlmServer server =
      StartServer(json::array({HandoffRule({incomplete.dump(), HandoffJson().dump()})}));
  RunReport report = Run(TeamYaml(HttpModel(server, 2000), "{ keep_last: 1 }", DiaryItems(14)));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;

  std::vector<json> rejected = Payloads(report.run_id, "conversation.handoff_rejected");
  ASSERT_EQ(rejected.size(), 1u);
  const std::string reason = rejected[0]["reason"];
  EXPECT_NE(reason.find("current_state"), std::string::npos) << reason;

  std::vector<json> handoffs;
  for (const json& record : server.Requests()) {
    if (IsHandoffRequest(record["body"])) handoffs.push_back(record["body"]);
  }
  ASSERT_GE(handoffs.size(), 2u);
  const std::string retry = handoffs[1]["messages"].back()["content"];
  EXPECT_NE(retry.find("Your previous handoff brief was rejected"), std::string::npos);
  EXPECT_NE(retry.find(reason), std::string::npos) << "the retry must carry the reason";
  EXPECT_EQ(Payloads(report.run_id, "conversation.rollover").front()["handoff_attempts"], 2);
}

// Requests name the contents they repeat (flow/message_contents.h); put back, every recorded
// request, handoffs included, is what the server received.
TEST_F(RolloverTest, TheStoreHoldsEveryRequestAsTheServerReceivedIt) {
  test::FakeLlmServer server = StartServer(json::array({HandoffRule({HandoffJson().dump()})}));
  RunReport report = Run(TeamYaml(HttpModel(server, 2000), "{ keep_last: 1 }", DiaryItems(14)));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  std::map<std::string, json> received;  // by idempotency key
  for (const json& record : server.Requests()) {
    for (const auto& [name, value] : record["headers"].items()) {
      if (name == "idempotency-key") received[value.get<std::string>()] = record["body"];
    }
  }
  auto events = store_->LoadEvents(report.run_id);
  ASSERT_TRUE(events);
  NamedContents named;
  size_t requests = 0, handoffs = 0, named_messages = 0;
  for (const Event& e : *events) {
    json p = json::parse(e.payload);
    named.Apply(e.kind, p);
    if (e.kind != "llm.request") continue;
    ++requests;
    handoffs += p.value("purpose", "") == "handoff";
    ASSERT_TRUE(received.count(p["key"])) << p["key"];
    const json& sent = received[p["key"]]["messages"];
    ASSERT_EQ(p["messages"].size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
      named_messages += p["messages"][i].contains("content_id");
      EXPECT_EQ(p["messages"][i]["content"], sent[i]["content"]) << p["key"] << " message " << i;
    }
  }
  EXPECT_EQ(requests, received.size());
  EXPECT_GE(handoffs, 1u);
  EXPECT_GT(named_messages, requests);  // the instructions, and earlier turns
}

TEST_F(RolloverTest, ServerContextErrorRollsOverReactively) {
  json refuse_entry_6 = {{"match", {{"user_contains", "Entry 6:"}}},
                         {"replies", {kEntryReply}},
                         {"faults", {{{"kind", "context_exceeded"}}}},
                         {"fault_times", 1}};
  test::FakeLlmServer server =
      StartServer(json::array({HandoffRule({HandoffJson().dump()}), std::move(refuse_entry_6)}));
  RunReport report = Run(TeamYaml(HttpModel(server, 16000), "{}", DiaryItems(9)));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;

  std::vector<json> errors = Payloads(report.run_id, "llm.error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "CONTEXT_EXCEEDED");
  std::vector<json> rollovers = Payloads(report.run_id, "conversation.rollover");
  ASSERT_FALSE(rollovers.empty()) << "16,000 tokens hold 9 turns; only the refusal rolls over";
  EXPECT_EQ(rollovers[0]["reason"], "context_length_exceeded");
  EXPECT_EQ(rollovers[0]["generation"], 2);
  // The refused prompt is an upper bound of the server's real window; later prompts stay below.
  const int64_t refused = rollovers[0]["tokens_before"];
  EXPECT_LT(rollovers[0]["limit"].get<int64_t>(), refused);
}

TEST_F(RolloverTest, KeepLastCarriesThatManyTurnsVerbatim) {
  test::FakeLlmServer server = StartServer(json::array({HandoffRule({HandoffJson().dump()})}));
  RunReport report = Run(TeamYaml(HttpModel(server, 2000), "{ keep_last: 2 }", DiaryItems(14)));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  std::vector<json> rollovers = Payloads(report.run_id, "conversation.rollover");
  ASSERT_FALSE(rollovers.empty());
  const std::vector<std::string> kept = rollovers[0]["kept_turns"];
  ASSERT_EQ(kept.size(), 2u);

  // The first request of generation 2: system, the two kept turns, then the new brief.
  for (const json& record : server.Requests()) {
    const json& body = record["body"];
    if (IsHandoffRequest(body) || SystemOf(body).find("generation 2)") == std::string::npos) {
      continue;
    }
    const json& messages = body["messages"];
    ASSERT_EQ(messages.size(), 6u);
    for (size_t i = 0; i < kept.size(); ++i) {
      const std::string user = messages[1 + 2 * i]["content"];
      EXPECT_NE(user.find("# Brief: " + kept[i]), std::string::npos) << user;
      EXPECT_EQ(messages[2 + 2 * i]["role"], "assistant");
    }
    return;
  }
  FAIL() << "no request was sent in generation 2";
}

TEST_F(RolloverTest, NeverSendsABriefThatCannotFitTheWindow) {
  test::FakeLlmServer server = StartServer(json::array());
  std::vector<std::string> items = {std::string(1200, 'x') + " " + std::string(6000, 'y')};
  for (int i = 0; i < 40; ++i) items[0] += " word" + std::to_string(i * 7919);
  RunReport report = Run(TeamYaml(HttpModel(server, 1000), "{}", items));
  ASSERT_EQ(report.status, RunStatus::kFailed);
  EXPECT_NE(report.error.find("but the context limit is 1000"), std::string::npos) << report.error;
  EXPECT_EQ(server.Requests().size(), 0u);
}

TEST_F(RolloverTest, OfflineModelWritesAValidHandoffBriefThatKeepsTheFacts) {
  RunReport report =
      Run(TeamYaml("{ provider: offline, context_window: 2000 }", "{}", DiaryItems(16)));
  ASSERT_EQ(report.status, RunStatus::kCompleted) << report.error;
  std::vector<json> rollovers = Payloads(report.run_id, "conversation.rollover");
  ASSERT_FALSE(rollovers.empty());
  for (const json& r : rollovers) {
    const json& brief = r["brief"];
    EXPECT_FALSE(brief["key_decisions"].empty());
    EXPECT_NE(brief["current_state"].get<std::string>().find("the latest was entries["),
              std::string::npos)
        << brief.dump();
    EXPECT_EQ(r["facts_merged"], 0) << "the offline brief copies marked facts itself";
    EXPECT_NE(brief["verbatim_facts"].dump().find(kFact), std::string::npos);
  }
}

}  // namespace
}  // namespace chorus
