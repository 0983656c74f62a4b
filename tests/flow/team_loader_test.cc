// The team file loader: a full valid file, the shorthands, and golden bad files whose first
// diagnostic must match a sibling .expected file exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chorus/team.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

const fs::path kTeams = fs::path(CHORUS_SOURCE_DIR) / "tests" / "flow" / "teams";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// The diagnostics of a team that must fail to parse, one per line.
std::vector<std::string> ParseErrors(const std::string& yaml) {
  Result<Team> team = ParseTeam(yaml, "team.yaml");
  if (team) return {};
  EXPECT_EQ(team.error().code(), StatusCode::kInvalidArgument);
  return Lines(team.error().message());
}

const Step* FindStep(const std::vector<Step>& steps, const std::string& id) {
  for (const Step& step : steps) {
    if (step.id == id) return &step;
    if (const Step* child = FindStep(step.children, id)) return child;
  }
  return nullptr;
}

TEST(TeamLoader, LoadsTheArchitectureExampleWithEveryField) {
  const fs::path path = kTeams / "valid" / "launch_review.yaml";
  Result<Team> team = LoadTeamFile(path.string());
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_EQ(team->name, "launch-review");
  EXPECT_EQ(team->path, path.lexically_normal().string());

  ASSERT_EQ(team->models.size(), 3u);
  const ModelSpec* fast = team->FindModel("fast");
  ASSERT_NE(fast, nullptr);
  EXPECT_EQ(fast->endpoint.provider, Provider::kOpenAI);
  EXPECT_EQ(fast->endpoint.model, "gpt-4o-mini");
  EXPECT_EQ(fast->endpoint.base_url, "https://api.openai.com/v1");
  EXPECT_EQ(fast->endpoint.api_key_env, "OPENAI_API_KEY");
  EXPECT_EQ(fast->endpoint.concurrency, 32);
  EXPECT_EQ(fast->endpoint.context_window, 128000);
  ASSERT_TRUE(fast->endpoint.price.has_value());
  EXPECT_DOUBLE_EQ(fast->endpoint.price->input_per_mtok, 0.15);
  EXPECT_DOUBLE_EQ(fast->endpoint.price->output_per_mtok, 0.60);
  EXPECT_EQ(fast->endpoint.locality, "cloud");
  EXPECT_EQ(fast->loc.ToString(), path.string() + ":7:3");

  const ModelSpec* local = team->FindModel("local");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->endpoint.base_url, "http://127.0.0.1:11434/v1");
  EXPECT_EQ(local->endpoint.api_key_env, "") << "a server given by base_url needs no OpenAI key";
  EXPECT_EQ(local->endpoint.locality, "local");

  const ModelSpec* deep = team->FindModel("deep");
  ASSERT_NE(deep, nullptr);
  EXPECT_EQ(deep->endpoint.provider, Provider::kAnthropic);
  EXPECT_EQ(deep->endpoint.base_url, "https://api.anthropic.com");
  EXPECT_EQ(deep->endpoint.api_key_env, "ANTHROPIC_API_KEY");
  EXPECT_EQ(deep->endpoint.timeout_ms, 90000);
  EXPECT_EQ(deep->fallback, std::vector<std::string>{"fast"});
  EXPECT_EQ(deep->endpoint.headers.at("anthropic-beta"), "prompt-caching-2024-07-31");

  ASSERT_EQ(team->inputs.size(), 3u);
  const InputSpec* notes = team->FindInput("client_notes");
  ASSERT_NE(notes, nullptr);
  EXPECT_TRUE(notes->file);
  EXPECT_TRUE(notes->required);
  EXPECT_EQ(notes->label, "confidential");
  const InputSpec* audience = team->FindInput("audience");
  ASSERT_NE(audience, nullptr);
  EXPECT_FALSE(audience->required) << "an input with a default is optional";
  EXPECT_EQ(audience->default_value, "the board");
  EXPECT_EQ(audience->description, "Who reads the result");

  ASSERT_EQ(team->agents.size(), 5u);
  const AgentSpec* analyst = team->FindAgent("analyst");
  ASSERT_NE(analyst, nullptr);
  EXPECT_EQ(analyst->role, "You analyse the client's situation.");
  EXPECT_EQ(analyst->model, "local");
  EXPECT_EQ(analyst->clearance, "confidential");

  ASSERT_EQ(team->flow.size(), 3u);
  const Step& parallel = team->flow[0];
  EXPECT_EQ(parallel.kind, StepKind::kParallel);
  ASSERT_EQ(parallel.children.size(), 2u);
  const Step& situation = parallel.children[0];
  EXPECT_EQ(situation.id, "situation");
  EXPECT_EQ(situation.agents, std::vector<std::string>{"analyst"});
  EXPECT_EQ(situation.loc.line, 25);
  EXPECT_EQ(situation.loc.column, 9);
  EXPECT_EQ(situation.brief.context, std::vector<std::string>{"${inputs.client_notes}"});
  EXPECT_EQ(situation.brief.output.format, OutputFormat::kMarkdown);
  EXPECT_EQ(situation.brief.output.sections, (std::vector<std::string>{"Position", "Risks"}));

  const Step& competitors = parallel.children[1];
  EXPECT_EQ(competitors.brief.output.format, OutputFormat::kJson);
  EXPECT_EQ(competitors.brief.output.schema["required"], nlohmann::json::array({"competitors"}))
      << "the $ref file is loaded into the brief";
  EXPECT_EQ(competitors.brief.output
                .schema["properties"]["competitors"]["items"]["properties"]["threat"]["maximum"],
            5);

  const Step& draft = team->flow[1];
  EXPECT_EQ(draft.kind, StepKind::kTask);
  EXPECT_EQ(draft.retries, 3);
  EXPECT_EQ(draft.brief.objective, "Draft the strategy for ${inputs.audience}");
  EXPECT_EQ(draft.brief.constraints,
            std::vector<std::string>{"Stay within the budget in the notes"});
  EXPECT_EQ(draft.brief.acceptance, "Every move names its owner");
  EXPECT_EQ(draft.brief.loc.line, 36) << "brief.loc is the brief's own node";

  const Step& synthesis = team->flow[2];
  EXPECT_EQ(synthesis.kind, StepKind::kSynthesize);
  EXPECT_EQ(synthesis.id, "synthesis");
  EXPECT_EQ(synthesis.agents, std::vector<std::string>{"synthesizer"});
  EXPECT_EQ(synthesis.from, (std::vector<std::string>{"situation", "competitors", "draft"}));
  EXPECT_EQ(synthesis.brief.objective,
            "Integrate the outputs of situation, competitors and draft into one coherent result.");
  EXPECT_EQ(synthesis.brief.output.format, OutputFormat::kMarkdown);
  EXPECT_TRUE(synthesis.brief.context.empty()) << "the runner fills it from `from`";
  EXPECT_EQ(synthesis.retries, 2);
}

