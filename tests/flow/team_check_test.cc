// CheckTeam on teams built in code: references between agents, models, inputs and steps, and
// the order in which steps finish.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chorus/team.h"

namespace chorus {
namespace {

int next_line = 1;

SourceLoc Here() { return SourceLoc{"team.yaml", next_line++, 3}; }

Step Task(const std::string& id, const std::string& agent, const std::string& objective) {
  Step step;
  step.kind = StepKind::kTask;
  step.id = id;
  step.loc = Here();
  if (!agent.empty()) step.agents = {agent};
  step.brief.objective = objective;
  step.brief.loc = step.loc;
  return step;
}

Step Parallel(std::vector<Step> children) {
  Step step;
  step.kind = StepKind::kParallel;
  step.loc = Here();
  step.children = std::move(children);
  return step;
}

Step Map(const std::string& id, const std::string& over, const std::string& objective) {
  Step step = Task(id, "writer", objective);
  step.kind = StepKind::kMap;
  step.over = over;
  return step;
}

Step Synthesize(const std::string& id, std::vector<std::string> from) {
  Step step = Task(id, "writer", "");
  step.kind = StepKind::kSynthesize;
  step.from = std::move(from);
  return step;
}

// A valid team with one writer on the offline model and one input; tests add steps.
Team BaseTeam() {
  next_line = 1;
  Team team;
  team.name = "built";
  AgentSpec writer;
  writer.name = "writer";
  writer.role = "You write.";
  writer.model = "offline";
  writer.loc = Here();
  team.agents.push_back(writer);
  InputSpec topic;
  topic.name = "topic";
  topic.loc = Here();
  team.inputs.push_back(topic);
  return team;
}

ModelSpec Model(const std::string& name, std::vector<std::string> fallback) {
  ModelSpec model;
  model.endpoint.name = name;
  model.endpoint.provider = Provider::kOpenAI;
  model.endpoint.model = "m";
  model.fallback = std::move(fallback);
  model.loc = Here();
  return model;
}

std::vector<std::string> Messages(const Team& team) {
  std::vector<std::string> out;
  for (const Diagnostic& d : CheckTeam(team)) out.push_back(d.message);
  return out;
}

TEST(CheckTeam, AcceptsAValidTeam) {
  Team team = BaseTeam();
  team.flow.push_back(Parallel(
      {Task("a", "writer", "Write about ${inputs.topic}"), Task("b", "writer", "Write more")}));
  team.flow.push_back(Task("c", "writer", "Combine ${a} and ${b.Risks}"));
  team.flow.push_back(Map("m", "${c}", "Check ${item} (${item_index}) against ${a}"));
  team.flow.push_back(Synthesize("s", {"a", "c", "m"}));
  EXPECT_EQ(Messages(team), std::vector<std::string>{});
}

TEST(CheckTeam, KnowsTheOfflineModelWithoutADeclaration) {
  Team team = BaseTeam();
  const ModelSpec* offline = team.FindModel("offline");
  ASSERT_NE(offline, nullptr);
  EXPECT_EQ(offline->endpoint.provider, Provider::kOffline);
  EXPECT_EQ(offline->endpoint.model, "offline");
  EXPECT_EQ(offline->endpoint.locality, "local");
  EXPECT_EQ(offline->endpoint.concurrency, 1000000);
  EXPECT_EQ(offline->endpoint.context_window, 128000);
  EXPECT_EQ(team.FindModel("nope"), nullptr);
}

TEST(CheckTeam, ReportsUnknownAgentsAndModelsWithSuggestions) {
  Team team = BaseTeam();
  team.models.push_back(Model("fast", {}));
  team.agents[0].model = "fsat";
  team.flow.push_back(Task("a", "wirter", "Write"));
  team.flow.push_back(Task("b", "zed", "Write"));
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "agent 'writer' uses model 'fsat', which is not declared (did you mean 'fast'?)",
                "task 'a' names agent 'wirter', which is not declared (did you mean 'writer'?)",
                "task 'b' names agent 'zed', which is not declared: expected 'writer'"}));
}

