// The transport's own HTTP/1.1 client (plain http:// URLs) against a real server on loopback:
// framing, errors, timeouts and connection reuse, byte-exact.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>

#include "model/http_transport.h"
#include "model/loopback_server.h"
#include "model/transport_fetch.h"
#include "support/eventually.h"

namespace chorus {
namespace {

using testing::Eventually;
using testing::Fetch;
using testing::Get;
using testing::LoopbackServer;
using testing::Outcome;
using testing::RaiseDescriptorLimit;
using testing::ReceivedRequest;
using testing::Reply;
using testing::Segment;
using testing::SimpleReply;
using testing::SubmitEchoes;
using testing::Trickle;

// A reply of raw bytes, keeping the connection open unless `close_after`.
Reply Raw(std::string bytes, bool close_after = false) {
  return Reply{{Segment{0, std::move(bytes)}}, close_after, false};
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Http1Client, ChunkedBodyWithExtensionsAndTrailersArrivingByteByByte) {
  std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "7;ext=1\r\ndata: a\r\n"
      "8\r\n\n\ndata: \r\n"
      "1\r\nb\r\n"
      "0\r\nX-Trailer: t\r\n\r\n";
  LoopbackServer server([&](const ReceivedRequest&) {
    Reply reply = Trickle(wire, 1, 1);
    reply.close_after = false;
    return reply;
  });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/stream"));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.heads, 1);
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.headers.at("content-type"), "text/event-stream");
  EXPECT_EQ(o.body, "data: a\n\ndata: b");
  // The complete chunked response leaves the connection reusable.
  ASSERT_TRUE(Fetch(transport, Get(server.base_url() + "/again")).done.ok());
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(Http1Client, ContentLengthBodyAndRequestFraming) {
  LoopbackServer server([](const ReceivedRequest& r) {
    return SimpleReply(200, "text/plain", r.method + " " + r.target + " " + r.body);
  });
  HttpTransport transport;
  HttpRequest request = Get(server.base_url() + "/v1/models?limit=2#fragment");
  request.method = "POST";
  request.body = "payload";
  request.headers = {"Content-Type: text/plain", "Expect: 100-continue", "X-Removed:", "X-Empty;"};
  Outcome o = Fetch(transport, std::move(request));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.body, "POST /v1/models?limit=2 payload");
  auto received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].headers.at("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(received[0].headers.at("content-length"), "7");
  EXPECT_EQ(received[0].headers.count("expect"), 0u);
  EXPECT_EQ(received[0].headers.count("x-removed"), 0u);
  EXPECT_EQ(received[0].headers.at("x-empty"), "");
}

TEST(Http1Client, BodyWithoutLengthIsReadUntilTheServerCloses) {
  LoopbackServer server([](const ReceivedRequest&) {
    return Reply{{Segment{0, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst "},
                  Segment{20, "second"}},
                 true,
                 false};
  });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/"));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.body, "first second");
}

TEST(Http1Client, InterimResponsesAreSkipped) {
  LoopbackServer server([](const ReceivedRequest&) {
    return Raw(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Interim: yes\r\n\r\n"
        "HTTP/1.1 202 Accepted\r\nContent-Length: 4\r\n\r\ndone");
  });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/"));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.heads, 1);
  EXPECT_EQ(o.status, 202);
  EXPECT_EQ(o.headers.count("x-interim"), 0u);
  EXPECT_EQ(o.body, "done");
}

TEST(Http1Client, FoldedAndRepeatedHeaders) {
  LoopbackServer server([](const ReceivedRequest&) {
    return Raw(
        "HTTP/1.1 200 OK\r\nSet-Thing: a\r\nX-Long: part one\r\n  part two\r\n"
        "SET-THING: b\r\nContent-Length: 0\r\n\r\n");
  });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/"));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.headers.at("set-thing"), "a, b");
  EXPECT_EQ(o.headers.at("x-long"), "part one part two");
}

TEST(Http1Client, HeadRequestHasNoBodyAndKeepsTheConnection) {
  LoopbackServer server([](const ReceivedRequest& r) {
    if (r.method == "HEAD") return Raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    return SimpleReply(200, "text/plain", "after head");
  });
  HttpTransport transport;
  HttpRequest request = Get(server.base_url() + "/");
  request.method = "HEAD";
  Outcome o = Fetch(transport, std::move(request));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.headers.at("content-length"), "1000");
  EXPECT_EQ(o.body, "");
  EXPECT_EQ(server.received().at(0).method, "HEAD");
  // Had the client waited for 1000 body bytes, the next response would be taken for them.
  Outcome next = Fetch(transport, Get(server.base_url() + "/"));
  ASSERT_TRUE(next.done.ok()) << next.done.ToString();
  EXPECT_EQ(next.body, "after head");
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(Http1Client, HeaderBlockOverTheLimitIsUnavailable) {
  LoopbackServer server([](const ReceivedRequest&) {
    std::string head = "HTTP/1.1 200 OK\r\n";
    while (head.size() < 70 * 1024) head += "X-Filler: " + std::string(100, 'f') + "\r\n";
    return Raw(head + "Content-Length: 0\r\n\r\n");
  });
  HttpTransport transport;
  std::string url = server.base_url() + "/big?key=secret";
  Outcome o = Fetch(transport, Get(url));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "exceeds 64 KiB")) << o.done.message();
  EXPECT_TRUE(Contains(o.done.message(), server.base_url() + "/big?***")) << o.done.message();
  EXPECT_FALSE(Contains(o.done.message(), "secret"));
  EXPECT_EQ(o.heads, 0);
}

