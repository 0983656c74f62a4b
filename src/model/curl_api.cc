#include "model/curl_api.h"

#include <dlfcn.h>

#include <string>

namespace chorus {
namespace {

// The ABI's soname since libcurl 7.16 (2006); Debian's libcurl4 packages provide it.
constexpr const char* kLibcurl = "libcurl.so.4";

// Sets *out to `name` in `library`; the first name that is missing lands in *missing.
template <typename Function>
void Resolve(void* library, const char* name, Function* out, std::string* missing) {
  *out = reinterpret_cast<Function>(dlsym(library, name));
  if (*out == nullptr && missing->empty()) *missing = name;
}

Result<const CurlApi*> Load() {
  // Never closed: libcurl's global state lives as long as the process.
  void* library = dlopen(kLibcurl, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return Err(Status::Unavailable(std::string("https and proxied requests need libcurl: "
                                               "cannot load ") +
                                   kLibcurl + ": " + (why ? why : "unknown error") +
                                   " (install Debian's libcurl4)"));
  }
  static CurlApi api;
  std::string missing;
  Resolve(library, "curl_global_init", &api.global_init, &missing);
  Resolve(library, "curl_easy_init", &api.easy_init, &missing);
  Resolve(library, "curl_easy_setopt", &api.easy_setopt, &missing);
  Resolve(library, "curl_easy_getinfo", &api.easy_getinfo, &missing);
  Resolve(library, "curl_easy_reset", &api.easy_reset, &missing);
  Resolve(library, "curl_easy_cleanup", &api.easy_cleanup, &missing);
  Resolve(library, "curl_easy_strerror", &api.easy_strerror, &missing);
  Resolve(library, "curl_multi_init", &api.multi_init, &missing);
  Resolve(library, "curl_multi_setopt", &api.multi_setopt, &missing);
  Resolve(library, "curl_multi_add_handle", &api.multi_add_handle, &missing);
  Resolve(library, "curl_multi_remove_handle", &api.multi_remove_handle, &missing);
  Resolve(library, "curl_multi_socket_action", &api.multi_socket_action, &missing);
  Resolve(library, "curl_multi_info_read", &api.multi_info_read, &missing);
  Resolve(library, "curl_multi_strerror", &api.multi_strerror, &missing);
  Resolve(library, "curl_multi_cleanup", &api.multi_cleanup, &missing);
  Resolve(library, "curl_slist_append", &api.slist_append, &missing);
  Resolve(library, "curl_slist_free_all", &api.slist_free_all, &missing);
  if (!missing.empty()) {
    return Err(Status::Unavailable(std::string(kLibcurl) + " has no " + missing +
                                   ": expected a libcurl of ABI version 4"));
  }
  // Not thread-safe in libcurl, hence here, inside the once-only initialisation. The
  // descriptor limit is left alone: a fan-out wider than `ulimit -n` is the operator's call
  // (the benchmarks raise it).
  if (CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return Err(Status::Internal(std::string("curl_global_init failed: ") + api.easy_strerror(rc)));
  }
  return &api;
}

}  // namespace

Result<const CurlApi*> LoadCurl() {
  static const Result<const CurlApi*> loaded = Load();
  return loaded;
}

}  // namespace chorus
