// The team file's locality policy: `privacy:`, labels, clearances and model localities, as
// parsed and as checked before anything runs.
#include "flow/locality.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chorus/team.h"

namespace chorus {
namespace {

const char* kEngagement = R"(name: engagement
models:
  onprem: { provider: openai, base_url: "http://127.0.0.1:11434/v1", model: llama3.1, locality: local }
  cloud: { provider: openai, model: gpt-4o-mini }
inputs:
  notes: { file: true, label: confidential }
privacy: { entities: [ "Acme Corp", "Jane Roe" ], cloud_max_label: internal, on_violation: block }
agents:
  analyst: { role: You analyse., model: onprem, clearance: confidential }
  researcher: { role: You research., model: cloud }
  local_default: { role: You help., model: onprem }
  offline_public: { role: You help., clearance: public }
flow:
  - task: situation
    agent: analyst
    brief: "Summarise ${inputs.notes}"
)";

std::vector<std::string> Errors(const std::string& yaml) {
  Result<Team> team = ParseTeam(yaml, "team.yaml");
  if (team) return {};
  std::vector<std::string> lines;
  std::stringstream stream(team.error().message());
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

TEST(Locality, PrivacyBlockLabelsClearancesAndLocalitiesAreRead) {
  Result<Team> team = ParseTeam(kEngagement, "team.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_EQ(team->privacy.entities, (std::vector<std::string>{"Acme Corp", "Jane Roe"}));
  EXPECT_EQ(team->privacy.on_violation, "block");
  EXPECT_EQ(team->privacy.loc.line, 7);
  EXPECT_EQ(InputLabel(*team->FindInput("notes")), Label::kConfidential);

  EXPECT_EQ(ModelMaxLabel(*team, *team->FindModel("onprem")), Label::kConfidential);
  EXPECT_EQ(ModelMaxLabel(*team, *team->FindModel("cloud")), Label::kInternal);
  EXPECT_EQ(ModelMaxLabel(*team, *team->FindModel("offline")), Label::kConfidential);
  EXPECT_EQ(AgentAllowance(*team, *team->FindAgent("analyst")), Label::kConfidential);
  // No clearance: internal, whatever the model could receive.
  EXPECT_EQ(AgentAllowance(*team, *team->FindAgent("researcher")), Label::kInternal);
  EXPECT_EQ(AgentAllowance(*team, *team->FindAgent("local_default")), Label::kInternal);
  EXPECT_EQ(AgentAllowance(*team, *team->FindAgent("offline_public")), Label::kPublic);
}

TEST(Locality, DefaultClearanceFollowsAStricterCloudLimit) {
  std::string yaml = kEngagement;
  yaml.replace(yaml.find("cloud_max_label: internal"), 25, "cloud_max_label: public");
  Result<Team> team = ParseTeam(yaml, "team.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  // The default never makes a team invalid: it is capped at what the model may receive.
  EXPECT_EQ(AgentClearance(*team, *team->FindAgent("researcher")), Label::kPublic);
}

TEST(Locality, EntitiesFileIsReadRelativeToTheTeamFile) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("chorus-locality-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "clients.txt") << "# our clients\nInitech Inc\n\nUmbrella Corp\n";
  std::ofstream(dir / "team.yaml") << R"(name: engagement
privacy: { entities: [ "Acme Corp" ], entities_file: clients.txt }
agents:
  a: { role: r }
flow:
  - task: t
    agent: a
    brief: o
)";
  Result<Team> team = LoadTeamFile((dir / "team.yaml").string());
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_EQ(team->privacy.entities,
            (std::vector<std::string>{"Acme Corp", "Initech Inc", "Umbrella Corp"}));
  fs::remove(dir / "clients.txt");
  Result<Team> missing = LoadTeamFile((dir / "team.yaml").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("team.yaml:2:54: error: entities_file: expected a "
                                           "readable file of names"),
            std::string::npos)
      << missing.error().message();
  fs::remove_all(dir);
}

TEST(Locality, ClearanceAboveTheModelIsAnErrorWithTheWayOut) {
  std::vector<std::string> errors = Errors(R"(name: engagement
models:
  fast: { provider: openai, model: gpt-4o-mini }
privacy: { cloud_max_label: public }
agents:
  analyst: { role: You analyse., model: fast, clearance: internal }
  writer: { role: You write., model: fast }
flow:
  - task: t
    agent: analyst
    brief: o
)");
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "team.yaml:6:3: error: agent 'analyst' has clearance internal but model 'fast' is a "
            "cloud endpoint that may receive at most public: expected a model with 'locality: "
            "local', a clearance of at most public, or privacy.cloud_max_label: internal");
}

TEST(Locality, TeamsBuiltInCodeGetTheSameChecks) {
  Result<Team> parsed = ParseTeam(kEngagement, "team.yaml");
  ASSERT_TRUE(parsed);
  Team team = *parsed;
  team.agents[0].clearance = "secret";
  team.inputs[0].label = "confidentail";
  team.privacy.on_violation = "redact";
  team.models[1].endpoint.locality = "clod";
  std::vector<std::string> messages;
  for (const Diagnostic& d : CheckTeam(team)) messages.push_back(d.message);
  auto has = [&](const std::string& m) {
    return std::find(messages.begin(), messages.end(), m) != messages.end();
  };
  EXPECT_TRUE(
      has("agent 'analyst': clearance: expected 'public', 'internal' or 'confidential', "
          "found 'secret'"))
      << ::testing::PrintToString(messages);
  EXPECT_TRUE(
      has("input 'notes': label: expected 'public', 'internal' or 'confidential', found "
          "'confidentail' (did you mean 'confidential'?)"))
      << ::testing::PrintToString(messages);
  EXPECT_TRUE(has("privacy.on_violation: expected 'pseudonymize' or 'block', found 'redact'"))
      << ::testing::PrintToString(messages);
  EXPECT_TRUE(
      has("model 'cloud': locality: expected 'local' or 'cloud', found 'clod' (did you "
          "mean 'cloud'?)"))
      << ::testing::PrintToString(messages);
  // An unreadable input label never lowers protection.
  EXPECT_EQ(InputLabel(team.inputs[0]), Label::kConfidential);
}

}  // namespace
}  // namespace chorus
