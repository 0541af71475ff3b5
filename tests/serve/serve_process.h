// convoy-serve as a child process for the serve tests: started with the given flags, ready
// once its log says where it listens, killed if a test leaves it running.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace convoy::test {

inline std::string tool(const std::string& name) { return std::string(CONVOY_BINARY_DIR) + "/bin/" + name; }

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// convoy-serve in a child process, its stderr in a file.
struct ServeProcess {
  pid_t pid = -1;
  int port = -1;
  std::string log;

  ServeProcess(const std::vector<std::string>& args, const std::string& env_port = "") {
    log = (std::filesystem::temp_directory_path() /
           ("convoy-serve-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".log"))
              .string();
    pid = ::fork();
    if (pid == 0) {
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      if (!env_port.empty()) ::setenv("SAGEMAKER_BIND_TO_PORT", env_port.c_str(), 1);
      std::vector<std::string> all = {tool("convoy-serve")};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    // Ready when the log says where it listens.
    for (int i = 0; i < 600 && port < 0; ++i) {
      std::ifstream in(log);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      const size_t at = text.find("listening on http://");
      if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
        const size_t colon = text.find(':', at + 20);
        port = std::stoi(text.substr(colon + 1));
      }
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        pid = -1;
        ADD_FAILURE() << "convoy-serve exited early:\n" << text;
        return;
      }
      if (port < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  int terminate_and_wait() {
    if (pid < 0) return -1;
    ::kill(pid, SIGTERM);
    int st = 0;
    ::waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  ~ServeProcess() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove(log, ec);
  }
  // The resident memory of the process, in MiB (VmRSS); -1 when it cannot be read.
  long rss_mib() const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
    return -1;
  }
};

}  // namespace convoy::test
