// Running the real convoy-* programs from the tool tests: a shell command's exit status and
// output, the path of a built tool, a fresh temporary folder removed at the end of the test,
// and small readers for what the tools write.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace convoy::test {

struct ToolResult {
  int status;
  std::string output;  // stdout and stderr together
};

inline ToolResult run_command(const std::string& cmd) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

inline std::string tool(const std::string& name) { return std::string(CONVOY_BINARY_DIR) + "/bin/" + name; }

// A folder under the temporary directory, removed when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("convoy_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

inline nlohmann::json json_file(const std::string& path) { return nlohmann::json::parse(file_text(path)); }

// The records of a metrics.jsonl of the given kind ("step" or "epoch").
inline std::vector<nlohmann::json> metrics_records(const std::string& path, const std::string& kind) {
  std::vector<nlohmann::json> out;
  std::istringstream in(file_text(path));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.value("kind", "") == kind) out.push_back(j);
  }
  return out;
}

}  // namespace convoy::test
