// Answer: what the fake LLM server decided to do with one request, independent of the HTTP
// transport that carries it out (delay, then respond, stream, stall or close). A plain value.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chorus::fake {

struct Answer {
  enum class Mode {
    kRespond,  // status + headers + body (Content-Length)
    kStream,   // 200 text/event-stream, chunked, one chunk per event
    kStall,    // never answer; keep the socket open until the client goes away
    kClose,    // close the socket without a response
  };
  Mode mode = Mode::kRespond;
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // beyond the standard ones
  std::string body;                                          // kRespond
  std::vector<std::string> events;                           // kStream: complete SSE events
  // kStream: close the socket after this many events (no terminating chunk).
  // kRespond: announce the whole body but close after half of it.
  bool cut = false;
  size_t cut_after_events = 0;
  std::chrono::milliseconds delay{0};           // before the first byte
  std::chrono::milliseconds event_interval{0};  // kStream: between events
  bool close_connection = false;                // Connection: close, then close
  bool counted = false;  // an API request: the transport reports its end to Service::Finished
};

}  // namespace chorus::fake