TEST(TeamLoader, LoadsEveryValidExample) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(kTeams / "valid")) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    Result<Team> team = LoadTeamFile(entry.path().string());
    EXPECT_TRUE(team) << entry.path() << ": " << team.error().ToString();
    if (team) {
      EXPECT_TRUE(CheckTeam(*team).empty()) << entry.path();
    }
  }
  EXPECT_GE(count, 4);
}

TEST(TeamLoader, ReadsMapStepsAndTheirPools) {
  Result<Team> team = LoadTeamFile((kTeams / "valid" / "map_over_items.yaml").string());
  ASSERT_TRUE(team) << team.error().ToString();
  const Step* reviews = FindStep(team->flow, "reviews");
  ASSERT_NE(reviews, nullptr);
  EXPECT_EQ(reviews->kind, StepKind::kMap);
  EXPECT_EQ(reviews->over_items, (std::vector<std::string>{"SWOT", "Five forces", "PESTLE"}));
  EXPECT_EQ(reviews->agents, (std::vector<std::string>{"critic-a", "critic-b"}));
  EXPECT_EQ(reviews->concurrency, 2);
  EXPECT_EQ(reviews->brief.output.format, OutputFormat::kMarkdown) << "sections imply markdown";
  const Step* summary = FindStep(team->flow, "summary");
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(summary->from, std::vector<std::string>{"reviews"}) << "one name is a one-item list";

  Result<Team> fanout = LoadTeamFile((kTeams / "valid" / "map_over_step.yaml").string());
  ASSERT_TRUE(fanout) << fanout.error().ToString();
  const Step* answers = FindStep(fanout->flow, "answers");
  ASSERT_NE(answers, nullptr);
  EXPECT_EQ(answers->over, "${questions}");
  EXPECT_TRUE(answers->over_items.empty());
  EXPECT_EQ(answers->concurrency, 8);
  EXPECT_EQ(answers->retries, 0);
  const ModelSpec* local = fanout->FindModel("local");
  ASSERT_NE(local, nullptr);
  EXPECT_FALSE(local->endpoint.stream);
  EXPECT_EQ(local->endpoint.max_tokens, 512);
  EXPECT_EQ(local->endpoint.connect_timeout_ms, 2500);
  const Step* questions = FindStep(fanout->flow, "questions");
  ASSERT_NE(questions, nullptr);
  EXPECT_EQ(questions->brief.output.schema,
            nlohmann::json::parse(R"({"type":"array","items":{"type":"string"},"minItems":1})"))
      << "plain YAML scalars become typed JSON";
}

