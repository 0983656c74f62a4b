#include "model/http1_parser.h"

#include <algorithm>
#include <utility>

namespace chorus {
namespace {

// A chunk-size line is a hex number and optional extensions; nothing legitimate comes close.
constexpr size_t kMaxChunkLineBytes = 4096;

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// `s` quoted for an error message: at most 60 bytes, control and non-ASCII bytes escaped.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 60)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  if (s.size() > 60) out += "...";
  return out + "\"";
}

// Whether the comma-separated list `value` holds `token`, ignoring case.
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = Trim(value.substr(0, comma));
    if (item.size() == token.size() &&
        std::equal(item.begin(), item.end(), token.begin(),
                   [](char a, char b) { return AsciiLower(a) == b; })) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void Http1ResponseParser::Reset(bool head_request) {
  state_ = State::kStatusLine;
  head_request_ = head_request;
  started_ = false;
  keep_alive_ = false;
  http10_ = false;
  status_ = 0;
  head_bytes_ = 0;
  remaining_ = 0;
  body_bytes_ = 0;
  body_length_ = 0;
  std::string().swap(partial_);
  headers_.clear();
  last_value_ = nullptr;
  error_.clear();
}

Http1ResponseParser::Progress Http1ResponseParser::Fail(std::string message) {
  state_ = State::kError;
  error_ = std::move(message);
  return Progress::kError;
}

bool Http1ResponseParser::TakeLine(std::string_view data, size_t* pos, size_t limit,
                                   std::string_view* line) {
  std::string_view rest = data.substr(*pos);
  size_t newline = rest.find('\n');
  if (newline == std::string_view::npos) {
    if (partial_.size() + rest.size() > limit) {
      Fail("");  // the caller names what was too long
      return false;
    }
    partial_.append(rest);
    *pos = data.size();
    return false;
  }
  if (partial_.size() + newline + 1 > limit) {
    Fail("");
    return false;
  }
  *pos += newline + 1;
  if (partial_.empty()) {
    *line = rest.substr(0, newline);
  } else {
    partial_.append(rest.substr(0, newline));
    *line = partial_;
  }
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  return true;
}

Http1ResponseParser::Progress Http1ResponseParser::Feed(std::string_view data, Receiver& receiver,
                                                        size_t* consumed) {
  if (!data.empty()) started_ = true;
  size_t pos = 0;
  while (true) {
    switch (state_) {
      case State::kStatusLine:
      case State::kHeaders:
      case State::kTrailers: {
        size_t before = pos;
        State was = state_;
        std::string_view line;
        // partial_ was counted in head_bytes_ when it arrived.
        bool whole = TakeLine(data, &pos, kMaxHeadBytes - head_bytes_ + partial_.size(), &line);
        head_bytes_ += pos - before;
        if (state_ == State::kError) {
          return Fail(was == State::kTrailers
                          ? "the chunked body's trailers exceed 64 KiB"
                          : "the response head (status line and headers) exceeds 64 KiB");
        }
        if (!whole) {
          // Garbage instead of a status line fails at once rather than at the size limit.
          std::string_view expected = "HTTP/1.";
          size_t n = std::min(partial_.size(), expected.size());
          if (state_ == State::kStatusLine && partial_ != "\r" &&
              partial_.compare(0, n, expected, 0, n) != 0) {
            return Fail("expected an HTTP/1.x status line, found " + Quoted(partial_));
          }
          return Progress::kNeedMore;
        }
        bool ok = true;
        if (state_ == State::kStatusLine) {
          ok = OnStatusLine(line);
        } else if (state_ == State::kTrailers) {
          if (line.empty()) state_ = State::kDone;  // trailer fields are not reported
        } else if (line.empty()) {
          ok = OnHeadEnd(receiver);
        } else {
          ok = OnHeaderLine(line);
        }
        partial_.clear();
        if (!ok) return Progress::kError;
        break;
      }
      case State::kLengthBody:
      case State::kChunkData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - pos));
        if (n > 0) {
          remaining_ -= n;
          body_bytes_ += n;
          std::string_view piece = data.substr(pos, n);
          pos += n;
          if (!receiver.OnResponseBody(piece)) return Progress::kAborted;
        }
        if (remaining_ > 0) return Progress::kNeedMore;
        state_ = state_ == State::kLengthBody ? State::kDone : State::kChunkDataEnd;
        break;
      }
      case State::kChunkSize:
      case State::kChunkDataEnd: {
        State was = state_;
        std::string_view line;
        size_t limit = was == State::kChunkSize ? kMaxChunkLineBytes : 2;
        bool whole = TakeLine(data, &pos, limit, &line);
        bool bad_end = was == State::kChunkDataEnd &&
                       (whole ? !line.empty() : !partial_.empty() && partial_ != "\r");
        if (state_ == State::kError || bad_end) {
          return Fail(was == State::kChunkDataEnd
                          ? "expected CRLF after a chunk of the chunked body"
                          : "a chunk-size line of the chunked body exceeds 4 KiB");
        }
        if (!whole) return Progress::kNeedMore;
        bool ok = true;
        if (was == State::kChunkDataEnd) {
          state_ = State::kChunkSize;
        } else {
          ok = OnChunkSizeLine(line);
        }
        partial_.clear();
        if (!ok) return Progress::kError;
        break;
      }
      case State::kUntilClose: {
        std::string_view piece = data.substr(pos);
        body_bytes_ += piece.size();
        if (!piece.empty() && !receiver.OnResponseBody(piece)) return Progress::kAborted;
        return Progress::kNeedMore;
      }
      case State::kDone:
        if (consumed != nullptr) *consumed = pos;
        return Progress::kComplete;
      case State::kError:
        return Progress::kError;
    }
  }
}

