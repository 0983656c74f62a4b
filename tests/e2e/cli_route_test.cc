// End-to-end routing: the real `chorus` binary against the fake LLM server. A routed task's
// framework reaches the request the server sees; rules beat search; a router agent's choice is
// used when valid and replaced by search's winner (with the reason recorded) when not; the
// delegate-vs-local decision is recorded; `chorus show` prints both events.
#include <gtest/gtest.h>

#include "chorus/frameworks.h"
#include "e2e/cli_harness.h"
#include "support/fake_llm_server.h"

namespace chorus::e2e {
namespace {

using chorus::test::FakeLlmServer;

const char* kPorterRequest =
    "How strong is the bargaining power of buyers and suppliers in our market?";

// A reply with every section any framework used here asks for, so no answer is rejected.
const char* kAllSections =
    "## Industry definition\nx\n## Supplier power\nx\n## Buyer power\nx\n## Threat of new "
    "entrants\nx\n## Threat of substitutes\nx\n## Rivalry\nx\n## Overall attractiveness\nx\n## "
    "Implications\nx\n";

std::string Models(const FakeLlmServer& s) {
  return "models:\n  fast: { provider: openai, model: gpt-4o-mini, base_url: \"" +
         s.openai_base_url() + "\", stream: false }\n";
}

const char* kAgents = R"(agents:
  strategist: { role: "You analyse competitors, suppliers, buyers and market power.", model: fast }
  risk_lead: { role: "You run pre-mortems and risk reviews.", model: fast }
  dispatcher: { role: "You route requests.", model: fast }
inputs:
  request: { text: true }
)";

nlohmann::json Events(const std::string& store, const std::string& run_id,
                      const std::string& kind) {
  nlohmann::json shown = JsonOut(Chorus({"show", run_id, "--store", store, "--json"}));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : shown["events"]) {
    if (e["kind"] == kind) out.push_back(e);
  }
  return out;
}

// The requests the server saw from `agent`, as their JSON bodies' text.
std::vector<std::string> BodiesFrom(const FakeLlmServer& server, const std::string& agent) {
  std::vector<std::string> out;
  for (const auto& r : server.Requests()) {
    if (r["agent"] == agent) out.push_back(r["body"].dump());
  }
  return out;
}

struct Routed {
  test::ExitStatus run;
  std::string run_id;
  nlohmann::json decision;  // the route.decision event
};

// An explicit expected output, so scripted replies need not carry a framework's sections.
const char* kAnswerOutput = ", output: { format: markdown, sections: [ Answer ] }";
const char* kAnswer = "## Answer\nx\n";

Routed RunRouted(const FakeLlmServer& server, const Scratch& dir, const std::string& extra,
                 const std::string& route, const std::string& output = kAnswerOutput) {
  std::string team = dir.Write("team.yaml", "name: routed\n" + Models(server) + kAgents + extra +
                                                "flow:\n  - task: answer\n    route: " + route +
                                                "\n    brief: { objective: \"${inputs.request}\"" +
                                                output + " }\n");
  Routed r;
  r.run = Chorus({"run", team, "--input", "request=" + std::string(kPorterRequest), "--store",
                  dir.Path("c.db"), "--json"});
  if (r.run.exit_code != 0) {
    ADD_FAILURE() << r.run.stderr_text;
    return r;
  }
  r.run_id = JsonOut(r.run)["run_id"];
  nlohmann::json decisions = Events(dir.Path("c.db"), r.run_id, "route.decision");
  EXPECT_EQ(decisions.size(), 1u);
  if (!decisions.empty()) r.decision = decisions[0];
  return r;
}

std::vector<std::string> SearchTop(const std::string& request) {
  auto lib = FrameworkLibrary::Load({"default"}, ".");
  EXPECT_TRUE(lib) << lib.error().ToString();
  std::vector<std::string> ids;
  for (const SearchHit& h : lib->Search(request, 3)) ids.push_back(h.framework->id);
  return ids;
}

