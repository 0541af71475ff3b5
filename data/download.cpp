// default_data_spec and the verified download behind it.
#include "data/download.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "data/md5.h"
#include "data/sources.h"
#include "engine/error.h"

extern char** environ;

namespace convoy::data {

namespace {

// Runs argv[0] (looked up in PATH) with stdout and stderr into `log`; returns the exit
// status, or -1 when it could not be started.
int run_child(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string last_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

bool holds_batches(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir / "data_batch_1.bin", ec) || std::filesystem::exists(dir / "test_batch.bin", ec);
}

}  // namespace

void download_verified(const std::string& url, const std::string& target, const std::string& md5) {
  namespace fs = std::filesystem;
  const std::string temp = target + ".part-" + std::to_string(getpid());
  const std::string log = temp + ".log";
  std::error_code ec;
  if (fs::path(target).has_parent_path()) fs::create_directories(fs::path(target).parent_path(), ec);
  if (ec) fail("cannot create the folder of ", target, ": ", ec.message());

  auto cleanup = [&] {
    fs::remove(temp, ec);
    fs::remove(log, ec);
  };
  std::string why;
  int rc = run_child({"curl", "-fL", "-sS", "--connect-timeout", "30", "--retry", "2", "-o", temp, url}, log);
  if (rc != 0) {
    why = rc < 0 ? "curl could not be started" : "curl exited with " + std::to_string(rc) + ": " + last_line_of(log);
    int wrc = run_child({"wget", "-q", "-O", temp, url}, log);
    if (wrc != 0) {
      why += wrc < 0 ? "; wget could not be started" : "; wget exited with " + std::to_string(wrc);
      cleanup();
      fail("downloading ", url, " failed (", why, ")");
    }
  }
  const std::string got = md5_file_hex(temp);
  if (got != md5) {
    cleanup();
    fail("downloading ", url, ": MD5 ", got, " does not match the published ", md5, " (corrupt or partial download)");
  }
  fs::rename(temp, target, ec);
  if (ec) {
    cleanup();
    fail("downloading ", url, ": cannot rename ", temp, " to ", target, ": ", ec.message());
  }
  fs::remove(log, ec);
}

std::string default_data_spec() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("CONVOY_DATA"); env && *env) return env;
  std::error_code ec;
  const fs::path data = "data";
  if (holds_batches(data / "cifar-10-batches-bin")) return (data / "cifar-10-batches-bin").string();
  if (holds_batches(data)) return data.string();
  const fs::path archive = data / "cifar-10-binary.tar.gz";
  if (fs::is_regular_file(archive, ec)) return archive.string();
  const bool had_folder = fs::exists(data, ec);
  try {
    download_verified(kCifar10Url, archive.string(), kCifar10Md5);
  } catch (const Error& e) {
    if (!had_folder) fs::remove(data, ec);  // leave no empty ./data/ behind (only removes an empty folder)
    fail("no CIFAR-10 data: CONVOY_DATA is unset and ./data/ holds neither cifar-10-batches-bin/ nor "
         "cifar-10-binary.tar.gz, and the download failed: ", e.what(),
         ". Pass --data PATH (a folder of data_batch_1..5.bin + test_batch.bin, the cifar-10-binary.tar.gz archive, "
         "or an image-folder tree train/<class>/ test/<class>/ or its .tar.gz), or set CONVOY_DATA=PATH, "
         "or use --data synthetic for a generated set.");
  }
  return archive.string();
}

}  // namespace convoy::data
