// The transport against a real server on loopback.

#include "model/http_transport.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "model/loopback_server.h"
#include "model/transport_fetch.h"

namespace chorus {
namespace {

using testing::Fetch;
using testing::LoopbackServer;
using testing::Outcome;
using testing::Post;
using testing::RaiseDescriptorLimit;
using testing::ReceivedRequest;
using testing::Reply;
using testing::SimpleReply;
using testing::SubmitEchoes;

int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(HttpTransport, DeliversStatusLowerCasedHeadersAndBody) {
  LoopbackServer server([](const ReceivedRequest& r) {
    return SimpleReply(201, "application/json", "{\"echo\":" + r.body + "}", 0, true,
                       "X-Mixed-Case: one\r\nX-Mixed-Case: two\r\n");
  });
  HttpTransport transport;
  HttpRequest request = Post(server.base_url() + "/v1/x", "{\"a\":1}");
  request.headers.push_back("X-Chorus-Agent: tester");
  Outcome o = Fetch(transport, std::move(request));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.status, 201);
  EXPECT_EQ(o.headers.at("content-type"), "application/json");
  EXPECT_EQ(o.headers.at("x-mixed-case"), "one, two");
  EXPECT_EQ(o.body, "{\"echo\":{\"a\":1}}");
  auto received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/v1/x");
  EXPECT_EQ(received[0].headers.at("x-chorus-agent"), "tester");
  EXPECT_EQ(received[0].headers.count("expect"), 0u);
}

TEST(HttpTransport, SendsLargeBodiesWithoutWaitingFor100Continue) {
  LoopbackServer server([](const ReceivedRequest& r) {
    return SimpleReply(200, "text/plain", std::to_string(r.body.size()));
  });
  HttpTransport transport;
  Outcome o = Fetch(transport, Post(server.base_url() + "/", std::string(2 << 20, 'x')));
  ASSERT_TRUE(o.done.ok()) << o.done.ToString();
  EXPECT_EQ(o.body, std::to_string(2 << 20));
  // curl asks for "Expect: 100-continue" on large bodies unless told not to, and then stalls
  // a second for servers that never answer it.
  auto received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].headers.count("expect"), 0u);
}

TEST(HttpTransport, RefusedConnectionIsUnavailableAndNamesTheUrl) {
  HttpTransport transport;
  std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1/chat/completions";
  Outcome o = Fetch(transport, Post(url));
  EXPECT_EQ(o.done.code(), StatusCode::kUnavailable) << o.done.ToString();
  EXPECT_NE(o.done.message().find(url), std::string::npos) << o.done.message();
  EXPECT_EQ(o.status, 0);
}

TEST(HttpTransport, SilentServerTimesOutWithDeadlineExceeded) {
  LoopbackServer server([](const ReceivedRequest&) { return Reply{{}, false, true}; });
  HttpTransport transport;
  HttpRequest request = Post(server.base_url() + "/slow");
  request.timeout_ms = 200;
  auto start = std::chrono::steady_clock::now();
  Outcome o = Fetch(transport, std::move(request));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.done.code(), StatusCode::kDeadlineExceeded) << o.done.ToString();
  EXPECT_GE(elapsed, std::chrono::milliseconds(190));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

TEST(HttpTransport, ReceiverAbortIsCancelled) {
  LoopbackServer server([](const ReceivedRequest&) {
    return SimpleReply(200, "text/plain", std::string(100000, 'y'));
  });
  HttpTransport transport;
  HttpRequest request = Post(server.base_url() + "/");
  request.on_data = [](std::string_view) { return false; };
  Outcome o = Fetch(transport, std::move(request));
  EXPECT_EQ(o.done.code(), StatusCode::kCancelled) << o.done.ToString();
}

TEST(HttpTransport, MalformedUrlIsInvalidArgument) {
  HttpTransport transport;
  Outcome o = Fetch(transport, Post("ftp://127.0.0.1/x"));
  EXPECT_EQ(o.done.code(), StatusCode::kInvalidArgument) << o.done.ToString();
}

TEST(HttpTransport, ReusesKeptAliveConnections) {
  LoopbackServer server(
      [](const ReceivedRequest&) { return SimpleReply(200, "text/plain", "ok"); });
  HttpTransport transport;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Fetch(transport, Post(server.base_url() + "/")).done.ok());
  }
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(HttpTransport, DestructionCancelsTransfersInFlightAndQueued) {
  LoopbackServer server([](const ReceivedRequest&) { return Reply{{}, false, true}; });
  std::atomic<int> cancelled{0};
  std::atomic<int> other{0};
  {
    HttpTransport transport;
    for (int i = 0; i < 10; ++i) {
      HttpRequest request = Post(server.base_url() + "/hang");
      request.on_done = [&](Status s) {
        (s.code() == StatusCode::kCancelled ? cancelled : other).fetch_add(1);
      };
      transport.Submit(std::move(request));
    }
    while (server.requests_seen() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(cancelled.load(), 10);
  EXPECT_EQ(other.load(), 0);
}

TEST(HttpTransport, LastReferenceDroppedInsideACallbackDoesNotDeadlock) {
  LoopbackServer server(
      [](const ReceivedRequest&) { return SimpleReply(200, "text/plain", "ok"); });
  auto transport = std::make_shared<HttpTransport>();
  std::promise<Status> done;
  HttpRequest request = Post(server.base_url() + "/");
  auto* holder = new std::shared_ptr<HttpTransport>(transport);
  request.on_done = [holder, &done](Status s) {
    delete holder;  // the last reference: ~HttpTransport runs on the I/O thread
    done.set_value(s);
  };
  transport->Submit(std::move(request));
  transport.reset();
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(future.get().ok());
}

TEST(HttpTransport, TwoThousandConcurrentRequestsAllComplete) {
  ASSERT_GE(RaiseDescriptorLimit(), 4200u) << "needs descriptors for both ends of 2000 connections";

  constexpr int kRequests = 2000;
  LoopbackServer server([](const ReceivedRequest& r) {
    return SimpleReply(200, "application/json", r.body, /*delay_ms=*/100);
  });
  HttpTransport transport;
  // Served one at a time, 2,000 replies of 100 ms would take 200 s: finishing within the
  // wait proves they overlapped, without a timing assertion that a slow machine could break.
  testing::EchoOutcome echoes = SubmitEchoes(
      transport, kRequests, [&](int) { return server.base_url() + "/"; }, 20000);
  ASSERT_TRUE(echoes.finished);
  EXPECT_EQ(echoes.ok, kRequests) << echoes.first_error;
  EXPECT_GT(server.max_in_flight(), 100);
  EXPECT_EQ(transport.active(), 0);
}

}  // namespace
}  // namespace chorus
