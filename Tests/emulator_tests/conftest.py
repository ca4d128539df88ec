"""One emulator process shared by the whole test module (starting one costs ~100 ms)."""

import pytest

import emu_client  # noqa: F401  (puts Tests/emulator on sys.path)
import harness


@pytest.fixture(scope="session")
def base():
    with harness.running() as url:
        yield url
