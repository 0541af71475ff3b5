// Turning an inference request body into CIFAR-format images: a pure function of the content
// type and the bytes, with no I/O and no global state, so it can be fuzzed on its own.
//
// Accepted content types (parameters such as "; charset=utf-8" are ignored, case-insensitive):
//   application/json       {"instances": [IMAGE, ...]}, a bare [IMAGE, ...] or one IMAGE; other
//                          keys of the object are ignored. IMAGE is either a 32x32x3 nested
//                          array in HWC order (image[row][column][channel], RGB: what numpy
//                          gives for an image) or a flat array of 3072 numbers in CIFAR record
//                          order (CHW: 1024 red, then 1024 green, then 1024 blue, row-major).
//                          Numbers are integers or floats in [0, 255]; floats are rounded to
//                          the nearest. Several such records one after another (batch
//                          transform's multi-record requests, SplitType Line) add up in order
//                          (serve/json_images.h).
//   application/jsonlines, application/x-jsonlines
//                          the same records, one per line (JSON Lines).
//   image/jpeg, image/png, application/x-image
//                          one JPEG or PNG of any size (the format is read from its leading
//                          bytes), grayscale expanded, alpha dropped, resized to 32x32 (area
//                          averaging when shrinking, bilinear when enlarging).
//   application/octet-stream
//                          one or more raw CIFAR-10 records: 3073 bytes each (label byte, then
//                          the 3072 image bytes) when the length is a multiple of 3073, else
//                          3072 bytes each (no label); any other length is a 400.
//   text/csv               one image per line, 3072 numbers in CIFAR record order (CHW), or 3073
//                          with a leading label (0..255, kept as the label); comma separated,
//                          blank lines skipped, no header line, values in [0, 255].
// Errors carry the HTTP status: 400 malformed input, 413 over the limits, 415 another type.
//
// Work is bounded by the limits: the body size, the image count, the pixels an image header
// may declare (refused before decoding), the JSON nesting (parsed by a streaming SAX reader
// that stores only the output bytes) and the scans of a progressive JPEG.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace convoy::serve {

struct DecodeLimits {
  size_t max_body_bytes = 6 * 1024 * 1024;    // SageMaker's 6 MB request limit
  int64_t max_images = 4096;                  // images per request
  int64_t max_image_pixels = 4096 * 4096;     // declared width x height of one JPEG/PNG
  int max_jpeg_scans = 256;                   // progressive JPEG scans
};

// The body limit when SageMaker sets none (MaxPayloadInMB 0: a whole S3 object in one chunked
// request). A body is held in memory about three times over while decoded.
constexpr size_t kMaxUnlimitedPayloadBytes = size_t(1) << 30;

// The limits for SageMaker's payload size in MB (SAGEMAKER_MAX_PAYLOAD_IN_MB, a batch transform
// job's MaxPayloadInMB: 0..100, 6 by default): a body of that many MiB (0: up to
// kMaxUnlimitedPayloadBytes), and as many images as such a body holds in the densest encoding
// (3072 bytes each), at least the default 4096. Throws convoy::Error outside 0..100.
DecodeLimits limits_for_payload_mb(int max_payload_in_mb);

struct DecodedRequest {
  std::vector<uint8_t> images;  // (count, 3, 32, 32) uint8, CHW
  int64_t count = 0;
  std::vector<int> labels;      // (count) when the input carried labels (octet-stream, csv), else empty
  std::string format;           // the content type it was read as, e.g. "image/jpeg"
};

struct RequestError {
  int status = 400;             // 400, 413 or 415
  std::string message;
};

using DecodeResult = std::variant<DecodedRequest, RequestError>;

// Never throws (allocation failure aside), never reads outside `body`.
DecodeResult decode_request(std::string_view content_type, std::string_view body, const DecodeLimits& limits = {});

// The media type alone, lower-cased: "Image/JPEG; q=1" -> "image/jpeg".
std::string media_type(std::string_view content_type);

// The content types decode_request accepts, for error messages and docs.
const std::vector<std::string>& supported_content_types();

}  // namespace convoy::serve
