#include "model/curl_api.h"

#include <dlfcn.h>

#include <span>
#include <string>

namespace chorus {
namespace {

// The ABI's soname since libcurl 7.16 (2006), from Debian's libcurl4; then the same ABI built
// on GnuTLS and on NSS (libcurl3-gnutls, libcurl3-nss), which machines often have instead:
// git depends on the GnuTLS one.
constexpr const char* kSonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4"};

// Sets *out to `name` in `library`; the first name that is missing lands in *missing.
template <typename Function>
void Resolve(void* library, const char* name, Function* out, std::string* missing) {
  *out = reinterpret_cast<Function>(dlsym(library, name));
  if (*out == nullptr && missing->empty()) *missing = name;
}

}  // namespace

Status LoadCurlInto(std::span<const char* const> sonames, CurlApi* api) {
  // Never closed: libcurl's global state lives as long as the process.
  void* library = nullptr;
  const char* soname = nullptr;
  std::string failures;
  for (const char* candidate : sonames) {
    library = dlopen(candidate, RTLD_NOW | RTLD_LOCAL);
    if (library != nullptr) {
      soname = candidate;
      break;
    }
    const char* why = dlerror();
    if (!failures.empty()) failures += "; ";
    failures += why != nullptr ? why : std::string(candidate) + ": unknown error";
  }
  if (library == nullptr) {
    return Status::Unavailable(
        "https and proxied requests need libcurl, and none could be loaded (" + failures +
        "); install Debian's libcurl4 or libcurl3-gnutls");
  }
  CurlApi found{};
  std::string missing;
  Resolve(library, "curl_global_init", &found.global_init, &missing);
  Resolve(library, "curl_easy_init", &found.easy_init, &missing);
  Resolve(library, "curl_easy_setopt", &found.easy_setopt, &missing);
  Resolve(library, "curl_easy_getinfo", &found.easy_getinfo, &missing);
  Resolve(library, "curl_easy_reset", &found.easy_reset, &missing);
  Resolve(library, "curl_easy_cleanup", &found.easy_cleanup, &missing);
  Resolve(library, "curl_easy_strerror", &found.easy_strerror, &missing);
  Resolve(library, "curl_multi_init", &found.multi_init, &missing);
  Resolve(library, "curl_multi_setopt", &found.multi_setopt, &missing);
  Resolve(library, "curl_multi_add_handle", &found.multi_add_handle, &missing);
  Resolve(library, "curl_multi_remove_handle", &found.multi_remove_handle, &missing);
  Resolve(library, "curl_multi_socket_action", &found.multi_socket_action, &missing);
  Resolve(library, "curl_multi_info_read", &found.multi_info_read, &missing);
  Resolve(library, "curl_multi_strerror", &found.multi_strerror, &missing);
  Resolve(library, "curl_multi_cleanup", &found.multi_cleanup, &missing);
  Resolve(library, "curl_slist_append", &found.slist_append, &missing);
  Resolve(library, "curl_slist_free_all", &found.slist_free_all, &missing);
  if (!missing.empty()) {
    return Status::Unavailable(std::string(soname) + " has no " + missing +
                               ": expected a libcurl of ABI version 4");
  }
  // Not thread-safe in libcurl: LoadCurl calls this inside its once-only initialisation, and
  // tests from a single thread. The descriptor limit is left alone: a fan-out wider than
  // `ulimit -n` is the operator's call (the benchmarks raise it).
  if (CURLcode rc = found.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return Status::Internal(std::string(soname) +
                            ": curl_global_init failed: " + found.easy_strerror(rc));
  }
  *api = found;
  return Status::Ok();
}

Result<const CurlApi*> LoadCurl() {
  static CurlApi api;
  static const Result<const CurlApi*> loaded = []() -> Result<const CurlApi*> {
    if (Status status = LoadCurlInto(kSonames, &api); !status.ok()) return Err(std::move(status));
    return &api;
  }();
  return loaded;
}

}  // namespace chorus
