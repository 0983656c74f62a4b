// In-process engine overhead: the scheduler, brief rendering, output checks and the SQLite
// event log, with no HTTP. The model is an in-benchmark client that answers at once, so what
// is measured is chorus's own work per step. A second configuration hands the events to a
// store that discards them: the difference is what the durable log costs. A run's time ends
// when its store is closed (the last checkpoint of the WAL is part of the log's cost); opening
// a fresh store is not timed.
//
// It also times `resume` of an interrupted run with ~100,000 recorded events (a fan-out of
// 20,000 agents killed just before its end): reading the events, rebuilding the state and
// finishing the run.
//
//   engine_bench [--steps 2000] [--fanout 10000] [--resume-agents 20000] [--repeat 5]
//                [--only instant|instant_events_discarded|offline] [--out FILE.json]
//
// --only runs that one configuration and skips resume: a profile then shows one thing.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_support.h"
#include "chorus/run.h"

namespace {

// Answers every request immediately with a fixed sentence (the callback runs inline).
class InstantModel final : public chorus::ModelClient {
 public:
  explicit InstantModel(chorus::EndpointConfig config) : config_(std::move(config)) {}
  void Submit(chorus::ChatRequest, Callback done) override {
    chorus::ChatResponse r;
    r.text = "A short answer.";
    r.finish_reason = "stop";
    r.model = "instant";
    r.usage = {40, 4, 0.0};
    done(std::move(r));
  }
  const chorus::EndpointConfig& config() const override { return config_; }
  int64_t pending() const override { return 0; }
  bool answers_in_process() const override { return true; }

 private:
  chorus::EndpointConfig config_;
};

chorus::Team BaseTeam() {
  chorus::Team team;
  team.name = "engine-bench";
  chorus::AgentSpec worker;
  worker.name = "worker";
  worker.role = "You answer briefly.";
  worker.model = "offline";
  team.agents.push_back(worker);
  return team;
}

chorus::Team ChainTeam(int steps) {
  chorus::Team team = BaseTeam();
  for (int i = 0; i < steps; ++i) {
    chorus::Step s;
    s.id = "s" + std::to_string(i);
    s.agents = {"worker"};
    // No ${previous} reference: the offline model restates its objective, so chained
    // references would grow every prompt and measure text size instead of the engine.
    s.brief.objective = "Step " + std::to_string(i) + " of the chain";
    team.flow.push_back(s);
  }
  return team;
}

chorus::Team FanoutTeam(int n) {
  chorus::Team team = BaseTeam();
  chorus::Step map;
  map.kind = chorus::StepKind::kMap;
  map.id = "fan";
  map.agents = {"worker"};
  map.concurrency = n;
  for (int i = 0; i < n; ++i) map.over_items.push_back("q" + std::to_string(i));
  map.brief.objective = "Answer ${item}";
  team.flow.push_back(map);
  return team;
}

// Numbers events and drops them: the scheduler's own cost, without the event log's writes.
// Nothing can be read back, so only fresh runs use it.
class DiscardingStore final : public chorus::Store {
 public:
  chorus::Status CreateRun(const chorus::RunRecord&) override { return chorus::Status::Ok(); }
  chorus::Status Append(std::span<chorus::Event> events) override {
    for (chorus::Event& e : events) {
      if (e.seq == 0) e.seq = ++last_seq_;
    }
    return chorus::Status::Ok();
  }
  chorus::Status UpdateRun(const chorus::RunRecord&) override { return chorus::Status::Ok(); }
  chorus::Result<std::vector<chorus::Event>> LoadEvents(const std::string& run_id) override {
    return chorus::Err(
        chorus::Status::NotFound("the discarding store keeps no events of " + run_id));
  }
  chorus::Result<std::vector<chorus::RunRecord>> ListRuns(int) override {
    return std::vector<chorus::RunRecord>{};
  }
  chorus::Result<chorus::RunRecord> FindRun(const std::string& id) override {
    return chorus::Err(chorus::Status::NotFound("the discarding store keeps no run " + id));
  }

