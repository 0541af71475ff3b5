#include "engine/error.h"

namespace convoy {

void fail_internal(const char* file, int line, const std::string& what) {
  std::ostringstream os;
  os << what << " (" << file << ":" << line << ")";
  throw Error(os.str());
}

}  // namespace convoy
