"""Integration tests against a real model: llama.cpp's llama-server with Gemma 3 270M on 127.0.0.1.

libanyllm.so is driven through ctypes directly (build/lib/libanyllm.so, or $ANYLLM_LIBRARY). The
session fixture runs `tools/local_model.sh start` (which builds and caches llama-server and the model
under ~/.cache/anyllm on the first run) and stops the server at the end; set ANYLLM_LOCAL_URL to use
a server that is already running instead. A failed build fails these tests: they are never skipped.
"""

import ctypes
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = "gemma-3-270m"

# anyllm_status values (include/anyllm_types.h)
OK = 0
E_PROVIDER = 12

CHUNK_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.c_void_p)


class Lib:
    """The two functions of the C ABI these tests need."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(str(path))
        self.lib.anyllm_completion.argtypes = [ctypes.c_void_p, ctypes.c_char_p, CHUNK_FN, ctypes.c_void_p,
                                               ctypes.POINTER(ctypes.c_void_p)]
        self.lib.anyllm_completion.restype = ctypes.c_int
        self.lib.anyllm_string_free.argtypes = [ctypes.c_void_p]
        self.lib.anyllm_string_free.restype = None

    def completion(self, request):
        """Runs one completion: returns (status, result or error object, [chunks])."""
        chunks = []

        @CHUNK_FN
        def on_chunk(data, length, _user):
            chunks.append(json.loads(ctypes.string_at(data, length)))
            return 0

        out = ctypes.c_void_p()
        status = self.lib.anyllm_completion(None, json.dumps(request).encode(), on_chunk, None, ctypes.byref(out))
        try:
            result = json.loads(ctypes.string_at(out.value)) if out.value else None
        finally:
            self.lib.anyllm_string_free(out)
        return status, result, chunks


@pytest.fixture(scope="session")
def lib():
    path = Path(os.environ.get("ANYLLM_LIBRARY", ROOT / "build/lib/libanyllm.so"))
    assert path.exists(), f"{path} is missing: build it first (cmake --build build)"
    return Lib(path)


@pytest.fixture(scope="session")
def server():
    """The server's root URL, http://127.0.0.1:PORT."""
    if os.environ.get("ANYLLM_LOCAL_URL"):
        yield os.environ["ANYLLM_LOCAL_URL"].rstrip("/")
        return
    started = subprocess.run([str(ROOT / "tools/local_model.sh"), "start"], stdout=subprocess.PIPE, text=True)
    assert started.returncode == 0, "tools/local_model.sh start failed (its output is above)"
    url, pid = started.stdout.split()
    try:
        yield url
    finally:
        subprocess.run([str(ROOT / "tools/local_model.sh"), "stop", pid], check=False)


def llamacpp(server, prompt, **params):
    messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    return {"model": f"llamacpp:{MODEL}", "api_base": f"{server}/v1", "messages": messages,
            "max_tokens": 24, "temperature": 0, **params}


def content(result):
    return result["choices"][0]["message"]["content"]


def streamed_text(chunks):
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def ok(status, result):
    assert status == OK, result
    return result


PROMPT = "Write one sentence about the sea."


def test_completion(lib, server):
    r = ok(*lib.completion(llamacpp(server, PROMPT))[:2])
    assert r["object"] == "chat.completion"
    assert isinstance(content(r), str) and content(r).strip()
    assert r["choices"][0]["finish_reason"] in ("stop", "length")
    assert r["usage"]["prompt_tokens"] > 0 and r["usage"]["completion_tokens"] > 0
    assert r["usage"]["total_tokens"] == r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"]


def test_system_message_and_multi_turn(lib, server):
    messages = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Name a colour."},
                {"role": "assistant", "content": "Blue."},
                {"role": "user", "content": "Another one."}]
    r = ok(*lib.completion(llamacpp(server, messages))[:2])
    assert content(r).strip()


