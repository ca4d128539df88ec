"""Packaging: cheap import, py.typed, library lookup, and the Client / AnyLLM classes."""

import os
import subprocess
import sys

import pytest

import anyllm
from anyllm import _lib
from anyllm_testlib import KEY, child_env, last_request

HEAVY = ["asyncio", "ctypes", "json", "inspect", "dataclasses", "_ctypes", "pydantic", "anyllm.types"]


def test_import_is_lazy():
    code = "import sys, anyllm; print(' '.join(m for m in %r if m in sys.modules))" % (HEAVY,)
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", "imported at `import anyllm`: " + out.stdout


def test_package_has_py_typed():
    assert os.path.isfile(os.path.join(os.path.dirname(anyllm.__file__), "py.typed"))


def test_library_override(monkeypatch, tmp_path):
    monkeypatch.setenv("ANYLLM_LIBRARY", str(tmp_path / "libanyllm.so"))
    assert _lib.candidates() == [str(tmp_path / "libanyllm.so")]
    missing = subprocess.run([sys.executable, "-c", "import anyllm; anyllm.completion('openai:m', 'x')"],
                             env=dict(child_env(), ANYLLM_LIBRARY=str(tmp_path / "nope.so")),
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode != 0 and "ANYLLM_LIBRARY" in missing.stderr


def test_library_is_found():
    loaded = _lib.lib()
    assert loaded is not None and anyllm.library_version()


def test_client(emu):
    with anyllm.Client("openai", api_key=KEY, api_base=emu + "/v1", timeout=30, max_retries=0,
                       headers={"X-Client": "c1"}) as client:
        r = client.completion("gpt-4o-mini", "hello client", temperature=0.2, metadata={"k": 1})
        assert r.choices[0].message.content == "You said: hello client"
        req = last_request(emu)
        assert req["headers"]["x-client"] == "c1"
        assert req["body"]["temperature"] == 0.2 and req["body"]["metadata"] == {"k": 1}
        assert KEY not in repr(client)
        chunks = list(client.completion("long-3", "x", stream=True))
        assert chunks[-1].usage.completion_tokens == 3
        import asyncio

        r = asyncio.run(client.acompletion("gpt-4o-mini", "async client"))
        assert r.choices[0].message.content == "You said: async client"
    with pytest.raises(anyllm.AnyLLMError):
        client.completion("gpt-4o-mini", "closed")


def test_any_llm_create(emu):
    llm = anyllm.AnyLLM.create("openai", api_key=KEY, api_base=emu + "/v1")
    r = llm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "You said: Hi"


def test_invalid_client_options():
    with pytest.raises(TypeError):
        anyllm.Client(no_such_option=1)
    with pytest.raises(anyllm.InvalidRequestError):
        anyllm.Client(timeout="soon").completion("openai:m", "x")
