// Shared inputs for the serve tests: real CIFAR-10 test JPEGs from the archive, a small saved
// model, and encoders for every request body format.
#pragma once
#include <png.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <unistd.h>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/archive_reader.h"
#include "data/dataset.h"
#include "data/image_decode.h"
#include "layers/model.h"
#include "tests/common/test_paths.h"
#include "train/model_io.h"

namespace convoy::test {

// `per_class` JPEGs of each class from the test split, in archive order.
inline const std::vector<data::detail::ArchiveMember>& sample_jpegs(int per_class = 2) {
  static const std::vector<data::detail::ArchiveMember> members = [per_class] {
    std::map<std::string, int> taken;
    auto all = data::detail::read_archive_members(test_archive(), [&](const std::string& name) {
      if (name.rfind("test/", 0) != 0 || name.size() < 5) return false;
      const std::string cls = name.substr(5, name.find('/', 5) - 5);
      return taken[cls]++ < per_class;
    });
    return all;
  }();
  return members;
}

// The CIFAR bytes (3, 32, 32) of a JPEG, decoded the way the server decodes it.
inline std::vector<uint8_t> cifar_pixels(const std::vector<uint8_t>& jpeg) {
  std::vector<uint8_t> out(data::kImageBytes);
  data::detail::decode_to_cifar("test jpeg", jpeg.data(), jpeg.size(), out.data());
  return out;
}

// A quick model with seeded weights, saved once per process; returns the file path.
inline std::string saved_test_model() {
  static const std::string path = [] {
    auto dir = std::filesystem::temp_directory_path() / ("convoy-serve-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    Model m = Model::from_spec("quick");
    m.init_params(20261127);
    m.class_names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
    const std::string p = (dir / "model.convoy").string();
    save_model(p, m);
    return p;
  }();
  return path;
}

// HWC interleaved (height, width, 3) from CHW planar.
inline std::vector<uint8_t> chw_to_hwc(const uint8_t* chw, int side = 32) {
  std::vector<uint8_t> hwc(static_cast<size_t>(side) * side * 3);
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < side * side; ++p) hwc[p * 3 + c] = chw[c * side * side + p];
  return hwc;
}

// A PNG of an interleaved RGB image.
inline std::string png_bytes(const std::vector<uint8_t>& hwc, int width, int height) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  img.width = width;
  img.height = height;
  img.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  png_image_write_to_memory(&img, nullptr, &size, 0, hwc.data(), 0, nullptr);
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&img, out.data(), &size, 0, hwc.data(), 0, nullptr)) return {};
  out.resize(size);
  return out;
}

// {"instances": [...]} with each image as a 32x32x3 HWC nested array.
inline std::string json_instances(const std::vector<std::vector<uint8_t>>& images) {
  nlohmann::json inst = nlohmann::json::array();
  for (const auto& chw : images) {
    nlohmann::json rows = nlohmann::json::array();
    for (int y = 0; y < 32; ++y) {
      nlohmann::json row = nlohmann::json::array();
      for (int x = 0; x < 32; ++x) row.push_back({chw[y * 32 + x], chw[1024 + y * 32 + x], chw[2048 + y * 32 + x]});
      rows.push_back(row);
    }
    inst.push_back(rows);
  }
  return nlohmann::json{{"instances", inst}}.dump();
}

// One CSV line per image, 3072 values CHW, with a leading label when label >= 0.
inline std::string csv_line(const std::vector<uint8_t>& chw, int label = -1) {
  std::string s = label >= 0 ? std::to_string(label) + "," : "";
  for (size_t i = 0; i < chw.size(); ++i) s += std::to_string(chw[i]) + (i + 1 < chw.size() ? "," : "\n");
  return s;
}

}  // namespace convoy::test
