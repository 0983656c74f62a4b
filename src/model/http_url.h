// Plain http:// URLs for the HTTP/1.1 client, and the choice between it and libcurl.
//
// HttpTransport sends a request through its own HTTP/1.1 client when the URL is plain http://
// without credentials and no proxy applies to its host; https://, proxied hosts, URLs with
// user:password@ and anything unrecognised go to libcurl, which also reports the errors of
// schemes neither supports. All functions are thread-safe; ProxyApplies reads the environment.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chorus {

// The pieces of "http://host[:port][/path][?query][#fragment]" the client needs, as views into
// the URL.
struct PlainHttpUrl {
  std::string_view host;       // without the brackets of an IPv6 literal
  std::string_view authority;  // "host[:port]" as written, for the Host header
  std::string_view target;     // "/path?query", without the fragment; empty means "/"
  uint16_t port = 80;
  bool has_userinfo = false;  // user:password@ before the host
};

// Whether `url` starts with "http://" (in any case).
bool IsPlainHttpScheme(std::string_view url);

// Parses an http:// URL; on failure returns false and says why in `error`.
bool ParsePlainHttpUrl(std::string_view url, PlainHttpUrl* out, std::string* error);

// Whether libcurl's proxy environment (http_proxy, HTTP_PROXY, all_proxy, ALL_PROXY, minus
// no_proxy/NO_PROXY) would send a request for `host` through a proxy. Loopback hosts never are.
bool ProxyApplies(std::string_view host);

// Whether the request should go through the HTTP/1.1 client rather than libcurl.
bool UsesPlainHttpClient(std::string_view url);

}  // namespace chorus
