"""Ctrl-C: a blocking call or a stream is cancelled within 100 ms and KeyboardInterrupt is raised;
leaving the interpreter with a call in flight ends cleanly. Each case runs in a child Python."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from anyllm_testlib import KEY, child_env

CHILD = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)  # background jobs may start with SIGINT ignored
    import anyllm
    from anyllm import _pull

    sent = []
    def on_sigint(signum, frame):
        sent.append(time.monotonic())
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, on_sigint)

    kw = dict(provider="openai", api_base=sys.argv[1], api_key=sys.argv[2])
    mode = sys.argv[3]
    try:
        if mode == "stream":
            for chunk in anyllm.completion("slow-50-100", "x", stream=True, **kw):
                print("chunk", flush=True)
        else:
            print("chunk", flush=True)
            anyllm.completion("slow-50-100", "x", **kw)  # answers after 5 s
        print("finished without interruption", flush=True)
    except KeyboardInterrupt:
        interrupted = time.monotonic()
        deadline = interrupted + 1.0
        while _pull.live_count() and time.monotonic() < deadline:
            time.sleep(0.001)
        ended = time.monotonic()
        print("latency %.4f call-ended %.4f pending %d" % (interrupted - sent[0], ended - sent[0],
                                                           _pull.live_count()), flush=True)
        raise
""")


@pytest.mark.parametrize("mode", ["stream", "blocking"])
def test_ctrl_c_cancels_within_100ms(emu, mode):
    proc = subprocess.Popen([sys.executable, "-c", CHILD, emu + "/v1", KEY, mode], env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "chunk"
        time.sleep(0.15)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=5)
        exited_after = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    line = [l for l in out.splitlines() if l.startswith("latency")]
    assert line, (out, err)
    _, latency, _, call_ended, _, pending = line[0].split()
    assert float(latency) < 0.1, "KeyboardInterrupt came %s s after SIGINT" % latency
    assert float(call_ended) < 0.1 and pending == "0", "the call was not cancelled promptly: " + line[0]
    assert "KeyboardInterrupt" in err
    assert proc.returncode in (-signal.SIGINT, 128 + signal.SIGINT, 1)
    assert exited_after < 2.0  # the stream alone would have taken 5 s


def test_exit_with_a_call_in_flight_is_clean(emu):
    code = textwrap.dedent("""
        import sys, anyllm
        kw = dict(provider="openai", api_base=sys.argv[1], api_key=sys.argv[2])
        s = anyllm.completion("slow-50-100", "x", stream=True, **kw)
        next(s)
        keep = [s, anyllm.completion("slow-50-100", "x", stream=True, **kw)]
        print("exiting", flush=True)
    """)
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code, emu + "/v1", KEY], env=child_env(), capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.strip() == "exiting", out.stderr
    assert out.stderr == ""
    assert time.monotonic() - t0 < 3.0


def test_many_threads_from_a_fresh_process(emu):
    """Threads that all make their first call at once (one callback pair must be created, not
    eight), streams abandoned mid-way, frequent garbage collection: every call ends as it should."""
    code = textwrap.dedent("""
        import gc, sys, threading
        import anyllm
        from anyllm import _pull
        gc.set_threshold(10, 2, 2)  # collect often, on the library's threads too
        kw = dict(provider="openai", api_base=sys.argv[1], api_key=sys.argv[2])
        errors, go = [], threading.Event()

        def worker(n):
            go.wait()
            try:
                for j in range(30):
                    kind = (n + j) % 3
                    if kind == 0:
                        r = anyllm.completion("gpt-4o-mini", "call %d %d" % (n, j), **kw)
                        assert r.choices[0].message.content == "You said: call %d %d" % (n, j)
                    elif kind == 1:
                        text = "".join(c.choices[0].delta.content or ""
                                       for c in anyllm.completion("long-4", "x", stream=True, **kw))
                        assert text == "tok0 tok1 tok2 tok3", text
                    else:
                        for i, c in enumerate(anyllm.completion("slow-20-5", "x", stream=True, **kw)):
                            if i == 2:
                                break
            except Exception as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join()
        import time
        t0 = time.monotonic()
        while _pull.live_count() and time.monotonic() - t0 < 2:
            time.sleep(0.01)
        print("errors", len(errors), errors[:3], "pending", _pull.live_count())
    """)
    out = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code, emu + "/v1", KEY], env=child_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "errors 0 [] pending 0", out.stdout
