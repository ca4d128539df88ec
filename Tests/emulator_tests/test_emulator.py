"""Tests of the provider emulator itself: the contract in Tests/emulator/README.md.

Other test layers (Swift, C, Rust) trust the emulator to behave like the real services; these tests pin that
behaviour down so a change to the emulator cannot silently weaken them.
"""

import email.utils
import glob
import json
import os
import re
import socket
import time
import uuid

import pytest

import fixtures as fixture_mod
import harness
from emu_client import (FIXTURES_DIR, KEY, RawResponse, assemble, chat_body, chunks_of, hostport, post,
                        raw_exchange, raw_post, raw_request_bytes, request, sse_data, user)

ECHO = "You said: hello there"


def assert_openai_error(r, status, code=None, param=None, type_=None):
    assert r.status == status, r.body
    assert r.header("content-type").startswith("application/json")
    err = r.json()["error"]
    assert set(err) >= {"message", "type", "param", "code"}
    assert isinstance(err["message"], str) and err["message"]
    if code is not None:
        assert err["code"] == code, err
    if param is not None:
        assert err["param"] == param, err
    if type_ is not None:
        assert err["type"] == type_, err
    return err


def stream(base, model="gpt-4o", include_usage=None, **extra):
    body = chat_body(model, stream=True, **extra)
    if include_usage is not None:
        body["stream_options"] = {"include_usage": include_usage}
    r = post(base, body)
    assert r.status == 200, r.body
    return r, chunks_of(r.text)


# ---- server basics ---------------------------------------------------------------------------------------------------
def test_health(base):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
    r = request(base, "GET", "/health", key=None)
    assert r.status == 200 and r.json() == {"status": "ok"}


def test_unknown_path_is_openai_404(base):
    r = post(base, chat_body(), path="/v1/xyz")
    err = assert_openai_error(r, 404)
    assert err["message"] == "Invalid URL (POST /v1/xyz)"


def test_wrong_method_is_405(base):
    r = request(base, "GET", "/v1/chat/completions")
    assert_openai_error(r, 405)
    assert "POST" in r.header("allow")


def test_keep_alive_serves_several_requests_on_one_connection(base):
    import http.client
    conn = http.client.HTTPConnection(*hostport(base), timeout=5)
    try:
        for i in range(3):
            conn.request("POST", "/v1/chat/completions", json.dumps(chat_body(text="n%d" % i)),
                         {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
            r = conn.getresponse()
            assert r.status == 200
            assert json.loads(r.read())["choices"][0]["message"]["content"] == "You said: n%d" % i
            sr = conn.sock
        conn.request("POST", "/v1/chat/completions", json.dumps(chat_body(stream=True)),
                     {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.getheader("transfer-encoding") == "chunked"
        assert chunks_of(r.read().decode())
        assert conn.sock is sr        # still the same socket: chunked stream ended cleanly
    finally:
        conn.close()


def test_errors_keep_the_connection_usable(base):
    import http.client
    conn = http.client.HTTPConnection(*hostport(base), timeout=5)
    try:
        hs = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}
        for path, body, status in [("/v1/nope", chat_body(), 404), ("/v1/chat/completions", {"model": "m"}, 400),
                                   ("/v1/chat/completions", chat_body("status-500"), 500),
                                   ("/v1/chat/completions", chat_body(), 200)]:
            conn.request("POST", path, json.dumps(body), hs)
            r = conn.getresponse()
            r.read()
            assert r.status == status
    finally:
        conn.close()


def test_many_concurrent_connections(base):
    from concurrent.futures import ThreadPoolExecutor
    # Open a burst of connections before reading any answer: the listen backlog and one thread per connection
    # must cope with a C test that fires everything at once.
    socks = []
    try:
        for i in range(200):
            s = socket.create_connection(hostport(base), timeout=10)
            s.sendall(raw_request_bytes(base, chat_body(text="c%d" % i, stream=bool(i % 2))))
            socks.append(s)
        for i, s in enumerate(socks):
            raw = b""
            while True:
                piece = s.recv(65536)
                if not piece:
                    break
                raw += piece
            r = RawResponse(raw)
            text = r.body.decode()
            got = assemble(chunks_of(text))[0] if i % 2 else json.loads(text)["choices"][0]["message"]["content"]
            assert got == "You said: c%d" % i
    finally:
        for s in socks:
            s.close()
    with ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(lambda i: post(base, chat_body("long-20", stream=True)).status, range(100)))
    assert statuses == [200] * 100


def test_expect_100_continue(base):
    data = json.dumps(chat_body()).encode()
    head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Authorization: Bearer %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
            % (KEY, len(data))).encode()
    with socket.create_connection(hostport(base), timeout=5) as s:
        s.sendall(head)
        interim = s.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(data)
        raw = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            raw += piece
    r = RawResponse(raw)
    assert r.status == 200 and json.loads(r.body)["choices"][0]["message"]["content"] == ECHO


def test_chunked_request_body(base):
    data = json.dumps(chat_body()).encode()
    framed = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 7]), data[i:i + 7]) for i in range(0, len(data), 7))
    req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           "Authorization: Bearer %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % KEY).encode()
    raw, _ = raw_exchange(base, req + framed + b"0\r\n\r\n")
    r = RawResponse(raw)
    assert r.status == 200 and json.loads(r.body)["choices"][0]["message"]["content"] == ECHO


