// convoy's one error type. Messages say what was wrong, where (file, record, flag,
// layer) and, where it helps, what to do. Library code throws; tools turn it into a
// one-line message on stderr and a non-zero exit. Library code never calls exit().
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace convoy {

class Error : public std::runtime_error {
 public:
  // With CONVOY_TRACE_ERRORS=1 in the environment every Error is also written to stderr as
  // it is thrown (a diagnosis aid for crashes that happen while an exception unwinds).
  explicit Error(const std::string& what);
};

// Builds a message from any streamable pieces: fail("batch ", path, ": record ", i, ...).
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

// An invalid value of a named option (TrainOptions::batch_size, the data spec, ...). The
// message names the option as the library knows it ("batch_size 33 must ..."); a tool prints
// its own flag in its place (tools/tool_main.cpp: "--batch-size 33 must ...").
class OptionError : public Error {
 public:
  OptionError(const std::string& option, const std::string& detail)
      : Error(option + " " + detail), option_(option), detail_(detail) {}
  const std::string& option() const { return option_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string option_, detail_;
};

// fail_option("batch_size", o.batch_size, " must be positive"): an OptionError.
template <typename... Parts>
[[noreturn]] void fail_option(const std::string& option, const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw OptionError(option, os.str());
}

// Internal invariant: a failure here is a bug in convoy, so the source location is useful.
[[noreturn]] void fail_internal(const char* file, int line, const std::string& what);

}  // namespace convoy

#define CONVOY_CHECK(cond, ...)                                                        \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::ostringstream convoy_check_os_;                                             \
      convoy_check_os_ << "check failed: " #cond ": " << __VA_ARGS__;                  \
      ::convoy::fail_internal(__FILE__, __LINE__, convoy_check_os_.str());            \
    }                                                                                  \
  } while (0)
