#include <cstdio>
#include <exception>
#include <filesystem>

#include "engine/error.h"
#include "tools/tool_main.h"

int main(int argc, char** argv) {
  const std::string name = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "convoy";
  try {
    return run_tool(argc, argv);
  } catch (const convoy::Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", name.c_str(), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", name.c_str(), e.what());
  }
  return 1;
}
