// The GPU input path (raw uint8 batches augmented by DeviceInput) gives exactly the tensor the
// host path gives; run here with the CPU kernels, and on a GPU by the GPU suites' trainer runs.
#include <gtest/gtest.h>

#include "data/batch_loader.h"
#include "data/sources.h"
#include "train/device_input.h"

namespace convoy {
namespace {

TEST(DeviceInput, RawPathMatchesHostNormalisation) {
  data::LoadOptions lo;
  lo.synthetic_train = 300;
  lo.synthetic_test = 10;
  auto d = data::load_cifar("synthetic", lo);
  data::LoaderOptions host;
  host.batch_size = 64;
  host.augment = true;
  host.cutout = 8;
  host.seed = 5;
  data::LoaderOptions raw = host;
  raw.normalize_on_host = false;
  data::BatchLoader a(d.train, host), b(d.train, raw);
  a.start_epoch(3);
  b.start_epoch(3);
  data::Batch ba, bb;
  Context ctx = Context::make(Device::cpu());
  DeviceInput input;
  int batches = 0;
  while (a.next(ba)) {
    ASSERT_TRUE(b.next(bb));
    ASSERT_TRUE(bb.images.empty());
    ASSERT_EQ(bb.raw.size(), static_cast<size_t>(bb.size) * data::kImageBytes);
    Tensor xa, la, xb, lb;
    input.upload(ctx, ba, augment_args_for(host), xa, la);
    input.upload(ctx, bb, augment_args_for(raw), xb, lb);
    EXPECT_EQ(xa.to_vector(), xb.to_vector());
    EXPECT_EQ(la.to_vector(), lb.to_vector());
    ++batches;
  }
  EXPECT_EQ(batches, 4);
}

}  // namespace
}  // namespace convoy
