#include "model/http_errors.h"

#include <gtest/gtest.h>

namespace chorus {
namespace {

const ErrorSite kSite{"fast", "POST https://api.example.com/v1/chat/completions", "sk-secret-key"};

ModelError Map(int status, std::string_view body, const HttpHeaders& headers = {}) {
  return HttpErrorToModelError(kSite, status, headers, body, /*now_ms=*/0);
}

TEST(HttpErrors, MapsHttpStatusToStatusCode) {
  struct Case {
    int http;
    StatusCode code;
  };
  for (Case c : {Case{400, StatusCode::kInvalidArgument}, Case{401, StatusCode::kUnauthenticated},
                 Case{403, StatusCode::kPermissionDenied}, Case{404, StatusCode::kNotFound},
                 Case{408, StatusCode::kUnavailable}, Case{409, StatusCode::kUnavailable},
                 Case{422, StatusCode::kInvalidArgument}, Case{425, StatusCode::kUnavailable},
                 Case{429, StatusCode::kResourceExhausted}, Case{500, StatusCode::kUnavailable},
                 Case{502, StatusCode::kUnavailable}, Case{503, StatusCode::kUnavailable},
                 Case{504, StatusCode::kUnavailable}, Case{529, StatusCode::kUnavailable},
                 Case{599, StatusCode::kUnavailable}, Case{301, StatusCode::kFailedPrecondition}}) {
    ModelError e = Map(c.http, "{\"error\":{\"message\":\"m\"}}");
    EXPECT_EQ(e.status.code(), c.code) << c.http;
    EXPECT_EQ(e.http_status, c.http);
  }
}

TEST(HttpErrors, RecognizesContextLengthErrorsOfEachProvider) {
  const char* openai = R"({"error":{"message":"too long","type":"invalid_request_error",)"
                       R"("code":"context_length_exceeded"}})";
  const char* llama_cpp =
      R"({"error":{"code":400,"message":"request (683 tokens) exceeds the available context )"
      R"j(size (256 tokens)","type":"exceed_context_size_error"}})j";
  const char* anthropic = R"({"type":"error","error":{"type":"invalid_request_error",)"
                          R"("message":"prompt is too long: 210000 tokens > 200000 maximum"}})";
  const char* vllm = R"({"detail":"This model's maximum context length is 4096 tokens"})";
  for (const char* body : {openai, llama_cpp, anthropic, vllm}) {
    EXPECT_EQ(Map(400, body).status.code(), StatusCode::kContextExceeded) << body;
  }
  EXPECT_EQ(Map(400, R"({"error":{"message":"temperature must be <= 2"}})").status.code(),
            StatusCode::kInvalidArgument);
}

TEST(HttpErrors, QuotesTheServerMessageWithEndpointUrlAndStatus) {
  ModelError e = Map(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})");
  EXPECT_EQ(e.status.message(),
            "endpoint \"fast\" (POST https://api.example.com/v1/chat/completions): HTTP 429: "
            "\"Rate limit reached\" (type requests)");
}

TEST(HttpErrors, QuotesABodyThatIsNotJson) {
  ModelError e = Map(502, "<html>\n<b>Bad gateway</b></html>");
  EXPECT_NE(e.status.message().find("HTTP 502: \"<html> <b>Bad gateway</b></html>\""),
            std::string::npos)
      << e.status.message();
  EXPECT_NE(Map(503, "").status.message().find("empty body"), std::string::npos);
}

TEST(HttpErrors, NeverRepeatsTheApiKeyAServerEchoes) {
  ModelError e = Map(401, R"({"error":{"message":"Incorrect API key provided: sk-secret-key"}})");
  EXPECT_EQ(e.status.message().find("sk-secret-key"), std::string::npos);
  EXPECT_NE(e.status.message().find("[redacted]"), std::string::npos);
}

TEST(HttpErrors, ReadsRetryAfterInEveryForm) {
  EXPECT_EQ(RetryAfterMs({{"retry-after", "2"}}, 0), 2000);
  EXPECT_EQ(RetryAfterMs({{"retry-after", "0.5"}}, 0), 500);
  EXPECT_EQ(RetryAfterMs({{"retry-after-ms", "1234"}, {"retry-after", "9"}}, 0), 1234);
  // 784111777 s = Sun, 06 Nov 1994 08:49:37 GMT.
  EXPECT_EQ(RetryAfterMs({{"retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"}}, 784111770000), 7000);
  EXPECT_EQ(RetryAfterMs({{"retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"}}, 784111999000), 0);
  EXPECT_EQ(RetryAfterMs({{"retry-after", "soon"}}, 0), std::nullopt);
  EXPECT_EQ(RetryAfterMs({}, 0), std::nullopt);
  EXPECT_EQ(Map(429, "{}", {{"retry-after", "3"}}).retry_after_ms, 3000);
}

TEST(HttpErrors, ClassifiesErrorObjectsInsideSuccessfulResponses) {
  auto code = [](const char* body) {
    return ErrorObjectToModelError(kSite, 200, nlohmann::json::parse(body)).status.code();
  };
  EXPECT_EQ(code(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
            StatusCode::kUnavailable);
  EXPECT_EQ(code(R"({"error":{"type":"rate_limit_error","message":"slow down"}})"),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(code(R"({"error":{"type":"invalid_request_error","message":"bad"}})"),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"error":"model crashed"})"), StatusCode::kUnavailable);
}

TEST(RedactUrl, HidesUserInfoAndQuery) {
  EXPECT_EQ(RedactUrl("https://user:pw@host:8080/v1/x?key=abc#f"),
            "https://***@host:8080/v1/x?***");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:9/v1"), "http://127.0.0.1:9/v1");
}

}  // namespace
}  // namespace chorus
