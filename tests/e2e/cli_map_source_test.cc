// End-to-end: maps over frameworks(...) and files(...), their error cases, the map progress
// lines when stderr is not a terminal, and the two routing examples on the offline model.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "e2e/cli_harness.h"
#include "support/fake_llm_server.h"

namespace chorus::e2e {
namespace {

using chorus::test::FakeLlmServer;

std::string Models(const FakeLlmServer& s) {
  return "models:\n  fast: { provider: openai, model: gpt-4o-mini, base_url: \"" +
         s.openai_base_url() + "\", stream: false }\n";
}

nlohmann::json Events(const std::string& store, const std::string& run_id,
                      const std::string& kind) {
  nlohmann::json shown = JsonOut(Chorus({"show", run_id, "--store", store, "--json"}));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : shown["events"]) {
    if (e["kind"] == kind) out.push_back(e);
  }
  return out;
}

TEST(MapOverFrameworks, OneItemPerFrameworkWithItsFieldsSpreadOverThePool) {
  auto server =
      FakeLlmServer::Start({.script = {{"default", {{"reply", "reviewed: {{last_user}}"}}}}});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team = dir.Write("team.yaml", "name: enhance\n" + Models(*server) + R"(agents:
  e1: { role: r, model: fast }
  e2: { role: r, model: fast }
  e3: { role: r, model: fast }
flow:
  - map: review
    over: frameworks("7.2")
    agents: [ e1, e2, e3 ]
    concurrency: 2
    brief: { objective: "Improve ID=${item.id} NAME=${item.name}", context: [ "${item.instructions}" ] }
)");
  auto run = Chorus({"run", team, "--store", dir.Path("c.db"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  nlohmann::json requests = server->Requests();
  ASSERT_EQ(requests.size(), 7u);               // 7.2.1 .. 7.2.7
  std::map<std::string, std::string> agent_of;  // framework id -> agent
  for (const auto& r : requests) {
    std::string body = r["body"].dump();
    size_t at = body.find("ID=");
    ASSERT_NE(at, std::string::npos) << body;
    agent_of[body.substr(at + 3, 5)] = r["agent"];
  }
  EXPECT_EQ(agent_of["7.2.1"], "e1");
  EXPECT_EQ(agent_of["7.2.2"], "e2");
  EXPECT_EQ(agent_of["7.2.3"], "e3");
  EXPECT_EQ(agent_of["7.2.4"], "e1");
  std::string output = JsonOut(run)["output"];
  EXPECT_NE(output.find("NAME=Pre-mortem"), std::string::npos) << output;
  // Item paths are stable (id order); the recorded item is the framework id.
  nlohmann::json started = Events(dir.Path("c.db"), JsonOut(run)["run_id"], "step.started");
  std::map<std::string, std::string> item_of;
  for (const auto& e : started) {
    if (e["payload"].contains("item")) item_of[e["step"]] = e["payload"]["item"];
  }
  EXPECT_EQ(item_of["review[0]"], "7.2.1");
  EXPECT_EQ(item_of["review[6]"], "7.2.7");
}

TEST(MapOverFrameworks, UnknownItemFieldIsALintErrorWithASuggestion) {
  Scratch dir;
  std::string team = dir.Write("team.yaml", R"(name: enhance
agents:
  e1: { role: r }
flow:
  - map: review
    over: frameworks("7.2")
    agent: e1
    brief: "Improve ${item.nmae}"
)");
  auto lint = Chorus({"lint", team});
  EXPECT_NE(lint.exit_code, 0);
  EXPECT_NE(lint.stderr_text.find("team.yaml:8:12: error: map 'review' references "
                                  "'${item.nmae}', but its items have no field 'nmae' (did you "
                                  "mean 'name'?)"),
            std::string::npos)
      << lint.stderr_text;
}

struct FilesRun {
  test::ExitStatus run;
  std::string error;
};

FilesRun RunOverFiles(const Scratch& dir, const std::string& glob) {
  std::string team = dir.Write("team.yaml", R"(name: docs
agents:
  reader: { role: r }
flow:
  - map: summaries
    over: files(")" + glob + R"(")
    agent: reader
    brief: { objective: "Summarise ${item.path}", context: [ "${item}" ] }
)");
  FilesRun r;
  r.run = Chorus({"run", team, "--store", dir.Path("c.db"), "--json"});
  if (r.run.exit_code != 0) r.error = JsonOut(r.run).value("error", "");
  return r;
}

TEST(MapOverFiles, OneItemPerMatchingFileInPathOrderWithItsContent) {
  auto server = FakeLlmServer::Start({.script = {{"default", {{"reply", "ok"}}}}});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::filesystem::create_directories(dir.Path("docs/deep"));
  dir.Write("docs/b.md", "BRAVO text");
  dir.Write("docs/a.md", "ALPHA text");
  dir.Write("docs/notes.txt", "not markdown");
  dir.Write("docs/deep/c.md", "CHARLIE text");
  std::string team = dir.Write("team.yaml", "name: docs\n" + Models(*server) + R"(agents:
  reader: { role: r, model: fast }
flow:
  - map: summaries
    over: files("docs/*.md")
    agent: reader
    brief: { objective: "Summarise FILE=${item.path}", context: [ "${item}" ] }
)");
  auto run = Chorus({"run", team, "--store", dir.Path("c.db"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  nlohmann::json requests = server->Requests();
  ASSERT_EQ(requests.size(), 2u);  // not notes.txt, not deep/c.md
  std::string all = requests.dump();
  EXPECT_NE(all.find("FILE=docs/a.md"), std::string::npos);
  EXPECT_NE(all.find("ALPHA text"), std::string::npos);
  EXPECT_EQ(all.find("CHARLIE"), std::string::npos);
  std::string output = JsonOut(run)["output"];
  EXPECT_LT(output.find("docs/a.md"), output.find("docs/b.md")) << output;

  // '**' reaches into subfolders.
  server->Reset();
  dir.Write("team.yaml", "name: docs\n" + Models(*server) + R"(agents:
  reader: { role: r, model: fast }
flow:
  - map: summaries
    over: files("docs/**.md")
    agent: reader
    brief: { objective: "Summarise FILE=${item.path}", context: [ "${item}" ] }
)");
  auto deep = Chorus({"run", team, "--store", dir.Path("c.db"), "--json"});
  ASSERT_EQ(deep.exit_code, 0) << deep.stderr_text;
  EXPECT_EQ(server->Requests().size(), 3u);
  EXPECT_NE(server->Requests().dump().find("FILE=docs/deep/c.md"), std::string::npos);
}

TEST(MapOverFiles, NoMatchIsAClearError) {
  Scratch dir;
  std::filesystem::create_directories(dir.Path("docs"));
  FilesRun r = RunOverFiles(dir, "docs/*.md");
  EXPECT_EQ(r.run.exit_code, 1);
  EXPECT_NE(r.error.find("files(\"docs/*.md\"): no file matches"), std::string::npos) << r.error;
  FilesRun missing = RunOverFiles(dir, "nowhere/*.md");
  EXPECT_NE(missing.error.find("does not exist"), std::string::npos) << missing.error;
}

TEST(MapOverFiles, NonUtf8FileIsRefusedWithItsPosition) {
  Scratch dir;
  std::filesystem::create_directories(dir.Path("docs"));
  dir.Write("docs/a.md", "fine");
  dir.Write("docs/b.md", "line one\nbad \xFF byte");
  FilesRun r = RunOverFiles(dir, "docs/*.md");
  EXPECT_EQ(r.run.exit_code, 1);
  EXPECT_NE(r.error.find("docs/b.md is not UTF-8 text: invalid byte 0xFF at byte 13"),
            std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("line 2"), std::string::npos) << r.error;
}

TEST(MapOverFiles, TooBigFileIsRefused) {
  Scratch dir;
  std::filesystem::create_directories(dir.Path("docs"));
  dir.Write("docs/big.md", std::string((1u << 20) + 1, 'x'));
  FilesRun r = RunOverFiles(dir, "docs/*.md");
  EXPECT_EQ(r.run.exit_code, 1);
  EXPECT_NE(r.error.find("docs/big.md is 1.0 MiB; a map item file may be at most 1.0 MiB"),
            std::string::npos)
      << r.error;
}

TEST(MapOverFiles, UnreadableFileIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  Scratch dir;
  std::filesystem::create_directories(dir.Path("docs"));
  std::string path = dir.Write("docs/secret.md", "hidden");
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  FilesRun r = RunOverFiles(dir, "docs/*.md");
  EXPECT_EQ(r.run.exit_code, 1);
  EXPECT_NE(r.error.find("cannot read docs/secret.md"), std::string::npos) << r.error;
}

// stderr is a pipe here, so the map reports plain lines, never terminal control codes.
TEST(MapProgress, PlainLinesWithDoneRunningFailedTokensAndCostWhenNotATerminal) {
  Scratch dir;
  std::string team = dir.Write("team.yaml", R"(name: progress
agents:
  e1: { role: r }
  e2: { role: r }
flow:
  - map: review
    over: frameworks("1")
    agents: [ e1, e2 ]
    brief: "Improve ${item.name}"
)");
  auto run = Chorus({"run", team, "--store", dir.Path("c.db")});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const std::string& err = run.stderr_text;
  EXPECT_NE(err.find("map over 49 items, 8 at a time"), std::string::npos) << err;
  EXPECT_NE(err.find("49/49 done, 0 running, 0 failed, "), std::string::npos) << err;
  EXPECT_NE(err.find(" tokens, $0.0000"), std::string::npos) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos);
  EXPECT_EQ(err.find("\x1b["), std::string::npos);
  // 49 items are too many for a line each.
  EXPECT_EQ(err.find("review[3]"), std::string::npos) << err;
}

const std::string kExamples = std::string(CHORUS_SOURCE_DIR) + "/examples/";

TEST(RouteExamples, EnhanceFrameworksSplitsTheLibraryOverFiveEditors) {
  Scratch dir;
  auto run =
      Chorus({"run", kExamples + "enhance-frameworks.yaml", "--store", dir.Path("c.db"), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  nlohmann::json out = JsonOut(run);
  std::map<std::string, std::set<std::string>> items_of;  // agent -> framework ids
  for (const auto& e : Events(dir.Path("c.db"), out["run_id"], "step.started")) {
    if (e["payload"].value("kind", "") == "map-item") {
      items_of[e["agent"]].insert(e["payload"]["item"].get<std::string>());
    }
  }
  ASSERT_EQ(items_of.size(), 5u);
  std::set<std::string> all;
  for (const auto& [agent, ids] : items_of) {
    EXPECT_GE(ids.size(), 9u) << agent;
    for (const std::string& id : ids) EXPECT_TRUE(all.insert(id).second) << id << " twice";
  }
  EXPECT_EQ(all.size(), 49u);
  std::string changes = out["output"];
  EXPECT_NE(changes.find("Changes"), std::string::npos) << changes;
}

TEST(RouteExamples, RoutedRequestRoutesByRuleAndByRouterAgent) {
  Scratch dir;
  auto routed = [&](const std::string& request) {
    auto run = Chorus({"run", kExamples + "routed-request.yaml", "--input", "request=" + request,
                       "--store", dir.Path("c.db"), "--json"});
    EXPECT_EQ(run.exit_code, 0) << run.stderr_text;
    nlohmann::json d = Events(dir.Path("c.db"), JsonOut(run)["run_id"], "route.decision");
    return d.empty() ? nlohmann::json() : d[0]["payload"];
  };
  nlohmann::json premortem = routed("Imagine the launch failed a year from now: what went wrong?");
  EXPECT_EQ(premortem["rule"], "routes[0]");
  EXPECT_EQ(premortem["winner"]["id"], "7.2.1");
  nlohmann::json money = routed("Is a $2 million warehouse worth it for our delivery business?");
  EXPECT_EQ(money["rule"], "routes[1]");
  EXPECT_EQ(money["agent"], "analyst");
  nlohmann::json searched = routed(
      "Our two biggest rivals just cut prices; how much bargaining power do our buyers "
      "have?");
  EXPECT_EQ(searched["router"]["asked"], true);
  EXPECT_EQ(searched["winner"]["id"], "1.2.1");
  EXPECT_EQ(searched["candidates"].size(), 3u);
}

}  // namespace
}  // namespace chorus::e2e
