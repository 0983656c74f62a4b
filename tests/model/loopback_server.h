// LoopbackServer: a tiny raw-socket HTTP/1.1 server on 127.0.0.1 for transport and client
// tests. One thread, epoll, many connections. Each request is answered by a script with the
// exact bytes to write, split into segments with pauses between them, so tests can replay
// byte-exact recorded transcripts (chunked framing included), cut streams, send garbage or
// never answer. It counts connections and the peak number of requests in flight.
//
// Thread-safety: the accessors may be called from any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

namespace chorus::testing {

struct Segment {
  int delay_ms = 0;  // pause before writing these bytes
  std::string bytes;
};

struct Reply {
  std::vector<Segment> segments;
  bool close_after = true;    // close the connection after the last segment
  bool never_answer = false;  // keep the connection open and say nothing
};

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

using Script = std::function<Reply(const ReceivedRequest&)>;

// A complete response with Content-Length, written in one segment after `delay_ms`.
inline Reply SimpleReply(int status, std::string_view content_type, std::string_view body,
                         int delay_ms = 0, bool keep_alive = true,
                         std::string_view extra_headers = "") {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + std::string(content_type) +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra_headers) +
      (keep_alive ? "" : "Connection: close\r\n") + "\r\n" + std::string(body);
  return Reply{{Segment{delay_ms, std::move(out)}}, !keep_alive, false};
}

// `bytes` split into pieces of `piece` bytes with `pause_ms` before each one after the first.
inline Reply Trickle(std::string_view bytes, size_t piece, int pause_ms) {
  Reply reply;
  for (size_t i = 0; i < bytes.size(); i += piece) {
    reply.segments.push_back({i == 0 ? 0 : pause_ms, std::string(bytes.substr(i, piece))});
  }
  return reply;
}

class LoopbackServer {
 public:
  explicit LoopbackServer(Script script) : script_(std::move(script)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listen_fd_, 8192);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    Watch(listen_fd_);
    Watch(stop_fd_);
    thread_ = std::thread([this] { Loop(); });
  }

  ~LoopbackServer() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);
    thread_.join();
    for (auto& [fd, conn] : conns_) close(fd);
    close(listen_fd_);
    close(epoll_fd_);
    close(stop_fd_);
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections_accepted() const { return accepted_.load(); }
  // Accepted and not yet closed, by either side (a client's close is seen when read).
  int open_connections() const { return open_.load(); }
  int max_in_flight() const { return max_in_flight_.load(); }
  int requests_seen() const { return requests_.load(); }
  std::vector<ReceivedRequest> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Connection {
    std::string in;
    std::vector<Segment> out;
    size_t next_segment = 0;
    bool answering = false;
    bool close_after = false;
    uint64_t generation = 0;
  };

  struct Timer {
    TimePoint at;
    int fd;
    uint64_t generation;
    bool operator>(const Timer& o) const { return at > o.at; }
  };

  void Watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }

  void Loop() {
    std::vector<epoll_event> events(1024);
    while (true) {
      int timeout = -1;
      if (!timers_.empty()) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                        timers_.top().at - std::chrono::steady_clock::now())
                        .count();
        timeout = static_cast<int>(std::max<int64_t>(0, wait));
      }
      int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == stop_fd_) return;
        if (fd == listen_fd_) {
          Accept();
        } else {
          Read(fd);
        }
      }
      auto now = std::chrono::steady_clock::now();
      while (!timers_.empty() && timers_.top().at <= now) {
        Timer t = timers_.top();
        timers_.pop();
        auto it = conns_.find(t.fd);
        if (it != conns_.end() && it->second.generation == t.generation) WriteNext(t.fd);
      }
    }
  }

  void Accept() {
    while (true) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conns_[fd].generation = ++generation_;
      Watch(fd);
      accepted_.fetch_add(1);
      open_.fetch_add(1);
    }
  }

  void Read(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    char buffer[16384];
    while (true) {
      ssize_t got = recv(fd, buffer, sizeof buffer, 0);
      if (got > 0) {
        it->second.in.append(buffer, static_cast<size_t>(got));
        continue;
      }
      if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        Close(fd);
        return;
      }
      break;
    }
    MaybeDispatch(fd);
  }

  void MaybeDispatch(int fd) {
    Connection& c = conns_[fd];
    if (c.answering) return;
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    ReceivedRequest request;
    std::string head = c.in.substr(0, end);
    size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    size_t sp1 = first.find(' ');
    size_t sp2 = sp1 == std::string::npos ? sp1 : first.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) {  // not an HTTP request line
      Close(fd);
      return;
    }
    request.method = first.substr(0, sp1);
    request.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t eol = head.find("\r\n", pos);
      if (eol == std::string::npos) eol = head.size();
      std::string line = head.substr(pos, eol - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        size_t v = line.find_first_not_of(' ', colon + 1);
        request.headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = eol + 2;
    }
    size_t length = 0;
    if (auto cl = request.headers.find("content-length"); cl != request.headers.end()) {
      length = std::stoul(cl->second);
    }
    if (c.in.size() < end + 4 + length) return;
    request.body = c.in.substr(end + 4, length);
    c.in.erase(0, end + 4 + length);

    requests_.fetch_add(1);
    int now_in_flight = in_flight_.fetch_add(1) + 1;
    int peak = max_in_flight_.load();
    while (now_in_flight > peak && !max_in_flight_.compare_exchange_weak(peak, now_in_flight)) {
    }
    Reply reply = script_(request);
    {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(std::move(request));
    }
    c.answering = true;
    if (reply.never_answer) return;  // stays in flight until the client gives up
    c.out = std::move(reply.segments);
    c.next_segment = 0;
    c.close_after = reply.close_after;
    Schedule(fd);
  }

  void Schedule(int fd) {
    Connection& c = conns_[fd];
    if (c.next_segment >= c.out.size()) {
      c.answering = false;
      in_flight_.fetch_sub(1);
      if (c.close_after) {
        Close(fd);
      } else {
        MaybeDispatch(fd);
      }
      return;
    }
    auto at = std::chrono::steady_clock::now() +
              std::chrono::milliseconds(c.out[c.next_segment].delay_ms);
    timers_.push(Timer{at, fd, c.generation});
  }

  void WriteNext(int fd) {
    Connection& c = conns_[fd];
    const std::string& bytes = c.out[c.next_segment].bytes;
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd, POLLOUT, 0};
        poll(&p, 1, 1000);
      } else {
        Close(fd);
        return;
      }
    }
    ++c.next_segment;
    Schedule(fd);
  }

  void Close(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    if (it->second.answering) in_flight_.fetch_sub(1);
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns_.erase(it);
    open_.fetch_sub(1);
  }

  Script script_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::map<int, Connection> conns_;  // loop thread only
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t generation_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<int> open_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> received_;
};

}  // namespace chorus::testing
