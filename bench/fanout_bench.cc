// Fan-out and chain benchmarks of the whole `chorus` binary against a local server: the fake
// LLM server, or a node:http mock (see `server` below).
//
//   fanout: one map step over N items, all in flight at once, each answered after a fixed
//           delay (default 200 ms), then one synthesis of all their answers (the fan-in):
//           two round trips, as in the issue's workload, so the floor is twice the delay.
//           Reports wall, CPU and peak RSS of `chorus run`.
//   chain:  S sequential tasks against a server that answers at once; the wall time per step
//           is the client's time between one reply and the next request (plus the server's).
//
//   waiting: the same fan-outs against a server that answers after --waiting-latency-ms
//           (default 3000; 0 skips it); the resident set is read 0.5 s before the first
//           answer can arrive, when every agent has sent its request and waits (median of
//           --repeat runs). The growth between sizes is the memory per waiting agent.
//
//   server: the project's fake LLM server (C++, Boost.Beast, one thread); with
//           `--server node` bench/node_mock_server.mjs, a node:http mock of the kind the
//           issue's figures for other runtimes were measured against; with `--server lean`
//           bench/lean_mock_server.cc, which answers without parsing anything, to show
//           chorus's own share. The server's own CPU per run is reported too: it shares the
//           two cores with chorus.
//
//   fanout_bench [--sizes 1000,10000] [--latency-ms 200] [--repeat 5] [--chain 200]
//                [--max-in-flight N] [--waiting-latency-ms 3000] [--server fake|node|lean]
//                [--context-window TOKENS] [--settle-ms 2000] [--chorus PATH] [--out FILE.json]
//
// --context-window declares the mock model's window: a fan-in that overflows it is then
// synthesized in levels (a third round trip or more), as it would be against a real model.
// Without it the mock takes any prompt, as the servers of the issue's comparisons did.
// --chorus runs another build of the binary (default: the one built with this benchmark), so
// two builds can be measured in turn against the same server setup.
// Prints a markdown table and writes JSON (default bench/results/fanout.json).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"

