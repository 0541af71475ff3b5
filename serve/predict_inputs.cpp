#include "serve/predict_inputs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "data/dataset.h"
#include "data/image_decode.h"
#include "data/sources.h"
#include "engine/error.h"
#include "serve/request_decode.h"

namespace convoy::serve {

namespace {

namespace fs = std::filesystem;

std::string lower_extension(const fs::path& p) {
  std::string e = p.extension().string();
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string(), ": cannot open for reading");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

PredictInputs read_folder(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string ext = lower_extension(e.path());
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) fail(dir.string(), ": no .jpg, .jpeg or .png images in this folder");
  PredictInputs in;
  in.kind = "image-folder";
  in.count = static_cast<int64_t>(files.size());
  in.images.resize(files.size() * data::kImageBytes);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::vector<uint8_t> bytes = read_file(files[i]);
    data::detail::decode_to_cifar(files[i].string(), bytes.data(), bytes.size(),
                                  in.images.data() + i * data::kImageBytes);
    in.names.push_back(fs::relative(files[i], dir).string());
  }
  return in;
}

PredictInputs read_jsonlines(const fs::path& path) {
  std::ifstream file(path);
  if (!file) fail(path.string(), ": cannot open for reading");
  PredictInputs in;
  in.kind = "jsonlines";
  DecodeLimits limits;
  limits.max_body_bytes = size_t(1) << 30;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(file, line)) {
    ++line_no;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    // An object is a request; anything else is one image.
    const std::string body = line[first] == '{' ? line : "{\"instances\": [" + line + "]}";
    DecodeResult r = decode_request("application/json", body, limits);
    if (const auto* e = std::get_if<RequestError>(&r)) fail(path.string(), ": line ", line_no, ": ", e->message);
    const auto& d = std::get<DecodedRequest>(r);
    in.images.insert(in.images.end(), d.images.begin(), d.images.end());
    in.count += d.count;
  }
  if (in.count == 0) fail(path.string(), ": no images (expected one JSON image or {\"instances\": [...]} per line)");
  return in;
}

}  // namespace

PredictInputs read_predict_inputs(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return read_folder(path);
  if (!fs::exists(path, ec)) fail(path, ": no such file or folder");
  const std::string ext = lower_extension(path);
  if (ext == ".jsonl" || ext == ".json" || ext == ".jsonlines") return read_jsonlines(path);
  const data::Dataset d = data::read_cifar_batch_file(path);
  PredictInputs in;
  in.kind = "cifar-batch";
  in.count = d.size();
  in.images = d.images;
  in.labels.assign(d.labels.begin(), d.labels.end());
  return in;
}

}  // namespace convoy::serve
