#include "model/http1_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "model/http1_connection.h"
#include "model/http1_parser.h"
#include "model/http1_request.h"
#include "model/http_url.h"

namespace chorus {
namespace {

// One read buffer for every connection: a waiting request holds no buffer of its own.
constexpr size_t kScratchBytes = 64 * 1024;
constexpr int64_t kDefaultConnectTimeoutMs = 300'000;  // libcurl's, which callers expect
constexpr size_t kMaxAddressesPerHost = 8;
// Idle connections closed at once when a new one finds no descriptor left: a batch, so that
// a burst of new connections does not fail its way through them one at a time.
constexpr size_t kIdleClosedForRoom = 64;

}  // namespace

Http1Client::Http1Client(int epoll_fd, std::vector<uint32_t>* owners, uint32_t owner_tag,
                         size_t max_idle_connections, std::atomic<int64_t>* active,
                         int64_t idle_close_ms)
    : epoll_fd_(epoll_fd),
      owners_(owners),
      owner_tag_(owner_tag),
      max_idle_(max_idle_connections),
      active_(active),
      idle_close_us_(idle_close_ms * 1000),
      scratch_(std::make_unique<char[]>(kScratchBytes)) {}

Http1Client::~Http1Client() {
  // The epoll instance is closed right after this (HttpTransport), taking every registration
  // with it: one syscall per connection, not two (10,000 of them after a wide map).
  for (auto& c : slots_) Close(c.get(), /*unregister=*/false);
}

std::string Http1Client::Where(const Connection& c) const {
  return c.request.method + " " + RedactUrl(c.request.url) + ": ";
}

void Http1Client::Fail(HttpRequest request, Status status) {
  active_->fetch_sub(1, std::memory_order_relaxed);
  if (request.on_done) request.on_done(std::move(status));
}

void Http1Client::Start(HttpRequest request) {
  PlainHttpUrl url;
  std::string error;
  if (!ParsePlainHttpUrl(request.url, &url, &error)) {
    std::string where = request.method + " " + RedactUrl(request.url) + ": ";
    Fail(std::move(request), Status::InvalidArgument(where + error));
    return;
  }
  Host* host = HostFor(url.host, url.port, &error);
  if (host == nullptr) {
    std::string where = request.method + " " + RedactUrl(request.url) + ": ";
    Fail(std::move(request), Status::Unavailable(where + error));
    return;
  }
  Connection* c;
  if (!host->idle.empty()) {
    c = slots_[host->idle.back()].get();
    host->idle.pop_back();
    --idle_;
    c->reused = true;
  } else {
    c = NewConnection();
    c->host = host;
    c->reused = false;
  }
  ++in_flight_;
  c->request = std::move(request);
  c->retried = false;
  c->head_sent = false;
  c->body_sent = 0;
  c->address = 0;
  c->parser.reset();
  const int64_t now_us = SteadyNowUs();
  last_activity_us_ = now_us;
  c->request_deadline_us = c->request.timeout_ms > 0 ? now_us + c->request.timeout_ms * 1000 : -1;
  if (c->reused) {
    c->phase = Http1Phase::kSending;
    SetDeadline(c, c->request_deadline_us);
    Send(c);
  } else {
    Connect(c);
  }
}

Http1Client::Host* Http1Client::HostFor(std::string_view name, uint16_t port, std::string* error) {
  std::string key(name);
  key.push_back(':');
  key.append(std::to_string(port));
  if (auto it = hosts_.find(key); it != hosts_.end()) return it->second.get();

  auto host = std::make_unique<Host>();
  std::string name_z(name);
  Host::Address a{};
  if (inet_pton(AF_INET, name_z.c_str(), &a.in4.sin_addr) == 1) {
    a.in4.sin_family = AF_INET;
    a.in4.sin_port = htons(port);
    a.len = sizeof a.in4;
    host->addresses.push_back(a);
  } else if (inet_pton(AF_INET6, name_z.c_str(), &a.in6.sin6_addr) == 1) {
    a.in6.sin6_family = AF_INET6;
    a.in6.sin6_port = htons(port);
    a.len = sizeof a.in6;
    host->addresses.push_back(a);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(name_z.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) {
      // Not cached: a name that does not resolve now may resolve on the next request.
      *error = "cannot resolve host \"" + name_z + "\" (" + gai_strerror(rc) + ")";
      return nullptr;
    }
    for (addrinfo* ai = found; ai != nullptr && host->addresses.size() < kMaxAddressesPerHost;
         ai = ai->ai_next) {
      if (ai->ai_addrlen > sizeof(Host::Address::in6)) continue;
      Host::Address resolved{};
      std::memcpy(&resolved.sa, ai->ai_addr, ai->ai_addrlen);
      resolved.len = ai->ai_addrlen;
      host->addresses.push_back(resolved);
    }
    freeaddrinfo(found);
    if (host->addresses.empty()) {
      *error = "host \"" + name_z + "\" has no usable address";
      return nullptr;
    }
  }
  return hosts_.emplace(std::move(key), std::move(host)).first->second.get();
}

Http1Client::Connection* Http1Client::NewConnection() {
  if (!free_slots_.empty()) {
    Connection* c = slots_[free_slots_.back()].get();
    free_slots_.pop_back();
    return c;
  }
  slots_.push_back(std::make_unique<Connection>());
  slots_.back()->slot = static_cast<uint32_t>(slots_.size() - 1);
  return slots_.back().get();
}

void Http1Client::Connect(Connection* c) {
  const Host::Address& a = c->host->addresses[c->address];
  int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  // Idle connections are a cache: out of descriptors, some of them make room for this one.
  if (fd < 0 && (errno == EMFILE || errno == ENFILE) && CloseIdle(kIdleClosedForRoom) > 0) {
    fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) {
    int e = errno;
    Complete(c, Status::Unavailable(Where(*c) + "cannot open a socket (" + std::strerror(e) + ")"),
             false);
    return;
  }
  c->nodelay = false;
  auto index = static_cast<size_t>(fd);
  if (index >= slot_by_fd_.size()) slot_by_fd_.resize(index + 1024, 0);
  if (index >= owners_->size()) owners_->resize(index + 1024, 0);
  slot_by_fd_[index] = c->slot + 1;
  (*owners_)[index] = owner_tag_;
  c->fd = fd;
  c->armed = 0;

  if (connect(fd, &a.sa, a.len) == 0) {
    c->phase = Http1Phase::kSending;
    SetDeadline(c, c->request_deadline_us);
    Send(c);
    return;
  }
  if (errno != EINPROGRESS) {
    OnConnectFailed(c, errno);
    return;
  }
  c->phase = Http1Phase::kConnecting;
  int64_t ms =
      c->request.connect_timeout_ms > 0 ? c->request.connect_timeout_ms : kDefaultConnectTimeoutMs;
  int64_t at = SteadyNowUs() + ms * 1000;
  if (c->request_deadline_us >= 0) at = std::min(at, c->request_deadline_us);
  SetDeadline(c, at);
  // On loopback the handshake is over by the time connect() returns (it runs inline), yet
  // connect() still says EINPROGRESS. Writing at once sends the request now instead of after
  // an epoll round, and arms the socket once (for the answer) instead of twice; a handshake
  // still under way fails the write with EAGAIN, and the socket waits for EPOLLOUT (Send).
  Send(c);
}

void Http1Client::OnConnectFailed(Connection* c, int error) {
  Close(c);
  if (c->address + 1 < c->host->addresses.size()) {
    ++c->address;  // e.g. "localhost" is ::1 first, and the server listens on 127.0.0.1 only
    Connect(c);
    return;
  }
  Complete(c, Status::Unavailable(Where(*c) + "connection failed (" + std::strerror(error) + ")"),
           false);
}

void Http1Client::Send(Connection* c) {
  std::string_view head;
  if (!c->head_sent) {
    if (c->pending_head.empty()) {
      PlainHttpUrl url;
      std::string error;
      ParsePlainHttpUrl(c->request.url, &url, &error);  // parsed once already in Start
      BuildHead(c->request, url, &head_);
      head = head_;
    } else {
      head = c->pending_head;
    }
  }
  std::string_view body;
  if (SendsBody(c->request)) body = std::string_view(c->request.body).substr(c->body_sent);
  iovec iov[2];
  size_t count = 0;
  // The body goes out from the caller's string: it is never copied.
  if (!head.empty()) iov[count++] = {const_cast<char*>(head.data()), head.size()};
  if (!body.empty()) iov[count++] = {const_cast<char*>(body.data()), body.size()};
  msghdr message{};
  message.msg_iov = iov;
  message.msg_iovlen = count;
  ssize_t sent = count == 0 ? 0 : sendmsg(c->fd, &message, MSG_NOSIGNAL);
  if (c->phase == Http1Phase::kConnecting) {
    // The first write, tried before the handshake was known to be over (Connect).
    if (sent < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR) {
        Arm(c, EPOLLOUT);
      } else {
        OnConnectFailed(c, error);  // e.g. refused: the next address is tried, as after epoll
      }
      return;
    }
    c->phase = Http1Phase::kSending;
    SetDeadline(c, c->request_deadline_us);
  }
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      OnConnectionLost(c, errno);
      return;
    }
    sent = 0;
  }
  auto written = static_cast<size_t>(sent);
  if (!c->head_sent) {
    if (written >= head.size()) {
      written -= head.size();
      c->head_sent = true;
      std::string().swap(c->pending_head);
    } else if (c->pending_head.empty()) {
      c->pending_head.assign(head.substr(written));  // only a partial write keeps a copy
      written = 0;
    } else {
      c->pending_head.erase(0, written);
      written = 0;
    }
  }
  c->body_sent += written;
  if (c->head_sent && written == body.size()) {
    c->phase = Http1Phase::kReceiving;
    if (!c->reused) {
      // Sent, and never sent again (only a reused connection retries): a request waiting on
      // a slow server should not hold its prompt, often its largest part, meanwhile.
      released_body_bytes_ += c->request.body.capacity();
      std::string().swap(c->request.body);
      std::vector<std::string>().swap(c->request.headers);
    }
    Arm(c, EPOLLIN);
  } else {
    // A request goes out in one write, which Nagle's algorithm never holds back (Linux holds
    // a small segment only while an earlier small one is unacknowledged). What is left after
    // a partial write goes out in pieces: from here on, without waiting for acknowledgements.
    if (!c->nodelay) {
      int one = 1;
      setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c->nodelay = true;
    }
    // Reading too: a server may answer (and close) before taking the whole body.
    Arm(c, EPOLLIN | EPOLLOUT);
  }
}

