"""The Anthropic Messages protocol of the emulator (Tests/emulator/README.md, "Anthropic Messages")."""

import base64
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
from emu_client import (FIXTURES_DIR, KEY, anthropic, anthropic_body, anthropic_raw, anthropic_stream, hostport,
                        raw_exchange, raw_request_bytes, RawResponse, request, sse_events, user)

ECHO = "You said: hello there"
WEATHER = {"name": "get_weather", "description": "Weather for a city", "input_schema": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}
TIME = {"name": "get_time", "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}}}
SIG = base64.b64encode(b"a signature").decode()


def assert_error(r, status, type_, message=None):
    assert r.status == status, r.body
    assert r.header("content-type") == "application/json"
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == type_, body
    assert re.fullmatch(r"req_\w+", body["request_id"]) and body["request_id"] == r.header("request-id")
    if message is not None:
        assert body["error"]["message"] == message, body["error"]["message"]
    return body["error"]["message"]


def stream(base, model="claude-sonnet-4-5", **extra):
    r = anthropic(base, anthropic_body(model, stream=True, **extra))
    assert r.status == 200, r.body
    assert r.header("content-type") == "text/event-stream; charset=utf-8"
    return r, sse_events(r.text)


# ---- auth and headers --------------------------------------------------------------------------------------------------
def test_missing_key(base):
    assert_error(anthropic(base, anthropic_body(), drop=("x-api-key",)), 401, "authentication_error",
                 "x-api-key header is required")


def test_bad_key_is_401_and_never_echoed(base):
    r = anthropic(base, anthropic_body(), headers={"x-api-key": "sk-bad-secret-77"})
    assert_error(r, 401, "authentication_error", "invalid x-api-key")
    assert b"secret" not in r.body


def test_noperm_key_is_403(base):
    assert_error(anthropic(base, anthropic_body(), headers={"x-api-key": "sk-noperm-1"}), 403, "permission_error")


def test_bearer_token_is_not_an_api_key(base):
    r = anthropic(base, anthropic_body(), drop=("x-api-key",), headers={"Authorization": "Bearer " + KEY})
    assert_error(r, 401, "authentication_error")


def test_anthropic_version_is_required(base):
    r = anthropic(base, anthropic_body(), drop=("anthropic-version",))
    assert_error(r, 400, "invalid_request_error", "anthropic-version: header is required")
    r = anthropic(base, anthropic_body(), headers={"anthropic-version": "2024-99-99"})
    assert_error(r, 400, "invalid_request_error")
    assert anthropic(base, anthropic_body(), headers={"anthropic-version": "2023-01-01"}).status == 200


def test_auth_is_checked_before_version_and_body(base):
    r = anthropic(base, None, drop=("x-api-key", "anthropic-version"), raw_body=b"{nope",
                  headers={"Content-Type": "application/json"})
    assert r.status == 401


def test_content_type_must_be_json(base):
    r = anthropic(base, None, raw_body=json.dumps(anthropic_body()).encode(), headers={"Content-Type": "text/plain"})
    assert_error(r, 400, "invalid_request_error")
    r = anthropic(base, None, raw_body=json.dumps(anthropic_body()).encode(),
                  headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 200


@pytest.mark.parametrize("raw", [b"{nope", b"[1]", b""])
def test_body_must_be_a_json_object(base, raw):
    assert_error(anthropic(base, None, raw_body=raw, headers={"Content-Type": "application/json"}), 400,
                 "invalid_request_error")


def test_request_too_large_is_413(base):
    big = json.dumps(anthropic_body(text="x" * (32 * 1024 * 1024 + 10))).encode()
    r = anthropic(base, None, raw_body=big, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "request_too_large")


def test_response_headers(base):
    r = anthropic(base, anthropic_body())
    assert re.fullmatch(r"req_\w{20,}", r.header("request-id"))
    for h in ("anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining",
              "anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-limit",
              "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-input-tokens-limit",
              "anthropic-ratelimit-output-tokens-remaining", "anthropic-organization-id"):
        assert r.header(h), h


# ---- request checks ----------------------------------------------------------------------------------------------------
def msgs(*pairs):
    return [{"role": role, "content": content} for role, content in pairs]


TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
TOOL_RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}
ROUND = msgs(("user", "weather?"), ("assistant", [TOOL_USE]), ("user", [TOOL_RESULT]))
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()

INVALID = [
    ("no model", {"max_tokens": 5, "messages": user()}, "model: Field required"),
    ("model not string", {"model": 3, "max_tokens": 5, "messages": user()}, "model: Input should be a valid string"),
    ("no max_tokens", {"model": "m", "messages": user()}, "max_tokens: Field required"),
    ("max_tokens zero", anthropic_body(max_tokens=0), "max_tokens: Input should be greater than or equal to 1"),
    ("max_tokens string", anthropic_body(max_tokens="5"), "max_tokens: Input should be a valid integer"),
    ("max_tokens decimal", anthropic_body(max_tokens=5.5), "max_tokens: Input should be a valid integer"),
    ("no messages", {"model": "m", "max_tokens": 5}, "messages: Field required"),
    ("messages not list", anthropic_body(messages="hi"), "messages: Input should be a valid list"),
    ("empty messages", anthropic_body(messages=[]), "messages: at least one message is required"),
    ("system role", anthropic_body(messages=msgs(("system", "be brief"), ("user", "hi"))),
     'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as '
     'an input message role.'),
    ("bad role", anthropic_body(messages=msgs(("bot", "hi"))), "messages.0.role: Input should be 'user' or "
                                                             "'assistant'"),
    ("no role", anthropic_body(messages=[{"content": "hi"}]), "messages.0.role: Field required"),
    ("no content", anthropic_body(messages=[{"role": "user"}]), "messages.0.content: Field required"),
    ("extra message key", anthropic_body(messages=[{"role": "user", "content": "hi", "name": "bob"}]),
     "messages.0.name: Extra inputs are not permitted"),
    ("first is assistant", anthropic_body(messages=msgs(("assistant", "hi"), ("user", "hi"))),
     'messages: first message must use the "user" role'),
    ("empty content", anthropic_body(messages=msgs(("user", ""))),
     "messages.0: all messages must have non-empty content except for the optional final assistant message"),
    ("empty content list", anthropic_body(messages=msgs(("user", []))),
     "messages.0: all messages must have non-empty content except for the optional final assistant message"),
    ("empty text block", anthropic_body(messages=msgs(("user", [{"type": "text", "text": ""}]))),
     "messages: text content blocks must be non-empty"),
    ("content number", anthropic_body(messages=msgs(("user", 5))), "messages.0.content: Input should be a valid list"),
    ("unknown block", anthropic_body(messages=msgs(("user", [{"type": "video", "url": "x"}]))),
     "messages.0.content.0: Input tag 'video' found using 'type' does not match any of the expected tags: 'text', "),
    ("block without type", anthropic_body(messages=msgs(("user", [{"text": "hi"}]))),
     "messages.0.content.0.type: Field required"),
    ("text block extra key", anthropic_body(messages=msgs(("user", [{"type": "text", "text": "a", "x": 1}]))),
     "messages.0.content.0.text.x: Extra inputs are not permitted"),
    ("image media type", anthropic_body(messages=msgs(("user", [{"type": "image", "source": {
        "type": "base64", "media_type": "image/bmp", "data": PNG}}]))),
     "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' "
     "or 'image/webp'"),
    ("image bad base64", anthropic_body(messages=msgs(("user", [{"type": "image", "source": {
        "type": "base64", "media_type": "image/png", "data": "not base64!"}}]))), "messages.0.content.0.image."),
    ("image source type", anthropic_body(messages=msgs(("user", [{"type": "image", "source": {
        "type": "path", "path": "/x.png"}}]))), "messages.0.content.0.image.source: Input tag 'path'"),
    ("image without source", anthropic_body(messages=msgs(("user", [{"type": "image"}]))),
     "messages.0.content.0.image.source: Field required"),
    ("tool_result without tool_use", anthropic_body(messages=msgs(("user", "hi"), ("assistant", "ok"),
                                                                  ("user", [TOOL_RESULT]))),
     "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_1. Each `tool_result` "
     "block must have a corresponding `tool_use` block in the previous message."),
    ("tool_result wrong id", anthropic_body(messages=ROUND[:2] + msgs(("user", [dict(TOOL_RESULT,
                                                                                     tool_use_id="toolu_2")]))),
     "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each "
     "`tool_use` block must have a corresponding `tool_result` block in the next message."),
    ("tool_use without result", anthropic_body(messages=ROUND[:2] + msgs(("user", "and?"))),
     "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1."),
    ("duplicate tool_use ids", anthropic_body(messages=msgs(("user", "hi"), ("assistant", [TOOL_USE, TOOL_USE]))),
     "messages.1.content.1: `tool_use` ids must be unique"),
    ("tool_use in user message", anthropic_body(messages=msgs(("user", [TOOL_USE]))),
     "messages.0.content.0: `tool_use` blocks can only be in `assistant` messages"),
    ("tool_use input not object", anthropic_body(messages=msgs(("user", "hi"), ("assistant", [
        dict(TOOL_USE, input="{}")]), ("user", [TOOL_RESULT]))),
     "messages.1.content.0.tool_use.input: Input should be a valid dictionary"),
    ("tool_result in assistant", anthropic_body(messages=msgs(("user", "hi"), ("assistant", [TOOL_RESULT]))),
     "messages.1.content.0: `tool_result` blocks can only be in `user` messages"),
    ("thinking without signature", anthropic_body(messages=msgs(("user", "hi"), ("assistant", [
        {"type": "thinking", "thinking": "hmm"}]))), "messages.1.content.0.thinking.signature: Field required"),
    ("thinking bad signature", anthropic_body(messages=msgs(("user", "hi"), ("assistant", [
        {"type": "thinking", "thinking": "hmm", "signature": "not-a-signature!"}, {"type": "text", "text": "x"}]))),
     "messages.1.content.0: Invalid `signature` in `thinking` block"),
    ("trailing whitespace prefill", anthropic_body(messages=msgs(("user", "hi"), ("assistant", "Sure "))),
     "messages: final assistant content cannot end with trailing whitespace"),
    ("extra top-level", anthropic_body(xyz=1), "xyz: Extra inputs are not permitted"),
    ("openai key", anthropic_body(frequency_penalty=0.5), "frequency_penalty: Extra inputs are not permitted"),
    ("system number", anthropic_body(system=5), "system: Input should be a valid list"),
    ("system block type", anthropic_body(system=[{"type": "image", "text": "x"}]), "system.0.type: Input should be "
                                                                                   "'text'"),
    ("temperature high", anthropic_body(temperature=1.5), "temperature: Input should be less than or equal to 1"),
    ("temperature low", anthropic_body(temperature=-0.5), "temperature: Input should be greater than or equal to 0"),
    ("top_p high", anthropic_body(top_p=2), "top_p: Input should be less than or equal to 1"),
    ("top_k negative", anthropic_body(top_k=-1), "top_k: Input should be greater than or equal to 0"),
    ("stream string", anthropic_body(stream="yes"), "stream: Input should be a valid boolean"),
    ("stop_sequences string", anthropic_body(stop_sequences="END"), "stop_sequences: Input should be a valid list"),
    ("stop_sequences blank", anthropic_body(stop_sequences=["  "]), "stop_sequences: each stop sequence must "
                                                                    "contain non-whitespace"),
    ("metadata extra", anthropic_body(metadata={"user_id": "u", "session": "s"}),
     "metadata.session: Extra inputs are not permitted"),
    ("tools not list", anthropic_body(tools={}), "tools: Input should be a valid list"),
    ("tool bad name", anthropic_body(tools=[dict(WEATHER, name="get weather")]),
     "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'"),
    ("tool no schema", anthropic_body(tools=[{"name": "f"}]), "tools.0.custom.input_schema: Field required"),
    ("tool schema not object", anthropic_body(tools=[{"name": "f", "input_schema": {"type": "string"}}]),
     "tools.0.custom.input_schema.type: Input should be 'object'"),
    ("tool openai shape", anthropic_body(tools=[{"type": "function", "function": {"name": "f"}}]),
     "tools.0: Input tag 'function' found using 'type'"),
    ("tool extra key", anthropic_body(tools=[dict(WEATHER, parameters={})]),
     "tools.0.custom.parameters: Extra inputs are not permitted"),
    ("duplicate tools", anthropic_body(tools=[WEATHER, WEATHER]), "tools: Tool names must be unique."),
    ("tool_choice string", anthropic_body(tools=[WEATHER], tool_choice="auto"),
     "tool_choice: Input should be a valid dictionary"),
    ("tool_choice bad type", anthropic_body(tools=[WEATHER], tool_choice={"type": "required"}),
     "tool_choice: Input tag 'required' found using 'type' does not match any of the expected tags: 'auto', 'any', "
     "'tool', 'none'"),
    ("tool_choice unknown tool", anthropic_body(tools=[WEATHER], tool_choice={"type": "tool", "name": "nope"}),
     "tool_choice: tool `nope` was not found in `tools`"),
    ("tool_choice tool without name", anthropic_body(tools=[WEATHER], tool_choice={"type": "tool"}),
     "tool_choice.tool.name: Field required"),
    ("tool_choice any without tools", anthropic_body(tool_choice={"type": "any"}), "tool_choice: "),
    ("thinking bad type", anthropic_body(thinking={"type": "on"}),
     "thinking: Input tag 'on' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', "
     "'adaptive'"),
    ("thinking no budget", anthropic_body(thinking={"type": "enabled"}), "thinking.enabled.budget_tokens: Field "
                                                                         "required"),
    ("thinking small budget", anthropic_body(thinking={"type": "enabled", "budget_tokens": 512}),
     "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"),
    ("thinking budget >= max_tokens", anthropic_body(max_tokens=2000, thinking={"type": "enabled",
                                                                                "budget_tokens": 2000}),
     "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at "
     "https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"),
    ("thinking with temperature", anthropic_body(max_tokens=4000, temperature=0.2,
                                                 thinking={"type": "enabled", "budget_tokens": 1024}),
     "`temperature` may only be set to 1 when thinking is enabled or in adaptive mode."),
    ("thinking forces tools", anthropic_body(max_tokens=4000, tools=[WEATHER], tool_choice={"type": "any"},
                                             thinking={"type": "enabled", "budget_tokens": 1024}),
     "Thinking may not be enabled when tool_choice forces tool use."),
    ("thinking dropped from history", anthropic_body(max_tokens=4000, tools=[WEATHER], messages=ROUND,
                                                     thinking={"type": "enabled", "budget_tokens": 1024}),
     "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` "
     "is enabled, a final `assistant` message must start with a thinking block"),
    ("output_config format type", anthropic_body(output_config={"format": {"type": "json_object"}}),
     "output_config.format: Input tag 'json_object' found using 'type' does not match any of the expected tags: "
     "'json_schema'"),
    ("output_config no schema", anthropic_body(output_config={"format": {"type": "json_schema"}}),
     "output_config.format.json_schema.schema: Field required"),
    ("output_config effort", anthropic_body(output_config={"effort": "extreme"}),
     "output_config.effort: Input should be 'low', 'medium', 'high' or 'max'"),
]


@pytest.mark.parametrize("name,body,message", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_requests_are_400(base, name, body, message):
    got = assert_error(anthropic(base, body), 400, "invalid_request_error")
    assert got.startswith(message), got


THINKING_ROUND = msgs(("user", "weather?"), ("assistant", [{"type": "thinking", "thinking": "I should call it.",
                                                            "signature": SIG}, TOOL_USE]), ("user", [TOOL_RESULT]))
VALID = [
    ("system string", anthropic_body(system="be brief")),
    ("system blocks", anthropic_body(system=[{"type": "text", "text": "be brief",
                                              "cache_control": {"type": "ephemeral"}}])),
    ("content blocks", anthropic_body(messages=msgs(("user", [{"type": "text", "text": "a"},
                                                              {"type": "text", "text": "b"}])))),
    ("image base64", anthropic_body(messages=msgs(("user", [{"type": "image", "source": {
        "type": "base64", "media_type": "image/png", "data": PNG}}, {"type": "text", "text": "what?"}])))),
    ("image url", anthropic_body(messages=msgs(("user", [{"type": "image", "source": {
        "type": "url", "url": "https://example.com/a.png"}}])))),
    ("pdf document", anthropic_body(messages=msgs(("user", [{"type": "document", "source": {
        "type": "base64", "media_type": "application/pdf", "data": PNG}}, {"type": "text", "text": "sum"}])))),
    ("tool round trip", anthropic_body(tools=[WEATHER], messages=ROUND)),
    ("tool_result blocks", anthropic_body(tools=[WEATHER], messages=ROUND[:2] + msgs(("user", [
        dict(TOOL_RESULT, content=[{"type": "text", "text": "sunny"}], is_error=False)])))),
    ("thinking round trip", anthropic_body(max_tokens=4000, tools=[WEATHER], messages=THINKING_ROUND,
                                           thinking={"type": "enabled", "budget_tokens": 1024})),
    ("thinking adaptive", anthropic_body(thinking={"type": "adaptive"}, temperature=1)),
    ("thinking disabled", anthropic_body(thinking={"type": "disabled"}, temperature=0.3)),
    ("prefill", anthropic_body(messages=msgs(("user", "hi"), ("assistant", "Sure")))),
    ("consecutive users", anthropic_body(messages=msgs(("user", "a"), ("user", "b")))),
    ("all parameters", anthropic_body(temperature=0, top_p=1, top_k=5, stop_sequences=["END"], stream=False,
                                      metadata={"user_id": "u-1"}, service_tier="auto",
                                      output_config={"effort": "low"})),
    ("server tool", anthropic_body(tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}])),
    ("tool_choice variants", anthropic_body(tools=[WEATHER, TIME], tool_choice={
        "type": "tool", "name": "get_time", "disable_parallel_tool_use": True})),
    ("tool_choice none without tools", anthropic_body(tool_choice={"type": "none"})),
    ("structured output", anthropic_body(output_config={"format": {"type": "json_schema", "schema": {
        "type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}}})),
]


@pytest.mark.parametrize("name,body", VALID, ids=[c[0] for c in VALID])
def test_valid_requests_pass(base, name, body):
    r = anthropic(base, body)
    assert r.status == 200, r.body


def test_recorded_requests_pass(base):
    """Every request body in the recorded Anthropic traffic passes the checks."""
    for path in glob.glob(os.path.join(FIXTURES_DIR, "anthropic", "*.json")):
        body = dict(json.load(open(path, encoding="utf-8"))["request"]["body"], stream=False)
        r = anthropic(base, body)
        assert r.status == 200, (os.path.basename(path), r.body)


# ---- answers ------------------------------------------------------------------------------------------------------------
def test_echo_message_shape(base):
    r = anthropic(base, anthropic_body(system="be brief"))
    assert r.status == 200 and r.header("content-type") == "application/json"
    assert int(r.header("content-length")) == len(r.body)
    obj = r.json()
    assert list(obj) == ["model", "id", "type", "role", "content", "stop_reason", "stop_sequence", "usage"]
    assert re.fullmatch(r"msg_01[A-Za-z0-9]{22}", obj["id"])
    assert (obj["model"], obj["type"], obj["role"]) == ("claude-sonnet-4-5", "message", "assistant")
    assert obj["content"] == [{"type": "text", "text": ECHO}]
    assert obj["stop_reason"] == "end_turn" and obj["stop_sequence"] is None
    assert obj["usage"] == {"input_tokens": 4, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                            "output_tokens": 4, "service_tier": "standard"}


def test_echo_uses_last_user_text_blocks(base):
    body = anthropic_body(messages=msgs(("user", "first"), ("assistant", "ok"), ("user", [
        {"type": "text", "text": "look at"}, {"type": "image", "source": {"type": "url", "url": "http://x/y.png"}},
        {"type": "text", "text": "this"}])))
    assert anthropic(base, body).json()["content"][0]["text"] == "You said: look at this"


def test_stream_event_sequence(base):
    r, events = stream(base)
    names = [n for n, _ in events]
    assert names == ["message_start", "content_block_start", "ping"] + ["content_block_delta"] * 4 + [
        "content_block_stop", "message_delta", "message_stop"]
    assert r.text.startswith("event: message_start\ndata: {")
    start = json.loads(events[0][1])["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["usage"]["output_tokens"] == 1
    assert json.loads(events[1][1]) == {"type": "content_block_start", "index": 0,
                                        "content_block": {"type": "text", "text": ""}}
    assert events[2][1] == '{"type": "ping"}'
    text, _, _, _, stop, usage = anthropic_stream(events)
    assert (text, stop, usage["output_tokens"], usage["input_tokens"]) == (ECHO, "end_turn", 4, 2)
    assert json.loads(events[-2][1])["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}


def test_tool_call(base):
    obj = anthropic(base, anthropic_body(tools=[WEATHER, TIME])).json()
    assert obj["stop_reason"] == "tool_use"
    [block] = obj["content"]
    assert block["type"] == "tool_use" and re.fullmatch(r"toolu_01[A-Za-z0-9]{22}", block["id"])
    assert block["name"] == "get_weather" and block["input"] == {"city": "Paris", "days": 42}
    assert obj["usage"]["output_tokens"] > 0


def test_tool_call_streamed(base):
    r, events = stream(base, tools=[WEATHER])
    text, _, _, calls, stop, _ = anthropic_stream(events)
    assert text == "" and stop == "tool_use"
    assert [c["name"] for c in calls] == ["get_weather"] and calls[0]["input"] == {"city": "Paris", "days": 42}
    starts = [json.loads(d) for n, d in events if n == "content_block_start"]
    assert starts[0]["content_block"] == {"type": "tool_use", "id": calls[0]["id"], "name": "get_weather",
                                          "input": {}}
    deltas = [json.loads(d)["delta"] for n, d in events if n == "content_block_delta"]
    assert deltas[0] == {"type": "input_json_delta", "partial_json": ""} and len(deltas) > 3


def test_tool_choice_rules(base):
    def names(**kw):
        obj = anthropic(base, anthropic_body(**kw)).json()
        return [b.get("name") or b["type"] for b in obj["content"]]
    assert names(model="parallel-x", tools=[WEATHER, TIME]) == ["get_weather", "get_time"]
    assert names(model="parallel-x", tools=[WEATHER, TIME], tool_choice={
        "type": "auto", "disable_parallel_tool_use": True}) == ["get_weather"]
    assert names(tools=[WEATHER, TIME], tool_choice={"type": "tool", "name": "get_time"}) == ["get_time"]
    assert names(tools=[WEATHER, TIME], tool_choice={"type": "any"}) == ["get_weather"]
    assert names(tools=[WEATHER], tool_choice={"type": "none"}) == ["text"]
    assert names(tools=[{"type": "web_search_20250305", "name": "web_search"}]) == ["text"]


def test_tool_result_answer(base):
    body = anthropic_body(model="parallel-x", tools=[WEATHER, TIME], messages=msgs(
        ("user", "weather?"),
        ("assistant", [{"type": "text", "text": "Checking."}, TOOL_USE, dict(TOOL_USE, id="toolu_2", name="get_time")]),
        ("user", [TOOL_RESULT, {"type": "tool_result", "tool_use_id": "toolu_2",
                                "content": [{"type": "text", "text": "noon"}]}])))
    obj = anthropic(base, body).json()
    assert obj["content"] == [{"type": "text", "text": "Tool results: sunny; noon"}]
    assert obj["stop_reason"] == "end_turn"


def test_reasoning_model_thinks_first(base):
    obj = anthropic(base, anthropic_body("reasoning")).json()
    thinking, text = obj["content"]
    assert thinking["type"] == "thinking" and thinking["thinking"].startswith("Let me think")
    base64.b64decode(thinking["signature"], validate=True)
    assert text == {"type": "text", "text": ECHO}
    _, events = stream(base, "reasoning")
    streamed_text, streamed_thinking, sig, _, _, _ = anthropic_stream(events)
    assert streamed_thinking == thinking["thinking"] and streamed_text == ECHO and sig
    start = json.loads(events[1][1])
    assert start["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    kinds = [json.loads(d)["delta"]["type"] for n, d in events if n == "content_block_delta"]
    assert kinds.index("signature_delta") == len([k for k in kinds if k == "thinking_delta"])


def test_thinking_enabled_thinks_and_disabled_does_not(base):
    obj = anthropic(base, anthropic_body(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 1024})).json()
    assert [b["type"] for b in obj["content"]] == ["thinking", "text"]
    obj = anthropic(base, anthropic_body("reasoning", thinking={"type": "disabled"})).json()
    assert [b["type"] for b in obj["content"]] == ["text"]


def test_thinking_tool_round_trip_with_returned_blocks(base):
    first = anthropic(base, anthropic_body(max_tokens=4000, tools=[WEATHER],
                                           thinking={"type": "enabled", "budget_tokens": 1024})).json()
    assert [b["type"] for b in first["content"]] == ["thinking", "tool_use"]
    call = first["content"][1]
    history = user("hello there") + [{"role": "assistant", "content": first["content"]},
                                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"],
                                                                   "content": "sunny"}]}]
    r = anthropic(base, anthropic_body(max_tokens=4000, tools=[WEATHER], messages=history,
                                       thinking={"type": "enabled", "budget_tokens": 1024}))
    assert r.status == 200, r.body
    assert r.json()["content"][-1]["text"] == "Tool results: sunny"


def test_structured_output(base):
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    body = {"output_config": {"format": {"type": "json_schema", "schema": schema}}}
    obj = anthropic(base, anthropic_body(**body)).json()
    assert json.loads(obj["content"][0]["text"]) == {"name": "Paris", "age": 42}
    _, events = stream(base, **body)
    text = anthropic_stream(events)[0]
    assert json.loads(text) == {"name": "Paris", "age": 42}
    assert len([n for n, _ in events if n == "content_block_delta"]) > 1


def test_stop_sequences(base):
    obj = anthropic(base, anthropic_body(text="one two three", stop_sequences=["two", "zzz"])).json()
    assert obj["content"] == [{"type": "text", "text": "You said: one "}]
    assert (obj["stop_reason"], obj["stop_sequence"]) == ("stop_sequence", "two")
    _, events = stream(base, text="one two three", stop_sequences=["three"])
    assert json.loads(events[-2][1])["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "three"}


def test_max_tokens_cuts_the_answer(base):
    obj = anthropic(base, anthropic_body("long-10", max_tokens=3)).json()
    assert obj["content"][0]["text"] == "tok0 tok1 tok2 " and obj["stop_reason"] == "max_tokens"
    obj = anthropic(base, anthropic_body("length")).json()
    assert obj["content"][0]["text"] == "truncated" and obj["stop_reason"] == "max_tokens"


def test_long_n_streams_one_delta_per_word(base):
    _, events = stream(base, "long-30")
    assert len([n for n, _ in events if n == "content_block_delta"]) == 30
    assert anthropic_stream(events)[0] == " ".join("tok%d" % i for i in range(30))


def test_slow_and_stall(base):
    t0 = time.monotonic()
    _, events = stream(base, "slow-3-100")
    assert time.monotonic() - t0 >= 0.18 and anthropic_stream(events)[0] == "tok0 tok1 tok2"
    t0 = time.monotonic()
    assert anthropic(base, anthropic_body("stall-250")).status == 200
    assert time.monotonic() - t0 >= 0.23
    with socket.create_connection(hostport(base), timeout=5) as s:
        s.sendall(raw_request_bytes(base, anthropic_body("stall-300", stream=True), path="/v1/messages", key=None,
                                    extra_headers=["x-api-key: " + KEY, "anthropic-version: 2023-06-01"]))
        head = b""
        while b"message_start" not in head:
            head += s.recv(65536)
        t_first = time.monotonic()
        rest = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            rest += piece
        assert time.monotonic() - t_first >= 0.25 and b"message_stop" in rest


def test_drop_after_n(base):
    r = anthropic_raw(base, anthropic_body("drop-after-3", stream=True))
    assert r.status == 200 and not r.complete
    events = sse_events(r.body.decode())
    deltas = [json.loads(d)["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert deltas == ["tok0 ", "tok1 ", "tok2 "]
    assert "message_stop" not in [n for n, _ in events]
    raw, _ = raw_exchange(base, raw_request_bytes(base, anthropic_body("drop-after-3"), path="/v1/messages",
                                                  key=None, extra_headers=["x-api-key: " + KEY,
                                                                           "anthropic-version: 2023-06-01"]))
    r = RawResponse(raw)
    assert 0 < len(r.body) < int(r.headers["content-length"])


def test_garbage(base):
    r = anthropic(base, anthropic_body("garbage"))
    assert r.status == 200 and r.body == b"<<<this is not json>>>"
    r = anthropic(base, anthropic_body("garbage", stream=True))
    assert r.body.startswith(b"event: message_start\ndata: {not json\n\n")


def test_split_utf8(base):
    r = anthropic_raw(base, anthropic_body("split-utf8", stream=True))
    assert r.complete and all(len(c) == 1 for c in r.chunks)
    assert anthropic_stream(sse_events(r.body.decode("utf-8")))[0] == "héllo wörld — 你好 👋 ok"
    assert anthropic(base, anthropic_body("split-utf8")).json()["content"][0]["text"] == "héllo wörld — 你好 👋 ok"


def test_error_event(base):
    r = anthropic_raw(base, anthropic_body("error-event", stream=True))
    assert r.status == 200 and r.complete
    events = sse_events(r.body.decode())
    assert [json.loads(d)["delta"]["text"] for n, d in events if n == "content_block_delta"] == ["You ", "said: "]
    assert events[-1] == ("error", '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')
    assert r.body.endswith(b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
                           b'"message":"Overloaded"}}\n\n')
    assert anthropic(base, anthropic_body("error-event")).json()["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize("status,type_", [
    (400, "invalid_request_error"), (401, "authentication_error"), (402, "billing_error"),
    (403, "permission_error"), (404, "not_found_error"), (413, "request_too_large"), (429, "rate_limit_error"),
    (500, "api_error"), (504, "timeout_error"), (529, "overloaded_error"), (418, "invalid_request_error"),
    (503, "api_error")])
@pytest.mark.parametrize("streamed", [False, True])
def test_status_models(base, status, type_, streamed):
    r = anthropic(base, anthropic_body("status-%d" % status, stream=streamed))
    message = assert_error(r, status, type_)
    if status == 404:
        assert message == "model: status-404"
    if status == 529:
        assert message == "Overloaded"
    if status == 429:
        assert r.header("retry-after") == "2" and r.header("anthropic-ratelimit-requests-remaining") == "0"


def test_retry_after_date(base):
    r = anthropic(base, anthropic_body("retry-after-date"))
    assert_error(r, 429, "rate_limit_error")
    when = email.utils.parsedate_to_datetime(r.header("retry-after")).timestamp()
    assert 1.0 <= when - time.time() <= 4.0


def test_context_length_and_quota(base):
    assert_error(anthropic(base, anthropic_body("context-length")), 400, "invalid_request_error",
                 "prompt is too long: 210000 tokens > 200000 maximum")
    assert_error(anthropic(base, anthropic_body("quota")), 400, "invalid_request_error",
                 "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
                 "upgrade or purchase credits.")


def test_content_filter_is_a_refusal(base):
    obj = anthropic(base, anthropic_body("content-filter")).json()
    assert obj["stop_reason"] == "refusal" and obj["content"] == [{"type": "text", "text": "You "}]
    _, events = stream(base, "content-filter")
    assert anthropic_stream(events)[4] == "refusal"


def test_html_404_and_flaky(base):
    r = anthropic(base, anthropic_body("html-404", stream=True))
    assert r.status == 404 and r.header("content-type") == "text/html"
    model = "flaky-1-" + uuid.uuid4().hex[:8]
    assert_error(anthropic(base, anthropic_body(model)), 500, "api_error", "Internal server error")
    assert anthropic(base, anthropic_body(model)).status == 200


@pytest.mark.parametrize("model", ["sse-crlf", "sse-cr", "sse-quirks"])
def test_sse_framings_parse_the_same(base, model):
    _, plain = stream(base)
    r, events = stream(base, model)
    if model == "sse-cr":
        assert "\n" not in r.text
    if model == "sse-quirks":
        assert ": keep-alive" in r.text and "event:content_block_delta" in r.text
    assert [n for n, _ in events] == [n for n, _ in plain]
    assert anthropic_stream(events)[0] == ECHO


# ---- replay -------------------------------------------------------------------------------------------------------------
ANTHROPIC_FIXTURES = sorted(glob.glob(os.path.join(FIXTURES_DIR, "anthropic", "*.json")))


@pytest.mark.parametrize("path", ANTHROPIC_FIXTURES, ids=[os.path.basename(p)[:-5] for p in ANTHROPIC_FIXTURES])
def test_replay_anthropic_fixture(base, path):
    fx = json.load(open(path, encoding="utf-8"))
    name = os.path.basename(path)[:-5]
    r = anthropic_raw(base, anthropic_body("replay:" + name, stream=True))
    assert r.status == fx["response"]["status"]
    assert r.headers["content-type"] == fx["response"]["content_type"]
    assert r.body == fixture_mod.body_bytes(fx)
    assert r.complete and len(r.chunks) == len(fixture_mod.split_events(r.body))
    assert r.headers["request-id"].startswith("req_")


def test_replay_unknown(base):
    assert_error(anthropic(base, anthropic_body("replay:nope")), 404, "not_found_error", "model: replay:nope")


def test_last_request_redacts_x_api_key(base):
    secret = "sk-ant-very-secret-0987"
    anthropic(base, anthropic_body(), headers={"x-api-key": secret})
    r = request(base, "GET", "/_emulator/last_request", key=None)
    assert secret.encode() not in r.body
    rec = r.json()
    assert rec["path"] == "/v1/messages" and rec["headers"]["x-api-key"] == "<redacted:%d chars>" % len(secret)
    assert rec["headers"]["anthropic-version"] == "2023-06-01" and rec["body"]["model"] == "claude-sonnet-4-5"
