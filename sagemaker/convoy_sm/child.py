"""Running convoy-train (or mpirun) as a child: SIGTERM and SIGINT are passed on to it,
its stdout goes straight through (the epoch lines SageMaker's metric regexes read), and its
stderr is echoed while the last lines are kept for output/failure."""
import collections
import signal
import subprocess
import sys
import threading


class ChildResult:
    def __init__(self, returncode, stderr_tail, signalled):
        self.returncode = returncode
        self.stderr_tail = stderr_tail   # the last lines of the child's stderr
        self.signalled = signalled       # the signal we passed on, or None

    def error_lines(self):
        """The lines that say what went wrong (tool error lines first)."""
        errors = [l for l in self.stderr_tail if ": error:" in l or "internal error" in l]
        return errors or self.stderr_tail[-5:]


def run(cmd, env=None, keep_lines=40, on_start=None, forward=None):
    """Runs cmd to its end. SIGTERM/SIGINT received meanwhile go to the child, or to
    forward(proc, signum) when given (mpirun: to its ranks, convoy_sm.mpi.rank_stopper)."""
    tail = collections.deque(maxlen=keep_lines)
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1)
    received = []

    def on_signal(signum, frame):
        received.append(signum)
        try:
            if forward:
                forward(proc, signum)
            else:
                proc.send_signal(signum)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    def pump():
        for line in proc.stderr:
            sys.stderr.write(line)
            sys.stderr.flush()
            tail.append(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    if on_start:
        on_start(proc)
    try:
        returncode = proc.wait()
        reader.join(timeout=10)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return ChildResult(returncode, list(tail), received[0] if received else None)
