// Service: the fake LLM server's behaviour behind its HTTP transport. Routes one parsed request
// to an Answer: the OpenAI and Anthropic chat endpoints (scripted replies and faults), /health,
// /v1/models, and the control endpoints /_requests, /_reset, /_stats and /_script.
// Records every non-control request in the RequestLog.
//
// Thread-safety: none. The transport calls it from its single I/O thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/fake_server/answer.h"
#include "support/fake_server/request_log.h"
#include "support/fake_server/script.h"

namespace chorus::fake {

struct HttpExchange {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // path and query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
};

struct ServiceOptions {
  int64_t latency_ms = 0;         // every scripted answer; a rule's latency_ms overrides it
  int64_t chunk_interval_ms = 0;  // between SSE events; a rule's chunk_interval_ms overrides it
  std::string api_key;            // non-empty: /v1/* needs "Bearer <key>" or x-api-key
  size_t keep_requests = 100000;  // records served by GET /_requests (the newest ones)
};

struct ServiceStats {
  int64_t requests = 0;  // API requests since start or /_reset
  int64_t in_flight = 0;
  int64_t max_in_flight = 0;
  int64_t connections = 0;
  int64_t max_connections = 0;
};

class Service {
 public:
  Service(ServiceOptions options, Script script);

  tl::expected<void, std::string> RecordTo(const std::string& path) { return log_.OpenFile(path); }

  Answer Handle(const HttpExchange& request);
  // The transport finished (or abandoned) a counted answer.
  void Finished() { --stats_.in_flight; }
  void ConnectionOpened();
  void ConnectionClosed() { --stats_.connections; }

 private:
  Answer HandleControl(const HttpExchange& request, const std::string& path);
  Answer HandleApi(const HttpExchange& request, const std::string& path, nlohmann::json& record);
  Answer HandleChat(const HttpExchange& request, const std::string& path,
                    const nlohmann::json& body, nlohmann::json& record);
  Answer Error(const std::string& path, int status, std::string_view message) const;
  bool Authorized(const HttpExchange& request) const;
  std::string RandomId(std::string_view prefix, size_t length);

  ServiceOptions options_;
  ScriptRunner runner_;
  RequestLog log_;
  ServiceStats stats_;
  int64_t seq_ = 0;
  std::mt19937_64 random_;
};

}  // namespace chorus::fake
