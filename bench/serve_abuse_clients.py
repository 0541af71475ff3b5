"""The clients of bench/serve_abuse.py: the /ping prober (its own process), the JPEG load
(wrk), and the slow-header and idle keep-alive clients (one asyncio loop). All of them only
ever connect to 127.0.0.1."""
import asyncio
import multiprocessing
import os
import re
import socket
import subprocess
import time

HOST = "127.0.0.1"


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
