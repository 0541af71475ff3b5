#!/usr/bin/env bash
# Mutation testing of the CPU kernels, the layers, the checkpoints and the data readers: how
# many deliberate small bugs (mutants) the tests catch. Not part of every CI run; run it
# before a release and after large changes, and read docs/testing.md.
#
# The mutants come from universalmutator (PyPI; a regexp-based mutation tool), installed into
# a virtual environment under the work folder. From every mutant of the files in scope, a
# fixed random sample (--seed) is tested one at a time against a copy of the sources in a
# dedicated build folder: the mutated file is swapped in, only its object and the test
# binaries that cover it are rebuilt, and those tests run (stopping at the first failure).
# A mutant is "killed" when a test fails or times out, "survived" when all pass,
# "equivalent" when its object file is byte-identical to the original's (the compiler saw no
# difference), "invalid" when it does not compile. Results are appended as they come to
# WORK/results-nN-seedS.tsv, so a stopped run continues where it was; the score and the
# survivors are then written into docs/testing.md between its "mutation-results" markers.
#
#   scripts/mutation.sh [--sample 300] [--seed 1] [--only ID,ID...] [--report]
#     --sample N   mutants in the sample (default 300)
#     --seed S     the sample's seed (default 1): the same seed gives the same mutants
#     --only IDS   test only these sample ids (e.g. survivors again after new tests)
#     --report     only rewrite docs/testing.md from the results of --sample and --seed
# Environment: MUTATION_DIR (work folder, default build-mutation), JOBS (build jobs, default
# 2), MUTANT_TIMEOUT (seconds per test binary, default 120; a timeout kills the mutant).
# Run it niced on a shared machine:
#   nice -n 19 scripts/mutation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK="${MUTATION_DIR:-build-mutation}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"

if [ ! -x "$WORK/venv/bin/mutate" ]; then
  echo "mutation: installing universalmutator into $WORK/venv" >&2
  /usr/bin/python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q "universalmutator==1.14.1"
fi

# A copy of the committed sources (HEAD) that mutants are swapped into, never the work tree.
# Each start brings it to HEAD (also undoing a mutant a killed run left in it); only files
# whose content changed are rewritten, so the rebuild stays incremental.
rm -rf "$WORK/head"
mkdir -p "$WORK/head" "$WORK/src"
git archive HEAD | tar -xf - -C "$WORK/head"
(cd "$WORK/head" && find . -type f) | while read -r f; do
  cmp -s "$WORK/head/$f" "$WORK/src/$f" || { mkdir -p "$(dirname "$WORK/src/$f")"; cp "$WORK/head/$f" "$WORK/src/$f"; }
done
(cd "$WORK/src" && find . -type f) | while read -r f; do [ -e "$WORK/head/$f" ] || rm "$WORK/src/$f"; done
rm -rf "$WORK/head"
if [ ! -f "$WORK/build/build.ninja" ]; then
  cmake -S "$WORK/src" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONVOY_ENABLE_CUDA=OFF \
    -DCONVOY_BUILD_BENCH=OFF -DCONVOY_INSTALL=OFF \
    -DCONVOY_TEST_ARCHIVE="$ROOT/../shared/data/cifar10-jpeg75.tar.gz" >/dev/null
fi

exec "$WORK/venv/bin/python" "$ROOT/scripts/mutation.py" --root "$ROOT" --work "$WORK" "$@"
