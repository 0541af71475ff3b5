// Seed requests for fuzz_request_decode, one per content type that serve/request_decode.h
// accepts (plus one it refuses), built from real CIFAR images. A fuzz input is the content
// type, a newline, then the body (fuzz_request_decode.cpp splits it the same way).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace convoy::fuzz {

inline std::vector<uint8_t> request_bytes(const std::string& content_type, const std::string& body) {
  std::string s = content_type + "\n" + body;
  return std::vector<uint8_t>(s.begin(), s.end());
}

// `planar`: CIFAR images (3x32x32 CHW); `jpeg`, `png`: one encoded image each.
inline std::vector<std::vector<uint8_t>> seed_requests(const std::vector<std::vector<uint8_t>>& planar,
                                                       const std::vector<uint8_t>& jpeg,
                                                       const std::vector<uint8_t>& png) {
  std::vector<std::vector<uint8_t>> out;
  const std::vector<uint8_t>& img = planar.at(0);
  // JSON: a flat CHW instance, and a nested HWC instance (32 rows of 32 pixels of 3 values).
  std::string flat = "[";
  for (size_t i = 0; i < img.size(); ++i) flat += (i ? "," : "") + std::to_string(img[i]);
  flat += "]";
  out.push_back(request_bytes("application/json", "{\"instances\": [" + flat + "]}"));
  std::string nested = "[";
  for (int y = 0; y < 32; ++y) {
    nested += y ? ",[" : "[";
    for (int x = 0; x < 32; ++x) {
      nested += x ? ",[" : "[";
      for (int c = 0; c < 3; ++c) nested += (c ? "," : "") + std::to_string(img[c * 1024 + y * 32 + x]) + (c == 1 ? ".4" : "");
      nested += "]";
    }
    nested += "]";
  }
  nested += "]";
  out.push_back(request_bytes("application/json; charset=utf-8", "[" + nested + "]"));
  // CSV: one line with a label, one without.
  std::string csv = "3";
  for (uint8_t v : img) csv += "," + std::to_string(v);
  csv += "\n\n" + flat.substr(1, flat.size() - 2) + "\n";
  out.push_back(request_bytes("text/csv", csv));
  // Raw records: two labelled records, and one unlabelled image.
  std::string records;
  for (size_t k = 0; k < 2 && k < planar.size(); ++k) {
    records += static_cast<char>(k);
    records.append(planar[k].begin(), planar[k].end());
  }
  out.push_back(request_bytes("application/octet-stream", records));
  out.push_back(request_bytes("application/octet-stream", std::string(img.begin(), img.end())));
  // Images.
  out.push_back(request_bytes("image/jpeg", std::string(jpeg.begin(), jpeg.end())));
  out.push_back(request_bytes("Image/PNG", std::string(png.begin(), png.end())));
  out.push_back(request_bytes("application/x-image", std::string(jpeg.begin(), jpeg.end())));
  // Refused: another content type.
  out.push_back(request_bytes("text/plain", "hello"));
  return out;
}

}  // namespace convoy::fuzz
