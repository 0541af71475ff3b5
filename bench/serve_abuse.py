#!/usr/bin/env python3
"""Load-and-abuse run of convoy-serve on loopback.

While S slow-header clients (each sends one byte of a never-ending request head per second,
and connects again when the server cuts it off), I idle keep-alive clients (each asks /ping
once, then holds its connection until the server closes it, and connects again) and a
C-connection JPEG load (wrk, POST /invocations with one real CIFAR-10 test JPEG) run together
for D seconds, a prober in its own process asks /ping on a fresh connection every 100 ms.

Checks (the exit status is 1 when one fails):
  - every /ping is answered 200, and their p99 is under 100 ms;
  - no connection is reset: not the load's (wrk's socket errors), the slow or idle clients',
    or the prober's; every load request is answered 200;
  - the server's RSS stays flat after warm-up (the load and the clients for the first
    --warmup seconds): sampled every second, the largest sample of the last third of the
    run is within 10% + 16 MiB of the largest of the first third (which absorbs what is
    allocated once, such as the first connections' buffers; a leak climbs out of it).

  bench/serve_abuse.py --serve build/bin/convoy-serve --model runs/latest/model.convoy
      [--archive ../shared/data/cifar10-jpeg75.tar.gz] [--duration 30] [--baseline 10]
      [--slow 200] [--idle 200] [--connections 64] [--json OUT] [--short]

--baseline S first runs the JPEG load alone for S seconds (with the prober), the yardstick
for the abused figures. --short is the CI form: 15 s of abuse, no baseline. --train
CONVOY_TRAIN makes a throwaway model (quick, one epoch on 640 synthetic images) when no
--model is given. Bounded: the client counts are capped at 1000 each, the duration at 600 s,
and it only ever connects to 127.0.0.1. CONVOY_TEST_TIME_SCALE (the sanitizer build sets 5)
scales the latency limit and skips the RSS check (ASan's quarantine holds freed memory).
"""
import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_abuse_clients import (HOST, Tally, idle_client, parse_wrk, slow_client,  # noqa: E402
                                 start_prober, start_wrk)

JPEG_MEMBER = "test/cat/0000.jpg"


def log(msg):
    print(f"serve_abuse: {msg}", file=sys.stderr, flush=True)


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q / 100.0 * len(s)))]


# ---- the server -------------------------------------------------------------------------

