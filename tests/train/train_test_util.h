// Helpers for the checkpoint and resume tests: a tiny model
// (fast enough to train whole runs in a test), and convoy-train as a child process that a
// test can signal.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/rng.h"
#include "tests/common/temp_files.h"
#include "tests/common/test_paths.h"

namespace convoy::test {

// Two small convolutions with batch-norm (so the model has buffers too) and a linear layer.
inline nlohmann::json tiny_model_config() {
  return nlohmann::json::parse(R"({
    "name": "tiny", "input": [3, 32, 32], "classes": 10,
    "layers": [
      {"type": "conv2d", "out": 8, "kernel": 3, "pad": 1, "bias": false},
      {"type": "batchnorm", "relu": true},
      {"type": "maxpool", "kernel": 2, "stride": 2},
      {"type": "conv2d", "out": 8, "kernel": 3, "pad": 1, "bias": false},
      {"type": "batchnorm", "relu": true},
      {"type": "avgpool", "kernel": 4, "stride": 4},
      {"type": "flatten"},
      {"type": "linear", "out": 10}
    ]})");
}

// A folder of CIFAR-10 binary batches (data_batch_1.bin, test_batch.bin) of random images
// whose brightness leans on the label, so a tool loads it in milliseconds.
inline void write_cifar_folder(const std::string& dir, int train_images, int test_images, uint64_t seed) {
  std::filesystem::create_directories(dir);
  auto write_batch = [&](const std::string& name, int n, uint64_t stream) {
    Rng rng(seed, stream);
    std::string bytes;
    bytes.reserve(static_cast<size_t>(n) * 3073);
    for (int i = 0; i < n; ++i) {
      const int label = static_cast<int>(rng.uniform_at(static_cast<uint64_t>(i) * 3073) * 10) % 10;
      bytes.push_back(static_cast<char>(label));
      for (int k = 1; k < 3073; ++k)
        bytes.push_back(static_cast<char>(label * 16 + static_cast<int>(
            rng.uniform_at(static_cast<uint64_t>(i) * 3073 + k) * 96)));
    }
    write_bytes(dir + "/" + name, bytes);
  };
  write_batch("data_batch_1.bin", train_images, 1);
  write_batch("test_batch.bin", test_images, 2);
}


// A child process with stdout and stderr in one file.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log_path) : log_path_(log_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  bool running() {
    if (done_) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) finish(st);
    return !done_;
  }
  // Exit status, or 128 + signal when killed by one.
  int wait() {
    if (!done_) {
      int st = 0;
      ::waitpid(pid_, &st, 0);
      finish(st);
    }
    return status_;
  }
  std::string output() const { return file_bytes(log_path_); }

 private:
  void finish(int st) {
    done_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
  }
  pid_t pid_ = -1;
  bool done_ = false;
  int status_ = -1;
  std::string log_path_;
};

// Runs to the end; returns {status, output}.
inline std::pair<int, std::string> run_tool(const std::vector<std::string>& argv, const std::string& log_path) {
  Child c(argv, log_path);
  int st = c.wait();
  return {st, c.output()};
}

}  // namespace convoy::test
