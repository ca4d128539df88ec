"""Start the emulator from Python tests.

    from harness import running
    with running() as base_url:          # http://127.0.0.1:PORT
        ...

start() returns (process, base_url) for callers that manage the lifetime themselves. The child's stdin is a pipe
we keep open: closing it (or this process dying) makes the emulator exit, so no test run leaks a server.
"""

import contextlib
import os
import select
import subprocess
import sys
import time

EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "emulator.py")
PREFIX = "ANYLLM_EMULATOR "


def start(fixtures=None, extra_args=(), timeout=10.0):
    cmd = [sys.executable, EMULATOR, "--port", "0"]
    if fixtures:
        cmd += ["--fixtures", str(fixtures)]
    cmd += list(extra_args)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line, deadline = b"", time.monotonic() + timeout
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready = select.select([proc.stdout], [], [], max(0.0, left))[0] if left > 0 else []
        chunk = os.read(proc.stdout.fileno(), 1) if ready else b""
        if not chunk:           # timed out, or the emulator exited before printing
            stop(proc)
            raise RuntimeError("emulator did not start (got %r)" % line)
        line += chunk
    text = line.decode().strip()
    if not text.startswith(PREFIX):
        stop(proc)
        raise RuntimeError("unexpected emulator startup line %r" % text)
    return proc, text[len(PREFIX):]


def stop(proc, grace=3.0):
    """Close stdin (the emulator's own exit signal), then make sure it is gone."""
    try:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(grace)
    except (subprocess.TimeoutExpired, OSError):
        proc.kill()
        proc.wait()
    finally:
        if proc.stdout:
            proc.stdout.close()


@contextlib.contextmanager
def running(fixtures=None, extra_args=()):
    proc, base_url = start(fixtures, extra_args)
    try:
        yield base_url
    finally:
        stop(proc)