TEST(TeamLoader, AcceptsShorthands) {
  Result<Team> team = ParseTeam(R"(name: short
inputs:
  topic: text
  notes: file
agents:
  writer: { role: You write. }
flow:
  - task: a
    agent: writer
    brief: "Write about ${inputs.topic}"
  - task: b
    agent: writer
    brief: { objective: Expand, context: "${a}", constraints: Be brief, output: markdown }
)",
                                "short.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_FALSE(team->FindInput("topic")->file);
  EXPECT_TRUE(team->FindInput("notes")->file);
  EXPECT_TRUE(team->FindInput("notes")->required);
  EXPECT_EQ(team->FindAgent("writer")->model, "offline") << "agents default to offline";
  EXPECT_EQ(team->flow[0].brief.objective, "Write about ${inputs.topic}");
  EXPECT_EQ(team->flow[0].brief.loc.ToString(), "short.yaml:10:12");
  EXPECT_EQ(team->flow[1].brief.context, std::vector<std::string>{"${a}"});
  EXPECT_EQ(team->flow[1].brief.constraints, std::vector<std::string>{"Be brief"});
  EXPECT_EQ(team->flow[1].brief.output.format, OutputFormat::kMarkdown);
  EXPECT_EQ(team->path, "") << "only LoadTeamFile knows the file";
}

TEST(TeamLoader, AppliesProviderDefaults) {
  Result<Team> team = ParseTeam(R"(name: defaults
models:
  gpt: { provider: openai, model: gpt-4o, limits: { rpm: 500, tpm: 100000 } }
  proxy: { provider: openai, model: m, base_url: "https://proxy.example/v1/", api_key_env: PROXY_KEY }
  claude: { provider: anthropic, model: claude-sonnet-4, stream: false }
  dry: { provider: offline }
agents:
  writer: { role: You write., model: dry }
flow:
  - task: a
    agent: writer
    brief: Write
)",
                                "defaults.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  const EndpointConfig& gpt = team->FindModel("gpt")->endpoint;
  EXPECT_EQ(gpt.concurrency, 64) << "rpm and tpm are validated, not (yet) kept";
  EXPECT_EQ(gpt.timeout_ms, 120000);
  const EndpointConfig& proxy = team->FindModel("proxy")->endpoint;
  EXPECT_EQ(proxy.base_url, "https://proxy.example/v1") << "a trailing '/' is dropped";
  EXPECT_EQ(proxy.api_key_env, "PROXY_KEY");
  const EndpointConfig& claude = team->FindModel("claude")->endpoint;
  EXPECT_EQ(claude.api_key_env, "ANTHROPIC_API_KEY");
  EXPECT_FALSE(claude.stream);
  const EndpointConfig& dry = team->FindModel("dry")->endpoint;
  EXPECT_EQ(dry.provider, Provider::kOffline);
  EXPECT_EQ(dry.name, "dry");
  EXPECT_EQ(dry.model, "offline");
  EXPECT_EQ(dry.locality, "local");
  EXPECT_EQ(dry.context_window, 128000);
}