TEST(CheckTeam, ReportsUnknownFallbacksAndCycles) {
  Team team = BaseTeam();
  team.models.push_back(Model("a", {"b"}));
  team.models.push_back(Model("b", {"a"}));
  team.models.push_back(Model("solo", {"solo"}));
  team.models.push_back(Model("c", {"offline", "d"}));
  team.flow.push_back(Task("t", "writer", "Write"));
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "model 'a' falls back to itself through a cycle: a -> b -> a; a fallback chain "
                "must end",
                "model 'solo' falls back to itself through a cycle: solo -> solo; a fallback "
                "chain must end",
                "model 'c' falls back to 'd', which is not a declared model: expected 'a', "
                "'b', 'solo', 'c' or 'offline'"}));
}

TEST(CheckTeam, ReportsDuplicateReservedAndMalformedStepIds) {
  Team team = BaseTeam();
  team.flow.push_back(Task("a", "writer", "Write"));
  team.flow.push_back(Parallel({Task("a", "writer", "Write"), Task("item", "writer", "Write")}));
  team.flow.push_back(Task("has.dot", "writer", "Write"));
  team.flow.push_back(Task("", "writer", "Write"));
  std::vector<Diagnostic> diagnostics = CheckTeam(team);
  ASSERT_EQ(diagnostics.size(), 4u);
  EXPECT_EQ(diagnostics[0].ToString(),
            "team.yaml:4:3: error: duplicate step id 'a': already used by the task 'a' at "
            "team.yaml:3:3");
  EXPECT_EQ(diagnostics[1].message,
            "step id 'item' is reserved ('inputs', 'item', 'item_index' and 'env' have a meaning "
            "in ${...}); choose another");
  EXPECT_EQ(diagnostics[2].message, "step id 'has.dot': expected letters, digits, '-' and '_'");
  EXPECT_EQ(diagnostics[3].message, "a task step has no id: expected letters, digits, '-' and '_'");
}

TEST(CheckTeam, AllowsReferencesOnlyToStepsThatFinishEarlier) {
  Team team = BaseTeam();
  team.flow.push_back(Task("first", "writer", "Write"));
  team.flow.push_back(
      Parallel({Task("a", "writer", "Use ${first}"), Task("b", "writer", "Use ${a}")}));
  team.flow.push_back(Task("c", "writer", "Use ${b} and ${c} and ${d.Goals}"));
  team.flow.push_back(Task("d", "writer", "Write"));
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{"step 'b' references 'a', which runs in parallel with it",
                                      "step 'c' references itself ('${c}')",
                                      "step 'c' references 'd', which runs later"}));
}

TEST(CheckTeam, ChecksReferencesInEveryBriefField) {
  Team team = BaseTeam();
  Step step = Task("a", "writer", "Write");
  step.brief.context = {"${inputs.topc}"};
  step.brief.constraints = {"${inputs}"};
  step.brief.acceptance = "${missing} ${topic}";
  team.flow.push_back(step);
  team.flow.push_back(Task("b", "writer", "${env.HOME} and ${item} and ${a"));
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "step 'a' references '${inputs.topc}', but 'topc' is not a declared input (did "
                "you mean 'topic'?)",
                "step 'a' references '${inputs}': expected ${inputs.NAME}",
                "step 'a' references '${missing}', but 'missing' is not a step",
                "step 'a' references '${topic}', but 'topic' is not a step (did you mean "
                "'${inputs.topic}'?)",
                "step 'b' objective: unterminated '${' at offset 28: expected '}'"}));
}

TEST(CheckTeam, AllowsItemOnlyInsideAMapBrief) {
  Team team = BaseTeam();
  team.flow.push_back(Task("a", "writer", "Write ${item}"));
  team.flow.push_back(Map("m", "${item}", "Check ${item.name} at ${item_index.x}"));
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "step 'a' references '${item}' in its objective: ${item} and ${item_index} exist "
                "only inside a map step's brief",
                "step 'm' references '${item}' in its over: ${item} and ${item_index} exist only "
                "inside a map step's brief",
                "step 'm' references '${item_index.x}': ${item_index} is a number and has no "
                "fields"}));
}

