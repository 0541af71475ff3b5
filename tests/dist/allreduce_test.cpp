// Allreduce correctness, nccl-tests style: exact, verifiable inputs (small integers, whose
// float sums are exact) on odd sizes, blocking and non-blocking, plus the host sums and
// the broadcast the trainer uses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "dist/communicator.h"
#include "engine/error.h"
#include "kernels/half.h"
#include "tests/dist/dist_test_util.h"

namespace convoy {
namespace {

using test::world;

// Rank r holds (r + 1) * ((i * 7 + 3) % 11 + 1): integers below 2^24 stay exact.
float input_value(int rank, int64_t i) { return static_cast<float>((rank + 1) * ((i * 7 + 3) % 11 + 1)); }
float expected_sum(int world_size, int64_t i) {
  return static_cast<float>(world_size * (world_size + 1) / 2 * ((i * 7 + 3) % 11 + 1));
}

Tensor rank_input(int rank, int64_t n) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = input_value(rank, i);
  return Tensor::from_vector({n}, v);
}

int64_t count_wrong(const Tensor& t, int world_size) {
  const std::vector<float> v = t.to_vector();
  int64_t wrong = 0;
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) wrong += v[i] != expected_sum(world_size, i);
  return wrong;
}

TEST(Allreduce, LocalCommunicatorIsTheIdentity) {
  auto comm = dist::make_local_communicator();
  EXPECT_EQ(comm->world_size(), 1);
  EXPECT_EQ(comm->backend(), "local");
  Tensor t = rank_input(0, 1001);
  comm->allreduce_sum(t);
  EXPECT_EQ(count_wrong(t, 1), 0);
  std::vector<double> h = {1.5, -2.0};
  comm->allreduce_sum_host(h);
  EXPECT_EQ(h, (std::vector<double>{1.5, -2.0}));
}

TEST(Allreduce, OddSizesAreExact) {
  CONVOY_NEEDS_RANKS();
  dist::Communicator& comm = *world();
  for (int64_t n : {1, 2, 3, 7, 1023, 4097, 65537, 1000003}) {
    Tensor t = rank_input(comm.rank(), n);
    comm.allreduce_sum(t);
    EXPECT_EQ(count_wrong(t, comm.world_size()), 0) << "n=" << n;
  }
}

TEST(Allreduce, ManyOutstandingNonBlockingReduces) {
  CONVOY_NEEDS_RANKS();
  dist::Communicator& comm = *world();
  const kernels::Exec exec = exec_for(Device::cpu());
  std::vector<Tensor> buffers;
  std::vector<std::unique_ptr<dist::PendingReduce>> pending;
  for (int b = 0; b < 37; ++b) buffers.push_back(rank_input(comm.rank(), 1 + 97 * b));
  for (auto& t : buffers) pending.push_back(comm.allreduce_sum_async(exec, t));
  // Complete them out of order: test() some, wait() the rest backwards.
  for (std::size_t b = 0; b < pending.size(); b += 3) pending[b]->test();
  for (std::size_t b = pending.size(); b-- > 0;) pending[b]->wait();
  for (std::size_t b = 0; b < buffers.size(); ++b)
    EXPECT_EQ(count_wrong(buffers[b], comm.world_size()), 0) << "buffer " << b;
}

