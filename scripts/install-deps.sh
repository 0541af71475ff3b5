#!/usr/bin/env bash
# Installs convoy's build and test dependencies from Debian's packages (needs root or sudo).
# Does nothing for packages already present.
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config libgtest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
          libarchive-dev libjpeg-dev libpng-dev libopenblas-dev curl python3 python3-pil python3-numpy
          libcpp-httplib-dev libopenmpi-dev openmpi-bin clang libfuzzer-14-dev wrk
          python3-botocore python3-boto3 python3-torch)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "convoy: installing ${missing[*]}" >&2
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