TEST(CliRoute, SearchPicksTheFrameworkAndItsStepsReachTheServer) {
  auto server = FakeLlmServer::Start({.script = {{"default", {{"reply", kAllSections}}}}});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  // No output of its own: the framework's sections become the expected output.
  Routed r =
      RunRouted(*server, dir, "", "{ frameworks: auto, agents: [ risk_lead, strategist ] }", "");
  ASSERT_FALSE(r.decision.is_null());
  const nlohmann::json& p = r.decision["payload"];
  EXPECT_EQ(p["rule"], "bm25");
  EXPECT_EQ(p["winner"]["id"], "1.2.1");
  EXPECT_EQ(p["winner"]["name"], "Porter's five forces");
  EXPECT_EQ(p["request"], kPorterRequest);
  ASSERT_EQ(p["candidates"].size(), 3u);
  for (const auto& c : p["candidates"]) {
    EXPECT_TRUE(c.contains("id") && c.contains("name") && c["score"].get<double>() > 0) << c;
  }
  EXPECT_EQ(p["agent"], "strategist");  // its role shares the request's words
  EXPECT_NE(p["why"].get<std::string>().find("scored highest"), std::string::npos);

  std::vector<std::string> bodies = BodiesFrom(*server, "strategist");
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_NE(bodies[0].find("Apply the framework 1.2.1 Porter's five forces"), std::string::npos)
      << bodies[0];
  EXPECT_NE(bodies[0].find("Porter's five forces, step 1:"), std::string::npos);
  EXPECT_NE(bodies[0].find("Supplier power"), std::string::npos);  // the output's sections
  EXPECT_TRUE(BodiesFrom(*server, "risk_lead").empty());

  auto show = Chorus({"show", r.run_id, "--store", dir.Path("c.db")});
  EXPECT_NE(show.stdout_text.find("route.decision"), std::string::npos);
  EXPECT_NE(show.stdout_text.find("rule bm25 → 1.2.1 Porter's five forces, agent strategist"),
            std::string::npos)
      << show.stdout_text;
}

TEST(CliRoute, ARuleBeatsSearch) {
  auto server = FakeLlmServer::Start({.script = {{"default", {{"reply", kAnswer}}}}});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  Routed r = RunRouted(*server, dir, R"(routes:
  - when: { keywords: [ suppliers ] }
    frameworks: [ 7.2.1 ]
    agent: risk_lead
)",
                       "auto");
  ASSERT_FALSE(r.decision.is_null());
  const nlohmann::json& p = r.decision["payload"];
  EXPECT_EQ(p["rule"], "routes[0]");
  EXPECT_EQ(p["winner"]["id"], "7.2.1");
  EXPECT_EQ(p["agent"], "risk_lead");
  // Search's favourite is still on record among the candidates.
  bool porter_listed = false;
  for (const auto& c : p["candidates"]) porter_listed |= c["id"] == "1.2.1";
  EXPECT_TRUE(porter_listed) << p.dump();
  ASSERT_EQ(BodiesFrom(*server, "risk_lead").size(), 1u);
  EXPECT_NE(BodiesFrom(*server, "risk_lead")[0].find("Pre-mortem"), std::string::npos);
}

