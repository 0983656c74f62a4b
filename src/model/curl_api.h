// libcurl, loaded by the first request that needs it (https://, a proxied host, a URL with
// credentials). chorus does not link libcurl: a run that speaks only plain http:// to its
// models, or runs offline, never maps it nor the TLS, Kerberos and LDAP libraries it pulls in
// (5.6 MB resident, and their start-up).
//
// Thread-safe: LoadCurl may be called from any thread; the functions are libcurl's own.
#pragma once

#include <curl/curl.h>

#include <span>

#include "chorus/status.h"

namespace chorus {

// The libcurl functions chorus calls, typed as curl.h declares them.
struct CurlApi {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_reset) easy_reset;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_multi_init) multi_init;
  decltype(&curl_multi_setopt) multi_setopt;
  decltype(&curl_multi_add_handle) multi_add_handle;
  decltype(&curl_multi_remove_handle) multi_remove_handle;
  decltype(&curl_multi_socket_action) multi_socket_action;
  decltype(&curl_multi_info_read) multi_info_read;
  decltype(&curl_multi_strerror) multi_strerror;
  decltype(&curl_multi_cleanup) multi_cleanup;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
};

// Loads libcurl and runs curl_global_init, once per process; every later call returns the
// first outcome. The error says which libraries could not be loaded or which symbol is missing.
Result<const CurlApi*> LoadCurl();

// What LoadCurl does, from the first of `sonames` that loads, filling *api; each call
// initialises libcurl again (libcurl counts them). For tests of the failures: LoadCurl
// remembers only one outcome per process.
Status LoadCurlInto(std::span<const char* const> sonames, CurlApi* api);

}  // namespace chorus
