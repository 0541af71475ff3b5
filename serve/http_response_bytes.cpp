#include "serve/http_response_bytes.h"

namespace convoy::serve {

std::string http_response_bytes(const HttpResponse& response, const ResponseFraming& framing) {
  std::string out;
  out.reserve(160 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += http_reason_phrase(response.status);
  out += "\r\n";
  if (!response.content_type.empty()) out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (!framing.keep_alive) out += "Connection: close\r\n";
  else if (framing.minor_version == 0) out += "Connection: keep-alive\r\n";
  for (const auto& [name, value] : response.fields) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (!framing.head_only) out += response.body;
  return out;
}

std::string_view http_continue_bytes() { return "HTTP/1.1 100 Continue\r\n\r\n"; }

}  // namespace convoy::serve