def test_streamed_with_usage(lib, server):
    status, r, chunks = lib.completion(llamacpp(server, PROMPT, stream=True))
    ok(status, r)
    assert len(chunks) > 2
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = streamed_text(chunks)
    assert text.strip() and text == content(r)
    usage_chunks = [c for c in chunks if c.get("usage")]
    assert usage_chunks, "no chunk carried usage (stream_options.include_usage)"
    assert usage_chunks[-1]["usage"]["completion_tokens"] > 0
    assert r["usage"]["prompt_tokens"] > 0 and r["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize("stream", [False, True])
def test_max_tokens_gives_length(lib, server, stream):
    status, r, chunks = lib.completion(llamacpp(server, "Tell me a long story about a dragon.", max_tokens=5,
                                                stream=stream))
    ok(status, r)
    assert r["choices"][0]["finish_reason"] == "length"
    assert r["usage"]["completion_tokens"] == 5
    if stream:
        assert [c["choices"][0]["finish_reason"] for c in chunks if c.get("choices") and
                c["choices"][0].get("finish_reason")] == ["length"]


@pytest.mark.parametrize("stream", [False, True])
def test_stop_sequence(lib, server, stream):
    prompt = "List the days of the week, one per line."
    full = content(ok(*lib.completion(llamacpp(server, prompt, max_tokens=40))[:2]))
    words = [w.strip(".,;:!?*-") for w in full.split()]
    # a word that first occurs after the start of the text
    stop = next((w for w in words[1:] if len(w) >= 3 and full.find(w) > 0), None)
    assert stop, f"no usable stop word in {full!r}"
    status, r, chunks = lib.completion(llamacpp(server, prompt, max_tokens=40, stop=[stop], stream=stream))
    ok(status, r)
    assert content(r) == full[:full.find(stop)]
    assert stop not in content(r)
    assert r["choices"][0]["finish_reason"] == "stop"
    if stream:
        assert streamed_text(chunks) == content(r)


def test_temperature_zero_is_deterministic(lib, server):
    request = llamacpp(server, "Describe a cat in one sentence.", max_tokens=32)
    first = content(ok(*lib.completion(request)[:2]))
    second = content(ok(*lib.completion(request)[:2]))
    status, r, chunks = lib.completion({**request, "stream": True})
    ok(status, r)
    assert first == second
    assert streamed_text(chunks) == first


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_provider_against_messages_endpoint(lib, server, stream):
    request = {"model": f"anthropic:{MODEL}", "api_base": server, "api_key": "local-no-key",
               "messages": [{"role": "system", "content": "Answer briefly."},
                            {"role": "user", "content": PROMPT}],
               "max_tokens": 16, "temperature": 0, "stream": stream}
    status, r, chunks = lib.completion(request)
    ok(status, r)
    assert content(r).strip()
    assert r["choices"][0]["finish_reason"] in ("stop", "length")
    assert r["usage"]["prompt_tokens"] > 0 and r["usage"]["completion_tokens"] > 0
    if stream:
        assert streamed_text(chunks) == content(r)
    # the same text as the OpenAI protocol gives
    same = ok(*lib.completion(llamacpp(server, request["messages"], max_tokens=16))[:2])
    assert content(r) == content(same)


def test_prompt_over_the_context_is_a_typed_error(lib, server):
    # the server answers HTTP 400 with its own error type (exceed_context_size_error)
    status, r, chunks = lib.completion(llamacpp(server, "sea " * 5000, client_args={"max_retries": 0}))
    assert status != OK, r
    err = r["error"]
    assert err["type"] in ("context_length", "invalid_request"), err
    assert err["status"] == 400 and err["provider"] == "llamacpp" and err["message"]
    assert not chunks


# With tools offered (tool_choice "auto") the server parses the base model's answer as a tool call
# and fails: HTTP 500 ("does not match the expected ... format"), or, streamed, an error event after
# some text has been sent.
TOOLS = {
    "tools": [{"type": "function", "function": {
        "name": "get_weather", "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "tool_choice": "auto",
    "client_args": {"max_retries": 0},
}


def test_http_500_is_a_typed_provider_error(lib, server):
    status, r, chunks = lib.completion(llamacpp(server, "What is the weather in Paris?", max_tokens=40, **TOOLS))
    assert status == E_PROVIDER, r
    err = r["error"]
    assert err["type"] == "provider"
    assert err["status"] == 500
    assert err["provider"] == "llamacpp"
    assert "format" in err["message"]
    assert not chunks


def test_mid_stream_error_keeps_the_partial_text(lib, server):
    status, r, chunks = lib.completion(llamacpp(server, "What is the weather in Paris?", max_tokens=40, stream=True,
                                                **TOOLS))
    assert status == E_PROVIDER, r
    err = r["error"]
    assert err["type"] == "provider"
    assert "format" in err["message"]
    text = streamed_text(chunks)
    assert text.strip(), "the server sent no text before its error event"
    partial = err.get("partial")
    assert partial is not None, err
    assert partial["choices"][0]["message"]["content"] == text


def test_server_extra_fields_are_tolerated(lib, server):
    # the server's own answers carry llama.cpp's "timings" (and more) next to the OpenAI fields
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 4}).encode()
    raw = urllib.request.urlopen(urllib.request.Request(f"{server}/v1/chat/completions", data=body,
                                                        headers={"Content-Type": "application/json"}), timeout=60)
    assert "timings" in json.load(raw)
    for stream in (False, True):
        status, r, chunks = lib.completion(llamacpp(server, PROMPT, max_tokens=4, stream=stream))
        ok(status, r)
        assert content(r)
