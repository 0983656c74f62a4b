// CurlClient: HttpTransport's libcurl path, for what the HTTP/1.1 client does not take
// (https://, hosts the proxy environment sends through a proxy, URLs with credentials, other
// schemes). It drives libcurl's multi socket interface from the transport's I/O thread and epoll
// set, spreading transfers over several multi handles ("shards") to keep per-request work
// bounded.
//
// Thread-safety: none. Every method runs on the transport's I/O thread, and so do the requests'
// callbacks, with the semantics documented in http_transport.h.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/http_transport.h"

namespace chorus {

class CurlClient {
 public:
  // `owners` is the transport's table of descriptor owners: the client marks its descriptors
  // with 1 + the index of their shard, and treats every other non-zero value as someone else's.
  // `active` is the transport's count of unfinished requests, decremented before each on_done.
  CurlClient(int epoll_fd, std::vector<uint32_t>* owners, long max_cached_connections,
             size_t max_idle_handles, std::atomic<int64_t>* active);
  ~CurlClient();
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  // Starts `request`. Its on_done may run before this returns.
  void Start(HttpRequest request);
  // An epoll event for one of the client's descriptors (its owner value is 1 + a shard index).
  void OnEvent(int fd, uint32_t events, uint32_t owner);
  // The earliest deadline any shard asked for (steady clock, microseconds), -1 when none.
  int64_t NextDeadlineUs() const;
  // Runs the shards' expired timers, then completes the finished transfers.
  void RunExpiredTimers(int64_t now_us);
  void HarvestFinished();
  // Completes every transfer in flight with kCancelled.
  void CancelAll();
  size_t in_flight() const { return live_.size(); }

  // The largest owner value a shard can take; higher ones belong to other clients.
  static constexpr uint32_t kMaxOwner = 1u << 30;

 private:
  struct Shard;
  struct Transfer;

  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* shard, void* socketp) noexcept;
  static int OnTimer(CURLM* multi, long timeout_ms, void* shard) noexcept;
  static size_t OnHeaderLine(char* data, size_t size, size_t count, void* t) noexcept;
  static size_t OnBody(char* data, size_t size, size_t count, void* t) noexcept;
  static void DeliverHeaders(Transfer* t);

  void Complete(Transfer* t, Status status);
  Status StatusFromCurl(const Transfer& t, CURLcode rc) const;
  Shard* ShardWithRoom();
  bool Owns(size_t fd) const {
    uint32_t owner = fd < owners_->size() ? (*owners_)[fd] : 0;
    return owner != 0 && owner <= kMaxOwner;
  }

  int epoll_fd_;
  std::vector<uint32_t>* owners_;
  long max_cached_connections_;
  size_t max_idle_handles_;
  std::atomic<int64_t>* active_;

  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<Transfer>> live_;
  std::vector<std::unique_ptr<Transfer>> idle_;
};

}  // namespace chorus