Http1ResponseParser::Progress Http1ResponseParser::Finish() {
  switch (state_) {
    case State::kUntilClose:
      state_ = State::kDone;
      return Progress::kComplete;
    case State::kDone:
      return Progress::kComplete;
    case State::kError:
      return Progress::kError;
    case State::kStatusLine:
      if (!started_) return Fail("the server closed the connection without sending a response");
      [[fallthrough]];
    case State::kHeaders:
      return Fail("the server closed the connection in the middle of the response head");
    case State::kLengthBody:
      return Fail("the server closed the connection after " + std::to_string(body_bytes_) + " of " +
                  std::to_string(body_length_) + " body bytes");
    case State::kChunkSize:
    case State::kChunkData:
    case State::kChunkDataEnd:
    case State::kTrailers:
      return Fail("the server closed the connection before the end of the chunked body, after " +
                  std::to_string(body_bytes_) + " body bytes");
  }
  return Progress::kError;
}

bool Http1ResponseParser::OnStatusLine(std::string_view line) {
  if (line.empty()) return true;  // tolerated before a status line, as browsers do
  // "HTTP/1.1 200 OK"; the reason phrase may be empty or missing.
  bool valid = line.size() >= 12 && line.starts_with("HTTP/1.") && IsDigit(line[7]) &&
               line[8] == ' ' && IsDigit(line[9]) && IsDigit(line[10]) && IsDigit(line[11]) &&
               (line.size() == 12 || line[12] == ' ') && line[9] != '0';
  if (!valid) {
    Fail("expected an HTTP/1.x status line, found " + Quoted(line));
    return false;
  }
  http10_ = line[7] == '0';
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  headers_.clear();
  last_value_ = nullptr;
  state_ = State::kHeaders;
  return true;
}

