#!/usr/bin/env python3
"""The loop behind scripts/mutation.sh (read its header first): generate the mutants of the
files in scope, draw the fixed sample, test each mutant in the dedicated build folder, record
the results and write the score and the survivors into docs/testing.md.

Mutants a person has read and found equivalent (no test can tell them from the original) are
listed in scripts/mutation_equivalent.tsv as `file<TAB>mutant number<TAB>why`; the report
counts them as equivalent and prints the reason.
"""
import argparse
import datetime
import difflib
import filecmp
import fnmatch
import glob
import os
import random
import shutil
import subprocess
import sys
import time

# Areas: the files whose mutants are drawn, the targets to rebuild and the tests to run
# (binary, gtest filter[, "mpirun" for two ranks]), cheapest first; each binary is linked only when the ones before it
# passed, and the first failing test kills the mutant. The PyTorch step runs for quick only
# (resnet adds half a minute per surviving mutant and covers no other code).
PYTORCH = ("convoy_train_tests", "*PytorchStep*quick")
AREAS = [
    {"name": "kernels/cpu", "globs": ["kernels/cpu/*.cpp"],
     "targets": ["convoy_kernel_tests", "convoy_layer_tests", "convoy_train_tests"],
     "tests": [("convoy_kernel_tests", "*"), ("convoy_layer_tests", "*"), PYTORCH]},
    {"name": "layers", "globs": ["layers/*.cpp"],
     "targets": ["convoy_layer_tests", "convoy_train_tests", "convoy_dist_tests"],
     "tests": [("convoy_layer_tests", "*"), PYTORCH, ("convoy_dist_tests", "SyncBatchNorm.*", "mpirun")]},
    {"name": "train/checkpoint", "globs": ["train/checkpoint.cpp"],
     "targets": ["convoy_train_tests", "convoy-train"],
     "tests": [("convoy_train_tests", "*Checkpoint*:*Resume*:*Metrics*")]},
    {"name": "data readers", "globs": ["data/cifar_batch_reader.cpp", "data/archive_reader.cpp",
                                       "data/archive_source.cpp", "data/image_folder_source.cpp",
                                       "data/image_decode.cpp"],
     "targets": ["convoy_data_tests", "convoy_fuzz_regression_tests"],
     "tests": [("convoy_data_tests", "*"), ("convoy_fuzz_regression_tests", "*")]},
]
BEGIN, END = "<!-- mutation-results:begin -->", "<!-- mutation-results:end -->"


def log(*a):
    print("mutation:", *a, file=sys.stderr, flush=True)


def area_of(path):
    for a in AREAS:
        for g in a["globs"]:
            if fnmatch.fnmatch(path, g):
                return a
    return None


def object_of(work, path):
    return os.path.join(work, "build", "CMakeFiles", "convoy.dir", path + ".o")


