// A failing rank ends the whole job: `mpirun -np 2 convoy-train` where rank 1 alone gets a
// data path that does not exist (the CONVOY_TEST_FAIL_RANK hook) exits non-zero within
// seconds, with rank 1's error line naming the rank, instead of leaving rank 0 waiting in
// its first collective. Runs single-process (it starts mpirun itself).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/dist/dist_test_util.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;

struct Finished {
  bool exited = false;  // false: still running at the deadline (killed)
  int status = -1;
  double seconds = 0;
  std::string output;
};

Finished run_with_deadline(std::vector<std::string> argv, const std::string& log, double deadline_s,
                           const char* hook = "CONVOY_TEST_FAIL_RANK") {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    ::dup2(::fileno(f), 2);
    ::setenv(hook, "1", 1);
    ::setenv("OMP_NUM_THREADS", "1", 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  Finished r;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      r.exited = true;
      r.status = status;
      break;
    }
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > deadline_s) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ifstream in(log);
  std::ostringstream os;
  os << in.rdbuf();
  r.output = os.str();
  return r;
}

TEST(RankFailure, OneBadRankEndsTheJobWithItsRankNamed) {
  if (test::world()) GTEST_SKIP() << "starts its own mpirun; not from inside one";
  const std::string train = std::string(CONVOY_BINARY_DIR) + "/bin/convoy-train";
  if (!fs::exists(train)) GTEST_SKIP() << train << " not built";
  const fs::path dir = fs::temp_directory_path() / ("convoy_rank_failure_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Finished r = run_with_deadline({CONVOY_MPIEXEC, "-np", "2", "--oversubscribe", "--allow-run-as-root", train,
                                        "--data", "synthetic", "--epochs", "1", "--batch-size", "64", "--threads",
                                        "1", "--no-progress", "--out", (dir / "out").string()},
                                       (dir / "log.txt").string(), 60.0);
  ASSERT_TRUE(r.exited) << "the job was still running after 60 s (a hang); output:\n" << r.output;
  EXPECT_FALSE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
  EXPECT_NE(r.output.find("convoy-train: error: [rank 1] "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("convoy-test-fail-rank-1"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out" / "model.convoy"));
  std::printf("mpirun ended %.1f s after the start, status %d\n", r.seconds, WEXITSTATUS(r.status));
  fs::remove_all(dir);
}

// A rank that stops (SIGSTOP after its first step, the CONVOY_TEST_STALL_RANK hook) no longer
// hangs the job: rank 0 gives up at --collective-timeout with an error naming itself and the
// collective, and the job ends non-zero.
TEST(RankFailure, AStalledRankEndsTheJobAtTheCollectiveTimeout) {
  if (test::world()) GTEST_SKIP() << "starts its own mpirun; not from inside one";
  const std::string train = std::string(CONVOY_BINARY_DIR) + "/bin/convoy-train";
  if (!fs::exists(train)) GTEST_SKIP() << train << " not built";
  const fs::path dir = fs::temp_directory_path() / ("convoy_rank_stall_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Finished r = run_with_deadline({CONVOY_MPIEXEC, "-np", "2", "--oversubscribe", "--allow-run-as-root", train,
                                        "--data", "synthetic:640", "--epochs", "1", "--batch-size", "64", "--threads",
                                        "1", "--no-progress", "--collective-timeout", "3", "--out",
                                        (dir / "out").string()},
                                       (dir / "log.txt").string(), 60.0, "CONVOY_TEST_STALL_RANK");
  ASSERT_TRUE(r.exited) << "the job was still running after 60 s (a hang); output:\n" << r.output;
  EXPECT_FALSE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
  EXPECT_NE(r.output.find("convoy-train: error: [rank 0] rank 0 waited "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(collective timeout 3 s)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out" / "model.convoy"));
  std::printf("mpirun ended %.1f s after the start, status %d\n", r.seconds, WEXITSTATUS(r.status));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace convoy
