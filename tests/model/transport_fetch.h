// Blocking helpers over HttpTransport for the transport tests: Fetch submits one request and
// waits for on_done, collecting what the callbacks delivered (and checking that no body byte
// came before the headers).
#pragma once

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "model/http_transport.h"

namespace chorus::testing {

struct Outcome {
  int heads = 0;  // on_headers calls: exactly one for any response
  int status = 0;
  HttpHeaders headers;
  std::string body;
  Status done;
};

inline Outcome Fetch(HttpTransport& transport, HttpRequest request) {
  auto outcome = std::make_shared<Outcome>();
  std::promise<void> finished;
  request.on_headers = [outcome](int status, const HttpHeaders& headers) {
    ++outcome->heads;
    outcome->status = status;
    outcome->headers = headers;
  };
  if (!request.on_data) {
    request.on_data = [outcome](std::string_view data) {
      EXPECT_EQ(outcome->heads, 1) << "body before headers";
      outcome->body.append(data);
      return true;
    };
  }
  request.on_done = [outcome, &finished](Status s) {
    outcome->done = std::move(s);
    finished.set_value();
  };
  transport.Submit(std::move(request));
  finished.get_future().wait();
  return *outcome;
}

inline HttpRequest Get(const std::string& url, int64_t timeout_ms = 5000) {
  HttpRequest r;
  r.url = url;
  r.method = "GET";
  r.timeout_ms = timeout_ms;
  r.connect_timeout_ms = 2000;
  return r;
}

inline HttpRequest Post(const std::string& url, std::string body = "{}") {
  HttpRequest r;
  r.url = url;
  r.body = std::move(body);
  r.headers = {"Content-Type: application/json"};
  r.timeout_ms = 5000;
  r.connect_timeout_ms = 2000;
  return r;
}

// Raises the soft descriptor limit to the hard one; returns the limit now in force.
inline rlim_t RaiseDescriptorLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

struct EchoOutcome {
  bool finished = false;  // every request was done within 60 s
  int ok = 0;             // answered with its own body echoed back
  int done = 0;
  std::string first_error;
};

// Submits `count` POSTs at once, request i to url_of(i) with body "i", to a server that
// echoes the body, and waits for all of them.
inline EchoOutcome SubmitEchoes(HttpTransport& transport, int count,
                                const std::function<std::string(int)>& url_of, int64_t timeout_ms) {
  std::mutex mu;
  std::condition_variable cv;
  EchoOutcome out;
  for (int i = 0; i < count; ++i) {
    HttpRequest request = Post(url_of(i), std::to_string(i));
    request.timeout_ms = timeout_ms;
    auto body = std::make_shared<std::string>();
    request.on_data = [body](std::string_view d) {
      body->append(d);
      return true;
    };
    request.on_done = [&, body, i](Status s) {
      std::lock_guard<std::mutex> lock(mu);
      if (s.ok() && *body == std::to_string(i)) {
        ++out.ok;
      } else if (out.first_error.empty()) {
        out.first_error = s.ToString() + " body " + *body;
      }
      ++out.done;
      cv.notify_one();
    };
    transport.Submit(std::move(request));
  }
  std::unique_lock<std::mutex> lock(mu);
  out.finished = cv.wait_for(lock, std::chrono::seconds(60), [&] { return out.done == count; });
  return out;
}

}  // namespace chorus::testing