TEST(Http1Client, GarbageStatusLineIsUnavailableAndNamesTheUrl) {
  LoopbackServer server([](const ReceivedRequest&) { return Raw("SSH-2.0-OpenSSH\r\n"); });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/x"));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "GET " + server.base_url() + "/x: expected an HTTP/1.x"))
      << o.done.message();
}

TEST(Http1Client, CutContentLengthBodyIsUnavailable) {
  LoopbackServer server([](const ReceivedRequest&) {
    return Raw("HTTP/1.1 200 OK\r\nContent-Length: 456\r\n\r\n" + std::string(123, 'x'), true);
  });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/cut"));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "closed the connection after 123 of 456 body bytes"))
      << o.done.message();
  EXPECT_TRUE(Contains(o.done.message(), server.base_url() + "/cut")) << o.done.message();
  EXPECT_EQ(o.body.size(), 123u);
}

TEST(Http1Client, CutChunkedBodyIsUnavailable) {
  LoopbackServer server([](const ReceivedRequest&) {
    return Raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nab", true);
  });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/cut"));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "before the end of the chunked body, after 7 body bytes"))
      << o.done.message();
  EXPECT_EQ(o.body, "helloab");
}

TEST(Http1Client, ConnectionClosedInTheHeadIsUnavailable) {
  LoopbackServer server(
      [](const ReceivedRequest&) { return Raw("HTTP/1.1 200 OK\r\nContent-Le", true); });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/"));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "in the middle of the response head")) << o.done.message();
}

TEST(Http1Client, RefusedConnectionIsUnavailable) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  HttpTransport transport;
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v1";
  Outcome o = Fetch(transport, Get(url));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), url + ": connection failed (Connection refused)"))
      << o.done.message();
}

TEST(Http1Client, ConnectToAServerThatNeverAcceptsTimesOut) {
  // A listener with a full accept queue drops new SYNs: connect() neither succeeds nor fails.
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listener, 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));

  HttpTransport transport;
  HttpRequest request = Get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/");
  request.connect_timeout_ms = 200;
  request.timeout_ms = 0;
  auto start = std::chrono::steady_clock::now();
  Outcome o = Fetch(transport, std::move(request));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.done.code(), StatusCode::kDeadlineExceeded) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "timed out connecting after 200 ms")) << o.done.message();
  EXPECT_GE(elapsed, std::chrono::milliseconds(190));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
  for (int fd : fillers) close(fd);
  close(listener);
}

TEST(Http1Client, TotalTimeoutCutsAStreamingBody) {
  LoopbackServer server([](const ReceivedRequest&) {
    Reply reply{{Segment{0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}}, true, false};
    for (int i = 0; i < 40; ++i) reply.segments.push_back({50, "1\r\nx\r\n"});
    reply.segments.push_back({0, "0\r\n\r\n"});
    return reply;
  });
  HttpTransport transport;
  auto start = std::chrono::steady_clock::now();
  Outcome o = Fetch(transport, Get(server.base_url() + "/slow", /*timeout_ms=*/300));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.done.code(), StatusCode::kDeadlineExceeded) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "timed out after 300 ms")) << o.done.message();
  EXPECT_EQ(o.status, 200);
  EXPECT_FALSE(o.body.empty());
  EXPECT_LT(o.body.size(), 40u);
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

