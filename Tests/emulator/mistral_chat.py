"""Mistral's chat completions (`POST /v1/chat/completions` at api.mistral.ai), served under the prefix `/mistral`
so that it does not collide with OpenAI's identical path: tests use `{emulator}/mistral/v1` as api_base.

OpenAI-shaped, with Mistral's differences: bearer auth with Mistral's own 401 body, unknown keys refused with a 422
listing each (`extra_forbidden`), `random_seed` instead of `seed`, `tool_choice` `any`, `prompt_mode`, `safe_prompt`;
answers with reasoning (magistral-* models, `reasoning_effort: "high"`, the scripted `reasoning` model) carry
`content` as a list of typed chunks (`thinking`, `text`), streamed deltas too; tool calls arrive whole in one delta;
the last chunk carries finish_reason and usage together.
"""

import json
import random
import string
import time

import faults
import fixtures
import mistral_validate as v
import openai_chat
import script
import sse

JSON = "application/json"


def request_id():
    return "".join(random.choice("0123456789abcdef") for _ in range(32))


def headers(ex):
    return [("mistral-correlation-id", request_id()), ("x-ratelimit-limit-req-minute", "720"),
            ("x-ratelimit-remaining-req-minute", "719"), ("x-ratelimit-limit-tokens-minute", "5000000"),
            ("x-ratelimit-remaining-tokens-minute", "4999000")]


def error(type_, message, code):
    return {"object": "error", "message": message, "type": type_, "param": None, "code": code}


def send(ex, status, body, extra=()):
    ex.send(status, json.dumps(body, separators=(",", ":"), ensure_ascii=False), JSON, headers(ex) + list(extra))


def auth_error(ex):
    auth = (ex.header("Authorization") or "").strip()
    scheme, _, key = auth.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or key.startswith("sk-bad"):
        return 401, {"message": "Unauthorized", "request_id": request_id()}
    if key.startswith("sk-noperm"):
        return 403, {"message": "Forbidden", "request_id": request_id()}
    return None


def failure(f, model):
    """(status, body, extra headers) for a scripted failure, in Mistral's shapes."""
    if f.kind == "html_404":
        return 404, None, []
    if f.kind == "context_length":
        return 400, error("invalid_request_message_error", "Prompt contains 200000 tokens and 0 draft tokens, too "
                          "large for model with 131072 maximum context length", "3051"), []
    if f.kind == "rate_limit":      # retry-after-date / retry-after-N
        return 429, error("rate_limited", "Rate limit exceeded", "1300"), [faults.retry_after_header(f)]
    if f.kind == "quota" or f.status == 429:
        return 429, error("rate_limited", "Rate limit exceeded", "1300"), []
    if f.kind == "flaky" or f.status == 500:
        return 500, error("internal_server_error", "Internal server error", "1000"), []
    fixed = {400: error("invalid_request_error", "Invalid request (scripted HTTP 400 from the emulator)", "3000"),
             401: {"message": "Unauthorized", "request_id": request_id()},
             403: {"message": "Forbidden", "request_id": request_id()},
             404: {"detail": "Not Found"},
             503: error("service_unavailable", "Service unavailable, please retry", "1100")}
    if f.status in fixed:
        return f.status, fixed[f.status], []
    return f.status, error("internal_server_error" if f.status >= 500 else "invalid_request_error",
                           "Request failed with HTTP %d (scripted by the emulator)" % f.status, "1000"), []


def tool_call_id():
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(9))


def content_value(plan):
    """Plain text, or the typed chunk list when the answer has reasoning."""
    if not plan.reasoning:
        return plan.text if plan.text is not None else ""
    out = [{"type": "thinking", "thinking": [{"type": "text", "text": "".join(plan.reasoning)}]}]
    if plan.text:
        out.append({"type": "text", "text": plan.text})
    return out


def usage(plan):
    return {"prompt_tokens": plan.prompt_tokens, "total_tokens": plan.prompt_tokens + plan.completion_tokens,
            "completion_tokens": plan.completion_tokens}


def completion(plan, cid, calls):
    msg = {"role": "assistant", "tool_calls": [
        {"id": c_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}, "index": i}
        for i, (c_id, c) in enumerate(calls)] or None, "content": content_value(plan)}
    return {"id": cid, "object": "chat.completion", "model": plan.model, "usage": usage(plan),
            "created": int(time.time()), "choices": [{"index": 0, "message": msg, "finish_reason": plan.finish}]}


