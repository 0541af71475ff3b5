// The CIFAR-10 binary batch format: records of 1 label byte + 3072 pixel bytes (1024 red,
// 1024 green, 1024 blue, rows top to bottom). Everything is validated; every error names
// the file, the record and its byte offset.
#include <filesystem>
#include <fstream>

#include "data/source_parts.h"
#include "data/sources.h"
#include "engine/error.h"

namespace convoy::data {

Dataset parse_cifar_batch(const std::string& name, const uint8_t* bytes, size_t size) {
  if (size == 0)
    fail(name, ": empty file (0 bytes); a CIFAR-10 batch holds records of ", kRecordBytes, " bytes");
  const size_t records = size / kRecordBytes;
  if (size % kRecordBytes != 0)
    fail(name, ": size ", size, " bytes is not a multiple of the ", kRecordBytes, "-byte record: record ",
         records, " at byte offset ", records * kRecordBytes, " is truncated (", size % kRecordBytes, " of ",
         kRecordBytes, " bytes)");
  Dataset d;
  d.origin = name;
  d.class_names = detail::cifar10_class_names();
  d.labels.resize(records);
  d.images.resize(records * kImageBytes);
  for (size_t i = 0; i < records; ++i) {
    const uint8_t* rec = bytes + i * kRecordBytes;
    if (rec[0] > 9)
      fail(name, ": record ", i, " (byte offset ", i * kRecordBytes, "): label ", int(rec[0]),
           " is out of range 0..9");
    d.labels[i] = rec[0];
    std::copy(rec + 1, rec + kRecordBytes, d.images.begin() + i * kImageBytes);
  }
  return d;
}

Dataset read_cifar_batch_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, ": missing (no such file)");
  if (fs::is_directory(path, ec)) fail(path, ": is a folder, expected a CIFAR-10 batch file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot be opened for reading (check its permissions)");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) fail(path, ": cannot be read (cannot determine its size)");
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    fail(path, ": read failed after ", in.gcount(), " of ", size, " bytes");
  return parse_cifar_batch(path, bytes.data(), bytes.size());
}

namespace detail {

const std::vector<std::string>& cifar10_class_names() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

std::vector<std::string> parse_class_names(const std::string& name, const std::string& text) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    const char* space = " \t\r";
    size_t a = line.find_first_not_of(space), b = line.find_last_not_of(space);
    if (a != std::string::npos) names.push_back(line.substr(a, b - a + 1));
    start = end + 1;
  }
  if (names.empty()) return cifar10_class_names();
  if (names.size() != 10)
    fail(name, ": holds ", names.size(), " class names, want 10 (one per line, label order)");
  return names;
}

void append_dataset(Dataset& into, const Dataset& part) {
  into.images.insert(into.images.end(), part.images.begin(), part.images.end());
  into.labels.insert(into.labels.end(), part.labels.begin(), part.labels.end());
}

void check_train_batches(const LoadOptions& options) {
  if (options.train_batches < 1 || options.train_batches > 5)
    fail_option("train_batches", options.train_batches, ": must be in 1..5 (CIFAR-10 has data_batch_1..5)");
}

static std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot be opened for reading (check its permissions)");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

CifarData load_batch_folder(const std::string& folder, const LoadOptions& options) {
  namespace fs = std::filesystem;
  check_train_batches(options);
  std::vector<std::string> classes = cifar10_class_names();
  const fs::path meta = fs::path(folder) / "batches.meta.txt";
  std::error_code ec;
  if (fs::exists(meta, ec)) classes = parse_class_names(meta.string(), read_text_file(meta.string()));

  CifarData data;
  data.source = "folder of binary batches " + folder;
  for (int k = 1; k <= options.train_batches; ++k) {
    const fs::path p = fs::path(folder) / ("data_batch_" + std::to_string(k) + ".bin");
    if (!fs::exists(p, ec))
      fail(p.string(), ": missing; the folder must hold data_batch_1..", options.train_batches,
           ".bin and test_batch.bin",
           k > 1 ? " (or pass --train-batches " + std::to_string(k - 1) + " to use fewer)" : std::string());
    append_dataset(data.train, read_cifar_batch_file(p.string()));
  }
  data.train.class_names = classes;
  data.train.origin = (fs::path(folder) / "data_batch_1..").string() + std::to_string(options.train_batches) + ".bin";
  if (options.load_test) {
    const fs::path p = fs::path(folder) / "test_batch.bin";
    if (!fs::exists(p, ec)) fail(p.string(), ": missing; the folder must hold test_batch.bin");
    data.test = read_cifar_batch_file(p.string());
    data.test.class_names = classes;
    data.test.origin = p.string();
  }
  return data;
}

}  // namespace detail
}  // namespace convoy::data
