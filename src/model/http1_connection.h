// The parts of Http1Client that its two source files share: a host's addresses and pool of
// idle connections, and one connection with the request it carries. Internal to the client.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/http1_client.h"
#include "model/http1_parser.h"

namespace chorus {

struct Http1Client::Host {
  struct Address {
    union {
      sockaddr sa;
      sockaddr_in in4;
      sockaddr_in6 in6;
    };
    socklen_t len;
  };
  std::vector<Address> addresses;
  std::vector<uint32_t> idle;  // slots of idle connections, most recently used last
};

enum class Http1Phase : uint8_t { kFree, kConnecting, kSending, kReceiving, kIdle };

// One connection and the request it carries. Idle connections keep only their descriptor.
struct Http1Client::Connection final : Http1ResponseParser::Receiver {
  void OnResponseHead(int status, const HttpHeaders& headers) override {
    if (request.on_headers) request.on_headers(status, headers);
  }
  bool OnResponseBody(std::string_view data) override {
    return !request.on_data || request.on_data(data);
  }

  uint32_t slot = 0;
  uint32_t generation = 0;  // bumped whenever the deadline changes: older heap entries lapse
  int fd = -1;
  uint32_t armed = 0;       // epoll events registered, 0 when not registered
  uint32_t address = 0;     // index of host->addresses being connected to
  uint32_t idle_index = 0;  // position in host->idle while idle
  Http1Phase phase = Http1Phase::kFree;
  bool reused = false;  // the request went out on a kept-alive connection
  bool retried = false;
  bool head_sent = false;
  bool nodelay = false;  // TCP_NODELAY set on fd (after a partial write)
  Host* host = nullptr;
  int64_t deadline_us = -1;          // the one in the heap: connect or whole-request deadline
  int64_t request_deadline_us = -1;  // from timeout_ms
  size_t body_sent = 0;
  std::string pending_head;  // the unsent rest of the head after a partial write
  HttpRequest request;
  // Made when the first byte of the response arrives: a request waiting for a slow server
  // (most of a wide fan-out's) holds none.
  std::unique_ptr<Http1ResponseParser> parser;

  Http1ResponseParser& Parser() {
    if (!parser) {
      parser = std::make_unique<Http1ResponseParser>();
      parser->Reset(request.method == "HEAD");
    }
    return *parser;
  }
};

}  // namespace chorus
