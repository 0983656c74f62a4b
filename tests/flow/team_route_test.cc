// The routing parts of a team file: `frameworks:` library sources (relative to the team file),
// `routes:`, `delegation:`, a task's `route:` and a map's `over: frameworks(...)` /
// `over: files(...)`, what they load into the Team, and the errors they report.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "chorus/frameworks.h"
#include "chorus/team.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

class TeamDir {
 public:
  TeamDir() {
    std::string pattern = (fs::temp_directory_path() / "chorus-route-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  ~TeamDir() { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) const {
    fs::create_directories(fs::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
    return dir_ + "/" + name;
  }

 private:
  std::string dir_;
};

const char* kMyFrameworks = R"(meta_category: {id: 9, name: House methods}
categories:
  - id: 9.1
    name: Reviews
    frameworks:
      - id: 9.1.1
        name: Quarterly account review
        summary: Reviews one client account each quarter against its plan.
        triggers: [account review, quarterly review]
        examples: ["Review the Acme account for Q3"]
        instructions: [Compare results with the plan, List the three biggest gaps]
        output: {format: markdown, sections: [Results, Gaps]}
)";

std::string FirstError(const std::string& yaml) {
  Result<Team> team = ParseTeam(yaml, "team.yaml");
  if (team) return "";
  const std::string& m = team.error().message();
  return m.substr(0, m.find('\n'));
}

TEST(TeamRoute, FullRoutingSectionsLoadIntoTheTeam) {
  TeamDir dir;
  dir.Write("my-frameworks/house.yaml", kMyFrameworks);
  std::string path = dir.Write("team.yaml", R"(name: routed
frameworks: [ default, ./my-frameworks ]
inputs:
  request: { text: true }
agents:
  strategist: { role: You plan., clearance: internal }
  analyst: { role: You analyse., clearance: confidential }
  dispatcher: { role: You route. }
routes:
  - name: house reviews
    when: { keywords: [ account review ], regex: "Q[1-4]", label: internal }
    frameworks: [ 9.1.1 ]
    agent: analyst
  - when: { keywords: five forces }
    framework: 1.2.1
delegation:
  local_if: { max_words: 300, label: confidential }
  delegate_if: { min_words: 2000, holds_context: true }
flow:
  - task: answer
    agent: strategist
    route: { frameworks: [ 1.2, 9 ], top: 5, agents: [ strategist, analyst ], router: dispatcher }
    brief: "${inputs.request}"
  - map: each
    over: frameworks("9.1")
    agent: analyst
    brief: "Apply ${item.name}"
)");
  Result<Team> team = LoadTeamFile(path);
  ASSERT_TRUE(team) << team.error().ToString();
  ASSERT_NE(team->frameworks, nullptr);
  EXPECT_EQ(team->frameworks->size(), 344u);  // the default 343 and the house method
  ASSERT_NE(team->frameworks->Find("9.1.1"), nullptr);
  ASSERT_EQ(team->routes.size(), 2u);
  const RouteRule& rule = team->routes[0];
  EXPECT_EQ(rule.keywords, std::vector<std::string>{"account review"});
  EXPECT_EQ(rule.regex, "Q[1-4]");
  EXPECT_EQ(rule.label, "internal");
  EXPECT_EQ(rule.frameworks, std::vector<std::string>{"9.1.1"});
  EXPECT_EQ(rule.agent, "analyst");
  EXPECT_EQ(rule.regex_loc.line, 11);
  EXPECT_EQ(team->routes[1].frameworks, std::vector<std::string>{"1.2.1"});
  EXPECT_EQ(team->delegation.local_max_words, 300);
  EXPECT_EQ(team->delegation.local_label, "confidential");
  EXPECT_EQ(team->delegation.delegate_min_words, 2000);
  EXPECT_TRUE(team->delegation.holds_context);
  const RouteSpec& route = team->flow[0].route;
  EXPECT_TRUE(route.enabled);
  EXPECT_EQ(route.frameworks, (std::vector<std::string>{"1.2", "9"}));
  EXPECT_EQ(route.top, 5);
  EXPECT_EQ(route.agents, (std::vector<std::string>{"strategist", "analyst"}));
  EXPECT_EQ(route.router, "dispatcher");
  EXPECT_EQ(team->flow[1].over_source.kind, MapSource::Kind::kFrameworks);
  EXPECT_EQ(team->flow[1].over_source.argument, "9.1");
}

TEST(TeamRoute, RouteAutoNeedsNoAgentAndLoadsTheDefaultLibrary) {
  Result<Team> team = ParseTeam(R"(name: routed
agents:
  a: { role: r }
flow:
  - task: t
    route: auto
    brief: Do it
)",
                                "team.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_TRUE(team->flow[0].route.enabled);
  EXPECT_TRUE(team->flow[0].route.frameworks.empty());
  EXPECT_TRUE(team->flow[0].agents.empty());
  ASSERT_NE(team->frameworks, nullptr);
  EXPECT_EQ(team->frameworks->size(), 343u);
}

TEST(TeamRoute, TeamsThatDoNotRouteLoadNoLibrary) {
  Result<Team> team = ParseTeam(R"(name: plain
agents:
  a: { role: r }
flow:
  - task: t
    agent: a
    brief: Do it
)",
                                "team.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_EQ(team->frameworks, nullptr);
}

TEST(TeamRoute, MapOverFilesKeepsTheGlob) {
  Result<Team> team = ParseTeam(R"(name: docs
agents:
  a: { role: r }
flow:
  - map: each
    over: files("docs/*.md")
    agent: a
    brief: "Summarise ${item.path}: ${item}"
)",
                                "team.yaml");
  ASSERT_TRUE(team) << team.error().ToString();
  EXPECT_EQ(team->flow[0].over_source.kind, MapSource::Kind::kFiles);
  EXPECT_EQ(team->flow[0].over_source.argument, "docs/*.md");
  EXPECT_EQ(team->frameworks, nullptr);
}

