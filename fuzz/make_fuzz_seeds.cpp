// Writes the seed corpora of the fuzz targets from real data and small saved models:
//   make_fuzz_seeds OUT_DIR CIFAR_JPEG_ARCHIVE
// OUT_DIR/<target>/ receives a handful of small valid inputs per target: real CIFAR-10 JPEGs
// taken from the archive, PNGs encoded from them, CIFAR binary batches of the same images,
// tar and tar.gz archives of both kinds of source, tiny saved models, and (for the serving
// decoder) requests in each content type. Nothing large is ever committed; scripts/fuzz.sh
// runs this before fuzzing.
#include <archive.h>
#include <archive_entry.h>
#include <png.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <iostream>
#include <string>
#include <vector>

#include "data/archive_reader.h"
#include "data/dataset.h"
#include "data/image_decode.h"
#include "engine/error.h"
#include "fuzz/seed_requests.h"
#include "layers/model.h"
#include "train/model_io.h"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) convoy::fail("cannot write seed ", path.string());
}

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// A PNG of a CIFAR image (planar 3x32x32), as RGB, grey (first channel) or RGBA.
Bytes encode_png(const fs::path& scratch, const uint8_t* planar, int color_type) {
  FILE* f = std::fopen(scratch.c_str(), "wb");
  if (!f) convoy::fail("cannot write ", scratch.string());
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) convoy::fail("libpng failed writing a seed");
  png_init_io(png, f);
  png_set_IHDR(png, info, 32, 32, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const int channels = color_type == PNG_COLOR_TYPE_GRAY ? 1 : color_type == PNG_COLOR_TYPE_RGBA ? 4 : 3;
  std::vector<uint8_t> row(32 * channels);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < channels; ++c) row[x * channels + c] = c < 3 ? planar[c * 1024 + y * 32 + x] : 200;
    png_write_row(png, row.data());
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
  return read_bytes(scratch);
}

struct Member {
  std::string name;
  Bytes bytes;
};

