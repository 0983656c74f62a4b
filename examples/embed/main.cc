// Embedding chorus: a team defined in C++ (no YAML), run on the built-in offline model,
// its result and usage read back from the report.
//
//   build/embed_example [STORE.db]
#include <cstdio>
#include <filesystem>

#include "chorus/run.h"
#include "chorus/team.h"

namespace {

chorus::Step Task(std::string id, std::string agent, std::string objective,
                  std::vector<std::string> sections) {
  chorus::Step step;
  step.kind = chorus::StepKind::kTask;
  step.id = std::move(id);
  step.agents = {std::move(agent)};
  step.brief.objective = std::move(objective);
  step.brief.context = {"${inputs.topic}"};
  step.brief.output.format = chorus::OutputFormat::kMarkdown;
  step.brief.output.sections = std::move(sections);
  return step;
}

}  // namespace

int main(int argc, char** argv) {
  chorus::Team team;
  team.name = "embedded-review";
  chorus::InputSpec topic;
  topic.name = "topic";
  topic.description = "What to review";
  team.inputs.push_back(topic);
  for (auto [name, role] :
       {std::pair{"analyst", "You analyse proposals."}, std::pair{"critic", "You find weaknesses."},
        std::pair{"editor", "You merge reviews."}}) {
    chorus::AgentSpec agent;
    agent.name = name;
    agent.role = role;
    agent.model = "offline";  // the built-in model: no key, no network
    team.agents.push_back(agent);
  }

  chorus::Step both;
  both.kind = chorus::StepKind::kParallel;
  both.children.push_back(Task("analysis", "analyst", "Analyse: ${inputs.topic}", {"Strengths"}));
  both.children.push_back(Task("critique", "critic", "Critique: ${inputs.topic}", {"Weaknesses"}));
  team.flow.push_back(both);

  chorus::Step merge;
  merge.kind = chorus::StepKind::kSynthesize;
  merge.id = "verdict";
  merge.agents = {"editor"};
  merge.from = {"analysis", "critique"};
  merge.brief.objective = "Merge the analysis and the critique into one verdict.";
  merge.brief.output.format = chorus::OutputFormat::kMarkdown;
  merge.brief.output.sections = {"Verdict"};
  team.flow.push_back(merge);

  std::string store_path =
      argc > 1 ? argv[1]
               : (std::filesystem::temp_directory_path() / "chorus-embed-example.db").string();
  auto store = chorus::OpenSqliteStore(store_path);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().ToString().c_str());
    return 2;
  }
  chorus::RunOptions options;
  options.store = store->get();
  options.inputs["topic"].text = "Move the weekly planning meeting to Mondays.";
  auto report = chorus::RunTeam(team, std::move(options));
  if (!report) {
    std::fprintf(stderr, "run: %s\n", report.error().ToString().c_str());
    return 2;
  }
  std::printf("run %s: %s\n", report->run_id.c_str(),
              std::string(chorus::RunStatusName(report->status)).c_str());
  std::printf("steps: %zu, tokens: %lld in / %lld out, cost $%.4f\n", report->steps.size(),
              static_cast<long long>(report->usage.input_tokens),
              static_cast<long long>(report->usage.output_tokens), report->usage.cost_usd);
  std::printf("%s\n", report->output.c_str());
  return report->status == chorus::RunStatus::kCompleted ? 0 : 1;
}