def start_server(serve, model, threads, workdir):
    log_path = os.path.join(workdir, "serve.log")
    err = open(log_path, "w")
    proc = subprocess.Popen([serve, "--model", model, "--host", HOST, "--port", "0", "--device", "cpu",
                             "--threads", str(threads)], stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = open(log_path).read()
        m = re.search(r"listening on http://[^:]+:(\d+)\n", text)
        if m:
            return proc, int(m.group(1)), log_path
        if proc.poll() is not None:
            raise SystemExit(f"serve_abuse: error: convoy-serve exited early:\n{text}")
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("serve_abuse: error: convoy-serve did not start within 60 s")


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


async def abuse(args, port, server_pid, jpeg_path, workdir):
    stop = asyncio.Event()
    slow, idle = Tally(), Tally()
    tasks = [asyncio.create_task(slow_client(port, i * 0.005, stop, slow)) for i in range(args.slow)]
    tasks += [asyncio.create_task(idle_client(port, i * 0.005, stop, idle)) for i in range(args.idle)]
    # Warm-up: the same load while the slow and idle clients connect, so the model has run
    # every batch size the load makes before the RSS is watched.
    warm = start_wrk(port, jpeg_path, args.connections, max(1, round(args.warmup)), workdir)
    while warm.poll() is None:
        await asyncio.sleep(0.1)
    log(f"{slow.connections} slow-header and {idle.connections} idle connections open; "
        f"starting {args.connections}-connection JPEG load and the /ping prober for {args.duration} s")
    prober, prober_out = start_prober(port, args.duration)
    wrk = start_wrk(port, jpeg_path, args.connections, args.duration, workdir)
    rss = []
    t0 = time.monotonic()
    while wrk.poll() is None:
        rss.append((round(time.monotonic() - t0, 1), round(rss_mib(server_pid), 1)))
        await asyncio.sleep(1.0)
    wrk_out = wrk.communicate()[0]
    probe_result = await asyncio.get_running_loop().run_in_executor(None, prober_out.recv)
    prober.join(10)
    stop.set()
    await asyncio.wait(tasks, timeout=10)
    return parse_wrk(wrk_out), wrk_out, probe_result, slow.summary(), idle.summary(), rss


def baseline(args, port, jpeg_path, workdir):
    log(f"baseline: {args.connections}-connection JPEG load alone for {args.baseline} s")
    prober, prober_out = start_prober(port, args.baseline)
    wrk = start_wrk(port, jpeg_path, args.connections, args.baseline, workdir)
    out = wrk.communicate()[0]
    result = prober_out.recv()
    prober.join(10)
    return parse_wrk(out), result


def ping_summary(result):
    lat = result["latencies_ms"]
    return {"answered": len(lat), "failed": len(result["failures"]), "failures": result["failures"][:10],
            "p50_ms": round(percentile(lat, 50), 2), "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(max(lat), 2) if lat else float("nan")}


def make_model(train, workdir):
    out = os.path.join(workdir, "model")
    log("training a throwaway model (quick, 1 epoch, 640 synthetic images)")
    subprocess.run([train, "--data", "synthetic:640", "--model", "quick", "--epochs", "1", "--batch-size", "64",
                    "--out", out, "--no-progress"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return os.path.join(out, "model.convoy")


def extract_jpeg(archive, workdir):
    with tarfile.open(archive) as t:
        for m in t:
            if m.name.lstrip("./") == JPEG_MEMBER:
                path = os.path.join(workdir, "request.jpg")
                with open(path, "wb") as f:
                    f.write(t.extractfile(m).read())
                return path
    raise SystemExit(f"serve_abuse: error: {archive} holds no {JPEG_MEMBER}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--serve", required=True, help="the convoy-serve binary")
    p.add_argument("--model", help="model.convoy to serve")
    p.add_argument("--train", help="convoy-train, to make a throwaway model when --model is not given")
    p.add_argument("--archive", default=os.path.join(here, "..", "..", "shared", "data", "cifar10-jpeg75.tar.gz"))
    p.add_argument("--duration", type=int, default=30)
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of load while the slow and idle clients connect, before measuring")
    p.add_argument("--baseline", type=int, default=0)
    p.add_argument("--slow", type=int, default=200)
    p.add_argument("--idle", type=int, default=200)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="convoy-serve --threads")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--short", action="store_true", help="the CI form: 15 s of abuse, no baseline")
    args = p.parse_args()
    if args.short:
        args.duration, args.warmup, args.baseline = 15, 3.0, 0
    for name in ("slow", "idle", "connections"):
        if not 0 <= getattr(args, name) <= 1000:
            p.error(f"--{name} must be in [0, 1000]")
    if not 1 <= args.duration <= 600 or not 0 <= args.baseline <= 600:
        p.error("--duration and --baseline are limited to 600 s")
    if shutil.which("wrk") is None:
        raise SystemExit("serve_abuse: error: wrk is not installed (apt-get install wrk)")
    scale = float(os.environ.get("CONVOY_TEST_TIME_SCALE", "1"))
    ping_limit_ms = 100.0 * scale

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="convoy-abuse-") as workdir:
        model = args.model or (make_model(args.train, workdir) if args.train else None)
        if not model:
            p.error("give --model, or --train to make one")
        jpeg = extract_jpeg(args.archive, workdir)
        server, port, log_path = start_server(args.serve, model, args.threads, workdir)
        try:
            rss_start = rss_mib(server.pid)
            base = baseline(args, port, jpeg, workdir) if args.baseline else None
            load, wrk_text, probe_result, slow, idle, rss = asyncio.run(abuse(args, port, server.pid, jpeg, workdir))
        finally:
            server.terminate()
            try:
                exit_code = server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                exit_code = "killed after 30 s"
        server_log = open(log_path).read()

    pings = ping_summary(probe_result)
    third = max(1, len(rss) // 3)
    rss_warm = max((r for _, r in rss[:third]), default=float("nan"))
    rss_later_max = max((r for _, r in rss[-third:]), default=rss_warm)
    figures = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "duration_s": args.duration,
        "slow_clients": args.slow, "idle_clients": args.idle, "load_connections": args.connections,
        "load": load, "ping": pings, "slow": slow, "idle": idle,
        "rss_mib": {"start": round(rss_start, 1), "first_third_max": rss_warm, "last_third_max": rss_later_max,
                    "samples": rss},
        "server_exit": exit_code, "wall_s": round(time.monotonic() - started, 1),
    }
    if base:
        figures["baseline"] = {"load": base[0], "ping": ping_summary(base[1])}

    failures = []
    if pings["failed"] or pings["answered"] == 0:
        failures.append(f"{pings['failed']} of {pings['failed'] + pings['answered']} pings failed: {pings['failures']}")
    if not pings["p99_ms"] < ping_limit_ms:
        failures.append(f"/ping p99 {pings['p99_ms']} ms is not under {ping_limit_ms:g} ms")
    if any(load["socket_errors"].values()) or load["non_2xx"] or load["requests"] == 0:
        failures.append(f"JPEG load: socket errors {load['socket_errors']}, non-2xx {load['non_2xx']}, "
                        f"{load['requests']} requests")
    for name, t in (("slow-header", slow), ("idle", idle)):
        if t["resets"]:
            failures.append(f"{t['resets']} {name} connections were reset")
        if t["errors"]:
            failures.append(f"{name} clients: {t['errors'][:5]}")
    if scale == 1 and rss and rss_later_max > rss_warm * 1.10 + 16:
        failures.append(f"RSS grew after warm-up: at most {rss_warm} MiB in the first third, "
                        f"{rss_later_max} in the last")
    if exit_code != 0:
        failures.append(f"convoy-serve exited {exit_code} on SIGTERM")

    base_text = ""
    if base:
        b = figures["baseline"]
        base_text = (f"; alone: {b['load']['requests_per_sec']:.0f} requests/s, p50 {b['load']['p50_ms']:.1f} ms, "
                     f"p99 {b['load']['p99_ms']:.1f} ms, /ping p99 {b['ping']['p99_ms']} ms")
    log(f"under abuse: {load['requests_per_sec']:.0f} requests/s, p50 {load['p50_ms']:.1f} ms, "
        f"p99 {load['p99_ms']:.1f} ms; /ping {pings['answered']} answered, p50 {pings['p50_ms']} ms, "
        f"p99 {pings['p99_ms']} ms, max {pings['max_ms']} ms; slow-header connections {slow['connections']} "
        f"(answers {slow['answers']}), idle connections {idle['connections']}; RSS {rss_start:.0f} MiB at start, "
        f"at most {rss_warm} in the first third of the run, {rss_later_max} in the last{base_text}")
    log(server_log.strip().splitlines()[-1] if server_log.strip() else "no server log")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    for f in failures:
        log(f"FAILED: {f}")
    log(f"{'FAILED' if failures else 'passed'} in {figures['wall_s']} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
