// Blocking helpers over HttpTransport for the transport tests: Fetch submits one request and
// waits for on_done, collecting what the callbacks delivered (and checking that no body byte
// came before the headers).
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
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

}  // namespace chorus::testing
