// Shared by the libFuzzer targets: the contract every input parser of convoy keeps is that
// any byte string either parses or throws convoy::Error. So a target runs the parser and
// swallows convoy::Error only; any other exception escapes and libFuzzer reports it as a
// crash, as it does for sanitizer findings, leaks, timeouts and memory blow-ups.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/error.h"

namespace convoy::fuzz {

// Runs `parse`, ignoring the documented failure (convoy::Error).
template <typename Fn>
void expect_parse_or_error(Fn&& parse) {
  try {
    parse();
  } catch (const convoy::Error&) {
  }
}

// A file holding the input for parsers that take a path: one per process, rewritten for
// every input, under $TMPDIR (default /tmp), removed at exit.
class InputFile {
 public:
  explicit InputFile(const std::string& suffix) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/convoy-fuzz-" + std::to_string(getpid()) + suffix;
  }
  ~InputFile() { std::remove(path_.c_str()); }
  const std::string& write(const uint8_t* data, size_t size) {
    FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    return path_;
  }

 private:
  std::string path_;
};

}  // namespace convoy::fuzz
