// Status and Result<T>: how chorus reports expected failures.
//
// A Status is either OK or carries a code and a message that says what was expected, what was
// found and where (file:line:col for team files, endpoint and HTTP status for servers).
// Result<T> is tl::expected<T, Status>. Exceptions are reserved for bugs and for failures that
// must terminate the whole operation. Status is a plain value: copy it freely between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace chorus {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (team file, CLI flag, brief)
  kNotFound,            // run, file, step, agent or model that does not exist
  kFailedPrecondition,  // the system is not in a state where the operation makes sense
  kUnavailable,         // transient: connection refused, 5xx, cut stream
  kDeadlineExceeded,    // transient: a timeout
  kResourceExhausted,   // transient: 429 or a local limit
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kContextExceeded,     // the model's context window is too small for the request
  kDataLoss,            // the store or a response is corrupt
  kInternal,            // a bug or an impossible state
  kCancelled,
};

std::string_view StatusCodeName(StatusCode code);
// The inverse of StatusCodeName ("UNAVAILABLE" -> kUnavailable); nullopt for unknown names.
std::optional<StatusCode> ParseStatusCode(std::string_view name);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status ContextExceeded(std::string m) {
    return {StatusCode::kContextExceeded, std::move(m)};
  }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "UNAVAILABLE: connection refused (endpoint fast, http://127.0.0.1:9/v1)"
  std::string ToString() const;

  // A transient failure may succeed if tried again later.
  bool transient() const {
    return code_ == StatusCode::kUnavailable || code_ == StatusCode::kDeadlineExceeded ||
           code_ == StatusCode::kResourceExhausted;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <class T>
using Result = tl::expected<T, Status>;

inline tl::unexpected<Status> Err(Status s) { return tl::unexpected<Status>(std::move(s)); }

}  // namespace chorus
