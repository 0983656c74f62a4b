// How the plain-HTTP client frames a request on the wire: the request line and headers, and
// whether a body follows. Free functions; no state.
#pragma once

#include <string>

#include "model/http_transport.h"
#include "model/http_url.h"

namespace chorus {

// Whether the request carries a body and a Content-Length, as libcurl frames them: every
// method but HEAD, and GET only when the body is not empty.
bool SendsBody(const HttpRequest& r);

// The request line and headers into `out` (cleared first). The caller's lines follow
// libcurl's conventions: "Name:" with no value suppresses a header, "Name;" sends it empty,
// and a Host line replaces ours. Content-Length and Expect are ours alone: the body is framed
// here and never waits for 100.
void BuildHead(const HttpRequest& r, const PlainHttpUrl& url, std::string* out);

}  // namespace chorus
