// ScriptedClient: a ModelClient for in-process flow tests, supplied through RunOptions::clients
// (the embedding seam). It answers each request synchronously from a function and records
// what it was asked. Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "chorus/model_client.h"

namespace chorus {

class ScriptedClient final : public ModelClient {
 public:
  using Answer = std::function<ChatResult(const ChatRequest&)>;
  explicit ScriptedClient(Answer answer) : answer_(std::move(answer)) { config_.name = "m"; }
  void Submit(ChatRequest request, Callback done) override {
    ChatResult result = answer_(request);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(std::move(request));
    }
    done(std::move(result));
  }
  const EndpointConfig& config() const override { return config_; }
  int64_t pending() const override { return 0; }
  bool answers_in_process() const override { return in_process_; }
  // Declares the answers in-process and deterministic, as the offline model's are.
  void set_answers_in_process(bool in_process) { in_process_ = in_process; }
  std::vector<ChatRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  Answer answer_;
  EndpointConfig config_;
  bool in_process_ = false;
  std::mutex mu_;
  std::vector<ChatRequest> requests_;
};

inline ChatResult Text(std::string text) {
  ChatResponse r;
  r.text = std::move(text);
  r.finish_reason = "stop";
  r.usage = {10, 5, 0.001};
  return r;
}

}  // namespace chorus
