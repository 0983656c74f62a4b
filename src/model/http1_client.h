// Http1Client: HttpTransport's own HTTP/1.1 client for plain http:// URLs. It runs on the
// transport's I/O thread and epoll set, next to libcurl, and exists because libcurl's per-transfer
// cost (~15 KB of heap and much CPU) is too high for tens of thousands of concurrent requests.
//
// Per request it keeps the HttpRequest, a small connection object (recycled) and a parser that
// holds only a partial line between reads; bytes are read into one scratch buffer shared by all
// connections. Connections are kept alive and reused per host:port. Host names other than
// numeric addresses are resolved with getaddrinfo once per host and port and cached for the
// client's life: the first request to a new name blocks the I/O thread while it resolves.
//
// Thread-safety: none. Every method runs on the transport's I/O thread, and so do the requests'
// callbacks, with the semantics documented in http_transport.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/deadline_heap.h"
#include "model/http_transport.h"

namespace chorus {

class Http1Client {
 public:
  // `owners` is the transport's table of descriptor owners, indexed by descriptor: the client
  // marks its descriptors with `owner_tag` so that the transport dispatches their events here.
  // `active` is the transport's count of unfinished requests, decremented before each on_done.
  Http1Client(int epoll_fd, std::vector<uint32_t>* owners, uint32_t owner_tag,
              size_t max_idle_connections, std::atomic<int64_t>* active, int64_t idle_close_ms = 0);
  ~Http1Client();
  Http1Client(const Http1Client&) = delete;
  Http1Client& operator=(const Http1Client&) = delete;

  // Starts `request`, whose URL is http://. Its on_done may run before this returns.
  void Start(HttpRequest request);
  // An epoll event for one of the client's descriptors.
  void OnEvent(int fd, uint32_t events);
  // The earliest pending deadline (steady clock, microseconds), -1 when none: a request's, or
  // when idle connections are next due to close.
  int64_t NextDeadlineUs();
  void RunExpiredTimers(int64_t now_us);
  // Completes every request in flight with kCancelled.
  void CancelAll();
  size_t in_flight() const { return in_flight_; }
  // Request bodies released once sent, in bytes, since the client began.
  uint64_t released_body_bytes() const { return released_body_bytes_; }

 private:
  struct Connection;
  struct Host;

  Host* HostFor(std::string_view host, uint16_t port, std::string* error);
  Connection* NewConnection();
  void Connect(Connection* c);
  void OnConnectFailed(Connection* c, int error);
  void Send(Connection* c);
  void Receive(Connection* c);
  void OnConnectionLost(Connection* c, int error);
  bool RetryOnFreshConnection(Connection* c);
  void Complete(Connection* c, Status status, bool reusable);
  void Fail(HttpRequest request, Status status);
  void SetDeadline(Connection* c, int64_t at_us);
  void Arm(Connection* c, uint32_t events);
  // `unregister`: remove it from the epoll set first (false only when the set is going away).
  void Close(Connection* c, bool unregister = true);
  void KeepIdle(Connection* c);
  void OnIdleEvent(Connection* c);
  void Free(Connection* c);  // closes it and returns its slot
  void CloseOldestIdle(Host& host, size_t n);
  // Closes up to `count` idle connections, those idle longest first; how many it closed.
  size_t CloseIdle(size_t count);
  // A wide fan-out leaves thousands of idle connections: past the few kept per host, they are
  // closed once no request has started or ended for `idle_close_ms`,
  // a batch per round of the loop. So they close while the run waits for a synthesis, not all
  // at once when it ends. When they are next due to close, -1 when not.
  int64_t NextIdleCloseUs() const;
  void CloseLongIdle(int64_t now_us);
  std::string Where(const Connection& c) const;

  int epoll_fd_;
  std::vector<uint32_t>* owners_;
  uint32_t owner_tag_;
  size_t max_idle_;
  std::atomic<int64_t>* active_;
  int64_t idle_close_us_;         // 0: idle connections stay until capped or closed by the server
  int64_t last_activity_us_ = 0;  // when a request last started or ended
  static constexpr size_t kKeptIdlePerHost = 8;
  static constexpr size_t kIdleClosedPerRound = 256;

  std::vector<std::unique_ptr<Connection>> slots_;  // never shrinks: timers refer to slots
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> slot_by_fd_;                              // 1 + slot, or 0
  std::unordered_map<std::string, std::unique_ptr<Host>> hosts_;  // by "host:port"
  DeadlineHeap deadlines_;
  size_t in_flight_ = 0;
  size_t idle_ = 0;
  uint64_t released_body_bytes_ = 0;
  std::unique_ptr<char[]> scratch_;  // every read lands here first
  std::string head_;                 // the request head being written, reused
};

}  // namespace chorus