TEST(TeamRoute, MissingLibraryFolderIsReportedAtFrameworks) {
  std::string error = FirstError(R"(name: routed
frameworks: [ default, ./nowhere ]
agents:
  a: { role: r }
flow:
  - task: t
    route: auto
    brief: Do it
)");
  EXPECT_NE(error.find("team.yaml:2:13: error: frameworks: cannot load the framework library: "
                       "framework library './nowhere'"),
            std::string::npos)
      << error;
}

TEST(TeamRoute, MalformedRulesAndRoutesSayWhatWasExpected) {
  const std::string head = "name: routed\nagents:\n  a: { role: r }\n";
  const std::string flow = "flow:\n  - task: t\n    route: auto\n    brief: Do it\n";
  EXPECT_EQ(FirstError(head + "routes:\n  - frameworks: [ 1.2.1 ]\n" + flow),
            "team.yaml:5:5: error: routes[0]: missing 'when': expected conditions (keywords, "
            "regex, label)");
  EXPECT_EQ(FirstError(head + "routes:\n  - when: { keywords: [ x ] }\n" + flow),
            "team.yaml:5:5: error: routes[0]: a rule must pick something: expected 'frameworks' "
            "or 'agent'");
  EXPECT_EQ(FirstError(head + "routes:\n  - when: { label: secret }\n    agent: a\n" + flow),
            "team.yaml:5:20: error: label: expected 'public', 'internal' or 'confidential', found "
            "'secret'");
  EXPECT_EQ(FirstError(head + "routes:\n  - when: { keyword: [ x ] }\n    agent: a\n" + flow),
            "team.yaml:5:13: error: unknown key 'keyword' in routes[0].when (did you mean "
            "'keywords'?)");
  EXPECT_EQ(FirstError(head + "flow:\n  - task: t\n    route: { top: 0 }\n    brief: Do it\n"),
            "team.yaml:6:19: error: top: expected an integer from 1 to 50, found '0'");
  EXPECT_EQ(FirstError(head + "flow:\n  - task: t\n    route: everything\n    brief: Do it\n"),
            "team.yaml:6:12: error: route: expected 'auto' or a mapping (frameworks, top, agents, "
            "router), found 'everything'");
  EXPECT_EQ(FirstError(head + "delegation: { local_if: { max_words: -3 } }\n" + flow),
            "team.yaml:4:38: error: max_words: expected an integer from 1 to 100000000, found "
            "'-3'");
  EXPECT_EQ(FirstError(head + "flow:\n  - map: m\n    over: frameworks\"2\"\n    agent: a\n"
                              "    brief: x\n"),
            "team.yaml:6:11: error: over: expected frameworks(\"2.3\"), frameworks(all) or "
            "files(\"GLOB\"), found 'frameworks\"2\"'");
}

TEST(TeamRoute, RuleAgentAndRouteAgentsMustBeDeclared) {
  std::string error = FirstError(R"(name: routed
agents:
  analyst: { role: r }
routes:
  - when: { keywords: [ x ] }
    agent: analist
flow:
  - task: t
    route: { agents: [ analyst ] }
    brief: Do it
)");
  EXPECT_EQ(error,
            "team.yaml:5:5: error: routes[0] names agent 'analist', which is not declared (did "
            "you mean 'analyst'?)");
}

TEST(TeamRoute, RouteOnlyGoesOnTasks) {
  std::string error = FirstError(R"(name: routed
agents:
  a: { role: r }
flow:
  - map: m
    over: [ x ]
    agent: a
    route: auto
    brief: Do it
)");
  EXPECT_NE(error.find("unknown key 'route' in map 'm'"), std::string::npos) << error;
}

}  // namespace
}  // namespace chorus
