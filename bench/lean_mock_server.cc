// The least a chat-completions server can do: one thread, one epoll set, and every request
// answered with the same small JSON completion after a fixed delay, without parsing it. The
// fake LLM server (tests/support) parses every body, matches scripts and keeps records, and
// the node:http mock runs a JavaScript runtime; both take CPU from the two cores chorus runs
// on. fanout_bench runs chorus against this one with `--server lean`, to show how much of a
// run is chorus's own.
//
//   lean_mock_server [--port 0] [--latency-ms 200]
// Prints "listening on 127.0.0.1:PORT" once it accepts connections; binds loopback only.
// Understands HTTP/1.1 requests with Content-Length bodies and keeps connections alive.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <string>
#include <vector>

namespace {

constexpr char kBody[] =
    R"({"id":"chatcmpl-lean","object":"chat.completion","created":0,"model":"mock",)"
    R"("choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",)"
    // About as long as the node mock's answers (which quote 200 characters of the brief), so
    // that a fan-in has as much text to carry against either server.
    R"("content":"The lean mock's answer: a fixed sentence standing in for a model's reply, )"
    R"(long enough to weigh what a short real answer weighs when a synthesis carries )"
    R"(thousands of them into one prompt, and the same for every request."}}],)"
    R"("usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62}})";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Connection {
  std::string in;       // bytes of the request being read
  std::string out;      // bytes of answers not yet written
  uint32_t serial = 0;  // bumped when the descriptor is closed: queued answers for it lapse
  bool open = false;
};

struct Due {
  int64_t at_ms;
  int fd;
  uint32_t serial;
  bool operator>(const Due& o) const { return at_ms > o.at_ms; }
};

class Server {
 public:
  Server(int listener, int latency_ms) : listener_(listener), latency_ms_(latency_ms) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    Watch(listener_, EPOLLIN, EPOLL_CTL_ADD);
    response_ = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(sizeof kBody - 1) + "\r\n\r\n" + kBody;
  }

  void Run() {
    std::vector<epoll_event> events(1024);
    while (true) {
      int timeout = -1;
      if (!due_.empty())
        timeout = static_cast<int>(std::max<int64_t>(0, due_.top().at_ms - NowMs()));
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout);
      if (n < 0 && errno != EINTR) return;
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listener_) {
          Accept();
        } else {
          if (events[i].events & EPOLLOUT) Flush(fd);
          if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) Read(fd);
        }
      }
      for (const int64_t now = NowMs(); !due_.empty() && due_.top().at_ms <= now;) {
        Due d = due_.top();
        due_.pop();
        if (d.fd < static_cast<int>(conns_.size()) && conns_[d.fd].open &&
            conns_[d.fd].serial == d.serial) {
          conns_[d.fd].out += response_;
          Flush(d.fd);
        }
      }
    }
  }

 private:
  void Watch(int fd, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(epoll_, op, fd, &ev);
  }

  void Accept() {
    while (true) {
      int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN: taken them all; anything else: try at the next event
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (fd >= static_cast<int>(conns_.size())) conns_.resize(fd + 1024);
      Connection& c = conns_[fd];
      c.in.clear();
      c.out.clear();
      c.open = true;
      Watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    }
  }

  void Read(int fd) {
    Connection& c = conns_[fd];
    char buf[65536];
    while (c.open) {
      ssize_t got = read(fd, buf, sizeof buf);
      if (got > 0) {
        c.in.append(buf, static_cast<size_t>(got));
        continue;
      }
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      Close(fd);  // end of stream or an error
      return;
    }
    // Each complete request (head, then Content-Length bytes of body) is answered later.
    while (true) {
      const size_t head_end = c.in.find("\r\n\r\n");
      if (head_end == std::string::npos) return;
      size_t length = 0;
      for (size_t at = 0; at < head_end;) {
        size_t eol = c.in.find("\r\n", at);
        if (eol == std::string::npos || eol > head_end) eol = head_end;
        constexpr char kName[] = "content-length:";
        if (eol - at > sizeof kName - 1 &&
            strncasecmp(c.in.data() + at, kName, sizeof kName - 1) == 0) {
          length = std::strtoull(c.in.c_str() + at + sizeof kName - 1, nullptr, 10);
        }
        at = eol + 2;
      }
      const size_t whole = head_end + 4 + length;
      if (c.in.size() < whole) return;
      c.in.erase(0, whole);
      if (latency_ms_ == 0) {
        c.out += response_;
        Flush(fd);
        if (!c.open) return;
      } else {
        due_.push(Due{NowMs() + latency_ms_, fd, c.serial});
      }
    }
  }

  void Flush(int fd) {
    Connection& c = conns_[fd];
    while (!c.out.empty()) {
      ssize_t put = write(fd, c.out.data(), c.out.size());
      if (put < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          Watch(fd, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
          return;
        }
        Close(fd);
        return;
      }
      c.out.erase(0, static_cast<size_t>(put));
    }
    Watch(fd, EPOLLIN, EPOLL_CTL_MOD);
  }

  void Close(int fd) {
    Connection& c = conns_[fd];
    c.open = false;
    ++c.serial;
    c.in.clear();
    c.out.clear();
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
  }

  int listener_;
  int latency_ms_;
  int epoll_ = -1;
  std::string response_;
  std::vector<Connection> conns_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0, latency_ms = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      port = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--latency-ms") == 0) {
      latency_ms = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: lean_mock_server [--port 0] [--latency-ms 200]\n");
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // The system's maximum backlog, as the fake server's: a wide fan-out connects all at once.
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 65535) != 0) {
    std::perror("lean_mock_server: cannot listen");
    return 1;
  }
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::printf("listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
  std::fflush(stdout);
  Server(listener, latency_ms).Run();
  return 0;
}
