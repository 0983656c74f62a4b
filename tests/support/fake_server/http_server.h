// The fake LLM server's HTTP/1.1 transport: Boost.Beast request parsing and hand-written
// responses on one single-threaded Asio event loop. Every connection is a small state object
// and every latency a timer, so tens of thousands of concurrent connections cost no threads.
// Keep-alive is honoured; error answers close the connection, as llama.cpp's server does.
//
// Thread-safety: ServeHttp runs everything on the calling thread; `service` must not be used
// by any other thread meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <tl/expected.hpp>

#include "support/fake_server/service.h"

namespace chorus::fake {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port
};

// Listens, calls `on_listening` with the bound port, then serves until SIGTERM or SIGINT.
// Fails (before serving) when the address cannot be bound.
tl::expected<void, std::string> ServeHttp(const HttpServerOptions& options, Service& service,
                                          const std::function<void(uint16_t)>& on_listening);

}  // namespace chorus::fake