def test_client_hanging_up_mid_stream_does_not_hurt_the_server(base):
    with socket.create_connection(hostport(base), timeout=5) as s:
        s.sendall(raw_request_bytes(base, chat_body("slow-20-20", stream=True)))
        assert s.recv(100)
    time.sleep(0.15)                  # the server now writes into a closed socket
    assert request(base, "GET", "/health").status == 200
    assert post(base, chat_body()).status == 200


def test_http10_stream_is_unchunked_and_closed(base):
    data = json.dumps(chat_body(stream=True)).encode()
    req = ("POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n"
           "Content-Length: %d\r\n\r\n" % (KEY, len(data))).encode() + data
    raw, _ = raw_exchange(base, req)
    r = RawResponse(raw)
    assert "transfer-encoding" not in r.headers
    assert assemble(chunks_of(r.body.decode()))[0] == ECHO


def test_exits_when_stdin_closes():
    proc, url = harness.start()
    assert request(url, "GET", "/health").status == 200
    proc.stdin.close()
    assert proc.wait(5) == 0
    proc.stdout.close()


def test_exits_on_sigterm():
    proc, url = harness.start(extra_args=["--no-stdin-watch"])
    proc.terminate()
    assert proc.wait(5) == 0
    proc.stdout.close()
    proc.stdin.close()


def test_no_stdin_watch_keeps_running():
    proc, url = harness.start(extra_args=["--no-stdin-watch"])
    try:
        proc.stdin.close()
        time.sleep(0.3)
        assert proc.poll() is None
        assert request(url, "GET", "/health").status == 200
    finally:
        proc.terminate()
        proc.wait(5)
        proc.stdout.close()


# ---- auth --------------------------------------------------------------------------------------------------------------
def test_missing_key_is_401(base):
    err = assert_openai_error(post(base, chat_body(), key=None), 401)
    assert err["message"].startswith("You didn't provide an API key. You need to provide your API key in an "
                                     "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)")


def test_non_bearer_auth_is_401(base):
    r = post(base, chat_body(), key=None, headers={"Authorization": "Basic abc"})
    assert_openai_error(r, 401)


def test_bad_key_is_401_and_never_echoed(base):
    key = "sk-bad-secret-value-42"
    r = post(base, chat_body(), key=key)
    err = assert_openai_error(r, 401, code="invalid_api_key", type_="invalid_request_error")
    assert err["message"] == ("Incorrect API key provided. You can find your API key at "
                              "https://platform.openai.com/account/api-keys.")
    assert b"secret" not in r.body and b"sk-bad" not in r.body


def test_noperm_key_is_403(base):
    assert_openai_error(post(base, chat_body(), key="sk-noperm-1"), 403)


def test_auth_is_checked_before_the_body(base):
    assert post(base, None, key=None, raw_body=b"{not json", headers={"Content-Type": "application/json"}).status == 401


AZURE = "/openai/deployments/%s/chat/completions?api-version=2024-10-21"


def test_azure_uses_api_key_and_deployment_as_model(base):
    body = {"messages": user()}                  # no model: the deployment names it
    r = post(base, body, key=None, path=AZURE % "my-gpt4o", headers={"api-key": KEY})
    assert r.status == 200, r.body
    obj = r.json()
    assert obj["model"] == "my-gpt4o" and obj["choices"][0]["message"]["content"] == ECHO


def test_azure_deployment_selects_behaviour(base):
    r = post(base, {"messages": user()}, key=None, path=AZURE % "long-3", headers={"api-key": KEY})
    assert r.json()["choices"][0]["message"]["content"] == "tok0 tok1 tok2"


def test_azure_preview_api_version(base):
    r = post(base, {"messages": user()}, key=None, headers={"api-key": KEY},
             path="/openai/deployments/d/chat/completions?api-version=2025-01-01-preview")
    assert r.status == 200


def test_azure_requires_api_key_header(base):
    r = post(base, {"messages": user()}, path=AZURE % "d")          # Bearer only
    assert_openai_error(r, 401, code="401")
    assert_openai_error(post(base, {"messages": user()}, key=None, path=AZURE % "d",
                             headers={"api-key": "sk-bad-1"}), 401)
    assert_openai_error(post(base, {"messages": user()}, key=None, path=AZURE % "d",
                             headers={"api-key": "sk-noperm-1"}), 403)


def test_azure_requires_api_version(base):
    r = post(base, {"messages": user()}, key=None, headers={"api-key": KEY},
             path="/openai/deployments/d/chat/completions")
    assert r.status == 404 and r.json()["error"]["message"] == "Resource not found"
    r = post(base, {"messages": user()}, key=None, headers={"api-key": KEY},
             path="/openai/deployments/d/chat/completions?api-version=latest")
    assert_openai_error(r, 400)


