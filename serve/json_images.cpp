#include "serve/json_images.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "data/dataset.h"

namespace convoy::serve::detail {

namespace {

using nlohmann::json;
constexpr int kSide = data::kImageSide;
constexpr int kPlane = kSide * kSide;

// Depths count open containers. The instances array is open at depth `inst`; inside it an
// image array is at inst+1, a row at inst+2 and a pixel at inst+3 (nested form).
class ImageSax {
 public:
  // single_image: the record is one IMAGE; its outer array is read as the image itself, as
  // if it sat in an instances array that is already open.
  ImageSax(JsonImages& out, int64_t max_images, bool single_image, std::string where, size_t base_offset)
      : out_(out), max_images_(max_images), where_(std::move(where)), base_offset_(base_offset),
        first_image_(out.count) {
    if (single_image) depth_ = inst_ = 1;
  }

  bool null() { return scalar("null"); }
  bool boolean(bool) { return scalar("a boolean"); }
  bool string(std::string&) { return scalar("a string"); }
  bool binary(json::binary_t&) { return scalar("binary data"); }
  bool number_integer(json::number_integer_t v) { return number(static_cast<double>(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return number(static_cast<double>(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return number(v); }

  bool start_object(std::size_t) {
    if (depth_ == 0) top_object_ = true;
    else if (in_instances()) return bad("an instance must be an array of numbers (image ", image_label(), "), not an object");
    else if (instances_pending()) return bad("\"instances\" must be an array of images, not an object");
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool key(std::string& k) {
    if (depth_ == 1 && top_object_) pending_key_ = (k == "instances");
    return true;
  }

  bool start_array(std::size_t) {
    if (inst_ < 0 && !done_ && (depth_ == 0 || instances_pending())) {
      pending_key_ = false;
      inst_ = depth_ + 1;
    } else if (in_instances()) {
      const int rel = depth_ - inst_;
      if (rel == 0) {
        if (out_.count >= max_images_) return too_many();
        nested_ = flat_ = false;
        flat_index_ = rows_ = 0;
        out_.images.resize(static_cast<size_t>(out_.count + 1) * data::kImageBytes);
      } else if (rel == 1) {
        if (flat_) return bad("image ", image_label(), " mixes numbers and rows");
        nested_ = true;
        if (rows_ >= kSide) return bad("image ", image_label(), " has more than ", kSide, " rows; expected 32x32x3");
        cols_ = 0;
      } else if (rel == 2) {
        if (cols_ >= kSide) return bad("image ", image_label(), " row ", rows_, " has more than ", kSide, " pixels");
        channels_ = 0;
      } else {
        return bad("image ", image_label(), " is nested too deeply; expected 32x32x3 (row, column, RGB)");
      }
    } else if (instances_pending()) {
      pending_key_ = false;
    } else if (depth_ == 0) {
      return bad("the body must be a JSON object with \"instances\" or an array of images");
    }
    ++depth_;
    return true;
  }

  bool end_array() {
    --depth_;
    if (inst_ < 0) return true;
    const int rel = depth_ - inst_;
    if (rel < 0) {  // the instances array itself
      inst_ = -1;
      done_ = true;
    } else if (rel == 0) {  // an image
      if (flat_ && flat_index_ != data::kImageBytes)
        return bad("image ", image_label(), " has ", flat_index_, " values; a flat image has 3072 (CHW)");
      if (nested_ && rows_ != kSide) return bad("image ", image_label(), " has ", rows_, " rows; expected 32x32x3");
      if (!flat_ && !nested_) return bad("image ", image_label(), " is empty");
      ++out_.count;
    } else if (rel == 1) {  // a row
      if (cols_ != kSide) return bad("image ", image_label(), " row ", rows_, " has ", cols_, " pixels; expected 32");
      ++rows_;
    } else if (rel == 2) {  // a pixel
      if (channels_ != 3)
        return bad("image ", image_label(), " pixel (", rows_, ", ", cols_, ") has ", channels_, " values; expected 3 (RGB)");
      ++cols_;
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    return bad("malformed JSON at byte ", base_offset_ + position, ": ", e.what());
  }

  // After the parse: the record held no images, or no instances.
  void finish() {
    if (out_.status) return;
    if (inst_ == 1 && depth_ == 1 && !top_object_) return;  // a single image, read whole
    if (!done_) bad("no \"instances\" array: send {\"instances\": [IMAGE, ...]}");
    else if (out_.count == first_image_) bad("\"instances\" holds no images");
  }

 private:
  bool in_instances() const { return inst_ >= 0 && depth_ >= inst_; }
  bool instances_pending() const { return pending_key_ && depth_ == 1 && top_object_; }
  int64_t image_label() const { return out_.count; }

  bool scalar(const char* what) {
    if (in_instances()) return bad("image ", image_label(), " holds ", what, "; images hold numbers in [0, 255]");
    if (instances_pending()) return bad("\"instances\" must be an array of images");
    if (depth_ == 0) return bad("the body must be a JSON object with \"instances\" or an array of images");
    return true;  // a value of another key: ignored
  }

  bool number(double v) {
    if (!in_instances()) return scalar("a number");
    const int rel = depth_ - inst_;
    if (rel == 0) return bad("instance ", out_.count, " is a number; each instance is an image array");
    if (!(v >= 0.0 && v <= 255.0))
      return bad("image ", image_label(), " holds the value ", v, "; pixel values are in [0, 255]");
    const auto byte = static_cast<uint8_t>(std::lround(v));
    uint8_t* image = out_.images.data() + static_cast<size_t>(out_.count) * data::kImageBytes;
    if (rel == 1) {
      if (nested_) return bad("image ", image_label(), " mixes numbers and rows");
      flat_ = true;
      if (flat_index_ >= data::kImageBytes) return bad("image ", image_label(), " has more than 3072 values");
      image[flat_index_++] = byte;
    } else if (rel == 2) {
      return bad("image ", image_label(), " row ", rows_, " holds a number where a pixel [r, g, b] belongs");
    } else {
      if (channels_ >= 3)
        return bad("image ", image_label(), " pixel (", rows_, ", ", cols_, ") has more than 3 values");
      image[channels_ * kPlane + rows_ * kSide + cols_] = byte;
      ++channels_;
    }
    return true;
  }

  bool too_many() {
    out_.status = 413;
    out_.error = "more than " + std::to_string(max_images_) + " images in one request; split it";
    return false;
  }

  template <typename... Parts>
  bool bad(const Parts&... parts) {
    if (out_.status) return false;
    std::string msg = where_;
    ((msg += piece(parts)), ...);
    out_.status = 400;
    out_.error = std::move(msg);
    return false;
  }
  static std::string piece(const char* s) { return s; }
  static std::string piece(const std::string& s) { return s; }
  template <typename T>
  static std::string piece(const T& v) {
    std::ostringstream os;
    os << v;
    return os.str();
  }

  JsonImages& out_;
  int64_t max_images_;
  std::string where_;      // "" for a body of one record, else "line N: "
  size_t base_offset_;     // where the record starts in the body
  int64_t first_image_;    // images of earlier records
  int depth_ = 0;
  int inst_ = -1;          // depth inside the instances array, -1 when not open
  bool done_ = false;      // the instances array was read
  bool top_object_ = false;
  bool pending_key_ = false;
  bool nested_ = false, flat_ = false;
  int flat_index_ = 0, rows_ = 0, cols_ = 0, channels_ = 0;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_space(std::string_view body, size_t pos) {
  while (pos < body.size() && is_space(body[pos])) ++pos;
  return pos;
}

// One past the end of the JSON value that starts at body[pos]: containers to their matching
// close (strings and escapes followed), anything else to the next space or bracket. Only the
// extent is found here; the parse of the slice says what is wrong with a malformed one.
size_t value_end(std::string_view body, size_t pos) {
  if (body[pos] != '{' && body[pos] != '[') {
    while (pos < body.size() && !is_space(body[pos]) && body[pos] != '{' && body[pos] != '[') ++pos;
    return pos;
  }
  int64_t depth = 0;
  bool in_string = false;
  for (; pos < body.size(); ++pos) {
    const char c = body[pos];
    if (in_string) {
      if (c == '\\') ++pos;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && --depth == 0) {
      return pos + 1;
    }
  }
  return body.size();
}

// A bare array whose first number is at an odd depth is one image (flat: 1, nested: 3).
bool is_single_image(std::string_view record) {
  int depth = 0;
  for (char c : record) {
    if (c == '[') ++depth;
    else if (!is_space(c)) return depth % 2 == 1 && (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'));
  }
  return false;
}

}  // namespace

JsonImages read_json_images(std::string_view body, int64_t max_images) {
  JsonImages out;
  std::vector<std::pair<size_t, size_t>> records;  // [begin, end) of each top-level value
  for (size_t pos = skip_space(body, 0); pos < body.size(); pos = skip_space(body, records.back().second))
    records.emplace_back(pos, value_end(body, pos));
  size_t line = 1, counted = 0;  // the line of records[i].first, counted incrementally
  for (const auto& [begin, end] : records) {
    std::string where;
    if (records.size() > 1) {
      line += static_cast<size_t>(std::count(body.begin() + counted, body.begin() + begin, '\n'));
      counted = begin;
      where = "line " + std::to_string(line) + ": ";
    }
    const std::string_view record = body.substr(begin, end - begin);
    ImageSax sax(out, max_images, is_single_image(record), std::move(where), begin);
    const bool ok = json::sax_parse(record.begin(), record.end(), &sax);
    if (!ok && out.status == 0) {
      out.status = 400;
      out.error = "malformed JSON";
    }
    if (ok) sax.finish();
    if (out.status) break;
  }
  if (records.empty()) {
    out.status = 400;
    out.error = "no \"instances\" array: send {\"instances\": [IMAGE, ...]}";
  }
  if (out.status) {
    out.images.clear();
    out.count = 0;
  } else {
    out.images.resize(static_cast<size_t>(out.count) * data::kImageBytes);
  }
  return out;
}

}  // namespace convoy::serve::detail
