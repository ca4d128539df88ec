"""`anyllm` in a pseudo-terminal: the answer appears as it streams, and Ctrl-C (SIGINT) mid-stream
cancels the call, exits 130 at once and leaves the partial answer on the screen."""

import os
import pty
import select
import signal
import subprocess
import time

from conftest import BASE_ENV


class Terminal:
    """The binary on a pty (its controlling terminal: Ctrl-C typed here becomes SIGINT)."""

    def __init__(self, argv, env):
        env = dict(env)
        env.pop("NO_COLOR", None)
        env["TERM"] = "xterm"
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.output = b""
        self.status = None

    def read_until(self, needle, timeout):
        """Reads until `needle` has appeared; returns the time it took."""
        start = time.monotonic()
        while needle not in self.output:
            left = timeout - (time.monotonic() - start)
            assert left > 0, "timed out waiting for %r; got %r" % (needle, self.output)
            if not self._read(left):
                break
        assert needle in self.output, self.output
        return time.monotonic() - start

    def _read(self, timeout):
        if not select.select([self.fd], [], [], timeout)[0]:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child has exited and the pty is closed
            return False
        self.output += data
        return bool(data)

    def wait(self, timeout):
        """Collects the rest of the output and the exit status; returns the time it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.05):
                    pass
                self.status = status
                return time.monotonic() - start
            self._read(0.02)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("still running after %.1f s; output %r" % (timeout, self.output))

    @property
    def exit_code(self):
        assert os.WIFEXITED(self.status), "killed by signal %d" % os.WTERMSIG(self.status)
        return os.WEXITSTATUS(self.status)

    def text(self):
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def close(self):
        os.close(self.fd)


def argv(anyllm, model, *args):
    return [anyllm.cli] + anyllm.args(list(args) + ["go"], model=model)


def test_streams_into_the_terminal(anyllm):
    t = Terminal(argv(anyllm, "openai:slow-6-100"), BASE_ENV)
    try:
        first = t.read_until(b"tok0", 10)
        assert b"tok5" not in t.output          # the first word is on screen before the answer is complete
        later = t.read_until(b"tok5", 10)
        assert later > 0.25, later               # the rest arrived as it was produced, word by word
        t.wait(5)
        assert t.exit_code == 0
        assert t.text() == "tok0 tok1 tok2 tok3 tok4 tok5\n", t.text()
        assert first < 2.0
    finally:
        t.close()


def test_reasoning_is_dimmed_on_a_terminal(anyllm):
    t = Terminal(argv(anyllm, "openai:reasoning"), BASE_ENV)
    try:
        t.wait(10)
        assert t.exit_code == 0
        text = t.text()
        assert "\x1b[2mLet me think about what the user said: go\x1b[0m\n" in text
        assert text.endswith("You said: go\n")
    finally:
        t.close()


def test_ctrl_c_mid_stream(anyllm):
    t = Terminal(argv(anyllm, "openai:slow-50-100"), BASE_ENV)
    try:
        t.read_until(b"tok2 ", 10)
        os.write(t.fd, b"\x03")                  # Ctrl-C, as typed: the terminal sends SIGINT
        took = t.wait(5)
        assert t.exit_code == 130
        assert took < 1.0, took
        text = t.text()
        assert text.startswith("tok0 tok1 tok2 "), text   # the partial answer stays on screen
        assert "tok49" not in text
        assert "anyllm:" not in text                      # no error message for an interrupt
    finally:
        t.close()


def test_sigint_with_output_to_a_pipe(anyllm):
    # Not a terminal: the partial answer still reaches the pipe, ended by a newline.
    p = subprocess.Popen(argv(anyllm, "openai:slow-50-100"), env=BASE_ENV, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out = b""
        while b"tok1 " not in out:
            assert select.select([p.stdout], [], [], 10)[0], out
            chunk = os.read(p.stdout.fileno(), 4096)
            assert chunk, out
            out += chunk
        start = time.monotonic()
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=5)
        assert time.monotonic() - start < 1.0
        assert p.returncode == 130
        out += rest
        assert out.startswith(b"tok0 tok1 ") and out.endswith(b"\n") and b"tok49" not in out
        assert err == b""
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_sigint_while_waiting_for_a_non_streamed_answer(anyllm):
    p = subprocess.Popen(argv(anyllm, "openai:slow-20-100", "--no-stream"), env=BASE_ENV,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.4)
        start = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=5)
        assert time.monotonic() - start < 1.0
        assert (p.returncode, out, err) == (130, b"", b"")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_no_prompt_on_a_terminal_prints_usage(anyllm):
    t = Terminal([anyllm.cli, "-m", "openai:echo"], BASE_ENV)
    try:
        t.wait(5)
        assert t.exit_code == 2
        assert t.text().startswith("usage: anyllm"), t.text()
    finally:
        t.close()
