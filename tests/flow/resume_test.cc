// Resume, in process: a run is recorded whole, then every prefix of its events is copied into
// a fresh store as if the process had been killed right after that event, and the run is
// resumed from there. Each resumed run must end with the uninterrupted run's output and usage,
// and must never request an answer the prefix already holds.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "chorus/run.h"
#include "flow/journal.h"
#include "flow/message_contents.h"
#include "flow/scripted_client.h"

namespace chorus {
namespace {

// A team with every shape of work: two parallel tasks (one with required sections that the
// first answer misses), a map whose first item meets a transient error, and a synthesis.
constexpr const char* kTeam = R"(name: resumable
models:
  m: { provider: openai, model: scripted, base_url: "http://127.0.0.1:9/v1" }
agents:
  scout: { role: "You scout.", model: m }
  critic: { role: "You criticise.", model: m }
  worker: { role: "You work through items.", model: m }
  editor: { role: "You edit.", model: m }
flow:
  - parallel:
      - task: scan
        agent: scout
        brief: { objective: "Scan the market" }
      - task: critique
        agent: critic
        brief: { objective: "Criticise the plan", output: { format: markdown, sections: [ Risks ] } }
  - map: items
    over: [ alpha, beta, gamma, delta ]
    agents: [ worker ]
    concurrency: 2
    brief: { objective: "Work on ${item} given ${scan}" }
  - synthesize: final
    agent: editor
    from: [ scan, critique, items ]
)";

// Answers depend only on the request (agent, attempt in the idempotency key, prompt), so an
// interrupted and a whole run get the same answer to the same request.
ChatResult Answer(const ChatRequest& r) {
  const std::string& key = r.idempotency_key;
  const std::string attempt = key.substr(key.rfind('/') + 1);
  const std::string& last = r.messages.back().content;
  if (r.agent == "critic") return Text(attempt == "1" ? "no sections" : "## Risks\nPrice war.");
  if (r.agent == "worker" && key.find("items[0]") != std::string::npos && attempt == "1") {
    return tl::unexpected(ModelError{Status::Unavailable("503 from the scripted server"), 503, 0});
  }
  return Text(r.agent + " answered a " + std::to_string(last.size()) + "-byte brief");
}

// A process id that is certainly not running: a child that has exited and been reaped.
int64_t DeadPid() {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "chorus-resume-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto team = ParseTeam(kTeam, dir_ + "/team.yaml");
    ASSERT_TRUE(team) << team.error().ToString();
    team_ = std::move(*team);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> OpenStore(const std::string& name) {
    auto store = OpenSqliteStore(dir_ + "/" + name);
    EXPECT_TRUE(store) << store.error().ToString();
    return store ? std::move(*store) : nullptr;
  }

  RunOptions Options(Store* store, ScriptedClient* client) {
    RunOptions o;
    o.store = store;
    o.clients["m"] = client;
    o.seed = 7;
    return o;
  }

  // A store holding `events[0, count)` of `run`, as a killed process would have left it.
  std::unique_ptr<Store> InterruptedCopy(const RunRecord& run, const std::vector<Event>& events,
                                         size_t count) {
    auto store = OpenStore("cut-" + std::to_string(count) + ".db");
    RunRecord cut = run;
    cut.status = RunStatus::kRunning;
    cut.finished_ms = 0;
    cut.pid = DeadPid();
    EXPECT_TRUE(store->CreateRun(cut).ok());
    std::vector<Event> prefix(events.begin(), events.begin() + static_cast<ptrdiff_t>(count));
    EXPECT_TRUE(store->Append(prefix).ok());
    return store;
  }

  // A whole, uninterrupted run of `team` and what it recorded.
  struct Recorded {
    RunReport report;
    RunRecord run;
    std::vector<Event> events;
  };
  Recorded RecordWhole(const Team& team, ScriptedClient::Answer answer, const std::string& name) {
    Recorded out;
    auto store = OpenStore(name);
    ScriptedClient client(std::move(answer));
    auto report = RunTeam(team, Options(store.get(), &client));
    if (!report || report->status != RunStatus::kCompleted) {
      ADD_FAILURE() << "the whole run failed: "
                    << (report ? report->error : report.error().ToString());
      return out;
    }
    out.report = *report;
    out.run = *store->FindRun(report->run_id);
    out.events = *store->LoadEvents(report->run_id);
    return out;
  }

  // Resumes `whole` as if its process had been killed right after event `count`.
  struct Resumed {
    RunReport report;
    std::unique_ptr<Store> store;          // holds the finished record
    std::vector<std::string> asked_again;  // keys answered before the kill, requested again
  };
  Resumed ResumeAfter(const Team& team, const Recorded& whole, size_t count,
                      ScriptedClient::Answer answer) {
    Resumed out;
    out.store = InterruptedCopy(whole.run, whole.events, count);
    std::vector<Event> prefix(whole.events.begin(),
                              whole.events.begin() + static_cast<ptrdiff_t>(count));
    RunJournal before = RunJournal::FromEvents(prefix);
    std::set<std::string> answered(before.answered_keys().begin(), before.answered_keys().end());
    ScriptedClient client(std::move(answer));
    RunOptions options = Options(out.store.get(), &client);
    options.run_id = whole.report.run_id;
    auto resumed = ResumeRun(team, std::move(options));
    if (!resumed) {
      ADD_FAILURE() << resumed.error().ToString();
      return out;
    }
    EXPECT_EQ(resumed->status, RunStatus::kCompleted) << resumed->error;
    out.report = *resumed;
    for (const ChatRequest& r : client.requests()) {
      if (answered.count(r.idempotency_key)) out.asked_again.push_back(r.idempotency_key);
    }
    return out;
  }

  static std::string KillPoint(const std::vector<Event>& events, size_t count) {
    return "killed after event " + std::to_string(count) + " (" + events[count - 1].kind + " " +
           events[count - 1].step + ")";
  }

  static size_t CountKind(const std::vector<Event>& events, const std::string& kind) {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                             [&](const Event& e) { return e.kind == kind; }));
  }

  std::string dir_;
  Team team_;
};

