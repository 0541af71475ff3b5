# CONVOY_SANITIZE: a list of sanitizers ("address;undefined") applied to every C++ target of
# this build (library, tests, tools), so the whole CPU suite runs instrumented
# (scripts/sanitize.sh). UBSan findings abort (-fno-sanitize-recover) so that a test fails
# instead of printing and carrying on. CUDA sources are left alone.
set(CONVOY_SANITIZE "" CACHE STRING "Sanitizers for every C++ target, e.g. address;undefined (empty: none)")
if(CONVOY_SANITIZE)
  list(JOIN CONVOY_SANITIZE "," convoy_sanitize_joined)
  set(convoy_sanitize_flags -fsanitize=${convoy_sanitize_joined} -fno-omit-frame-pointer)
  if("undefined" IN_LIST CONVOY_SANITIZE)
    list(APPEND convoy_sanitize_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${convoy_sanitize_flags}>")
  add_link_options(-fsanitize=${convoy_sanitize_joined})
  message(STATUS "convoy: sanitizers ${convoy_sanitize_joined}")
endif()

# CONVOY_BUILD_FUZZ: libFuzzer targets under fuzz/ (clang only). Everything is compiled with
# coverage instrumentation (-fsanitize=fuzzer-no-link) so the fuzzers see into the library.
option(CONVOY_BUILD_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)
if(CONVOY_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "convoy: CONVOY_BUILD_FUZZ needs clang (configure with -DCMAKE_CXX_COMPILER=clang++-14)")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>")
endif()
