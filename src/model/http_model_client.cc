#include "model/http_model_client.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <utility>

#include "chorus/clock.h"

namespace chorus {

class HttpModelClient::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(const EndpointConfig& config, std::shared_ptr<HttpTransport> transport,
       std::unique_ptr<ChatProtocol> protocol)
      : config_(config), transport_(std::move(transport)), protocol_(std::move(protocol)) {}

  void Submit(ChatRequest request, Callback done) {
    pending_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_ >= config_.concurrency) {
        waiting_.push_back(Waiting{std::move(request), std::move(done)});
        return;
      }
      ++in_flight_;
    }
    Start(std::move(request), std::move(done));
  }

  const EndpointConfig& config() const { return config_; }
  int64_t pending() const { return pending_.load(std::memory_order_relaxed); }

 private:
  struct Waiting {
    ChatRequest request;
    Callback done;
  };

  // One request on the wire. Owned by the transport callbacks; freed in on_done, which the
  // transport calls exactly once. The callbacks capture only this pointer, so they fit
  // std::function's inline storage and cost no allocation.
  struct Call {
    std::shared_ptr<Core> core;
    Callback done;
    int64_t started_us = 0;
    int64_t prompt_bytes = 0;
    // Made when the response begins: a request that waits (most of them, in a wide fan-out)
    // holds no decoder.
    std::unique_ptr<ChatDecoder> decoder;

    ChatDecoder& Decoder() {
      if (!decoder) decoder = core->protocol_->NewDecoder(prompt_bytes);
      return *decoder;
    }
  };

  void Start(ChatRequest request, Callback done) {
    auto* call = new Call{shared_from_this(), std::move(done), SystemClock().MonotonicUs(),
                          PromptBytes(request), nullptr};
    HttpRequest http;
    protocol_->Encode(request, http);
    http.timeout_ms = config_.timeout_ms;
    http.connect_timeout_ms = config_.connect_timeout_ms;
    http.on_headers = [call](int status, const HttpHeaders& headers) {
      call->Decoder().OnHeaders(status, headers);
    };
    http.on_data = [call](std::string_view data) { return call->Decoder().OnData(data); };
    http.on_done = [call](Status status) { Core::Finish(call, status); };
    transport_->Submit(std::move(http));
  }

  static void Finish(Call* raw, const Status& transport_status) {
    std::unique_ptr<Call> call(raw);
    ChatResult result = call->Decoder().Finish(transport_status);
    if (result) result->latency_ms = (SystemClock().MonotonicUs() - call->started_us) / 1000;
    std::shared_ptr<Core> core = std::move(call->core);
    Callback done = std::move(call->done);
    call.reset();
    core->ReleaseSlot();
    core->pending_.fetch_sub(1, std::memory_order_relaxed);
    done(std::move(result));
  }

  // Hands the finished request's slot to the oldest waiting request, if any.
  void ReleaseSlot() {
    std::optional<Waiting> next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (waiting_.empty()) {
        --in_flight_;
        return;
      }
      next.emplace(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    Start(std::move(next->request), std::move(next->done));
  }

  const EndpointConfig config_;
  const std::shared_ptr<HttpTransport> transport_;
  const std::unique_ptr<ChatProtocol> protocol_;
  std::atomic<int64_t> pending_{0};
  std::mutex mu_;
  int in_flight_ = 0;            // guarded by mu_
  std::deque<Waiting> waiting_;  // guarded by mu_
};

HttpModelClient::HttpModelClient(const EndpointConfig& config,
                                 std::shared_ptr<HttpTransport> transport,
                                 std::unique_ptr<ChatProtocol> protocol)
    : core_(std::make_shared<Core>(config, std::move(transport), std::move(protocol))) {}

void HttpModelClient::Submit(ChatRequest request, Callback done) {
  core_->Submit(std::move(request), std::move(done));
}

const EndpointConfig& HttpModelClient::config() const { return core_->config(); }

int64_t HttpModelClient::pending() const { return core_->pending(); }

}  // namespace chorus
