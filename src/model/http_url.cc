#include "model/http_url.h"

#include <cstdlib>

#include "model/http_transport.h"

namespace chorus {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool EndsWithIgnoringCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         EqualsIgnoringCase(s.substr(s.size() - suffix.size()), suffix);
}

const char* NonEmptyEnv(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// libcurl's no_proxy matching: "*" matches every host; otherwise a comma-separated list of
// names, each matching itself and its subdomains (a leading dot is optional).
bool NoProxyCovers(std::string_view list, std::string_view host) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*") return true;
    if (!item.empty() && item.front() == '.') item.remove_prefix(1);
    if (!item.empty() &&
        (EqualsIgnoringCase(host, item) ||
         (EndsWithIgnoringCase(host, item) && host[host.size() - item.size() - 1] == '.'))) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool IsPlainHttpScheme(std::string_view url) {
  return url.size() >= 7 && EqualsIgnoringCase(url.substr(0, 7), "http://");
}

bool ParsePlainHttpUrl(std::string_view url, PlainHttpUrl* out, std::string* error) {
  *out = PlainHttpUrl{};
  if (!IsPlainHttpScheme(url)) {
    *error = "expected an http:// URL";
    return false;
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      *error = "the URL contains a space or a control character";
      return false;
    }
  }
  std::string_view rest = url.substr(7);
  size_t path = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    out->has_userinfo = true;
    authority.remove_prefix(at + 1);
  }
  out->authority = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "expected ']' after the IPv6 address";
      return false;
    }
    out->host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      *error = "expected ':' or the path after the IPv6 address";
      return false;
    }
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = authority.find(':');
    out->host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out->host.empty()) {
    *error = "the URL has no host";
    return false;
  }
  if (!port.empty()) {
    uint32_t n = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || n > 65535) {
        *error = "expected a port number from 1 to 65535";
        return false;
      }
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    if (n == 0 || n > 65535) {
      *error = "expected a port number from 1 to 65535";
      return false;
    }
    out->port = static_cast<uint16_t>(n);
  }
  if (path != std::string_view::npos) {
    std::string_view target = rest.substr(path);
    out->target = target.substr(0, target.find('#'));
  }
  return true;
}

bool ProxyApplies(std::string_view host) {
  if (host == "127.0.0.1" || host == "::1" || EqualsIgnoringCase(host, "localhost")) return false;
  if (NonEmptyEnv("http_proxy") == nullptr && NonEmptyEnv("HTTP_PROXY") == nullptr &&
      NonEmptyEnv("all_proxy") == nullptr && NonEmptyEnv("ALL_PROXY") == nullptr) {
    return false;
  }
  const char* no_proxy = NonEmptyEnv("no_proxy");
  if (no_proxy == nullptr) no_proxy = NonEmptyEnv("NO_PROXY");
  return no_proxy == nullptr || !NoProxyCovers(no_proxy, host);
}

bool UsesPlainHttpClient(std::string_view url) {
  if (!IsPlainHttpScheme(url)) return false;
  PlainHttpUrl parts;
  std::string error;
  // A malformed http:// URL stays here too, so that its error names what is wrong with it.
  if (!ParsePlainHttpUrl(url, &parts, &error)) return true;
  return !parts.has_userinfo && !ProxyApplies(parts.host);
}

std::string RedactUrl(std::string_view url) {
  std::string out;
  size_t scheme_end = url.find("://");
  size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t path = url.find_first_of("/?#", authority);
  std::string_view host_part = url.substr(
      authority, path == std::string_view::npos ? std::string_view::npos : path - authority);
  size_t at = host_part.rfind('@');
  out.append(url.substr(0, authority));
  if (at != std::string_view::npos) {
    out.append("***@");
    out.append(host_part.substr(at + 1));
  } else {
    out.append(host_part);
  }
  if (path == std::string_view::npos) return out;
  std::string_view rest = url.substr(path);
  size_t query = rest.find_first_of("?#");
  out.append(rest.substr(0, query));
  if (query != std::string_view::npos && rest[query] == '?') out.append("?***");
  return out;
}

}  // namespace chorus
