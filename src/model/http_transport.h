// HttpTransport: the process's HTTP client engine. One I/O thread and one epoll set drive every
// transfer, through one of two paths chosen per request:
//  - plain http:// URLs go to a lean HTTP/1.1 client of our own (http1_client.h): keep-alive
//    connections per host:port, a few hundred bytes of state per waiting request, so tens of
//    thousands of concurrent requests are cheap;
//  - https://, hosts that the proxy environment (http_proxy, HTTP_PROXY, all_proxy, ALL_PROXY,
//    minus no_proxy/NO_PROXY; never for loopback) sends through a proxy, URLs with
//    user:password@ and other schemes go to libcurl's multi interface.
// Both paths give the same callbacks, statuses and error messages described below. The plain
// path resolves a host name with getaddrinfo on the I/O thread the first time it is used (then
// caches it for the transport's life): the first request to a slow-to-resolve name stalls the
// other transfers while it resolves; numeric addresses never do.
//
// Thread-safety: Submit() may be called from any thread, including from inside a callback. The
// callbacks of a request run on the I/O thread, in order on_headers -> on_data* -> on_done, and
// must neither block nor throw. on_done runs exactly once per submitted request. Destroying the
// transport cancels whatever is queued or in flight (on_done gets kCancelled) and joins the
// thread; when the last reference is dropped on the I/O thread itself the thread finishes the
// cancellation on its own and exits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chorus/model_client.h"
#include "chorus/status.h"

namespace chorus {

// Response headers, names lower-cased; repeated headers are joined with ", ".
using HttpHeaders = std::map<std::string, std::string, std::less<>>;

struct HttpRequest {
  std::string url;
  std::string method = "POST";  // a body is sent for every method when non-empty
  // Complete header lines, "Name: value". No "Expect: 100-continue" is ever sent, so large
  // bodies are not delayed by a round trip; Content-Length is always the transport's.
  std::vector<std::string> headers;
  std::string body;
  int64_t timeout_ms = 0;          // the whole transfer; 0: none
  int64_t connect_timeout_ms = 0;  // 0: 300 s (libcurl's default)

  // Once per request with the final (non-1xx) status, before any body byte. Not called when no
  // response arrived.
  std::function<void(int status, const HttpHeaders& headers)> on_headers;
  // Body bytes as they arrive (chunked framing removed). Returning false aborts the transfer
  // and on_done receives kCancelled.
  std::function<bool(std::string_view data)> on_data;
  // OK when a complete response was received, whatever its HTTP status. Otherwise the transport
  // failure, naming the URL: kUnavailable (connection refused or reset, DNS, TLS, cut body),
  // kDeadlineExceeded (timeout), kCancelled (aborted by on_data or by the transport's
  // destruction), kInvalidArgument (malformed URL or unsupported scheme).
  std::function<void(Status status)> on_done;
};

class HttpTransport {
 public:
  struct Options {
    // Idle connections kept for reuse (by each path). Must exceed the peak number of concurrent
    // transfers, or connections are closed instead of reused when load drops and re-opened when it
    // rises.
    long max_cached_connections = 1L << 17;
    // Plain HTTP: idle connections kept at most; past this many, connections close as their
    // answers arrive. A map running in waves (more items than its concurrency) then reuses
    // the previous wave's connections instead of opening new ones: 100,000 agents 16,000 at a
    // time opened 84,000 connections with a cap of 1,024, and 16,000 with this one, in half
    // the time (the kernel's search for a free ephemeral port grows with the sockets left in
    // TIME_WAIT). When descriptors run out, idle connections are closed to make room.
    size_t max_idle_plain_connections = 1 << 16;
    // Plain HTTP: past 8 per host, idle connections close once no request has started or
    // ended for this long; 0 keeps them. A wide map's thousands of connections then close
    // while its synthesis is out, instead of on the run's way out (10 ms per 1,000 on this
    // project's machine), and a server is not left holding them.
    int64_t idle_close_ms = 100;
    // Easy handles kept for reuse after their transfer ends (saves an allocation per request).
    size_t max_idle_handles = 4096;
  };

  HttpTransport();
  explicit HttpTransport(const Options& options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  void Submit(HttpRequest request);

  // Transfers submitted and not yet done (queued for the I/O thread or in flight).
  int64_t active() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with the I/O thread, which may outlive this object
  std::thread thread_;
};

// `url` as it may appear in messages and logs: user:password@ and the query string (either may
// carry a credential) are replaced by "***".
std::string RedactUrl(std::string_view url);

}  // namespace chorus
