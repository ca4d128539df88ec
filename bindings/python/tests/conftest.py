"""Fixtures for the anyllm binding tests: one emulator per session and the call arguments that
point at it. Helpers live in anyllm_testlib.py."""

import pytest

import anyllm_testlib as t  # sets up sys.path (source tree or installed package, Tests/emulator)
import harness  # noqa: E402  (Tests/emulator/harness.py)


@pytest.fixture(scope="session")
def emu(tmp_path_factory):
    """The emulator's base URL (http://127.0.0.1:PORT), serving our replay fixtures too."""
    root = str(tmp_path_factory.mktemp("anyllm-fixtures"))
    t.write_fixtures(root)
    with harness.running(fixtures=root) as url:
        yield url


@pytest.fixture
def kw(emu):
    """The arguments that point a call at the emulator's OpenAI API."""
    return {"provider": "openai", "api_base": emu + "/v1", "api_key": t.KEY}


@pytest.fixture
def fast(kw):
    """kw without retries (error tests would otherwise wait for the retries)."""
    return dict(kw, client_args={"max_retries": 0})
