// The HTTP/1.1 messages of serve/http_server.h: what a request head holds once parsed, a
// whole request, an answer, a refusal, and the limits every request is read under. Plain
// data, no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convoy::serve {

struct HttpLimits {
  size_t max_request_line = 8 * 1024;    // longer: 414
  size_t max_head_bytes = 16 * 1024;     // request line and header fields together; longer: 431
  size_t max_header_fields = 100;        // more: 431
  size_t max_body_bytes = 6 * 1024 * 1024;  // declared or (chunked) received; more: 413
};

// A request line and its header fields, with what the server needs from them already read.
struct HttpHead {
  std::string method;   // "GET", "POST", ... (case-sensitive, as sent)
  std::string target;   // as sent: "/invocations?x=1"
  std::string path;     // the target without its query: "/invocations"
  int minor_version = 1;  // HTTP/1.<minor_version>: 0 or 1
  std::vector<std::pair<std::string, std::string>> fields;  // names as sent, values trimmed

  // From the fields:
  bool chunked = false;          // Transfer-Encoding: chunked
  uint64_t content_length = 0;   // 0 when absent (and when chunked)
  bool keep_alive = true;        // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "keep-alive"
  bool expect_continue = false;  // "Expect: 100-continue"

  // The first field of that name (case-insensitive), or "" when there is none.
  std::string_view field(std::string_view name) const;
};

struct HttpRequest {
  HttpHead head;
  std::string body;  // the decoded body (chunked framing removed)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> fields;  // extra header fields, e.g. Allow
  bool close = false;  // close the connection after this answer
};

// A request the reader refuses: the status to answer (400, 408, 413, 414, 417, 431, 501,
// 505) and why, in words for the client. The connection is closed after the answer.
struct HttpError {
  int status = 400;
  std::string message;
};

// The reason phrase of a status code ("Not Found"), "Unknown" for codes it does not know.
const char* http_reason_phrase(int status);

// True for the bytes RFC 9110 allows in a token (method and field names).
bool is_http_token_char(unsigned char c);

// Case-insensitive ASCII comparison.
bool http_iequals(std::string_view a, std::string_view b);

}  // namespace convoy::serve