TEST(Http1Client, SequentialRequestsShareOneConnection) {
  LoopbackServer server(
      [](const ReceivedRequest& r) { return SimpleReply(200, "text/plain", r.target); });
  HttpTransport transport;
  for (int i = 0; i < 10; ++i) {
    Outcome o = Fetch(transport, Get(server.base_url() + "/" + std::to_string(i)));
    ASSERT_TRUE(o.done.ok()) << o.done.ToString();
    EXPECT_EQ(o.body, "/" + std::to_string(i));
  }
  EXPECT_EQ(server.connections_accepted(), 1);
}

// Submits `n` requests at once and waits for all of them.
void FetchConcurrently(HttpTransport& transport, const std::string& url, int n) {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    HttpRequest request = Get(url);
    request.on_done = [&](Status s) {
      std::lock_guard<std::mutex> lock(mu);
      ok += s.ok();
      ++done;
      cv.notify_one();
    };
    transport.Submit(std::move(request));
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == n; });
  EXPECT_EQ(ok, n);
}

TEST(Http1Client, IdleConnectionsAreCappedByMaxCachedConnections) {
  LoopbackServer server([](const ReceivedRequest&) {
    return SimpleReply(200, "text/plain", "ok", /*delay_ms=*/100);  // five overlap
  });
  HttpTransport::Options options;
  options.max_cached_connections = 2;
  HttpTransport transport(options);
  FetchConcurrently(transport, server.base_url() + "/", 5);
  EXPECT_EQ(server.connections_accepted(), 5);
  FetchConcurrently(transport, server.base_url() + "/", 5);
  EXPECT_EQ(server.connections_accepted(), 8) << "two kept, three closed and opened again";
}

TEST(Http1Client, PlainConnectionsHaveTheirOwnTighterIdleCap) {
  LoopbackServer server([](const ReceivedRequest&) {
    return SimpleReply(200, "text/plain", "ok", /*delay_ms=*/100);  // six overlap
  });
  HttpTransport::Options options;  // max_cached_connections stays large
  options.max_idle_plain_connections = 3;
  HttpTransport transport(options);
  FetchConcurrently(transport, server.base_url() + "/", 6);
  EXPECT_EQ(server.connections_accepted(), 6);
  FetchConcurrently(transport, server.base_url() + "/", 6);
  EXPECT_EQ(server.connections_accepted(), 9) << "three kept, three closed and opened again";
}

TEST(Http1Client, AFanOutsSurplusConnectionsCloseOnceTheClientIsQuiet) {
  LoopbackServer server([](const ReceivedRequest&) {
    return SimpleReply(200, "text/plain", "ok", /*delay_ms=*/50);  // thirty overlap
  });
  HttpTransport::Options options;
  options.idle_close_ms = 50;
  HttpTransport transport(options);
  FetchConcurrently(transport, server.base_url() + "/", 30);
  ASSERT_EQ(server.connections_accepted(), 30);
  EXPECT_TRUE(Eventually([&] { return server.open_connections() == 8; }))
      << server.open_connections() << " connections still open";
  // The eight kept serve what comes next.
  Outcome o = Fetch(transport, Get(server.base_url() + "/"));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(server.connections_accepted(), 30);
}

TEST(Http1Client, IdleConnectionsStayOpenWhileRequestsKeepEnding) {
  LoopbackServer server(
      [](const ReceivedRequest&) { return SimpleReply(200, "text/plain", "ok", /*delay_ms=*/20); });
  HttpTransport::Options options;
  options.idle_close_ms = 500;
  HttpTransport transport(options);
  FetchConcurrently(transport, server.base_url() + "/", 20);
  // A request ends every ~40 ms for over a second: never 500 ms without one.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(Fetch(transport, Get(server.base_url() + "/")).done.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(server.open_connections(), 20);
  EXPECT_EQ(server.connections_accepted(), 20);
  EXPECT_TRUE(Eventually([&] { return server.open_connections() == 8; }));
}

TEST(Http1Client, IdleConnectionsStayWhenIdleClosingIsOff) {
  LoopbackServer server(
      [](const ReceivedRequest&) { return SimpleReply(200, "text/plain", "ok", /*delay_ms=*/50); });
  HttpTransport::Options options;
  options.idle_close_ms = 0;
  HttpTransport transport(options);
  FetchConcurrently(transport, server.base_url() + "/", 30);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(server.open_connections(), 30);
}

