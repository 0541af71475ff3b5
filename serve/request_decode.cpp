#include "serve/request_decode.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "data/dataset.h"
#include "data/image_decode.h"
#include "engine/error.h"
#include "serve/json_images.h"

namespace convoy::serve {

namespace {

constexpr size_t kImage = data::kImageBytes;   // 3072
constexpr size_t kRecord = data::kRecordBytes; // 3073

RequestError error(int status, std::string message) { return RequestError{status, std::move(message)}; }

std::string too_many_images(int64_t n, const DecodeLimits& limits) {
  return "the body holds " + std::to_string(n) + " images; at most " + std::to_string(limits.max_images) +
         " are accepted in one request: split it";
}

DecodeResult decode_octet_stream(std::string_view body, const DecodeLimits& limits) {
  if (body.empty()) return error(400, "empty body: send one or more CIFAR records (3073 or 3072 bytes each)");
  const bool labelled = body.size() % kRecord == 0;
  if (!labelled && body.size() % kImage != 0)
    return error(400, "application/octet-stream body of " + std::to_string(body.size()) +
                          " bytes is neither whole CIFAR records of 3073 bytes (label + image) nor whole images of "
                          "3072 bytes");
  const size_t stride = labelled ? kRecord : kImage;
  const int64_t n = static_cast<int64_t>(body.size() / stride);
  if (n > limits.max_images) return error(413, too_many_images(n, limits));
  DecodedRequest r;
  r.format = "application/octet-stream";
  r.count = n;
  r.images.resize(static_cast<size_t>(n) * kImage);
  const auto* src = reinterpret_cast<const uint8_t*>(body.data());
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* rec = src + i * stride;
    if (labelled) r.labels.push_back(rec[0]);
    std::copy(rec + (labelled ? 1 : 0), rec + stride, r.images.data() + i * kImage);
  }
  return r;
}

// One CSV value in [0, 255]; spaces around it allowed.
bool parse_csv_value(std::string_view field, double& v) {
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
  if (field.empty()) return false;
  if (field.front() == '+') field.remove_prefix(1);
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  return ec == std::errc() && end == field.data() + field.size() && v >= 0.0 && v <= 255.0;
}

DecodeResult decode_csv(std::string_view body, const DecodeLimits& limits) {
  DecodedRequest r;
  r.format = "text/csv";
  bool any_label = false;
  int64_t line_no = 0;
  std::vector<uint8_t> values;
  values.reserve(kRecord);
  while (!body.empty()) {
    const size_t eol = body.find('\n');
    std::string_view line = body.substr(0, eol);
    body.remove_prefix(eol == std::string_view::npos ? body.size() : eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (r.count >= limits.max_images) return error(413, too_many_images(r.count + 1, limits));
    values.clear();
    size_t start = 0;
    while (true) {
      if (values.size() > kRecord)
        return error(400, "csv line " + std::to_string(line_no) + " has more than 3073 values; expected 3072 (an "
                          "image, CHW) or 3073 (label, image)");
      const size_t comma = line.find(',', start);
      double v = 0;
      std::string_view field = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (!parse_csv_value(field, v))
        return error(400, "csv line " + std::to_string(line_no) + " value " + std::to_string(values.size() + 1) +
                              " is not a number in [0, 255]");
      values.push_back(static_cast<uint8_t>(std::lround(v)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (values.size() != kImage && values.size() != kRecord)
      return error(400, "csv line " + std::to_string(line_no) + " has " + std::to_string(values.size()) +
                            " values; expected 3072 (an image, CHW) or 3073 (label, image)");
    const bool labelled = values.size() == kRecord;
    any_label = any_label || labelled;
    r.labels.push_back(labelled ? values[0] : -1);
    r.images.insert(r.images.end(), values.begin() + (labelled ? 1 : 0), values.end());
    ++r.count;
  }
  if (r.count == 0) return error(400, "empty text/csv body: send one image per line (3072 values, CHW)");
  if (!any_label) r.labels.clear();
  return r;
}

DecodeResult decode_image(std::string_view type, std::string_view body, const DecodeLimits& limits) {
  if (body.empty()) return error(400, "empty body: send one JPEG or PNG image");
  DecodedRequest r;
  r.format = std::string(type);
  r.count = 1;
  r.images.resize(kImage);
  data::detail::ImageLimits il;
  il.max_pixels = limits.max_image_pixels;
  il.max_jpeg_scans = limits.max_jpeg_scans;
  try {
    data::detail::decode_to_cifar("request body", reinterpret_cast<const uint8_t*>(body.data()), body.size(),
                                  r.images.data(), il);
  } catch (const Error& e) {
    return error(400, e.what());
  }
  return r;
}

DecodeResult decode_json(std::string_view type, std::string_view body, const DecodeLimits& limits) {
  if (body.empty()) return error(400, "empty body: send {\"instances\": [IMAGE, ...]}, or one IMAGE per line");
  detail::JsonImages j = detail::read_json_images(body, limits.max_images);
  if (j.status) return error(j.status, std::move(j.error));
  DecodedRequest r;
  r.format = std::string(type);
  r.count = j.count;
  r.images = std::move(j.images);
  return r;
}

}  // namespace

std::string media_type(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  std::string out(t);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const std::vector<std::string>& supported_content_types() {
  static const std::vector<std::string> types = {
      "application/json", "application/jsonlines", "application/x-jsonlines", "image/jpeg", "image/png",
      "application/x-image", "application/octet-stream", "text/csv"};
  return types;
}

DecodeLimits limits_for_payload_mb(int max_payload_in_mb) {
  if (max_payload_in_mb < 0 || max_payload_in_mb > 100)
    fail("payload limit ", max_payload_in_mb, " MB: SageMaker allows 0 (no limit) to 100 MB");
  DecodeLimits limits;
  limits.max_body_bytes = max_payload_in_mb == 0 ? kMaxUnlimitedPayloadBytes
                                                 : static_cast<size_t>(max_payload_in_mb) * 1024 * 1024;
  limits.max_images = std::max<int64_t>(limits.max_images, static_cast<int64_t>(limits.max_body_bytes / kImage));
  return limits;
}

DecodeResult decode_request(std::string_view content_type, std::string_view body, const DecodeLimits& limits) {
  if (body.size() > limits.max_body_bytes)
    return error(413, "request body of " + std::to_string(body.size()) + " bytes is over the limit of " +
                          std::to_string(limits.max_body_bytes) + " bytes");
  const std::string type = media_type(content_type);
  if (type == "application/json" || type == "application/jsonlines" || type == "application/x-jsonlines")
    return decode_json(type, body, limits);
  if (type == "image/jpeg" || type == "image/png" || type == "application/x-image")
    return decode_image(type, body, limits);
  if (type == "application/octet-stream") return decode_octet_stream(body, limits);
  if (type == "text/csv") return decode_csv(body, limits);
  std::string list;
  for (const auto& t : supported_content_types()) list += (list.empty() ? "" : ", ") + t;
  return error(415, (type.empty() ? std::string("no Content-Type") : "unsupported Content-Type '" + type + "'") +
                        ": send one of " + list);
}

}  // namespace convoy::serve