TEST_F(ResumeTest, EveryKillPointResumesToTheSameOutputWithoutAskingTwice) {
  Recorded whole = RecordWhole(team_, Answer, "whole.db");
  ASSERT_GT(whole.events.size(), 30u);
  // Every prefix that stops before the run's last event is a possible kill point.
  for (size_t count = 1; count + 1 < whole.events.size(); ++count) {
    SCOPED_TRACE(KillPoint(whole.events, count));
    Resumed resumed = ResumeAfter(team_, whole, count, Answer);
    EXPECT_EQ(resumed.report.output, whole.report.output);
    EXPECT_EQ(resumed.report.usage.input_tokens, whole.report.usage.input_tokens);
    EXPECT_EQ(resumed.report.usage.output_tokens, whole.report.usage.output_tokens);
    EXPECT_EQ(resumed.report.steps.size(), whole.report.steps.size());
    EXPECT_TRUE(resumed.asked_again.empty()) << resumed.asked_again.front();
    // The store now tells the whole story: the report rebuilt from it matches the live one.
    auto record = resumed.store->FindRun(whole.report.run_id);
    auto all = resumed.store->LoadEvents(whole.report.run_id);
    ASSERT_TRUE(record && all);
    EXPECT_EQ(record->status, RunStatus::kCompleted);
    RunReport rebuilt = ReportFromEvents(*record, *all);
    EXPECT_EQ(rebuilt.output, whole.report.output);
    EXPECT_EQ(rebuilt.usage.output_tokens, whole.report.usage.output_tokens);
    // Each agent's instructions are recorded once, however the run was interrupted.
    EXPECT_EQ(CountKind(*all, "llm.message"), CountKind(whole.events, "llm.message"));
  }
}

