#include "serve/http_head_parser.h"

#include <limits>
#include <string>

namespace convoy::serve {

namespace {

HttpError error(int status, std::string message) { return HttpError{status, std::move(message)}; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  return out;
}

// Calls fn(element) for each comma-separated element of a list field, trimmed, skipping
// empty ones (RFC 9110 5.6.1).
template <typename Fn>
void for_each_list_element(std::string_view value, Fn&& fn) {
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (!element.empty()) fn(element);
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_http_token_char(static_cast<unsigned char>(c))) return false;
  return true;
}

// Visible ASCII only: no space, no control bytes, no bytes above 0x7E.
bool is_target(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return false;
  }
  return true;
}

// Field values: visible bytes, spaces and tabs, and obs-text (0x80-0xFF); no other controls.
bool is_field_value(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7F) return false;
  }
  return true;
}

// The path of a request target: origin form "/a?b" -> "/a"; absolute form
// "http://host:1/a?b" -> "/a" ("/" when it has no path); "*" stays "*".
std::string path_of(std::string_view target) {
  if (target.size() > 7 && (http_iequals(target.substr(0, 7), "http://") ||
                            (target.size() > 8 && http_iequals(target.substr(0, 8), "https://")))) {
    target.remove_prefix(target.find("//") + 2);
    const size_t slash = target.find_first_of("/?#");
    target = slash == std::string_view::npos || target[slash] != '/' ? std::string_view("/") : target.substr(slash);
  }
  return std::string(target.substr(0, target.find_first_of("?#")));
}

// Digits only; values beyond uint64 saturate (they are over any limit anyway).
bool parse_length(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    v = v > (std::numeric_limits<uint64_t>::max() - d) / 10 ? std::numeric_limits<uint64_t>::max() : v * 10 + d;
  }
  out = v;
  return true;
}

}  // namespace

std::variant<HttpHead, HttpError> parse_http_head(std::string_view head, const HttpLimits& limits) {
  HttpHead h;
  size_t line_no = 0;
  bool has_length = false, has_transfer_encoding = false;
  std::vector<std::string> codings;
  bool connection_close = false, connection_keep_alive = false;
  std::string expect;

  while (!head.empty()) {
    const size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;

    if (line_no == 1) {
      if (line.size() > limits.max_request_line)
        return error(414, "request line is over the limit of " + std::to_string(limits.max_request_line) + " bytes");
      const size_t sp1 = line.find(' ');
      const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return error(400, "malformed request line: expected METHOD TARGET HTTP/1.1");
      const std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                             version = line.substr(sp2 + 1);
      if (!is_token(method)) return error(400, "malformed request line: the method is not a token");
      if (!is_target(target)) return error(400, "malformed request line: the target is empty or holds spaces, "
                                                "control or non-ASCII bytes");
      if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
          version[5] > '9' || version[7] < '0' || version[7] > '9')
        return error(400, "malformed request line: the version is not HTTP/1.1 or HTTP/1.0");
      if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
        return error(505, std::string(version) + " is not supported: use HTTP/1.1 or HTTP/1.0");
      h.method = std::string(method);
      h.target = std::string(target);
      h.path = path_of(target);
      h.minor_version = version[7] - '0';
      continue;
    }

    if (line.empty()) return error(400, "empty line inside the request head");
    if (line.front() == ' ' || line.front() == '\t')
      return error(400, "header line " + std::to_string(line_no) + " starts with white space (obsolete line folding)");
    if (h.fields.size() >= limits.max_header_fields)
      return error(431, "more than " + std::to_string(limits.max_header_fields) + " header fields");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
      return error(400, "header line " + std::to_string(line_no) + " is not NAME: VALUE");
    const std::string_view name = line.substr(0, colon), value = trim_ows(line.substr(colon + 1));
    if (!is_field_value(value))
      return error(400, "header field " + std::string(name) + " holds control bytes");
    h.fields.emplace_back(std::string(name), std::string(value));

    if (http_iequals(name, "Content-Length")) {
      bool ok = true;
      for_each_list_element(value, [&](std::string_view v) {
        uint64_t n = 0;
        if (!parse_length(v, n) || (has_length && n != h.content_length)) ok = false;
        h.content_length = n;
        has_length = true;
      });
      if (!ok || !has_length) return error(400, "Content-Length must be one whole number of bytes");
    } else if (http_iequals(name, "Transfer-Encoding")) {
      has_transfer_encoding = true;
      for_each_list_element(value, [&](std::string_view v) { codings.push_back(lower(v)); });
    } else if (http_iequals(name, "Connection")) {
      for_each_list_element(value, [&](std::string_view v) {
        if (http_iequals(v, "close")) connection_close = true;
        if (http_iequals(v, "keep-alive")) connection_keep_alive = true;
      });
    } else if (http_iequals(name, "Expect")) {
      expect = lower(value);
    }
  }
  if (line_no == 0) return error(400, "empty request");

  if (has_transfer_encoding) {
    if (h.minor_version == 0) return error(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request");
    if (has_length) return error(400, "a request must not carry both Content-Length and Transfer-Encoding");
    if (codings.empty() || codings.back() != "chunked")
      return error(400, "Transfer-Encoding must end in chunked");
    if (codings.size() != 1) return error(501, "only Transfer-Encoding: chunked is supported");
    h.chunked = true;
    h.content_length = 0;
  }
  if (h.content_length > limits.max_body_bytes)
    return error(413, "request body of " + std::to_string(h.content_length) + " bytes is over the limit of " +
                          std::to_string(limits.max_body_bytes) + " bytes");
  h.keep_alive = !connection_close && (h.minor_version == 1 || connection_keep_alive);
  if (!expect.empty()) {
    if (expect != "100-continue") return error(417, "unsupported Expect: " + expect + " (only 100-continue)");
    h.expect_continue = h.minor_version == 1;
  }
  return h;
}

}  // namespace convoy::serve
