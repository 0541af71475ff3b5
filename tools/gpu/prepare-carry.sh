#!/usr/bin/env bash
# Builds the CUDA configuration here (the GPU machine has no network and no -dev packages)
# and gathers into .gpu-carry/ (git-ignored) what tools/gpu/gpu-check.sh needs there: the
# executables, the shared libraries they use that a bare CUDA image may lack, and the CIFAR
# JPEG archive. CUDA's own libraries (cudart, cuBLAS, cuDNN, NCCL) are found on the GPU
# machine instead (toolkit or the Python wheels), see gpu-check.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${BUILD_DIR:-build-gpu}"
export BUILD_DIR
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONVOY_ENABLE_CUDA=ON -DCONVOY_CUDA_ARCHITECTURES=90
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target convoy_gpu_tests convoy-train convoy-eval convoy-serve convoy-predict \
    gemm_cuda_bench conv2d_cuda_bench ops_cuda_bench
  # convoy-train again with AddressSanitizer on the host code (gcc, libasan linked statically, so
  # the GPU image needs nothing): the first trainer crash was a damaged heap, and ASan names
  # the write that damaged it. Skipped with ASAN_CARRY=0.
  if [ "${ASAN_CARRY:-1}" = 1 ]; then
    cmake -S . -B "$BUILD_DIR-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVOY_ENABLE_CUDA=ON \
      -DCONVOY_CUDA_ARCHITECTURES=90 -DCONVOY_SANITIZE=address -DCMAKE_EXE_LINKER_FLAGS=-static-libasan \
      -DCONVOY_BUILD_TESTS=OFF -DCONVOY_BUILD_BENCH=OFF
    cmake --build "$BUILD_DIR-asan" -j "$(nproc)" --target convoy-train
  fi
fi
rm -rf .gpu-carry
mkdir -p .gpu-carry/bin .gpu-carry/lib .gpu-carry/data
cp "$BUILD_DIR"/bin/convoy-* .gpu-carry/bin/
cp "$BUILD_DIR"/tests/convoy_gpu_tests .gpu-carry/bin/
for b in gemm_cuda_bench conv2d_cuda_bench ops_cuda_bench; do cp "$BUILD_DIR/bench/$b" .gpu-carry/bin/; done
# Shared libraries: everything ldd resolves except glibc's and CUDA's own.
for f in .gpu-carry/bin/*; do ldd "$f" | awk '/=> \//{print $3}'; done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libgcc_s.so*|libstdc++.so*) ;;
    libcuda.so*|libcublas*|libcudnn*|libnccl*) ;;
    *) cp -L "$lib" .gpu-carry/lib/ ;;
  esac
done
# libstdc++ from Debian 12 (GCC 12): carried under another folder, used only if the image's is older.
mkdir -p .gpu-carry/libstdcxx
cp -L "$(g++ -print-file-name=libstdc++.so.6)" .gpu-carry/libstdcxx/
if [ -x "$BUILD_DIR-asan/bin/convoy-train" ]; then
  mkdir -p .gpu-carry/asan
  cp "$BUILD_DIR-asan/bin/convoy-train" .gpu-carry/asan/
fi
# Every executable links the whole library with its CUDA kernels (6 MB each, 57 MB with ASan)
# and ICU's data library (from libarchive -> libxml2) is 30 MB: executables and libraries are
# carried xz-compressed (about a quarter) to stay under the device tool's 64 MiB;
# gpu-check.sh unpacks them.
xz -T2 -6 .gpu-carry/bin/* .gpu-carry/lib/* .gpu-carry/asan/* 2>/dev/null || true
cp ../shared/data/cifar10-jpeg75.tar.gz .gpu-carry/data/
du -sh .gpu-carry .gpu-carry/*
