// Allreduce bandwidth over message sizes, in nccl-tests' table: time per allreduce, algbw
// (bytes / time) and busbw (algbw * 2(n-1)/n, the per-link traffic of a ring, comparable
// across rank counts), and #wrong from exact, verifiable inputs. Non-zero exit on any
// wrong element. Run under mpirun:
//   mpirun -np 2 --allow-run-as-root build/bench/allreduce_bench            # MPI, host buffers
//   mpirun -np 8 build/bench/allreduce_bench --device cuda --dist nccl      # NCCL, one GPU per rank
// Options: --min-bytes B --max-bytes B (powers of 4 between), --iters N, --json PATH,
// --compression none|fp16|bf16 (a compressed gradient bucket's whole path, timed: pack the
// float32 buffer to 16 bits, reduce those, unpack to float32; "size" stays the float32 bytes,
// so algbw compares directly with the uncompressed run).
// (A plain program rather than a Google Benchmark suite: every rank must run the same
// sequence of collectives, which the benchmark library's adaptive iteration does not promise.)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/communicator.h"
#include "dist/gradient_buckets.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"
#include "kernels/half.h"

namespace {

using namespace convoy;

struct Args {
  int64_t min_bytes = 4, max_bytes = 64 << 20;
  int iters = 0;  // 0: by size
  std::string device = "cpu", dist = "auto", json, compression = "none";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("allreduce_bench: ", k, " needs a value");
      return argv[++i];
    };
    if (k == "--min-bytes") a.min_bytes = std::stoll(value());
    else if (k == "--max-bytes") a.max_bytes = std::stoll(value());
    else if (k == "--iters") a.iters = std::stoi(value());
    else if (k == "--device") a.device = value();
    else if (k == "--dist") a.dist = value();
    else if (k == "--json") a.json = value();
    else if (k == "--compression") a.compression = value();
    else fail("allreduce_bench: unknown option ", k, " (see the comment at the top of bench/allreduce_bench.cpp)");
  }
  return a;
}

float input(int rank, int64_t i) { return float((rank + 1) * ((i * 7 + 3) % 11 + 1)); }

void synchronize(Device d) {
  if (d.is_cuda()) cuda_backend::synchronize(d.index);
}

int run(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const dist::LaunchInfo info = dist::launch_info();
  const Device device = dist::device_for_rank(parse_device(args.device), args.device.find(':') != std::string::npos, info);
  auto comm = dist::make_communicator(args.dist, device);
  const int W = comm->world_size(), rank = comm->rank();
  const kernels::Exec exec = exec_for(device);
  const dist::BucketCompression compression = dist::parse_compression(args.compression);
  const bool packed = compression != dist::BucketCompression::none;
  const kernels::HalfFormat format =
      compression == dist::BucketCompression::fp16 ? kernels::HalfFormat::fp16 : kernels::HalfFormat::bf16;
  if (rank == 0)
    std::printf("# allreduce_bench: %d ranks, backend %s, device %s, float32 sum%s%s\n"
                "# %12s %12s %10s %12s %12s %8s\n",
                W, std::string(comm->backend()).c_str(), device.to_string().c_str(), packed ? " reduced in " : "",
                packed ? dist::to_string(compression) : "", "size(B)", "count", "time(us)",
                "algbw(GB/s)", "busbw(GB/s)", "#wrong");
  nlohmann::json rows = nlohmann::json::array();
  int64_t total_wrong = 0;
  for (int64_t bytes = args.min_bytes; bytes <= args.max_bytes; bytes *= 4) {
    const int64_t n = std::max<int64_t>(1, bytes / 4);
    std::vector<float> host(n);
    for (int64_t i = 0; i < n; ++i) host[i] = input(rank, i);
    Tensor t = Tensor::from_vector({n}, host).to(device);
    const DType wire_type = format == kernels::HalfFormat::fp16 ? DType::f16 : DType::bf16;
    Tensor wire({packed ? n : 1}, device, packed ? wire_type : DType::f32), result({n}, device);
    // One allreduce of t into result: float32 in place, or packed, reduced and unpacked.
    auto reduce_once = [&] {
      if (!packed) {
        comm->allreduce_sum_async(exec, t)->wait();
        return;
      }
      kernels::pack_16(exec, format, n, 1.0f, t.data(), wire.data_as<uint16_t>());
      comm->allreduce_sum_async(exec, wire)->wait();
      kernels::unpack_16(exec, format, n, 1.0f, wire.data_as<uint16_t>(), result.data());
    };
    reduce_once();  // checked once (the inputs are small integers, exact in 16 bits too), then timed
    synchronize(device);
    const std::vector<float> out = packed ? result.to_vector() : t.to_vector();
    if (!packed) t = Tensor::from_vector({n}, host).to(device);
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; ++i) wrong += out[i] != float(W * (W + 1) / 2 * ((i * 7 + 3) % 11 + 1));
    total_wrong += wrong;
    const int iters = args.iters > 0 ? args.iters : int(std::clamp<int64_t>((256 << 20) / (n * 4), 5, 200));
    for (int w = 0; w < 3; ++w) reduce_once();
    synchronize(device);
    comm->barrier();
    const auto start = std::chrono::steady_clock::now();
    for (int it = 0; it < iters; ++it) reduce_once();
    synchronize(device);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iters;
    std::vector<double> slowest = {seconds};  // report the mean over ranks of the per-rank time
    comm->allreduce_sum_host(slowest);
    seconds = slowest[0] / W;
    const double algbw = double(n) * 4 / seconds / 1e9, busbw = algbw * 2.0 * (W - 1) / W;
    if (rank == 0)
      std::printf("  %12lld %12lld %10.1f %12.3f %12.3f %8lld\n", (long long)(n * 4), (long long)n, seconds * 1e6,
                  algbw, busbw, (long long)wrong);
    rows.push_back({{"bytes", n * 4}, {"count", n}, {"time_us", seconds * 1e6}, {"algbw_gbps", algbw},
                    {"busbw_gbps", busbw}, {"wrong", wrong}, {"iters", iters}});
  }
  if (rank == 0 && !args.json.empty()) {
    std::ofstream(args.json) << nlohmann::json{{"ranks", W}, {"backend", comm->backend()},
                                               {"compression", dist::to_string(compression)},
                                               {"device", device.to_string()}, {"rows", rows}}
                                    .dump(2)
                             << "\n";
  }
  if (rank == 0) std::printf("# total wrong: %lld\n", (long long)total_wrong);
  return total_wrong == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "allreduce_bench: error: %s%s\n", convoy::dist::rank_tag().c_str(), e.what());
    std::fflush(stderr);
    convoy::dist::abort_job_if_distributed(1);
    return 1;
  }
}
