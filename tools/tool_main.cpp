#include <cstdio>
#include <exception>
#include <filesystem>

#include "dist/communicator.h"
#include "engine/error.h"
#include "tools/tool_main.h"

int main(int argc, char** argv) {
  const std::string name = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "convoy";
  const std::string rank = convoy::dist::rank_tag();  // "[rank 1] " under mpirun with 2+ processes
  try {
    return run_tool(argc, argv);
  } catch (const convoy::OptionError& e) {
    // The library names its options (batch_size); every tool's flag is that name as --batch-size.
    std::string flag = "--" + e.option();
    for (char& c : flag) c = c == '_' ? '-' : c;
    std::fprintf(stderr, "%s: error: %s%s %s\n", name.c_str(), rank.c_str(), flag.c_str(), e.detail().c_str());
  } catch (const convoy::Error& e) {
    std::fprintf(stderr, "%s: error: %s%s\n", name.c_str(), rank.c_str(), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s%s\n", name.c_str(), rank.c_str(), e.what());
  }
  // A failed rank must not leave the others waiting in a collective: end the whole job.
  std::fflush(stderr);
  convoy::dist::abort_job_if_distributed(1);
  return 1;
}
