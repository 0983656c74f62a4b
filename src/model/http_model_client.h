// HttpModelClient: a ModelClient over an HttpTransport and a ChatProtocol (OpenAI or
// Anthropic). It enforces the endpoint's concurrency cap: at most config.concurrency requests
// are in flight; later ones wait in a FIFO and start, on the I/O thread, as slots free up.
//
// Thread-safety: Submit and pending may be called from any thread. Destroying the client does
// not cancel its requests: each still completes (or is cancelled by the transport's shutdown)
// and its callback still runs exactly once.
#pragma once

#include <memory>

#include "chorus/model_client.h"
#include "model/chat_decoder.h"
#include "model/http_transport.h"

namespace chorus {

class HttpModelClient final : public ModelClient {
 public:
  // `config.concurrency` must be at least 1.
  HttpModelClient(const EndpointConfig& config, std::shared_ptr<HttpTransport> transport,
                  std::unique_ptr<ChatProtocol> protocol);

  void Submit(ChatRequest request, Callback done) override;
  const EndpointConfig& config() const override;
  int64_t pending() const override;

 private:
  class Core;
  std::shared_ptr<Core> core_;  // shared with the callbacks of requests in flight
};

}  // namespace chorus
