"""Anthropic Messages API (`POST /v1/messages`): auth, checks, and rendering of a script.Plan.

Flow of one request: x-api-key -> anthropic-version -> Content-Type -> size -> JSON -> anthropic_validate ->
script.plan() -> render (a `message` object, or `event: ...` SSE with message_start / content_block_* /
message_delta / message_stop).
"""

import base64
import email.utils
import json
import os
import random
import string
import time

import anthropic_validate as v
import faults
import fixtures
import script
import sse

JSON = "application/json"
EVENT_STREAM = "text/event-stream; charset=utf-8"
VERSIONS = ("2023-06-01", "2023-01-01")
MAX_BODY = 32 * 1024 * 1024          # the Messages API's request size limit (413 request_too_large above it)
ALNUM = string.ascii_letters + string.digits

MISSING_KEY = "x-api-key header is required"
BAD_KEY = "invalid x-api-key"
NO_PERMISSION = "Your API key does not have permission to use the specified resource."
RATE_LIMITED = ("Number of request tokens has exceeded your per-minute rate limit "
                "(https://docs.claude.com/en/api/rate-limits); see the response headers for current usage. Please "
                "reduce the prompt length or the maximum tokens requested, or try again later. You may also contact "
                "sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.")
CREDIT = ("Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or "
          "purchase credits.")
HTML_404 = b"<html><body><h1>404 Not Found</h1></body></html>"


def _rand(n, alphabet=ALNUM):
    return "".join(random.choice(alphabet) for _ in range(n))


def message_id():
    return "msg_01" + _rand(22)


def tool_use_id():
    return "toolu_01" + _rand(22)


def request_id():
    return "req_011C" + _rand(20)


def signature():
    """An opaque, base64 thinking signature (the real ones are base64 too; the checks require base64)."""
    return base64.b64encode(b"anyllm-emulator-signature:" + os.urandom(48)).decode()


class Reply:
    """Per-request answer state: one request id shared by the header and any error body."""

    def __init__(self, ex):
        self.ex = ex
        self.request_id = request_id()

    def headers(self, rate_limited=False, extra=()):
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
        left = "0" if rate_limited else "3999"
        hs = [("request-id", self.request_id),
              ("anthropic-organization-id", "00000000-0000-4000-8000-0000000e0001"),
              ("anthropic-ratelimit-requests-limit", "4000"),
              ("anthropic-ratelimit-requests-remaining", left),
              ("anthropic-ratelimit-requests-reset", reset),
              ("anthropic-ratelimit-tokens-limit", "2000000"),
              ("anthropic-ratelimit-tokens-remaining", "0" if rate_limited else "1999000"),
              ("anthropic-ratelimit-tokens-reset", reset),
              ("anthropic-ratelimit-input-tokens-limit", "1600000"),
              ("anthropic-ratelimit-input-tokens-remaining", "0" if rate_limited else "1599000"),
              ("anthropic-ratelimit-input-tokens-reset", reset),
              ("anthropic-ratelimit-output-tokens-limit", "400000"),
              ("anthropic-ratelimit-output-tokens-remaining", "0" if rate_limited else "399000"),
              ("anthropic-ratelimit-output-tokens-reset", reset)]
        return hs + list(extra)

    def error(self, status, type_, message, extra=()):
        body = {"type": "error", "error": {"type": type_, "message": message}, "request_id": self.request_id}
        self.ex.send_json(status, body, self.headers(status == 429, extra), pretty=False)


