// Event-store benchmark: append throughput of the SQLite store in batches of 1, 100 and 1,000
// events with realistic ~300-byte JSON payloads, and the time to load a 100,000-event run (what
// `chorus resume` and `chorus show` pay). A second table compares physical layouts, through
// plain SQLite with the same transactions: a row per event (WITHOUT ROWID, or a rowid table
// plus an index; 16 KB or 4 KB pages), and a row per run and transaction holding its events
// (store/event_batch.h), in a rowid table plus index or WITHOUT ROWID. The store uses the
// rows of events in a rowid table with 16 KB pages.
//
// Usage: store_bench [[--out] RESULTS_JSON]
// (default: bench/results/store.json in the source tree). Prints a markdown table and writes
// the same numbers as JSON.
#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/store.h"
#include "store/event_batch.h"

namespace {

constexpr int kLoadEvents = 100'000;
constexpr double kGoalEventsPerSecond = 50'000;
constexpr double kGoalLoadSeconds = 1.0;

// Wall time, and the CPU time of this process: on a shared machine the two differ, and the
// CPU time shows what the work itself costs.
struct Timing {
  double wall_s = 0;
  double cpu_s = 0;
};

double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9;
}

Timing Measure(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  work();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          CpuSeconds() - cpu_start};
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const chorus::Status& status) {
  if (!status.ok()) Die(status.ToString());
}

// What an llm.response event looks like in a real run: ids, usage, timing and a text excerpt.
std::string Payload(int64_t i) {
  std::string payload = R"({"request_id":"req-)" + std::to_string(i) +
                        R"(","endpoint":"fast","model":"gpt-4o-mini","attempt":1,)"
                        R"("usage":{"prompt_tokens":)" +
                        std::to_string(1000 + i % 997) + R"(,"completion_tokens":)" +
                        std::to_string(200 + i % 389) +
                        R"(},"latency_ms":812,"finish_reason":"stop","cost_usd":0.000321,"text":")";
  payload.append(300 - std::min<size_t>(payload.size() + 2, 300),
                 'x');  // pad the excerpt so every payload is 300 bytes
  payload += "\"}";
  return payload;
}

std::vector<chorus::Event> MakeEvents(const std::string& run_id, int count) {
  std::vector<chorus::Event> events(count);
  for (int i = 0; i < count; ++i) {
    chorus::Event& event = events[i];
    event.run_id = run_id;
    event.ts_ms = 1'700'000'000'000 + i;
    event.kind = "llm.response";
    event.step = "reviews[" + std::to_string(i % 64) + "]";
    event.agent = "reviewer";
    event.payload = Payload(i);
  }
  return events;
}

std::unique_ptr<chorus::Store> OpenStore(const std::string& path) {
  chorus::Result<std::unique_ptr<chorus::Store>> store = chorus::OpenSqliteStore(path);
  if (!store) Die(store.error().ToString());
  return std::move(*store);
}

chorus::RunRecord MakeRun(const std::string& id) {
  chorus::RunRecord run;
  run.run_id = id;
  run.team = "bench";
  run.started_ms = 1'700'000'000'000;
  return run;
}

struct AppendResult {
  int batch = 0;
  int events = 0;
  Timing timing;
  double EventsPerSecond() const { return events / timing.wall_s; }
};

AppendResult MeasureAppend(const std::string& dir, int batch, int total) {
  const std::string path = dir + "/append-" + std::to_string(batch) + ".db";
  std::unique_ptr<chorus::Store> store = OpenStore(path);
  Check(store->CreateRun(MakeRun("run-append")));
  std::vector<chorus::Event> events = MakeEvents("run-append", total);
  AppendResult result{batch, total, {}};
  result.timing = Measure([&] {
    for (int offset = 0; offset < total; offset += batch) {
      const int size = std::min(batch, total - offset);
      Check(store->Append(std::span<chorus::Event>(events).subspan(offset, size)));
    }
  });
  if (events.back().seq != total) Die("sequence numbers were not assigned as expected");
  return result;
}

