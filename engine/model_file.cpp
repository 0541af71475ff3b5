#include "engine/model_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/crc32.h"
#include "engine/error.h"

namespace convoy {
namespace {

constexpr char kMagic[8] = {'C', 'O', 'N', 'V', 'O', 'Y', 'M', 'F'};

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

}  // namespace

const Tensor* ModelFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t.tensor;
  return nullptr;
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write ", path, ": ", std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("cannot write ", path, ": ", std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write ", path, ": ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot move the new ", path, " into place: ", std::strerror(err));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_model_file(const std::string& path, const nlohmann::json& header_in,
                      const std::vector<NamedTensor>& tensors) {
  nlohmann::json header = header_in;
  nlohmann::json index = nlohmann::json::array();
  std::vector<std::vector<float>> host;
  std::size_t offset = 0;
  for (const auto& nt : tensors) {
    host.push_back(nt.tensor.to_vector());
    const auto& v = host.back();
    std::size_t nbytes = v.size() * sizeof(float);
    index.push_back({{"name", nt.name},
                     {"shape", nt.tensor.shape().dims()},
                     {"dtype", "float32"},
                     {"offset", offset},
                     {"nbytes", nbytes},
                     {"crc32", crc32(v.data(), nbytes)}});
    offset = round_up(offset + nbytes, 64);
  }
  header["tensors"] = index;
  header["data_bytes"] = offset;  // the file is exactly data start + this: truncation is detectable
  std::string text = header.dump();

  std::string out(kMagic, kMagic + 8);
  put_u32(out, kModelFormatVersion);
  put_u32(out, static_cast<uint32_t>(text.size()));
  out += text;
  uint32_t hcrc = crc32(out.data() + 8, out.size() - 8);
  put_u32(out, hcrc);
  out.resize(round_up(out.size(), 64), '\0');
  const std::size_t data_start = out.size();
  out.resize(data_start + offset, '\0');
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::size_t off = index[i]["offset"].get<std::size_t>();
    std::memcpy(out.data() + data_start + off, host[i].data(), host[i].size() * sizeof(float));
  }
  write_file_atomically(path, out);
}

ModelFile parse_model_file(const std::string& name, const std::vector<char>& bytes) {
  if (bytes.size() < 16) fail(name, ": truncated (", bytes.size(), " bytes; a model file has at least 16)");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0)
    fail(name, ": not a convoy model file (wrong magic bytes at offset 0)");
  uint32_t version = get_u32(bytes.data() + 8);
  if (version > kModelFormatVersion)
    fail(name, ": model format version ", version, " is newer than this convoy reads (", kModelFormatVersion,
         "); upgrade convoy");
  if (version == 0) fail(name, ": bad model format version 0");
  uint32_t hlen = get_u32(bytes.data() + 12);
  if (16 + static_cast<std::size_t>(hlen) + 4 > bytes.size())
    fail(name, ": truncated in the header (header of ", hlen, " bytes, file of ", bytes.size(), ")");
  uint32_t stored = get_u32(bytes.data() + 16 + hlen);
  if (crc32(bytes.data() + 8, 8 + hlen) != stored) fail(name, ": header checksum mismatch (corrupt file)");
  ModelFile mf;
  try {
    mf.header = nlohmann::json::parse(bytes.begin() + 16, bytes.begin() + 16 + hlen);
  } catch (const nlohmann::json::exception& e) {
    fail(name, ": header is not valid JSON: ", e.what());
  }
  if (!mf.header.contains("tensors") || !mf.header["tensors"].is_array())
    fail(name, ": header has no tensor index");
  const std::size_t data_start = round_up(16 + hlen + 4, 64);
  if (!mf.header.contains("data_bytes") || !mf.header["data_bytes"].is_number_unsigned())
    fail(name, ": header has no data size");
  const std::size_t expected = data_start + mf.header["data_bytes"].get<std::size_t>();
  if (bytes.size() < expected)
    fail(name, ": truncated: ", bytes.size(), " bytes, the header describes ", expected);
  if (bytes.size() > expected)
    fail(name, ": ", bytes.size() - expected, " unexpected bytes after the data at offset ", expected);
  for (const auto& t : mf.header["tensors"]) {
    if (!t.is_object() || (t.contains("name") && !t["name"].is_string()))
      fail(name, ": bad tensor index entry ", t.dump().substr(0, 80));
    std::string tname = t.value("name", std::string("?"));
    try {
      if (t.at("dtype") != "float32") fail("unsupported dtype ", t.at("dtype").dump());
      std::vector<int64_t> dims = t.at("shape").get<std::vector<int64_t>>();
      std::size_t off = t.at("offset").get<std::size_t>(), nbytes = t.at("nbytes").get<std::size_t>();
      // Sizes come from untrusted bytes: no negative dimension, and no element count larger
      // than the file could hold (which also keeps Shape::numel from overflowing).
      int64_t count = 1;
      for (int64_t d : dims) {
        if (d < 0 || (d > 0 && count > static_cast<int64_t>(bytes.size() / sizeof(float)) / d))
          fail("shape ", nlohmann::json(dims).dump(), " does not fit in a file of ", bytes.size(), " bytes");
        count *= d;
      }
      Shape shape(dims);
      if (shape.numel() < 0 || static_cast<std::size_t>(shape.numel()) * sizeof(float) != nbytes)
        fail("shape ", shape.to_string(), " does not match ", nbytes, " bytes");
      if (data_start + off + nbytes > bytes.size() || off > bytes.size())
        fail("data at offset ", data_start + off, " runs past the end of the file (", bytes.size(),
             " bytes): truncated");
      if (crc32(bytes.data() + data_start + off, nbytes) != t.at("crc32").get<uint32_t>())
        fail("checksum mismatch at offset ", data_start + off, " (corrupt data)");
      Tensor tensor(shape);
      std::memcpy(tensor.data(), bytes.data() + data_start + off, nbytes);
      mf.tensors.push_back({tname, tensor});
    } catch (const nlohmann::json::exception& e) {
      fail(name, ": tensor '", tname, "': bad index entry: ", e.what());
    } catch (const Error& e) {
      fail(name, ": tensor '", tname, "': ", e.what());
    }
  }
  mf.header.erase("tensors");
  mf.header.erase("data_bytes");
  return mf;
}

ModelFile read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open model file ", path, ": ", std::strerror(errno));
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_model_file(path, bytes);
}

}  // namespace convoy
