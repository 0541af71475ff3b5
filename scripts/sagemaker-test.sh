#!/usr/bin/env bash
# The SageMaker checks that need more than ctest (docs/sagemaker.md, "What is tested"):
#   1. docker/Dockerfile.cpu built with buildah (no Docker daemon needed) on a Debian 12 base
#      made here with debootstrap, then `train` and `serve` run inside the image against a
#      small /opt/ml tree of real CIFAR-10 JPEGs (tests/sagemaker/container_check.py);
#   2. the launcher's requests checked against a current botocore service model, pinned in
#      tests/sagemaker/requirements-current-botocore.txt and installed into a venv.
# It packages the binaries scripts/test.sh built into $BUILD_DIR (--target prebuilt)
# rather than compiling them again, and reuses the small image tree the ctest suites cut from
# the archive. Needs root (debootstrap, buildah) and Debian's mirror and PyPI.
# One timing line per stage on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="$(realpath -m "${BUILD_DIR:-build}")"
WORK="$BUILD_DIR/sagemaker-container"
IMAGE=localhost/convoy:cpu-ci
BASE=debian:bookworm-slim   # what docker/Dockerfile.cpu starts FROM
export CONVOY_SM_TEST_CACHE="$BUILD_DIR/sagemaker-test-cache"
export CONVOY_TEST_ARCHIVE="${CONVOY_TEST_ARCHIVE:-$PWD/../shared/data/cifar10-jpeg75.tar.gz}"

stage() {
  local name="$1" start=$(date +%s)
  shift
  "$@"
  echo "sagemaker-test: $name in $(( $(date +%s) - start )) s" >&2
}

for tool in "$BUILD_DIR"/bin/convoy-{train,serve,predict,eval,report}; do
  [ -x "$tool" ] || { echo "sagemaker-test: $tool missing; run scripts/test.sh (or scripts/build.sh)" >&2; exit 1; }
done

install_tools() {
  local missing=()
  for p in buildah podman debootstrap python3-venv python3-pil; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The machine's own Debian mirror (sources.list or deb822 .sources), else deb.debian.org.
apt_uri() {
  local want="$1"  # debian | debian-security
  grep -h -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
      2>/dev/null | grep -o -E 'https?://[^ ]+' | sed 's@/$@@' | grep -E "/$want\$" | head -1 || true
}

base_image() {
  if podman image exists "$BASE"; then return; fi  # made by an earlier run on this machine
  local mirror security rootfs="$WORK/rootfs"
  mirror=$(apt_uri debian); mirror=${mirror:-http://deb.debian.org/debian}
  security=$(apt_uri debian-security); security=${security:-http://deb.debian.org/debian-security}
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; return 1; }
  # The sources of Debian's own bookworm image: the release, its updates and security.
  rm -f "$rootfs/etc/apt/sources.list"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n\n' \
    "$mirror" "bookworm bookworm-updates" "$keyring" "$security" bookworm-security "$keyring" \
    >"$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import -q - "localhost/$BASE" >/dev/null
  podman tag "localhost/$BASE" "docker.io/library/$BASE"
  rm -rf "$rootfs"
}

# The image is a CPU image, so its tools must not need the CUDA libraries. Where nvcc is
# installed scripts/test.sh builds build/ with the CUDA backend; the CPU tools are then built
# once more, alone, into build-cpu/ (the library and five tools, no tests).
TOOLS_BIN=build/bin
cpu_tools() {
  if ! ldd "$BUILD_DIR/bin/convoy-train" | grep -qE 'libcudart|libnccl|libcublas|libcudnn'; then
    TOOLS_BIN="$(realpath --relative-to="$PWD" "$BUILD_DIR")/bin"
    return
  fi
  cmake -S . -B build-cpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONVOY_CUDA=off -DCONVOY_BUILD_TESTS=OFF \
    -DCONVOY_BUILD_BENCH=OFF -DCONVOY_INSTALL=OFF >"$WORK/cpu-build.log" 2>&1 &&
    cmake --build build-cpu -j "$(nproc)" --target convoy-train convoy-serve convoy-predict convoy-eval convoy-report \
      >>"$WORK/cpu-build.log" 2>&1 || { tail -40 "$WORK/cpu-build.log" >&2; return 1; }
  TOOLS_BIN=build-cpu/bin
}

build_image() {
  buildah bud --isolation chroot --pull=never --ulimit nofile=20000:20000 \
    --target prebuilt --build-arg CONVOY_BIN="$TOOLS_BIN" -f docker/Dockerfile.cpu \
    --ignorefile docker/Dockerfile.cpu.dockerignore -t "$IMAGE" . >"$WORK/build.log" 2>&1 ||
    { tail -40 "$WORK/build.log" >&2; return 1; }
}

run_in_image() {
  /usr/bin/python3 tests/sagemaker/container_check.py prepare "$WORK/check"
  local ctr rc=0
  ctr=$(buildah from --pull=never "$IMAGE")
  buildah run --isolation chroot -v "$WORK/check/ml:/opt/ml" -v "$WORK/check/requests:/opt/requests:ro" \
    -v "$PWD/tests/sagemaker:/opt/check:ro" "$ctr" -- python3 /opt/check/container_check.py inside || rc=$?
  buildah rm "$ctr" >/dev/null
  return $rc
}

current_botocore() {
  local venv="$BUILD_DIR/sagemaker-venv"
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/sagemaker/requirements-current-botocore.txt
  (cd tests/sagemaker && CONVOY_SM_REQUIRE_CURRENT_BOTOCORE=1 PYTHONDONTWRITEBYTECODE=1 \
    "$venv/bin/python" -m unittest test_launch_current_model)
}

mkdir -p "$WORK"
stage "tools (buildah, podman, debootstrap)" install_tools
stage "base image $BASE (debootstrap)" base_image
stage "CPU-only tools" cpu_tools
stage "image build (docker/Dockerfile.cpu, prebuilt binaries)" build_image
stage "train and serve inside the image" run_in_image
stage "launcher against the current botocore" current_botocore
