// The .convoy container: round trip, and every kind of damage rejected with a clear error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "engine/error.h"
#include "engine/model_file.h"
#include "tests/common/test_util.h"

namespace convoy {
namespace {

std::vector<char> sample_file_bytes(const std::string& path) {
  nlohmann::json header = {{"format", "convoy-model"}, {"note", "test"}};
  std::vector<NamedTensor> ts = {{"a.weight", Tensor::from_vector({2, 3}, test::random_vector(6, 1))},
                                 {"b", Tensor::from_vector({5}, test::random_vector(5, 2))}};
  write_model_file(path, header, ts);
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("convoy_mf_" + std::to_string(::getpid()) + name)).string();
}

TEST(ModelFile, RoundTrip) {
  std::string path = temp_path("rt.convoy");
  sample_file_bytes(path);
  ModelFile mf = read_model_file(path);
  EXPECT_EQ(mf.header["note"], "test");
  ASSERT_EQ(mf.tensors.size(), 2u);
  EXPECT_EQ(mf.tensors[0].name, "a.weight");
  EXPECT_EQ(mf.tensors[0].tensor.shape(), Shape({2, 3}));
  EXPECT_EQ(mf.tensors[0].tensor.to_vector(), test::random_vector(6, 1));
  EXPECT_EQ(mf.find("b")->to_vector(), test::random_vector(5, 2));
  std::filesystem::remove(path);
}

TEST(ModelFile, EveryTruncationIsRejected) {
  std::string path = temp_path("tr.convoy");
  auto bytes = sample_file_bytes(path);
  std::filesystem::remove(path);
  for (size_t len = 0; len < bytes.size(); len += 7) {
    std::vector<char> cut(bytes.begin(), bytes.begin() + len);
    EXPECT_THROW(parse_model_file("cut.convoy", cut), Error) << "length " << len;
  }
}

TEST(ModelFile, EveryFlippedByteIsRejected) {
  std::string path = temp_path("fl.convoy");
  auto bytes = sample_file_bytes(path);
  std::filesystem::remove(path);
  // Padding bytes (after the header and after each tensor) carry no information; every
  // other byte is covered by the header checksum or a tensor checksum and must be checked.
  size_t hlen = static_cast<unsigned char>(bytes[12]) | (static_cast<unsigned char>(bytes[13]) << 8);
  size_t header_end = 16 + hlen + 4;
  size_t data_start = (header_end + 63) / 64 * 64;
  auto header = nlohmann::json::parse(bytes.begin() + 16, bytes.begin() + 16 + hlen);
  std::vector<bool> meaningful(bytes.size(), false);
  for (size_t i = 0; i < header_end; ++i) meaningful[i] = true;
  for (const auto& t : header["tensors"])
    for (size_t k = 0; k < t["nbytes"].get<size_t>(); ++k) meaningful[data_start + t["offset"].get<size_t>() + k] = true;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (!meaningful[i]) continue;
    auto bad = bytes;
    bad[i] ^= 0x20;
    EXPECT_THROW(parse_model_file("flip.convoy", bad), Error) << "byte " << i;
  }
}

TEST(ModelFile, WrongMagicAndFutureVersionSayWhich) {
  std::string path = temp_path("mv.convoy");
  auto bytes = sample_file_bytes(path);
  std::filesystem::remove(path);
  auto bad = bytes;
  bad[0] = 'X';
  try {
    parse_model_file("m.convoy", bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a convoy model file"), std::string::npos) << e.what();
  }
  bad = bytes;
  bad[8] = 9;
  try {
    parse_model_file("v.convoy", bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST(ModelFile, FailedWriteLeavesTheOldFile) {
  std::string path = temp_path("keep.convoy");
  auto before = sample_file_bytes(path);
  std::vector<NamedTensor> ts = {{"x", Tensor::from_vector({1}, {1.0f})}};
  // A folder that does not exist: the write fails and the existing file is untouched.
  EXPECT_THROW(write_model_file("/nonexistent-dir/x.convoy", {}, ts), Error);
  ModelFile mf = read_model_file(path);
  EXPECT_EQ(mf.tensors.size(), 2u);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace convoy