@pytest.mark.parametrize("path", ["/openai/v1/chat/completions", "/api/v1/chat/completions", "/chat/completions",
                                  "/v1/chat/completions?x=1"])
def test_prefixed_paths(base, path):
    r = post(base, chat_body(), path=path)
    assert r.status == 200 and r.json()["choices"][0]["message"]["content"] == ECHO


# ---- request checks ----------------------------------------------------------------------------------------------------
def test_wrong_content_type_is_400(base):
    r = post(base, None, raw_body=json.dumps(chat_body()).encode(), headers={"Content-Type": "text/plain"})
    assert_openai_error(r, 400, type_="invalid_request_error")


def test_content_type_with_charset_is_fine(base):
    r = post(base, None, raw_body=json.dumps(chat_body()).encode(),
             headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 200


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_body_must_be_a_json_object(base, raw):
    assert_openai_error(post(base, None, raw_body=raw, headers={"Content-Type": "application/json"}), 400)


TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}

INVALID = [
    ("no model", {"messages": user()}, None, None),
    ("empty model", {"model": "", "messages": user()}, None, None),
    ("model not string", {"model": 5, "messages": user()}, "model", "invalid_type"),
    ("no messages", {"model": "m"}, "messages", "missing_required_parameter"),
    ("messages not array", {"model": "m", "messages": "hi"}, "messages", "invalid_type"),
    ("empty messages", {"model": "m", "messages": []}, "messages", "empty_array"),
    ("message not object", {"model": "m", "messages": ["hi"]}, "messages[0]", "invalid_type"),
    ("no role", {"model": "m", "messages": [{"content": "x"}]}, "messages[0].role", "missing_required_parameter"),
    ("bad role", {"model": "m", "messages": [{"role": "bot", "content": "x"}]}, "messages[0].role", "invalid_value"),
    ("user no content", {"model": "m", "messages": [{"role": "user"}]}, "messages[0].content",
     "missing_required_parameter"),
    ("user content int", {"model": "m", "messages": [{"role": "user", "content": 3}]}, "messages[0].content",
     "invalid_type"),
    ("bad part type", {"model": "m", "messages": [{"role": "user", "content": [{"type": "video"}]}]},
     "messages[0].content[0].type", "invalid_value"),
    ("text part without text", {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
     "messages[0].content[0].text", "missing_required_parameter"),
    ("image part without url", {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {}}]}]}, "messages[0].content[0].image_url.url",
     "missing_required_parameter"),
    ("system content object", {"model": "m", "messages": [{"role": "system", "content": {"a": 1}}]},
     "messages[0].content", "invalid_type"),
    ("assistant empty", {"model": "m", "messages": user() + [{"role": "assistant"}]}, "messages[1].content", None),
    ("tool without id", {"model": "m", "messages": user() + [{"role": "assistant", "tool_calls": [CALL]},
                                                           {"role": "tool", "content": "x"}]},
     "messages[2].tool_call_id", None),
    ("tool answers nothing", {"model": "m", "messages": user() + [{"role": "tool", "tool_call_id": "call_1",
                                                                   "content": "x"}]}, "messages[1].role", None),
    ("tool answers unknown id", {"model": "m", "messages": user() + [
        {"role": "assistant", "tool_calls": [CALL]}, {"role": "tool", "tool_call_id": "call_2", "content": "x"}]},
     "messages[2].role", None),
    ("tools not array", {"model": "m", "messages": user(), "tools": {}}, "tools", "invalid_type"),
    ("tool type", {"model": "m", "messages": user(), "tools": [{"type": "fn", "function": {"name": "a"}}]},
     "tools[0].type", "invalid_value"),
    ("tool no name", {"model": "m", "messages": user(), "tools": [{"type": "function", "function": {}}]},
     "tools[0].function.name", "missing_required_parameter"),
    ("tool bad name", {"model": "m", "messages": user(), "tools": [{"type": "function",
                                                                    "function": {"name": "get weather"}}]},
     "tools[0].function.name", "invalid_value"),
    ("tool long name", {"model": "m", "messages": user(), "tools": [{"type": "function",
                                                                     "function": {"name": "a" * 65}}]},
     "tools[0].function.name", "string_above_max_length"),
    ("tool_choice without tools", {"model": "m", "messages": user(), "tool_choice": "auto"}, "tool_choice", None),
    ("tool_choice bad string", {"model": "m", "messages": user(), "tools": [TOOL], "tool_choice": "always"},
     "tool_choice", "invalid_value"),
    ("tool_choice unknown fn", {"model": "m", "messages": user(), "tools": [TOOL],
                                "tool_choice": {"type": "function", "function": {"name": "nope"}}},
     "tool_choice", None),
    ("stream_options without stream", {"model": "m", "messages": user(), "stream_options": {"include_usage": True}},
     "stream_options", None),
    ("stream_options with stream false", {"model": "m", "messages": user(), "stream": False,
                                          "stream_options": {"include_usage": True}}, "stream_options", None),
    ("stream not bool", {"model": "m", "messages": user(), "stream": "yes"}, "stream", "invalid_type"),
    ("temperature high", {"model": "m", "messages": user(), "temperature": 2.5}, "temperature",
     "decimal_above_max_value"),
    ("temperature low", {"model": "m", "messages": user(), "temperature": -0.1}, "temperature",
     "decimal_below_min_value"),
    ("temperature string", {"model": "m", "messages": user(), "temperature": "hot"}, "temperature", "invalid_type"),
    ("top_p high", {"model": "m", "messages": user(), "top_p": 1.5}, "top_p", "decimal_above_max_value"),
    ("n zero", {"model": "m", "messages": user(), "n": 0}, "n", "integer_below_min_value"),
    ("max_tokens decimal", {"model": "m", "messages": user(), "max_tokens": 10.5}, "max_tokens", "invalid_type"),
    ("max_completion_tokens string", {"model": "m", "messages": user(), "max_completion_tokens": "10"},
     "max_completion_tokens", "invalid_type"),
]