TEST(TeamLoader, ReportsEveryProblemInFileOrder) {
  std::vector<std::string> errors = ParseErrors(R"(name: many
models:
  fast: { provider: openai, model: gpt-4o-mini, timeout_s: -1 }
agents:
  writer: { role: You write., clearance: secret }
flow:
  - task: a
    agent: writer
    retries: lots
    brief: Write
  - task: b
    agnet: writer
    brief: { objective: Write, context: { x: 1 } }
)");
  ASSERT_EQ(errors.size(), 5u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], "team.yaml:3:60: error: timeout_s: expected a positive number, found '-1'");
  EXPECT_EQ(errors[1],
            "team.yaml:5:42: error: clearance: expected 'public', 'internal' or 'confidential', "
            "found 'secret'");
  EXPECT_EQ(errors[2],
            "team.yaml:9:14: error: retries: expected an integer from 0 to 10, found 'lots'");
  EXPECT_EQ(errors[3],
            "team.yaml:12:5: error: unknown key 'agnet' in task 'b' (did you mean "
            "'agent'?)");
  EXPECT_EQ(errors[4],
            "team.yaml:13:41: error: context: expected a list of strings or one string, found a "
            "mapping");
}

TEST(TeamLoader, RunsCheckTeamOnAFileThatParses) {
  std::vector<std::string> errors = ParseErrors(R"(name: checked
agents:
  writer: { role: You write., model: fsat }
flow:
  - task: a
    agent: wirter
    brief: "Use ${b}"
  - task: b
    agent: writer
    brief: Write
)");
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "team.yaml:3:3: error: agent 'writer' uses model 'fsat', which is not declared: "
            "expected 'offline'");
  EXPECT_EQ(errors[1],
            "team.yaml:5:5: error: task 'a' names agent 'wirter', which is not declared "
            "(did you mean 'writer'?)");
  EXPECT_EQ(errors[2], "team.yaml:7:12: error: step 'a' references 'b', which runs later");
}

TEST(TeamLoader, ReportsDuplicateNamesInEveryMapping) {
  std::vector<std::string> errors = ParseErrors(R"(name: dups
inputs:
  topic: text
  topic: file
agents:
  writer: { role: You write. }
  writer: { role: You also write. }
flow:
  - task: a
    agent: writer
    brief: { objective: Write, objective: Again }
)");
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "team.yaml:4:3: error: duplicate key 'topic' in inputs: already defined at "
            "line 3, column 3");
  EXPECT_EQ(errors[1],
            "team.yaml:7:3: error: duplicate key 'writer' in agents: already defined at "
            "line 6, column 3");
  EXPECT_EQ(errors[2],
            "team.yaml:11:32: error: duplicate key 'objective' in a brief: already "
            "defined at line 11, column 14");
}

TEST(TeamLoader, NeverEchoesWhatWasWrittenAsAnApiKeyName) {
  std::vector<std::string> errors = ParseErrors(R"(name: leak
models:
  fast: { provider: openai, model: gpt-4o-mini, api_key_env: "sk-proj-abc123" }
agents:
  writer: { role: You write., model: fast }
flow:
  - task: a
    agent: writer
    brief: Write
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].find("sk-proj"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("team.yaml:3:62: error: api_key_env: expected the name of an "
                           "environment variable"),
            std::string::npos)
      << errors[0];
}

TEST(TeamLoader, RejectsFilesThatAreNotOneTeamDocument) {
  EXPECT_EQ(ParseErrors(""), std::vector<std::string>{
                                 "team.yaml:1:1: error: expected a team (a mapping with 'name', "
                                 "'agents' and 'flow'), found an empty file"});
  EXPECT_EQ(ParseErrors("just text\n"),
            std::vector<std::string>{"team.yaml:1:1: error: expected a team (a mapping with "
                                     "'name', 'agents' and 'flow'), found 'just text'"});
  EXPECT_EQ(ParseErrors("name: a\n---\nname: b\n"),
            std::vector<std::string>{
                "team.yaml:3:1: error: expected one YAML document, found a second one"});
  EXPECT_EQ(ParseErrors("name: a\nflow:\n"),
            std::vector<std::string>{
                "team.yaml:2:1: error: flow: expected a non-empty list of steps, found nothing"});
}

