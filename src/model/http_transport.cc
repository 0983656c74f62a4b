#include "model/http_transport.h"

#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "model/curl_client.h"
#include "model/deadline_heap.h"
#include "model/http1_client.h"
#include "model/http_url.h"

namespace chorus {
namespace {

// Owner values in the descriptor table: curl's shards take 1..CurlClient::kMaxOwner.
constexpr uint32_t kHttp1Owner = UINT32_MAX;

}  // namespace

// The I/O thread's loop and the request queue. The two clients do the HTTP; this only hands
// them requests, epoll events and timer expiries.
class HttpTransport::Impl {
 public:
  explicit Impl(const Options& options);
  ~Impl();

  void Submit(HttpRequest request);
  void RequestStop();
  void Run();

  std::atomic<int64_t> active{0};

 private:
  // Starts the queued requests; returns false once a stop was requested.
  bool DrainQueue();
  void Start(HttpRequest request);
  void CancelEverything();
  // Milliseconds until the earliest deadline of either client (rounded up), -1 when none.
  int EpollTimeoutMs();
  void ReleaseFreeMemoryAfterBurst();

  Options options_;
  Status init_error_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  std::mutex mu_;
  std::vector<HttpRequest> queue_;  // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  bool exited_ = false;             // guarded by mu_: the I/O thread no longer takes requests

  // I/O thread only.
  std::vector<uint32_t> registered_;    // by descriptor: its client's owner value, or 0
  std::unique_ptr<Http1Client> http1_;  // plain http://
  std::unique_ptr<CurlClient> curl_;    // everything else
  // Request-body bytes http1_ had released when the loop last handed free pages back.
  uint64_t released_at_last_trim_ = 0;
  static constexpr uint64_t kTrimAfterBodyBytes = 1 << 20;
};

HttpTransport::Impl::Impl(const Options& options) : options_(options) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    init_error_ = Status::ResourceExhausted(std::string("cannot create the HTTP transport: ") +
                                            std::strerror(errno));
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  http1_ =
      std::make_unique<Http1Client>(epoll_fd_, &registered_, kHttp1Owner,
                                    std::min(static_cast<size_t>(options.max_cached_connections),
                                             options.max_idle_plain_connections),
                                    &active, options.idle_close_ms);
  curl_ = std::make_unique<CurlClient>(epoll_fd_, &registered_, options.max_cached_connections,
                                       options.max_idle_handles, &active);
}

HttpTransport::Impl::~Impl() {
  // While the epoll descriptor is still open.
  http1_.reset();
  curl_.reset();
  for (int fd : {epoll_fd_, wake_fd_}) {
    if (fd >= 0) close(fd);
  }
}

int HttpTransport::Impl::EpollTimeoutMs() {
  int64_t earliest = http1_->NextDeadlineUs();
  int64_t curl = curl_->NextDeadlineUs();
  if (earliest < 0 || (curl >= 0 && curl < earliest)) earliest = curl;
  if (earliest < 0) return -1;
  int64_t wait_us = earliest - SteadyNowUs();
  if (wait_us <= 0) return 0;
  // Rounded up: waking before the deadline would only spin.
  return static_cast<int>(std::min<int64_t>((wait_us + 999) / 1000, 60'000));
}

void HttpTransport::Impl::Submit(HttpRequest request) {
  active.fetch_add(1, std::memory_order_relaxed);
  bool run_inline = !init_error_.ok();
  bool wake = false;
  if (!run_inline) {
    std::lock_guard<std::mutex> lock(mu_);
    if (exited_) {
      run_inline = true;
    } else {
      wake = queue_.empty();  // otherwise a wake-up is already pending
      queue_.push_back(std::move(request));
    }
  }
  if (run_inline) {
    active.fetch_sub(1, std::memory_order_relaxed);
    Status status = init_error_.ok()
                        ? Status::Cancelled(request.method + " " + RedactUrl(request.url) +
                                            ": the HTTP transport has shut down")
                        : init_error_;
    if (request.on_done) request.on_done(std::move(status));
    return;
  }
  if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }
}

void HttpTransport::Impl::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }
}

