// End-to-end: bad input gets a clear error, and a failing server leaves the record intact.
#include <gtest/gtest.h>

#include "e2e/cli_harness.h"
#include "support/fake_llm_server.h"

namespace chorus::e2e {
namespace {

using chorus::test::FakeLlmServer;

const char* kOfflineTeam = R"(name: small
inputs:
  notes: { file: true }
agents:
  a: { role: "You summarise." }
flow:
  - task: t
    agent: a
    brief: { objective: "Summarise", context: [ "${inputs.notes}" ] }
)";

TEST(CliBadInput, MalformedTeamFileNamesFileLineAndColumn) {
  Scratch dir;
  std::string team = dir.Write("bad.yaml", "name: x\nagents:\n  a: { role: \"r\", modle: fast }\n");
  auto lint = Chorus({"lint", team});
  EXPECT_EQ(lint.exit_code, 2);
  EXPECT_NE(lint.stderr_text.find("bad.yaml:3:"), std::string::npos) << lint.stderr_text;
  EXPECT_NE(lint.stderr_text.find("did you mean 'model'"), std::string::npos) << lint.stderr_text;
  auto run = Chorus({"run", team});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.stderr_text.find("bad.yaml:3:"), std::string::npos) << run.stderr_text;
}

TEST(CliBadInput, YamlSyntaxErrorIsLocated) {
  Scratch dir;
  std::string team = dir.Write("broken.yaml", "name: x\nflow: [\n  - task: a\n");
  auto run = Chorus({"lint", team});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.stderr_text.find("broken.yaml:"), std::string::npos) << run.stderr_text;
}

TEST(CliBadInput, MissingAndUnknownInputsAreUsageErrors) {
  Scratch dir;
  std::string team = dir.Write("team.yaml", kOfflineTeam);
  auto missing = Chorus({"run", team, "--store", dir.Path("s.db")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.stderr_text.find("missing input 'notes'"), std::string::npos);
  auto unknown = Chorus({"run", team, "--input", "notez=x", "--input", "notes=y"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.stderr_text.find("unknown input 'notez'"), std::string::npos);
  auto no_file = Chorus({"run", team, "--input", "notes=@" + dir.Path("nope.md")});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.stderr_text.find("nope.md"), std::string::npos);
}

TEST(CliBadInput, InvalidUtf8InputIsRefusedWithItsPosition) {
  Scratch dir;
  std::string team = dir.Write("team.yaml", kOfflineTeam);
  std::string notes = dir.Write("notes.md", "fine line\nbad \xC3\x28 here\n");
  auto run = Chorus({"run", team, "--input", "notes=@" + notes});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.stderr_text.find("not valid UTF-8"), std::string::npos) << run.stderr_text;
  EXPECT_NE(run.stderr_text.find("line 2, column 5"), std::string::npos) << run.stderr_text;
}

TEST(CliBadInput, FiftyMegabyteInputIsRefusedUnlessTheLimitIsRaised) {
  Scratch dir;
  std::string team = dir.Write("team.yaml", kOfflineTeam);
  std::string line = "The quarterly numbers were reviewed by the board and approved.\n";
  std::string big;
  big.reserve(50u << 20);
  while (big.size() < (50u << 20)) big += line;
  std::string notes = dir.Write("big.md", big);
  auto run = Chorus({"run", team, "--input", "notes=@" + notes, "--store", dir.Path("s.db")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.stderr_text.find("50.0 MiB"), std::string::npos) << run.stderr_text;
  EXPECT_NE(run.stderr_text.find("--max-input-mb"), std::string::npos);
  auto raised = Chorus({"run", team, "--input", "notes=@" + notes, "--max-input-mb", "64",
                        "--store", dir.Path("s.db"), "--json", "--quiet"},
                       {}, 120000);
  EXPECT_EQ(raised.exit_code, 0) << raised.stderr_text;
}

struct FaultCase {
  const char* name;
  nlohmann::json fault;
  const char* expected_in_error;
};

void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

class CliServerFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(CliServerFault, RunFailsClearlyAndItsEventsStayReadable) {
  const FaultCase& c = GetParam();
  nlohmann::json script = {{"default", {{"reply", "never"}}},
                           {"rules",
                            {{{"match", {{"path", "/v1/chat/completions"}}},
                              {"faults", {c.fault}},
                              {"fault_times", 100}}}}};
  auto server = FakeLlmServer::Start({.script = script});
  ASSERT_TRUE(server) << server.error();
  Scratch dir;
  std::string team = dir.Write(
      "team.yaml", "name: faulty\nmodels:\n  m: { provider: openai, model: x, base_url: \"" +
                       server->openai_base_url() + "\", timeout_s: 1 }\n" + R"(agents:
  a: { role: "r", model: m }
flow:
  - task: t
    agent: a
    brief: { objective: "o" }
)");
  std::string store = dir.Path("s.db");
  auto run = Chorus({"run", team, "--json", "--store", store, "--transient-retries", "1"});
  ASSERT_EQ(run.exit_code, 1) << run.stdout_text << run.stderr_text;
  nlohmann::json out = JsonOut(run);
  EXPECT_EQ(out["status"], "failed");
  EXPECT_NE(out["error"].get<std::string>().find(c.expected_in_error), std::string::npos)
      << out["error"];

  auto show = Chorus({"show", out["run_id"], "--store", store, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.stderr_text;
  nlohmann::json events = JsonOut(show)["events"];
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front()["kind"], "run.started");
  EXPECT_EQ(events.back()["kind"], "run.failed");
  int requests = 0, errors = 0;
  for (const auto& e : events) {
    requests += e["kind"] == "llm.request";
    errors += e["kind"] == "llm.error";
  }
  EXPECT_EQ(requests, 2);       // the first attempt and one retry
  EXPECT_EQ(requests, errors);  // every request is answered in the record, by an error
  auto runs = Chorus({"runs", "--store", store, "--json"});
  EXPECT_EQ(JsonOut(runs)[0]["status"], "failed");
}

INSTANTIATE_TEST_SUITE_P(
    Faults, CliServerFault,
    ::testing::Values(FaultCase{"garbage", {{"kind", "garbage"}}, "JSON"},
                      FaultCase{"cut_stream", {{"kind", "cut_stream"}, {"after_events", 2}}, "cut"},
                      FaultCase{"stall", {{"kind", "stall"}}, "timed out"},
                      FaultCase{"server_error", {{"kind", "http_error"}, {"status", 503}}, "503"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace chorus::e2e
