// chorus does not link libcurl. A run whose models all speak plain http:// never maps it, nor
// the TLS, Kerberos and LDAP libraries behind it; the first request that needs it (here one
// sent through a proxy) loads it, and the run goes on as before.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/cli_harness.h"
#include "support/fake_llm_server.h"

namespace chorus::e2e {
namespace {

using chorus::test::FakeLlmServer;

std::string TeamAt(const std::string& base_url) {
  return "name: libcurl\nmodels:\n  m: { provider: openai, model: gpt-4o-mini, base_url: \"" +
         base_url +
         "\", stream: false }\n"
         "agents:\n  a: { role: \"r\", model: m }\n"
         "flow:\n  - task: t\n    agent: a\n    brief: { objective: \"o\" }\n";
}

struct Observed {
  std::string maps;  // /proc/PID/maps while the request was in flight
  test::ExitStatus exit;
};

// Runs the team and reads which files the process mapped once the server has its request.
Observed RunAndLookInside(const FakeLlmServer& server, const std::string& team_path,
                          const std::string& store, std::map<std::string, std::string> env) {
  test::ProcessOptions o;
  o.argv = {CHORUS_CLI_PATH, "run", team_path, "--store", store, "--quiet"};
  o.env = std::move(env);
  o.unset_env = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "no_proxy", "NO_PROXY"};
  test::Process p(std::move(o));
  Observed seen;
  if (auto started = p.Start(); !started) {
    ADD_FAILURE() << started.error();
    return seen;
  }
  for (int i = 0; i < 500 && server.Requests().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ostringstream maps;
  maps << std::ifstream("/proc/" + std::to_string(p.Pid()) + "/maps").rdbuf();
  seen.maps = maps.str();
  seen.exit = p.Wait(std::chrono::seconds(60)).value_or(test::ExitStatus{});
  return seen;
}

TEST(CliLibcurl, APlainHttpRunNeverLoadsIt) {
  auto server = FakeLlmServer::Start({.latency_ms = 1000});
  ASSERT_TRUE(server) << server.error();
  Scratch scratch;
  std::string team = scratch.Write("team.yaml", TeamAt(server->openai_base_url()));
  Observed seen = RunAndLookInside(*server, team, scratch.Path("s.db"), {});
  EXPECT_TRUE(seen.exit.ok()) << seen.exit.Describe() << seen.exit.stderr_text;
  ASSERT_NE(seen.maps.find("libsqlite3"), std::string::npos) << "could not read the maps";
  EXPECT_EQ(seen.maps.find("libcurl"), std::string::npos);
  EXPECT_EQ(seen.maps.find("libgnutls"), std::string::npos);
}

TEST(CliLibcurl, AProxiedRequestLoadsItAndTheRunCompletes) {
  auto server = FakeLlmServer::Start({.latency_ms = 1000});
  ASSERT_TRUE(server) << server.error();
  Scratch scratch;
  // A host that is not loopback goes through the proxy, which only libcurl speaks to.
  std::string team = scratch.Write("team.yaml", TeamAt("http://chorus-upstream.invalid/v1"));
  Observed seen =
      RunAndLookInside(*server, team, scratch.Path("s.db"),
                       {{"http_proxy", "http://127.0.0.1:" + std::to_string(server->port())}});
  EXPECT_TRUE(seen.exit.ok()) << seen.exit.Describe() << seen.exit.stderr_text;
  EXPECT_NE(seen.maps.find("libcurl"), std::string::npos);
  auto requests = server->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["path"], "/v1/chat/completions");
  EXPECT_EQ(requests[0]["headers"]["host"], "chorus-upstream.invalid");
}

}  // namespace
}  // namespace chorus::e2e
