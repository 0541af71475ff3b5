// Image-folder trees: train/<class>/* and test/<class>/* holding JPEG or PNG files of any
// size, decoded to 32x32 CIFAR format. The tree may come from disk (here) or from an archive
// (data/archive_source.cpp); both share organise_image_tree and decode_image_split.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/image_decode.h"
#include "data/source_parts.h"
#include "engine/error.h"

namespace convoy::data::detail {

bool is_image_file_name(const std::string& file) {
  if (file.empty() || file[0] == '.') return false;
  size_t dot = file.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = file.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == "jpg" || ext == "jpeg" || ext == "png";
}

ImageTree organise_image_tree(std::vector<ImageFile> files, const LoadOptions& options, const std::string& origin) {
  check_train_batches(options);
  ImageTree tree;
  std::set<std::string> names;
  for (const ImageFile& f : files)
    if (f.split == "train") names.insert(f.class_name);
  if (names.empty()) fail(origin, ": no images under train/<class>/ (want train/<class>/*.jpg|png and test/<class>/*)");

  const auto& cifar = cifar10_class_names();
  const bool all_cifar = std::all_of(names.begin(), names.end(), [&](const std::string& n) {
    return std::find(cifar.begin(), cifar.end(), n) != cifar.end();
  });
  tree.class_names = all_cifar ? cifar : std::vector<std::string>(names.begin(), names.end());
  std::map<std::string, int32_t> label_of;
  for (size_t i = 0; i < tree.class_names.size(); ++i) label_of[tree.class_names[i]] = static_cast<int32_t>(i);

  for (ImageFile& f : files) {
    if (f.split != "train" && !options.load_test) continue;
    auto it = label_of.find(f.class_name);
    if (it == label_of.end())
      fail(f.where, ": class folder '", f.class_name, "' of the ", f.split, " split has no counterpart under train/");
    f.label = it->second;
    if (f.split == "train") tree.train.push_back(std::move(f));
    else tree.test.push_back(std::move(f));
  }
  auto by_class_then_file = [](const ImageFile& a, const ImageFile& b) {
    return a.label != b.label ? a.label < b.label : a.file < b.file;
  };
  std::sort(tree.train.begin(), tree.train.end(), by_class_then_file);
  std::sort(tree.test.begin(), tree.test.end(), by_class_then_file);

  if (options.train_batches < 5) {
    // Class-balanced K/5 of train: within each class (sorted by file name) keep position p
    // when p % 5 < K, i.e. the first K of every 5 consecutive files.
    std::vector<ImageFile> kept;
    int32_t label = -1;
    int64_t position = 0;
    for (ImageFile& f : tree.train) {
      if (f.label != label) label = f.label, position = 0;
      if (position++ % 5 < options.train_batches) kept.push_back(std::move(f));
    }
    tree.train = std::move(kept);
  }
  if (options.load_test && tree.test.empty())
    fail(origin, ": no images under test/<class>/ (want test/<class>/*.jpg|png beside train/)");
  return tree;
}

Dataset decode_image_split(const std::vector<ImageFile>& files, const std::vector<std::string>& class_names,
                           const std::string& origin) {
  Dataset d;
  d.origin = origin;
  d.class_names = class_names;
  const int64_t n = static_cast<int64_t>(files.size());
  d.labels.resize(n);
  d.images.resize(static_cast<size_t>(n) * kImageBytes);
  // Exceptions must not leave an OpenMP region: keep each failure, report the first by index.
  std::vector<std::string> errors(n);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    try {
      decode_to_cifar(files[i].where, files[i].bytes.data(), files[i].bytes.size(),
                      d.images.data() + static_cast<size_t>(i) * kImageBytes);
      d.labels[i] = files[i].label;
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  }
  for (const std::string& e : errors)
    if (!e.empty()) throw Error(e);
  return d;
}

namespace {

void list_split(const std::filesystem::path& root, const std::string& split, std::vector<ImageFile>& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = root / split;
  for (const fs::directory_entry& cls : fs::directory_iterator(dir, ec)) {
    if (!cls.is_directory() || cls.path().filename().string().starts_with(".")) continue;
    for (const fs::directory_entry& file : fs::directory_iterator(cls.path())) {
      const std::string name = file.path().filename().string();
      if (!file.is_regular_file() || !is_image_file_name(name)) continue;
      out.push_back(ImageFile{file.path().string(), split, cls.path().filename().string(), name, {}, -1});
    }
  }
  if (ec) fail(dir.string(), ": cannot be listed: ", ec.message());
}

void read_file_bytes(ImageFile& f) {
  std::ifstream in(f.where, std::ios::binary);
  if (!in) fail(f.where, ": cannot be opened for reading (check its permissions)");
  f.bytes.assign(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) fail(f.where, ": read failed");
}

}  // namespace

CifarData load_image_folder(const std::string& root, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::vector<ImageFile> files;
  std::error_code ec;
  if (!fs::is_directory(fs::path(root) / "train", ec)) fail(root, ": no train/ folder (want train/<class>/* and test/<class>/*)");
  list_split(root, "train", files);
  if (options.load_test) {
    if (!fs::is_directory(fs::path(root) / "test", ec)) fail(root, ": no test/ folder beside train/");
    list_split(root, "test", files);
  }
  ImageTree tree = organise_image_tree(std::move(files), options, root);
  for (ImageFile& f : tree.train) read_file_bytes(f);
  for (ImageFile& f : tree.test) read_file_bytes(f);
  CifarData data;
  data.source = "image folder " + root;
  data.train = decode_image_split(tree.train, tree.class_names, (fs::path(root) / "train").string());
  if (options.load_test) data.test = decode_image_split(tree.test, tree.class_names, (fs::path(root) / "test").string());
  return data;
}

}  // namespace convoy::data::detail