@pytest.mark.parametrize("name,body,param,code", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_requests_are_400(base, name, body, param, code):
    err = assert_openai_error(post(base, body), 400, type_="invalid_request_error")
    assert err["param"] == param, err
    assert err["code"] == code, err


def test_stream_options_message_is_the_real_one(base):
    err = assert_openai_error(post(base, chat_body(stream_options={"include_usage": True})), 400)
    assert err["message"] == "The 'stream_options' parameter is only allowed when 'stream' is enabled."


VALID = [
    ("nulls are absent", chat_body(temperature=None, top_p=None, n=None, max_tokens=None, tool_choice=None)),
    ("edge ranges", chat_body(temperature=0, top_p=1, n=1, max_tokens=1, max_completion_tokens=5)),
    ("temperature 2", chat_body(temperature=2)),
    ("all part types", {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
        {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}},
        {"type": "file", "file": {"file_id": "file-1"}}]}]}),
    ("developer and system", {"model": "m", "messages": [{"role": "developer", "content": "a"},
                                                         {"role": "system", "content": [{"type": "text",
                                                                                         "text": "b"}]}] + user()}),
    ("tool round trip", {"model": "m", "tools": [TOOL], "messages": user() + [
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]}),
    ("assistant prefill", {"model": "m", "messages": user() + [{"role": "assistant", "content": "Sure"}]}),
]


@pytest.mark.parametrize("name,body", VALID, ids=[c[0] for c in VALID])
def test_valid_requests_pass(base, name, body):
    r = post(base, body)
    assert r.status == 200, r.body


def test_unknown_keys_pass_and_are_reported(base):
    r = post(base, chat_body(frobnicate=1, provider={"order": ["x"]}, temperature=1))
    assert r.status == 200
    assert r.header("x-emulator-extra-keys") == "frobnicate,provider"
    assert post(base, chat_body()).header("x-emulator-extra-keys") is None


# ---- echo, non-streamed ----------------------------------------------------------------------------------------------
def test_echo_completion_shape(base):
    r = post(base, {"model": "gpt-4o", "messages": [{"role": "system", "content": "be brief"},
                                                     {"role": "user", "content": "hello there"}]})
    assert r.status == 200
    assert r.header("content-type") == "application/json"
    assert int(r.header("content-length")) == len(r.body)
    for h in ("x-request-id", "openai-processing-ms", "x-ratelimit-limit-requests",
              "x-ratelimit-remaining-requests", "x-ratelimit-limit-tokens", "x-ratelimit-reset-requests"):
        assert r.header(h), h
    obj = r.json()
    assert re.fullmatch(r"chatcmpl-\w+", obj["id"])
    assert obj["object"] == "chat.completion"
    assert isinstance(obj["created"], int) and abs(obj["created"] - time.time()) < 60
    assert obj["model"] == "gpt-4o"
    assert obj["service_tier"] == "default" and obj["system_fingerprint"].startswith("fp_")
    [choice] = obj["choices"]
    assert choice == {"index": 0, "logprobs": None, "finish_reason": "stop",
                      "message": {"role": "assistant", "content": ECHO, "refusal": None, "annotations": []}}
    assert obj["usage"] == {
        "prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0}}


def test_echo_joins_text_parts_and_uses_last_user_message(base):
    body = {"model": "m", "messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"},
                                       {"role": "user", "content": [{"type": "text", "text": "look at"},
                                                                    {"type": "image_url",
                                                                     "image_url": {"url": "http://x/y.png"}},
                                                                    {"type": "text", "text": "this"}]}]}
    assert post(base, body).json()["choices"][0]["message"]["content"] == "You said: look at this"


def test_echo_keeps_unicode(base):
    r = post(base, chat_body(text="grüße 你好"))
    assert "You said: grüße 你好".encode() in r.body           # raw UTF-8 on the wire, not \\u escapes


# ---- streaming -------------------------------------------------------------------------------------------------------
def test_stream_framing_and_chunks(base):
    r = raw_post(base, chat_body(stream=True))
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.complete, "chunked terminator missing"
    text = r.body.decode()
    assert text.endswith("data: [DONE]\n\n")
    assert all(e.startswith("data: ") for e in text.split("\n\n") if e)
    chunks = chunks_of(text)
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
    for c in chunks:
        assert c["object"] == "chat.completion.chunk" and c["model"] == "gpt-4o"
        assert isinstance(c["created"], int) and c["system_fingerprint"].startswith("fp_")
        assert "usage" not in c                       # include_usage not asked for
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert pieces == ["You ", "said: ", "hello ", "there"]
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}