# ---- request -> Conversation ----------------------------------------------------------------------------------------
def _text(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def conversation(body, info):
    msgs = []
    system = body.get("system")
    if system:
        msgs.append(script.Message("system", _text(system)))
    for m in body["messages"]:
        content = m["content"]
        results = [b for b in content if b.get("type") == "tool_result"] if isinstance(content, list) else []
        text = _text(content)
        if m["role"] == "user" and results:
            if text:
                msgs.append(script.Message("user", text))
            msgs += [script.Message("tool", _text(b.get("content") or "")) for b in results]
        else:
            msgs.append(script.Message(m["role"], text))
    tools = [script.Tool(t["name"], t.get("input_schema")) for t in body.get("tools") or []
             if t.get("type") in (None, "custom")]            # server tools (web search, ...) are never called
    choice = body.get("tool_choice") or {}
    mode = {"auto": "auto", "any": "required", "tool": "named", "none": "none"}.get(choice.get("type"), "auto")
    thinking = body.get("thinking") or {}
    return script.Conversation(
        model=body["model"], messages=msgs, tools=tools, tool_choice=mode, tool_name=choice.get("name"),
        parallel_tool_calls=not choice.get("disable_parallel_tool_use", False), stream=body.get("stream") is True,
        reasoning=True if info["thinking"] else (False if thinking.get("type") == "disabled" else None),
        json_schema=info["schema"], stop=body.get("stop_sequences"), max_output=body["max_tokens"],
        content_filter_error=False)


# ---- Plan -> wire -------------------------------------------------------------------------------------------------------
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def stop_reason(plan):
    if plan.finish == "stop" and plan.stop_sequence is not None:
        return "stop_sequence"
    return STOP_REASONS[plan.finish]


def usage(plan, output_tokens, full=True):
    """full: the message's usage (non-streamed, message_start); else the shorter one of message_delta."""
    u = {"input_tokens": plan.prompt_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    if full:
        u["cache_creation"] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    u["output_tokens"] = output_tokens
    if full:
        u["service_tier"] = "standard"
    return u


def blocks(plan):
    """[(kind, data)] content blocks in answer order: thinking, text, tool_use."""
    out = []
    if plan.reasoning:
        out.append(("thinking", {"thinking": "".join(plan.reasoning), "signature": signature()}))
    if plan.content is not None and (plan.text or not plan.tool_calls):
        out.append(("text", {"text": plan.text}))
    for call in plan.tool_calls:
        out.append(("tool_use", {"id": tool_use_id(), "name": call.name, "input": json.loads(call.arguments)}))
    return out


def message_obj(plan, mid):
    content = []
    for kind, data in blocks(plan):
        if kind == "thinking":
            content.append({"type": "thinking", "thinking": data["thinking"], "signature": data["signature"]})
        elif kind == "text":
            content.append({"type": "text", "text": data["text"]})
        else:
            content.append({"type": "tool_use", "id": data["id"], "name": data["name"], "input": data["input"]})
    return {"model": plan.model, "id": mid, "type": "message", "role": "assistant", "content": content,
            "stop_reason": stop_reason(plan), "stop_sequence": plan.stop_sequence,
            "usage": usage(plan, plan.completion_tokens)}


def fragments(text, size=8):
    return [text[i:i + size] for i in range(0, len(text), size)]


def stream_payloads(plan, mid):
    """[(payload, tag, event name)]. Tags for faults.write_events: "head" (never cut), "body" (the pieces the
    faults count), "mid" (block boundaries: cut like body events but not counted), "tail" (the finish)."""
    start = {"model": plan.model, "id": mid, "type": "message", "role": "assistant", "content": [],
             "stop_reason": None, "stop_sequence": None, "usage": usage(plan, 1)}
    out = [({"type": "message_start", "message": start}, "head", "message_start")]
    for index, (kind, data) in enumerate(blocks(plan)):
        if kind == "thinking":
            block = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": piece} for piece in plan.reasoning]
            deltas.append({"type": "signature_delta", "signature": data["signature"]})
        elif kind == "text":
            block = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in plan.content]
        else:
            block = {"type": "tool_use", "id": data["id"], "name": data["name"], "input": {}}
            spaced = json.dumps(data["input"], ensure_ascii=False) if data["input"] else ""
            deltas = [{"type": "input_json_delta", "partial_json": ""}]
            deltas += [{"type": "input_json_delta", "partial_json": f} for f in fragments(spaced)]
        out.append(({"type": "content_block_start", "index": index, "content_block": block},
                    "head" if index == 0 else "mid", "content_block_start"))
        if index == 0:
            out.append(('{"type": "ping"}', "head", "ping"))          # as sent by the real API (with the space)
        out += [({"type": "content_block_delta", "index": index, "delta": d}, "body", "content_block_delta")
                for d in deltas]
        out.append(({"type": "content_block_stop", "index": index}, "mid", "content_block_stop"))
    out.append(({"type": "message_delta", "delta": {"stop_reason": stop_reason(plan),
                                                   "stop_sequence": plan.stop_sequence},
                 "usage": usage(plan, plan.completion_tokens, full=False)}, "tail", "message_delta"))
    out.append(({"type": "message_stop"}, "tail", "message_stop"))
    return out


OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

STATUS_ERRORS = {
    400: ("invalid_request_error", "Invalid request (scripted HTTP 400 from the emulator)."),
    401: ("authentication_error", BAD_KEY),
    402: ("billing_error", CREDIT),
    403: ("permission_error", NO_PERMISSION),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", RATE_LIMITED),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}


def send_failure(reply, f, model):
    ex = reply.ex
    if f.kind == "html_404":
        return ex.send(404, HTML_404, "text/html", reply.headers())
    if f.kind == "context_length":
        return reply.error(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum")
    if f.kind == "quota":
        return reply.error(400, "invalid_request_error", CREDIT)
    if f.kind == "flaky":
        return reply.error(500, "api_error", "Internal server error")
    if f.kind == "rate_limit":
        return reply.error(429, "rate_limit_error", RATE_LIMITED,
                           [faults.retry_after_header(f)])
    n = f.status
    if n == 404:
        return reply.error(404, "not_found_error", "model: %s" % model)
    type_, message = STATUS_ERRORS.get(n, ("invalid_request_error" if n < 500 else "api_error",
                                           "Request failed with HTTP %d (scripted by the emulator)." % n))
    return reply.error(n, type_, message, [("retry-after", "2")] if n == 429 else ())


def render(reply, plan, stream):
    ex = reply.ex
    if plan.replay is not None:
        fx = fixtures.find(ex.server.fixtures_dir, plan.replay)
        if fx is None:
            return reply.error(404, "not_found_error", "model: replay:%s" % plan.replay)
        return fixtures.replay(ex, fx, reply.headers())
    if faults.transport_fault(ex, plan):
        return
    if plan.failure is not None:
        return send_failure(reply, plan.failure, plan.model)

    mid = message_id()
    headers = reply.headers()
    if not stream:
        faults.stall(plan.delay_before_ms)
        if plan.garbage:
            return ex.send(200, faults.GARBAGE, JSON, headers)
        obj = OVERLOADED if plan.error_event else message_obj(plan, mid)
        return faults.send_body(ex, 200, sse.dumps(obj), JSON, headers, plan)

    ex.set_nodelay()
    ex.start_stream(200, EVENT_STREAM, headers + [("Cache-Control", "no-cache")])
    if plan.garbage:
        for data, _ in sse.frame([("{not json", "body"), ({"type": "message_stop"}, "tail")], plan.framing,
                                 ["message_start", "message_stop"]):
            ex.write(data)
        return ex.end_stream()
    items = stream_payloads(plan, mid)
    events = sse.frame([(p, tag) for p, tag, _ in items], plan.framing, [name for _, _, name in items])
    interrupt = sse.frame([(OVERLOADED, "body")], plan.framing, ["error"])[0][0]
    faults.stream_with_faults(ex, events, plan, interrupt)


# ---- handler --------------------------------------------------------------------------------------------------------------
def messages(ex):
    reply = Reply(ex)
    key = (ex.header("x-api-key") or "").strip()
    if not key:
        return reply.error(401, "authentication_error", MISSING_KEY)
    if key.startswith("sk-bad"):
        return reply.error(401, "authentication_error", BAD_KEY)
    if key.startswith("sk-noperm"):
        return reply.error(403, "permission_error", NO_PERMISSION)
    version = ex.header("anthropic-version")
    if version is None:
        return reply.error(400, "invalid_request_error", "anthropic-version: header is required")
    if version.strip() not in VERSIONS:
        return reply.error(400, "invalid_request_error", "anthropic-version: invalid version %s" % json.dumps(version))
    ctype = (ex.header("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        return reply.error(400, "invalid_request_error",
                           "Invalid content-type: %s. The Messages API only accepts application/json."
                           % json.dumps(ex.header("Content-Type") or ""))
    if len(ex.body) > MAX_BODY:
        return reply.error(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.")
    try:
        body = json.loads(ex.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return reply.error(400, "invalid_request_error", "Request body is not valid JSON: %s" % e)
    if not isinstance(body, dict):
        return reply.error(400, "invalid_request_error", "Input should be a valid dictionary or object to extract "
                                                         "fields from")
    try:
        info = v.validate(body)
    except v.Invalid as e:
        return reply.error(e.status, e.type, e.message)
    conv = conversation(body, info)
    render(reply, script.plan(conv), conv.stream)


ROUTES = [("POST", r"^/v1/messages$", messages)]