// Bodies larger than a socket's buffer leave in several writes (TCP_NODELAY is set only then);
// each arrives whole and in order, twice on the same connection.
TEST(Http1Client, BodiesNeedingManyWritesArriveWhole) {
  LoopbackServer server([](const ReceivedRequest& r) {
    return SimpleReply(200, "text/plain", std::to_string(std::hash<std::string>()(r.body)));
  });
  HttpTransport transport;
  for (int round = 0; round < 2; ++round) {
    std::string body(6 * 1024 * 1024 + 12345, '\0');
    for (size_t i = 0; i < body.size(); ++i)
      body[i] = static_cast<char>('a' + (i * 7 + round) % 26);
    HttpRequest request = Get(server.base_url() + "/upload");
    request.method = "POST";
    request.body = body;
    Outcome o = Fetch(transport, std::move(request));
    ASSERT_TRUE(o.done.ok()) << o.done.ToString();
    EXPECT_EQ(o.body, std::to_string(std::hash<std::string>()(body)));
  }
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(Http1Client, StaleKeptAliveConnectionIsRetriedOnceOnAFreshOne) {
  // The second request finds the kept-alive connection closed by the server without a word,
  // as when its idle timeout strikes just as the request arrives.
  std::atomic<int> seen{0};
  LoopbackServer server([&](const ReceivedRequest&) {
    if (seen.fetch_add(1) == 1) return Reply{{}, true, false};
    return SimpleReply(200, "text/plain", "ok");
  });
  HttpTransport transport;
  ASSERT_TRUE(Fetch(transport, Get(server.base_url() + "/1")).done.ok());
  Outcome o = Fetch(transport, Get(server.base_url() + "/2"));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.body, "ok");
  EXPECT_EQ(server.requests_seen(), 3);
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(Http1Client, RetryHappensOnlyOnce) {
  std::atomic<int> seen{0};
  LoopbackServer server([&](const ReceivedRequest&) {
    if (seen.fetch_add(1) >= 1) return Reply{{}, true, false};  // closes without answering
    return SimpleReply(200, "text/plain", "ok");
  });
  HttpTransport transport;
  ASSERT_TRUE(Fetch(transport, Get(server.base_url() + "/1")).done.ok());
  Outcome o = Fetch(transport, Get(server.base_url() + "/2"));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "closed the connection without sending a response"))
      << o.done.message();
  EXPECT_EQ(server.requests_seen(), 3);  // the first, the second and its one retry
}

TEST(Http1Client, FreshConnectionClosedWithoutAnswerIsNotRetried) {
  LoopbackServer server([](const ReceivedRequest&) { return Reply{{}, true, false}; });
  HttpTransport transport;
  Outcome o = Fetch(transport, Get(server.base_url() + "/"));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_EQ(server.requests_seen(), 1);
}