void HttpTransport::Impl::Run() {
  if (!init_error_.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    exited_ = true;
    return;
  }
  constexpr int kMaxEvents = 512;
  epoll_event events[kMaxEvents];
  bool running = true;
  while (running) {
    const int timeout_ms = EpollTimeoutMs();
    if (timeout_ms != 0) ReleaseFreeMemoryAfterBurst();
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // the epoll descriptor itself is broken: nothing can make progress
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof count);
        running = DrainQueue();  // after the read, so a concurrent Submit re-arms the wake-up
        continue;
      }
      uint32_t owner = static_cast<size_t>(fd) < registered_.size() ? registered_[fd] : 0;
      if (owner == 0) continue;  // removed earlier in this batch
      if (owner == kHttp1Owner) {
        http1_->OnEvent(fd, events[i].events);
      } else {
        curl_->OnEvent(fd, events[i].events, owner);
      }
    }
    int64_t now = SteadyNowUs();
    http1_->RunExpiredTimers(now);
    curl_->RunExpiredTimers(now);
    curl_->HarvestFinished();
  }
  CancelEverything();
}

void HttpTransport::Impl::ReleaseFreeMemoryAfterBurst() {
#ifdef __GLIBC__
  // A wide fan-out's bodies were built on the scheduler's thread, queued here, sent and freed,
  // between allocations that live on (each request's state): the holes they leave stay
  // resident while every agent waits for its answer, 5 MB after 10,000 requests. About to
  // sleep with at least kTrimAfterBodyBytes of bodies freed since the last time, the loop
  // hands the free pages back (one heap walk per megabyte sent, at most).
  const uint64_t released = http1_->released_body_bytes();
  if (released - released_at_last_trim_ < kTrimAfterBodyBytes) return;
  released_at_last_trim_ = released;
  malloc_trim(0);
#endif
}

bool HttpTransport::Impl::DrainQueue() {
  std::vector<HttpRequest> batch;
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(queue_);
    stopping = stopping_;
  }
  if (stopping) {
    // Put them back: CancelEverything answers them in submission order.
    std::lock_guard<std::mutex> lock(mu_);
    batch.insert(batch.end(), std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.end()));
    queue_.swap(batch);
    return false;
  }
  for (HttpRequest& request : batch) Start(std::move(request));
  return true;
}

void HttpTransport::Impl::Start(HttpRequest request) {
  if (UsesPlainHttpClient(request.url)) {
    http1_->Start(std::move(request));
  } else {
    curl_->Start(std::move(request));
  }
}

void HttpTransport::Impl::CancelEverything() {
  // Callbacks may submit more work while we cancel (a client starting its next queued request
  // when a slot frees up), so loop until both the queue and the live set stay empty.
  while (true) {
    std::vector<HttpRequest> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty() && http1_->in_flight() == 0 && curl_->in_flight() == 0) {
        exited_ = true;
        break;
      }
      batch.swap(queue_);
    }
    for (HttpRequest& r : batch) {
      active.fetch_sub(1, std::memory_order_relaxed);
      if (r.on_done) {
        r.on_done(Status::Cancelled(r.method + " " + RedactUrl(r.url) +
                                    ": cancelled, the HTTP transport is shutting down"));
      }
    }
    http1_->CancelAll();
    curl_->CancelAll();
  }
}

HttpTransport::HttpTransport() : HttpTransport(Options{}) {}

HttpTransport::HttpTransport(const Options& options) : impl_(std::make_shared<Impl>(options)) {
  thread_ = std::thread([impl = impl_] { impl->Run(); });
}

HttpTransport::~HttpTransport() {
  impl_->RequestStop();
  if (thread_.get_id() == std::this_thread::get_id()) {
    // Dropped from one of our own callbacks: the thread cannot join itself. It cancels what is
    // left after the callback returns and releases the shared state when it exits.
    thread_.detach();
  } else {
    thread_.join();
  }
}

void HttpTransport::Submit(HttpRequest request) { impl_->Submit(std::move(request)); }

int64_t HttpTransport::active() const { return impl_->active.load(std::memory_order_relaxed); }

std::shared_ptr<HttpTransport> MakeHttpTransport() { return std::make_shared<HttpTransport>(); }

}  // namespace chorus
