#include "engine/error.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace convoy {

namespace {
bool trace_errors() {
  static const bool on = [] {
    const char* v = std::getenv("CONVOY_TRACE_ERRORS");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}
}  // namespace

Error::Error(const std::string& what) : std::runtime_error(what) {
  if (trace_errors()) std::fprintf(stderr, "convoy: throwing: %s\n", what.c_str());
}

void fail_internal(const char* file, int line, const std::string& what) {
  std::ostringstream os;
  os << what << " (" << file << ":" << line << ")";
  throw Error(os.str());
}

}  // namespace convoy
