// ModelClient: one model endpoint (OpenAI-compatible, Anthropic Messages, or the built-in
// offline model) that answers chat requests asynchronously.
//
// Thread-safety: Submit() may be called from any thread. The completion callback runs exactly
// once, on the transport's I/O thread (offline: on the calling thread, before Submit returns),
// and must not block: the runtime only posts the result to its scheduler queue.
// All HTTP clients created from one HttpTransport share a single I/O thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chorus/status.h"

namespace chorus {

enum class Provider { kOpenAI, kAnthropic, kOffline };

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  int max_tokens = 0;  // 0: the endpoint's default
  std::optional<double> temperature;
  bool json_output = false;     // ask for a JSON object (OpenAI response_format json_object)
  std::string idempotency_key;  // "<run>/<step path>/<attempt>", sent as Idempotency-Key
  std::string agent;            // sent as X-Chorus-Agent (logs, test scripting)
  // The structured brief behind the messages (DelegationBrief::ToJson()). HTTP clients ignore
  // it; the offline model answers from it.
  nlohmann::json brief;
};

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost_usd = 0.0;

  Usage& operator+=(const Usage& o) {
    input_tokens += o.input_tokens;
    output_tokens += o.output_tokens;
    cost_usd += o.cost_usd;
    return *this;
  }
};

struct ChatResponse {
  std::string text;
  std::string finish_reason;  // "stop", "length", ...
  std::string model;          // as reported by the server
  Usage usage;
  bool usage_estimated = false;  // the server reported no usage; tokens were estimated
  int64_t latency_ms = 0;        // from sending the request to the last byte
};

// A failed request: the status (transient or not), and what the server said.
struct ModelError {
  Status status;
  int http_status = 0;                    // 0 when no HTTP response was received
  std::optional<int64_t> retry_after_ms;  // from Retry-After / retry-after-ms
  bool transient() const { return status.transient(); }
};

using ChatResult = tl::expected<ChatResponse, ModelError>;

struct Price {
  double input_per_mtok = 0.0;
  double output_per_mtok = 0.0;
};

struct EndpointConfig {
  std::string name;  // the team file's key for this model, e.g. "fast"
  Provider provider = Provider::kOffline;
  std::string base_url;     // e.g. https://api.openai.com/v1 ; Anthropic: https://api.anthropic.com
  std::string model;        // the provider's model id
  std::string api_key_env;  // name of the environment variable holding the key (never the key)
  bool stream = true;       // use SSE streaming
  int concurrency = 64;     // requests in flight on this endpoint; more wait in a queue
  // The endpoint's shared budget (every agent of a run queues on it) and circuit breaker.
  int64_t rpm = 0;                       // requests per limit window; 0: unlimited
  int64_t tpm = 0;                       // tokens (prompt + max_tokens) per limit window; 0: none
  int64_t limit_window_ms = 60000;       // the rpm/tpm window
  int circuit_failures = 5;              // consecutive failures that open the circuit; 0: never
  int64_t circuit_cool_down_ms = 30000;  // open -> half-open (one probe request)
  int64_t timeout_ms = 120000;                 // whole request
  int64_t connect_timeout_ms = 10000;          // TCP + TLS connect
  int max_tokens = 4096;                       // default for requests that do not set one
  int64_t context_window = 0;                  // tokens; 0: unknown
  std::string tokenizer;  // "cl100k_base", "o200k_base", "estimate"; "": guessed from `model`
  std::optional<Price> price;                  // overrides the built-in price table
  std::string locality = "cloud";              // "local" or "cloud"
  std::map<std::string, std::string> headers;  // extra request headers (no secrets here)
};

class ModelClient {
 public:
  using Callback = std::function<void(ChatResult)>;
  virtual ~ModelClient() = default;
  virtual void Submit(ChatRequest request, Callback done) = 0;
  virtual const EndpointConfig& config() const = 0;
  // Requests accepted but not yet answered (queued + in flight).
  virtual int64_t pending() const = 0;
  // True when Submit computes the answer inside this process, deterministically and with no
  // effect outside it (the offline model). Such a request need not be committed to the store
  // before it is sent: a resumed run that lacks its record computes the same answer again. So
  // the scheduler may group many of them into one transaction. Anything that talks to the
  // outside world must leave this false.
  virtual bool answers_in_process() const { return false; }
};

// The shared HTTP engine: one I/O thread driving all transfers (our own HTTP/1.1 client for
// plain http://, libcurl's multi interface for https:// and proxied hosts).
// Destroying it cancels what is in flight (callbacks get kCancelled) and joins the thread.
class HttpTransport;
std::shared_ptr<HttpTransport> MakeHttpTransport();

// Builds the client for `config`. HTTP providers need `transport`; offline ignores it.
// Fails when the configuration is unusable (unknown provider, missing base_url, an
// api_key_env that is not set in the environment).
Result<std::unique_ptr<ModelClient>> MakeModelClient(const EndpointConfig& config,
                                                     std::shared_ptr<HttpTransport> transport);

// USD for `usage` on `config`: its explicit price, else the built-in table by model id, else 0.
double CostUsd(const EndpointConfig& config, int64_t input_tokens, int64_t output_tokens);
// Whether CostUsd knows a price for this endpoint.
bool HasPrice(const EndpointConfig& config);

}  // namespace chorus
