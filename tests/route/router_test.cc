// The router's pure decision over the default library: rule precedence over search, keyword,
// regex and label conditions, restricted scopes, the agent choice, the delegate-vs-local
// policy, and the top-3 accuracy of the full rule + BM25 path on the labelled requests.
#include "route/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "chorus/frameworks.h"
#include "route/delegation.h"

namespace chorus::route {
namespace {

const FrameworkLibrary& Library() {
  static const FrameworkLibrary* lib = [] {
    auto loaded = FrameworkLibrary::Load({"default"}, ".");
    if (!loaded) ADD_FAILURE() << loaded.error().ToString();
    return new FrameworkLibrary(loaded ? std::move(*loaded) : FrameworkLibrary());
  }();
  return *lib;
}

Rule KeywordRule(std::vector<std::string> keywords, std::string framework, std::string agent = "") {
  Rule r;
  r.name = "routes[0]";
  r.keywords = std::move(keywords);
  r.frameworks = {std::move(framework)};
  r.agent = std::move(agent);
  return r;
}

Router MakeRouter(std::vector<Rule> rules) {
  for (size_t i = 0; i < rules.size(); ++i) rules[i].name = "routes[" + std::to_string(i) + "]";
  auto router = Router::Make(&Library(), std::move(rules));
  EXPECT_TRUE(router) << router.error().ToString();
  return std::move(*router);
}

Scope Agents(std::vector<std::pair<std::string, std::string>> agents) {
  Scope scope;
  for (auto& [name, role] : agents) scope.agents.push_back(AgentProfile::Of(name, role));
  return scope;
}

const char* kRivals = "How strong is the bargaining power of buyers and suppliers in our market?";

TEST(Router, SearchDecidesWhenNoRuleFiresAndRecordsTheTopCandidates) {
  Router router = MakeRouter({});
  Decision d = router.Decide(kRivals, "", Scope{});
  EXPECT_EQ(d.rule, "bm25");
  ASSERT_EQ(d.candidates.size(), 3u);
  ASSERT_EQ(d.frameworks.size(), 1u);
  EXPECT_EQ(d.frameworks[0]->id, "1.2.1");  // Porter's five forces
  EXPECT_EQ(d.candidates[0].framework, d.frameworks[0]);
  EXPECT_GE(d.candidates[0].score, d.candidates[1].score);
  EXPECT_NE(d.why.find("scored highest"), std::string::npos) << d.why;
}

TEST(Router, RuleBeatsSearchEvenWhenSearchWouldPickAnotherFramework) {
  Router router = MakeRouter({KeywordRule({"suppliers"}, "7.2.1", "skeptic")});
  Decision d = router.Decide(kRivals, "", Agents({{"strategist", "strategy"}}));
  EXPECT_EQ(d.rule, "routes[0]");
  ASSERT_FALSE(d.frameworks.empty());
  EXPECT_EQ(d.frameworks[0]->id, "7.2.1");
  EXPECT_EQ(d.agent, "skeptic");  // the rule's agent, not a scope candidate
  // The applied framework leads the recorded candidates; search's hits follow.
  EXPECT_EQ(d.candidates[0].framework->id, "7.2.1");
  EXPECT_TRUE(std::any_of(d.candidates.begin(), d.candidates.end(),
                          [](const Candidate& c) { return c.framework->id == "1.2.1"; }));
  EXPECT_NE(d.why.find("rules take precedence"), std::string::npos) << d.why;
}

TEST(Router, FirstFiringRuleWinsInFileOrder) {
  Router router =
      MakeRouter({KeywordRule({"nothing-here"}, "1.6.1"), KeywordRule({"buyers"}, "7.2.2"),
                  KeywordRule({"suppliers"}, "7.2.1")});
  Decision d = router.Decide(kRivals, "", Scope{});
  EXPECT_EQ(d.rule, "routes[1]");
  EXPECT_EQ(d.frameworks[0]->id, "7.2.2");
}

TEST(Router, KeywordsMatchWholeWordsCaseInsensitively) {
  Router router = MakeRouter({KeywordRule({"Risk"}, "7.2.1")});
  EXPECT_EQ(router.Decide("A brisk walk through the plan", "", Scope{}).rule, "bm25");
  EXPECT_EQ(router.Decide("What is the biggest RISK here?", "", Scope{}).rule, "routes[0]");
  // Phrases match as phrases.
  Router phrase = MakeRouter({KeywordRule({"five forces"}, "1.2.1")});
  EXPECT_EQ(phrase.Decide("run a five forces analysis", "", Scope{}).rule, "routes[0]");
  EXPECT_NE(phrase.Decide("five of our forces", "", Scope{}).rule, "routes[0]");
}

TEST(Router, RegexConditionIsSearchedInTheRequest) {
  Rule r;
  r.regex = R"(\$\s?\d+\s?(m|million)\b)";
  r.frameworks = {"1.7.4"};
  Router router = MakeRouter({r});
  EXPECT_EQ(router.Decide("Should we spend $5 million on stores?", "", Scope{}).rule, "routes[0]");
  EXPECT_NE(router.Decide("Should we spend money on stores?", "", Scope{}).rule, "routes[0]");
}

TEST(Router, LabelConditionFiresOnlyForThatLabelOrHigher) {
  Rule r;
  r.label = "internal";
  r.frameworks = {"7.2.1"};
  r.agent = "analyst";
  Router router = MakeRouter({r});
  EXPECT_EQ(router.Decide(kRivals, "", Scope{}).rule, "bm25");
  EXPECT_EQ(router.Decide(kRivals, "public", Scope{}).rule, "bm25");
  EXPECT_EQ(router.Decide(kRivals, "internal", Scope{}).rule, "routes[0]");
  Decision d = router.Decide(kRivals, "confidential", Scope{});
  EXPECT_EQ(d.rule, "routes[0]");
  EXPECT_EQ(d.agent, "analyst");
  EXPECT_NE(d.why.find("labelled confidential"), std::string::npos) << d.why;
}

TEST(Router, AllConditionsOfARuleMustHold) {
  Rule r = KeywordRule({"suppliers"}, "7.2.1");
  r.label = "confidential";
  Router router = MakeRouter({r});
  EXPECT_EQ(router.Decide(kRivals, "", Scope{}).rule, "bm25");
  EXPECT_EQ(router.Decide(kRivals, "confidential", Scope{}).rule, "routes[0]");
}

TEST(Router, MakeRejectsBadRegexUnknownFrameworkAndUnknownLabel) {
  Rule bad_regex;
  bad_regex.name = "routes[0]";
  bad_regex.regex = "why did (it fail";
  Rule bad_id = KeywordRule({"x"}, "9.9.9");
  bad_id.name = "routes[1]";
  Rule bad_label;
  bad_label.name = "routes[2]";
  bad_label.label = "secret";
  auto router = Router::Make(&Library(), {bad_regex, bad_id, bad_label});
  ASSERT_FALSE(router);
  const std::string& m = router.error().message();
  EXPECT_NE(m.find("routes[0]: invalid regex: missing )"), std::string::npos) << m;
  EXPECT_NE(m.find("routes[1]: no framework '9.9.9'"), std::string::npos) << m;
  EXPECT_NE(m.find("routes[2]: unknown label 'secret'"), std::string::npos) << m;
}

TEST(Router, RestrictedScopeOnlyOffersFrameworksUnderTheListedIds) {
  Router router = MakeRouter({});
  Scope scope;
  scope.frameworks = {"7.2"};
  Decision d = router.Decide("What could go wrong with this launch? Imagine it failed.", "", scope);
  ASSERT_FALSE(d.candidates.empty());
  for (const Candidate& c : d.candidates) EXPECT_TRUE(IdUnder(c.framework->id, "7.2"));
  // Nothing in common with the request: the first listed framework applies, said so.
  Decision none = router.Decide("zzzz qqqq", "", scope);
  EXPECT_EQ(none.rule, "none");
  ASSERT_EQ(none.frameworks.size(), 1u);
  EXPECT_EQ(none.frameworks[0]->id, "7.2.1");
}

TEST(Router, AgentWhoseRoleMatchesTheRequestAndFrameworkIsChosen) {
  Router router = MakeRouter({});
  Scope scope = Agents({{"writer", "You write launch copy and newsletters."},
                        {"strategist", "You analyse competitors, suppliers and market power."}});
  Decision d = router.Decide(kRivals, "", scope);
  EXPECT_EQ(d.agent, "strategist");
  EXPECT_NE(d.why.find("agent strategist's role shares"), std::string::npos) << d.why;
  // No shared term: the first candidate, said so.
  Scope unrelated = Agents({{"a", "zzz"}, {"b", "qqq"}});
  Decision first = router.Decide(kRivals, "", unrelated);
  EXPECT_EQ(first.agent, "a");
  EXPECT_NE(first.why.find("first candidate agent a"), std::string::npos) << first.why;
}

TEST(Router, IdUnderMatchesWholeIdParts) {
  EXPECT_TRUE(IdUnder("2.3.5", "2"));
  EXPECT_TRUE(IdUnder("2.3.5", "2.3"));
  EXPECT_TRUE(IdUnder("2.3.5", "2.3.5"));
  EXPECT_FALSE(IdUnder("2.3.5", "2.3.50"));
  EXPECT_FALSE(IdUnder("2.13.5", "2.1"));
}

DelegationCase Case(int64_t words) {
  DelegationCase c;
  c.owner = "strategist";
  c.routed = "analyst";
  c.words = words;
  c.owner_clearance = "confidential";
  c.routed_clearance = "internal";
  return c;
}

TEST(Delegation, SmallPiecesStayLocalLargeOnesAreDelegated) {
  DelegationRules rules;
  rules.local_max_words = 300;
  rules.delegate_min_words = 2000;
  DelegationChoice small = DecideDelegation(rules, Case(120));
  EXPECT_FALSE(small.delegate);
  EXPECT_EQ(small.agent, "strategist");
  EXPECT_EQ(small.rule, "local_if.max_words");
  DelegationChoice medium = DecideDelegation(rules, Case(800));
  EXPECT_TRUE(medium.delegate);
  EXPECT_EQ(medium.agent, "analyst");
  EXPECT_EQ(medium.rule, "default");
  EXPECT_EQ(DecideDelegation(rules, Case(5000)).rule, "delegate_if.min_words");
}

TEST(Delegation, AnAgentNotClearedForTheLabelNeverGetsThePiece) {
  DelegationRules rules;
  rules.delegate_min_words = 10;
  DelegationCase c = Case(5000);
  c.label = "confidential";
  DelegationChoice choice = DecideDelegation(rules, c);
  EXPECT_FALSE(choice.delegate);
  EXPECT_EQ(choice.rule, "clearance");
  EXPECT_NE(choice.why.find("analyst is not cleared for confidential"), std::string::npos);
}

TEST(Delegation, LabelledPiecesStayLocalWhenThePolicySaysSo) {
  DelegationRules rules;
  rules.local_label = "internal";
  DelegationCase c = Case(800);
  c.label = "internal";
  EXPECT_EQ(DecideDelegation(rules, c).rule, "local_if.label");
  c.label = "public";
  EXPECT_TRUE(DecideDelegation(rules, c).delegate);
}

TEST(Delegation, TheAgentHoldingTheContextGetsThePiece) {
  DelegationRules rules;
  rules.holds_context = true;
  rules.local_max_words = 300;
  DelegationCase c = Case(100);
  c.context_holder = "researcher";
  DelegationChoice choice = DecideDelegation(rules, c);
  EXPECT_TRUE(choice.delegate);
  EXPECT_EQ(choice.agent, "researcher");
  EXPECT_EQ(choice.rule, "delegate_if.holds_context");
  c.context_holder = "strategist";
  EXPECT_FALSE(DecideDelegation(rules, c).delegate);
}

// The full rule + BM25 path over the labelled requests: rules a team would plausibly write
// (each names the framework its trigger words call for) must not lower top-3 accuracy.
TEST(RouterAccuracy, RulePlusBm25TopThreeOnLabelledRequestsIsAtLeast80Percent) {
  std::vector<Rule> rules = {KeywordRule({"five forces", "bargaining power"}, "1.2.1"),
                             KeywordRule({"pre-mortem", "premortem"}, "7.2.1"),
                             KeywordRule({"swot"}, "1.5.1"), KeywordRule({"okr", "okrs"}, "5.1.1"),
                             KeywordRule({"red team"}, "7.2.2")};
  Router router = MakeRouter(rules);
  std::ifstream in(std::string(CHORUS_SOURCE_DIR) + "/tests/route/requests.tsv");
  std::string line;
  int total = 0, top3 = 0, by_rule = 0;
  Scope scope;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.rfind('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    std::string request = line.substr(0, tab), want = line.substr(tab + 1);
    Decision d = router.Decide(request, "", scope);
    ++total;
    by_rule += d.rule.rfind("routes[", 0) == 0;
    for (size_t i = 0; i < d.candidates.size() && i < 3; ++i) {
      if (d.candidates[i].framework->id == want) {
        ++top3;
        break;
      }
    }
  }
  ASSERT_GE(total, 150);
  double accuracy = static_cast<double>(top3) / total;
  std::printf(
      "router (%zu rules + BM25) over %d labelled requests: top-3 %.3f, %d decided by a "
      "rule\n",
      rules.size(), total, accuracy, by_rule);
  RecordProperty("top3", std::to_string(accuracy));
  EXPECT_GE(accuracy, 0.8);
}

}  // namespace
}  // namespace chorus::route
