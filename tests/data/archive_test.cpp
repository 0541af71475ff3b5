// Archives read in place: the official binary layout built here with `tar`, and corrupt or
// truncated archives.
#include <gtest/gtest.h>

#include "data/sources.h"
#include "data_test_helpers.h"

namespace convoy::data {
namespace {

using test::error_of;

// tmp/cifar-10-binary.tar.gz holding cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin
// (n records each) and batches.meta.txt; the source folder is removed afterwards.
std::string official_archive(const test::TempDir& dir, int n) {
  test::write_batch_folder(dir.path() / "src/cifar-10-batches-bin", n);
  std::string meta = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";
  test::write_file(dir / "src/cifar-10-batches-bin/batches.meta.txt", std::vector<uint8_t>(meta.begin(), meta.end()));
  test::write_file(dir / "src/cifar-10-batches-bin/readme.html", {'h', 'i'});
  const std::string archive = dir / "cifar-10-binary.tar.gz";
  test::make_tar_gz(archive, dir.path() / "src", "cifar-10-batches-bin");
  std::filesystem::remove_all(dir.path() / "src");
  return archive;
}

TEST(Archive, OfficialLayoutIsReadInPlace) {
  test::TempDir dir;
  const std::string archive = official_archive(dir, 13);
  CifarData data = load_cifar(archive);
  ASSERT_EQ(data.train.size(), 65);
  ASSERT_EQ(data.test.size(), 13);
  for (int k = 1; k <= 5; ++k) {
    std::vector<uint8_t> b = test::batch_bytes(13, k);
    const int64_t i = (k - 1) * 13 + 12;
    EXPECT_EQ(data.train.labels[i], b[12 * kRecordBytes]);
    EXPECT_EQ(data.train.image(i)[3071], b[13 * kRecordBytes - 1]);
  }
  std::vector<uint8_t> t = test::batch_bytes(13, 6);
  EXPECT_EQ(data.test.image(4)[0], t[4 * kRecordBytes + 1]);
  EXPECT_EQ(data.train.class_names[1], "automobile");
  // Each split names where it came from (error messages quote it).
  EXPECT_EQ(data.train.origin, archive + ": cifar-10-batches-bin/data_batch_1..5.bin");
  EXPECT_EQ(data.test.origin, archive + ": cifar-10-batches-bin/test_batch.bin");
  // Nothing was extracted next to the archive.
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) ++entries, (void)e;
  EXPECT_EQ(entries, 1);

  LoadOptions o;
  o.train_batches = 3;
  o.load_test = false;
  CifarData three = load_cifar(archive, o);
  EXPECT_EQ(three.train.size(), 39);
  EXPECT_EQ(three.test.size(), 0);
}

TEST(Archive, MissingMemberNamesArchiveAndMember) {
  test::TempDir dir;
  test::write_batch_folder(dir.path() / "src/cifar-10-batches-bin", 2);
  std::filesystem::remove(dir.path() / "src/cifar-10-batches-bin/data_batch_3.bin");
  test::make_tar_gz(dir / "c.tar.gz", dir.path() / "src", "cifar-10-batches-bin");
  std::string e = error_of([&] { load_cifar(dir / "c.tar.gz"); });
  EXPECT_NE(e.find("c.tar.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("cifar-10-batches-bin/data_batch_3.bin"), std::string::npos) << e;
}

TEST(Archive, BadRecordInMemberNamesArchiveMemberAndRecord) {
  test::TempDir dir;
  test::write_batch_folder(dir.path() / "src/cifar-10-batches-bin", 4);
  std::vector<uint8_t> b = test::batch_bytes(4, 2);
  b[2 * kRecordBytes] = 11;
  test::write_file(dir / "src/cifar-10-batches-bin/data_batch_2.bin", b);
  test::make_tar_gz(dir / "c.tgz", dir.path() / "src", "cifar-10-batches-bin");
  std::string e = error_of([&] { load_cifar(dir / "c.tgz"); });
  EXPECT_NE(e.find("c.tgz"), std::string::npos) << e;
  EXPECT_NE(e.find("data_batch_2.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("record 2"), std::string::npos) << e;
}

TEST(Archive, GarbageIsAClearError) {
  test::TempDir dir;
  std::vector<uint8_t> junk = test::batch_bytes(1, 5);
  test::write_file(dir / "junk.tar.gz", junk);
  std::string e = error_of([&] { load_cifar(dir / "junk.tar.gz"); });
  // The file first, then what is wrong with it and libarchive's reason.
  EXPECT_NE(e.find(dir / "junk.tar.gz" + ": cannot open as a tar archive: "), std::string::npos) << e;
}

TEST(Archive, TruncatedGzipIsAClearError) {
  test::TempDir dir;
  const std::string archive = official_archive(dir, 40);
  std::vector<uint8_t> bytes = test::read_bytes(archive);
  for (double keep : {0.5, 0.97}) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() * keep));
    test::write_file(dir / "cut.tar.gz", cut);
    std::string e = error_of([&] { load_cifar(dir / "cut.tar.gz"); });
    EXPECT_NE(e.find("cut.tar.gz"), std::string::npos) << "keep " << keep << ": " << e;
  }
  // A flipped byte in the middle of the compressed stream.
  std::vector<uint8_t> flipped = bytes;
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) flipped[i] ^= 0x5A;
  test::write_file(dir / "flip.tar.gz", flipped);
  std::string e = error_of([&] { load_cifar(dir / "flip.tar.gz"); });
  EXPECT_NE(e.find("flip.tar.gz"), std::string::npos) << e;
}

}  // namespace
}  // namespace convoy::data
