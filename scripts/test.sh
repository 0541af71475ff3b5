#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test that this machine
# can run (GPU tests skip with the reason when there is no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
python3 scripts/check-layers.py   # includes point down the layers (docs/ARCHITECTURE.md)
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
