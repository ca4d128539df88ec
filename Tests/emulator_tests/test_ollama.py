"""The Ollama native chat protocol of the emulator (Tests/emulator/README.md, "Ollama")."""

import email.utils
import json
import re
import time
import uuid

import pytest

from emu_client import RawResponse, ndjson, ollama, raw_exchange, request, user

ECHO = "You said: hello there"
TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
CREATED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")


def body(model="llama3.2", text="hello there", **extra):
    b = {"model": model, "messages": user(text)}
    b.update(extra)
    return b


def assert_error(r, status, message=None):
    assert r.status == status, r.body
    assert r.header("content-type") == "application/json; charset=utf-8"
    obj = r.json()
    assert list(obj) == ["error"], obj
    if message is not None:
        assert obj["error"] == message, obj["error"]
    return obj["error"]


def once(base, model="llama3.2", **extra):
    r = ollama(base, body(model, stream=False, **extra))
    assert r.status == 200, r.body
    assert r.header("content-type") == "application/json; charset=utf-8"
    return r.json()


def streamed(base, model="llama3.2", **extra):
    r = ollama(base, body(model, **extra))
    assert r.status == 200, r.body
    assert r.header("content-type") == "application/x-ndjson"
    return r, ndjson(r.text)


def collect(lines):
    content = "".join(l["message"].get("content", "") for l in lines)
    thinking = "".join(l["message"].get("thinking", "") for l in lines)
    calls = [c for l in lines for c in l["message"].get("tool_calls", [])]
    return content, thinking, calls, lines[-1].get("done_reason")


