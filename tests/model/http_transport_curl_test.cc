// The transport's libcurl path, reached on loopback through the proxy environment: a request
// for a non-loopback host with http_proxy set goes to libcurl, which sends it to the loopback
// server acting as the proxy. Both paths share the I/O thread and epoll set; these tests keep
// the libcurl side honest now that plain loopback URLs take the HTTP/1.1 client.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>

#include "model/http_transport.h"
#include "model/loopback_server.h"
#include "model/transport_fetch.h"

namespace chorus {
namespace {

using testing::Fetch;
using testing::LoopbackServer;
using testing::Outcome;
using testing::Post;
using testing::ReceivedRequest;
using testing::Reply;
using testing::Segment;
using testing::SimpleReply;
using testing::SubmitEchoes;

// Sets http_proxy for the test's lifetime, before any transport exists, and clears no_proxy.
class ProxyEnvironment {
 public:
  explicit ProxyEnvironment(const std::string& proxy_url) {
    setenv("http_proxy", proxy_url.c_str(), 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
  }
  ~ProxyEnvironment() { unsetenv("http_proxy"); }
};

constexpr const char* kUpstream = "http://chorus-upstream.invalid";

TEST(HttpTransportCurlPath, ProxiedRequestGoesThroughLibcurl) {
  LoopbackServer proxy([](const ReceivedRequest& r) {
    return SimpleReply(200, "application/json", r.body, 0, true, "X-Twice: 1\r\nX-Twice: 2\r\n");
  });
  ProxyEnvironment env(proxy.base_url());
  HttpTransport transport;
  Outcome o = Fetch(transport, Post(std::string(kUpstream) + "/v1/chat", "{\"a\":1}"));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.headers.at("x-twice"), "1, 2");
  EXPECT_EQ(o.body, "{\"a\":1}");
  auto received = proxy.received();
  ASSERT_EQ(received.size(), 1u);
  // Absolute-form: only a proxied request (libcurl's path) names the host in the target.
  EXPECT_EQ(received[0].target, std::string(kUpstream) + "/v1/chat");
  EXPECT_EQ(received[0].headers.count("expect"), 0u);
}

TEST(HttpTransportCurlPath, TimeoutAndAbortAndCutBody) {
  std::atomic<int> n{0};
  LoopbackServer proxy([&](const ReceivedRequest&) {
    switch (n.fetch_add(1)) {
      case 0:
        return Reply{{}, false, true};  // never answers
      case 1:
        return SimpleReply(200, "text/plain", std::string(10000, 'y'));
      default:
        return Reply{{Segment{0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"}}, true, false};
    }
  });
  ProxyEnvironment env(proxy.base_url());
  HttpTransport transport;
  HttpRequest slow = Post(std::string(kUpstream) + "/slow");
  slow.timeout_ms = 200;
  EXPECT_EQ(Fetch(transport, std::move(slow)).done.code(), StatusCode::kDeadlineExceeded);
  HttpRequest aborted = Post(std::string(kUpstream) + "/abort");
  aborted.on_data = [](std::string_view) { return false; };
  Outcome a = Fetch(transport, std::move(aborted));
  EXPECT_EQ(a.done.code(), StatusCode::kCancelled) << a.done.ToString();
  Outcome cut = Fetch(transport, Post(std::string(kUpstream) + "/cut"));
  EXPECT_EQ(cut.done.code(), StatusCode::kUnavailable) << cut.done.ToString();
  EXPECT_NE(cut.done.message().find(std::string(kUpstream) + "/cut"), std::string::npos);
}

TEST(HttpTransportCurlPath, BothPathsShareTheLoopConcurrently) {
  LoopbackServer server([](const ReceivedRequest& r) {
    return SimpleReply(200, "text/plain", r.body, /*delay_ms=*/50);
  });
  ProxyEnvironment env(server.base_url());
  HttpTransport transport;
  constexpr int kEach = 300;
  // Even requests go direct (loopback never uses the proxy), odd ones through libcurl.
  testing::EchoOutcome echoes = SubmitEchoes(
      transport, 2 * kEach,
      [&](int i) {
        return (i % 2 == 0 ? server.base_url() : std::string(kUpstream)) + "/" + std::to_string(i);
      },
      5000);
  ASSERT_TRUE(echoes.finished);
  EXPECT_EQ(echoes.ok, 2 * kEach);
  int absolute = 0;
  for (const ReceivedRequest& r : server.received()) absolute += r.target.starts_with("http://");
  EXPECT_EQ(absolute, kEach);
}

TEST(HttpTransportCurlPath, DestructionCancelsBothPaths) {
  LoopbackServer server([](const ReceivedRequest&) { return Reply{{}, false, true}; });
  ProxyEnvironment env(server.base_url());
  std::atomic<int> cancelled{0};
  std::atomic<int> other{0};
  {
    HttpTransport transport;
    for (int i = 0; i < 20; ++i) {
      HttpRequest request = Post((i % 2 ? std::string(kUpstream) : server.base_url()) + "/hang");
      request.timeout_ms = 0;
      request.on_done = [&](Status s) {
        (s.code() == StatusCode::kCancelled ? cancelled : other).fetch_add(1);
      };
      transport.Submit(std::move(request));
    }
    while (server.requests_seen() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(cancelled.load(), 20);
  EXPECT_EQ(other.load(), 0);
}

}  // namespace
}  // namespace chorus
