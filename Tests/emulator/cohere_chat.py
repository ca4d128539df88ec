"""Cohere Chat API v2 (`POST /v2/chat`): auth, checks, and rendering of a script.Plan.

Flow of one request: bearer token -> Content-Type -> JSON -> cohere_validate -> script.plan() -> render (a chat
response object, or a stream of typed events: SSE with `event:` lines when the client accepts
text/event-stream, else one JSON object per line).
"""

import json
import random
import string
import uuid

import cohere_validate as v
import faults
import fixtures
import script
import sse

JSON = "application/json"
EVENT_STREAM = "text/event-stream"
JSON_LINES = "application/stream+json"
HTML_404 = b"<html><body><h1>404 Not Found</h1></body></html>"
LOWER_ALNUM = string.ascii_lowercase + string.digits

NO_KEY = "no api key supplied"
BAD_KEY = "invalid api token"
NO_PERMISSION = "You do not have permission to access this resource."
RATE_LIMITED = ("You are using a Trial key, which is limited to 20 API calls / minute. You can continue to use the "
                "Trial key for free or upgrade to a Production key with higher rate limits at "
                "'https://dashboard.cohere.com/api-keys'.")
PAYMENT = "Please add or update your payment method at https://dashboard.cohere.com/billing to continue"
TOO_MANY_TOKENS = ("too many tokens: size limit exceeded by 11326 tokens. Try using shorter or fewer inputs, or "
                   "setting prompt_truncation='AUTO'.")
INTERNAL = "internal server error, this has been reported to our developers"
STREAM_ERROR = "an internal error occurred while generating the response"


def error(ex, status, message, headers=()):
    ex.send_json(status, {"id": str(uuid.uuid4()), "message": message}, list(headers), pretty=False)


def tool_call_id(name):
    return "%s_%s" % (name, "".join(random.choice(LOWER_ALNUM) for _ in range(12)))


# ---- request -> Conversation ----------------------------------------------------------------------------------------
def conversation(body):
    msgs = [script.Message(m["role"], v.text_of(m.get("content"))) for m in body["messages"]]
    tools = [script.Tool(t["function"]["name"], t["function"].get("parameters")) for t in body.get("tools") or []]
    choice = body.get("tool_choice")
    rf = body.get("response_format") or {}
    json_object = rf.get("type") == "json_object"
    thinking = body.get("thinking") or {}
    return script.Conversation(
        model=body["model"], messages=msgs, tools=tools,
        tool_choice={"REQUIRED": "required", "NONE": "none"}.get(choice, "auto"),
        stream=body.get("stream") is True,
        reasoning={"enabled": True, "disabled": False}.get(thinking.get("type")),
        json_schema=rf.get("json_schema") if json_object else None,
        json_mode=json_object and rf.get("json_schema") is None,
        stop=body.get("stop_sequences"), max_output=body.get("max_tokens"), content_filter_error=False)


# ---- Plan -> wire ------------------------------------------------------------------------------------------------------
FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "TOOL_CALL", "content_filter": "COMPLETE"}


def finish_reason(plan):
    if plan.finish == "stop" and plan.stop_sequence is not None:
        return "STOP_SEQUENCE"
    return FINISH[plan.finish]


def tool_plan(plan):
    """The text Cohere writes before its tool calls."""
    if not plan.tool_calls:
        return ""
    return "I will use %s to answer this." % " and ".join(c.name for c in plan.tool_calls)


def usage(plan):
    out = plan.completion_tokens + script.words(tool_plan(plan))
    return {"billed_units": {"input_tokens": plan.prompt_tokens, "output_tokens": out},
            "tokens": {"input_tokens": plan.prompt_tokens, "output_tokens": out}}


