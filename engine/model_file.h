// The .convoy container: a versioned, checksummed file of named float32 tensors plus a
// JSON header (docs/model-format.md). Layout, little-endian:
//   "CONVOYMF"  8 bytes magic
//   u32         format version (kModelFormatVersion)
//   u32         header length H
//   H bytes     header JSON: {"data_bytes": D, "tensors": [{"name", "shape", "dtype": "float32", "offset",
//               "nbytes", "crc32"}], ...whatever the caller adds (config, classes, ...)}
//   u32         CRC-32 of the version, length and header bytes
//   padding     zeros up to a multiple of 64
//   data        D bytes: each tensor at its offset (relative to the start of data); the file
//               ends exactly there
// Files are written atomically: a temporary file in the same folder, fsync, rename, so a
// crash never leaves a half-written file under the final name.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"

namespace convoy {

inline constexpr uint32_t kModelFormatVersion = 1;

struct NamedTensor {
  std::string name;
  Tensor tensor;  // any device on write; CPU on read
};

struct ModelFile {
  nlohmann::json header;  // without the "tensors" index
  std::vector<NamedTensor> tensors;
  const Tensor* find(const std::string& name) const;
};

void write_model_file(const std::string& path, const nlohmann::json& header, const std::vector<NamedTensor>& tensors);
// Rejects a truncated, corrupt, foreign or newer-version file with an error naming the file
// and what is wrong (which tensor, which offset).
ModelFile read_model_file(const std::string& path);
ModelFile parse_model_file(const std::string& name, const std::vector<char>& bytes);

// Writes `bytes` to `path` atomically (temporary file + fsync + rename).
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace convoy
