#include "flow/route_step.h"

#include <algorithm>
#include <cstdio>

#include "chorus/frameworks.h"
#include "core/template.h"
#include "flow/map_source.h"

namespace chorus {
namespace {

constexpr size_t kRequestExcerptChars = 240;

std::string Excerpt(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
  if (out.size() <= kRequestExcerptChars) return out;
  size_t cut = kRequestExcerptChars;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  return out.substr(0, cut) + "…";
}

double Rounded(double score) {
  return static_cast<double>(static_cast<int64_t>(score * 1000 + 0.5)) / 1000;
}

nlohmann::json RouterSchema(const route::Decision& decision,
                            const std::vector<std::string>& agents) {
  nlohmann::json ids = nlohmann::json::array();
  for (const route::Candidate& c : decision.candidates) ids.push_back(c.framework->id);
  return {{"type", "object"},
          {"required", {"framework", "agent", "why"}},
          {"properties",
           {{"framework", {{"type", "string"}, {"enum", ids}}},
            {"agent", {{"type", "string"}, {"enum", agents}}},
            {"why", {{"type", "string"}, {"minLength", 1}}}}}};
}

}  // namespace

Result<std::unique_ptr<TeamRouting>> TeamRouting::Make(const Team& team) {
  if (!team.frameworks) {
    return Err(Status::FailedPrecondition("the team routes but has no framework library loaded"));
  }
  std::vector<route::Rule> rules;
  for (size_t i = 0; i < team.routes.size(); ++i) {
    const RouteRule& r = team.routes[i];
    rules.push_back(
        {"routes[" + std::to_string(i) + "]", r.keywords, r.regex, r.label, r.frameworks, r.agent});
  }
  Result<route::Router> router = route::Router::Make(team.frameworks.get(), std::move(rules));
  if (!router) return Err(router.error());
  return std::unique_ptr<TeamRouting>(new TeamRouting(team, std::move(*router)));
}

const TeamRouting::StepScope& TeamRouting::ScopeOf(const Step& step) const {
  auto it = scopes_.find(&step);
  if (it != scopes_.end()) return it->second;
  StepScope s;
  s.scope.frameworks = step.route.frameworks;
  s.scope.top = static_cast<size_t>(std::max(1, step.route.top));
  // Candidates: the route's agents; else the task's own agent; else every agent but the router.
  std::vector<std::string> names = step.route.agents;
  if (names.empty() && !step.agents.empty()) names = step.agents;
  if (names.empty()) {
    for (const AgentSpec& a : team_.agents) {
      if (a.name != step.route.router) names.push_back(a.name);
    }
  }
  for (const std::string& name : names) {
    const AgentSpec* agent = team_.FindAgent(name);
    s.scope.agents.push_back(route::AgentProfile::Of(name, agent ? agent->role : ""));
  }
  s.agent_names = std::move(names);
  return scopes_.emplace(&step, std::move(s)).first->second;
}

route::Decision TeamRouting::Decide(const Step& step, const std::string& request,
                                    const std::string& label) const {
  return router_.Decide(request, label, ScopeOf(step).scope);
}

const std::vector<std::string>& TeamRouting::AgentNames(const Step& step) const {
  return ScopeOf(step).agent_names;
}

route::DelegationChoice TeamRouting::Delegate(const Step& step, const std::string& routed,
                                              int64_t words, const std::string& label,
                                              const std::string& context_holder) const {
  const DelegationPolicy& p = team_.delegation;
  route::DelegationRules rules{p.holds_context, p.local_max_words, p.local_label,
                               p.delegate_min_words};
  auto clearance = [&](const std::string& name) {
    const AgentSpec* a = team_.FindAgent(name);
    return a ? a->clearance : std::string();
  };
  route::DelegationCase c;
  c.owner = step.agents.front();
  c.routed = routed;
  c.words = words;
  c.label = label;
  c.owner_clearance = clearance(c.owner);
  c.routed_clearance = clearance(routed);
  c.context_holder = context_holder;
  c.context_holder_clearance = clearance(context_holder);
  return route::DecideDelegation(rules, c);
}

std::string BriefLabel(const Team& team, const Step& step,
                       const std::map<std::string, std::string>& inputs) {
  std::string label;
  auto scan = [&](const std::string& text) {
    Result<std::vector<TemplateRef>> refs = FindTemplateRefs(text);
    if (!refs) return;
    for (const TemplateRef& ref : *refs) {
      if (ref.root != "inputs") continue;
      const InputSpec* input = team.FindInput(ref.field);
      auto value = inputs.find(ref.field);
      if (value == inputs.end() || value->second.empty()) continue;
      if (input && route::LabelRank(input->label) > route::LabelRank(label)) label = input->label;
    }
  };
  const BriefTemplate& b = step.brief;
  scan(b.objective);
  for (const std::string& c : b.context) scan(c);
  for (const std::string& c : b.constraints) scan(c);
  return label;
}

int64_t BriefWords(const DelegationBrief& brief) {
  auto count = [](const std::string& text) {
    int64_t n = 0;
    bool in_word = false;
    for (unsigned char c : text) {
      bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
      if (!space && !in_word) ++n;
      in_word = !space;
    }
    return n;
  };
  int64_t words = count(brief.objective);
  for (const std::string& c : brief.context) words += count(c);
  return words;
}

nlohmann::json DecisionJson(const std::string& request, const std::string& label,
                            const route::Decision& d) {
  nlohmann::json candidates = nlohmann::json::array();
  for (const route::Candidate& c : d.candidates) {
    candidates.push_back(
        {{"id", c.framework->id}, {"name", c.framework->name}, {"score", Rounded(c.score)}});
  }
  nlohmann::json frameworks = nlohmann::json::array();
  for (const Framework* fw : d.frameworks) frameworks.push_back(fw->id);
  nlohmann::json winner = nullptr;
  if (!d.frameworks.empty()) {
    winner = {{"id", d.frameworks.front()->id}, {"name", d.frameworks.front()->name}};
  }
  return {{"request", Excerpt(request)},
          {"label", label},
          {"rule", d.rule},
          {"candidates", std::move(candidates)},
          {"winner", std::move(winner)},
          {"frameworks", std::move(frameworks)},
          {"agent", d.agent},
          {"why", d.why}};
}

void ApplyFrameworks(const std::vector<const Framework*>& frameworks, DelegationBrief* brief) {
  for (const Framework* fw : frameworks) {
    brief->constraints.push_back("Apply the framework " + fw->id + " " + fw->name + ": " +
                                 fw->summary);
    for (size_t i = 0; i < fw->instructions.size(); ++i) {
      brief->constraints.push_back(fw->name + ", step " + std::to_string(i + 1) + ": " +
                                   fw->instructions[i]);
    }
  }
  if (frameworks.empty()) return;
  ExpectedOutput& out = brief->output;
  bool unshaped = out.format == OutputFormat::kText && out.sections.empty() && out.schema.is_null();
  if (unshaped) {
    std::string description = out.description;
    out = frameworks.front()->output;
    if (!description.empty()) out.description = description;
  }
}

DelegationBrief RouterBrief(const std::string& id, const std::string& request, const Team& team,
                            const route::Decision& decision,
                            const std::vector<std::string>& agents) {
  DelegationBrief brief;
  brief.id = id;
  brief.objective =
      "Choose the framework and the agent best suited to this request, from the candidates "
      "below: " +
      request;
  std::string listed = "Candidate frameworks (BM25 score in brackets):\n";
  for (const route::Candidate& c : decision.candidates) {
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", c.score);
    listed += "- " + c.framework->id + " " + c.framework->name + " [" + score +
              "]: " + c.framework->summary + "\n";
  }
  brief.context.push_back(std::move(listed));
  std::string roles = "Candidate agents:\n";
  for (const std::string& name : agents) {
    const AgentSpec* a = team.FindAgent(name);
    roles += "- " + name + ": " + (a ? a->role : std::string()) + "\n";
  }
  brief.context.push_back(std::move(roles));
  brief.constraints.push_back("Pick exactly one framework id from the candidates and one agent.");
  brief.constraints.push_back("Say in one sentence why in 'why'.");
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = RouterSchema(decision, agents);
  brief.output.description = "{\"framework\": ID, \"agent\": NAME, \"why\": TEXT}";
  return brief;
}

Status ApplyRouterAnswer(const std::string& answer, const FrameworkLibrary& library,
                         const std::vector<std::string>& agents, route::Decision* decision) {
  ExpectedOutput expected;
  expected.format = OutputFormat::kJson;
  expected.schema = RouterSchema(*decision, agents);
  Result<AcceptedOutput> accepted = CheckOutput(expected, answer);
  if (!accepted) return accepted.error();
  const nlohmann::json& j = accepted->json;
  const Framework* chosen = library.Find(j.at("framework").get<std::string>());
  if (chosen == nullptr) return Status::InvalidArgument("the framework is not in the library");
  decision->frameworks = {chosen};
  decision->agent = j.at("agent").get<std::string>();
  decision->rule = "router";
  decision->why = "router agent chose " + chosen->id + " " + chosen->name + " and agent " +
                  decision->agent + ": " + j.at("why").get<std::string>();
  return Status::Ok();
}

}  // namespace chorus
