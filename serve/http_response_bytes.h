// The bytes an answer is sent as: the status line, Content-Type, Content-Length, Connection
// when it is not the default of the request's version, the extra fields, then the body
// (left out for HEAD, with Content-Length still that of the body).
#pragma once
#include <string>
#include <string_view>

#include "serve/http_message.h"

namespace convoy::serve {

struct ResponseFraming {
  bool keep_alive = true;    // the connection stays open after this answer
  int minor_version = 1;     // the request's HTTP/1.<minor_version>
  bool head_only = false;    // a HEAD request: no body
};

std::string http_response_bytes(const HttpResponse& response, const ResponseFraming& framing);

// The interim answer to "Expect: 100-continue".
std::string_view http_continue_bytes();

}  // namespace convoy::serve
