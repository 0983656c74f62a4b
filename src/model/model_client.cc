// MakeModelClient: validates an endpoint's configuration and builds its client.

#include "chorus/model_client.h"

#include <cstdlib>

#include "model/anthropic_client.h"
#include "model/http_model_client.h"
#include "model/offline_client.h"
#include "model/openai_client.h"

namespace chorus {
namespace {

std::string Where(const EndpointConfig& config) { return "model \"" + config.name + "\""; }

Status ValidateHttpConfig(const EndpointConfig& config, bool base_url_required) {
  if (config.model.empty()) {
    return Status::InvalidArgument(Where(config) + ": expected a model id (\"model\"), found none");
  }
  if (base_url_required && config.base_url.empty()) {
    return Status::InvalidArgument(Where(config) +
                                   ": expected a base_url such as https://api.openai.com/v1 or "
                                   "http://127.0.0.1:8080/v1, found none");
  }
  if (!config.base_url.empty() && !config.base_url.starts_with("http://") &&
      !config.base_url.starts_with("https://")) {
    return Status::InvalidArgument(Where(config) +
                                   ": expected base_url to start with http:// or "
                                   "https://, found \"" +
                                   RedactUrl(config.base_url) + "\"");
  }
  if (config.concurrency < 1) {
    return Status::InvalidArgument(Where(config) + ": expected concurrency >= 1, found " +
                                   std::to_string(config.concurrency));
  }
  if (config.timeout_ms <= 0 || config.connect_timeout_ms <= 0) {
    return Status::InvalidArgument(Where(config) + ": expected positive timeouts, found timeout " +
                                   std::to_string(config.timeout_ms) + " ms, connect timeout " +
                                   std::to_string(config.connect_timeout_ms) + " ms");
  }
  return Status::Ok();
}

// The key's value from the environment; an unset or empty variable is an error that names the
// variable (never a value).
Result<std::string> ApiKey(const EndpointConfig& config) {
  if (config.api_key_env.empty()) return std::string();
  const char* value = std::getenv(config.api_key_env.c_str());
  if (value == nullptr || *value == '\0') {
    return Err(Status::FailedPrecondition(
        Where(config) + ": api_key_env names the environment variable " + config.api_key_env +
        ", which is " + (value == nullptr ? "not set" : "empty") +
        "; export it or remove api_key_env"));
  }
  return std::string(value);
}

}  // namespace

Result<std::unique_ptr<ModelClient>> MakeModelClient(const EndpointConfig& config,
                                                     std::shared_ptr<HttpTransport> transport) {
  if (config.provider == Provider::kOffline) return MakeOfflineClient(config);
  if (config.provider != Provider::kOpenAI && config.provider != Provider::kAnthropic) {
    return Err(Status::InvalidArgument(Where(config) + ": unknown provider " +
                                       std::to_string(static_cast<int>(config.provider))));
  }
  bool openai = config.provider == Provider::kOpenAI;
  if (Status s = ValidateHttpConfig(config, /*base_url_required=*/openai); !s.ok()) {
    return Err(std::move(s));
  }
  if (transport == nullptr) {
    return Err(Status::InvalidArgument(Where(config) +
                                       ": an HTTP provider needs an HttpTransport, found null"));
  }
  Result<std::string> key = ApiKey(config);
  if (!key) return Err(std::move(key.error()));
  std::unique_ptr<ChatProtocol> protocol = openai ? MakeOpenAIProtocol(config, std::move(*key))
                                                  : MakeAnthropicProtocol(config, std::move(*key));
  return std::unique_ptr<ModelClient>(
      std::make_unique<HttpModelClient>(config, std::move(transport), std::move(protocol)));
}

}  // namespace chorus