def stream_payloads(plan, cid, calls):
    created = int(time.time())

    def chunk(delta, finish=None, with_usage=False):
        c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": plan.model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if with_usage:
            c["usage"] = usage(plan)
        return c

    out = [(chunk({"role": "assistant", "content": ""}), "head")]
    out += [(chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": r}]}]}), "body")
            for r in plan.reasoning]
    for i, piece in enumerate(plan.content or []):
        # After thinking, the first text piece is a typed chunk list too; later ones are plain strings.
        content = [{"type": "text", "text": piece}] if plan.reasoning and i == 0 else piece
        out.append((chunk({"content": content}), "body"))
    if calls:
        out.append((chunk({"tool_calls": [{"id": c_id, "function": {"name": c.name, "arguments": c.arguments},
                                           "index": i} for i, (c_id, c) in enumerate(calls)]}), "body"))
    out.append((chunk({"content": ""}, plan.finish, with_usage=True), "tail"))
    out.append(("[DONE]", "tail"))
    return out


def render(ex, plan, stream):
    hs = headers(ex)
    if plan.replay is not None:
        fx = fixtures.find(ex.server.fixtures_dir, plan.replay)
        if fx is None:
            return send(ex, 400, error("invalid_model", "Invalid model: replay:%s" % plan.replay, "1500"))
        return fixtures.replay(ex, fx, hs)
    if faults.transport_fault(ex, plan):
        return
    if plan.failure is not None:
        status, body, more = failure(plan.failure, plan.model)
        if body is None:
            return ex.send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html", hs)
        return send(ex, status, body, more)
    if plan.finish == "content_filter":        # Mistral has no content filter: safe_prompt only adds a system prompt
        plan.finish = "stop"
    cid = request_id()
    calls = [(tool_call_id(), c) for c in plan.tool_calls]
    err = error("internal_server_error", "Internal server error", "1000")
    if not stream:
        faults.stall(plan.delay_before_ms)
        if plan.garbage:
            return ex.send(200, faults.GARBAGE, JSON, hs)
        body = json.dumps({"error": err} if plan.error_event else completion(plan, cid, calls),
                          separators=(",", ":"), ensure_ascii=False)
        return faults.send_body(ex, 200, body, JSON, hs, plan)
    ex.set_nodelay()
    ex.start_stream(200, "text/event-stream", hs)
    if plan.garbage:
        for data, _ in sse.frame([("{not json", "body"), ("[DONE]", "tail")], plan.framing):
            ex.write(data)
        return ex.end_stream()
    events = sse.frame(stream_payloads(plan, cid, calls), plan.framing)
    # Mistral's in-stream error shape is undocumented: the error event is written as OpenAI's.
    interrupt = sse.frame([({"error": err}, "body")], plan.framing)[0][0]
    faults.stream_with_faults(ex, events, plan, interrupt)


def chat(ex):
    denied = auth_error(ex)
    if denied:
        return send(ex, *denied)
    try:
        body = json.loads(ex.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return send(ex, 422, v.json_invalid(e))
    if not isinstance(body, dict):
        return send(ex, 422, v.body_of([v.item("model_attributes_type", [], "Input should be a valid dictionary or "
                                                "object to extract fields from", body)]))
    try:
        v.validate(body)
    except v.Invalid as e:
        return send(ex, 422, v.body_of(e.items))
    model = body["model"]
    if model == "invalid-model":
        return send(ex, 400, error("invalid_model", "Invalid model: invalid-model", "1500"))
    shaped = dict(body)
    if shaped.get("tool_choice") == "any":
        shaped["tool_choice"] = "required"
    conv = openai_chat.conversation(shaped, model)
    effort = body.get("reasoning_effort")
    if model.startswith("magistral") or effort == "high":     # Magistral reasons natively, whatever the effort
        conv.reasoning = True
    elif effort == "none":
        conv.reasoning = False
    conv.content_filter_error = False
    render(ex, script.plan(conv), conv.stream)


ROUTES = [("POST", r"^/mistral/v1/chat/completions$", chat)]