TEST(CliRoute, RouterAgentChoosesAmongTheTopCandidates) {
  std::vector<std::string> top = SearchTop(kPorterRequest);
  ASSERT_EQ(top.size(), 3u);
  nlohmann::json answer = {{"framework", top[1]}, {"agent", "risk_lead"}, {"why", "second fits"}};
  nlohmann::json script = {
      {"default", {{"reply", kAnswer}}},
      {"rules", {{{"match", {{"agent", "dispatcher"}}}, {"replies", {answer.dump()}}}}}};
  auto server = FakeLlmServer::Start({.script = script});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  Routed r = RunRouted(*server, dir, "", "{ frameworks: auto, router: dispatcher }");
  ASSERT_FALSE(r.decision.is_null());
  const nlohmann::json& p = r.decision["payload"];
  EXPECT_EQ(p["rule"], "router");
  EXPECT_EQ(p["winner"]["id"], top[1]);
  EXPECT_EQ(p["agent"], "risk_lead");
  EXPECT_EQ(p["router"]["used"], true);
  EXPECT_NE(p["why"].get<std::string>().find("second fits"), std::string::npos);
  // The router saw the candidates; the chosen agent got the chosen framework.
  std::vector<std::string> asked = BodiesFrom(*server, "dispatcher");
  ASSERT_EQ(asked.size(), 1u);
  for (const std::string& id : top) EXPECT_NE(asked[0].find(id), std::string::npos) << id;
  ASSERT_EQ(BodiesFrom(*server, "risk_lead").size(), 1u);
  EXPECT_NE(BodiesFrom(*server, "risk_lead")[0].find("Apply the framework " + top[1]),
            std::string::npos);
  // Router and task attempts have separate idempotency keys.
  std::set<std::string> keys;
  for (const auto& e : Events(dir.Path("c.db"), r.run_id, "llm.request")) {
    keys.insert(e["payload"]["key"].get<std::string>());
  }
  EXPECT_EQ(keys.size(), 2u);
}

TEST(CliRoute, UnusableRouterAnswerFallsBackToSearchAndSaysWhy) {
  for (const std::string& reply :
       {std::string("I would go with Porter."),
        nlohmann::json({{"framework", "9.9.9"}, {"agent", "strategist"}, {"why", "x"}}).dump(),
        nlohmann::json({{"framework", "1.2.1"}, {"agent", "nobody"}, {"why", "x"}}).dump()}) {
    SCOPED_TRACE(reply);
    nlohmann::json script = {
        {"default", {{"reply", kAnswer}}},
        {"rules", {{{"match", {{"agent", "dispatcher"}}}, {"replies", {reply}}}}}};
    auto server = FakeLlmServer::Start({.script = script});
    ASSERT_TRUE(server) << server.error();
    Scratch dir;
    Routed r = RunRouted(*server, dir, "",
                         "{ frameworks: auto, agents: [ strategist ], router: dispatcher }");
    ASSERT_FALSE(r.decision.is_null());
    const nlohmann::json& p = r.decision["payload"];
    EXPECT_EQ(p["rule"], "bm25");
    EXPECT_EQ(p["winner"]["id"], "1.2.1");
    EXPECT_EQ(p["router"]["asked"], true);
    EXPECT_EQ(p["router"]["used"], false);
    EXPECT_NE(p["router"]["reason"].get<std::string>().find("unusable"), std::string::npos);
    EXPECT_NE(p["why"].get<std::string>().find("search's winner applies"), std::string::npos);
    EXPECT_EQ(BodiesFrom(*server, "strategist").size(), 1u);
  }
}

TEST(CliRoute, RouterThatKeepsFailingFallsBackToSearch) {
  nlohmann::json script = {{"default", {{"reply", kAnswer}}},
                           {"rules",
                            {{{"match", {{"agent", "dispatcher"}}},
                              {"faults", {{{"kind", "http_error"}, {"status", 400}}}},
                              {"fault_times", 100}}}}};
  auto server = FakeLlmServer::Start({.script = script});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  Routed r = RunRouted(*server, dir, "", "{ agents: [ strategist ], router: dispatcher }");
  ASSERT_FALSE(r.decision.is_null());
  EXPECT_EQ(r.decision["payload"]["router"]["used"], false);
  EXPECT_NE(
      r.decision["payload"]["router"]["reason"].get<std::string>().find("the router agent failed"),
      std::string::npos);
  EXPECT_EQ(JsonOut(r.run)["status"], "completed");
}

