// RequestLog: every API request the fake LLM server received, as compact JSON records kept in
// memory (the newest `keep` of them, served by GET /_requests) and optionally appended to a
// JSON-lines file, flushed per line so a test can read it while the server runs.
//
// Thread-safety: none; owned by the server's I/O thread.
#pragma once

#include <cstdio>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <tl/expected.hpp>

namespace chorus::fake {

class RequestLog {
 public:
  explicit RequestLog(size_t keep) : keep_(keep) {}
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Appends to `path` from now on; fails with the path and errno text.
  tl::expected<void, std::string> OpenFile(const std::string& path);
  void Append(const nlohmann::json& record);
  // The kept records as one JSON array.
  std::string ToJsonArray() const;
  void Clear() { lines_.clear(); }

 private:
  size_t keep_;
  std::deque<std::string> lines_;  // serialized once: cheap to keep and to serve
  std::FILE* file_ = nullptr;
};

}  // namespace chorus::fake