 private:
  int64_t last_seq_ = 0;
};

std::unique_ptr<chorus::Store> OpenStore(const std::string& path) {
  auto store = chorus::OpenSqliteStore(path);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

InstantModel& Instant() {
  static InstantModel model([] {
    chorus::EndpointConfig config;
    config.name = "offline";  // stands in for the team's `offline` model
    // Declared as a remote provider: the engine then does for it what it does for every
    // model outside the process, and none of what only the offline model needs (a tree of
    // the structured brief, which the `offline (built-in)` rows include).
    config.provider = chorus::Provider::kOpenAI;
    config.concurrency = 0;  // no endpoint cap: the map's own concurrency decides, as offline
    config.model = "instant";
    return config;
  }());
  return model;
}

// Times `run` (a RunTeam or ResumeRun call) and checks that the run completed.
template <typename Run>
double TimeCompleted(Run&& run) {
  auto start = std::chrono::steady_clock::now();
  chorus::Result<chorus::RunReport> report = run();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report || report->status != chorus::RunStatus::kCompleted) {
    std::fprintf(stderr, "run failed: %s\n",
                 report ? report->error.c_str() : report.error().ToString().c_str());
    std::exit(1);
  }
  return s;
}

// How a configuration runs its teams: which model answers, and where the events go.
struct Config {
  const char* name;  // as printed in the table
  const char* key;   // in the JSON
  bool instant;      // the InstantModel; otherwise the built-in offline model
  bool keep_events;  // the SQLite store; otherwise the DiscardingStore
};

// Runs `team` under `config`, recording into a fresh store at `store_path`.
double TimeRun(const chorus::Team& team, const std::string& store_path, const Config& config) {
  std::unique_ptr<chorus::Store> store =
      config.keep_events ? OpenStore(store_path) : std::make_unique<DiscardingStore>();
  chorus::RunOptions options;
  options.store = store.get();
  if (config.instant) options.clients["offline"] = &Instant();
  // Closing the store is timed too: it checkpoints what the run left in the WAL into the
  // database, which is part of what the durable log costs (a `chorus run` pays it on exit).
  return TimeCompleted([&] {
    chorus::Result<chorus::RunReport> report = chorus::RunTeam(team, std::move(options));
    store.reset();
    return report;
  });
}

// Records a whole run of `team`, copies all but its last two events into a fresh store as a
// killed process would leave them, and times ResumeRun on that copy. Returns {events, s}.
std::pair<size_t, double> TimeResume(const chorus::Team& team, const std::string& dir) {
  // Fresh stores every time: each repeat measures the same work on the same file sizes.
  std::filesystem::remove(dir + "/resume-whole.db");
  auto whole = OpenStore(dir + "/resume-whole.db");
  chorus::RunOptions options;
  options.store = whole.get();
  options.clients["offline"] = &Instant();
  auto report = chorus::RunTeam(team, std::move(options));
  if (!report) std::exit(1);
  auto run = whole->FindRun(report->run_id);
  auto events = whole->LoadEvents(report->run_id);
  if (!run || !events) std::exit(1);
  events->resize(events->size() - 2);
  std::string cut_path = dir + "/resume-cut.db";
  std::filesystem::remove(cut_path);
  auto cut = OpenStore(cut_path);
  chorus::RunRecord interrupted = *run;
  interrupted.status = chorus::RunStatus::kRunning;
  pid_t child = fork();  // a pid that is certainly gone: a reaped child's
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  interrupted.pid = child;
  if (!cut->CreateRun(interrupted).ok() || !cut->Append(*events).ok()) std::exit(1);
  cut.reset();  // resume opens the store afresh, as `chorus resume` does

  auto reopened = OpenStore(cut_path);
  chorus::RunOptions resume;
  resume.store = reopened.get();
  resume.run_id = report->run_id;
  resume.clients["offline"] = &Instant();
  double s = TimeCompleted([&] {
    chorus::Result<chorus::RunReport> report = chorus::ResumeRun(team, std::move(resume));
    reopened.reset();
    return report;
  });
  return {events->size(), s};
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 2000, fanout = 10000, resume_agents = 20000, repeat = 5;
  std::string out = std::string(CHORUS_SOURCE_DIR) + "/bench/results/engine.json";
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--steps")
      steps = std::stoi(v);
    else if (k == "--fanout")
      fanout = std::stoi(v);
    else if (k == "--resume-agents")
      resume_agents = std::stoi(v);
    else if (k == "--repeat")
      repeat = std::stoi(v);
    else if (k == "--out")
      out = v;
    else if (k == "--only")
      only = v;
  }
  std::string dir = bench::MakeTempDir("chorus-engine");
  chorus::Team chain = ChainTeam(steps), fan = FanoutTeam(fanout);
  nlohmann::json j = {{"benchmark", "engine"}, {"chain_steps", steps}, {"fanout_agents", fanout}};
  std::printf(
      "| in-process engine | model (events kept in SQLite unless said) | per step (median) |\n");
  std::printf("|---|---|---:|\n");
  const Config configs[] = {
      {"instant (engine only)", "instant", true, true},
      {"instant, events discarded (scheduler only)", "instant_events_discarded", true, false},
      {"offline (built-in)", "offline", false, true},
  };
  for (const Config& config : configs) {
    if (!only.empty() && only != config.key) continue;
    std::vector<double> chain_us, fan_us;
    for (int r = 0; r < repeat; ++r) {
      std::string tag = std::string(config.key) + "-" + std::to_string(r);
      chain_us.push_back(TimeRun(chain, dir + "/chain" + tag + ".db", config) * 1e6 / steps);
      fan_us.push_back(TimeRun(fan, dir + "/fan" + tag + ".db", config) * 1e6 / fanout);
    }
    std::printf("| chain of %d steps | %s | %.2f µs |\n", steps, config.name,
                bench::Median(chain_us));
    std::printf("| fan-out of %d agents | %s | %.2f µs |\n", fanout, config.name,
                bench::Median(fan_us));
    j[config.key] = {{"chain_us_per_step_median", bench::Median(chain_us)},
                     {"chain_us_per_step", chain_us},
                     {"fanout_us_per_agent_median", bench::Median(fan_us)},
                     {"fanout_us_per_agent", fan_us}};
  }
  if (only.empty()) {
    std::vector<double> resume_s;
    size_t resume_events = 0;
    chorus::Team resumable = FanoutTeam(resume_agents);
    for (int r = 0; r < repeat; ++r) {
      auto [events, s] = TimeResume(resumable, dir);
      resume_events = events;
      resume_s.push_back(s);
    }
    std::printf("| resume a run of %zu recorded events | instant (engine only) | %.3f s |\n",
                resume_events, bench::Median(resume_s));
    j["resume"] = {{"recorded_events", resume_events},
                   {"seconds_median", bench::Median(resume_s)},
                   {"seconds", resume_s}};
  }
  bench::WriteFile(out, j.dump(2) + "\n");
  std::printf("wrote %s\n", out.c_str());
  std::filesystem::remove_all(dir);
  return 0;
}
