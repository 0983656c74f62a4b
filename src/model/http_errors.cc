#include "model/http_errors.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace chorus {
namespace {

struct ErrorFields {
  std::string message;
  std::string type;
  std::string code;
};

std::string JsonScalarText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return "";
}

// Providers disagree on the shape: OpenAI {"error":{"message","type","code"}}, llama.cpp the
// same with an integer code, Anthropic {"type":"error","error":{"type","message"}}, Ollama
// {"error":"text"}, FastAPI-based servers {"detail": …}, some gateways {"message": …}.
ErrorFields ExtractError(const nlohmann::json& body) {
  ErrorFields f;
  if (!body.is_object()) return f;
  auto error = body.find("error");
  if (error != body.end()) {
    if (error->is_string()) {
      f.message = error->get<std::string>();
    } else if (error->is_object()) {
      if (auto m = error->find("message"); m != error->end()) f.message = JsonScalarText(*m);
      if (auto t = error->find("type"); t != error->end()) f.type = JsonScalarText(*t);
      if (auto c = error->find("code"); c != error->end()) f.code = JsonScalarText(*c);
    }
    return f;
  }
  if (auto d = body.find("detail"); d != body.end()) {
    f.message = d->is_string() ? d->get<std::string>() : d->dump();
  } else if (auto m = body.find("message"); m != body.end()) {
    f.message = JsonScalarText(*m);
  }
  return f;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A body that is not JSON is quoted verbatim up to a bound, with control bytes made visible.
std::string Excerpt(std::string_view body) {
  constexpr size_t kMax = 300;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back(' ');
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.push_back('?');
    } else {
      out.push_back(c);
    }
  }
  if (body.size() > kMax) out.append("…");
  return out;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out.push_back('"');
  return out;
}

StatusCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 408:
    case 409:
    case 425:
      return StatusCode::kUnavailable;
    case 429:
      return StatusCode::kResourceExhausted;
    default:
      break;
  }
  if (http_status >= 500) return StatusCode::kUnavailable;
  if (http_status >= 400) return StatusCode::kInvalidArgument;
  // A redirect we did not follow: base_url points at the wrong place; retrying will not help.
  if (http_status >= 300) return StatusCode::kFailedPrecondition;
  return StatusCode::kUnavailable;
}

// Error types that arrive without a telling HTTP status (inside a 200 stream).
StatusCode CodeForErrorType(std::string_view type, std::string_view code,
                            std::string_view message) {
  if (IsContextLengthError(type, code, message)) return StatusCode::kContextExceeded;
  if (type == "rate_limit_error" || type == "rate_limit_exceeded" ||
      code == "rate_limit_exceeded") {
    return StatusCode::kResourceExhausted;
  }
  if (type == "authentication_error" || code == "invalid_api_key") {
    return StatusCode::kUnauthenticated;
  }
  if (type == "permission_error") return StatusCode::kPermissionDenied;
  if (type == "not_found_error") return StatusCode::kNotFound;
  if (type == "invalid_request_error") return StatusCode::kInvalidArgument;
  return StatusCode::kUnavailable;  // overloaded_error, api_error, server_error, unknown
}

std::optional<int64_t> ParseNumberMs(std::string_view text, double scale) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v) || v < 0) return std::nullopt;
  return static_cast<int64_t>(std::ceil(v * scale));
}

}  // namespace

std::string DescribeSite(const ErrorSite& site) {
  std::string out = "endpoint \"";
  out.append(site.endpoint);
  out.append("\" (");
  out.append(site.url);
  out.append(")");
  return out;
}

std::string ScrubSecret(std::string text, std::string_view secret) {
  if (secret.size() < 4) return text;  // a tiny "secret" would redact ordinary words
  for (size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + 10)) {
    text.replace(pos, secret.size(), "[redacted]");
  }
  return text;
}

bool IsContextLengthError(std::string_view type, std::string_view code, std::string_view message) {
  if (code == "context_length_exceeded" || type == "exceed_context_size_error") return true;
  std::string m = Lower(message);
  for (std::string_view needle :
       {"context length", "context_length", "context window", "context size", "maximum context",
        "prompt is too long", "too many tokens in the prompt"}) {
    if (m.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::optional<int64_t> RetryAfterMs(const HttpHeaders& headers, int64_t now_ms) {
  if (auto it = headers.find("retry-after-ms"); it != headers.end()) {
    if (auto ms = ParseNumberMs(it->second, 1.0)) return ms;
  }
  auto it = headers.find("retry-after");
  if (it == headers.end()) return std::nullopt;
  if (auto ms = ParseNumberMs(it->second, 1000.0)) return ms;
  // HTTP-date (IMF-fixdate, the only form RFC 9110 lets senders generate).
  tm parsed{};
  const char* end = strptime(it->second.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parsed);
  if (end == nullptr || *end != '\0') return std::nullopt;
  int64_t at_ms = static_cast<int64_t>(timegm(&parsed)) * 1000;
  return std::max<int64_t>(0, at_ms - now_ms);
}

ModelError HttpErrorToModelError(const ErrorSite& site, int http_status, const HttpHeaders& headers,
                                 std::string_view body, int64_t now_ms) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  ErrorFields f = ExtractError(parsed);
  StatusCode code = CodeForHttpStatus(http_status);
  if ((http_status == 400 || http_status == 413 || http_status == 422) &&
      IsContextLengthError(f.type, f.code, f.message)) {
    code = StatusCode::kContextExceeded;
  }
  std::string message = DescribeSite(site) + ": HTTP " + std::to_string(http_status);
  if (!f.message.empty()) {
    message += ": " + Quote(f.message);
    if (!f.type.empty()) message += " (type " + f.type + ")";
  } else if (!body.empty()) {
    message += ": " + Quote(Excerpt(body));
  } else {
    message += " with an empty body";
  }
  if (code == StatusCode::kFailedPrecondition) {
    if (auto loc = headers.find("location"); loc != headers.end()) {
      message += "; redirected to " + RedactUrl(loc->second) + ", set base_url to the final URL";
    }
  }
  ModelError error;
  error.status = Status(code, ScrubSecret(std::move(message), site.secret));
  error.http_status = http_status;
  error.retry_after_ms = RetryAfterMs(headers, now_ms);
  return error;
}

ModelError ErrorObjectToModelError(const ErrorSite& site, int http_status,
                                   const nlohmann::json& error_body) {
  ErrorFields f = ExtractError(error_body);
  StatusCode code = CodeForErrorType(f.type, f.code, f.message);
  std::string message =
      DescribeSite(site) + ": the server reported an error in a " + std::to_string(http_status) +
      " response: " + Quote(f.message.empty() ? Excerpt(error_body.dump()) : f.message);
  if (!f.type.empty()) message += " (type " + f.type + ")";
  ModelError error;
  error.status = Status(code, ScrubSecret(std::move(message), site.secret));
  error.http_status = http_status;
  return error;
}

}  // namespace chorus