TEST(TeamLoader, ValidatesNumbersStrictly) {
  auto first_error = [](const std::string& model_fields) {
    std::vector<std::string> errors = ParseErrors(
        "name: n\nmodels:\n  m: { provider: openai, "
        "model: x, " +
        model_fields +
        " }\nflow:\n  - task: a\n    agent: w\n"
        "    brief: b\nagents:\n  w: { role: r, model: "
        "m }\n");
    return errors.empty() ? std::string() : errors[0];
  };
  EXPECT_NE(first_error("max_tokens: 1.5")
                .find("max_tokens: expected an integer from 1 to "
                      "1000000, found '1.5'"),
            std::string::npos);
  EXPECT_NE(first_error("context_window: 0").find("context_window: expected a positive integer"),
            std::string::npos);
  EXPECT_NE(first_error("limits: { concurrency: 12abc }")
                .find("concurrency: expected an integer "
                      "from 1 to 1000000, found '12abc'"),
            std::string::npos);
  EXPECT_NE(first_error("price: { input_per_mtok: -0.5 }")
                .find("input_per_mtok: expected a "
                      "non-negative number"),
            std::string::npos);
  EXPECT_NE(first_error("timeout_s: .inf").find("timeout_s: expected a positive number"),
            std::string::npos);
  EXPECT_NE(first_error("stream: yes").find("stream: expected true or false, found 'yes'"),
            std::string::npos);
  EXPECT_EQ(first_error("timeout_s: 2.5, price: { input_per_mtok: 0 }"), "");
}

TEST(TeamLoader, StopsAtASchemaThatContainsItself) {
  std::vector<std::string> errors = ParseErrors(R"(name: loop
agents:
  w: { role: r }
flow:
  - task: a
    agent: w
    brief: { objective: o, output: { schema: &s { type: object, properties: { self: *s } } } }
)");
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "team.yaml:7:57: error: expected JSON nested at most 64 levels deep, found "
            "deeper nesting (an alias inside its own anchor?)");
}

TEST(TeamLoader, ReportsAMissingFileAsNotFound) {
  Result<Team> team = LoadTeamFile("/nonexistent/dir/team.yaml");
  ASSERT_FALSE(team);
  EXPECT_EQ(team.error().code(), StatusCode::kNotFound);
  EXPECT_NE(team.error().message().find("/nonexistent/dir/team.yaml"), std::string::npos);

  Result<Team> directory = LoadTeamFile(kTeams.string());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code(), StatusCode::kInvalidArgument);
}

// Golden bad files: tests/flow/teams/bad/NAME.yaml and NAME.expected, which holds the first
// diagnostic exactly, with paths relative to that folder.
std::vector<std::string> BadTeamFiles() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kTeams / "bad")) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BadTeamFile : public ::testing::TestWithParam<std::string> {};

TEST_P(BadTeamFile, FirstDiagnosticMatchesExpected) {
  const fs::path dir = kTeams / "bad";
  const fs::path yaml = dir / (GetParam() + ".yaml");
  const fs::path expected_path = dir / (GetParam() + ".expected");
  ASSERT_TRUE(fs::exists(expected_path)) << "missing " << expected_path;
  std::string expected = ReadFile(expected_path);
  while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r')) {
    expected.pop_back();
  }

  Result<Team> team = LoadTeamFile(yaml.string());
  ASSERT_FALSE(team) << yaml << " loaded but should not";
  EXPECT_EQ(team.error().code(), StatusCode::kInvalidArgument);
  std::string first = Lines(team.error().message()).at(0);
  const std::string prefix = dir.string() + "/";
  for (size_t at = first.find(prefix); at != std::string::npos; at = first.find(prefix)) {
    first.erase(at, prefix.size());
  }
  EXPECT_EQ(first, expected);
}

INSTANTIATE_TEST_SUITE_P(Golden, BadTeamFile, ::testing::ValuesIn(BadTeamFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(BadTeamFiles, CoverEveryErrorClass) { EXPECT_GE(BadTeamFiles().size(), 15u); }

}  // namespace
}  // namespace chorus