// Events as chorus recorded them before llm.message existed: every content inline.
std::vector<Event> WithContentsInline(const std::vector<Event>& events) {
  std::vector<Event> out;
  NamedContents named;
  for (const Event& e : events) {
    nlohmann::json p = nlohmann::json::parse(e.payload);
    named.Apply(e.kind, p);
    if (e.kind == "llm.message") continue;
    Event copy = e;
    copy.seq = static_cast<int64_t>(out.size()) + 1;
    if (e.kind == "llm.request") {
      for (nlohmann::json& m : p["messages"]) m.erase("content_id");
      copy.payload = p.dump();
    }
    out.push_back(std::move(copy));
  }
  return out;
}

TEST_F(ResumeTest, ARunRecordedWithContentsInlineResumesWithoutRecordingAnyTwice) {
  Recorded whole = RecordWhole(team_, Answer, "whole.db");
  ASSERT_GE(CountKind(whole.events, "llm.message"), 4u);
  Recorded old = whole;
  old.events = WithContentsInline(whole.events);
  // Killed once the map's first answer is recorded: the requests before it are made again
  // and must be recognised as recorded; the ones after it are new.
  size_t count = 0;
  while (old.events[count].kind != "llm.response" || old.events[count].step != "items[0]") {
    ++count;
  }
  Resumed resumed = ResumeAfter(team_, old, count + 1, Answer);
  EXPECT_EQ(resumed.report.output, whole.report.output);
  EXPECT_TRUE(resumed.asked_again.empty()) << resumed.asked_again.front();
  auto all = resumed.store->LoadEvents(whole.report.run_id);
  ASSERT_TRUE(all);
  EXPECT_EQ(CountKind(*all, "llm.message"), 0u);
  // One request per attempt, plus the one in flight at the kill, sent again and marked so.
  size_t resent = 0;
  for (const Event& e : *all) resent += e.payload.find("\"resent\":true") != std::string::npos;
  EXPECT_EQ(resent, 1u);
  EXPECT_EQ(CountKind(*all, "llm.request"), CountKind(whole.events, "llm.request") + resent);
}

// A map whose answers overflow the synthesis model's window: the synthesis runs in levels.
constexpr const char* kStagedTeam = R"(name: staged
models:
  m: { provider: openai, model: scripted, base_url: "http://127.0.0.1:9/v1",
       context_window: 1000, max_tokens: 100 }
agents:
  worker: { role: "You work through items.", model: m }
  editor: { role: "You edit.", model: m }
flow:
  - map: items
    over: [ a, b, c, d, e, f, g, h, i, j, k, l ]
    agent: worker
    concurrency: 3
    brief: { objective: "Work on ${item}" }
  - synthesize: final
    agent: editor
    from: [ items ]
)";

ChatResult StagedAnswer(const ChatRequest& r) {
  if (r.agent == "editor") return Text("edited " + r.idempotency_key.substr(27));
  std::string text = "worked on " + r.messages.back().content.substr(0, 60) + ":";
  for (int i = 0; i < 25; ++i) text += " point" + std::to_string(i);
  return Text(text);
}

