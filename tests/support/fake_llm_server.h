// FakeLlmServer: starts the fake_llm_server binary on an ephemeral loopback port for one test
// and talks to its control endpoints. See fake_server/script.h for the script format and
// fake_server/service.h for what the server answers.
//
//   auto server = chorus::test::FakeLlmServer::Start({.script = {{"default", {{"reply", "hi"}}}}});
//   ASSERT_TRUE(server) << server.error();
//   ... point a client at server->openai_base_url() ...
//   EXPECT_EQ(server->Requests().size(), 1u);
//
// The destructor stops the server (SIGTERM, SIGKILL after 2 s) and reaps it. The control calls
// (Requests, SetScript, Reset, Stats) are blocking loopback HTTP requests; they throw
// std::runtime_error when the server does not answer as expected, which fails the test with the
// reason. Thread-safety: the control calls are const-safe and may run from several threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "support/process.h"

namespace chorus::test {

class FakeLlmServer {
 public:
  struct Options {
    nlohmann::json script{};  // null: the server's default script (one canned reply)
    int latency_ms = 0;
    std::string api_key{};                  // non-empty: /v1/* require it (Bearer or x-api-key)
    std::vector<std::string> extra_args{};  // e.g. {"--record", path, "--chunk-interval-ms", "5"}
    std::chrono::milliseconds startup_timeout{10000};
  };

  // Spawns the server and waits until it listens. Fails with the server's stderr when it exits
  // or does not come up in time.
  static tl::expected<FakeLlmServer, std::string> Start(Options options);
  static tl::expected<FakeLlmServer, std::string> Start() { return Start(Options{}); }

  FakeLlmServer(FakeLlmServer&& other) noexcept;
  FakeLlmServer& operator=(FakeLlmServer&& other) noexcept;
  FakeLlmServer(const FakeLlmServer&) = delete;
  FakeLlmServer& operator=(const FakeLlmServer&) = delete;
  ~FakeLlmServer();

  int port() const { return port_; }
  pid_t pid() const { return process_.Pid(); }
  std::string openai_base_url() const;     // http://127.0.0.1:PORT/v1
  std::string anthropic_base_url() const;  // http://127.0.0.1:PORT

  // Every recorded request so far (GET /_requests): [{seq, method, path, headers, body, agent,
  // rule, fault, status, ts_ms}, ...].
  nlohmann::json Requests() const;
  // Replaces the script (POST /_script); rule counters restart.
  void SetScript(const nlohmann::json& script);
  // Clears the records, the rule counters and the request count (POST /_reset).
  void Reset();
  // {requests, in_flight, max_in_flight, connections, max_connections} (GET /_stats).
  nlohmann::json Stats() const;
  // Polls until at least `count` requests were recorded; false on timeout.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout) const;

  // Stops the server now (SIGTERM, then SIGKILL after 2 s) and returns how it ended.
  ExitStatus Stop();

 private:
  FakeLlmServer(Process process, int port, std::string temp_dir)
      : process_(std::move(process)), port_(port), temp_dir_(std::move(temp_dir)) {}

  // One blocking request with Connection: close; throws on a transport error or non-2xx.
  std::string Call(const std::string& method, const std::string& path,
                   const std::string& body) const;

  Process process_;
  int port_ = 0;
  std::string temp_dir_;  // holds the script file; removed by the destructor
};

}  // namespace chorus::test
