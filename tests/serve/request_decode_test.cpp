// decode_request on every content type, good and bad: each answer is checked byte for byte
// against the image it was built from, each refusal for its HTTP status.
#include <gtest/gtest.h>

#include "engine/crc32.h"
#include "engine/error.h"
#include "engine/rng.h"
#include "serve/request_decode.h"
#include "serve_test_helpers.h"

namespace convoy::serve {
namespace {

std::vector<uint8_t> random_image(uint64_t seed) {
  Rng rng(seed, 77);
  std::vector<uint8_t> v(data::kImageBytes);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(rng.uniform_at(i) * 256.0f);
  return v;
}

DecodedRequest ok(const DecodeResult& r) {
  if (const auto* e = std::get_if<RequestError>(&r)) ADD_FAILURE() << "status " << e->status << ": " << e->message;
  return std::holds_alternative<DecodedRequest>(r) ? std::get<DecodedRequest>(r) : DecodedRequest{};
}

int status_of(const DecodeResult& r) {
  const auto* e = std::get_if<RequestError>(&r);
  return e ? e->status : 200;
}

std::string as_string(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

TEST(DecodeRequest, JsonNestedHwcImagesBecomeChw) {
  const auto a = random_image(1), b = random_image(2);
  const auto& r = ok(decode_request("application/json", test::json_instances({a, b})));
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(std::vector<uint8_t>(r.images.begin(), r.images.begin() + 3072), a);
  EXPECT_EQ(std::vector<uint8_t>(r.images.begin() + 3072, r.images.end()), b);
  EXPECT_TRUE(r.labels.empty());
}

TEST(DecodeRequest, JsonFlatChwFloatsAndBareArray) {
  const auto a = random_image(3);
  nlohmann::json flat = nlohmann::json::array();
  for (uint8_t v : a) flat.push_back(v >= 128 ? v - 0.3 : v + 0.3);  // rounds back to v
  const auto& r = ok(decode_request("Application/JSON; charset=utf-8",
                                    nlohmann::json{{"instances", {flat}}, {"note", {1, "x", {{"k", 2}}}}}.dump()));
  ASSERT_EQ(r.count, 1);
  EXPECT_EQ(r.images, a);
  const auto& bare = ok(decode_request("application/json", nlohmann::json::array({flat, flat}).dump()));
  EXPECT_EQ(bare.count, 2);
}

// One image as a bare record: the flat CHW array, or (nested) the 32x32x3 HWC array.
std::string flat_record(const std::vector<uint8_t>& chw) { return nlohmann::json(chw).dump(); }
std::string nested_record(const std::vector<uint8_t>& chw) {
  return nlohmann::json::parse(test::json_instances({chw}))["instances"][0].dump();
}

TEST(DecodeRequest, SeveralJsonRecordsAddUpInOrder) {
  // What batch transform sends with SplitType Line: the records of a mini-batch joined by
  // newlines. Each record form: an instances object, one flat image, one nested image, a
  // bare list of images.
  std::vector<std::vector<uint8_t>> img;
  for (uint64_t s = 20; s < 26; ++s) img.push_back(random_image(s));
  const std::string body = test::json_instances({img[0], img[1]}) + "\n" + flat_record(img[2]) + "\r\n" +
                           nested_record(img[3]) + "\n\n" + "[" + flat_record(img[4]) + "," + flat_record(img[5]) +
                           "]\n";
  for (const char* type : {"application/json", "application/jsonlines", "application/x-jsonlines; charset=utf-8"}) {
    const auto& r = ok(decode_request(type, body));
    ASSERT_EQ(r.count, 6) << type;
    for (size_t i = 0; i < img.size(); ++i)
      EXPECT_EQ(std::vector<uint8_t>(r.images.begin() + i * 3072, r.images.begin() + (i + 1) * 3072), img[i]) << i;
    EXPECT_EQ(r.format, media_type(type));
  }
  // One record on its own is the same as in a list.
  EXPECT_EQ(ok(decode_request("application/json", flat_record(img[2]))).images, img[2]);
  EXPECT_EQ(ok(decode_request("application/jsonlines", nested_record(img[3]) + "\n")).images, img[3]);
}

TEST(DecodeRequest, AJsonLinesErrorNamesItsLine) {
  const auto a = random_image(30);
  std::string short_image = flat_record(a);
  short_image.erase(short_image.rfind(','));
  short_image += "]";
  for (const std::string& bad : {short_image, std::string("[1, 2"), std::string("{\"instances\": []}"),
                                 std::string("cat"), std::string("42")}) {
    const std::string body = flat_record(a) + "\n" + nested_record(a) + "\n" + bad + "\n" + flat_record(a) + "\n";
    const auto r = decode_request("application/jsonlines", body);
    ASSERT_EQ(status_of(r), 400) << bad;
    EXPECT_EQ(std::get<RequestError>(r).message.rfind("line 3: ", 0), 0u) << std::get<RequestError>(r).message;
  }
  EXPECT_EQ(status_of(decode_request("application/jsonlines", " \n\n")), 400);
  DecodeLimits two;
  two.max_images = 2;
  EXPECT_EQ(status_of(decode_request("application/jsonlines", flat_record(a) + "\n" + flat_record(a) + "\n" +
                                                                   flat_record(a), two)), 413);
}

TEST(DecodeRequest, PayloadLimitFollowsSageMakersSetting) {
  EXPECT_EQ(limits_for_payload_mb(6).max_body_bytes, size_t(6) << 20);
  EXPECT_EQ(limits_for_payload_mb(6).max_images, 4096);
  EXPECT_EQ(limits_for_payload_mb(100).max_body_bytes, size_t(100) << 20);
  EXPECT_EQ(limits_for_payload_mb(100).max_images, (int64_t(100) << 20) / 3072);  // 100 MiB of raw images
  EXPECT_EQ(limits_for_payload_mb(0).max_body_bytes, kMaxUnlimitedPayloadBytes);
  EXPECT_THROW(limits_for_payload_mb(-1), Error);
  EXPECT_THROW(limits_for_payload_mb(101), Error);
  // 7 MiB of CIFAR records: over the default, within a 16 MB setting.
  std::string records;
  const auto a = random_image(31);
  while (records.size() < (size_t(7) << 20)) records += '\x03' + as_string(a);
  EXPECT_EQ(status_of(decode_request("application/octet-stream", records)), 413);
  EXPECT_EQ(ok(decode_request("application/octet-stream", records, limits_for_payload_mb(16))).count,
            static_cast<int64_t>(records.size() / 3073));
}

TEST(DecodeRequest, BadJsonIs400) {
  const auto a = random_image(4);
  std::string good = test::json_instances({a});
  for (const std::string& body :
       {std::string(""), std::string("{"), std::string("{\"instances\": [1, 2"), good.substr(0, good.size() / 2),
        std::string("{\"instances\": []}"), std::string("{\"images\": [[1]]}"), std::string("42"),
        std::string("{\"instances\": 7}"), std::string("{\"instances\": [[[[1, 2, 3]]]]}"),
        std::string("{\"instances\": [\"cat.jpg\"]}"), std::string("{\"instances\": [{\"b64\": \"AAAA\"}]}"),
        // Not UTF-8 (a string holding Latin-1 bytes), and a JPEG sent as JSON.
        std::string("{\"instances\": [[1, 2]], \"note\": \"caf\xe9\"}"),
        std::string("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01", 16)}) {
    const auto r = decode_request("application/json", body);
    EXPECT_EQ(status_of(r), 400) << body.substr(0, 80);
  }
}

TEST(DecodeRequest, JsonWrongImageSizeOrValueIs400) {
  const auto a = random_image(5);
  auto j = nlohmann::json::parse(test::json_instances({a}));
  auto rows31 = j;
  rows31["instances"][0].erase(31);
  auto cols33 = j;
  cols33["instances"][0][4].push_back({1, 2, 3});
  auto chan2 = j;
  chan2["instances"][0][7][9] = {1, 2};
  auto big = j;
  big["instances"][0][0][0][1] = 256;
  auto neg = j;
  neg["instances"][0][3][3][2] = -0.7;
  nlohmann::json flat3071 = nlohmann::json::array();
  for (int i = 0; i < 3071; ++i) flat3071.push_back(i % 256);
  for (const auto& bad : {rows31, cols33, chan2, big, neg, nlohmann::json{{"instances", {flat3071}}}}) {
    const auto r = decode_request("application/json", bad.dump());
    EXPECT_EQ(status_of(r), 400) << bad.dump().substr(0, 60);
  }
}

TEST(DecodeRequest, RealJpegAndPngOfAnySize) {
  const auto& jpegs = test::sample_jpegs();
  ASSERT_GE(jpegs.size(), 10u);
  const std::string jpeg = as_string(jpegs[3].bytes);
  for (const char* type : {"image/jpeg", "application/x-image"}) {
    const auto& r = ok(decode_request(type, jpeg));
    ASSERT_EQ(r.count, 1);
    EXPECT_EQ(r.images, test::cifar_pixels(jpegs[3].bytes)) << type;
  }
  // A 64x64 PNG made of 2x2 blocks shrinks back to the exact 32x32 image; a 32x32 PNG is lossless.
  const auto a = random_image(6);
  const auto hwc = test::chw_to_hwc(a.data());
  std::vector<uint8_t> big(64 * 64 * 3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) big[(y * 64 + x) * 3 + c] = hwc[((y / 2) * 32 + x / 2) * 3 + c];
  EXPECT_EQ(ok(decode_request("image/png", test::png_bytes(hwc, 32, 32))).images, a);
  EXPECT_EQ(ok(decode_request("image/png", test::png_bytes(big, 64, 64))).images, a);
}

TEST(DecodeRequest, BrokenImagesAre400) {
  const std::string jpeg = as_string(test::sample_jpegs()[0].bytes);
  EXPECT_EQ(status_of(decode_request("image/jpeg", jpeg.substr(0, jpeg.size() / 2))), 400);
  EXPECT_EQ(status_of(decode_request("image/jpeg", jpeg.substr(0, 3))), 400);
  EXPECT_EQ(status_of(decode_request("image/jpeg", "")), 400);
  EXPECT_EQ(status_of(decode_request("image/png", "GIF89a......")), 400);
  // A PNG whose header claims 100000 x 100000 pixels is refused before decoding.
  std::string png = test::png_bytes(test::chw_to_hwc(random_image(7).data()), 32, 32);
  for (int off : {16, 20}) {  // IHDR width and height, big-endian
    png[off] = 0;
    png[off + 1] = 1;
    png[off + 2] = static_cast<char>(0x86);
    png[off + 3] = static_cast<char>(0xA0);
  }
  const uint32_t crc = crc32(png.data() + 12, 17);  // chunk type + IHDR data, so only the size is wrong
  for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<char>(crc >> (24 - 8 * i));
  const auto r = decode_request("image/png", png);
  EXPECT_EQ(status_of(r), 400);
  ASSERT_TRUE(std::holds_alternative<RequestError>(r));
  EXPECT_NE(std::get<RequestError>(r).message.find("too large"), std::string::npos) << std::get<RequestError>(r).message;
}

TEST(DecodeRequest, OctetStreamRecordsWithAndWithoutLabels) {
  const auto a = random_image(8), b = random_image(9);
  std::string labelled = std::string(1, '\x07') + as_string(a) + std::string(1, '\x02') + as_string(b);
  const auto& r = ok(decode_request("application/octet-stream", labelled));
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(r.labels, (std::vector<int>{7, 2}));
  EXPECT_EQ(std::vector<uint8_t>(r.images.begin() + 3072, r.images.end()), b);
  const auto& u = ok(decode_request("application/octet-stream", as_string(a) + as_string(b) + as_string(a)));
  EXPECT_EQ(u.count, 3);
  EXPECT_TRUE(u.labels.empty());
  EXPECT_EQ(std::vector<uint8_t>(u.images.begin() + 6144, u.images.end()), a);
  EXPECT_EQ(status_of(decode_request("application/octet-stream", as_string(a) + "xyz")), 400);
  EXPECT_EQ(status_of(decode_request("application/octet-stream", "")), 400);
}

TEST(DecodeRequest, CsvLinesWithAndWithoutLabels) {
  const auto a = random_image(10), b = random_image(11);
  std::string body = test::csv_line(a, 4) + "\r\n" + test::csv_line(b);
  body.insert(body.find('\n'), "\r");
  const auto& r = ok(decode_request("text/csv", body));
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(r.labels, (std::vector<int>{4, -1}));
  EXPECT_EQ(std::vector<uint8_t>(r.images.begin(), r.images.begin() + 3072), a);
  EXPECT_EQ(std::vector<uint8_t>(r.images.begin() + 3072, r.images.end()), b);
  std::string short_line = test::csv_line(a);
  short_line.erase(short_line.rfind(','));
  std::string bad_value = test::csv_line(a);
  bad_value.replace(0, bad_value.find(','), "cat");
  for (const std::string& bad : {short_line, bad_value, test::csv_line(a) + "1,2,3\n", std::string("\n\n"),
                                 std::string("256") + test::csv_line(a).substr(test::csv_line(a).find(','))})
    EXPECT_EQ(status_of(decode_request("text/csv", bad)), 400) << bad.substr(0, 40);
}

TEST(DecodeRequest, UnsupportedTypesAre415AndLimitsAre413) {
  const auto a = random_image(12);
  EXPECT_EQ(status_of(decode_request("text/plain", "hello")), 415);
  EXPECT_EQ(status_of(decode_request("", as_string(a))), 415);
  EXPECT_EQ(status_of(decode_request("application/x-www-form-urlencoded", "a=1")), 415);
  DecodeLimits small;
  small.max_images = 2;
  EXPECT_EQ(status_of(decode_request("application/octet-stream", as_string(a) + as_string(a) + as_string(a), small)), 413);
  EXPECT_EQ(status_of(decode_request("application/json", test::json_instances({a, a, a}), small)), 413);
  EXPECT_EQ(status_of(decode_request("text/csv", test::csv_line(a) + test::csv_line(a) + test::csv_line(a), small)), 413);
  small.max_body_bytes = 100;
  EXPECT_EQ(status_of(decode_request("application/octet-stream", as_string(a), small)), 413);
  EXPECT_EQ(media_type(" Image/JPEG ; q=0.9"), "image/jpeg");
}

}  // namespace
}  // namespace convoy::serve
