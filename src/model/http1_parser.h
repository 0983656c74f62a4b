// Http1ResponseParser: an incremental HTTP/1.x response parser for the plain-HTTP client. It is
// fed the bytes of one connection as they arrive, in pieces of any size, and reports the final
// response head once and the body bytes with their framing removed (Content-Length, chunked
// with extensions and trailers, or read until the connection closes). 1xx interim responses
// are skipped; HEAD, 204 and 304 responses have no body.
//
// It keeps only what it must between calls: a partial line (status line, header, chunk size or
// trailer) and the headers of the response head until they are delivered. Body bytes are handed
// to the receiver straight from the caller's buffer. The status line and headers together may
// not exceed kMaxHeadBytes.
//
// Thread-safety: none; one parser belongs to one connection at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/http_transport.h"

namespace chorus {

class Http1ResponseParser {
 public:
  static constexpr size_t kMaxHeadBytes = 64 * 1024;

  class Receiver {
   public:
    virtual ~Receiver() = default;
    // Once per response, with the final status; `headers` are only valid during the call.
    virtual void OnResponseHead(int status, const HttpHeaders& headers) = 0;
    // Returning false stops parsing: Feed returns kAborted.
    virtual bool OnResponseBody(std::string_view data) = 0;
  };

  enum class Progress {
    kNeedMore,  // everything consumed, the response is not complete yet
    kComplete,  // the response is complete; `consumed` says how much of the input it used
    kAborted,   // the receiver returned false
    kError,     // malformed or oversized response: see error()
  };

  // Prepares for the response to a new request. A HEAD response has no body.
  void Reset(bool head_request);

  // Parses `data`. On kComplete, `*consumed` is the number of bytes that belonged to this
  // response; anything after them was not asked for.
  Progress Feed(std::string_view data, Receiver& receiver, size_t* consumed = nullptr);

  // The connection was closed by the peer. kComplete when that ends the response (a body read
  // until close); kError otherwise, with error() saying how far the response had got.
  Progress Finish();

  // Whether any byte of the response has arrived: a reused connection that the server closed
  // before answering is worth retrying on a new one, one that answered partly is not.
  bool started() const { return started_; }
  // After kComplete: whether the connection may carry another request.
  bool keep_alive() const { return keep_alive_; }
  const std::string& error() const { return error_; }

 private:
  enum class State {
    kStatusLine,
    kHeaders,
    kLengthBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kUntilClose,
    kDone,
    kError,
  };

  // Consumes one line-based element from `data` at `*pos`; false when the line is incomplete.
  bool TakeLine(std::string_view data, size_t* pos, size_t limit, std::string_view* line);
  bool OnStatusLine(std::string_view line);
  bool OnHeaderLine(std::string_view line);
  bool OnHeadEnd(Receiver& receiver);
  bool OnChunkSizeLine(std::string_view line);
  Progress Fail(std::string message);

  State state_ = State::kStatusLine;
  bool head_request_ = false;
  bool started_ = false;
  bool keep_alive_ = false;
  bool http10_ = false;
  int status_ = 0;
  size_t head_bytes_ = 0;              // of the current response head, for kMaxHeadBytes
  uint64_t remaining_ = 0;             // of the Content-Length body or the current chunk
  uint64_t body_bytes_ = 0;            // delivered so far, for error messages
  uint64_t body_length_ = 0;           // the Content-Length, for error messages
  std::string partial_;                // an incomplete line carried over to the next Feed
  HttpHeaders headers_;                // the head being parsed; emptied once delivered
  std::string* last_value_ = nullptr;  // for obsolete folded continuation lines
  std::string error_;
};

}  // namespace chorus