def test_stream_include_usage(base):
    _, chunks = stream(base, include_usage=True)
    *rest, last = chunks
    assert all("usage" in c and c["usage"] is None for c in rest)
    assert last["choices"] == [] and last["usage"]["completion_tokens"] == 4
    assert last["usage"]["total_tokens"] == last["usage"]["prompt_tokens"] + 4
    assert rest[-1]["choices"][0]["finish_reason"] == "stop"


def test_stream_include_usage_false(base):
    _, chunks = stream(base, include_usage=False)
    assert all("usage" not in c for c in chunks) and chunks[-1]["choices"]


# ---- tools ---------------------------------------------------------------------------------------------------------
SCHEMA_TOOL = {"type": "function", "function": {"name": "plan_trip", "description": "d", "parameters": {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer"},
        "budget": {"type": "number"},
        "flexible": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "extra": {"type": "object"},
        "who": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": ["integer", "null"]}}},
        "home": {"$ref": "#/$defs/Place"},
    },
    "$defs": {"Place": {"type": "object", "properties": {"zip": {"type": "string"}}}},
}}}
EXPECTED_ARGS = {"city": "Paris", "unit": "celsius", "days": 42, "budget": 1.5, "flexible": True, "tags": [],
                 "extra": {}, "who": {"name": "Paris", "age": 42}, "home": {"zip": "Paris"}}
SECOND_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "properties": {"tz": {"type": "string"}}}}}


def test_tool_call_non_streamed(base):
    r = post(base, chat_body(tools=[SCHEMA_TOOL, SECOND_TOOL]))
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    msg = choice["message"]
    assert msg["content"] is None and msg["refusal"] is None and msg["annotations"] == []
    [call] = msg["tool_calls"]
    assert re.fullmatch(r"call_[A-Za-z0-9]{24}", call["id"])
    assert call["type"] == "function" and call["function"]["name"] == "plan_trip"
    assert json.loads(call["function"]["arguments"]) == EXPECTED_ARGS


def test_tool_choice_names_the_tool(base):
    body = chat_body(tools=[SCHEMA_TOOL, SECOND_TOOL],
                     tool_choice={"type": "function", "function": {"name": "get_time"}})
    [call] = post(base, body).json()["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "get_time" and json.loads(call["function"]["arguments"]) == {"tz": "Paris"}


def test_tool_choice_none_echoes(base):
    msg = post(base, chat_body(tools=[SCHEMA_TOOL], tool_choice="none")).json()["choices"][0]["message"]
    assert msg["content"] == ECHO and "tool_calls" not in msg


def test_tool_choice_required_calls_first_tool(base):
    msg = post(base, chat_body(tools=[SECOND_TOOL, SCHEMA_TOOL], tool_choice="required")).json()["choices"][0]
    assert msg["message"]["tool_calls"][0]["function"]["name"] == "get_time"


def test_parallel_model_calls_two_tools(base):
    msg = post(base, chat_body("gpt-parallel", tools=[SCHEMA_TOOL, SECOND_TOOL])).json()["choices"][0]["message"]
    assert [c["function"]["name"] for c in msg["tool_calls"]] == ["plan_trip", "get_time"]
    assert len({c["id"] for c in msg["tool_calls"]}) == 2
    msg = post(base, chat_body("gpt-parallel", tools=[SCHEMA_TOOL, SECOND_TOOL],
                               parallel_tool_calls=False)).json()["choices"][0]["message"]
    assert len(msg["tool_calls"]) == 1


def test_tool_call_streamed(base):
    _, chunks = stream(base, "gpt-parallel", include_usage=True, tools=[SCHEMA_TOOL, SECOND_TOOL])
    content, _, calls, finish = assemble(chunks)
    assert finish == "tool_calls" and content == ""
    assert [calls[i]["name"] for i in (0, 1)] == ["plan_trip", "get_time"]
    assert json.loads(calls[0]["arguments"]) == EXPECTED_ARGS
    assert json.loads(calls[1]["arguments"]) == {"tz": "Paris"}
    deltas = [tc for c in chunks for ch in c["choices"] for tc in ch["delta"].get("tool_calls", [])]
    firsts = [d for d in deltas if "id" in d]
    assert len(firsts) == 2
    for d in firsts:
        assert d["type"] == "function" and d["function"]["arguments"] == "" and d["function"]["name"]
        assert re.fullmatch(r"call_[A-Za-z0-9]{24}", d["id"])
    for d in deltas:
        if "id" not in d:
            assert set(d) == {"index", "function"} and set(d["function"]) == {"arguments"}
            assert 1 <= len(d["function"]["arguments"]) <= 5
    assert chunks[-1]["usage"]["completion_tokens"] > 0


def test_tool_results_answer(base):
    body = {"model": "m", "tools": [TOOL], "messages": user("weather?") + [
        {"role": "assistant", "content": None, "tool_calls": [CALL, dict(CALL, id="call_2")]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "22 C"}]}]}
    msg = post(base, body).json()["choices"][0]["message"]
    assert msg["content"] == "Tool results: sunny; 22 C"
    _, chunks = stream(base, **{k: v for k, v in body.items() if k != "model"})
    assert assemble(chunks)[0] == "Tool results: sunny; 22 C"


