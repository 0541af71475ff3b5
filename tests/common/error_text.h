// The message of the convoy::Error a call throws, for tests that hold an error to what it
// says (what and where), not only to being thrown.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "engine/error.h"

namespace convoy::test {

// what() of the Error that f() throws, or "(no convoy::Error thrown)", which no expected
// message contains.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no convoy::Error thrown)";
}

// The message contains every one of the parts.
#define EXPECT_ERROR_SAYS(call, ...)                                                                 \
  do {                                                                                               \
    const std::string said_ = ::convoy::test::error_of([&] { call; });                               \
    for (const char* part_ : {__VA_ARGS__})                                                          \
      EXPECT_NE(said_.find(part_), std::string::npos) << "\"" << part_ << "\" missing in: " << said_; \
  } while (0)

}  // namespace convoy::test
