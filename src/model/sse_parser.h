// SseParser: an incremental parser for Server-Sent Events (the WHATWG "text/event-stream"
// format) as used by OpenAI- and Anthropic-style streaming APIs. Bytes may be fed in chunks
// of any size: an event, a line or a CRLF pair split across chunks is reassembled. Lines end
// in LF, CRLF or CR; "data:" lines of one event are joined with "\n"; lines starting with ':'
// are comments; "event:" and "id:" are reported; an unknown field is ignored; a leading UTF-8
// BOM is skipped. An event is dispatched at a blank line if it has data, so a final event
// without its blank line is never reported (the stream was cut).
//
// Thread-safety: none; one parser per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace chorus {

struct SseEvent {
  std::string_view event;  // "" when the event had no "event:" field ("message" per the spec)
  std::string_view data;
  std::string_view id;
  // OpenAI-style end-of-stream sentinel.
  bool IsDone() const { return data == "[DONE]"; }
};

class SseParser {
 public:
  // Receives each complete event; the views are valid only during the call. Returning false
  // stops the parse: Feed returns false and ignores the rest of that chunk.
  using Handler = std::function<bool(const SseEvent& event)>;

  bool Feed(std::string_view chunk, const Handler& handler);

  // Bytes of the current incomplete line and event held across Feed calls.
  size_t buffered() const { return line_.size() + data_.size(); }

 private:
  // Returns false when the handler asked to stop.
  bool ProcessLine(std::string_view line, const Handler& handler);

  std::string line_;  // an incomplete line carried over from the previous chunk
  std::string data_;
  std::string event_;
  std::string id_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the previous chunk ended in CR: a leading LF completes that CRLF
  bool at_start_ = true;  // BOM check pending
};

}  // namespace chorus
