// Image-folder trees (PNG written here, JPEG taken from the real archive), their archives,
// resizing, class order, the K/5 subset, decode errors, and the real CIFAR-10 JPEG archive.
#include <gtest/gtest.h>

#include <chrono>

#include "data/archive_reader.h"
#include "data/image_decode.h"
#include "data/sources.h"
#include "data_test_helpers.h"

namespace convoy::data {
namespace {

using test::error_of;

std::vector<uint8_t> random_pixels(int n, uint64_t seed) {
  Rng rng(seed, 5);
  std::vector<uint8_t> p(n);
  for (int i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(rng.next_bits());
  return p;
}

// The bytes of one JPEG member of the real archive.
std::vector<uint8_t> real_jpeg(const std::string& member) {
  auto m = detail::read_archive_members(CONVOY_TEST_ARCHIVE, [&](const std::string& n) { return n == member; });
  if (m.size() != 1) throw std::runtime_error("member " + member + " not in " CONVOY_TEST_ARCHIVE);
  return m[0].bytes;
}

TEST(ImageFolder, PngTreeWithCifarNamesKeepsCifarLabelsAndExactPixels) {
  test::TempDir dir;
  std::vector<uint8_t> px = random_pixels(32 * 32 * 3, 1);
  test::write_file(dir / "train/dog/b.png", test::png_bytes(32, 32, 3, px));
  test::write_file(dir / "train/dog/a.png", test::png_bytes(32, 32, 3, random_pixels(3072, 2)));
  test::write_file(dir / "train/cat/z.png", test::png_bytes(32, 32, 3, random_pixels(3072, 3)));
  test::write_file(dir / "train/cat/notes.txt", {'x'});  // ignored
  test::write_file(dir / "test/dog/c.png", test::png_bytes(32, 32, 3, random_pixels(3072, 4)));
  CifarData data = load_cifar(dir.path().string());
  ASSERT_EQ(data.train.size(), 3);
  ASSERT_EQ(data.test.size(), 1);
  EXPECT_EQ(data.train.class_names.size(), 10u);
  // Sorted by (class, file): cat/z, dog/a, dog/b; cat = 3 and dog = 5 in CIFAR-10 order.
  EXPECT_EQ(data.train.labels, (std::vector<int32_t>{3, 5, 5}));
  EXPECT_EQ(data.test.labels, (std::vector<int32_t>{5}));
  const uint8_t* img = data.train.image(2);  // dog/b.png
  for (int y = 0; y < 32; y += 5)
    for (int x = 0; x < 32; x += 3)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(img[c * 1024 + y * 32 + x], px[(y * 32 + x) * 3 + c]) << y << "," << x;
}

TEST(ImageFolder, OtherNamesUseSortedFolderOrder) {
  test::TempDir dir;
  for (std::string cls : {"zebra", "apple", "mango"}) {
    test::write_file(dir / ("train/" + cls + "/1.png"), test::png_bytes(32, 32, 3, random_pixels(3072, 7)));
    test::write_file(dir / ("test/" + cls + "/1.png"), test::png_bytes(32, 32, 3, random_pixels(3072, 8)));
  }
  CifarData data = load_cifar(dir.path().string());
  EXPECT_EQ(data.train.class_names, (std::vector<std::string>{"apple", "mango", "zebra"}));
  EXPECT_EQ(data.train.labels, (std::vector<int32_t>{0, 1, 2}));
}

TEST(ImageFolder, ResizesAnySizeAndExpandsGray) {
  // 64x64 of 2x2 blocks shrinks to the block averages; a constant 45x17 stays constant;
  // 16x16 gray grows to equal R, G and B.
  std::vector<uint8_t> big(64 * 64 * 3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) big[(y * 64 + x) * 3 + c] = static_cast<uint8_t>(((x + y) % 2) * 100 + 20 * c + x);
  uint8_t out[kImageBytes];
  std::fill(out, out + kImageBytes, 0xEE);
  detail::decode_to_cifar("big.png", test::png_bytes(64, 64, 3, big).data(), test::png_bytes(64, 64, 3, big).size(), out);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < 3; ++c) {
        double want = 0;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) want += big[((2 * y + dy) * 64 + 2 * x + dx) * 3 + c];
        ASSERT_NEAR(out[c * 1024 + y * 32 + x], want / 4, 0.51) << y << "," << x << "," << c;
      }
  std::vector<uint8_t> flat(45 * 17 * 3);
  for (size_t i = 0; i < flat.size(); ++i) flat[i] = static_cast<uint8_t>(30 + 50 * (i % 3));
  std::vector<uint8_t> flat_png = test::png_bytes(45, 17, 3, flat);
  detail::decode_to_cifar("flat.png", flat_png.data(), flat_png.size(), out);
  for (int k = 0; k < kImageBytes; ++k) ASSERT_EQ(out[k], 30 + 50 * (k / 1024)) << k;
  std::vector<uint8_t> gray = random_pixels(16 * 16, 9);
  std::vector<uint8_t> gray_png = test::png_bytes(16, 16, 1, gray);
  detail::decode_to_cifar("gray.png", gray_png.data(), gray_png.size(), out);
  for (int k = 0; k < 1024; ++k) ASSERT_TRUE(out[k] == out[1024 + k] && out[k] == out[2048 + k]) << k;
  EXPECT_EQ(out[0], gray[0]);  // the corner pixel keeps its value when enlarging
}

TEST(ImageFolder, TrainBatchesKeepsClassBalancedStride) {
  test::TempDir dir;
  for (std::string cls : {"bird", "frog"})
    for (int i = 0; i < 10; ++i) {
      std::vector<uint8_t> px(3072, static_cast<uint8_t>(10 * i + (cls == "frog")));
      test::write_file(dir / ("train/" + cls + "/" + std::to_string(i) + ".png"), test::png_bytes(32, 32, 3, px));
    }
  test::write_file(dir / "test/bird/0.png", test::png_bytes(32, 32, 3, random_pixels(3072, 3)));
  LoadOptions o;
  o.train_batches = 2;
  CifarData data = load_cifar(dir.path().string(), o);
  ASSERT_EQ(data.train.size(), 8);  // 2/5 of 10, per class
  std::vector<int> first_pixel;
  for (int64_t i = 0; i < data.train.size(); ++i) first_pixel.push_back(data.train.image(i)[0]);
  EXPECT_EQ(first_pixel, (std::vector<int>{0, 10, 50, 60, 1, 11, 51, 61}));
  EXPECT_EQ(data.train.labels, (std::vector<int32_t>{2, 2, 2, 2, 6, 6, 6, 6}));
}

TEST(ImageFolder, TruncatedJpegOnDiskNamesTheFile) {
  test::TempDir dir;
  std::vector<uint8_t> jpg = real_jpeg("train/cat/0007.jpg");
  test::write_file(dir / "train/cat/good.jpg", jpg);
  test::write_file(dir / "test/cat/good.jpg", jpg);
  jpg.resize(jpg.size() / 2);
  test::write_file(dir / "train/cat/broken.jpg", jpg);
  std::string e = error_of([&] { load_cifar(dir.path().string()); });
  EXPECT_NE(e.find("train/cat/broken.jpg"), std::string::npos) << e;
  EXPECT_NE(e.find("JPEG"), std::string::npos) << e;
}

TEST(ImageFolder, ArchiveWithTopFolderAndTruncatedJpegNamesTheMember) {
  test::TempDir dir;
  std::vector<uint8_t> jpg = real_jpeg("test/ship/0003.jpg");
  for (std::string split : {"train", "test"})
    for (std::string cls : {"ship", "truck"}) test::write_file(dir / ("src/tree/" + split + "/" + cls + "/a.jpg"), jpg);
  // Folders beside train/ and test/ are not part of either split.
  for (std::string other : {"extra", "valid"}) test::write_file(dir / ("src/tree/" + other + "/ship/a.jpg"), jpg);
  test::make_tar_gz(dir / "tree.tgz", dir.path() / "src", "tree");
  CifarData data = load_cifar(dir / "tree.tgz");
  ASSERT_EQ(data.train.size(), 2);
  EXPECT_EQ(data.test.size(), 2);
  EXPECT_EQ(data.train.labels, (std::vector<int32_t>{8, 9}));
  EXPECT_EQ(data.train.images, data.test.images);
  std::filesystem::remove_all(dir.path() / "src/tree/extra");
  std::filesystem::remove_all(dir.path() / "src/tree/valid");
  jpg.resize(jpg.size() - 200);
  test::write_file(dir / "src/tree/train/truck/b.jpg", jpg);
  test::make_tar_gz(dir / "bad.tar.gz", dir.path() / "src", "tree");
  std::string e = error_of([&] { load_cifar(dir / "bad.tar.gz"); });
  EXPECT_NE(e.find("bad.tar.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("tree/train/truck/b.jpg"), std::string::npos) << e;
}

TEST(ImageFolder, NotAnImageNamesTheFile) {
  test::TempDir dir;
  test::write_file(dir / "train/cat/fake.png", {'n', 'o', 'p', 'e'});
  test::write_file(dir / "test/cat/fake.png", {'n', 'o', 'p', 'e'});
  std::string e = error_of([&] { load_cifar(dir.path().string()); });
  EXPECT_NE(e.find("train/cat/fake.png"), std::string::npos) << e;
}

// The real CIFAR-10 JPEG archive: FAILS (never skips) when it is missing.
TEST(RealArchive, LoadsAllImagesBalancedWithCifarStatistics) {
  ASSERT_TRUE(std::filesystem::exists(CONVOY_TEST_ARCHIVE)) << "missing test archive " << CONVOY_TEST_ARCHIVE;
  auto t0 = std::chrono::steady_clock::now();
  CifarData data = load_cifar(CONVOY_TEST_ARCHIVE);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ info ] decoded 60000 JPEGs from the archive in %.2f s\n", seconds);
  ASSERT_EQ(data.train.size(), 50000);
  ASSERT_EQ(data.test.size(), 10000);
  std::vector<int> train_count(10, 0), test_count(10, 0);
  for (int32_t l : data.train.labels) ++train_count.at(l);
  for (int32_t l : data.test.labels) ++test_count.at(l);
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(train_count[c], 5000) << c;
    EXPECT_EQ(test_count[c], 1000) << c;
  }
  EXPECT_EQ(data.train.class_names[0], "airplane");
  // Decoded the right way round: the statistics are CIFAR-10's (JPEG shifts them a little).
  ChannelStats s = channel_stats(data.train), want = cifar10_stats();
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(s.mean[c], want.mean[c], 3.0) << c;
    EXPECT_NEAR(s.std[c], want.std[c], 3.0) << c;
  }
}

}  // namespace
}  // namespace convoy::data