def calls_of(plan):
    return [{"id": tool_call_id(c.name), "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in plan.tool_calls]


def response_obj(plan, rid, calls, finish=None):
    message = {"role": "assistant"}
    if calls:
        message["tool_plan"] = tool_plan(plan)
        message["tool_calls"] = calls
    content = []
    if plan.reasoning:
        content.append({"type": "thinking", "thinking": "".join(plan.reasoning)})
    if plan.content is not None and (plan.text or not calls):
        content.append({"type": "text", "text": plan.text})
    if content:
        message["content"] = content
    return {"id": rid, "message": message, "finish_reason": finish or finish_reason(plan), "usage": usage(plan)}


def fragments(text, size=6):
    return [text[i:i + size] for i in range(0, len(text), size)]


def stream_events(plan, rid, calls):
    """[(payload, tag)] in answer order. Tags for faults.write_events: "head" (never cut), "body" (counted
    pieces), "mid" (block boundaries: cut but not counted), "tail" (message-end)."""
    start = {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}
    out = [({"id": rid, "type": "message-start", "delta": start}, "head")]
    index = 0
    if plan.reasoning:
        out.append(({"type": "content-start", "index": index,
                     "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}}, "head"))
        out += [({"type": "content-delta", "index": index, "delta": {"message": {"content": {"thinking": piece}}}},
                 "body") for piece in plan.reasoning]
        out.append(({"type": "content-end", "index": index}, "mid"))
        index += 1
    if calls:
        out += [({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": piece}}}, "body")
                for piece in script.pieces(tool_plan(plan))]
        for i, c in enumerate(calls):
            first = {"id": c["id"], "type": "function", "function": {"name": c["function"]["name"], "arguments": ""}}
            out.append(({"type": "tool-call-start", "index": i, "delta": {"message": {"tool_calls": first}}}, "mid"))
            out += [({"type": "tool-call-delta", "index": i,
                      "delta": {"message": {"tool_calls": {"function": {"arguments": f}}}}}, "body")
                    for f in fragments(c["function"]["arguments"])]
            out.append(({"type": "tool-call-end", "index": i}, "mid"))
    if plan.content is not None and (plan.text or not calls):
        out.append(({"type": "content-start", "index": index,
                     "delta": {"message": {"content": {"type": "text", "text": ""}}}}, "head" if index == 0 else "mid"))
        out += [({"type": "content-delta", "index": index, "delta": {"message": {"content": {"text": piece}}}},
                 "body") for piece in plan.content]
        out.append(({"type": "content-end", "index": index}, "mid"))
    out.append(({"type": "message-end", "delta": {"finish_reason": finish_reason(plan), "usage": usage(plan)}},
                "tail"))
    return out


def frame(items, plan, as_sse):
    """SSE with `event:` names (the plan's framing), or one JSON object per line."""
    if as_sse:
        names = [p["type"] if isinstance(p, dict) else "message-start" for p, _ in items]
        return sse.frame(items, plan.framing, names)
    return [((p if isinstance(p, str) else sse.dumps(p)).encode("utf-8") + b"\n", tag) for p, tag in items]


STATUS_ERRORS = {
    400: "invalid request: scripted HTTP 400 from the emulator",
    401: BAD_KEY,
    402: PAYMENT,
    403: NO_PERMISSION,
    422: "invalid request: the request could not be processed",
    429: RATE_LIMITED,
    498: "invalid api token",
    499: "request cancelled by the user",
    500: INTERNAL,
    503: "service unavailable, please try again later",
    504: "the request timed out",
}


def send_failure(ex, f, model):
    if f.kind == "html_404":
        return ex.send(404, HTML_404, "text/html")
    if f.kind == "context_length":
        return error(ex, 400, TOO_MANY_TOKENS)
    if f.kind == "quota":
        return error(ex, 402, PAYMENT)
    if f.kind == "flaky":
        return error(ex, 500, INTERNAL)
    if f.kind == "rate_limit":
        return error(ex, 429, RATE_LIMITED, [faults.retry_after_header(f)])
    n = f.status
    if n == 404:
        return error(ex, 404, "model '%s' not found, make sure the correct model ID was used and that you have "
                              "access to the model." % model)
    message = STATUS_ERRORS.get(n, "request failed with HTTP %d (scripted by the emulator)" % n)
    return error(ex, n, message, [("Retry-After", "2")] if n == 429 else ())


def render(ex, plan, stream, as_sse):
    if plan.replay is not None:
        fx = fixtures.find(ex.server.fixtures_dir, plan.replay)
        if fx is None:
            return send_failure(ex, script.Failure("status", 404), "replay:" + plan.replay)
        return fixtures.replay(ex, fx)
    if faults.transport_fault(ex, plan):
        return
    if plan.failure is not None:
        return send_failure(ex, plan.failure, plan.model)

    rid = str(uuid.uuid4())
    calls = calls_of(plan)
    headers = []
    if not stream:
        faults.stall(plan.delay_before_ms)
        if plan.garbage:
            return ex.send(200, faults.GARBAGE, JSON, headers)
        obj = response_obj(plan, rid, calls, "ERROR" if plan.error_event else None)
        return faults.send_body(ex, 200, sse.dumps(obj), JSON, headers, plan)

    ex.set_nodelay()
    ex.start_stream(200, EVENT_STREAM if as_sse else JSON_LINES, headers + [("Cache-Control", "no-cache")])
    if plan.garbage:
        end = {"type": "message-end", "delta": {"finish_reason": "COMPLETE"}}
        for data, _ in frame([("{not json", "body"), (end, "tail")], plan, as_sse):
            ex.write(data)
        return ex.end_stream()
    events = frame(stream_events(plan, rid, calls), plan, as_sse)
    failed = {"type": "message-end", "delta": {"error": STREAM_ERROR, "finish_reason": "ERROR", "usage": usage(plan)}}
    interrupt = frame([(failed, "tail")], plan, as_sse)[0][0]
    faults.stream_with_faults(ex, events, plan, interrupt)


# ---- handler --------------------------------------------------------------------------------------------------------------
def chat(ex):
    auth = (ex.header("Authorization") or "").strip()
    key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not key:
        return error(ex, 401, NO_KEY)
    if key.startswith("sk-bad"):
        return error(ex, 401, BAD_KEY)
    if key.startswith("sk-noperm"):
        return error(ex, 403, NO_PERMISSION)
    ctype = (ex.header("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        return error(ex, 400, "invalid request: Content-Type must be application/json")
    try:
        body = json.loads(ex.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return error(ex, 400, "invalid request: could not parse the request body as JSON")
    if not isinstance(body, dict):
        return error(ex, 400, "invalid request: the request body must be a JSON object")
    try:
        v.validate(body)
    except v.Invalid as e:
        return error(ex, e.status, e.message)
    conv = conversation(body)
    as_sse = "text/event-stream" in (ex.header("Accept") or "").lower()
    render(ex, script.plan(conv), conv.stream, as_sse)


ROUTES = [("POST", r"^/v2/chat$", chat)]
