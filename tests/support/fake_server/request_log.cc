#include "support/fake_server/request_log.h"

#include <cerrno>
#include <cstring>

namespace chorus::fake {

RequestLog::~RequestLog() {
  if (file_ != nullptr) std::fclose(file_);
}

tl::expected<void, std::string> RequestLog::OpenFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) {
    return tl::unexpected("--record " + path +
                          ": cannot open for appending: " + std::strerror(errno));
  }
  if (file_ != nullptr) std::fclose(file_);
  file_ = file;
  return {};
}

void RequestLog::Append(const nlohmann::json& record) {
  if (file_ == nullptr && keep_ == 0) return;  // nothing keeps it: printing it is wasted
  // Invalid UTF-8 in a request body must not abort the server: replace it.
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (file_ != nullptr) {
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fputc('\n', file_);
    std::fflush(file_);
  }
  if (keep_ == 0) return;
  if (lines_.size() == keep_) lines_.pop_front();
  lines_.push_back(std::move(line));
}

std::string RequestLog::ToJsonArray() const {
  size_t size = 2;
  for (const std::string& line : lines_) size += line.size() + 1;
  std::string out;
  out.reserve(size);
  out += '[';
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (i > 0) out += ',';
    out += lines_[i];
  }
  out += ']';
  return out;
}

}  // namespace chorus::fake