TEST(CheckTeam, RequiresMapItemsAndAnAgentPool) {
  Team team = BaseTeam();
  team.flow.push_back(Map("none", "", "Write"));
  Step plain = Map("plain", "a,b,c", "Write");
  team.flow.push_back(plain);
  Step both = Map("both", "${inputs.topic}", "Write");
  both.over_items = {"x"};
  team.flow.push_back(both);
  Step nobody = Map("nobody", "${inputs.topic}", "Write");
  nobody.agents.clear();
  nobody.concurrency = 0;
  team.flow.push_back(nobody);
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "map 'none' has no items: expected 'over' with a ${inputs.NAME} or ${STEP} "
                "reference, or a list of items",
                "map 'plain': over: expected a ${inputs.NAME} or ${STEP} reference or a list of "
                "items, found plain text 'a,b,c'",
                "map 'both' has both an 'over' reference and a list of items: expected one",
                "map 'nobody' has no agent: expected 'agent: NAME' or 'agents: [NAMES]', one of "
                "'writer'",
                "map 'nobody': concurrency: expected a positive integer, found 0"}));
}

TEST(CheckTeam, RequiresSynthesisSourcesThatFinishEarlier) {
  Team team = BaseTeam();
  team.flow.push_back(Task("a", "writer", "Write"));
  team.flow.push_back(Synthesize("s", {"a", "s", "later", "ghost"}));
  team.flow.push_back(Task("later", "writer", "Write"));
  team.flow.push_back(Synthesize("empty", {}));
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "step 's' integrates 's', which is the step itself",
                "step 's' integrates 'later', which runs later",
                "synthesize 's' integrates 'ghost', which is not a step",
                "synthesize 'empty' has nothing to integrate: expected 'from' with at least one "
                "step"}))
      << "a synthesis needs no objective of its own";
}

TEST(CheckTeam, RequiresRolesAgentsObjectivesAndSteps) {
  Team team = BaseTeam();
  team.agents[0].role = "";
  team.name = "";
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "the team has no name: expected letters, digits, '-' and '_'",
                "the flow is empty: expected at least one step",
                "agent 'writer' has no role: expected 'role', the agent's instructions"}));

  team = BaseTeam();
  team.flow.push_back(Task("a", "", "Write"));
  team.flow.push_back(Task("b", "writer", ""));
  team.flow.push_back(Parallel({}));
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "task 'a' has no agent: expected 'agent: NAME', one of 'writer'",
                "task 'b' has a brief with no objective: expected 'brief: { objective: ... }' or "
                "'brief: TEXT'",
                "the parallel block has no steps: expected a list of task or map steps"}));
}

TEST(CheckTeam, ReportsDuplicateDeclarationsOfTeamsBuiltInCode) {
  Team team = BaseTeam();
  team.agents.push_back(team.agents[0]);
  team.agents.back().loc = Here();
  team.models.push_back(Model("offline", {}));
  team.flow.push_back(Task("a", "writer", "Write"));
  EXPECT_EQ(Messages(team),
            (std::vector<std::string>{
                "duplicate agent 'writer': already declared at team.yaml:1:3",
                "model name 'offline' is reserved for the built-in offline model; choose another "
                "name"}));
}

TEST(Diagnostic, FormatsLocationAndMessage) {
  EXPECT_EQ((SourceLoc{"team.yaml", 12, 5}.ToString()), "team.yaml:12:5");
  EXPECT_EQ((SourceLoc{"team.yaml", 12, 0}.ToString()), "team.yaml:12");
  EXPECT_EQ((SourceLoc{"", 0, 0}.ToString()), "<team>");
  Diagnostic d{SourceLoc{"team.yaml", 3, 7}, "unknown key 'agnet' (did you mean 'agent'?)"};
  EXPECT_EQ(d.ToString(), "team.yaml:3:7: error: unknown key 'agnet' (did you mean 'agent'?)");
  EXPECT_EQ(StepKindName(StepKind::kTask), "task");
  EXPECT_EQ(StepKindName(StepKind::kParallel), "parallel");
  EXPECT_EQ(StepKindName(StepKind::kMap), "map");
  EXPECT_EQ(StepKindName(StepKind::kSynthesize), "synthesize");
}

TEST(CheckTeam, SortsDiagnosticsByLocation) {
  Team team = BaseTeam();
  team.flow.push_back(Task("a", "ghost", "Write"));
  team.agents[0].loc = SourceLoc{"team.yaml", 40, 1};
  team.agents[0].role = "";
  std::vector<Diagnostic> diagnostics = CheckTeam(team);
  ASSERT_EQ(diagnostics.size(), 2u);
  EXPECT_LT(diagnostics[0].loc.line, diagnostics[1].loc.line);
}

}  // namespace
}  // namespace chorus
