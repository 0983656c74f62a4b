// The run's locality guard on its own: which values cross in clear, which are pseudonymized or
// refused, what the audit events say (counts, never values), and that the vault survives a
// restart of the run through the store.
#include "flow/boundary.h"

#include <gtest/gtest.h>

#include <random>

#include "flow/locality.h"
#include "flow/memory_store.h"

namespace chorus {
namespace {

const char* kNote =
    "Meeting notes, 12 March, with Mr. Okafor.\n"
    "Jane Roe (jane.roe@acme-corp.example, +44 20 7946 0958) says Acme Corp wants to cut the "
    "Lisbon team by 40%. Card on file 4111 1111 1111 1111.\n";
const std::vector<std::string> kGold = {
    "Okafor",           "Jane Roe",  "jane.roe@acme-corp.example",
    "+44 20 7946 0958", "Acme Corp", "4111 1111 1111 1111"};

Team EngagementTeam(const std::string& on_violation = "pseudonymize") {
  Team team;
  team.name = "engagement";
  ModelSpec local;
  local.endpoint.name = "local";
  local.endpoint.provider = Provider::kOpenAI;
  local.endpoint.locality = "local";
  ModelSpec cloud;
  cloud.endpoint.name = "cloud";
  cloud.endpoint.provider = Provider::kOpenAI;
  cloud.endpoint.locality = "cloud";
  team.models = {local, cloud};
  auto agent = [](std::string name, std::string role, std::string model, std::string clearance) {
    AgentSpec a;
    a.name = std::move(name);
    a.role = std::move(role);
    a.model = std::move(model);
    a.clearance = std::move(clearance);
    return a;
  };
  team.agents = {agent("analyst", "You analyse.", "local", "confidential"),
                 agent("researcher", "You research.", "cloud", "")};
  InputSpec notes;
  notes.name = "notes";
  notes.label = "confidential";
  team.inputs = {notes};
  team.privacy.entities = {"Acme Corp"};
  team.privacy.on_violation = on_violation;
  return team;
}

class BoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = MemoryStoreWithRun("run-1", "engagement");
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<Boundary> Make(const Team& team) {
    auto b = Boundary::Make(team, {{"notes", Label::kConfidential}}, {{"notes", kNote}},
                            store_.get(), "run-1");
    EXPECT_TRUE(b) << b.error().ToString();
    return b ? std::move(*b) : nullptr;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(BoundaryTest, ConfidentialInputReachesCloudAgentPseudonymizedAndClearedAgentInClear) {
  Team team = EngagementTeam();
  auto boundary = Make(team);
  ASSERT_TRUE(boundary && boundary->active());

  Crossing to_cloud = boundary->Begin("researcher");
  Result<std::string> sent = to_cloud.Admit("inputs.notes", Label::kConfidential, kNote);
  ASSERT_TRUE(sent) << sent.error().ToString();
  for (const std::string& gold : kGold) EXPECT_EQ(sent->find(gold), std::string::npos) << gold;
  EXPECT_NE(sent->find("<CLIENT_1>"), std::string::npos) << *sent;
  EXPECT_EQ(to_cloud.read_label(), Label::kConfidential);

  std::vector<nlohmann::json> events = to_cloud.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["action"], "pseudonymized");
  EXPECT_EQ(events[0]["to"], "researcher");
  EXPECT_EQ(events[0]["endpoint"], "cloud");
  EXPECT_EQ(events[0]["label"], "confidential");
  EXPECT_EQ(events[0]["allowed"], "internal");
  EXPECT_EQ(events[0]["from"], nlohmann::json::array({"inputs.notes"}));
  EXPECT_EQ(events[0]["counts"]["EMAIL"], 1);
  EXPECT_EQ(events[0]["counts"]["CREDIT_CARD"], 1);
  for (const std::string& gold : kGold) {
    EXPECT_EQ(events[0].dump().find(gold), std::string::npos) << gold;
  }

  // The cloud agent's answer, full of pseudonyms, goes back to the cleared analyst restored.
  Crossing to_local = boundary->Begin("analyst");
  Result<std::string> back = to_local.Admit("research", Label::kConfidential, *sent);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, kNote);
  ASSERT_EQ(to_local.Events().size(), 1u);
  EXPECT_EQ(to_local.Events()[0]["action"], "restored");
  EXPECT_EQ(boundary->ForOwner(*sent), kNote);
}

TEST_F(BoundaryTest, ValuesAtOrBelowTheAllowanceCrossUnchanged) {
  Team team = EngagementTeam();
  auto boundary = Make(team);
  Crossing to_cloud = boundary->Begin("researcher");
  const std::string request = "Research the market for Acme Corp's competitors.";
  Result<std::string> sent = to_cloud.Admit("inputs.request", Label::kInternal, request);
  ASSERT_TRUE(sent);
  EXPECT_EQ(*sent, request);
  EXPECT_TRUE(to_cloud.Events().empty());
  EXPECT_EQ(to_cloud.read_label(), Label::kInternal);
}

TEST_F(BoundaryTest, ValueTheDetectorWouldMissIsCaughtBecauseTheVaultKnowsIt) {
  Team team = EngagementTeam();
  auto boundary = Make(team);
  // "Okafor" alone, without the title: the detector sees an ordinary capitalised word; only
  // the vault (seeded from the confidential note, where "Mr." made it a name) knows better.
  const std::string echoed = "summary: the deputy of Okafor agrees; Okafor signs tomorrow";
  Crossing to_cloud = boundary->Begin("researcher");
  Result<std::string> sent = to_cloud.Admit("situation", Label::kConfidential, echoed);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->find("Okafor"), std::string::npos) << *sent;
  EXPECT_EQ(boundary->ForOwner(*sent), echoed);
}