// 16-bit tensors (compressed gradient buckets), 1001 values. With two ranks each result is
// exactly narrow(widen(a) + widen(b)).
TEST(Allreduce, SixteenBitSumsAddInFloatAndRoundOnce) {
  CONVOY_NEEDS_RANKS();
  dist::Communicator& comm = *world();
  const int64_t n = 1001;
  auto values = [&](kernels::HalfFormat f, int rank) {
    const std::vector<float> x = test::random_vector(n, 40 + rank, -3.0f, 3.0f);
    std::vector<uint16_t> h(n);
    for (int64_t i = 0; i < n; ++i) h[i] = kernels::narrow_16(f, x[i] * (i % 3 == 0 ? 1e-3f : 1.0f));
    return h;
  };
  for (kernels::HalfFormat f : {kernels::HalfFormat::fp16, kernels::HalfFormat::bf16}) {
    std::vector<uint16_t> mine = values(f, comm.rank());
    Tensor t({n}, Device::cpu(), f == kernels::HalfFormat::fp16 ? DType::f16 : DType::bf16);
    std::memcpy(t.data_as<uint16_t>(), mine.data(), n * sizeof(uint16_t));
    comm.allreduce_sum_async(exec_for(Device::cpu()), t)->wait();
    std::vector<uint16_t> got(n);
    std::memcpy(got.data(), t.data_as<uint16_t>(), n * sizeof(uint16_t));
    int64_t wrong = 0;
    if (comm.world_size() == 2) {
      const std::vector<uint16_t> a = values(f, 0), b = values(f, 1);
      for (int64_t i = 0; i < n; ++i)
        wrong += got[i] != kernels::narrow_16(f, kernels::widen_16(f, a[i]) + kernels::widen_16(f, b[i]));
    } else {  // the reduction order is MPI's: within one rounding per add of the float sum
      for (int64_t i = 0; i < n; ++i) {
        double sum = 0;
        for (int r = 0; r < comm.world_size(); ++r) sum += kernels::widen_16(f, values(f, r)[i]);
        const double tol = (f == kernels::HalfFormat::fp16 ? 1e-3 : 8e-3) * comm.world_size() * (std::abs(sum) + 1e-3);
        wrong += std::abs(kernels::widen_16(f, got[i]) - sum) > tol;
      }
    }
    EXPECT_EQ(wrong, 0) << kernels::to_string(f);
  }
}

TEST(Allreduce, OnlyFloatTensorsAreSummed) {
  auto comm = dist::make_local_communicator();
  for (DType t : {DType::f32, DType::f16, DType::bf16}) {
    Tensor x({3}, Device::cpu(), t);
    EXPECT_NO_THROW(comm->allreduce_sum_async(exec_for(Device::cpu()), x)->wait()) << to_string(t);
  }
  Tensor labels({3}, Device::cpu(), DType::i32);
  try {
    comm->allreduce_sum_async(exec_for(Device::cpu()), labels);
    ADD_FAILURE() << "an int32 tensor was summed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot allreduce int32 tensor (3)"), std::string::npos) << e.what();
  }
}

TEST(Allreduce, HostSumsAndBroadcast) {
  CONVOY_NEEDS_RANKS();
  dist::Communicator& comm = *world();
  std::vector<double> h = {1.0 + comm.rank(), 0.25 * (comm.rank() + 1)};
  comm.allreduce_sum_host(h);
  const int W = comm.world_size();
  EXPECT_DOUBLE_EQ(h[0], W + W * (W - 1) / 2.0);
  EXPECT_DOUBLE_EQ(h[1], 0.25 * W * (W + 1) / 2.0);

  Tensor t = test::random_tensor({513}, 100 + comm.rank());
  comm.broadcast(t, 0);
  EXPECT_EQ(t.to_vector(), test::random_vector(513, 100));
}

TEST(Launch, RankTagAndDevicePerLocalRank) {
  const dist::LaunchInfo info = dist::launch_info();
  EXPECT_LT(info.rank, info.world_size);
  EXPECT_EQ(dist::rank_tag().empty(), info.world_size == 1);
  if (info.world_size > 1) EXPECT_EQ(dist::rank_tag(), "[rank " + std::to_string(info.rank) + "] ");
  // The CPU stays the CPU; an explicit CUDA index is kept.
  EXPECT_EQ(dist::device_for_rank(Device::cpu(), false, info), Device::cpu());
  EXPECT_EQ(dist::device_for_rank(Device::cuda(3), true, info), Device::cuda(3));
}

TEST(Launch, UnknownBackendIsRefusedByName) {
  try {
    dist::make_communicator("gloo", Device::cpu());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'gloo'"), std::string::npos) << e.what();
  }
  if (dist::launch_info().world_size == 1) {
    EXPECT_EQ(dist::make_communicator("auto", Device::cpu())->backend(), "local");
  }
}

}  // namespace
}  // namespace convoy
