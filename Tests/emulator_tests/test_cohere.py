"""The Cohere Chat v2 protocol of the emulator (Tests/emulator/README.md, "Cohere")."""

import json
import re

import pytest

from emu_client import KEY, request, sse_events, user

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ECHO = "You said: hello there"
TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}


def body(model="command-a-03-2025", text="hello there", **extra):
    b = {"model": model, "messages": user(text)}
    b.update(extra)
    return b


def cohere(base, b, key=KEY, sse=True, raw_body=None):
    headers = {"Accept": "text/event-stream"} if sse else {}
    return request(base, "POST", "/v2/chat", body=b, key=key, headers=headers, raw_body=raw_body)


def once(base, model="command-a-03-2025", **extra):
    r = cohere(base, body(model, **extra), sse=False)
    assert r.status == 200, r.body
    assert r.header("content-type") == "application/json"
    return r.json()


def events(base, model="command-a-03-2025", sse=True, **extra):
    r = cohere(base, body(model, stream=True, **extra), sse=sse)
    assert r.status == 200, r.body
    if sse:
        assert r.header("content-type") == "text/event-stream"
        evs = sse_events(r.text)
        for name, data in evs:
            assert json.loads(data)["type"] == name        # every event is named after its type
        return [json.loads(d) for _, d in evs]
    assert r.header("content-type") == "application/stream+json"
    assert r.text.endswith("\n")
    return [json.loads(line) for line in r.text.split("\n") if line]


def collect(evs):
    """(text, thinking, tool plan, calls [{id, name, arguments}], finish_reason, usage) of a stream."""
    text, thinking, plan, calls, finish, usage = "", "", "", {}, None, None
    assert evs[0]["type"] == "message-start" and UUID.match(evs[0]["id"])
    assert evs[-1]["type"] == "message-end"
    for e in evs:
        msg = (e.get("delta") or {}).get("message") or {}
        if e["type"] == "content-delta":
            text += msg["content"].get("text", "")
            thinking += msg["content"].get("thinking", "")
        elif e["type"] == "tool-plan-delta":
            plan += msg["tool_plan"]
        elif e["type"] == "tool-call-start":
            tc = msg["tool_calls"]
            calls[e["index"]] = {"id": tc["id"], "name": tc["function"]["name"], "arguments": tc["function"]["arguments"]}
        elif e["type"] == "tool-call-delta":
            calls[e["index"]]["arguments"] += msg["tool_calls"]["function"]["arguments"]
        elif e["type"] == "message-end":
            finish, usage = e["delta"]["finish_reason"], e["delta"].get("usage")
    return text, thinking, plan, [calls[i] for i in sorted(calls)], finish, usage


def assert_error(r, status, contains=None):
    assert r.status == status, r.body
    obj = r.json()
    assert sorted(obj) == ["id", "message"] and UUID.match(obj["id"]), obj
    if contains is not None:
        assert contains in obj["message"], obj["message"]
    return obj["message"]


# ---- auth and checks -------------------------------------------------------------------------------------------------------
def test_auth(base):
    assert_error(cohere(base, body(), key=None), 401, "no api key supplied")
    assert_error(cohere(base, body(), key="sk-bad-1"), 401, "invalid api token")
    assert_error(cohere(base, body(), key="sk-noperm-1"), 403)


INVALID = [
    ("unknown field", body(frobnicate=1), "unknown field: parameter frobnicate is not a valid field"),
    ("no model", {"messages": user()}, "model must be specified"),
    ("no messages", {"model": "m"}, "messages must be specified"),
    ("empty messages", {"model": "m", "messages": []}, "messages must be a non-empty list"),
    ("bad role", {"model": "m", "messages": [{"role": "developer", "content": "x"}]}, "role must be one of"),
    ("tool without id", {"model": "m", "messages": user() + [{"role": "tool", "content": "x"}]}, "tool_call_id is required"),
    ("unanswered id", {"model": "m", "messages": user() + [
        {"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "b", "content": "x"}]}, "tool_call_id b does not match"),
    ("arguments object", {"model": "m", "messages": user() + [
        {"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": {}}}]}]},
     "arguments must be a string"),
    ("tool_choice lower case", body(tools=[TOOL], tool_choice="required"), "tool_choice must be one of REQUIRED, NONE"),
    ("REQUIRED without tools", body(tool_choice="REQUIRED"), "requires tools"),
    ("p 1", body(p=1), "p must be between 0.01 and 0.99"),
    ("k 501", body(k=501), "k must be between 0 and 500"),
    ("penalty 1.5", body(presence_penalty=1.5), "presence_penalty must be between 0 and 1"),
    ("max_tokens 0", body(max_tokens=0), "max_tokens must be at least 1"),
    ("six stops", body(stop_sequences=list("abcdef")), "at most 5"),
    ("response_format json_schema", body(response_format={"type": "json_schema"}), "response_format.type"),
    ("thinking budget 0", body(thinking={"type": "enabled", "token_budget": 0}), "token_budget"),
    ("image not a URL", {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "ftp://x"}}]}]}, "image_url.url"),
    ("tool type", body(tools=[{"type": "retrieval"}]), "tools[0].type must be function"),
]


