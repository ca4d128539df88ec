"""Ollama's native chat API: `POST /api/chat` (NDJSON streams, streaming by default), plus `GET /api/tags`,
`GET /api/version` and `GET /` ("Ollama is running").

No auth (an Authorization header is ignored). Errors are `{"error": "..."}` with the status, as the Go server
writes them; JSON is Go-encoded (compact, `<`, `>`, `&` escaped as \\u003c, \\u003e, \\u0026).
"""

import email.utils
import json
import random
import string
import time

import faults
import fixtures
import ollama_validate as v
import script

JSON = "application/json; charset=utf-8"
NDJSON = "application/x-ndjson"
HTML_404 = b"<html><body><h1>404 Not Found</h1></body></html>"
VERSION = "0.12.6"
RUNNER_DIED = "llama runner process has terminated: exit status 2"
MID_STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"


def go_json(obj):
    """json.Marshal's output: compact, raw UTF-8, with the HTML-safe escapes Go adds inside strings."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def created_at():
    """RFC 3339 in UTC with nanoseconds, trailing zeros trimmed, as Go's time.Time marshals."""
    ns = time.time_ns()
    frac = ("%09d" % (ns % 1_000_000_000)).rstrip("0")
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + ("." + frac if frac else "") + "Z"


def send_error(ex, status, message, headers=()):
    ex.send(status, go_json({"error": message}), JSON, headers)


def not_found(model):
    return 'model "%s" not found, try pulling it first' % model


def is_missing(model):
    return model == "missing-model" or model.startswith("missing-model:")


# ---- request -> Conversation -----------------------------------------------------------------------------------------
ROLES = {"system": "system", "user": "user", "assistant": "assistant", "tool": "tool"}


def conversation(body, options):
    msgs = [script.Message(ROLES.get(m.get("role") or "user", "user"), m.get("content") or "")
            for m in body.get("messages") or [] if m is not None]
    tools = []
    for t in body.get("tools") or []:
        fn = (t or {}).get("function") or {}
        if fn.get("name"):
            tools.append(script.Tool(fn["name"], fn.get("parameters")))
    think = body.get("think")
    fmt = body.get("format")
    predict = options.get("num_predict")
    stop = options.get("stop")
    return script.Conversation(
        model=body["model"], messages=msgs, tools=tools, stream=body.get("stream") is not False,
        reasoning=None if think is None else bool(think), json_schema=fmt if isinstance(fmt, dict) else None,
        json_mode=fmt == "json", stop=stop if isinstance(stop, list) else None,
        max_output=int(predict) if isinstance(predict, (int, float)) and predict > 0 else None,
        content_filter_error=False)


# ---- Plan -> wire ------------------------------------------------------------------------------------------------------
DONE_REASONS = {"stop": "stop", "length": "length", "tool_calls": "stop", "content_filter": "stop"}


def call_id():
    return "call_" + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))


def tool_calls(plan):
    return [{"id": call_id(), "function": {"index": i, "name": c.name,
                                           "arguments": dict(sorted(json.loads(c.arguments).items()))}}
            for i, c in enumerate(plan.tool_calls)]


def metrics(plan, elapsed_ms):
    total = max(1, elapsed_ms) * 1_000_000 + 1_234_567
    return {"total_duration": total, "load_duration": 812_345,
            "prompt_eval_count": plan.prompt_tokens, "prompt_eval_duration": 20_000_000,
            "eval_count": plan.completion_tokens, "eval_duration": 80_000_000}


def message(content="", thinking=None, calls=None):
    m = {"role": "assistant", "content": content}
    if thinking:
        m["thinking"] = thinking
    if calls:
        m["tool_calls"] = calls
    return m


def whole(plan, ex):
    obj = {"model": plan.model, "created_at": created_at(),
           "message": message(plan.text or "", "".join(plan.reasoning), tool_calls(plan)),
           "done_reason": DONE_REASONS[plan.finish], "done": True}
    obj.update(metrics(plan, ex.elapsed_ms()))
    return obj


def lines(plan, ex):
    """[(bytes, tag)]: thinking pieces, content pieces, all tool calls in one chunk, then the done object."""
    def chunk(msg):
        return {"model": plan.model, "created_at": created_at(), "message": msg, "done": False}

    out = [chunk(message("", r)) for r in plan.reasoning]
    out += [chunk(message(c)) for c in plan.content or [] if c]
    if plan.tool_calls:
        out.append(chunk(message("", None, tool_calls(plan))))
    tagged = [(go_json(o) + "\n", "body") for o in out]
    final = {"model": plan.model, "created_at": created_at(), "message": message(),
             "done_reason": DONE_REASONS[plan.finish], "done": True}
    final.update(metrics(plan, ex.elapsed_ms()))
    tagged.append((go_json(final) + "\n", "tail"))
    return [(data.encode("utf-8"), tag) for data, tag in tagged]


