// Parsing one HTTP/1.x request head (request line and header fields): a pure function of the
// bytes and the limits, so it can be fuzzed on its own (fuzz/fuzz_http_request.cpp).
//
// Strict where leniency lets two readers disagree about where a request ends (request
// smuggling): a field name with space before its colon, obsolete line folding, control bytes
// in a value, a Content-Length that is not digits or that repeats with another value,
// Content-Length together with Transfer-Encoding, a Transfer-Encoding whose last coding is not
// chunked, and Transfer-Encoding on HTTP/1.0 are all 400. Lines may end in CRLF or LF.
#pragma once
#include <string_view>
#include <variant>

#include "serve/http_message.h"

namespace convoy::serve {

// `head`: the request line and the field lines, each ended by LF or CRLF, without the empty
// line that ends the head. A declared Content-Length over limits.max_body_bytes is a 413 here,
// so it is refused before any of the body is read.
std::variant<HttpHead, HttpError> parse_http_head(std::string_view head, const HttpLimits& limits);

}  // namespace convoy::serve