TEST(CliRoute, DelegationDecisionIsRecorded) {
  auto server = FakeLlmServer::Start({.script = {{"default", {{"reply", kAnswer}}}}});
  ASSERT_TRUE(server) << server.error();
  const std::string rules = R"(routes:
  - when: { keywords: [ suppliers ] }
    frameworks: [ 7.2.1 ]
    agent: risk_lead
delegation:
  local_if: { max_words: 8 }
)";
  auto run_with = [&](const std::string& request) {
    Scratch dir;
    std::string team =
        dir.Write("team.yaml", "name: routed\n" + Models(*server) + kAgents + rules +
                                   "flow:\n  - task: answer\n    agent: strategist\n    route: "
                                   "auto\n    brief: { objective: \"${inputs.request}\"" +
                                   kAnswerOutput + " }\n");
    auto run = Chorus(
        {"run", team, "--input", "request=" + request, "--store", dir.Path("c.db"), "--json"});
    EXPECT_EQ(run.exit_code, 0) << run.stderr_text;
    nlohmann::json events = Events(dir.Path("c.db"), JsonOut(run)["run_id"], "route.delegation");
    EXPECT_EQ(events.size(), 1u);
    return events.empty() ? nlohmann::json() : events[0]["payload"];
  };
  nlohmann::json large = run_with(kPorterRequest);
  EXPECT_EQ(large["mode"], "delegate");
  EXPECT_EQ(large["owner"], "strategist");
  EXPECT_EQ(large["agent"], "risk_lead");
  nlohmann::json small = run_with("Check our suppliers");
  EXPECT_EQ(small["mode"], "local");
  EXPECT_EQ(small["agent"], "strategist");
  EXPECT_EQ(small["rule"], "local_if.max_words");
}

TEST(CliRoute, TheAgentHoldingTheContextGetsThePiece) {
  auto server = FakeLlmServer::Start({.script = {{"default", {{"reply", kAnswer}}}}});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team =
      dir.Write("team.yaml", "name: routed\n" + Models(*server) + kAgents + R"(delegation:
  delegate_if: { holds_context: true }
flow:
  - task: research
    agent: dispatcher
    brief: { objective: "Collect facts", output: { format: markdown, sections: [ Answer ] } }
  - task: answer
    agent: strategist
    route: { agents: [ risk_lead ] }
    brief: { objective: "${inputs.request}", context: [ "${research}" ],
             output: { format: markdown, sections: [ Answer ] } }
)");
  auto run = Chorus({"run", team, "--input", std::string("request=") + kPorterRequest, "--store",
                     dir.Path("c.db"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  nlohmann::json events = Events(dir.Path("c.db"), JsonOut(run)["run_id"], "route.delegation");
  ASSERT_EQ(events.size(), 1u);
  const nlohmann::json& p = events[0]["payload"];
  EXPECT_EQ(p["routed"], "risk_lead");
  EXPECT_EQ(p["agent"], "dispatcher");
  EXPECT_EQ(p["rule"], "delegate_if.holds_context");
  // The piece went to the agent that produced the context, not to the routed one.
  EXPECT_EQ(BodiesFrom(*server, "dispatcher").size(), 2u);
  EXPECT_TRUE(BodiesFrom(*server, "risk_lead").empty());
}

TEST(CliRoute, LintReportsUnknownFrameworkAndBadRegexWithPositions) {
  Scratch dir;
  std::string team = dir.Write("team.yaml", R"(name: routed
agents:
  strategist: { role: You plan. }
routes:
  - when: { regex: "(unclosed" }
    frameworks: [ 1.2.9 ]
flow:
  - task: t
    route: { frameworks: [ 1.2.1, porters five forces ] }
    brief: Write
)");
  auto lint = Chorus({"lint", team});
  EXPECT_NE(lint.exit_code, 0);
  EXPECT_NE(lint.stderr_text.find("team.yaml:5:20: error: routes[0]: invalid regex '(unclosed': "
                                  "missing ): (unclosed"),
            std::string::npos)
      << lint.stderr_text;
  EXPECT_NE(lint.stderr_text.find("team.yaml:6:17: error: routes[0]: no framework '1.2.9' in "
                                  "the library"),
            std::string::npos)
      << lint.stderr_text;
  EXPECT_NE(
      lint.stderr_text.find("(did you mean one of 1.2.1 to 1.2.7, the frameworks under 1.2?)"),
      std::string::npos);
  EXPECT_NE(lint.stderr_text.find("(did you mean 1.2.1, Porter's five forces?)"), std::string::npos)
      << lint.stderr_text;
}

}  // namespace
}  // namespace chorus::e2e