TEST(Http1Client, ConnectionCloseAndHttp10AreHonoured) {
  // The server keeps its end open: only the header says the connection is done.
  for (std::string reply : {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"}) {
    LoopbackServer server([&](const ReceivedRequest&) { return Raw(reply); });
    HttpTransport transport;
    for (int i = 0; i < 3; ++i) {
      Outcome o = Fetch(transport, Get(server.base_url() + "/"));
      ASSERT_TRUE(o.done.ok()) << o.done.ToString();
      EXPECT_EQ(o.body, "ok");
    }
    EXPECT_EQ(server.connections_accepted(), 3) << reply;
  }
}

TEST(Http1Client, AbortFromOnDataIsCancelledAndTheConnectionIsNotReused) {
  LoopbackServer server([](const ReceivedRequest&) {
    return SimpleReply(200, "text/plain", std::string(1000, 'y'));
  });
  HttpTransport transport;
  HttpRequest request = Get(server.base_url() + "/");
  request.on_data = [](std::string_view) { return false; };
  Outcome o = Fetch(transport, std::move(request));
  EXPECT_EQ(o.done.code(), StatusCode::kCancelled) << o.done.ToString();
  EXPECT_TRUE(Contains(o.done.message(), "aborted by the receiver")) << o.done.message();
  ASSERT_TRUE(Fetch(transport, Get(server.base_url() + "/")).done.ok());
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(Http1Client, ProxyEnvironmentSendsNonLoopbackHostsToLibcurl) {
  LoopbackServer proxy([](const ReceivedRequest& r) {
    return SimpleReply(200, "text/plain", "via proxy " + r.target);
  });
  LoopbackServer direct(
      [](const ReceivedRequest&) { return SimpleReply(200, "text/plain", "direct"); });
  setenv("http_proxy", proxy.base_url().c_str(), 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  HttpTransport transport;
  Outcome proxied = Fetch(transport, Get("http://chorus-test.invalid/x"));
  // Loopback never goes through a proxy, whatever the environment says.
  Outcome loopback = Fetch(transport, Get(direct.base_url() + "/y"));
  setenv("no_proxy", "example.org,.invalid", 1);
  Outcome exempt = Fetch(transport, Get("http://chorus-test.invalid/z"));
  unsetenv("http_proxy");
  unsetenv("no_proxy");
  ASSERT_TRUE(proxied.done.ok()) << proxied.done.ToString();
  EXPECT_EQ(proxied.body, "via proxy http://chorus-test.invalid/x");
  ASSERT_TRUE(loopback.done.ok()) << loopback.done.ToString();
  EXPECT_EQ(loopback.body, "direct");
  EXPECT_EQ(exempt.done.code(), StatusCode::kUnavailable) << exempt.done.ToString();
  EXPECT_TRUE(Contains(exempt.done.message(), "cannot resolve host \"chorus-test.invalid\""))
      << exempt.done.message();
  EXPECT_EQ(proxy.requests_seen(), 1);
}

TEST(Http1Client, HostNameIsResolvedAndItsConnectionReused) {
  // Where "localhost" resolves to ::1 first, this also covers falling back to 127.0.0.1: the
  // server listens on IPv4 only.
  LoopbackServer server(
      [](const ReceivedRequest&) { return SimpleReply(200, "text/plain", "ok"); });
  HttpTransport transport;
  std::string url = "http://localhost:" + std::to_string(server.port()) + "/";
  for (int i = 0; i < 3; ++i) {
    Outcome o = Fetch(transport, Get(url));
    ASSERT_TRUE(o.done.ok()) << o.done.ToString();
    EXPECT_EQ(o.body, "ok");
  }
  EXPECT_EQ(server.received().at(0).headers.at("host"),
            "localhost:" + std::to_string(server.port()));
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(Http1Client, MalformedHttpUrlIsInvalidArgument) {
  HttpTransport transport;
  for (std::string url : {"http://", "http://127.0.0.1:99999/", "http://[::1/", "http://a b/"}) {
    Outcome o = Fetch(transport, Get(url));
    EXPECT_EQ(o.done.code(), StatusCode::kInvalidArgument) << url << " " << o.done.ToString();
  }
}

TEST(Http1Client, ManyConcurrentRequestsCompleteAndReuseTheirConnections) {
  ASSERT_GE(RaiseDescriptorLimit(), 5200u) << "needs descriptors for both ends of 2500 connections";

  constexpr int kRequests = 2500;
  LoopbackServer server([](const ReceivedRequest& r) {
    return SimpleReply(200, "text/plain", r.body, /*delay_ms=*/100);
  });
  HttpTransport::Options options;
  options.max_idle_plain_connections = kRequests;  // the default keeps 1,024
  options.idle_close_ms = 0;                       // a slow machine may pause between the waves
  HttpTransport transport(options);
  for (int wave = 0; wave < 2; ++wave) {
    testing::EchoOutcome echoes = SubmitEchoes(
        transport, kRequests, [&](int) { return server.base_url() + "/"; }, 30000);
    ASSERT_TRUE(echoes.finished);
    EXPECT_EQ(echoes.ok, kRequests);
  }
  EXPECT_GT(server.max_in_flight(), 100);
  // The second wave ran on the first wave's kept-alive connections.
  EXPECT_LE(server.connections_accepted(), kRequests);
  EXPECT_EQ(transport.active(), 0);
}

TEST(Http1Client, DestructionCancelsConnectingSendingAndWaitingRequests) {
  LoopbackServer server([](const ReceivedRequest&) { return Reply{{}, false, true}; });
  std::atomic<int> cancelled{0};
  std::atomic<int> other{0};
  {
    HttpTransport transport;
    for (int i = 0; i < 50; ++i) {
      HttpRequest request = Get(server.base_url() + "/hang", 0);
      request.on_done = [&](Status s) {
        (s.code() == StatusCode::kCancelled ? cancelled : other).fetch_add(1);
      };
      transport.Submit(std::move(request));
    }
    while (server.requests_seen() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(cancelled.load(), 50);
  EXPECT_EQ(other.load(), 0);
}

}  // namespace
}  // namespace chorus