// Best of three loads of a 100,000-event run, each through a freshly opened store.
Timing MeasureLoad(const std::string& dir) {
  const std::string path = dir + "/load.db";
  {
    std::unique_ptr<chorus::Store> store = OpenStore(path);
    Check(store->CreateRun(MakeRun("run-load")));
    std::vector<chorus::Event> events = MakeEvents("run-load", kLoadEvents);
    for (int offset = 0; offset < kLoadEvents; offset += 1000) {
      Check(store->Append(std::span<chorus::Event>(events).subspan(offset, 1000)));
    }
  }
  Timing best{1e9, 1e9};
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<chorus::Store> store = OpenStore(path);
    size_t loaded = 0;
    const Timing timing = Measure([&] {
      chorus::Result<std::vector<chorus::Event>> events = store->LoadEvents("run-load");
      if (!events) Die(events.error().ToString());
      loaded = events->size();
    });
    if (loaded != kLoadEvents) Die("loaded " + std::to_string(loaded) + " events");
    best = {std::min(best.wall_s, timing.wall_s), std::min(best.cpu_s, timing.cpu_s)};
  }
  return best;
}

// --- Layout comparison through plain SQLite, identical statements except the table. ---

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    Die(sql + ": " + (error != nullptr ? error : "?"));
  }
}

