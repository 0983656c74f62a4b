// Framework routing benchmark: load the default 343-framework library (parse, validate, index),
// run 10,000 searches (k = 3) with requests cycled from the labelled test set, then 10,000 full
// routing decisions — eight trigger rules (keywords, regexes, a label condition), BM25 over
// the library, the agent choice among five agents, and the route.decision payload — the work
// the runtime does once per routed task. Target: the 10,000 decisions in under 1 s.
//
// Usage: route_bench [RESULTS_JSON]   (default: bench/results/route.json in the source tree)
// Prints a markdown table and writes the same numbers as JSON.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/frameworks.h"
#include "flow/route_step.h"
#include "route/router.h"

namespace {

constexpr int kSearches = 10'000;
constexpr size_t kTopK = 3;
constexpr double kGoalSeconds = 1.0;

double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<std::string> Requests() {
  std::vector<std::string> out;
  for (const char* file : {"requests.tsv", "requests_plain.tsv"}) {
    std::ifstream in(std::string(CHORUS_SOURCE_DIR) + "/tests/route/" + file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      out.push_back(line.substr(0, line.rfind('\t')));
    }
  }
  return out;
}

// A team's worth of rules: most requests fall through them to search, as in real use.
std::vector<chorus::route::Rule> BenchRules() {
  std::vector<chorus::route::Rule> rules;
  auto rule = [&](std::vector<std::string> keywords, std::string regex, std::string label,
                  std::string framework, std::string agent) {
    rules.push_back({"routes[" + std::to_string(rules.size()) + "]",
                     std::move(keywords),
                     std::move(regex),
                     std::move(label),
                     {std::move(framework)},
                     std::move(agent)});
  };
  rule({"five forces", "bargaining power"}, "", "", "1.2.1", "strategist");
  rule({}, R"(\b(pre-?mortem|premortem)\b)", "", "7.2.1", "");
  rule({"swot"}, "", "", "1.5.1", "");
  rule({}, R"((?i)root cause|why did .* fail)", "", "1.6.1", "analyst");
  rule({"merger", "acquisition", "due diligence"}, "", "confidential", "1.7.4", "analyst");
  rule({"okr", "objectives and key results"}, "", "", "5.1.1", "");
  rule({}, R"(\$\s?\d+(\.\d+)?\s?(m|bn|million|billion)\b)", "", "2.5.6", "");
  rule({"red team", "devil's advocate"}, "", "", "7.2.2", "reviewer");
  return rules;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path =
      argc > 1 ? argv[1] : std::string(CHORUS_SOURCE_DIR) + "/bench/results/route.json";
  std::vector<std::string> requests = Requests();
  if (requests.empty()) {
    std::fprintf(stderr, "route_bench: no requests found under tests/route/\n");
    return 1;
  }

  double wall0 = WallSeconds(), cpu0 = CpuSeconds();
  auto lib = chorus::FrameworkLibrary::Load({"default"}, ".");
  double load_wall = WallSeconds() - wall0, load_cpu = CpuSeconds() - cpu0;
  if (!lib) {
    std::fprintf(stderr, "route_bench: %s\n", lib.error().ToString().c_str());
    return 1;
  }

  std::vector<double> latencies_us;
  latencies_us.reserve(kSearches);
  size_t hits = 0;
  wall0 = WallSeconds();
  cpu0 = CpuSeconds();
  for (int i = 0; i < kSearches; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    hits += lib->Search(requests[static_cast<size_t>(i) % requests.size()], kTopK).size();
    latencies_us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  double search_wall = WallSeconds() - wall0, search_cpu = CpuSeconds() - cpu0;

  double p50 = Percentile(latencies_us, 0.50), p99 = Percentile(latencies_us, 0.99);

  // Rules naming frameworks the library lacks are dropped, so the bench survives edits to it.
  std::vector<chorus::route::Rule> rules;
  for (chorus::route::Rule& r : BenchRules()) {
    if (lib->Find(r.frameworks.front())) rules.push_back(std::move(r));
  }
  size_t rule_count = rules.size();
  auto router = chorus::route::Router::Make(&*lib, std::move(rules));
  if (!router) {
    std::fprintf(stderr, "route_bench: %s\n", router.error().ToString().c_str());
    return 1;
  }
  chorus::route::Scope scope;
  scope.top = kTopK;
  for (const char* agent : {"analyst", "researcher", "strategist", "reviewer", "synthesizer"}) {
    scope.agents.push_back(chorus::route::AgentProfile::Of(
        agent, std::string("You are the team's ") + agent +
                   ": you analyse markets, competitors, risks and strategy options."));
  }
  size_t by_rule = 0, payload_bytes = 0;
  wall0 = WallSeconds();
  cpu0 = CpuSeconds();
  for (int i = 0; i < kSearches; ++i) {
    const std::string& request = requests[static_cast<size_t>(i) % requests.size()];
    const char* label = i % 10 == 0 ? "confidential" : "";
    chorus::route::Decision d = router->Decide(request, label, scope);
    by_rule += d.rule != "bm25" && d.rule != "none";
    payload_bytes += chorus::DecisionJson(request, label, d).dump().size();
  }
  double route_wall = WallSeconds() - wall0, route_cpu = CpuSeconds() - cpu0;
  bool met = route_wall <= kGoalSeconds;
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| frameworks loaded | %zu |\n", lib->size());
  std::printf("| load + validate + index (wall / cpu) | %.1f ms / %.1f ms |\n", load_wall * 1e3,
              load_cpu * 1e3);
  std::printf("| %d searches, k=%zu (wall / cpu) | %.3f s / %.3f s |\n", kSearches, kTopK,
              search_wall, search_cpu);
  std::printf("| searches per second | %.0f |\n", kSearches / search_wall);
  std::printf("| latency p50 / p99 | %.1f us / %.1f us |\n", p50, p99);
  std::printf(
      "| %d routing decisions, %zu rules + BM25 + agent choice + payload (wall / cpu) "
      "| %.3f s / %.3f s |\n",
      kSearches, rule_count, route_wall, route_cpu);
  std::printf("| decisions made by a rule | %zu of %d |\n", by_rule, kSearches);
  std::printf("| goal: %d routing decisions <= %.1f s | %s |\n", kSearches, kGoalSeconds,
              met ? "met" : "NOT met");

  nlohmann::json j = {{"benchmark", "route"},
                      {"frameworks", lib->size()},
                      {"distinct_requests", requests.size()},
                      {"load_wall_ms", load_wall * 1e3},
                      {"load_cpu_ms", load_cpu * 1e3},
                      {"searches", kSearches},
                      {"k", kTopK},
                      {"hits_returned", hits},
                      {"search_wall_s", search_wall},
                      {"search_cpu_s", search_cpu},
                      {"searches_per_second", kSearches / search_wall},
                      {"latency_p50_us", p50},
                      {"latency_p99_us", p99},
                      {"route_rules", rule_count},
                      {"route_decisions", kSearches},
                      {"route_wall_s", route_wall},
                      {"route_cpu_s", route_cpu},
                      {"route_by_rule", by_rule},
                      {"route_payload_bytes", payload_bytes},
                      {"goal_seconds", kGoalSeconds},
                      {"goal_met", met}};
  std::ofstream(out_path) << j.dump(2) << "\n";
  std::printf("\nwrote %s\n", out_path.c_str());
  return met ? 0 : 1;
}