void write_tar(const fs::path& path, const std::vector<Member>& members, bool gzip) {
  archive* a = archive_write_new();
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) convoy::fail("cannot write ", path.string());
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(m.bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, m.bytes.data(), m.bytes.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// CIFAR binary records (label byte + planar pixels) of `images`.
Bytes batch_of(const std::vector<Bytes>& planar, const std::vector<int>& labels) {
  Bytes out;
  for (size_t i = 0; i < planar.size(); ++i) {
    out.push_back(static_cast<uint8_t>(labels[i]));
    out.insert(out.end(), planar[i].begin(), planar[i].end());
  }
  return out;
}

void save_tiny_model(const fs::path& path, const std::string& layers_json, uint64_t seed) {
  auto config = nlohmann::json::parse(R"({"name": "tiny", "input": [3, 32, 32], "classes": 10, "layers": )" +
                                      layers_json + "}");
  convoy::Model model = convoy::Model::from_config(config, "seed");
  model.init_params(seed);
  model.class_names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  convoy::save_model(path.string(), model);
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::cerr << "usage: make_fuzz_seeds OUT_DIR CIFAR_JPEG_ARCHIVE\n";
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* t : {"cifar_batch", "image_decode", "archive", "model_file", "request_decode", "http_request"})
    fs::create_directories(out / t);
  const fs::path scratch = out / "scratch.png";

  // A few real JPEGs: the first two files of three train classes and one test class.
  std::vector<convoy::data::detail::ArchiveMember> jpegs;
  {
    std::map<std::string, int> taken;
    jpegs = convoy::data::detail::read_archive_members(argv[2], [&](const std::string& name) {
      auto slash = name.rfind('/');
      if (slash == std::string::npos || !name.ends_with(".jpg")) return false;
      std::string folder = name.substr(0, slash);
      if (!(folder == "train/cat" || folder == "train/ship" || folder == "train/frog" || folder == "test/cat"))
        return false;
      return taken[folder]++ < 2;
    });
  }
  if (jpegs.size() < 4) convoy::fail(argv[2], ": found only ", jpegs.size(), " seed JPEGs");
  std::vector<Bytes> planar;
  std::vector<int> labels;
  std::vector<Member> image_tree;
  for (size_t i = 0; i < jpegs.size(); ++i) {
    const auto& j = jpegs[i];
    Bytes img(convoy::data::kImageBytes);
    convoy::data::detail::decode_to_cifar(j.name, j.bytes.data(), j.bytes.size(), img.data());
    planar.push_back(img);
    labels.push_back(j.name.find("/cat/") != std::string::npos ? 3 : j.name.find("/ship/") != std::string::npos ? 8 : 6);
    write_bytes(out / "image_decode" / ("real" + std::to_string(i) + ".jpg"), j.bytes);
    image_tree.push_back({j.name, j.bytes});
  }
  const int color_types[] = {PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_RGBA};
  for (int k = 0; k < 3; ++k) {
    Bytes png = encode_png(scratch, planar[k].data(), color_types[k]);
    write_bytes(out / "image_decode" / ("real" + std::to_string(k) + ".png"), png);
    image_tree.push_back({"test/ship/png" + std::to_string(k) + ".png", png});
    image_tree.push_back({"train/ship/png" + std::to_string(k) + ".png", png});
  }
  fs::remove(scratch);

  // Binary batches: the same images as CIFAR records.
  Bytes batch = batch_of(planar, labels);
  write_bytes(out / "cifar_batch" / "real_records.bin", batch);
  write_bytes(out / "cifar_batch" / "one_record.bin", Bytes(batch.begin(), batch.begin() + convoy::data::kRecordBytes));
  const std::string meta = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
  write_bytes(out / "cifar_batch" / "batches.meta.txt", Bytes(meta.begin(), meta.end()));

  // Archives: an image-folder tree (gzip and plain tar) and the binary-batch layout.
  write_tar(out / "archive" / "image_tree.tar.gz", image_tree, true);
  write_tar(out / "archive" / "image_tree.tar", image_tree, false);
  std::vector<Member> binary = {{"cifar-10-batches-bin/batches.meta.txt", Bytes(meta.begin(), meta.end())},
                                {"cifar-10-batches-bin/data_batch_1.bin", batch},
                                {"cifar-10-batches-bin/test_batch.bin", Bytes(batch.begin(), batch.begin() + 2 * convoy::data::kRecordBytes)}};
  write_tar(out / "archive" / "binary_batches.tar.gz", binary, true);
  write_tar(out / "archive" / "binary_batches.tar", binary, false);

  // Tiny saved models covering every layer type.
  save_tiny_model(out / "model_file" / "conv_bn_pool.convoy",
                  R"([{"type": "conv2d", "out": 2, "kernel": 3, "stride": 2, "pad": 1, "bias": false},
                      {"type": "batchnorm", "relu": true}, {"type": "maxpool", "kernel": 3, "stride": 2, "pad": 1},
                      {"type": "avgpool", "global": true}, {"type": "flatten"}, {"type": "linear", "out": 10}])", 1);
  save_tiny_model(out / "model_file" / "residual.convoy",
                  R"([{"type": "avgpool", "kernel": 4, "stride": 4}, {"type": "conv2d", "out": 2, "kernel": 1},
                      {"type": "residual", "layers": [{"type": "conv2d", "out": 2, "kernel": 3, "pad": 1}, {"type": "gelu"}]},
                      {"type": "relu"}, {"type": "flatten"}, {"type": "scale", "factor": 0.5},
                      {"type": "linear", "out": 10, "bias": true}])", 2);

  // Requests for the serving decoder.
  int n = 0;
  for (const Bytes& request : convoy::fuzz::seed_requests(planar, jpegs.front().bytes, image_tree[jpegs.size()].bytes))
    write_bytes(out / "request_decode" / ("request" + std::to_string(n++)), request);

  // HTTP request streams for the endpoint's reader: the first byte sets the piece size.
  const std::string image(reinterpret_cast<const char*>(planar[0].data()), 256);
  const std::vector<std::string> streams = {
      std::string(1, '\x07') + "GET /ping HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88\r\n\r\n",
      std::string(1, '\x01') + "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
          "Content-Length: 256\r\nExpect: 100-continue\r\n\r\n" + image,
      std::string(1, '\x10') + "POST /invocations HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n80;x=y\r\n" +
          image.substr(0, 128) + "\r\n80\r\n" + image.substr(128) + "\r\n0\r\nX-Trailer: 1\r\n\r\n",
      std::string(1, '\x03') + "GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /execution-parameters HTTP/1.1\n\n"
          "HEAD /ping HTTP/1.1\r\nConnection: close\r\n\r\n",
      std::string(1, '\x20') + "POST /invocations HTTP/1.1\r\nContent-Length: 100000000000\r\n\r\n",
  };
  n = 0;
  for (const std::string& s : streams)
    write_bytes(out / "http_request" / ("stream" + std::to_string(n++)), Bytes(s.begin(), s.end()));

  std::cerr << "make_fuzz_seeds: wrote seeds under " << out.string() << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "make_fuzz_seeds: error: " << e.what() << "\n";
  return 1;
}