// A fresh database file for one layout measurement, removed with its WAL when done.
struct LayoutFile {
  LayoutFile(const std::string& dir, int page_size) : path(dir + "/layout.db") {
    std::filesystem::remove(path);
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("open " + path);
    Exec(db, "PRAGMA page_size=" + std::to_string(page_size) +
                 "; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  }
  LayoutFile(const LayoutFile&) = delete;
  LayoutFile& operator=(const LayoutFile&) = delete;
  ~LayoutFile() {
    sqlite3_close(db);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  std::string path;
  sqlite3* db = nullptr;
};

std::vector<std::string> RunIds(int runs) {
  std::vector<std::string> ids;
  for (int r = 0; r < runs; ++r) ids.push_back("20240501-run-" + std::to_string(r));
  return ids;
}

struct LayoutResult {
  std::string layout;
  int page_size = 0;
  int runs = 0;   // runs appended to concurrently, interleaved in every transaction
  Timing append;  // 100,000 events per run in batches of 1,000 per run
  Timing load;    // one run's 100,000 events
  double AppendEventsPerSecond() const { return runs * kLoadEvents / append.wall_s; }
};

Timing Best(const Timing& a, const Timing& b) {
  return {std::min(a.wall_s, b.wall_s), std::min(a.cpu_s, b.cpu_s)};
}

LayoutResult MeasureLayout(const std::string& dir, const std::string& layout, int page_size,
                           int runs) {
  LayoutFile file(dir, page_size);
  sqlite3* db = file.db;
  Exec(db,
       "CREATE TABLE events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts_ms INTEGER NOT "
       "NULL, kind TEXT NOT NULL, step TEXT NOT NULL, agent TEXT NOT NULL, payload TEXT NOT "
       "NULL, PRIMARY KEY (run_id, seq))" +
           std::string(layout == "without_rowid" ? " WITHOUT ROWID" : ""));
  const std::vector<chorus::Event> events = MakeEvents("unused", kLoadEvents);
  const std::vector<std::string> run_ids = RunIds(runs);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &insert,
                     nullptr);
  LayoutResult result{layout, page_size, runs, {}, {}};
  result.append = Measure([&] {
    for (int offset = 0; offset < kLoadEvents; offset += 1000) {
      Exec(db, "BEGIN IMMEDIATE");
      for (int i = offset; i < offset + 1000; ++i) {
        for (const std::string& run : run_ids) {
          const chorus::Event& e = events[i];
          sqlite3_bind_text(insert, 1, run.data(), static_cast<int>(run.size()), SQLITE_STATIC);
          sqlite3_bind_int64(insert, 2, i + 1);
          sqlite3_bind_int64(insert, 3, e.ts_ms);
          sqlite3_bind_text(insert, 4, e.kind.data(), static_cast<int>(e.kind.size()),
                            SQLITE_STATIC);
          sqlite3_bind_text(insert, 5, e.step.data(), static_cast<int>(e.step.size()),
                            SQLITE_STATIC);
          sqlite3_bind_text(insert, 6, e.agent.data(), static_cast<int>(e.agent.size()),
                            SQLITE_STATIC);
          sqlite3_bind_text(insert, 7, e.payload.data(), static_cast<int>(e.payload.size()),
                            SQLITE_STATIC);
          if (sqlite3_step(insert) != SQLITE_DONE) Die(sqlite3_errmsg(db));
          sqlite3_reset(insert);
        }
      }
      Exec(db, "COMMIT");
    }
  });
  sqlite3_finalize(insert);

  sqlite3_stmt* load = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT seq, ts_ms, kind, step, agent, payload FROM events "
                     "WHERE run_id = ?1 ORDER BY seq",
                     -1, &load, nullptr);
  result.load = {1e9, 1e9};
  for (int round = 0; round < 3; ++round) {
    size_t bytes = 0;
    result.load =
        Best(result.load, Measure([&] {
               const std::string& run = run_ids[runs / 2];
               sqlite3_bind_text(load, 1, run.data(), static_cast<int>(run.size()), SQLITE_STATIC);
               while (sqlite3_step(load) == SQLITE_ROW) {
                 bytes += sqlite3_column_bytes(load, 5);
               }
               sqlite3_reset(load);
             }));
    if (bytes < 300u * kLoadEvents) Die("layout load read too little");
  }
  sqlite3_finalize(load);
  return result;
}

// The same events as MeasureLayout, a row per run and transaction (1,000 events of one run),
// encoded and decoded as the store does.
LayoutResult MeasureRowsOfEvents(const std::string& dir, const std::string& layout, int page_size,
                                 int runs) {
  LayoutFile file(dir, page_size);
  sqlite3* db = file.db;
  const std::string& path = file.path;
  const bool rowid = layout == "rows_of_events_rowid_plus_index";
  Exec(db, std::string("CREATE TABLE event_batches (run_id TEXT NOT NULL, first_seq INTEGER NOT "
                       "NULL, last_seq INTEGER NOT NULL, events BLOB NOT NULL") +
               (rowid ? "); CREATE UNIQUE INDEX by_seq ON event_batches (run_id, first_seq)"
                      : ", PRIMARY KEY (run_id, first_seq)) WITHOUT ROWID"));
  const std::vector<chorus::Event> events = MakeEvents("unused", kLoadEvents);
  const std::vector<std::string> run_ids = RunIds(runs);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO event_batches VALUES (?1, ?2, ?3, ?4)", -1, &insert, nullptr);
  LayoutResult result{layout, page_size, runs, {}, {}};
  std::string body;
  result.append = Measure([&] {
    for (int offset = 0; offset < kLoadEvents; offset += 1000) {
      Exec(db, "BEGIN IMMEDIATE");
      for (const std::string& run : run_ids) {
        body.clear();
        for (int i = offset; i < offset + 1000; ++i) chorus::sqlite::AppendToBatch(body, events[i]);
        sqlite3_bind_text(insert, 1, run.data(), static_cast<int>(run.size()), SQLITE_STATIC);
        sqlite3_bind_int64(insert, 2, offset + 1);
        sqlite3_bind_int64(insert, 3, offset + 1000);
        sqlite3_bind_blob(insert, 4, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
        if (sqlite3_step(insert) != SQLITE_DONE) Die(sqlite3_errmsg(db));
        sqlite3_reset(insert);
      }
      Exec(db, "COMMIT");
    }
  });
  sqlite3_finalize(insert);

  sqlite3_stmt* load = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT first_seq, last_seq, events FROM event_batches WHERE run_id = ?1 "
                     "ORDER BY first_seq",
                     -1, &load, nullptr);
  result.load = {1e9, 1e9};
  for (int round = 0; round < 3; ++round) {
    std::vector<chorus::Event> loaded;
    const std::string& run = run_ids[runs / 2];
    result.load =
        Best(result.load, Measure([&] {
               sqlite3_bind_text(load, 1, run.data(), static_cast<int>(run.size()), SQLITE_STATIC);
               while (sqlite3_step(load) == SQLITE_ROW) {
                 std::string_view bytes(static_cast<const char*>(sqlite3_column_blob(load, 2)),
                                        static_cast<size_t>(sqlite3_column_bytes(load, 2)));
                 Check(chorus::sqlite::DecodeBatch(bytes, run, sqlite3_column_int64(load, 0),
                                                   sqlite3_column_int64(load, 1), path, &loaded));
               }
               sqlite3_reset(load);
             }));
    if (loaded.size() != static_cast<size_t>(kLoadEvents)) Die("layout load read too few events");
  }
  sqlite3_finalize(load);
  return result;
}

std::string DefaultResultsPath() {
  return std::string(CHORUS_SOURCE_DIR) + "/bench/results/store.json";
}

}  // namespace