void Http1Client::Receive(Connection* c) {
  // Level-triggered: what is left after a few reads comes back with the next epoll_wait, so
  // one busy connection cannot starve the others.
  for (int round = 0; round < 4; ++round) {
    ssize_t n = recv(c->fd, scratch_.get(), kScratchBytes, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      OnConnectionLost(c, errno);
      return;
    }
    if (n == 0) {
      OnConnectionLost(c, 0);
      return;
    }
    auto got = static_cast<size_t>(n);
    size_t consumed = 0;
    switch (c->Parser().Feed(std::string_view(scratch_.get(), got), *c, &consumed)) {
      case Http1ResponseParser::Progress::kNeedMore:
        if (got < kScratchBytes) return;
        continue;
      case Http1ResponseParser::Progress::kComplete:
        // Bytes past the response, or a request still being sent, leave the connection in a
        // state no later request could make sense of.
        Complete(c, Status::Ok(),
                 c->parser->keep_alive() && consumed == got && c->phase == Http1Phase::kReceiving);
        return;
      case Http1ResponseParser::Progress::kAborted:
        Complete(c, Status::Cancelled(Where(*c) + "aborted by the receiver"), false);
        return;
      case Http1ResponseParser::Progress::kError:
        Complete(c, Status::Unavailable(Where(*c) + c->parser->error()), false);
        return;
    }
  }
}

