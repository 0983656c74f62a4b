// Turning what an HTTP model endpoint said into a ModelError: the status code by HTTP status
// and provider error type/code, the server's own message quoted, the retry hint from
// Retry-After / retry-after-ms. Shared by the OpenAI and Anthropic clients. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "chorus/model_client.h"
#include "model/http_transport.h"

namespace chorus {

// Where a response came from, for messages: `endpoint "fast" (POST http://…/chat/completions)`.
struct ErrorSite {
  std::string_view endpoint;  // the team file's name for the model
  std::string_view url;       // already redacted
  std::string_view secret;    // the API key; scrubbed from anything a server echoes back
};

std::string DescribeSite(const ErrorSite& site);

// `text` with every occurrence of `secret` replaced by "[redacted]".
std::string ScrubSecret(std::string text, std::string_view secret);

// The retry hint in milliseconds: retry-after-ms (OpenAI), else Retry-After as delta-seconds
// or an HTTP date (relative to `now_ms`, never negative). nullopt when absent or unparseable.
std::optional<int64_t> RetryAfterMs(const HttpHeaders& headers, int64_t now_ms);

// An HTTP response with a non-2xx status. `body` is the (possibly truncated) response body.
ModelError HttpErrorToModelError(const ErrorSite& site, int http_status, const HttpHeaders& headers,
                                 std::string_view body, int64_t now_ms);

// An error object that arrived with a 2xx status: an SSE "error" event or a JSON body of the
// form {"error": …}. Classified by its type/code; unknown errors are transient.
ModelError ErrorObjectToModelError(const ErrorSite& site, int http_status,
                                   const nlohmann::json& error_body);

// Whether a provider error describes a prompt larger than the model's context window.
bool IsContextLengthError(std::string_view type, std::string_view code, std::string_view message);

}  // namespace chorus