# ---- scripted models -------------------------------------------------------------------------------------------------
def test_long_n(base):
    assert post(base, chat_body("long-5")).json()["choices"][0]["message"]["content"] == "tok0 tok1 tok2 tok3 tok4"
    _, chunks = stream(base, "long-50")
    content, _, _, _ = assemble(chunks)
    assert content == " ".join("tok%d" % i for i in range(50))
    assert len(chunks) == 52          # role + 50 pieces + finish


def test_slow_streams_with_gaps(base):
    from emu_client import raw_request_bytes as rq
    with socket.create_connection(hostport(base), timeout=5) as s:
        s.sendall(rq(base, chat_body("slow-4-120", stream=True)))
        arrivals, buf = [], b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            buf += piece
            arrivals.append((time.monotonic(), piece.count(b"data: ")))
    assert b"tok3" in buf
    assert arrivals[-1][0] - arrivals[0][0] >= 0.3      # 3 gaps of 120 ms
    t0 = time.monotonic()
    r = post(base, chat_body("slow-3-100"))
    assert time.monotonic() - t0 >= 0.28
    assert r.json()["choices"][0]["message"]["content"] == "tok0 tok1 tok2"


def test_reasoning(base):
    msg = post(base, chat_body("reasoning")).json()
    m = msg["choices"][0]["message"]
    assert m["content"] == ECHO and m["reasoning_content"]
    assert msg["usage"]["completion_tokens_details"]["reasoning_tokens"] == len(m["reasoning_content"].split())
    _, chunks = stream(base, "reasoning")
    content, reasoning, _, _ = assemble(chunks)
    assert content == ECHO and reasoning == m["reasoning_content"]
    kinds = ["r" if "reasoning_content" in c["choices"][0]["delta"] else "c"
             for c in chunks[1:-1]]
    assert kinds == sorted(kinds, reverse=True)       # all reasoning before any content


def test_length(base):
    choice = post(base, chat_body("length")).json()["choices"][0]
    assert choice["finish_reason"] == "length" and choice["message"]["content"] == "truncated"
    content, _, _, finish = assemble(stream(base, "length")[1])
    assert (content, finish) == ("truncated", "length")


@pytest.mark.parametrize("status,ctype,code,type_", [
    (400, "application/json", None, "invalid_request_error"),
    (401, "application/json", "invalid_api_key", "invalid_request_error"),
    (403, "application/json", None, "invalid_request_error"),
    (404, "application/json", "model_not_found", "invalid_request_error"),
    (409, "application/json", None, None),
    (422, "application/json", None, None),
    (429, "application/json", "rate_limit_exceeded", "requests"),
    (500, "application/json", None, "server_error"),
    (502, "text/html", None, None),
    (503, "application/json", None, "server_error"),
    (504, "text/html", None, None),
    (418, "application/json", None, "invalid_request_error"),
    (520, "application/json", None, "server_error"),
])
@pytest.mark.parametrize("streamed", [False, True])
def test_status_models(base, status, ctype, code, type_, streamed):
    r = post(base, chat_body("status-%d" % status, stream=streamed))
    assert r.status == status
    assert r.header("content-type").startswith(ctype)
    if ctype == "application/json":
        err = assert_openai_error(r, status, code=code, type_=type_)
        if status == 404:
            assert err["message"] == "The model `status-404` does not exist or you do not have access to it."
        if status == 503:
            assert err["message"].startswith("The engine is currently overloaded")
    else:
        assert b"<html>" in r.body and str(status).encode() in r.body
    if status == 429:
        assert r.header("retry-after") == "2" and r.header("retry-after-ms") == "1500"


def test_retry_after_date(base):
    r = post(base, chat_body("retry-after-date"))
    assert_openai_error(r, 429, code="rate_limit_exceeded")
    when = email.utils.parsedate_to_datetime(r.header("retry-after")).timestamp()
    assert 1.0 <= when - time.time() <= 4.0
    assert r.header("retry-after-ms") is None


def test_context_length(base):
    err = assert_openai_error(post(base, chat_body("context-length")), 400, code="context_length_exceeded")
    assert err["message"] == ("This model's maximum context length is 128000 tokens. However, your messages resulted "
                              "in 200000 tokens. Please reduce the length of the messages.")


def test_quota(base):
    err = assert_openai_error(post(base, chat_body("quota")), 429, code="insufficient_quota")
    assert err["message"] == "You exceeded your current quota, please check your plan and billing details."


def test_content_filter(base):
    assert_openai_error(post(base, chat_body("content-filter")), 400, code="content_filter")
    _, chunks = stream(base, "content-filter")
    content, _, _, finish = assemble(chunks)
    assert finish == "content_filter" and content == "You "
    assert len(chunks) == 3


