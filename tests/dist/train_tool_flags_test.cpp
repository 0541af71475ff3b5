// convoy-train's data-parallel flags through the real program under `mpirun -np 2`, each
// checked by its effect on the model it trains and by what the log and report.json record:
//   --bucket-mb: more, smaller gradient buckets and the same model bit for bit (each
//     element's sum over two ranks does not depend on how the buckets cut the gradients);
//   --grad-compression fp16: gradients rounded to 16 bits on the wire, a different model;
//   --sync-bn (with fp16, as in the two together): batch statistics over both ranks' images,
//     a different model from fp16 alone.
// Runs single-process (it starts mpirun itself).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "tests/dist/dist_test_util.h"
#include "tests/tools/tool_run.h"

namespace convoy {
namespace {

using test::json_file;
using test::run_command;
using test::TempDir;

#ifdef CONVOY_MPIEXEC
struct TwoRankRun {
  std::string log, model;
  nlohmann::json report;
};

TwoRankRun train_two_ranks(const TempDir& dir, const std::string& name, const std::string& flags) {
  const std::string out = dir / name;
  // Under the sanitizers, leak detection off for the ranks, as for dist_mpi_np2: OpenMPI's
  // unloaded components leak at finalize and cannot be named in a suppression.
  auto r = run_command("OMP_NUM_THREADS=1 ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" timeout 300 " +
                       std::string(CONVOY_MPIEXEC) +
                       " -np 2 --oversubscribe --allow-run-as-root " + CONVOY_BINARY_DIR +
                       "/bin/convoy-train --data synthetic:400 --model quick --epochs 1 --batch-size 40 --threads 1 "
                       "--seed 2 --no-progress --out " + out + " " + flags);
  EXPECT_EQ(r.status, 0) << flags << "\n" << r.output;
  TwoRankRun run{r.output, test::file_text(out + "/model.convoy"), nlohmann::json::object()};
  if (std::filesystem::exists(out + "/report.json")) run.report = json_file(out + "/report.json");
  return run;
}

int bucket_count(const std::string& log) {
  std::smatch m;
  return std::regex_search(log, m, std::regex("; ([0-9]+) gradient buckets of <= ")) ? std::stoi(m[1]) : -1;
}

TEST(TrainToolFlags, DataParallelFlagsUnderMpirun) {
  if (test::world()) GTEST_SKIP() << "starts its own mpirun; not from inside one";
  TempDir dir("dist_flags");
  const TwoRankRun base = train_two_ranks(dir, "base", "");
  const TwoRankRun small = train_two_ranks(dir, "small_buckets", "--bucket-mb 0.05");
  const TwoRankRun fp16 = train_two_ranks(dir, "fp16", "--grad-compression fp16");
  const TwoRankRun sync = train_two_ranks(dir, "sync_bn", "--sync-bn --grad-compression fp16");
  ASSERT_FALSE(base.model.empty());

  EXPECT_EQ(base.report["distributed"]["world_size"], 2);
  EXPECT_GT(bucket_count(small.log), bucket_count(base.log)) << small.log << base.log;
  EXPECT_NEAR(small.report["distributed"]["bucket_mb"].get<double>(), 0.05, 1e-9);
  EXPECT_EQ(small.model, base.model) << "smaller buckets changed the averaged gradients";

  EXPECT_NE(fp16.log.find("reduced in fp16"), std::string::npos) << fp16.log;
  EXPECT_EQ(fp16.report["distributed"]["grad_compression"], "fp16");
  EXPECT_NE(fp16.model, base.model) << "fp16 gradients gave the float32 model";
  EXPECT_EQ(base.report["distributed"]["grad_compression"], "none");

  EXPECT_NE(sync.log.find("batch-norm statistics synchronised"), std::string::npos) << sync.log;
  EXPECT_NE(base.log.find("batch-norm statistics per rank"), std::string::npos) << base.log;
  EXPECT_EQ(sync.report["distributed"]["sync_batchnorm"], true);
  EXPECT_EQ(sync.report["distributed"]["grad_compression"], "fp16");
  EXPECT_EQ(base.report["distributed"]["sync_batchnorm"], false);
  EXPECT_NE(sync.model, fp16.model) << "--sync-bn had no effect";
}
#endif

}  // namespace
}  // namespace convoy