# ---- checks -------------------------------------------------------------------------------------------------------------
INVALID = [
    ("empty body", None, b"", 400, "missing request body"),
    ("broken json", None, b"{nope", 400, "invalid character 'n' looking for beginning of object key string"),
    ("not an object", None, b"[1]", 400, "json: cannot unmarshal array into Go value of type api.ChatRequest"),
    ("no model", {"messages": user()}, None, 400, "model is required"),
    ("model number", {"model": 5, "messages": user()}, None, 400,
     "json: cannot unmarshal number into Go struct field ChatRequest.model of type string"),
    ("messages object", {"model": "m", "messages": {}}, None, 400,
     "json: cannot unmarshal object into Go struct field ChatRequest.messages of type []api.Message"),
    ("content parts", {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
     None, 400, "json: cannot unmarshal array into Go struct field Message.messages.content of type string"),
    ("images not list", {"model": "m", "messages": [{"role": "user", "content": "x", "images": "AAAA"}]}, None,
     400, "json: cannot unmarshal string into Go struct field Message.messages.images of type []api.ImageData"),
    ("image not base64", {"model": "m", "messages": [{"role": "user", "content": "x", "images": ["AA!A"]}]}, None,
     400, "illegal base64 data at input byte 2"),
    ("image data url", {"model": "m", "messages": [{"role": "user", "content": "x", "images": [
        "data:image/png;base64,AAAA"]}]}, None, 400, "illegal base64 data at input byte 4"),
    ("arguments string", {"model": "m", "messages": user() + [{"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "f", "arguments": "{}"}}]}]}, None, 400,
     "json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments "
     "of type api.ToolCallFunctionArguments"),
    ("stream string", body(stream="yes"), None, 400,
     "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool"),
    ("options list", body(options=[1]), None, 400,
     "json: cannot unmarshal array into Go struct field ChatRequest.options of type map[string]interface {}"),
    ("tools object", body(tools={}), None, 400,
     "json: cannot unmarshal object into Go struct field ChatRequest.tools of type api.Tools"),
    ("tool name number", body(tools=[{"type": "function", "function": {"name": 1}}]), None, 400,
     "json: cannot unmarshal number into Go struct field ToolFunction.tools.function.name of type string"),
    ("think level", body(think="max"), None, 400,
     'invalid think value: "max" (must be "high", "medium", "low", true, or false)'),
    ("think number", body(think=1), None, 400,
     'think must be a boolean or string ("high", "medium", "low", true, or false)'),
    ("keep_alive no unit", body(keep_alive="5"), None, 400, 'time: missing unit in duration "5"'),
    ("keep_alive bad unit", body(keep_alive="5x"), None, 400, 'time: unknown unit "x" in duration "5x"'),
    ("keep_alive garbage", body(keep_alive="soon"), None, 400, 'time: invalid duration "soon"'),
    ("keep_alive bool", body(keep_alive=True), None, 400, "Unsupported type: 'bool'"),
    ("missing model", body("missing-model"), None, 404, 'model "missing-model" not found, try pulling it first'),
    ("option type", body(options={"temperature": "hot"}), None, 500, 'option "temperature" must be of type float32'),
    ("option int", body(options={"num_ctx": "big"}), None, 500, 'option "num_ctx" must be of type integer'),
    ("option stop", body(options={"stop": "END"}), None, 500, 'option "stop" must be of type array'),
    ("format", body(format="xml"), None, 500,
     'invalid format: "\\"xml\\""; expected "json" or a valid JSON Schema object'),
]


@pytest.mark.parametrize("name,b,raw,status,message", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_requests(base, name, b, raw, status, message):
    assert_error(ollama(base, b, raw_body=raw, headers={"Content-Type": "application/json"}), status, message)


VALID = [
    ("unknown keys ignored", body(frobnicate=1, options={"mirostat": 2, "whatever": "x"})),
    ("nulls", body(stream=None, options=None, tools=None, format=None, think=None, keep_alive=None)),
    ("every option", body(options={"temperature": 0.2, "top_p": 0.9, "top_k": 40, "num_predict": 100, "stop": ["x"],
                                   "seed": 1, "num_ctx": 8192, "repeat_penalty": 1.1, "presence_penalty": 0.1,
                                   "frequency_penalty": 0.1, "min_p": 0.05, "use_mmap": True})),
    ("keep_alive forms", body(keep_alive="1h30m")),
    ("keep_alive seconds", body(keep_alive=-1)),
    ("keep_alive zero", body(keep_alive="0")),
    ("think levels", body(think="high")),
    ("images", {"model": "m", "messages": [{"role": "user", "content": "what", "images": ["iVBORw0KGgo="]}]}),
    ("history", {"model": "m", "messages": [{"role": "system", "content": "be brief"}] + user() + [
        {"role": "assistant", "content": "", "thinking": "hm", "tool_calls": [
            {"id": "call_1", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "sunny", "tool_name": "get_weather", "tool_call_id": "call_1"}]}),
    ("no content type", body()),
]


@pytest.mark.parametrize("name,b", VALID, ids=[c[0] for c in VALID])
def test_valid_requests(base, name, b):
    r = request(base, "POST", "/api/chat", raw_body=json.dumps(b).encode(), key=None)
    assert r.status == 200, r.body


def test_empty_messages_load_the_model(base):
    for b in ({"model": "llama3.2"}, {"model": "llama3.2", "messages": [], "stream": True}):
        r = ollama(base, b)
        assert r.status == 200 and r.header("content-type") == "application/json; charset=utf-8"
        obj = r.json()
        assert obj["done"] is True and obj["done_reason"] == "load"
        assert obj["message"] == {"role": "assistant", "content": ""}


# ---- answers ------------------------------------------------------------------------------------------------------------
def test_non_streamed_shape(base):
    obj = once(base)
    assert list(obj) == ["model", "created_at", "message", "done_reason", "done", "total_duration", "load_duration",
                         "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"]
    assert obj["model"] == "llama3.2" and CREATED.fullmatch(obj["created_at"])
    assert obj["message"] == {"role": "assistant", "content": ECHO}
    assert (obj["done"], obj["done_reason"], obj["prompt_eval_count"], obj["eval_count"]) == (True, "stop", 2, 4)
    assert all(isinstance(obj[k], int) and obj[k] > 0 for k in ("total_duration", "load_duration",
                                                                "prompt_eval_duration", "eval_duration"))


def test_streams_by_default(base):
    r, lines = streamed(base)
    assert r.header("transfer-encoding") == "chunked"
    assert [l["done"] for l in lines] == [False] * 4 + [True]
    assert [l["message"]["content"] for l in lines] == ["You ", "said: ", "hello ", "there", ""]
    assert all(l["message"]["role"] == "assistant" and CREATED.fullmatch(l["created_at"]) for l in lines)
    assert "done_reason" not in lines[0] and lines[-1]["done_reason"] == "stop"
    assert lines[-1]["eval_count"] == 4 and "total_duration" not in lines[0]
    _, lines = streamed(base, stream=True)
    assert collect(lines)[0] == ECHO


def test_go_style_json(base):
    r = ollama(base, body(text="a <b> & c", stream=False))
    assert b"\\u003cb\\u003e \\u0026 c" in r.body and b"<" not in r.body
    assert r.body.startswith(b'{"model":"llama3.2","created_at":"') and not r.body.endswith(b"\n")
    assert r.json()["message"]["content"] == "You said: a <b> & c"


def test_tool_calls(base):
    obj = once(base, tools=[TOOL, TIME])
    msg = obj["message"]
    assert msg["content"] == "" and obj["done_reason"] == "stop"
    [call] = msg["tool_calls"]
    assert re.fullmatch(r"call_[a-z0-9]{8}", call["id"])
    assert call["function"] == {"index": 0, "name": "get_weather", "arguments": {"city": "Paris", "days": 42}}
    _, lines = streamed(base, "parallel-x", tools=[TOOL, TIME])
    with_calls = [l for l in lines if l["message"].get("tool_calls")]
    assert len(with_calls) == 1 and [c["function"]["name"] for c in with_calls[0]["message"]["tool_calls"]] == [
        "get_weather", "get_time"]
    assert [c["function"]["index"] for c in with_calls[0]["message"]["tool_calls"]] == [0, 1]


def test_tool_result_answer(base):
    msgs = user() + [{"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"}]
    assert once(base, tools=[TOOL], messages=msgs)["message"]["content"] == "Tool results: sunny"


def test_thinking(base):
    obj = once(base, "reasoning")
    assert obj["message"]["thinking"].startswith("Let me think") and obj["message"]["content"] == ECHO
    assert "thinking" not in once(base, "reasoning", think=False)["message"]
    assert once(base, think=True)["message"]["thinking"]
    assert once(base, think="low")["message"]["thinking"]
    _, lines = streamed(base, "reasoning")
    content, thinking, _, _ = collect(lines)
    assert content == ECHO and thinking == obj["message"]["thinking"]
    first_content = next(i for i, l in enumerate(lines) if l["message"]["content"])
    assert all(not l["message"].get("thinking") for l in lines[first_content:])


def test_format(base):
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "ok": {"type": "boolean"}}}
    assert json.loads(once(base, format=schema)["message"]["content"]) == {"name": "Paris", "ok": True}
    assert json.loads(once(base, format="json")["message"]["content"]) == {"text": ECHO}


def test_options_stop_and_num_predict(base):
    obj = once(base, text="one two three", options={"stop": ["two"]})
    assert obj["message"]["content"] == "You said: one " and obj["done_reason"] == "stop"
    obj = once(base, "long-10", options={"num_predict": 3})
    assert obj["message"]["content"] == "tok0 tok1 tok2 " and obj["done_reason"] == "length"
    assert once(base, "length")["done_reason"] == "length"
    assert once(base, "long-4", options={"num_predict": -1})["message"]["content"] == "tok0 tok1 tok2 tok3"


@pytest.mark.parametrize("status,message", [
    (400, None), (401, "unauthorized"), (404, 'model "status-404" not found, try pulling it first'),
    (429, "too many requests"), (500, "llama runner process has terminated: exit status 2"),
    (503, "server busy, please try again.  maximum pending requests exceeded"), (502, None)])
@pytest.mark.parametrize("stream", [False, True])
def test_status_models(base, status, message, stream):
    r = ollama(base, body("status-%d" % status, stream=stream))
    assert_error(r, status, message)
    if status == 429:
        assert r.header("retry-after") == "2"


def test_failure_models(base):
    r = ollama(base, body("retry-after-date"))
    assert_error(r, 429)
    assert 1.0 <= email.utils.parsedate_to_datetime(r.header("retry-after")).timestamp() - time.time() <= 4.0
    assert_error(ollama(base, body("context-length")), 400, "the input length exceeds the context length")
    assert_error(ollama(base, body("quota")), 429)
    r = ollama(base, body("html-404"))
    assert r.status == 404 and r.header("content-type") == "text/html"
    model = "flaky-1-" + uuid.uuid4().hex[:6]
    assert_error(ollama(base, body(model)), 500)
    assert ollama(base, body(model, stream=False)).status == 200
    obj = once(base, "content-filter")
    assert obj["message"]["content"] == "You " and obj["done_reason"] == "stop"


def raw_chat(base, b):
    from emu_client import hostport
    host, port = hostport(base)
    data = json.dumps(b).encode()
    req = ("POST /api/chat HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
           "Connection: close\r\n\r\n" % (host, port, len(data))).encode() + data
    return RawResponse(raw_exchange(base, req)[0])


def test_long_slow_stall(base):
    _, lines = streamed(base, "long-20")
    assert len(lines) == 21 and collect(lines)[0] == " ".join("tok%d" % i for i in range(20))
    t0 = time.monotonic()
    _, lines = streamed(base, "slow-3-80")
    assert time.monotonic() - t0 >= 0.15 and collect(lines)[0] == "tok0 tok1 tok2"
    t0 = time.monotonic()
    assert once(base, "stall-200")["message"]["content"] == ECHO
    assert time.monotonic() - t0 >= 0.18


def test_drop_after_n(base):
    r = raw_chat(base, body("drop-after-2"))
    assert r.status == 200 and not r.complete
    assert [json.loads(l)["message"]["content"] for l in r.body.decode().splitlines()] == ["tok0 ", "tok1 "]
    r = raw_chat(base, body("drop-after-2", stream=False))
    assert 0 < len(r.body) < int(r.headers["content-length"])


def test_garbage_split_utf8_error_event(base):
    assert ollama(base, body("garbage")).body == b"{not json\n"
    assert ollama(base, body("garbage", stream=False)).body == b"<<<this is not json>>>"
    r = raw_chat(base, body("split-utf8"))
    assert r.complete and all(len(c) == 1 for c in r.chunks)
    assert collect(ndjson(r.body.decode()))[0] == "héllo wörld — 你好 👋 ok"
    r = raw_chat(base, body("error-event"))
    assert r.complete
    lines = ndjson(r.body.decode())
    assert [l.get("message", {}).get("content") for l in lines[:2]] == ["You ", "said: "]
    assert lines[2:] == [{"error": "an error was encountered while running the model: unexpected EOF"}]
    assert ollama(base, body("error-event", stream=False)).json() == {
        "error": "an error was encountered while running the model: unexpected EOF"}


def test_replay(base):
    name = "tests__cassettes__test_tools__test_tool_use_chain_of_two_calls__0"
    r = ollama(base, body("replay:" + name, stream=False))
    assert r.status == 200 and r.json()["id"] == "chatcmpl-BWpGNGdPONTwxHkZVxbqctQSBDmTn"
    assert_error(ollama(base, body("replay:nope")), 404, 'model "replay:nope" not found, try pulling it first')


def test_tags_version_root(base):
    r = request(base, "GET", "/api/tags", key=None)
    [model] = r.json()["models"]
    assert model["name"] == "llama3.2:latest" and model["details"]["format"] == "gguf"
    assert request(base, "GET", "/api/version", key=None).json() == {"version": "0.12.6"}
    r = request(base, "GET", "/", key=None)
    assert r.status == 200 and r.body == b"Ollama is running"
    assert request(base, "HEAD", "/", key=None).status == 200
    assert request(base, "GET", "/api/chat", key=None).status == 405


def test_last_request(base):
    ollama(base, body(options={"temperature": 0.1}), headers={"Authorization": "Bearer secret-ollama-key"})
    r = request(base, "GET", "/_emulator/last_request", key=None)
    assert b"secret-ollama-key" not in r.body
    rec = r.json()
    assert rec["path"] == "/api/chat" and rec["body"]["options"] == {"temperature": 0.1}
