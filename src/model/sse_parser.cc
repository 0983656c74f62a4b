#include "model/sse_parser.h"

namespace chorus {

bool SseParser::Feed(std::string_view chunk, const Handler& handler) {
  if (at_start_) {
    // A BOM may be split across chunks: hold bytes until three have arrived or they diverge.
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    line_.append(chunk);
    if (line_.size() < kBom.size() && kBom.starts_with(line_)) return true;
    at_start_ = false;
    std::string head = std::move(line_);
    line_.clear();
    std::string_view rest = head;
    if (rest.starts_with(kBom)) rest.remove_prefix(kBom.size());
    return Feed(rest, handler);
  }
  if (skip_lf_ && !chunk.empty()) {
    skip_lf_ = false;
    if (chunk.front() == '\n') chunk.remove_prefix(1);
  }
  while (!chunk.empty()) {
    size_t end = chunk.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_.append(chunk);
      return true;
    }
    std::string_view line = chunk.substr(0, end);
    size_t next = end + 1;
    if (chunk[end] == '\r') {
      if (next < chunk.size()) {
        if (chunk[next] == '\n') ++next;
      } else {
        skip_lf_ = true;
      }
    }
    chunk.remove_prefix(next);
    bool keep_going;
    if (line_.empty()) {
      keep_going = ProcessLine(line, handler);
    } else {
      line_.append(line);
      keep_going = ProcessLine(line_, handler);
      line_.clear();
    }
    if (!keep_going) return false;
  }
  return true;
}

bool SseParser::ProcessLine(std::string_view line, const Handler& handler) {
  if (line.empty()) {
    bool keep_going = true;
    if (has_data_) {
      SseEvent event{event_, data_, id_};
      keep_going = handler(event);
    }
    data_.clear();
    event_.clear();
    has_data_ = false;
    return keep_going;  // id_ persists across events, as the spec's "last event ID" does
  }
  if (line.front() == ':') return true;  // comment, e.g. a keep-alive ping
  std::string_view field = line;
  std::string_view value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_.assign(value);
  }
  return true;  // "retry" and unknown fields carry nothing we use
}

}  // namespace chorus
