// Message contents named instead of repeated (flow/message_contents.h): the naming table, the
// reading side that puts contents back, and what a run records with them.
#include "flow/message_contents.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "chorus/run.h"
#include "flow/journal.h"
#include "flow/scripted_client.h"
#include "store/temp_dir.h"

namespace chorus {
namespace {

const std::string kInstructions(200, 'i');

TEST(MessageContents, NamesARepeatedContentOnceAndTheSameWayInEveryRun) {
  MessageContents first;
  auto a = first.NameOf(kInstructions);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->first_use);
  EXPECT_EQ(a->id->size(), 16u);
  auto again = first.NameOf(std::string(kInstructions));  // equal, not the same string
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->first_use);
  EXPECT_EQ(*again->id, *a->id);

  // Another run meets the contents in another order: the ids do not depend on it.
  const std::string other(100, 'o');
  MessageContents second;
  auto o = second.NameOf(other);
  auto b = second.NameOf(kInstructions);
  ASSERT_TRUE(o && b);
  EXPECT_TRUE(b->first_use);
  EXPECT_EQ(*b->id, *a->id);
  EXPECT_NE(*o->id, *b->id);
}

TEST(MessageContents, ShortContentsAndInlineRunsAreNotNamed) {
  MessageContents contents;
  EXPECT_FALSE(contents.NameOf(std::string(kNamedContentMinBytes - 1, 's')));
  EXPECT_TRUE(contents.NameOf(std::string(kNamedContentMinBytes, 's')));
  contents.WriteInline();
  EXPECT_FALSE(contents.NameOf(kInstructions));
}

TEST(MessageContents, AContentWhoseHashIsTakenStaysInline) {
  MessageContents contents([](std::string_view) { return uint64_t{42}; });
  auto first = contents.NameOf(kInstructions);
  ASSERT_TRUE(first);
  const std::string other(200, 'x');
  EXPECT_FALSE(contents.NameOf(other));
  EXPECT_FALSE(contents.NameOf(other));  // and stays so
  auto back = contents.NameOf(kInstructions);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back->id, *first->id);
}

TEST(NamedContents, PutsKnownContentsBackAndLeavesTheRest) {
  NamedContents named;
  nlohmann::json message = {{"content", "the instructions"}, {"id", "abc"}};
  named.Apply("llm.message", message);
  nlohmann::json request = {{"messages",
                             {{{"content_id", "abc"}, {"role", "system"}},
                              {{"content_id", "unknown"}, {"role", "system"}},
                              {{"content", "the brief"}, {"role", "user"}}}}};
  named.Apply("llm.request", request);
  EXPECT_EQ(request["messages"][0]["content"], "the instructions");
  EXPECT_EQ(request["messages"][0]["content_id"], "abc");
  EXPECT_FALSE(request["messages"][1].contains("content"));
  EXPECT_EQ(request["messages"][2]["content"], "the brief");
  nlohmann::json response = {{"text", "x"}, {"content_id", "abc"}};
  named.Apply("llm.response", response);
  EXPECT_FALSE(response.contains("content"));
}

// What a run records: each repeated content once, every request naming it, and the messages
// each request sent readable back in full from the store alone.
class NamedContentsRun : public ::testing::Test {
 protected:
  std::vector<Event> Record(const std::string& yaml, ScriptedClient* client) {
    auto team = ParseTeam(yaml, dir_.File("team.yaml"));
    EXPECT_TRUE(team) << team.error().ToString();
    auto store = OpenSqliteStore(dir_.File("s.db"));
    EXPECT_TRUE(store) << store.error().ToString();
    if (!team || !store) return {};
    RunOptions options;
    options.store = store->get();
    options.clients["m"] = client;
    auto report = RunTeam(*team, std::move(options));
    EXPECT_TRUE(report && report->status == RunStatus::kCompleted)
        << (report ? report->error : report.error().ToString());
    if (!report) return {};
    auto events = (*store)->LoadEvents(report->run_id);
    EXPECT_TRUE(events);
    return events ? *events : std::vector<Event>{};
  }