@pytest.mark.parametrize("name,b,contains", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_requests(base, name, b, contains):
    msg = assert_error(cohere(base, b), 400, contains)
    assert msg.startswith("invalid request: ")


def test_not_json(base):
    assert_error(cohere(base, None, raw_body=b"{nope", sse=False), 400)


# ---- answers --------------------------------------------------------------------------------------------------------------
def test_echo_non_streamed(base):
    r = once(base)
    assert UUID.match(r["id"])
    assert r["finish_reason"] == "COMPLETE"
    assert r["message"] == {"role": "assistant", "content": [{"type": "text", "text": ECHO}]}
    assert r["usage"] == {"billed_units": {"input_tokens": 2, "output_tokens": 4},
                          "tokens": {"input_tokens": 2, "output_tokens": 4}}


@pytest.mark.parametrize("sse", [True, False])
def test_echo_streamed(base, sse):
    evs = events(base, sse=sse)
    text, thinking, plan, calls, finish, usage = collect(evs)
    assert (text, thinking, plan, calls, finish) == (ECHO, "", "", [], "COMPLETE")
    assert usage["tokens"] == {"input_tokens": 2, "output_tokens": 4}
    assert [e["type"] for e in evs[:2]] == ["message-start", "content-start"]
    assert evs[0]["delta"]["message"]["role"] == "assistant"
    assert sum(1 for e in evs if e["type"] == "content-delta") == 4


def test_tool_call(base):
    r = once(base, tools=[TOOL, TIME])
    assert r["finish_reason"] == "TOOL_CALL"
    msg = r["message"]
    assert msg["tool_plan"] == "I will use get_weather to answer this." and "content" not in msg
    (call,) = msg["tool_calls"]
    assert re.match(r"^get_weather_[a-z0-9]{12}$", call["id"])
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    text, _, plan, calls, finish, _ = collect(events(base, model="parallel-x", tools=[TOOL, TIME]))
    assert (text, finish) == ("", "TOOL_CALL")
    assert plan == "I will use get_weather and get_time to answer this."
    assert [(c["name"], c["arguments"]) for c in calls] == [("get_weather", '{"city":"Paris"}'), ("get_time", "{}")]
    # REQUIRED forces a call even on a model that would not; NONE answers with text.
    assert once(base, tools=[TOOL], tool_choice="REQUIRED")["finish_reason"] == "TOOL_CALL"
    assert once(base, tools=[TOOL], tool_choice="NONE")["message"]["content"][0]["text"] == ECHO


def test_tool_result_round(base):
    call = once(base, tools=[TOOL])["message"]["tool_calls"][0]
    msgs = user() + [{"role": "assistant", "tool_plan": "plan", "tool_calls": [call]},
                     {"role": "tool", "tool_call_id": call["id"], "content": [{"type": "text", "text": "18C"}]}]
    r = cohere(base, {"model": "m", "messages": msgs, "tools": [TOOL]}, sse=False).json()
    assert r["message"]["content"][0]["text"] == "Tool results: 18C"
    assert r["finish_reason"] == "COMPLETE"


def test_thinking_structured_limits(base):
    r = once(base, thinking={"type": "enabled", "token_budget": 1024})
    assert r["message"]["content"][0] == {"type": "thinking", "thinking": "Let me think about what the user said: hello there"}
    assert once(base, "reasoning", thinking={"type": "disabled"})["message"]["content"][0]["type"] == "text"
    _, thinking, _, _, _, _ = collect(events(base, "reasoning"))
    assert thinking.startswith("Let me think")
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}
    r = once(base, response_format={"type": "json_object", "json_schema": schema})
    assert json.loads(r["message"]["content"][0]["text"]) == {"name": "Paris", "age": 42}
    r = once(base, response_format={"type": "json_object"})
    assert json.loads(r["message"]["content"][0]["text"]) == {"text": ECHO}
    r = once(base, stop_sequences=["there"])
    assert (r["message"]["content"][0]["text"], r["finish_reason"]) == ("You said: hello ", "STOP_SEQUENCE")
    r = once(base, max_tokens=2)
    assert (r["message"]["content"][0]["text"], r["finish_reason"]) == ("You said: ", "MAX_TOKENS")


# ---- scripted errors and faults ---------------------------------------------------------------------------------------------
ERRORS = [("status-400", 400, "invalid request"), ("status-402", 402, "payment method"), ("status-404", 404,
          "model 'status-404' not found"), ("status-422", 422, None), ("status-429", 429, "Trial key"),
          ("status-499", 499, "cancelled"), ("status-500", 500, "internal server error"),
          ("context-length", 400, "too many tokens: size limit exceeded"), ("quota", 402, "payment method")]


@pytest.mark.parametrize("model,status,contains", ERRORS, ids=[e[0] for e in ERRORS])
def test_scripted_errors(base, model, status, contains):
    r = cohere(base, body(model, stream=True))
    assert_error(r, status, contains)
    if status == 429:
        assert r.header("retry-after") == "2"


def test_error_event(base):
    evs = events(base, "error-event")
    text, _, _, _, finish, _ = collect(evs)
    assert (text, finish) == ("You said: ", "ERROR")
    assert evs[-1]["delta"]["error"]
    r = once(base, "error-event")
    assert r["finish_reason"] == "ERROR"


def test_garbage_and_framings(base):
    r = cohere(base, body("garbage", stream=True))
    assert r.status == 200 and "data: {not json" in r.text
    for model in ("sse-crlf", "sse-cr", "sse-quirks"):
        assert collect(events(base, model))[0] == ECHO