TEST_F(ResumeTest, AStagedSynthesisResumesFromEveryKillPointWithoutAskingTwice) {
  auto team = ParseTeam(kStagedTeam, dir_ + "/staged.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  Recorded whole = RecordWhole(*team, StagedAnswer, "staged-whole.db");
  ASSERT_GE(CountKind(whole.events, "synthesis.staged"), 2u);
  for (size_t count = 1; count + 1 < whole.events.size(); ++count) {
    SCOPED_TRACE(KillPoint(whole.events, count));
    Resumed resumed = ResumeAfter(*team, whole, count, StagedAnswer);
    EXPECT_EQ(resumed.report.output, whole.report.output);
    EXPECT_EQ(resumed.report.usage.input_tokens, whole.report.usage.input_tokens);
    EXPECT_EQ(resumed.report.steps.size(), whole.report.steps.size());
    EXPECT_TRUE(resumed.asked_again.empty()) << resumed.asked_again.front();
    auto all = resumed.store->LoadEvents(whole.report.run_id);
    ASSERT_TRUE(all);
    // Each level's cut is recorded once, however often the run was interrupted.
    EXPECT_EQ(CountKind(*all, "synthesis.staged"), CountKind(whole.events, "synthesis.staged"));
  }
}

TEST_F(ResumeTest, AnUnansweredRequestIsSentAgainUnderItsKey) {
  Recorded whole = RecordWhole(team_, Answer, "whole.db");
  const std::vector<Event>& events = whole.events;
  ASSERT_FALSE(events.empty());
  // Cut right after the first request: it was sent, its answer never recorded.
  size_t first_request = 0;
  while (events[first_request].kind != "llm.request") ++first_request;
  auto store = InterruptedCopy(whole.run, events, first_request + 1);
  auto key = nlohmann::json::parse(events[first_request].payload)["key"].get<std::string>();

  ScriptedClient client(Answer);
  RunOptions options = Options(store.get(), &client);
  options.run_id = whole.report.run_id.substr(0, 12);  // a unique prefix is enough
  auto resumed = ResumeRun(team_, std::move(options));
  ASSERT_TRUE(resumed) << resumed.error().ToString();
  ASSERT_EQ(resumed->status, RunStatus::kCompleted) << resumed->error;
  int same_key = 0;
  for (const ChatRequest& r : client.requests()) same_key += r.idempotency_key == key;
  EXPECT_EQ(same_key, 1);
  auto all = store->LoadEvents(whole.report.run_id);
  ASSERT_TRUE(all);
  bool marked = false;
  for (const Event& e : *all) {
    if (e.kind == "llm.request" && e.payload.find("\"resent\":true") != std::string::npos) {
      marked = e.payload.find(key) != std::string::npos;
    }
  }
  EXPECT_TRUE(marked) << "the second llm.request for " << key << " is not marked as resent";
}

TEST_F(ResumeTest, RefusesRunsThatAreNotInterrupted) {
  Recorded done = RecordWhole(team_, Answer, "s.db");
  ASSERT_FALSE(done.events.empty());
  auto store = OpenStore("s.db");
  ScriptedClient client(Answer);
  RunOptions again = Options(store.get(), &client);
  again.run_id = done.report.run_id;
  auto completed = ResumeRun(team_, again);
  ASSERT_FALSE(completed);
  EXPECT_NE(completed.error().message().find("has completed"), std::string::npos)
      << completed.error().message();

  // A run whose process is alive (our parent, the test runner's shell or ctest) is running.
  auto live = InterruptedCopy(done.run, done.events, 5);
  RunRecord alive = done.run;
  alive.status = RunStatus::kRunning;
  alive.pid = getppid();
  ASSERT_TRUE(live->UpdateRun(alive).ok());
  RunOptions o = Options(live.get(), &client);
  o.run_id = done.report.run_id;
  auto running = ResumeRun(team_, o);
  ASSERT_FALSE(running);
  EXPECT_NE(running.error().message().find("still running"), std::string::npos)
      << running.error().message();

  auto unknown = ResumeRun(team_, [&] {
    RunOptions u = Options(store.get(), &client);
    u.run_id = "no-such-run";
    return u;
  }());
  EXPECT_FALSE(unknown);
}

TEST_F(ResumeTest, RefusesAnEditedTeamFile) {
  Recorded done = RecordWhole(team_, Answer, "s.db");
  ASSERT_FALSE(done.events.empty());
  auto cut = InterruptedCopy(done.run, done.events, 10);
  ScriptedClient client(Answer);

  std::string edited_text = kTeam;
  edited_text.replace(edited_text.find("Scan the market"), 15, "Scan the street");
  auto edited = ParseTeam(edited_text, dir_ + "/team.yaml");
  ASSERT_TRUE(edited);
  RunOptions o = Options(cut.get(), &client);
  o.run_id = done.report.run_id;
  auto resumed = ResumeRun(*edited, o);
  ASSERT_FALSE(resumed);
  EXPECT_NE(resumed.error().message().find("changed since run"), std::string::npos)
      << resumed.error().message();
}

// Gates and witnesses are decided again on the recorded answers: a gate that failed once and
// passed on the retry, and an adaptive witness that had to ask a third agent, come out the
// same from every kill point, and the judges' and witnesses' answers are never asked twice.
constexpr const char* kQualityTeam = R"(name: resumable-quality
models:
  m: { provider: openai, model: scripted, base_url: "http://127.0.0.1:9/v1" }
agents:
  writer: { role: "You write.", model: m }
  reviewer: { role: "You review.", model: m }
  w1: { role: "Witness one.", model: m }
  w2: { role: "Witness two.", model: m }
  w3: { role: "Witness three.", model: m }
flow:
  - task: draft
    agent: writer
    brief: { objective: "Draft the plan" }
    gate:
      checks: [ { judge: reviewer, rubric: "Is it concrete?", pass: 7 } ]
      retries: 2
      on_fail: retry_with_feedback
  - witness: feasible
    about: draft
    question: "Is the plan feasible? Answer yes or no."
    agents: [ w1, w2, w3 ]
    quorum: 2
    compare: normalized
    adaptive: true
)";