def send_failure(ex, f, model):
    if f.kind == "html_404":
        return ex.send(404, HTML_404, "text/html")
    if f.kind == "context_length":
        return send_error(ex, 400, "the input length exceeds the context length")
    if f.kind == "quota":
        return send_error(ex, 429, "you've reached your weekly usage limit, please upgrade to continue: "
                                   "https://ollama.com/upgrade")
    if f.kind == "flaky":
        return send_error(ex, 500, RUNNER_DIED)
    if f.kind == "rate_limit":
        return send_error(ex, 429, "too many requests", [faults.retry_after_header(f)])
    n = f.status
    fixed = {400: "invalid request (scripted HTTP 400 from the emulator)", 401: "unauthorized",
             403: "forbidden", 404: not_found(model), 429: "too many requests", 500: RUNNER_DIED,
             503: "server busy, please try again.  maximum pending requests exceeded"}
    return send_error(ex, n, fixed.get(n, "request failed with HTTP %d (scripted by the emulator)" % n),
                      [("Retry-After", "2")] if n == 429 else ())


def render(ex, plan, stream):
    if plan.replay is not None:
        fx = fixtures.find(ex.server.fixtures_dir, plan.replay)
        if fx is None:
            return send_error(ex, 404, not_found("replay:" + plan.replay))
        return fixtures.replay(ex, fx)
    if faults.transport_fault(ex, plan):
        return
    if plan.failure is not None:
        return send_failure(ex, plan.failure, plan.model)
    err = (go_json({"error": MID_STREAM_ERROR}) + "\n").encode("utf-8")
    if not stream:
        faults.stall(plan.delay_before_ms)
        if plan.garbage:
            return ex.send(200, faults.GARBAGE, JSON)
        body = go_json({"error": MID_STREAM_ERROR} if plan.error_event else whole(plan, ex))
        return faults.send_body(ex, 200, body, JSON, (), plan)
    ex.set_nodelay()
    ex.start_stream(200, NDJSON)
    if plan.garbage:
        ex.write(b"{not json\n")
        return ex.end_stream()
    faults.stream_with_faults(ex, lines(plan, ex), plan, err)


# ---- handlers --------------------------------------------------------------------------------------------------------------
def chat(ex):
    if not ex.body.strip():
        return send_error(ex, 400, "missing request body")
    try:
        body = json.loads(ex.body.decode("utf-8"))
    except UnicodeDecodeError:
        return send_error(ex, 400, "invalid character '\\x%02x' looking for beginning of value" % ex.body[0])
    except json.JSONDecodeError as e:
        ch = e.doc[e.pos] if e.pos < len(e.doc) else ""
        if not ch:
            return send_error(ex, 400, "unexpected EOF")
        where = "looking for beginning of object key string" if e.msg.startswith("Expecting property name") \
            else "looking for beginning of value"
        return send_error(ex, 400, "invalid character %s %s" % (_go_char(ch), where))
    if not isinstance(body, dict):
        return send_error(ex, 400, "json: cannot unmarshal %s into Go value of type api.ChatRequest"
                          % v.go_kind(body))
    try:
        options = v.validate(body)
    except v.Invalid as e:
        return send_error(ex, e.status, e.message)
    model = body["model"]
    if is_missing(model):
        return send_error(ex, 404, not_found(model))
    if not body.get("messages"):
        # Ollama loads the model and answers at once (always one JSON object, even when streaming was asked).
        return ex.send(200, go_json({"model": model, "created_at": created_at(),
                                     "message": {"role": "assistant", "content": ""}, "done_reason": "load",
                                     "done": True}), JSON)
    try:
        v.check_options(options)
        v.check_format(body.get("format"))
    except v.Invalid as e:
        return send_error(ex, e.status, e.message)
    conv = conversation(body, options)
    render(ex, script.plan(conv), conv.stream)


def _go_char(ch):
    return "'\\''" if ch == "'" else "'%s'" % ch


def tags(ex):
    ex.send(200, go_json({"models": [{
        "name": "llama3.2:latest", "model": "llama3.2:latest", "modified_at": "2025-01-15T10:20:30.123456789Z",
        "size": 2019393189, "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                    "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}}]}), JSON)


def version(ex):
    ex.send(200, go_json({"version": VERSION}), JSON)


def root(ex):
    ex.send(200, "Ollama is running", "text/plain; charset=utf-8")


ROUTES = [
    ("POST", r"^/api/chat$", chat),
    ("GET", r"^/api/tags$", tags),
    ("GET", r"^/api/version$", version),
    ("GET", r"^/$", root),
    ("HEAD", r"^/$", root),
]
