// Tensor on the CPU: shapes, reshape and its error, shallow copies, clone / copy_from / fill,
// from_vector and its size error, element types and their checked accessors.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/common/test_util.h"
#include "engine/error.h"
#include "engine/tensor.h"

namespace convoy {
namespace {

TEST(Tensor, ShapeBasics) {
  Shape s{2, 3, 5};
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s.numel(), 30);
  EXPECT_EQ(s[-1], 5);
  EXPECT_EQ(s.to_string(), "(2, 3, 5)");
  Tensor t(s);
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.numel(), 30);
  EXPECT_EQ(t.dim(1), 3);
  EXPECT_TRUE(t.device().is_cpu());
  EXPECT_FALSE(Tensor().defined());
  EXPECT_THROW(Tensor(Shape{2, -1}), Error);
}

TEST(Tensor, ReshapeSharesStorageAndChecksSize) {
  auto values = test::random_vector(12, 1);
  Tensor t = Tensor::from_vector({3, 4}, values);
  Tensor r = t.reshape({2, 6});
  EXPECT_EQ(r.shape(), (Shape{2, 6}));
  EXPECT_EQ(r.data(), t.data());
  r.data()[0] = 7.0f;
  EXPECT_EQ(t.data()[0], 7.0f);
  try {
    t.reshape({5, 2});
    FAIL() << "reshape to a different size must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(5, 2)"), std::string::npos) << e.what();
  }
}

TEST(Tensor, CloneIsDeepAndCopyFromCopies) {
  auto values = test::random_vector(7, 2);
  Tensor t = Tensor::from_vector({7}, values);
  Tensor c = t.clone();
  EXPECT_NE(c.data(), t.data());
  EXPECT_EQ(c.to_vector(), values);
  c.data()[3] = 100.0f;
  EXPECT_EQ(t.data()[3], values[3]);

  Tensor dst(Shape{7});
  dst.fill(std::numeric_limits<float>::quiet_NaN());
  dst.copy_from(t);
  EXPECT_EQ(dst.to_vector(), values);
  Tensor wrong(Shape{6});
  EXPECT_THROW(wrong.copy_from(t), Error);
}

TEST(Tensor, FillZerosAndFilled) {
  Tensor t(Shape{3, 70001});  // large enough for the parallel fill
  t.fill(1.5f);
  for (float v : t.to_vector()) ASSERT_EQ(v, 1.5f);
  t.zero();
  for (float v : t.to_vector()) ASSERT_EQ(v, 0.0f);
  for (float v : Tensor::filled({4}, -2.0f).to_vector()) EXPECT_EQ(v, -2.0f);
  for (float v : Tensor::zeros({5}).to_vector()) EXPECT_EQ(v, 0.0f);
}

TEST(Tensor, FromVectorSizeError) {
  EXPECT_THROW(Tensor::from_vector({2, 2}, {1.0f, 2.0f, 3.0f}), Error);
}

TEST(Tensor, EnsureShapeReusesStorage) {
  Tensor t(Shape{4, 6});
  const float* p = t.data();
  ensure_shape(t, Shape{6, 4}, Device::cpu());
  EXPECT_EQ(t.data(), p);
  EXPECT_EQ(t.shape(), (Shape{6, 4}));
  ensure_shape(t, Shape{5}, Device::cpu());
  EXPECT_EQ(t.numel(), 5);
}

TEST(Tensor, EnsureShapeKeepsALargerStorageNoOtherTensorShares) {
  Tensor t(Shape{64, 3, 4, 4});
  const float* p = t.data();
  ensure_shape(t, Shape{20, 3, 4, 4}, Device::cpu());  // a smaller batch: the same buffer
  EXPECT_EQ(t.data(), p);
  EXPECT_EQ(t.shape(), (Shape{20, 3, 4, 4}));
  ensure_shape(t, Shape{45, 3, 4, 4}, Device::cpu());  // larger again, still within it
  EXPECT_EQ(t.data(), p);
  EXPECT_EQ(t.numel(), 45 * 48);
  ensure_shape(t, Shape{65, 3, 4, 4}, Device::cpu());  // beyond it: new storage
  EXPECT_NE(t.data(), p);
  EXPECT_EQ(t.numel(), 65 * 48);

  // Shared (e.g. saved for backward): never resized under the other holder.
  Tensor held = t;
  const float* q = t.data();
  ensure_shape(t, Shape{10, 3, 4, 4}, Device::cpu());
  EXPECT_NE(t.data(), q);
  EXPECT_EQ(held.data(), q);
  EXPECT_EQ(held.numel(), 65 * 48);
}

// Each element type has its size; storage, copies and reshapes keep the type.
TEST(Tensor, ElementTypesKeepTheirSizeThroughCopies) {
  const struct { DType type; std::size_t size; const char* name; } types[] = {
      {DType::f32, 4, "float32"}, {DType::f16, 2, "float16"}, {DType::bf16, 2, "bfloat16"},
      {DType::i32, 4, "int32"},   {DType::u8, 1, "uint8"},    {DType::u64, 8, "uint64"}};
  for (const auto& t : types) {
    EXPECT_EQ(element_size(t.type), t.size) << t.name;
    EXPECT_STREQ(to_string(t.type), t.name);
    Tensor x({3, 5}, Device::cpu(), t.type);
    EXPECT_EQ(x.dtype(), t.type);
    EXPECT_EQ(x.bytes(), 15 * t.size) << t.name;
    std::memset(x.untyped_data(), 0x5A, x.bytes());
    Tensor y = x.clone().reshape({15});
    EXPECT_EQ(y.dtype(), t.type);
    EXPECT_EQ(std::memcmp(x.untyped_data(), y.untyped_data(), x.bytes()), 0) << t.name;
  }
  Tensor ids({4}, Device::cpu(), DType::u64);
  ids.data_as<uint64_t>()[3] = uint64_t{1} << 40;  // beyond what a float holds exactly
  EXPECT_EQ(ids.clone().data_as<uint64_t>()[3], uint64_t{1} << 40);
}

// Reading a tensor as a type it does not hold is an error naming both; so is copying between
// types, and the float-only operations on another type.
TEST(Tensor, ReadingAnotherElementTypeIsAnError) {
  Tensor labels({64}, Device::cpu(), DType::i32);
  EXPECT_NO_THROW(labels.data_as<int32_t>());
  try {
    labels.data();
    ADD_FAILURE() << "int32 storage read as float";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor (64) holds int32 elements, read as float"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(labels.data_as<uint8_t>(), Error);
  EXPECT_THROW(labels.to_vector(), Error);
  EXPECT_THROW(labels.fill(1.0f), Error);
  Tensor floats({64});
  EXPECT_THROW(floats.data_as<int32_t>(), Error);
  EXPECT_THROW(floats.copy_from(labels), Error);
  Tensor half({8}, Device::cpu(), DType::bf16);
  EXPECT_NO_THROW(half.data_as<uint16_t>());
  EXPECT_THROW(half.data(), Error);
}

// ensure_shape gives a tensor of another type new storage instead of reinterpreting it.
TEST(Tensor, EnsureShapeChangesTheElementType) {
  Tensor t({16});
  const void* before = t.untyped_data();
  ensure_shape(t, {16}, Device::cpu(), DType::i32);
  EXPECT_EQ(t.dtype(), DType::i32);
  EXPECT_NE(t.untyped_data(), before);
  const void* labels = t.untyped_data();
  ensure_shape(t, {8}, Device::cpu(), DType::i32);  // smaller, same type: the storage stays
  EXPECT_EQ(t.untyped_data(), labels);
}

}  // namespace
}  // namespace convoy