bool Http1ResponseParser::OnHeaderLine(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    // Obsolete line folding: the line continues the previous header's value.
    if (last_value_ == nullptr) {
      Fail("a folded header line with no header before it: " + Quoted(line));
      return false;
    }
    std::string_view more = Trim(line);
    if (!more.empty()) {
      if (!last_value_->empty()) last_value_->push_back(' ');
      last_value_->append(more);
    }
    return true;
  }
  size_t colon = line.find(':');
  std::string_view raw_name = colon == std::string_view::npos ? "" : Trim(line.substr(0, colon));
  if (raw_name.empty()) {
    Fail("expected a header line \"Name: value\", found " + Quoted(line));
    return false;
  }
  std::string name(raw_name);
  for (char& c : name) c = AsciiLower(c);
  std::string_view value = Trim(line.substr(colon + 1));
  auto [it, inserted] = headers_.try_emplace(std::move(name), value);
  if (!inserted) {
    it->second.append(", ");
    it->second.append(value);
  }
  last_value_ = &it->second;
  return true;
}

bool Http1ResponseParser::OnHeadEnd(Receiver& receiver) {
  if (status_ < 200) {
    if (status_ == 101) {
      Fail("the server switched protocols (101), which was not asked for");
      return false;
    }
    state_ = State::kStatusLine;  // an interim response: the real one follows
    head_bytes_ = 0;
    headers_.clear();
    last_value_ = nullptr;
    return true;
  }
  auto connection = headers_.find("connection");
  std::string_view connection_value =
      connection == headers_.end() ? std::string_view() : std::string_view(connection->second);
  keep_alive_ =
      http10_ ? HasToken(connection_value, "keep-alive") : !HasToken(connection_value, "close");

  bool has_body = !head_request_ && status_ != 204 && status_ != 304;
  auto encoding = headers_.find("transfer-encoding");
  auto length = headers_.find("content-length");
  if (!has_body) {
    state_ = State::kDone;
  } else if (encoding != headers_.end()) {
    std::string_view codings = encoding->second;
    size_t comma = codings.rfind(',');
    std::string_view last = comma == std::string_view::npos ? codings : codings.substr(comma + 1);
    if (HasToken(last, "chunked")) {
      state_ = State::kChunkSize;
    } else {
      state_ = State::kUntilClose;  // RFC 9112 6.3: a non-chunked final coding ends at close
      keep_alive_ = false;
    }
  } else if (length != headers_.end()) {
    // Repeated identical values ("12, 12") are allowed; anything else is ambiguous framing.
    std::string_view values = length->second;
    bool valid = true;
    bool first = true;
    uint64_t parsed = 0;
    while (valid) {
      size_t comma = values.find(',');
      std::string_view item = Trim(values.substr(0, comma));
      uint64_t n = 0;
      valid = !item.empty() && item.size() <= 18 && std::all_of(item.begin(), item.end(), IsDigit);
      for (char c : item) n = n * 10 + static_cast<uint64_t>(c - '0');
      valid = valid && (first || n == parsed);
      parsed = n;
      first = false;
      if (comma == std::string_view::npos) break;
      values.remove_prefix(comma + 1);
    }
    if (!valid) {
      Fail("expected a Content-Length of digits, found " + Quoted(length->second));
      return false;
    }
    body_length_ = remaining_ = parsed;
    state_ = parsed == 0 ? State::kDone : State::kLengthBody;
  } else {
    state_ = State::kUntilClose;
    keep_alive_ = false;
  }
  receiver.OnResponseHead(status_, headers_);
  // The head is not needed any more; a waiting response keeps nothing of it.
  headers_.clear();
  last_value_ = nullptr;
  std::string().swap(partial_);
  return true;
}

bool Http1ResponseParser::OnChunkSizeLine(std::string_view line) {
  uint64_t size = 0;
  size_t digits = 0;
  for (; digits < line.size(); ++digits) {
    char c = AsciiLower(line[digits]);
    int v = IsDigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) break;
    size = size * 16 + static_cast<uint64_t>(v);
  }
  std::string_view rest = Trim(line.substr(digits));
  if (digits == 0 || digits > 15 || (!rest.empty() && rest.front() != ';')) {
    Fail("expected a chunk size in hex, found " + Quoted(line));
    return false;
  }
  if (size == 0) {
    state_ = State::kTrailers;
    head_bytes_ = 0;
  } else {
    remaining_ = size;
    state_ = State::kChunkData;
  }
  return true;
}

}  // namespace chorus
