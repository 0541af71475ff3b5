// Allreduce correctness, nccl-tests style: exact, verifiable inputs (small integers, whose
// float sums are exact) on odd sizes, blocking and non-blocking, plus the host sums and
// the broadcast the trainer uses.
#include <gtest/gtest.h>

#include <cstdlib>

#include "dist/communicator.h"
#include "engine/error.h"
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
