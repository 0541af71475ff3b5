// load_cifar: picks the source from the spec ("synthetic", an archive file, or a folder of
// batches / of an image tree) and hands over to it.
#include "data/sources.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string>

#include "data/source_parts.h"
#include "engine/error.h"

namespace convoy::data {

namespace {

bool has(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

constexpr const char* kWhatToPass =
    "pass a folder of data_batch_1..5.bin + test_batch.bin (or its parent holding cifar-10-batches-bin/), "
    "the cifar-10-binary.tar.gz archive, an image-folder tree train/<class>/ test/<class>/ or its .tar.gz/.tgz, "
    "or 'synthetic' ('synthetic:N' for N training images)";

// "synthetic:N": N generated training images and N/5 test images (at least one).
LoadOptions synthetic_size(const std::string& spec, LoadOptions options) {
  const std::string n = spec.substr(std::string("synthetic:").size());
  int v = 0;
  const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
  if (n.empty() || ec != std::errc() || end != n.data() + n.size() || v < 1 || v > 1000000)
    fail_option("data", spec, ": the synthetic size must be a whole number of training images in 1..1000000");
  options.synthetic_train = v;
  options.synthetic_test = std::max(1, v / 5);
  return options;
}

}  // namespace

CifarData load_cifar(const std::string& spec, const LoadOptions& options) {
  namespace fs = std::filesystem;
  detail::check_train_batches(options);
  if (spec == "synthetic") return detail::load_synthetic(options);
  if (spec.starts_with("synthetic:")) return detail::load_synthetic(synthetic_size(spec, options));
  if (spec.empty()) fail_option("data", "is empty; ", kWhatToPass);
  const fs::path p(spec);
  std::error_code ec;
  if (!fs::exists(p, ec)) fail_option("data", spec, ": no such file or folder; ", kWhatToPass);
  if (fs::is_directory(p, ec)) {
    if (has(p / "data_batch_1.bin") || has(p / "test_batch.bin")) return detail::load_batch_folder(spec, options);
    if (fs::is_directory(p / "cifar-10-batches-bin", ec))
      return detail::load_batch_folder((p / "cifar-10-batches-bin").string(), options);
    if (fs::is_directory(p / "train", ec)) return detail::load_image_folder(spec, options);
    if (fs::is_regular_file(p / "cifar-10-binary.tar.gz", ec))
      return detail::load_archive((p / "cifar-10-binary.tar.gz").string(), options);
    fail_option("data", spec, ": folder holds no CIFAR-10 data (no data_batch_1.bin, cifar-10-batches-bin/, train/ or "
         "cifar-10-binary.tar.gz); ", kWhatToPass);
  }
  const std::string name = p.filename().string();
  if (name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".tar"))
    return detail::load_archive(spec, options);
  if (name.ends_with(".bin"))
    fail_option("data", spec,
         ": a single batch file; pass the folder that holds it (with data_batch_1..5.bin and test_batch.bin)");
  fail_option("data", spec, ": not a folder nor a .tar.gz/.tgz/.tar archive; ", kWhatToPass);
}

}  // namespace convoy::data
