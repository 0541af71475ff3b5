// MD5 against the RFC 1321 test suite, and the verified download (through curl's file://,
// so no network is needed) plus default_data_spec's local look-ups.
#include <gtest/gtest.h>
#include <unistd.h>

#include "data/download.h"
#include "data/md5.h"
#include "data/sources.h"
#include "data_test_helpers.h"

namespace convoy::data {
namespace {

std::string md5_of(const std::string& s) { return md5_hex(s.data(), s.size()); }

TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(md5_of(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_of("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(md5_of("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_of("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5_of("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(md5_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(md5_of("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, StreamingInOddPiecesMatchesOneShot) {
  std::vector<uint8_t> bytes = test::batch_bytes(3, 9);  // 9219 bytes
  Md5 m;
  size_t pos = 0, step = 1;
  while (pos < bytes.size()) {
    size_t take = std::min(step, bytes.size() - pos);
    m.update(bytes.data() + pos, take);
    pos += take, step = step * 3 + 1;
  }
  EXPECT_EQ(Md5::hex(m.finish()), md5_hex(bytes.data(), bytes.size()));
  test::TempDir dir;
  test::write_file(dir / "f", bytes);
  EXPECT_EQ(md5_file_hex(dir / "f"), md5_hex(bytes.data(), bytes.size()));
}

TEST(Download, FileUrlWithRightMd5LandsAtTarget) {
  if (std::system("curl --version >/dev/null 2>&1") != 0) GTEST_FAIL() << "curl is needed for this test";
  test::TempDir dir;
  std::vector<uint8_t> bytes = test::batch_bytes(2, 4);
  test::write_file(dir / "src.bin", bytes);
  const std::string url = "file://" + (dir / "src.bin");
  download_verified(url, dir / "out/got.bin", md5_hex(bytes.data(), bytes.size()));
  EXPECT_EQ(test::read_bytes(dir / "out/got.bin"), bytes);
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir / "out")) ++files, (void)e;
  EXPECT_EQ(files, 1);  // no temporary or log left behind
}

TEST(Download, WrongMd5LeavesNothing) {
  test::TempDir dir;
  test::write_file(dir / "src.bin", test::batch_bytes(1, 4));
  std::string e = test::error_of(
      [&] { download_verified("file://" + (dir / "src.bin"), dir / "out/got.bin", kCifar10Md5); });
  EXPECT_NE(e.find("MD5"), std::string::npos) << e;
  EXPECT_NE(e.find(kCifar10Md5), std::string::npos) << e;
  EXPECT_TRUE(std::filesystem::is_empty(dir / "out"));
}

TEST(Download, FailedFetchSaysWhy) {
  test::TempDir dir;
  std::string e = test::error_of(
      [&] { download_verified("file://" + (dir / "absent.bin"), dir / "got.bin", kCifar10Md5); });
  EXPECT_NE(e.find("absent.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("failed"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(dir / "got.bin"));
}

// Runs `f` with the working directory set to `dir` and CONVOY_DATA as given (null: unset).
template <typename F>
void in_dir_with_env(const std::filesystem::path& dir, const char* convoy_data, F&& f) {
  const auto old_dir = std::filesystem::current_path();
  const char* old = std::getenv("CONVOY_DATA");
  std::string saved = old ? old : "";
  if (convoy_data) setenv("CONVOY_DATA", convoy_data, 1);
  else unsetenv("CONVOY_DATA");
  std::filesystem::current_path(dir);
  f();
  std::filesystem::current_path(old_dir);
  if (old) setenv("CONVOY_DATA", saved.c_str(), 1);
  else unsetenv("CONVOY_DATA");
}

TEST(DefaultDataSpec, EnvironmentThenLocalFolders) {
  test::TempDir dir;
  in_dir_with_env(dir.path(), "/some/where", [] { EXPECT_EQ(default_data_spec(), "/some/where"); });
  test::write_batch_folder(dir.path() / "data/cifar-10-batches-bin", 1);
  in_dir_with_env(dir.path(), nullptr, [] { EXPECT_EQ(default_data_spec(), "data/cifar-10-batches-bin"); });
  test::TempDir other;
  test::write_file(other / "data/cifar-10-binary.tar.gz", {1, 2, 3});
  in_dir_with_env(other.path(), "", [] { EXPECT_EQ(default_data_spec(), "data/cifar-10-binary.tar.gz"); });
}

}  // namespace
}  // namespace convoy::data