  // Every recorded request, contents put back, against what the client was sent under its key.
  static void ExpectRequestsReadBackWhole(const std::vector<Event>& events,
                                          const std::vector<ChatRequest>& sent) {
    std::map<std::string, const ChatRequest*> by_key;
    for (const ChatRequest& r : sent) by_key[r.idempotency_key] = &r;
    NamedContents named;
    size_t requests = 0;
    for (const Event& e : events) {
      nlohmann::json p = nlohmann::json::parse(e.payload);
      named.Apply(e.kind, p);
      if (e.kind != "llm.request") continue;
      ++requests;
      const ChatRequest* r = by_key.at(p["key"].get<std::string>());
      const nlohmann::json& messages = p["messages"];
      ASSERT_EQ(messages.size(), r->messages.size());
      for (size_t i = 0; i < messages.size(); ++i) {
        EXPECT_EQ(messages[i]["role"], r->messages[i].role);
        EXPECT_EQ(messages[i]["content"], r->messages[i].content) << e.step << " message " << i;
        // The last message is what is new: always inline.
        EXPECT_EQ(
            messages[i].contains("content_id"),
            i + 1 < messages.size() && r->messages[i].content.size() >= kNamedContentMinBytes);
      }
    }
    EXPECT_EQ(requests, sent.size());
  }

  static size_t Count(const std::vector<Event>& events, const std::string& kind) {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                             [&](const Event& e) { return e.kind == kind; }));
  }

  testing::TempDir dir_;
};

TEST_F(NamedContentsRun, AMapRecordsItsAgentsInstructionsOnce) {
  ScriptedClient client([](const ChatRequest& r) { return Text("done: " + r.idempotency_key); });
  std::vector<Event> events = Record(R"(name: wide
models:
  m: { provider: openai, model: scripted, base_url: "http://127.0.0.1:9/v1" }
agents:
  worker: { role: "You work through items, one at a time.", model: m }
flow:
  - map: items
    over: [ a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t ]
    agent: worker
    concurrency: 5
    brief: { objective: "Work on ${item}" }
)",
                                     &client);
  EXPECT_EQ(client.requests().size(), 20u);
  EXPECT_EQ(Count(events, "llm.message"), 1u);
  ExpectRequestsReadBackWhole(events, client.requests());
}

TEST_F(NamedContentsRun, AConversationRecordsEachEarlierTurnOnce) {
  // Long answers: each turn is resent with every later request of the conversation.
  ScriptedClient client([](const ChatRequest& r) {
    return Text("Logged " + r.messages.back().content.substr(0, 40) + std::string(120, '.'));
  });
  std::vector<Event> events = Record(R"(name: diary
models:
  m: { provider: openai, model: scripted, base_url: "http://127.0.0.1:9/v1",
       context_window: 100000 }
agents:
  keeper: { role: "You keep the project diary.", model: m, context: { keep_last: 1 } }
flow:
  - map: entries
    over: [ one, two, three, four, five, six ]
    agent: keeper
    concurrency: 1
    brief: { objective: "Log entry ${item} of the project diary, with its date and owner" }
)",
                                     &client);
  const std::vector<ChatRequest> sent = client.requests();
  ASSERT_EQ(sent.size(), 6u);
  ASSERT_EQ(sent.back().messages.size(), 12u);  // instructions, five turns, the new brief
  // Every content but the last request's new brief is recorded exactly once.
  std::set<std::string> distinct;
  for (const ChatRequest& r : sent) {
    for (size_t i = 0; i + 1 < r.messages.size(); ++i) distinct.insert(r.messages[i].content);
  }
  EXPECT_EQ(Count(events, "llm.message"), distinct.size());
  ExpectRequestsReadBackWhole(events, sent);
}

TEST(RunJournal, ARunRecordedWithContentsInlineIsResumedThatWay) {
  auto event = [](std::string kind, std::string step) {
    Event e;
    e.kind = std::move(kind);
    e.step = std::move(step);
    e.payload = "{}";
    return e;
  };
  EXPECT_FALSE(RunJournal::FromEvents({event("run.started", "")}).contents_inline());
  EXPECT_TRUE(RunJournal::FromEvents({event("run.started", ""), event("llm.request", "s")})
                  .contents_inline());
  EXPECT_FALSE(RunJournal::FromEvents(
                   {event("run.started", ""), event("llm.message", ""), event("llm.request", "s")})
                   .contents_inline());
}

}  // namespace
}  // namespace chorus