def changed_line(original, mutant):
    """(line number, original text, mutant text) of the first differing line."""
    sm = difflib.SequenceMatcher(a=original, b=mutant, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            before = original[i1].rstrip("\n") if i1 < len(original) else ""
            after = mutant[j1].rstrip("\n") if j1 < len(mutant) else "(deleted)"
            return i1 + 1, before.strip(), after.strip()
    return 0, "", ""


def worth_testing(before):
    """Mutants of comments, blank lines and preprocessor lines say nothing about the tests."""
    s = before.strip()
    return bool(s) and not s.startswith(("//", "#", "*", "/*"))


def generate(root, work):
    """Every mutant of every file in scope: [(path, number, line, before, after, mutant file)]."""
    pool = []
    for area in AREAS:
        files = sorted({f for g in area["globs"] for f in glob.glob(g, root_dir=root)})
        for path in files:
            out = os.path.join(work, "mutants", path.replace("/", "__"))
            if not os.path.isdir(out):
                os.makedirs(out + ".tmp", exist_ok=True)
                subprocess.run([os.path.join(work, "venv", "bin", "mutate"), os.path.join(work, "pristine", path),
                                "--noCheck", "--mutantDir", out + ".tmp"],
                               check=True, stdout=subprocess.DEVNULL, cwd=out + ".tmp")
                os.rename(out + ".tmp", out)
            original = open(os.path.join(work, "pristine", path)).readlines()
            for m in os.listdir(out):
                number = int(m.rsplit(".mutant.", 1)[1].split(".")[0])
                line, before, after = changed_line(original, open(os.path.join(out, m)).readlines())
                if line and worth_testing(before):
                    pool.append((path, number, line, before, after, os.path.join(out, m)))
    pool.sort()
    return pool


def run(cmd, cwd, timeout, env=None):
    try:
        r = subprocess.run(cmd, cwd=cwd, timeout=timeout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace")
        return r.returncode, r.stdout
    except subprocess.TimeoutExpired:
        return "timeout", ""


def build(work, targets):
    code, out = run(["ninja", "-C", os.path.join(work, "build"), "-j", os.environ.get("JOBS", "2")] + targets,
                    work, 1800)
    return code == 0, out


def run_tests(work, area, path, build_first=False):
    """Returns (killed?, which test); build_first links each test binary just before it runs."""
    env = dict(os.environ)
    if path.endswith("_avx2.cpp"):
        env["CONVOY_CPU_ISA"] = "avx2"
    elif path.endswith("_generic.cpp"):
        env["CONVOY_CPU_ISA"] = "generic"
    timeout = int(os.environ.get("MUTANT_TIMEOUT", "120"))
    for binary, flt, *launcher in area["tests"]:
        if build_first:
            ok, _ = build(work, [binary] + [t for t in area["targets"] if t.startswith("convoy-")])
            if not ok:
                return None, f"{binary} does not link"
        cmd = [os.path.join(work, "build", "tests", binary), "--gtest_brief=1", "--gtest_fail_fast",
               "--gtest_filter=" + flt]
        if launcher:  # the two-rank tests (--sync-bn), as ctest's dist_mpi_np2 runs them
            cmd = ["mpirun", "-np", "2", "--oversubscribe", "--allow-run-as-root", "-x", "OMP_NUM_THREADS=1"] + cmd
        code, out = run(cmd, os.path.join(work, "build"), timeout, env)
        if code == "timeout":
            return True, f"{binary} (timed out)"
        if code != 0:
            failed = [l.split("]", 1)[1].strip().split(" ")[0] for l in out.splitlines() if l.startswith("[  FAILED  ]")]
            return True, failed[0] if failed else f"{binary} (exit {code})"
    return False, ""


def restore(work, path):
    """The original source (with its old time stamp) and object (with a new one): the object is
    up to date for ninja, and newer than the library and test binaries, which relink with it."""
    shutil.copy2(os.path.join(work, "pristine", path), os.path.join(work, "src", path))
    shutil.copyfile(os.path.join(work, "baseline", path + ".o"), object_of(work, path))
    os.utime(object_of(work, path))


def results_file(work, sample_size, seed):
    return os.path.join(work, f"results-n{sample_size}-seed{seed}.tsv")


def load_results(path):
    done = {}
    if os.path.exists(path):
        for line in open(path):
            f = line.rstrip("\n").split("\t")
            if f[0] != "id" and len(f) >= 9:
                done[int(f[0])] = f
    return done


def load_equivalent(root):
    eq = {}
    p = os.path.join(root, "scripts", "mutation_equivalent.tsv")
    if os.path.exists(p):
        for line in open(p):
            if line.strip() and not line.startswith("#"):
                f = line.rstrip("\n").split("\t")
                eq[(f[0], int(f[1]))] = f[2]
    return eq


def report(root, work, sample_size, seed):
    results = load_results(results_file(work, sample_size, seed))
    equivalent = load_equivalent(root)
    rows, survivors = [], []
    counts = {}
    for r in sorted(results.values(), key=lambda f: int(f[0])):
        rid, path, number, line, status, seconds, test, before, after = r[:9]
        if status == "survived" and (path, int(number)) in equivalent:
            status = "equivalent (read)"
        c = counts.setdefault(area_of(path)["name"], {})
        c[status] = c.get(status, 0) + 1
        if status in ("survived", "equivalent (read)"):
            survivors.append((rid, path, line, number, before, after, status, equivalent.get((path, int(number)), "")))

    def score(names):
        k = sum(counts.get(n, {}).get("killed", 0) for n in names)
        s = sum(counts.get(n, {}).get("survived", 0) for n in names)
        return k, s, (100.0 * k / (k + s)) if k + s else None

    def pct(p):
        return "n/a" if p is None else f"{p:.1f}%"

    lines = [BEGIN, "",
             f"Last run: {datetime.date.today().isoformat()}, `scripts/mutation.sh --sample {sample_size} --seed {seed}` "
             f"(universalmutator 1.14.1): {len(results)} of the {sample_size} sampled mutants tested.", "",
             "| area | killed | survived | equivalent (same object code) | equivalent (read) | invalid (does not build) | score |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for a in AREAS:
        c = counts.get(a["name"], {})
        k, s, p = score([a["name"]])
        lines.append(f"| {a['name']} | {k} | {s} | {c.get('equivalent', 0)} | {c.get('equivalent (read)', 0)} | "
                     f"{c.get('invalid', 0)} | {pct(p)} |")
    k, s, p = score([a["name"] for a in AREAS])
    kl, sl, pl = score(["kernels/cpu", "layers"])
    lines += ["", f"Score (killed / (killed + survived), equivalent and invalid mutants left out): {pct(p)} overall "
              f"({k} of {k + s}); kernels/cpu and layers: {pct(pl)} ({kl} of {kl + sl}).", ""]
    if survivors:
        lines += ["Surviving mutants, and those read and found equivalent:", "",
                  "| id | where | mutant | original | mutated | verdict |", "|---:|---|---:|---|---|---|"]
        for rid, path, line, number, before, after, status, why in survivors:
            esc = lambda t: t.replace("|", "\\|")
            verdict = f"equivalent: {why}" if why else "survived"
            lines.append(f"| {rid} | {path}:{line} | {number} | `{esc(before)}` | `{esc(after)}` | {esc(verdict)} |")
        lines.append("")
    lines.append(END)
    doc = os.path.join(root, "docs", "testing.md")
    text = open(doc).read() if os.path.exists(doc) else "# Testing\n\n" + BEGIN + "\n" + END + "\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    open(doc, "w").write(head + "\n".join(lines) + tail)
    log(f"score {pct(p)} overall, {pct(pl)} kernels/cpu + layers; wrote {doc}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sample", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--report", action="store_true")
    a = ap.parse_args()
    root, work = a.root, a.work
    if a.report:
        return report(root, work, a.sample, a.seed)

    # Pristine copies of the files in scope (restored after each mutant); a file that changed
    # since its mutants were made gets new ones.
    for area in AREAS:
        for g in area["globs"]:
            for f in glob.glob(g, root_dir=os.path.join(work, "src")):
                src, dst = os.path.join(work, "src", f), os.path.join(work, "pristine", f)
                if os.path.exists(dst) and not filecmp.cmp(src, dst, shallow=False):
                    os.remove(dst)
                    shutil.rmtree(os.path.join(work, "mutants", f.replace("/", "__")), ignore_errors=True)
                if not os.path.exists(dst):
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copy2(src, dst)
    pool = generate(root, work)
    sample = sorted(random.Random(a.seed).sample(pool, min(a.sample, len(pool))))
    log(f"{len(pool)} mutants in scope, {len(sample)} sampled (seed {a.seed})")

    # The baseline: everything built, each area's tests green, the objects kept.
    all_targets = sorted({t for ar in AREAS for t in ar["targets"]})
    ok, out = build(work, all_targets)
    if not ok:
        sys.exit("mutation: the unmutated build fails:\n" + out[-3000:])
    for path in sorted({m[0] for m in sample}):  # the objects of this HEAD, restored after each mutant
        dst = os.path.join(work, "baseline", path + ".o")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(object_of(work, path), dst)
    head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    green = os.path.join(work, "baseline", "green-" + head)
    if not os.path.exists(green):
        for area in AREAS:
            killed, test = run_tests(work, area, "")
            if killed:
                sys.exit(f"mutation: the unmutated tests of {area['name']} fail ({test}); fix that first")
        open(green, "w").close()

    results_path = results_file(work, a.sample, a.seed)
    done = load_results(results_path)
    only = {int(i) for i in a.only.split(",") if i} if a.only else None
    if not os.path.exists(results_path):
        open(results_path, "w").write("id\tfile\tmutant\tline\tstatus\tseconds\ttest\toriginal\tmutated\n")
    # Tested in a seeded random order, so that a run stopped part-way is still a fair sample
    # of every area.
    order = list(enumerate(sample, 1))
    random.Random(a.seed + 1).shuffle(order)
    for rid, (path, number, line, before, after, mfile) in order:
        if (only is None and rid in done) or (only is not None and rid not in only):
            continue
        area = area_of(path)
        start = time.time()
        shutil.copyfile(mfile, os.path.join(work, "src", path))
        test = ""
        try:
            ok, _ = build(work, [os.path.relpath(object_of(work, path), os.path.join(work, "build"))])
            if not ok:
                status = "invalid"
            elif filecmp.cmp(object_of(work, path), os.path.join(work, "baseline", path + ".o"), shallow=False):
                status = "equivalent"
            else:
                killed, test = run_tests(work, area, path, build_first=True)
                status = "invalid" if killed is None else "killed" if killed else "survived"
        finally:
            restore(work, path)
        seconds = time.time() - start
        with open(results_path, "a") as f:
            f.write("\t".join([str(rid), path, str(number), str(line), status, f"{seconds:.0f}", test,
                               before.replace("\t", " "), after.replace("\t", " ")]) + "\n")
        log(f"[{rid}/{len(sample)}] {path}:{line} #{number}: {status} {test} ({seconds:.0f} s)")
    report(root, work, a.sample, a.seed)


if __name__ == "__main__":
    main()
