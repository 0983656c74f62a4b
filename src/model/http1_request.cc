#include "model/http1_request.h"

#include <algorithm>
#include <string_view>

namespace chorus {
namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);  // header names are ASCII letters, digits and '-'
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool SendsBody(const HttpRequest& r) {
  return r.method != "HEAD" && !(r.method == "GET" && r.body.empty());
}

void BuildHead(const HttpRequest& r, const PlainHttpUrl& url, std::string* out) {
  out->clear();
  out->append(r.method).push_back(' ');
  if (url.target.empty() || url.target.front() != '/') out->push_back('/');
  out->append(url.target).append(" HTTP/1.1\r\n");
  bool caller_host = false;
  for (const std::string& line : r.headers) {
    std::string_view name = Trim(std::string_view(line).substr(0, line.find(':')));
    caller_host = caller_host || EqualsIgnoringCase(name, "host");
  }
  if (!caller_host) out->append("Host: ").append(url.authority).append("\r\n");
  for (const std::string& line : r.headers) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      if (!line.empty() && line.back() == ';') {
        out->append(line, 0, line.size() - 1).append(":\r\n");
      }
      continue;
    }
    std::string_view name = Trim(std::string_view(line).substr(0, colon));
    if (Trim(std::string_view(line).substr(colon + 1)).empty() ||
        EqualsIgnoringCase(name, "content-length") || EqualsIgnoringCase(name, "expect")) {
      continue;
    }
    out->append(line).append("\r\n");
  }
  if (SendsBody(r)) out->append("Content-Length: ").append(std::to_string(r.body.size()));
  out->append(SendsBody(r) ? "\r\n\r\n" : "\r\n");
}

}  // namespace chorus