ChatResult QualityAnswer(const ChatRequest& r) {
  const std::string& key = r.idempotency_key;
  if (r.agent == "writer") {
    return Text(key.ends_with("/1") ? "A vague plan." : "A concrete plan: hire two, ship in May.");
  }
  if (r.agent == "reviewer") {
    bool first = key.find("judge.1") != std::string::npos;
    return Text(first ? R"({"score": 4, "reasons": ["not concrete"]})"
                      : R"({"score": 8, "reasons": ["concrete"]})");
  }
  return Text(r.agent == "w2" ? "No." : "Yes.");
}

TEST_F(ResumeTest, GatesAndWitnessesAreDecidedAgainFromEveryKillPoint) {
  auto team = ParseTeam(kQualityTeam, dir_ + "/quality.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  Recorded whole = RecordWhole(*team, QualityAnswer, "quality-whole.db");
  ASSERT_NE(whole.report.output.find("validated"), std::string::npos) << whole.report.output;
  for (size_t count = 1; count + 1 < whole.events.size(); ++count) {
    SCOPED_TRACE(KillPoint(whole.events, count));
    Resumed resumed = ResumeAfter(*team, whole, count, QualityAnswer);
    EXPECT_EQ(resumed.report.output, whole.report.output);
    EXPECT_TRUE(resumed.asked_again.empty()) << resumed.asked_again.front();
    // Each decision is in the store once, as in the uninterrupted run.
    auto all = resumed.store->LoadEvents(whole.report.run_id);
    ASSERT_TRUE(all);
    for (const char* kind : {"gate.verdict", "witness.vote", "witness.extended", "witness.verdict",
                             "step.completed", "llm.response"}) {
      EXPECT_EQ(CountKind(*all, kind), CountKind(whole.events, kind)) << kind;
    }
  }
}

// A conversation with a small window rolls over on the way; resumed from any point, its turns
// and handoffs are rebuilt from the record, so later prompts (and the output) are the same.
TEST_F(ResumeTest, ConversationsAndTheirRolloversAreRebuiltFromEveryKillPoint) {
  std::string yaml = R"(name: resumable-diary
models:
  m: { provider: openai, model: gpt-4o-mini, base_url: "http://127.0.0.1:9/v1", context_window: 1200 }
agents:
  keeper: { role: "You keep the project diary.", model: m, context: { limit: 1200, rollover_at: 0.6, keep_last: 1 } }
flow:
  - map: diary
    agents: [ keeper ]
    over: [ )";
  for (int i = 1; i <= 16; ++i) {
    yaml += (i > 1 ? ", " : "") + std::string("\"day ") + std::to_string(i) +
            ": we met the supplier, agreed on delivery dates and priced three options\"";
  }
  yaml += " ]\n    brief: { objective: \"Record ${item} in the diary\" }\n";
  auto team = ParseTeam(yaml, dir_ + "/diary.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  auto answer = [](const ChatRequest& r) -> ChatResult {
    if (r.idempotency_key.find("/handoff-") != std::string::npos) {
      return Text(R"({"key_decisions": ["delivery dates agreed"], "current_state": "diary kept",
                      "next_steps": ["record the next day"], "reasoning": "one entry per day",
                      "open_questions": [], "verbatim_facts": []})");
    }
    return Text("Recorded: " + r.messages.back().content.substr(0, 40) + " (" +
                std::to_string(r.messages.size()) + " messages in view)");
  };
  Recorded whole = RecordWhole(*team, answer, "diary-whole.db");
  const size_t rollovers = CountKind(whole.events, "conversation.rollover");
  ASSERT_GE(rollovers, 2u) << "the window is meant to force rollovers";
  for (size_t count = 1; count + 1 < whole.events.size(); ++count) {
    SCOPED_TRACE(KillPoint(whole.events, count));
    Resumed resumed = ResumeAfter(*team, whole, count, answer);
    EXPECT_EQ(resumed.report.output, whole.report.output);
    EXPECT_TRUE(resumed.asked_again.empty()) << resumed.asked_again.front();
    auto all = resumed.store->LoadEvents(whole.report.run_id);
    ASSERT_TRUE(all);
    EXPECT_EQ(CountKind(*all, "conversation.rollover"), rollovers);
  }
}

