// Taint through a whole run on the offline model: a confidential input's labels follow the
// values into map items, map outputs and later steps; what an agent not cleared for them reads
// is pseudonymized, and a cleared agent reads it restored.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "chorus/run.h"
#include "chorus/team.h"

namespace chorus {
namespace {

const char* kTeam = R"(name: taint
inputs:
  clients: { text: true, label: confidential }
agents:
  helper: { role: "You profile one client contact." }
  lead: { role: "You digest the profiles.", clearance: confidential }
flow:
  - map: profiles
    over: "${inputs.clients}"
    agents: [ helper ]
    brief: { objective: "Profile this contact: ${item}" }
  - task: digest
    agent: lead
    brief: { objective: "Digest the profiles", context: [ "${profiles}" ] }
)";

const char* kClients =
    "Jane Roe <jane.roe@acme.example>, mobile +44 20 7946 0958\n"
    "Omar Haddad <omar.haddad@acme.example>\n";

class TaintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "chorus-taint-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto store = OpenSqliteStore(dir_ + "/s.db");
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `yaml` with `clients` as its input; the events of the run, or none (and a failure)
  // when it did not complete.
  std::vector<Event> CompletedRunEvents(const char* yaml, const std::string& clients) {
    Result<Team> team = ParseTeam(yaml, "team.yaml");
    if (!team) {
      ADD_FAILURE() << team.error().ToString();
      return {};
    }
    RunOptions options;
    options.store = store_.get();
    options.inputs["clients"] = InputValue{clients, ""};
    options.seed = 1;
    Result<RunReport> report = RunTeam(*team, std::move(options));
    if (!report || report->status != RunStatus::kCompleted) {
      ADD_FAILURE() << (report ? report->error : report.error().ToString());
      return {};
    }
    Result<std::vector<Event>> events = store_->LoadEvents(report->run_id);
    if (!events) ADD_FAILURE() << events.error().ToString();
    return events ? *events : std::vector<Event>{};
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(TaintTest, MapItemsFromAConfidentialInputCrossPseudonymizedAndTheLabelFollows) {
  std::vector<Event> events = CompletedRunEvents(kTeam, kClients);
  ASSERT_FALSE(events.empty());
  int item_crossings = 0;
  std::string digest_request;
  for (const Event& e : events) {
    nlohmann::json p = nlohmann::json::parse(e.payload);
    if (e.agent == "helper" && (e.kind == "llm.request" || e.kind == "brief.dispatched")) {
      for (const char* value : {"Jane Roe", "jane.roe@acme.example", "+44 20 7946 0958",
                                "Omar Haddad", "omar.haddad@acme.example"}) {
        EXPECT_EQ(e.payload.find(value), std::string::npos) << value << " in " << e.kind;
      }
    }
    if (e.kind == "boundary.crossed" && e.agent == "helper") {
      ++item_crossings;
      EXPECT_EQ(p["from"], nlohmann::json::array({"item"}));
      EXPECT_EQ(p["action"], "pseudonymized");
    }
    if (e.kind == "step.completed" && e.step == "profiles") {
      EXPECT_EQ(p["label"], "confidential");
    }
    if (e.kind == "llm.request" && e.agent == "lead") digest_request = p["messages"].dump();
  }
  EXPECT_EQ(item_crossings, 2);
  // The offline model quotes its brief, so the profiles hold pseudonyms; the cleared lead
  // reads them with the values back.
  EXPECT_NE(digest_request.find("jane.roe@acme.example"), std::string::npos) << digest_request;
  EXPECT_EQ(digest_request.find("<EMAIL_"), std::string::npos) << digest_request;
}

// The cleared helper's profiles quote the contacts; the uncleared editor's window is too
// small for all of them, so it reads them in parts, each through the boundary.
const char* kStagedTeam = R"(name: staged-taint
models:
  small: { provider: offline, context_window: 1500, max_tokens: 100 }
inputs:
  clients: { text: true, label: confidential }
agents:
  helper: { role: "You profile one client contact.", clearance: confidential }
  editor: { role: "You combine the profiles.", model: small }
flow:
  - map: profiles
    over: "${inputs.clients}"
    agents: [ helper ]
    brief: { objective: "Profile this contact: ${item}" }
  - synthesize: digest
    agent: editor
    from: [ profiles ]
)";

TEST_F(TaintTest, AStagedSynthesisPseudonymizesEveryPartAndCarriesTheLabel) {
  std::string clients;
  for (int i = 0; i < 16; ++i) clients += "contact" + std::to_string(i) + "@acme.example\n";
  std::vector<Event> events = CompletedRunEvents(kStagedTeam, clients);
  ASSERT_FALSE(events.empty());
  int staged = 0, part_requests = 0;
  for (const Event& e : events) {
    nlohmann::json p = nlohmann::json::parse(e.payload);
    staged += e.kind == "synthesis.staged";
    if (e.kind == "llm.request" && e.agent == "editor") {
      part_requests += e.step.rfind("digest[", 0) == 0;
      EXPECT_EQ(e.payload.find("@acme.example"), std::string::npos) << e.step;
      EXPECT_NE(e.payload.find("<EMAIL_"), std::string::npos) << e.step;
    }
    if (e.kind == "step.completed" && e.step.rfind("digest", 0) == 0) {
      EXPECT_EQ(p["label"], "confidential") << e.step;
    }
  }
  EXPECT_GE(staged, 2);
  EXPECT_GE(part_requests, 2);
}

TEST_F(TaintTest, UnlabelledRunsNeverTouchTheVault) {
  std::string yaml = kTeam;
  yaml.replace(yaml.find(", label: confidential"), 21, "");
  Result<Team> team = ParseTeam(yaml, "team.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  RunOptions options;
  options.store = store_.get();
  options.inputs["clients"] = InputValue{kClients, ""};
  Result<RunReport> report = RunTeam(*team, std::move(options));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, RunStatus::kCompleted);
  EXPECT_TRUE(store_->LoadVault(report->run_id)->empty());
  Result<std::vector<Event>> events = store_->LoadEvents(report->run_id);
  ASSERT_TRUE(events);
  for (const Event& e : *events) EXPECT_NE(e.kind, "boundary.crossed");
}

TEST_F(TaintTest, LabelGivenWithTheInputRaisesTheTeamsLabel) {
  std::string yaml = kTeam;
  yaml.replace(yaml.find(", label: confidential"), 21, "");
  Result<Team> team = ParseTeam(yaml, "team.yaml");
  ASSERT_TRUE(team);
  RunOptions options;
  options.store = store_.get();
  options.inputs["clients"] = InputValue{kClients, ""};
  options.input_labels["clients"] = "confidential";
  Result<RunReport> report = RunTeam(*team, std::move(options));
  ASSERT_TRUE(report);
  EXPECT_FALSE(store_->LoadVault(report->run_id)->empty());
}

}  // namespace
}  // namespace chorus
