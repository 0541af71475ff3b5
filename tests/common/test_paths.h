// Where the tests find the CIFAR-10 archive and the built tools: the paths CMake compiled in,
// unless CONVOY_TEST_ARCHIVE or CONVOY_TOOL_DIR in the environment say otherwise (the GPU
// check runs the test binaries on another machine, from .gpu-carry/).
#pragma once
#include <cstdlib>
#include <string>

namespace convoy::test {

inline std::string test_archive() {
  const char* env = std::getenv("CONVOY_TEST_ARCHIVE");
  return env && *env ? env : CONVOY_TEST_ARCHIVE;
}

inline std::string tool_path(const std::string& name) {
  const char* env = std::getenv("CONVOY_TOOL_DIR");
  return (env && *env ? std::string(env) : std::string(CONVOY_BINARY_DIR) + "/bin") + "/" + name;
}

}  // namespace convoy::test