void Http1Client::OnConnectionLost(Connection* c, int error) {
  if (RetryOnFreshConnection(c)) return;
  bool complete = c->Parser().Finish() == Http1ResponseParser::Progress::kComplete;
  if (error == 0 && complete) {
    Complete(c, Status::Ok(), false);
    return;
  }
  std::string what = Where(*c);
  if (error != 0) {
    what += std::string("the connection failed (") + std::strerror(error) + ")";
    if (!complete) what += ": ";
  }
  if (!complete) what += c->parser->error();
  Complete(c, Status::Unavailable(std::move(what)), false);
}

bool Http1Client::RetryOnFreshConnection(Connection* c) {
  // A kept-alive connection the server closed while it was idle fails without a byte of
  // response; the request never reached the application, so one more try is safe.
  if (!c->reused || c->retried || (c->parser && c->parser->started())) return false;
  Close(c);
  c->reused = false;
  c->retried = true;
  c->head_sent = false;
  c->body_sent = 0;
  std::string().swap(c->pending_head);
  c->address = 0;
  c->parser.reset();
  Connect(c);
  return true;
}

void Http1Client::Complete(Connection* c, Status status, bool reusable) {
  ++c->generation;
  c->deadline_us = -1;
  auto on_done = std::move(c->request.on_done);
  c->request = HttpRequest{};
  c->parser.reset();
  std::string().swap(c->pending_head);
  --in_flight_;
  last_activity_us_ = SteadyNowUs();
  if (reusable && idle_ < max_idle_) {
    KeepIdle(c);
  } else {
    Free(c);
  }
  active_->fetch_sub(1, std::memory_order_relaxed);
  if (on_done) on_done(std::move(status));
}

