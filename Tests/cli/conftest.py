"""Fixtures for the `anyllm` command-line tests: the built binary and one provider emulator.

The binary: $ANYLLM_CLI, else the SwiftPM debug build (.build-cli/debug/anyllm-cli, from
`swift build --scratch-path .build-cli --product anyllm-cli`), else the CMake build (build/bin/anyllm).
"""

import json
import os
import subprocess
import sys
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "emulator"))

import harness  # noqa: E402

CANDIDATES = [
    os.path.join(ROOT, ".build-cli", "debug", "anyllm-cli"),
    os.path.join(ROOT, "build", "bin", "anyllm"),
]

# Every variable the tool reads (provider keys, base URLs, ANYLLM_MODEL) is left out of the tests'
# environment unless a test sets it, so a developer's real keys never matter.
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "NO_COLOR": "1"}


def find_cli():
    path = os.environ.get("ANYLLM_CLI")
    if path:
        return os.path.abspath(path)
    for c in CANDIDATES:
        if os.access(c, os.X_OK):
            return c
    pytest.exit("anyllm binary not found: set ANYLLM_CLI or build it "
                "(swift build --scratch-path .build-cli --product anyllm-cli)", returncode=2)


@pytest.fixture(scope="session")
def cli():
    path = find_cli()
    assert os.access(path, os.X_OK), path
    return path


@pytest.fixture(scope="session")
def emulator():
    with harness.running() as url:
        yield url


class Runner:
    """Runs the binary with a clean environment; `api=True` aims it at the emulator with a key."""

    def __init__(self, cli, base):
        self.cli = cli
        self.base = base

    def env(self, extra=None):
        env = dict(BASE_ENV)
        env.update(extra or {})
        return env

    def args(self, args, model=None, api=True):
        out = []
        if model:
            out += ["-m", model]
        if api:
            out += ["--api-base", self.base + "/v1", "--api-key", "sk-test-cli-key"]
        return out + list(args)

    def run(self, *args, model=None, api=True, env=None, input=None, timeout=20):
        return subprocess.run([self.cli] + self.args(args, model, api), env=self.env(env),
                              input=(input or "").encode(), capture_output=True, timeout=timeout)

    def last_request(self):
        with urllib.request.urlopen(self.base + "/_emulator/last_request", timeout=5) as r:
            return json.loads(r.read())


@pytest.fixture
def anyllm(cli, emulator):
    return Runner(cli, emulator)
