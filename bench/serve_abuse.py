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
  - the server's RSS after warm-up (the first third of the load) stays flat: the largest
    later sample is within 10% + 16 MiB of it.

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
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

HOST = "127.0.0.1"
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


# ---- the /ping prober (its own process, so the clients' event loop cannot delay it) -------

def probe(port, seconds, interval, out):
    latencies, failures = [], []
    end = time.monotonic() + seconds
    next_at = time.monotonic()
    request = b"GET /ping HTTP/1.1\r\nHost: probe\r\n\r\n"
    while time.monotonic() < end:
        t0 = time.perf_counter()
        try:
            with socket.create_connection((HOST, port), timeout=5) as s:
                s.sendall(request)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed before the answer")
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                while len(body) < length:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed inside the answer")
                    body += chunk
                if not head.startswith(b"HTTP/1.1 200 "):
                    raise ConnectionError(head.split(b"\r\n")[0].decode(errors="replace"))
            latencies.append((time.perf_counter() - t0) * 1000.0)
        except (OSError, ConnectionError, AttributeError) as e:
            failures.append(f"{type(e).__name__}: {e}")
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    out.send({"latencies_ms": latencies, "failures": failures})


def start_prober(port, seconds, interval=0.1):
    parent, child = multiprocessing.Pipe(duplex=False)
    p = multiprocessing.Process(target=probe, args=(port, seconds, interval, child), daemon=True)
    p.start()
    return p, parent


# ---- the JPEG load (wrk) -------------------------------------------------------------------

def start_wrk(port, jpeg_path, connections, seconds, workdir):
    script = os.path.join(workdir, "post.lua")
    with open(script, "w") as f:
        f.write(f'local f = io.open("{jpeg_path}", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*all")\n'
                f'f:close()\nwrk.headers["Content-Type"] = "image/jpeg"\n')
    threads = max(1, min(2, connections))
    return subprocess.Popen(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                             "--latency", "-s", script, f"http://{HOST}:{port}/invocations"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def parse_wrk(out):
    r = {"requests": 0, "requests_per_sec": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"),
         "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}, "non_2xx": 0}
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if m:
        r["requests_per_sec"] = float(m.group(1))
    for q, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        m = re.search(rf"^\s*{q}\s+(\S+)", out, re.M)
        if m:
            r[key] = wrk_ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non_2xx"] = int(m.group(1))
    return r


# ---- slow-header and idle keep-alive clients (one asyncio loop) ---------------------------

class Tally:
    def __init__(self):
        self.connections = 0
        self.answers = {}      # status -> count
        self.resets = 0
        self.errors = []

    def answer(self, status):
        self.answers[status] = self.answers.get(status, 0) + 1

    def error(self, e):
        if isinstance(e, ConnectionResetError):
            self.resets += 1
        elif len(self.errors) < 20:
            self.errors.append(f"{type(e).__name__}: {e}")

    def summary(self):
        return {"connections": self.connections, "answers": {str(k): v for k, v in sorted(self.answers.items())},
                "resets": self.resets, "errors": self.errors}


async def read_answer(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    m = re.search(rb"(?i)content-length: *(\d+)", head)
    if m:
        await reader.readexactly(int(m.group(1)))
    return status


async def slow_client(port, start_delay, stop, tally):
    """Sends a request head one byte a second, never finishing it; reconnects when cut off."""
    await asyncio.sleep(start_delay)
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            tally.connections += 1
            writer.write(b"POST /invocations HTTP/1.1\r\nHost: abuse\r\nContent-Type: image/jpeg\r\nX-Slow: ")
            while not stop.is_set():
                writer.write(b"x")
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(4096), timeout=1.0)
                except asyncio.TimeoutError:
                    continue
                if data.startswith(b"HTTP/1.1 "):
                    tally.answer(int(data[9:12]))
                while data:  # the rest of the answer, then the server's close
                    data = await asyncio.wait_for(reader.read(4096), timeout=5.0)
                break
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
            if not stop.is_set():
                tally.error(e)
        finally:
            if writer:
                writer.close()


async def idle_client(port, start_delay, stop, tally):
    """Asks /ping once, then holds the connection idle until the server closes it; repeats."""
    await asyncio.sleep(start_delay)
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            tally.connections += 1
            writer.write(b"GET /ping HTTP/1.1\r\nHost: abuse\r\n\r\n")
            tally.answer(await read_answer(reader))
            while not stop.is_set():
                try:
                    data = await asyncio.wait_for(reader.read(1), timeout=0.5)
                except asyncio.TimeoutError:
                    continue
                if data:
                    tally.errors.append("bytes on an idle connection")
                break  # closed by the server (idle timeout or the connection cap)
        except (OSError, asyncio.IncompleteReadError) as e:
            if not stop.is_set():
                tally.error(e)
        finally:
            if writer:
                writer.close()


async def abuse(args, port, server_pid, jpeg_path, workdir):
    stop = asyncio.Event()
    slow, idle = Tally(), Tally()
    tasks = [asyncio.create_task(slow_client(port, i * 0.005, stop, slow)) for i in range(args.slow)]
    tasks += [asyncio.create_task(idle_client(port, i * 0.005, stop, idle)) for i in range(args.idle)]
    await asyncio.sleep(args.warmup)
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
    p.add_argument("--warmup", type=float, default=5.0, help="seconds the slow and idle clients connect first")
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
    warm = max(1, len(rss) // 3)
    rss_warm = rss[warm - 1][1] if rss else float("nan")
    rss_later_max = max((r for _, r in rss[warm:]), default=rss_warm)
    figures = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "duration_s": args.duration,
        "slow_clients": args.slow, "idle_clients": args.idle, "load_connections": args.connections,
        "load": load, "ping": pings, "slow": slow, "idle": idle,
        "rss_mib": {"start": round(rss_start, 1), "after_warmup": rss_warm, "later_max": rss_later_max,
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
        failures.append(f"RSS grew after warm-up: {rss_warm} -> {rss_later_max} MiB")
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
        f"{rss_warm} after warm-up, at most {rss_later_max} later{base_text}")
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