TEST_F(BoundaryTest, PseudonymInALowerLabelledValueIsNotRestoredForAnUnclearedReader) {
  Team team = EngagementTeam();
  auto boundary = Make(team);
  Crossing first = boundary->Begin("researcher");
  Result<std::string> sent = first.Admit("inputs.notes", Label::kConfidential, kNote);
  ASSERT_TRUE(sent);
  ASSERT_NE(sent->find("<EMAIL_1>"), std::string::npos);
  // A public input (or a cloud model's answer passed on as public) that spells a pseudonym
  // must not make the boundary hand the confidential value to a cloud reader.
  Crossing probe = boundary->Begin("researcher");
  Result<std::string> echoed = probe.Admit("inputs.request", Label::kPublic, "mail <EMAIL_1>");
  ASSERT_TRUE(echoed);
  EXPECT_EQ(*echoed, "mail <EMAIL_1>");
  EXPECT_TRUE(probe.Events().empty());
  // The cleared analyst reading the same public text gets the value.
  Crossing cleared = boundary->Begin("analyst");
  EXPECT_EQ(*cleared.Admit("inputs.request", Label::kPublic, "mail <EMAIL_1>"),
            "mail jane.roe@acme-corp.example");
}

TEST_F(BoundaryTest, BlockPolicyRefusesWithSourceLabelAgentAndModel) {
  Team team = EngagementTeam("block");
  auto boundary = Make(team);
  Crossing to_cloud = boundary->Begin("researcher");
  Result<std::string> sent = to_cloud.Admit("inputs.notes", Label::kConfidential, kNote);
  ASSERT_FALSE(sent);
  const std::string& m = sent.error().message();
  EXPECT_NE(m.find("input 'notes' is confidential"), std::string::npos) << m;
  EXPECT_NE(m.find("agent 'researcher' may read at most internal"), std::string::npos) << m;
  EXPECT_NE(m.find("model 'cloud' is a cloud endpoint"), std::string::npos) << m;
  EXPECT_NE(m.find("on_violation is block"), std::string::npos) << m;
  ASSERT_EQ(to_cloud.Events().size(), 1u);
  EXPECT_EQ(to_cloud.Events()[0]["action"], "blocked");
  for (const std::string& gold : kGold) EXPECT_EQ(m.find(gold), std::string::npos) << gold;
}

TEST_F(BoundaryTest, InactiveWithoutLabelledInputs) {
  Team team = EngagementTeam();
  team.inputs[0].label = "";
  auto b =
      Boundary::Make(team, {{"notes", Label::kPublic}}, {{"notes", kNote}}, store_.get(), "run-1");
  ASSERT_TRUE(b);
  EXPECT_FALSE((*b)->active());
  Crossing c = (*b)->Begin("researcher");
  EXPECT_EQ(*c.Admit("inputs.notes", Label::kPublic, kNote), kNote);
  ASSERT_TRUE((*b)->Persist().ok());
  EXPECT_TRUE(store_->LoadVault("run-1")->empty());
}

TEST_F(BoundaryTest, VaultIsStoredAndReloadedSoPseudonymsStayStableAcrossRestarts) {
  Team team = EngagementTeam();
  std::string first_sent;
  {
    auto boundary = Make(team);
    Crossing c = boundary->Begin("researcher");
    first_sent = *c.Admit("inputs.notes", Label::kConfidential, kNote);
    ASSERT_TRUE(boundary->Persist().ok());
  }
  Result<std::vector<VaultRecord>> saved = store_->LoadVault("run-1");
  ASSERT_TRUE(saved);
  EXPECT_FALSE(saved->empty());
  // Nothing in the events table: the vault is its own table.
  EXPECT_TRUE(store_->LoadEvents("run-1")->empty());

  auto resumed = Make(team);
  EXPECT_EQ(resumed->ForOwner(first_sent), kNote);
  Crossing c = resumed->Begin("researcher");
  EXPECT_EQ(*c.Admit("inputs.notes", Label::kConfidential, kNote), first_sent);
}

// Property: for random texts assembled from values and filler, what reaches the cloud agent
// holds none of the values, and the owner gets the text back byte for byte.
TEST_F(BoundaryTest, RandomTextsLeakNothingAndRestoreExactly) {
  Team team = EngagementTeam();
  auto boundary = Make(team);
  const std::vector<std::pair<std::string, bool>> pieces = {{"Jane Roe", true},
                                                            {"jane.roe@acme-corp.example", true},
                                                            {"Acme Corp", true},
                                                            {"ACME CORP", true},
                                                            {"+44 20 7946 0958", true},
                                                            {"4111 1111 1111 1111", true},
                                                            {"Okafor", true},
                                                            {"Mr. Okafor", true},
                                                            {"kamal@example.org", true},
                                                            {"the", false},
                                                            {"budget", false},
                                                            {"v2.4.1", false},
                                                            {"<b>", false},
                                                            {"Q3", false},
                                                            {",", false},
                                                            {"\n", false},
                                                            {"é", false},
                                                            {"$12.00", false}};
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    std::vector<std::string> gold;
    const int words = 1 + static_cast<int>(rng() % 12);
    for (int w = 0; w < words; ++w) {
      const auto& [piece, is_value] = pieces[pick(rng)];
      if (!text.empty()) text += ' ';
      text += piece;
      if (is_value) gold.push_back(piece);
    }
    Crossing c = boundary->Begin("researcher");
    Result<std::string> sent = c.Admit("situation", Label::kConfidential, text);
    ASSERT_TRUE(sent);
    for (const std::string& g : gold) {
      EXPECT_EQ(sent->find(g), std::string::npos) << "leaked '" << g << "' from: " << text;
    }
    EXPECT_EQ(boundary->ForOwner(*sent), text);
  }
}

}  // namespace
}  // namespace chorus
