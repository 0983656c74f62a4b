#include "route/router.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>

#include "route/search_text.h"

namespace chorus::route {
namespace {

std::string Lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsWordByte(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

// `needle` (lower case) in `haystack` (lower case) with no letter or digit on either side, so
// "risk" does not fire on "brisk".
bool ContainsWord(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return false;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    size_t end = at + needle.size();
    bool left = at == 0 || !IsWordByte(static_cast<unsigned char>(haystack[at - 1]));
    bool right = end == haystack.size() || !IsWordByte(static_cast<unsigned char>(haystack[end]));
    if (left && right) return true;
  }
  return false;
}

std::string Score(double score) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", score);
  return buf;
}

std::vector<std::string> SortedTerms(std::string_view text) {
  std::vector<std::string> terms = Terms(text);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

}  // namespace

int LabelRank(std::string_view label) {
  if (label.empty()) return 0;
  if (label == "public") return 1;
  if (label == "internal") return 2;
  if (label == "confidential") return 3;
  return -1;
}

bool IdUnder(std::string_view id, std::string_view prefix) {
  if (prefix.empty() || id == prefix) return true;
  return id.size() > prefix.size() && id.compare(0, prefix.size(), prefix) == 0 &&
         id[prefix.size()] == '.';
}

AgentProfile AgentProfile::Of(std::string name, std::string_view role) {
  return AgentProfile{std::move(name), SortedTerms(role)};
}

struct Router::CompiledRule {
  Rule rule;
  std::vector<std::string> keywords;  // lower case
  std::unique_ptr<RE2> regex;
  int label_rank = 0;
  std::vector<const Framework*> frameworks;
};

Router::Router(const FrameworkLibrary* library, std::vector<CompiledRule> rules)
    : library_(library), rules_(std::move(rules)) {}
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;
Router::~Router() = default;

Result<Router> Router::Make(const FrameworkLibrary* library, std::vector<Rule> rules) {
  std::vector<CompiledRule> compiled;
  std::string problems;
  auto problem = [&](const Rule& r, const std::string& p) {
    problems += (problems.empty() ? "" : "\n") + r.name + ": " + p;
  };
  for (Rule& rule : rules) {
    CompiledRule c;
    for (const std::string& k : rule.keywords) c.keywords.push_back(Lowered(k));
    if (!rule.regex.empty()) {
      RE2::Options options;
      options.set_log_errors(false);
      c.regex = std::make_unique<RE2>(rule.regex, options);
      if (!c.regex->ok()) problem(rule, "invalid regex: " + c.regex->error());
    }
    c.label_rank = LabelRank(rule.label);
    if (c.label_rank < 0) problem(rule, "unknown label '" + rule.label + "'");
    for (const std::string& id : rule.frameworks) {
      const Framework* fw = library->Find(id);
      if (fw == nullptr) {
        problem(rule, "no framework '" + id + "' in the library");
      } else {
        c.frameworks.push_back(fw);
      }
    }
    c.rule = std::move(rule);
    compiled.push_back(std::move(c));
  }
  if (!problems.empty()) return Err(Status::InvalidArgument(problems));
  Router router(library, std::move(compiled));
  for (const Framework* fw : library->List()) {
    router.framework_terms_[fw] =
        SortedTerms(fw->name + "\n" + fw->category + "\n" + fw->meta_category + "\n" + fw->summary);
  }
  return router;
}

const Router::CompiledRule* Router::FiringRule(std::string_view request,
                                               std::string_view label) const {
  if (rules_.empty()) return nullptr;
  const std::string lowered = Lowered(request);
  const int rank = std::max(0, LabelRank(label));
  for (const CompiledRule& c : rules_) {
    if (c.label_rank > 0 && rank < c.label_rank) continue;
    if (!c.keywords.empty() &&
        std::none_of(c.keywords.begin(), c.keywords.end(),
                     [&](const std::string& k) { return ContainsWord(lowered, k); })) {
      continue;
    }
    if (c.regex && !RE2::PartialMatch(re2::StringPiece(request.data(), request.size()), *c.regex)) {
      continue;
    }
    return &c;
  }
  return nullptr;
}

std::vector<Candidate> Router::Rank(std::string_view request, const Scope& scope) const {
  std::vector<Candidate> out;
  if (scope.frameworks.empty()) {
    for (const SearchHit& hit : library_->Search(request, scope.top)) {
      out.push_back({hit.framework, hit.score});
    }
    return out;
  }
  // A restricted scope ranks the whole library and keeps what lies under the listed ids.
  for (const SearchHit& hit : library_->Search(request, library_->size())) {
    bool in_scope =
        std::any_of(scope.frameworks.begin(), scope.frameworks.end(),
                    [&](const std::string& p) { return IdUnder(hit.framework->id, p); });
    if (!in_scope) continue;
    out.push_back({hit.framework, hit.score});
    if (out.size() == scope.top) break;
  }
  return out;
}

void Router::ChooseAgent(std::string_view request, const Scope& scope, Decision* decision) const {
  if (!decision->agent.empty() || scope.agents.empty()) return;
  if (scope.agents.size() == 1) {
    decision->agent = scope.agents.front().name;
    decision->why += "; agent " + decision->agent + " is the only candidate";
    return;
  }
  std::vector<std::string> terms = SortedTerms(request);
  if (!decision->frameworks.empty()) {
    auto it = framework_terms_.find(decision->frameworks.front());
    if (it != framework_terms_.end()) {
      std::vector<std::string> both;
      std::set_union(terms.begin(), terms.end(), it->second.begin(), it->second.end(),
                     std::back_inserter(both));
      terms = std::move(both);
    }
  }
  size_t best = 0, best_shared = 0;
  for (size_t i = 0; i < scope.agents.size(); ++i) {
    const std::vector<std::string>& role = scope.agents[i].terms;
    size_t shared = 0;
    for (const std::string& t : terms) shared += std::binary_search(role.begin(), role.end(), t);
    if (shared > best_shared) best = i, best_shared = shared;
  }
  decision->agent = scope.agents[best].name;
  decision->why += best_shared == 0 ? "; no agent's role shares a term with the request, so the "
                                      "first candidate agent " +
                                          decision->agent + " takes it"
                                    : "; agent " + decision->agent + "'s role shares " +
                                          std::to_string(best_shared) +
                                          " term(s) with the request and framework, the most";
}

Decision Router::Decide(std::string_view request, std::string_view label,
                        const Scope& scope) const {
  Decision d;
  d.candidates = Rank(request, scope);
  if (const CompiledRule* rule = FiringRule(request, label)) {
    d.rule = rule->rule.name;
    d.frameworks = rule->frameworks;
    d.agent = rule->rule.agent;
    std::string conditions;
    auto add = [&](const std::string& c) { conditions += (conditions.empty() ? "" : ", ") + c; };
    if (!rule->keywords.empty()) add("a keyword matched");
    if (rule->regex) add("the regex /" + rule->rule.regex + "/ matched");
    if (rule->label_rank > 0) add("the request is labelled " + std::string(label));
    d.why = "rule " + d.rule + " fired (" + (conditions.empty() ? "no conditions" : conditions) +
            "); rules take precedence over search";
    if (d.frameworks.empty() && !d.candidates.empty()) {
      d.frameworks.push_back(d.candidates.front().framework);
      d.why +=
          "; it names no framework, so search's best (" + d.frameworks.front()->id + ") applies";
    }
    // Named frameworks lead the candidates, so the record shows what was applied first.
    std::vector<Candidate> named;
    for (const Framework* fw : d.frameworks) {
      auto it = std::find_if(d.candidates.begin(), d.candidates.end(),
                             [&](const Candidate& c) { return c.framework == fw; });
      named.push_back(it == d.candidates.end() ? Candidate{fw, 0} : *it);
    }
    for (const Candidate& c : d.candidates) {
      if (std::find(d.frameworks.begin(), d.frameworks.end(), c.framework) == d.frameworks.end()) {
        named.push_back(c);
      }
    }
    d.candidates = std::move(named);
    if (!d.agent.empty()) d.why += "; the rule names agent " + d.agent;
  } else if (!d.candidates.empty()) {
    d.rule = "bm25";
    const Candidate& best = d.candidates.front();
    d.frameworks.push_back(best.framework);
    d.why = best.framework->id + " " + best.framework->name + " scored highest (" +
            Score(best.score) + ")";
    if (d.candidates.size() > 1) {
      d.why +=
          ", ahead of " + d.candidates[1].framework->id + " (" + Score(d.candidates[1].score) + ")";
    }
  } else if (!scope.frameworks.empty()) {
    d.rule = "none";
    std::vector<const Framework*> listed = library_->List(scope.frameworks.front());
    if (!listed.empty()) d.frameworks.push_back(listed.front());
    d.why = "no listed framework shares a term with the request; the first listed applies";
  } else {
    d.rule = "none";
    d.why = "no rule fired and no framework shares a term with the request; no framework applies";
  }
  ChooseAgent(request, scope, &d);
  return d;
}

}  // namespace chorus::route
