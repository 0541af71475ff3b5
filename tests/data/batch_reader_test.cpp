// The binary batch reader: round trip of generated batches and every validation error.
#include <gtest/gtest.h>
#include <unistd.h>

#include "data/sources.h"
#include "data_test_helpers.h"

namespace convoy::data {
namespace {

using test::error_of;
using test::TempDir;

TEST(BatchReader, RoundTripsGeneratedRecords) {
  TempDir dir;
  const int n = 37;  // odd
  std::vector<uint8_t> bytes = test::batch_bytes(n, 3);
  test::write_file(dir / "b.bin", bytes);
  Dataset d = read_cifar_batch_file(dir / "b.bin");
  ASSERT_EQ(d.size(), n);
  ASSERT_EQ(d.images.size(), size_t(n) * kImageBytes);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(d.labels[i], bytes[size_t(i) * kRecordBytes]);
    for (int k = 0; k < kImageBytes; k += 97)
      ASSERT_EQ(d.image(i)[k], bytes[size_t(i) * kRecordBytes + 1 + k]) << "record " << i << " byte " << k;
    EXPECT_EQ(d.image(i)[kImageBytes - 1], bytes[size_t(i + 1) * kRecordBytes - 1]);
  }
  EXPECT_EQ(d.class_names.size(), 10u);
}

TEST(BatchReader, SizeNotMultipleOfRecordNamesFileRecordAndOffset) {
  TempDir dir;
  std::vector<uint8_t> bytes = test::batch_bytes(5, 1);
  bytes.resize(bytes.size() - 100);  // truncated last record
  test::write_file(dir / "data_batch_1.bin", bytes);
  std::string e = error_of([&] { read_cifar_batch_file(dir / "data_batch_1.bin"); });
  EXPECT_NE(e.find("data_batch_1.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("not a multiple of the 3073"), std::string::npos) << e;
  EXPECT_NE(e.find("record 4"), std::string::npos) << e;
  EXPECT_NE(e.find("byte offset 12292"), std::string::npos) << e;
  EXPECT_NE(e.find("is truncated (2973 of 3073 bytes)"), std::string::npos) << e;
}

TEST(BatchReader, ShorterThanOneRecord) {
  TempDir dir;
  test::write_file(dir / "tiny.bin", {1, 2, 3});
  std::string e = error_of([&] { read_cifar_batch_file(dir / "tiny.bin"); });
  EXPECT_NE(e.find("tiny.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("record 0"), std::string::npos) << e;
}

TEST(BatchReader, LabelTenNamesRecordAndOffset) {
  TempDir dir;
  std::vector<uint8_t> bytes = test::batch_bytes(9, 2);
  bytes[size_t(6) * kRecordBytes] = 10;
  test::write_file(dir / "test_batch.bin", bytes);
  std::string e = error_of([&] { read_cifar_batch_file(dir / "test_batch.bin"); });
  EXPECT_NE(e.find("test_batch.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("record 6"), std::string::npos) << e;
  EXPECT_NE(e.find("byte offset 18438"), std::string::npos) << e;
  EXPECT_NE(e.find("label 10"), std::string::npos) << e;
}

TEST(BatchReader, EmptyFile) {
  TempDir dir;
  test::write_file(dir / "data_batch_2.bin", {});
  std::string e = error_of([&] { read_cifar_batch_file(dir / "data_batch_2.bin"); });
  EXPECT_NE(e.find("data_batch_2.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("empty"), std::string::npos) << e;
}

TEST(BatchReader, MissingAndUnreadableFiles) {
  TempDir dir;
  std::string e = error_of([&] { read_cifar_batch_file(dir / "nope.bin"); });
  EXPECT_NE(e.find("nope.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  if (geteuid() != 0) {  // root reads anything, so permissions only bite for other users
    test::write_file(dir / "locked.bin", test::batch_bytes(1, 1));
    std::filesystem::permissions(dir / "locked.bin", std::filesystem::perms::none);
    e = error_of([&] { read_cifar_batch_file(dir / "locked.bin"); });
    EXPECT_NE(e.find("locked.bin"), std::string::npos) << e;
    EXPECT_NE(e.find("cannot be opened"), std::string::npos) << e;
  }
  std::filesystem::create_directories(dir / "folder.bin");
  e = error_of([&] { read_cifar_batch_file(dir / "folder.bin"); });
  EXPECT_NE(e.find("folder.bin"), std::string::npos) << e;
}

TEST(BatchFolder, LoadsAllBatchesInOrderWithMetaNames) {
  TempDir dir;
  test::write_batch_folder(dir.path(), 11);
  std::vector<uint8_t> meta;
  for (char c : std::string("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")) meta.push_back(static_cast<uint8_t>(c));
  test::write_file(dir / "batches.meta.txt", meta);
  CifarData data = load_cifar(dir.path().string());
  ASSERT_EQ(data.train.size(), 55);
  ASSERT_EQ(data.test.size(), 11);
  EXPECT_EQ(data.train.class_names[9], "j");
  EXPECT_EQ(data.test.class_names[0], "a");
  // Record 3 of data_batch_4 is train sample 3*11+3.
  std::vector<uint8_t> b4 = test::batch_bytes(11, 4);
  EXPECT_EQ(data.train.labels[36], b4[3 * kRecordBytes]);
  EXPECT_EQ(data.train.image(36)[100], b4[3 * kRecordBytes + 101]);
  EXPECT_FALSE(data.synthetic);
}

TEST(BatchFolder, DefaultClassNamesWithoutMeta) {
  TempDir dir;
  test::write_batch_folder(dir.path() / "cifar-10-batches-bin", 3);
  CifarData data = load_cifar(dir.path().string());  // the parent of cifar-10-batches-bin/
  ASSERT_EQ(data.train.size(), 15);
  EXPECT_EQ(data.train.class_names[0], "airplane");
  EXPECT_EQ(data.train.class_names[9], "truck");
}

TEST(BatchFolder, TrainBatchesTakesFirstK) {
  TempDir dir;
  test::write_batch_folder(dir.path(), 7);
  LoadOptions o;
  o.train_batches = 2;
  CifarData data = load_cifar(dir.path().string(), o);
  EXPECT_EQ(data.train.size(), 14);
  std::vector<uint8_t> b2 = test::batch_bytes(7, 2);
  EXPECT_EQ(data.train.image(13)[5], b2[6 * kRecordBytes + 6]);
  for (int bad : {0, 6, -1}) {
    o.train_batches = bad;
    std::string e = error_of([&] { load_cifar(dir.path().string(), o); });
    EXPECT_NE(e.find("train_batches " + std::to_string(bad)), std::string::npos) << e;
    EXPECT_NE(e.find("1..5"), std::string::npos) << e;
  }
}

TEST(BatchFolder, MissingBatchThreeNamesIt) {
  TempDir dir;
  test::write_batch_folder(dir.path(), 2);
  std::filesystem::remove(dir / "data_batch_3.bin");
  std::string e = error_of([&] { load_cifar(dir.path().string()); });
  EXPECT_NE(e.find("data_batch_3.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  EXPECT_NE(e.find("(or pass --train-batches 2 to use fewer)"), std::string::npos) << e;
  LoadOptions o;
  o.train_batches = 2;  // does not need batch 3
  EXPECT_EQ(load_cifar(dir.path().string(), o).train.size(), 4);
}

TEST(BatchFolder, MissingFirstBatchOffersNoFewerBatches) {
  TempDir dir;
  test::write_batch_folder(dir.path(), 2);
  std::filesystem::remove(dir / "data_batch_1.bin");
  std::string e = error_of([&] { load_cifar(dir.path().string()); });
  EXPECT_NE(e.find("data_batch_1.bin: missing"), std::string::npos) << e;
  EXPECT_EQ(e.find("--train-batches"), std::string::npos) << "no smaller count can help: " << e;
}

TEST(BatchFolder, BadBatchInFolderNamesFile) {
  TempDir dir;
  test::write_batch_folder(dir.path(), 2);
  std::vector<uint8_t> bytes = test::batch_bytes(2, 5);
  bytes[kRecordBytes] = 200;
  test::write_file(dir / "data_batch_5.bin", bytes);
  std::string e = error_of([&] { load_cifar(dir.path().string()); });
  EXPECT_NE(e.find("data_batch_5.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("record 1"), std::string::npos) << e;
}

TEST(Sources, UnknownSpecSaysWhatToPass) {
  std::string e = error_of([] { load_cifar("/no/such/place"); });
  EXPECT_NE(e.find("/no/such/place"), std::string::npos) << e;
  EXPECT_NE(e.find("synthetic"), std::string::npos) << e;
  TempDir dir;
  e = error_of([&] { load_cifar(dir.path().string()); });
  EXPECT_NE(e.find("holds no CIFAR-10"), std::string::npos) << e;
}

}  // namespace
}  // namespace convoy::data