def test_html_404(base):
    for streamed in (False, True):
        r = post(base, chat_body("html-404", stream=streamed))
        assert r.status == 404 and r.header("content-type").startswith("text/html")
        assert r.body == b"<html><body><h1>404 Not Found</h1></body></html>"


def test_flaky(base):
    model = "flaky-2-" + uuid.uuid4().hex[:8]          # own counter per test run
    statuses = [post(base, chat_body(model)).status for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    assert_openai_error(post(base, chat_body("flaky-1-" + uuid.uuid4().hex[:8])), 500, type_="server_error")


def test_drop_after_n_streamed_really_truncates(base):
    r = raw_post(base, chat_body("drop-after-3", stream=True, stream_options={"include_usage": True}))
    assert r.status == 200
    assert not r.complete                               # no 0-size terminator chunk
    assert not r.wire.endswith(b"0\r\n\r\n")
    text = r.body.decode()
    assert "[DONE]" not in text
    datas = sse_data(text)
    contents = [json.loads(d)["choices"][0]["delta"].get("content") for d in datas]
    assert contents == ["", "tok0 ", "tok1 ", "tok2 "]


def test_drop_after_n_non_streamed_short_body(base):
    raw, _ = raw_exchange(base, raw_request_bytes(base, chat_body("drop-after-3")))
    r = RawResponse(raw)
    assert r.status == 200
    assert 0 < len(r.body) < int(r.headers["content-length"])


def test_drop_is_seen_by_http_client_as_incomplete(base):
    import http.client
    with pytest.raises(http.client.IncompleteRead):
        conn = http.client.HTTPConnection(*hostport(base), timeout=5)
        conn.request("POST", "/v1/chat/completions", json.dumps(chat_body("drop-after-2", stream=True)),
                     {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        conn.getresponse().read()


def test_stall_streamed(base):
    with socket.create_connection(hostport(base), timeout=5) as s:
        t0 = time.monotonic()
        s.sendall(raw_request_bytes(base, chat_body("stall-400", stream=True)))
        head = b""
        while b'"role":"assistant"' not in head:
            piece = s.recv(65536)
            assert piece, head
            head += piece
        t_first = time.monotonic()
        rest = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            rest += piece
        t_end = time.monotonic()
    assert t_first - t0 < 0.3 and t_end - t_first >= 0.35
    assert b"said: " in rest and b"[DONE]" in rest


def test_stall_non_streamed(base):
    t0 = time.monotonic()
    r = post(base, chat_body("stall-300"))
    assert time.monotonic() - t0 >= 0.28 and r.json()["choices"][0]["message"]["content"] == ECHO


def test_garbage(base):
    r = post(base, chat_body("garbage"))
    assert r.status == 200 and r.header("content-type") == "application/json"
    assert r.body == b"<<<this is not json>>>"
    r = post(base, chat_body("garbage", stream=True))
    assert r.status == 200 and r.body == b"data: {not json\n\ndata: [DONE]\n\n"


SPLIT = "héllo wörld — 你好 👋 ok"


def test_split_utf8_streamed_byte_by_byte(base):
    r = raw_post(base, chat_body("split-utf8", stream=True))
    assert r.complete
    assert len(r.chunks) == len(r.body) and all(len(c) == 1 for c in r.chunks)   # one byte per chunk
    assert assemble(chunks_of(r.body.decode("utf-8")))[0] == SPLIT


def test_split_utf8_non_streamed(base):
    r = post(base, chat_body("split-utf8"))
    assert r.json()["choices"][0]["message"]["content"] == SPLIT


def test_error_event(base):
    r = raw_post(base, chat_body("error-event", stream=True))
    assert r.status == 200 and r.complete
    datas = sse_data(r.body.decode())
    assert "[DONE]" not in datas
    assert [json.loads(d)["choices"][0]["delta"].get("content") for d in datas[:3]] == ["", "You ", "said: "]
    assert json.loads(datas[3]) == {"error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error", "param": None, "code": None}}
    assert len(datas) == 4
    r = post(base, chat_body("error-event"))
    assert r.status == 200 and r.json()["error"]["type"] == "server_error"


@pytest.mark.parametrize("model,eol", [("sse-crlf", "\r\n"), ("sse-cr", "\r")])
def test_sse_line_endings(base, model, eol):
    r = post(base, chat_body(model, stream=True))
    text = r.text
    assert text.endswith("data: [DONE]" + eol + eol)
    if eol == "\r":
        assert "\n" not in text
    else:
        assert "\n" not in text.replace("\r\n", "")
    assert assemble(chunks_of(text))[0] == ECHO


def test_sse_quirks(base):
    plain = chunks_of(post(base, chat_body(stream=True)).text)
    r = post(base, chat_body("sse-quirks", stream=True, stream_options={"include_usage": True}))
    text = r.text
    assert ": keep-alive" in text and "data:{" in text
    assert re.search(r"^id: ", text, re.M) and re.search(r"^retry: ", text, re.M)
    assert re.search(r"^event: ", text, re.M)
    assert "\n\n\n" in text                              # blank keep-alive lines
    assert re.search(r"^data: \{\n^data: ", text, re.M)   # one JSON object over several data lines
    chunks = chunks_of(text)
    assert assemble(chunks)[0] == ECHO
    assert len(chunks) == len(plain) + 1                 # + the usage chunk


# ---- replay ----------------------------------------------------------------------------------------------------------
OPENAI_FIXTURES = sorted(glob.glob(os.path.join(FIXTURES_DIR, "openai", "*.json")))


@pytest.mark.parametrize("path", OPENAI_FIXTURES, ids=[os.path.basename(p)[:-5] for p in OPENAI_FIXTURES])
def test_replay_openai_fixture(base, path):
    fx = json.load(open(path, encoding="utf-8"))
    name = os.path.basename(path)[:-5]
    r = raw_post(base, chat_body("replay:" + name, stream=bool(fx["stream"])))
    assert r.status == fx["response"]["status"]
    assert r.headers["content-type"] == fx["response"]["content_type"]
    assert r.body == fixture_mod.body_bytes(fx)          # byte-identical, quirks included
    if fixture_mod.is_streamed(fx):
        assert r.complete and len(r.chunks) == len(fixture_mod.split_events(r.body))
    else:
        assert int(r.headers["content-length"]) == len(r.body)


def test_replay_name_forms_and_other_providers(base):
    name = "tests__cassettes__test_tools__test_tool_use_chain_of_two_calls__0"
    assert post(base, chat_body("replay:" + name + ".json")).json()["id"] == "chatcmpl-BWpGNGdPONTwxHkZVxbqctQSBDmTn"
    assert post(base, chat_body("replay:openai/" + name)).status == 200
    r = post(base, chat_body("replay:tests__cassettes__test_anthropic__test_prompt__0", stream=True))
    assert r.status == 200 and b"message_start" in r.body


def test_replay_unknown_is_404_and_request_still_checked(base):
    assert_openai_error(post(base, chat_body("replay:no_such_fixture")), 404, code="model_not_found")
    assert_openai_error(post(base, chat_body("replay:../../etc/passwd")), 404)
    name = "tests__cassettes__test_tools__test_tool_use_chain_of_two_calls__0"
    assert_openai_error(post(base, {"model": "replay:" + name, "messages": []}), 400)
    assert post(base, chat_body("replay:" + name), key=None).status == 401


def test_replay_from_custom_fixtures_dir(tmp_path):
    (tmp_path / "custom").mkdir()
    body = "data: {\"a\":1}\r\n\r\n data: odd\n\ndata: [DONE]\n\ntrailing"
    (tmp_path / "custom" / "mine.json").write_text(json.dumps({
        "provider": "custom", "stream": True, "request": {"method": "POST", "uri": "x", "body": {}},
        "response": {"status": 201, "content_type": "text/event-stream", "body_text": body}}))
    (tmp_path / "custom" / "bin.json").write_text(json.dumps({
        "provider": "custom", "stream": False, "request": {"method": "POST", "uri": "x", "body": {}},
        "response": {"status": 200, "content_type": "application/octet-stream", "body_b64": "AAEC/w=="}}))
    with harness.running(fixtures=tmp_path) as url:
        r = raw_post(url, chat_body("replay:mine", stream=True))
        assert r.status == 201 and r.body == body.encode()
        assert [bytes(c) for c in r.chunks] == [b'data: {"a":1}\r\n\r\n', b" data: odd\n\n", b"data: [DONE]\n\n",
                                                b"trailing"]
        r = raw_post(url, chat_body("replay:bin"))
        assert r.body == b"\x00\x01\x02\xff"


# ---- last_request ------------------------------------------------------------------------------------------------------
def test_last_request_records_and_redacts(base):
    secret = "sk-live-very-secret-1234567890"
    body = chat_body(frob=True)
    post(base, body, key=secret, headers={"X-Custom": "yes"})
    r = request(base, "GET", "/_emulator/last_request", key=None)
    assert r.status == 200
    rec = r.json()
    assert secret.encode() not in r.body and b"very-secret" not in r.body
    assert rec["path"] == "/v1/chat/completions" and rec["query"] == {}
    assert rec["headers"]["authorization"] == "<redacted:%d chars>" % len("Bearer " + secret)
    assert rec["headers"]["x-custom"] == "yes"
    assert rec["body"] == body


def test_last_request_redacts_azure_key(base):
    secret = "azure-secret-key-abcdef"
    post(base, {"messages": user()}, key=None, path=AZURE % "dep", headers={"api-key": secret})
    r = request(base, "GET", "/_emulator/last_request", key=None)
    rec = r.json()
    assert secret.encode() not in r.body
    assert rec["headers"]["api-key"] == "<redacted:%d chars>" % len(secret)
    assert rec["path"] == "/openai/deployments/dep/chat/completions"
    assert rec["query"] == {"api-version": "2024-10-21"}


def test_last_request_keeps_invalid_bodies(base):
    post(base, None, raw_body=b"{broken", headers={"Content-Type": "application/json"})
    assert request(base, "GET", "/_emulator/last_request", key=None).json()["body"] == "{broken"
