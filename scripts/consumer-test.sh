#!/usr/bin/env bash
# The embedding test: installs convoy into a temporary prefix and builds tests/consumer (a
# separate CMake project) against it with find_package(convoy), then again through
# add_subdirectory(convoy source); each build's program trains a small model on real CIFAR-10
# images, predicts through the installed API and checks the answers (tests/consumer/consumer.cpp).
#   INSTALL_FROM=build scripts/consumer-test.sh   # install from this configured build (default
#                                                 # build/, else a library-only build-inst/)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DATA="${CONVOY_TEST_ARCHIVE:-$ROOT/../shared/data/cifar10-jpeg75.tar.gz}"
JOBS="${JOBS:-$(nproc)}"
FROM="${INSTALL_FROM:-build}"
WORK="$(mktemp -d /tmp/convoy-consumer.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
t() { date +%s; }
start=$(t)

if [ ! -f "$FROM/CMakeCache.txt" ]; then
  FROM=build-inst
  cmake -S . -B "$FROM" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONVOY_BUILD_TESTS=OFF -DCONVOY_BUILD_BENCH=OFF >/dev/null
fi
cmake -S . -B "$FROM" -DCONVOY_INSTALL=ON >/dev/null
cmake --build "$FROM" -j "$JOBS"
cmake --install "$FROM" --prefix "$WORK/prefix" >/dev/null
P="$WORK/prefix"
for f in include/convoy/convoy.h include/convoy/version.h include/convoy/engine/tensor.h \
    lib/cmake/convoy/convoyConfig.cmake lib/cmake/convoy/convoyConfigVersion.cmake lib/cmake/convoy/convoyTargets.cmake; do
  [ -f "$P/$f" ] || { echo "consumer-test: $f is not installed" >&2; exit 1; }
done
# Internal headers stay out of the installed tree.
for f in include/convoy/data/source_parts.h include/convoy/kernels/cpu/gemm_internal.h; do
  [ ! -e "$P/$f" ] || { echo "consumer-test: internal header $f was installed" >&2; exit 1; }
done
installed=$(t)

# 1. find_package against the installed tree.
cmake -S tests/consumer -B "$WORK/find" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$P"
cmake --build "$WORK/find"
"$WORK/find/consumer" "$DATA" "$WORK/run-find"
found=$(t)

# A component the installed library lacks is refused with a clear message.
if grep -q 'set(convoy_WITH_CUDA OFF)' "$P/lib/cmake/convoy/convoyConfig.cmake"; then
  if cmake -S tests/consumer -B "$WORK/cuda" -DCMAKE_PREFIX_PATH="$P" -DCONSUMER_REQUIRE_CUDA=ON >"$WORK/cuda.log" 2>&1; then
    echo "consumer-test: find_package(convoy COMPONENTS CUDA) succeeded on a build without CUDA" >&2; exit 1
  fi
  tr -s ' \n' '  ' <"$WORK/cuda.log" | grep -q "built without CUDA" ||
    { cat "$WORK/cuda.log" >&2; echo "consumer-test: no clear message for the missing CUDA component" >&2; exit 1; }
fi

# 2. add_subdirectory of the source tree (CPU-only: the CUDA backend is checked elsewhere).
cmake -S tests/consumer -B "$WORK/sub" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONSUMER_CONVOY_SOURCE="$ROOT" \
  -DCONVOY_ENABLE_CUDA=OFF >/dev/null
cmake --build "$WORK/sub" -j "$JOBS"
"$WORK/sub/consumer" "$DATA" "$WORK/run-sub"
end=$(t)
echo "consumer-test: install $((installed - start)) s, find_package $((found - installed)) s, add_subdirectory $((end - found)) s, total $((end - start)) s" >&2
