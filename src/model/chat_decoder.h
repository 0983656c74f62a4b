// ChatDecoder: turns one HTTP response from a chat endpoint into a ChatResult, fed
// incrementally by the transport's callbacks. The base class owns what every provider shares:
// choosing between an SSE stream and a buffered body, the HTTP error path, transport failures
// and cut streams, usage estimation and cost. Providers implement the three parse hooks.
// ChatProtocol: how one provider encodes a ChatRequest into an HttpRequest and which decoder
// reads the answer.
//
// Thread-safety: a protocol is immutable and may be shared; a decoder belongs to one request
// and is driven from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "chorus/model_client.h"
#include "model/http_errors.h"
#include "model/http_transport.h"
#include "model/sse_parser.h"

namespace chorus {

// What a decoder needs to know about its endpoint. The strings must outlive the decoder (they
// live in the protocol object).
struct DecodeContext {
  const EndpointConfig* config = nullptr;
  ErrorSite site;
};

class ChatDecoder {
 public:
  // `prompt_bytes`: total bytes of the request's messages, for estimating usage when the
  // server reports none. `streaming`: whether the request asked for SSE.
  ChatDecoder(const DecodeContext& context, int64_t prompt_bytes, bool streaming);
  virtual ~ChatDecoder() = default;

  void OnHeaders(int http_status, const HttpHeaders& headers);
  bool OnData(std::string_view data);
  // `transport`: the transport's final status for the transfer.
  ChatResult Finish(const Status& transport);

  // Responses larger than this are refused (a misbehaving server must not exhaust memory).
  static constexpr size_t kMaxResponseBytes = 64u << 20;

 protected:
  // One SSE event of a 2xx stream. Returning an error ends the request with it.
  virtual std::optional<ModelError> OnEvent(const SseEvent& event) = 0;
  // Whether the stream carried its end marker ([DONE], message_stop): the answer is complete
  // even if the connection then broke.
  virtual bool StreamTerminated() const = 0;
  // After a stream ended cleanly: the answer, or why it is incomplete.
  virtual ChatResult FinishStream() = 0;
  // A complete 2xx body that is not an SSE stream.
  virtual ChatResult ParseBody(std::string_view body) = 0;

  // Fills in estimated usage when the server reported none, and the cost.
  void Finalize(ChatResponse& response, bool usage_reported) const;
  ModelError Transient(std::string what) const;
  int64_t bytes_received() const { return bytes_received_; }
  int http_status() const { return http_status_; }
  const DecodeContext& context() const { return context_; }

 private:
  const DecodeContext& context_;  // the protocol's, shared by all its decoders
  int64_t prompt_bytes_;
  bool streaming_requested_;
  bool sse_ = false;
  int http_status_ = 0;
  HttpHeaders headers_;  // kept only for error responses (Retry-After)
  std::string body_;
  SseParser parser_;
  int64_t bytes_received_ = 0;
  int64_t sse_events_ = 0;
  std::string stream_head_;  // the first bytes of a stream, to quote when it is not SSE at all
  std::optional<ModelError> failure_;  // set by OnEvent or by the size limit
};

class ChatProtocol {
 public:
  virtual ~ChatProtocol() = default;
  // Fills url, method, headers and body; the caller sets timeouts and callbacks.
  virtual void Encode(const ChatRequest& request, HttpRequest& out) const = 0;
  // The decoder refers to the protocol's context: the protocol must outlive it.
  virtual std::unique_ptr<ChatDecoder> NewDecoder(int64_t prompt_bytes) const = 0;
  std::unique_ptr<ChatDecoder> NewDecoder(const ChatRequest& request) const;
};

// Total bytes of the request's message contents.
int64_t PromptBytes(const ChatRequest& request);

// Adds "Name: value" to `headers`, dropping CR and LF from both (a header must not be able to
// inject another). An empty value is sent as "Name;", curl's spelling for an empty header.
void AddHeader(std::vector<std::string>& headers, std::string_view name, std::string_view value);

// The headers every chat request carries, whatever the provider: content type, accept (SSE or
// JSON), idempotency key, agent, and the endpoint's configured extras. Provider-specific ones
// (authentication, API version) are the caller's.
void AddCommonHeaders(std::vector<std::string>& headers, const EndpointConfig& config,
                      const ChatRequest& request);

}  // namespace chorus