namespace {

struct Args {
  std::vector<int> sizes = {1000, 10000};
  int latency_ms = 200;
  int repeat = 5;
  int chain = 200;
  int max_in_flight = 25000;  // loopback has ~28k ephemeral ports per destination
  int waiting_latency_ms = 3000;
  std::string server = "fake";
  int context_window = 0;  // 0: the mock model declares none
  int settle_ms = 2000;    // pause before each measured run
  std::string chorus = CHORUS_CLI_PATH;
  std::string out = std::string(CHORUS_SOURCE_DIR) + "/bench/results/fanout.json";
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--sizes") {
      a.sizes.clear();
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');) a.sizes.push_back(std::stoi(part));
    } else if (k == "--latency-ms") {
      a.latency_ms = std::stoi(v);
    } else if (k == "--repeat") {
      a.repeat = std::stoi(v);
    } else if (k == "--chain") {
      a.chain = std::stoi(v);
    } else if (k == "--max-in-flight") {
      a.max_in_flight = std::stoi(v);
    } else if (k == "--waiting-latency-ms") {
      a.waiting_latency_ms = std::stoi(v);
    } else if (k == "--server") {
      if (v != "fake" && v != "node" && v != "lean") {
        std::fprintf(stderr, "--server: expected fake, node or lean, got %s\n", v.c_str());
        std::exit(2);
      }
      a.server = v;
    } else if (k == "--settle-ms") {
      a.settle_ms = std::stoi(v);
    } else if (k == "--context-window") {
      a.context_window = std::stoi(v);
    } else if (k == "--chorus") {
      a.chorus = v;
    } else if (k == "--out") {
      a.out = v;
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

// The command line of the chosen server answering after `latency_ms`, on a free port.
std::vector<std::string> ServerArgv(const Args& args, int latency_ms) {
  if (args.server == "node") {
    return {"/usr/bin/env",
            "node",
            std::string(CHORUS_SOURCE_DIR) + "/bench/node_mock_server.mjs",
            "--port",
            "0",
            "--latency-ms",
            std::to_string(latency_ms)};
  }
  if (args.server == "lean") {
    return {LEAN_MOCK_SERVER_PATH, "--port", "0", "--latency-ms", std::to_string(latency_ms)};
  }
  // The benchmark reads no request records: the server keeps none.
  return {FAKE_LLM_SERVER_PATH,       "--port",          "0", "--latency-ms",
          std::to_string(latency_ms), "--keep-requests", "0"};
}

std::string ModelBlock(int port, int concurrency, int context_window = 0) {
  return "models:\n  mock: { provider: openai, base_url: \"http://127.0.0.1:" +
         std::to_string(port) + "/v1\", model: mock, stream: false, timeout_s: 120,\n" +
         (context_window > 0 ? "          context_window: " + std::to_string(context_window) + ",\n"
                             : std::string()) +
         "          limits: { concurrency: " + std::to_string(concurrency) + " } }\n" +
         "agents:\n  worker: { role: \"You answer in one short sentence.\", model: mock }\n";
}

std::string FanoutTeam(int port, int n, int in_flight, int context_window) {
  return "name: fanout\n" + ModelBlock(port, in_flight, context_window) +
         "inputs:\n  items: { file: true }\n"
         "flow:\n"
         "  - map: fan\n"
         "    over: \"${inputs.items}\"\n"
         "    agent: worker\n"
         "    concurrency: " +
         std::to_string(std::min(n, in_flight)) +
         "\n"
         "    brief: { objective: \"Answer question ${item}\" }\n"
         "  - synthesize: summary\n"
         "    agent: worker\n"
         "    from: [ fan ]\n"
         "    brief: { objective: \"Summarise all the answers in one paragraph\" }\n";
}

std::string ChainTeam(int port, int steps) {
  std::string team = "name: chain\n" + ModelBlock(port, 4) + "flow:\n";
  for (int i = 0; i < steps; ++i) {
    team += "  - task: s" + std::to_string(i) +
            "\n    agent: worker\n    brief: { objective: \"Step " + std::to_string(i) +
            (i ? " after ${s" + std::to_string(i - 1) + "}" : std::string()) + "\" }\n";
  }
  return team;
}

// Writes the items and the team of an n-agent fan-out against `port` into `dir`; returns the
// `chorus run` command line, to which the caller adds the store.
std::vector<std::string> WriteFanout(const std::string& chorus, const std::string& dir, int port,
                                     int n, int in_flight, int context_window) {
  std::string items;
  for (int i = 0; i < n; ++i) items += "q" + std::to_string(i) + "\n";
  bench::WriteFile(dir + "/items.txt", items);
  bench::WriteFile(dir + "/fanout.yaml", FanoutTeam(port, n, in_flight, context_window));
  return {chorus,    "run",   dir + "/fanout.yaml", "--input", "items=@" + dir + "/items.txt",
          "--quiet", "--json"};
}

std::vector<std::string> WithStore(std::vector<std::string> argv, const std::string& store) {
  argv.insert(argv.end(), {"--store", store});
  return argv;
}

struct Row {
  Row(std::string n, int a) : name(std::move(n)), agents(a) {}
  std::string name;
  int agents;
  std::vector<double> wall, cpu, rss;
  std::vector<double> server_cpu;  // what the server spent on the same run
  int failures = 0;

  // Runs `argv` once against `server`, keeping its figures unless it failed. Each run starts
  // after a pause: the previous run's connections are closed by the server meanwhile, and
  // runs back to back measured the kernel's handling of those (up to a third more system
  // time, and wall times that depend on what ran before).
  void Measure(const std::vector<std::string>& argv, const std::string& log,
               const bench::ServerProcess& server, int settle_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
    const double server_before = server.CpuSeconds();
    bench::Measurement m = bench::RunMeasured(argv, log);
    if (m.exit_code != 0) {
      ++failures;
      std::fprintf(stderr, "%s: chorus exited %d (see %s)\n", name.c_str(), m.exit_code,
                   log.c_str());
      return;
    }
    wall.push_back(m.wall_s);
    cpu.push_back(m.cpu_s);
    rss.push_back(m.max_rss_mb);
    server_cpu.push_back(server.CpuSeconds() - server_before);
  }
};

nlohmann::json Summary(const Row& r) {
  return {{"name", r.name},
          {"agents", r.agents},
          {"runs", r.wall.size()},
          {"failures", r.failures},
          {"wall_s_median", bench::Median(r.wall)},
          {"cpu_s_median", bench::Median(r.cpu)},
          {"max_rss_mb_median", bench::Median(r.rss)},
          {"server_cpu_s_median", bench::Median(r.server_cpu)},
          {"wall_s", r.wall},
          {"cpu_s", r.cpu},
          {"max_rss_mb", r.rss},
          {"server_cpu_s", r.server_cpu}};
}

}  // namespace

int main(int argc, char** argv) {
  Args args = ParseArgs(argc, argv);
  bench::RaiseFileLimit();
  std::string dir = bench::MakeTempDir("chorus-fanout");
  std::vector<Row> rows;

  {
    bench::ServerProcess server(ServerArgv(args, args.latency_ms));
    for (int n : args.sizes) {
      int in_flight = std::min(n, args.max_in_flight);
      const std::vector<std::string> run =
          WriteFanout(args.chorus, dir, server.port(), n, in_flight, args.context_window);
      Row row{"fan-out + fan-in, " + std::to_string(args.latency_ms) + " ms" +
                  (in_flight < n ? " (" + std::to_string(in_flight) + " in flight)" : "") +
                  (args.context_window > 0
                       ? ", window " + std::to_string(args.context_window) + " tokens"
                       : ""),
              n};
      for (int r = 0; r < args.repeat; ++r) {
        std::string store = dir + "/fanout-" + std::to_string(n) + "-" + std::to_string(r) + ".db";
        row.Measure(WithStore(run, store), dir + "/fanout.log", server, args.settle_ms);
      }
      rows.push_back(row);
    }
  }
  // Memory while every agent waits: runs against a slow server, the resident set read 0.5 s
  // before the first answer can come back; the median of --repeat runs per size (one reading
  // moves by a few hundred KB from run to run).
  std::vector<std::pair<int, double>> waiting;  // agents, resident MB
  if (args.waiting_latency_ms > 500) {
    bench::ServerProcess slow(ServerArgv(args, args.waiting_latency_ms));
    for (int n : args.sizes) {
      int in_flight = std::min(n, args.max_in_flight);
      const std::vector<std::string> run =
          WriteFanout(args.chorus, dir, slow.port(), n, in_flight, args.context_window);
      std::vector<double> resident_mb;
      for (int r = 0; r < args.repeat; ++r) {
        std::string store = dir + "/waiting-" + std::to_string(n) + "-" + std::to_string(r) + ".db";
        bench::Measurement m = bench::RunMeasured(WithStore(run, store), dir + "/waiting.log",
                                                  (args.waiting_latency_ms - 500) / 1000.0);
        if (m.exit_code == 0 && m.sampled_rss_mb > 0) resident_mb.push_back(m.sampled_rss_mb);
      }
      if (!resident_mb.empty()) waiting.emplace_back(in_flight, bench::Median(resident_mb));
    }
  }
  if (args.chain > 0) {
    bench::ServerProcess server(ServerArgv(args, 0));
    bench::WriteFile(dir + "/chain.yaml", ChainTeam(server.port(), args.chain));
    Row row{"chain of " + std::to_string(args.chain) + ", 0 ms", 1};
    for (int r = 0; r < args.repeat; ++r) {
      std::string store = dir + "/chain-" + std::to_string(r) + ".db";
      row.Measure({args.chorus, "run", dir + "/chain.yaml", "--store", store, "--quiet", "--json"},
                  dir + "/chain.log", server, args.settle_ms);
    }
    rows.push_back(row);
  }

  std::printf(
      "| benchmark (%s server) | agents | wall (median) | CPU (median) | peak RSS | "
      "server CPU | runs |\n",
      args.server.c_str());
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  nlohmann::json out = {{"benchmark", "fanout"},
                        {"server", args.server},
                        {"latency_ms", args.latency_ms},
                        {"context_window", args.context_window},
                        {"rows", nlohmann::json::array()}};
  for (const Row& r : rows) {
    std::printf("| %s | %d | %.3f s | %.3f s | %.1f MB | %.3f s | %zu ok, %d failed |\n",
                r.name.c_str(), r.agents, bench::Median(r.wall), bench::Median(r.cpu),
                bench::Median(r.rss), bench::Median(r.server_cpu), r.wall.size(), r.failures);
    out["rows"].push_back(Summary(r));
  }
  if (args.chain > 0 && !rows.back().wall.empty()) {
    double per_step_ms = bench::Median(rows.back().wall) * 1000 / args.chain;
    std::printf("\nchain: %.3f ms per step end to end (reply -> next request, incl. server)\n",
                per_step_ms);
    out["chain_ms_per_step"] = per_step_ms;
  }
  if (!waiting.empty()) {
    std::printf("\n| agents waiting (%d ms server) | resident set | per added waiting agent |\n",
                args.waiting_latency_ms);
    std::printf("|---:|---:|---:|\n");
    out["waiting"] = nlohmann::json::array();
    for (size_t i = 0; i < waiting.size(); ++i) {
      auto [agents, mb] = waiting[i];
      double per_agent_kb =
          i == 0 ? 0 : (mb - waiting[i - 1].second) * 1024.0 / (agents - waiting[i - 1].first);
      std::printf("| %d | %.1f MB | %s |\n", agents, mb,
                  i == 0
                      ? "—"
                      : (std::to_string(static_cast<int>(per_agent_kb * 1024)) + " bytes").c_str());
      out["waiting"].push_back(
          {{"agents", agents}, {"rss_mb", mb}, {"per_added_agent_kb", per_agent_kb}});
    }
  }
  bench::WriteFile(args.out, out.dump(2) + "\n");
  std::printf("wrote %s\n", args.out.c_str());
  return 0;
}
