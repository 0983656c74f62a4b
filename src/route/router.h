// Router: decides which framework(s) and which agent a request goes to, and why. Explicit
// trigger rules come first (keywords, a regular expression, the request's sensitivity label);
// when none fires, BM25 search over the framework library ranks the candidates. The agent is
// the rule's, or else the candidate agent whose role shares the most terms with the request
// and the winning framework. A router *agent* (an LLM choosing among the top candidates) is
// not part of this pure decision: the flow layer asks it and records the outcome.
//
// A Router is immutable once made; Decide() is const and may be called from many threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chorus/frameworks.h"
#include "chorus/status.h"

namespace chorus::route {

// Sensitivity labels in increasing order; 0 = unlabelled, -1 = not a label.
int LabelRank(std::string_view label);

struct Rule {
  std::string name;                   // how decisions cite it, e.g. "routes[2]"
  std::vector<std::string> keywords;  // any of them, case-insensitive, on word boundaries
  std::string regex;                  // RE2; "" = no condition
  std::string label;                  // minimum label of the request; "" = no condition
  std::vector<std::string> frameworks;
  std::string agent;
};

// A candidate agent with the search terms of its role, computed once.
struct AgentProfile {
  std::string name;
  std::vector<std::string> terms;  // sorted, unique
  static AgentProfile Of(std::string name, std::string_view role);
};

// What one route may choose from.
struct Scope {
  std::vector<std::string> frameworks;  // ids or id prefixes; empty = the whole library
  size_t top = 3;
  std::vector<AgentProfile> agents;  // in preference order; empty = no agent choice
};

struct Candidate {
  const Framework* framework = nullptr;
  double score = 0;  // BM25; 0 for frameworks a rule named
};

struct Decision {
  std::string rule;  // the rule's name, "bm25", or "none" (nothing matched)
  std::vector<Candidate> candidates;
  std::vector<const Framework*> frameworks;  // chosen, primary first; empty when "none"
  std::string agent;                         // "" when the scope has no agents
  std::string why;
};

class Router {
 public:
  // Fails (kInvalidArgument, naming the rule) when a regex does not compile, a label is
  // unknown, or a rule names a framework the library lacks. `library` must outlive the Router.
  static Result<Router> Make(const FrameworkLibrary* library, std::vector<Rule> rules);

  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;
  ~Router();

  // `label` is the request's label ("" when unlabelled).
  Decision Decide(std::string_view request, std::string_view label, const Scope& scope) const;

  const FrameworkLibrary& library() const { return *library_; }

 private:
  struct CompiledRule;
  Router(const FrameworkLibrary* library, std::vector<CompiledRule> rules);
  const CompiledRule* FiringRule(std::string_view request, std::string_view label) const;
  std::vector<Candidate> Rank(std::string_view request, const Scope& scope) const;
  void ChooseAgent(std::string_view request, const Scope& scope, Decision* decision) const;

  const FrameworkLibrary* library_;
  std::vector<CompiledRule> rules_;
  // Search terms of each framework's name, categories and summary, for the agent choice;
  // computed once in Make so Decide stays const and cheap.
  std::unordered_map<const Framework*, std::vector<std::string>> framework_terms_;
};

// Whether framework `id` is `prefix` or lies under it ("2.3.5" under "2.3" and "2").
bool IdUnder(std::string_view id, std::string_view prefix);

}  // namespace chorus::route