TEST(RunJournalTest, KnowsOutcomesByKeyAndRecordedEvents) {
  auto event = [](std::string kind, std::string step, nlohmann::json p) {
    Event e;
    e.kind = std::move(kind);
    e.step = std::move(step);
    e.payload = p.dump();
    return e;
  };
  std::vector<Event> events = {
      event("run.started", "", {{"inputs", {{"x", {{"text", "hello"}}}}}}),
      event("step.started", "a", {{"kind", "task"}}),
      event("llm.request", "a", {{"attempt", 1}, {"key", "r/a/1"}}),
      event("llm.response", "a", {{"text", "bad"}, {"usage", {{"output_tokens", 4}}}}),
      event("output.rejected", "a", {{"reason", "missing section Risks"}}),
      event("llm.request", "a", {{"attempt", 2}, {"key", "r/a/2"}}),
      event("llm.error", "a",
            {{"code", "RESOURCE_EXHAUSTED"}, {"message", "429"}, {"http_status", 429}}),
      event("llm.request", "a", {{"attempt", 3}, {"key", "r/a/3"}}),
      event("step.started", "c", {{"kind", "task"}}),
      event("step.completed", "c", {{"output", "done"}, {"json", {{"k", 1}}}}),
      event("step.failed", "d", {{"error", "boom"}}),
  };
  RunJournal j = RunJournal::FromEvents(events);
  EXPECT_EQ(j.started()["inputs"]["x"]["text"], "hello");
  EXPECT_EQ(j.event_count(), events.size());

  const ChatResult* first = j.Outcome("r/a/1");
  ASSERT_TRUE(first && first->has_value());
  EXPECT_EQ((*first)->text, "bad");
  EXPECT_EQ((*first)->usage.output_tokens, 4);
  const ChatResult* second = j.Outcome("r/a/2");
  ASSERT_TRUE(second && !second->has_value());
  EXPECT_EQ(second->error().status.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(second->error().transient());
  EXPECT_EQ(second->error().http_status, 429);
  EXPECT_EQ(j.Outcome("r/a/3"), nullptr);  // sent, never answered
  EXPECT_TRUE(j.Requested("r/a/3"));
  EXPECT_FALSE(j.Requested("r/a/4"));
  EXPECT_EQ(j.answered_keys(), std::vector<std::string>({"r/a/1"}));

  const UnitRecord* c = j.Find("c");
  ASSERT_TRUE(c && c->completed);
  EXPECT_EQ(c->completed->json["k"], 1);
  ASSERT_TRUE(j.Find("d") && j.Find("d")->failed);
  EXPECT_EQ(*j.Find("d")->failed, "boom");
  EXPECT_EQ(j.Find("a"), nullptr);  // started, never settled
  EXPECT_EQ(j.Find("nope"), nullptr);

  // An identical event is "already recorded" once per recorded occurrence.
  Event again = event("step.started", "c", {{"kind", "task"}});
  EXPECT_TRUE(j.ConsumeRecorded(again));
  EXPECT_FALSE(j.ConsumeRecorded(again));
  EXPECT_FALSE(j.ConsumeRecorded(event("step.started", "c", {{"kind", "map"}})));
}

}  // namespace
}  // namespace chorus