int main(int argc, char** argv) {
  // `--out FILE` as the other benchmarks take it, or the path alone.
  std::string results_path = DefaultResultsPath();
  if (argc > 2 && std::string(argv[1]) == "--out") {
    results_path = argv[2];
  } else if (argc > 1) {
    results_path = argv[1];
  }
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "chorus-store-bench-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) Die("cannot create a temporary directory");
  const std::string dir = dir_template;

  std::vector<AppendResult> appends;
  appends.push_back(MeasureAppend(dir, 1, 20'000));
  appends.push_back(MeasureAppend(dir, 100, 200'000));
  appends.push_back(MeasureAppend(dir, 1000, 200'000));
  const Timing load = MeasureLoad(dir);
  // Alternate the layouts and keep each one's best, so that a burst of load from other
  // processes on the machine does not decide the comparison.
  std::vector<LayoutResult> layouts;
  // The store's choice (without rowid, 16 KB pages) against SQLite's default page size and
  // against a rowid table with an index.
  const std::pair<const char*, int> candidates[] = {{"without_rowid", 16384},
                                                    {"without_rowid", 4096},
                                                    {"rowid_plus_index", 4096},
                                                    {"rows_of_events_rowid_plus_index", 16384},
                                                    {"rows_of_events_without_rowid", 16384}};
  for (int runs : {1, 4}) {
    for (const auto& [layout, page_size] : candidates) {
      layouts.push_back({layout, page_size, runs, {1e9, 1e9}, {1e9, 1e9}});
    }
  }
  for (int round = 0; round < 3; ++round) {
    for (LayoutResult& best : layouts) {
      const LayoutResult r = best.layout.starts_with("rows_of_events")
                                 ? MeasureRowsOfEvents(dir, best.layout, best.page_size, best.runs)
                                 : MeasureLayout(dir, best.layout, best.page_size, best.runs);
      best.append = Best(best.append, r.append);
      best.load = Best(best.load, r.load);
    }
  }
  std::filesystem::remove_all(dir);

  std::printf("## SQLite event store (%s build, SQLite %s, %zu-byte payloads)\n\n",
              CHORUS_BUILD_TYPE, sqlite3_libversion(), Payload(0).size());
  std::printf("| measurement | events | wall s | CPU s | events/s (wall) | goal |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | --- |\n");
  for (const AppendResult& a : appends) {
    const char* verdict =
        a.batch == 1 ? "-" : (a.EventsPerSecond() >= kGoalEventsPerSecond ? "met" : "MISSED");
    std::printf("| Append, batches of %d | %d | %.3f | %.3f | %.0f | %s |\n", a.batch, a.events,
                a.timing.wall_s, a.timing.cpu_s, a.EventsPerSecond(), verdict);
  }
  std::printf("| LoadEvents of one run | %d | %.3f | %.3f | %.0f | %s |\n\n", kLoadEvents,
              load.wall_s, load.cpu_s, kLoadEvents / load.wall_s,
              load.wall_s <= kGoalLoadSeconds ? "met" : "MISSED");
  std::printf(
      "| events table layout | page size | runs interleaved | append wall s | append CPU s | "
      "load wall s | load CPU s |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const LayoutResult& l : layouts) {
    std::printf("| %s | %d | %d | %.3f | %.3f | %.3f | %.3f |\n", l.layout.c_str(), l.page_size,
                l.runs, l.append.wall_s, l.append.cpu_s, l.load.wall_s, l.load.cpu_s);
  }

  nlohmann::json json;
  json["benchmark"] = "store";
  json["build_type"] = CHORUS_BUILD_TYPE;
  json["sqlite_version"] = sqlite3_libversion();
  json["payload_bytes"] = Payload(0).size();
  json["goal_batched_events_per_s"] = kGoalEventsPerSecond;
  json["goal_load_seconds"] = kGoalLoadSeconds;
  for (const AppendResult& a : appends) {
    json["append"].push_back({{"batch", a.batch},
                              {"events", a.events},
                              {"wall_s", a.timing.wall_s},
                              {"cpu_s", a.timing.cpu_s},
                              {"events_per_s", a.EventsPerSecond()}});
  }
  json["load"] = {{"events", kLoadEvents}, {"wall_s", load.wall_s}, {"cpu_s", load.cpu_s}};
  for (const LayoutResult& l : layouts) {
    json["layout"].push_back({{"layout", l.layout},
                              {"page_size", l.page_size},
                              {"runs_interleaved", l.runs},
                              {"events_per_run", kLoadEvents},
                              {"append_wall_s", l.append.wall_s},
                              {"append_cpu_s", l.append.cpu_s},
                              {"load_wall_s", l.load.wall_s},
                              {"load_cpu_s", l.load.cpu_s}});
  }
  std::filesystem::create_directories(std::filesystem::path(results_path).parent_path());
  std::ofstream(results_path) << json.dump(2) << "\n";
  std::printf("\nwrote %s\n", results_path.c_str());
  return 0;
}