void Http1Client::Free(Connection* c) {
  Close(c);
  c->phase = Http1Phase::kFree;
  c->host = nullptr;
  free_slots_.push_back(c->slot);
}

void Http1Client::OnEvent(int fd, uint32_t events) {
  uint32_t slot = static_cast<size_t>(fd) < slot_by_fd_.size() ? slot_by_fd_[fd] : 0;
  if (slot == 0) return;
  Connection* c = slots_[slot - 1].get();
  switch (c->phase) {
    case Http1Phase::kIdle:
      OnIdleEvent(c);
      return;
    case Http1Phase::kConnecting: {
      if (events & (EPOLLERR | EPOLLHUP)) {
        int error = 0;
        socklen_t len = sizeof error;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
        // A failed connect always leaves its error. Without one the event is stale: it was
        // meant for an idle connection that CloseIdle closed earlier in this epoll batch,
        // whose descriptor number this new socket got; the connect deadline still holds.
        if (error == 0 && (events & EPOLLOUT) == 0) return;
        OnConnectFailed(c, error != 0 ? error : ECONNRESET);
        return;
      }
      // Writable without an error: the connection is established.
      if ((events & EPOLLOUT) == 0) return;
      c->phase = Http1Phase::kSending;
      SetDeadline(c, c->request_deadline_us);
      Send(c);
      return;
    }
    case Http1Phase::kSending:
      if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        Receive(c);  // first: the server may have answered early, or reset the connection
        if (c->phase != Http1Phase::kSending) return;
      }
      if (events & EPOLLOUT) Send(c);
      return;
    case Http1Phase::kReceiving:
      Receive(c);
      return;
    case Http1Phase::kFree:
      return;
  }
}

void Http1Client::SetDeadline(Connection* c, int64_t at_us) {
  if (at_us == c->deadline_us) return;
  ++c->generation;
  c->deadline_us = at_us;
  if (at_us < 0) return;
  deadlines_.Push(
      {at_us, c->slot, c->generation},
      [this](const DeadlineHeap::Entry& e) { return slots_[e.slot]->generation == e.generation; },
      in_flight_);
}

int64_t Http1Client::NextDeadlineUs() {
  const DeadlineHeap::Entry* top = deadlines_.Top(
      [this](const DeadlineHeap::Entry& e) { return slots_[e.slot]->generation == e.generation; });
  const int64_t request = top == nullptr ? -1 : top->at_us;
  const int64_t idle = NextIdleCloseUs();
  if (request < 0 || (idle >= 0 && idle < request)) return idle;
  return request;
}

void Http1Client::RunExpiredTimers(int64_t now_us) {
  auto is_current = [this](const DeadlineHeap::Entry& e) {
    return slots_[e.slot]->generation == e.generation;
  };
  while (const DeadlineHeap::Entry* top = deadlines_.Top(is_current)) {
    if (top->at_us > now_us) break;
    Connection* c = slots_[top->slot].get();
    deadlines_.Pop();
    bool whole = c->request_deadline_us >= 0 && now_us >= c->request_deadline_us;
    std::string what =
        whole ? "timed out after " + std::to_string(c->request.timeout_ms) + " ms"
              : "timed out connecting after " +
                    std::to_string(c->request.connect_timeout_ms > 0 ? c->request.connect_timeout_ms
                                                                     : kDefaultConnectTimeoutMs) +
                    " ms";
    Complete(c, Status::DeadlineExceeded(Where(*c) + what), false);
  }
  CloseLongIdle(now_us);
}

void Http1Client::CancelAll() {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Connection* c = slots_[i].get();
    if (c->phase == Http1Phase::kConnecting || c->phase == Http1Phase::kSending ||
        c->phase == Http1Phase::kReceiving) {
      Complete(c, Status::Cancelled(Where(*c) + "cancelled, the HTTP transport is shutting down"),
               false);
    }
  }
}

void Http1Client::Arm(Connection* c, uint32_t events) {
  if (c->armed == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = c->fd;
  epoll_ctl(epoll_fd_, c->armed == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
  c->armed = events;
}

void Http1Client::Close(Connection* c, bool unregister) {
  if (c->fd < 0) return;
  // Removed explicitly: a descriptor inherited by a child between fork and exec would
  // otherwise keep the registration alive after close.
  if (unregister && c->armed != 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
  auto index = static_cast<size_t>(c->fd);
  slot_by_fd_[index] = 0;
  if (index < owners_->size() && (*owners_)[index] == owner_tag_) (*owners_)[index] = 0;
  c->fd = -1;
  c->armed = 0;
}

}  // namespace chorus
