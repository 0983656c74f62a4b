// Framework routing benchmark: load the default 343-framework library (parse, validate, index)
// and run 10,000 searches (k = 3) with requests cycled from the labelled test set, the work
// the router does once per routed step. Target: the 10,000 searches in under 1 s.
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
  bool met = search_wall <= kGoalSeconds;
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| frameworks loaded | %zu |\n", lib->size());
  std::printf("| load + validate + index (wall / cpu) | %.1f ms / %.1f ms |\n", load_wall * 1e3,
              load_cpu * 1e3);
  std::printf("| %d searches, k=%zu (wall / cpu) | %.3f s / %.3f s |\n", kSearches, kTopK,
              search_wall, search_cpu);
  std::printf("| searches per second | %.0f |\n", kSearches / search_wall);
  std::printf("| latency p50 / p99 | %.1f us / %.1f us |\n", p50, p99);
  std::printf("| goal: %d searches <= %.1f s | %s |\n", kSearches, kGoalSeconds,
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
                      {"goal_seconds", kGoalSeconds},
                      {"goal_met", met}};
  std::ofstream(out_path) << j.dump(2) << "\n";
  std::printf("\nwrote %s\n", out_path.c_str());
  return met ? 0 : 1;
}
