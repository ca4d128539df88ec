"""AWS Bedrock Converse (`POST /model/{modelId}/converse`) and ConverseStream (`/converse-stream`): SigV4 or API-key
auth (bedrock_sigv4), request checks (bedrock_validate), and rendering of a script.Plan as a Converse body or a
binary event stream (eventstream).

Errors are Bedrock's: the HTTP status, `x-amzn-ErrorType: <Type>:http://internal.amazon.com/coral/com.amazon.bedrock/`
and the body `{"message": "..."}`; mid-stream failures are exception frames (`:message-type: exception`).
"""

import base64
import dataclasses
import json
import os
import random
import string
import time
import urllib.parse
import uuid

import bedrock_sigv4 as auth
import bedrock_validate as v
import eventstream as es
import faults
import fixtures
import script

JSON = "application/json"
EVENT_STREAM = "application/vnd.amazon.eventstream"
CORAL = "http://internal.amazon.com/coral/com.amazon.bedrock/"
CORAL_AUTH = "http://internal.amazon.com/coral/com.amazon.coral.service/"
THROTTLED = "Too many requests, please wait before trying again."
TOO_LONG = "Input is too long for requested model."
ALNUM = string.ascii_letters + string.digits


def tool_use_id():
    return "tooluse_" + "".join(random.choice(ALNUM + "-_") for _ in range(22))


def signature():
    return base64.b64encode(b"anyllm-emulator-bedrock-signature:" + os.urandom(48)).decode()


def padding():
    """Bedrock pads every stream event with a "p" field of random length (so sizes do not leak the text)."""
    return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"[:random.randint(1, 50)]


class Reply:
    def __init__(self, ex):
        self.ex = ex
        self.request_id = str(uuid.uuid4())

    def headers(self):
        return [("x-amzn-RequestId", self.request_id), ("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                                                               time.gmtime()))]

    def error(self, status, kind, message, extra=(), namespace=CORAL):
        body = json.dumps({"message": message}, separators=(",", ":"))
        hs = self.headers() + [("x-amzn-ErrorType", "%s:%s" % (kind, namespace))] + list(extra)
        return self.ex.send(status, body, JSON, hs)


# ---- request -> Conversation ------------------------------------------------------------------------------------------
def _text(blocks):
    return " ".join(b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str))


def _result_text(result):
    parts = []
    for p in result.get("content") or []:
        if "text" in p:
            parts.append(p["text"])
        elif "json" in p:
            parts.append(json.dumps(p["json"], separators=(",", ":")))
    return " ".join(parts)


def conversation(body, model, stream, info):
    msgs = []
    if body.get("system"):
        msgs.append(script.Message("system", _text(body["system"])))
    for m in body["messages"]:
        results = [b["toolResult"] for b in m["content"] if "toolResult" in b]
        text = _text(m["content"])
        if results:
            if text:
                msgs.append(script.Message("user", text))
            msgs += [script.Message("tool", _result_text(r)) for r in results]
        else:
            msgs.append(script.Message(m["role"], text))
    tc = body.get("toolConfig") or {}
    tools = [script.Tool(t["toolSpec"]["name"], t["toolSpec"]["inputSchema"]["json"]) for t in tc.get("tools") or []]
    choice = tc.get("toolChoice") or {"auto": {}}
    mode = {"auto": "auto", "any": "required", "tool": "named"}[next(iter(choice))]
    inf = body.get("inferenceConfig") or {}
    return script.Conversation(
        model=model, messages=msgs, tools=tools, tool_choice=mode, tool_name=(choice.get("tool") or {}).get("name"),
        stream=stream, reasoning=True if info["thinking"] else None, json_schema=info["schema"],
        stop=inf.get("stopSequences"), max_output=inf.get("maxTokens"), content_filter_error=False)


# ---- Plan -> wire -------------------------------------------------------------------------------------------------------
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "content_filtered"}


def stop_reason(plan):
    if plan.finish == "stop" and plan.stop_sequence is not None:
        return "stop_sequence"
    return STOP_REASONS[plan.finish]


def usage(plan):
    return {"inputTokens": plan.prompt_tokens, "outputTokens": plan.completion_tokens,
            "totalTokens": plan.prompt_tokens + plan.completion_tokens, "cacheReadInputTokens": 0,
            "cacheWriteInputTokens": 0}


def blocks(plan):
    out = []
    if plan.reasoning:
        out.append(("reasoning", {"text": "".join(plan.reasoning), "signature": signature()}))
    if plan.content is not None and (plan.text or not plan.tool_calls):
        out.append(("text", {"text": plan.text}))
    for call in plan.tool_calls:
        out.append(("toolUse", {"toolUseId": tool_use_id(), "name": call.name, "input": json.loads(call.arguments)}))
    return out


def converse_body(plan, started):
    content = []
    for kind, data in blocks(plan):
        if kind == "reasoning":
            content.append({"reasoningContent": {"reasoningText": data}})
        elif kind == "text":
            content.append({"text": data["text"]})
        else:
            content.append({"toolUse": data})
    return {"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop_reason(plan),
            "usage": usage(plan), "metrics": {"latencyMs": int((time.monotonic() - started) * 1000) + 1}}


def _ev(kind, payload, tag):
    """(kind, JSON payload bytes, tag): framed later by frame_events, after the payload-level faults."""
    payload = dict(payload, p=padding())
    return kind, json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), tag


def frame_events(events, plan):
    """Frame (kind, payload, tag) events as event-stream messages. The content faults go *inside* the frames, whose
    lengths and both CRCs stay right, so what is wrong is only the JSON or its UTF-8, as a provider's own bug would
    be: bad-utf8 puts invalid bytes in a payload; truncated-json cuts the third content payload's JSON short and
    ends the stream after it."""
    out, seen = [], 0
    for kind, payload, tag in events:
        if plan.bad_utf8:
            payload = payload.replace(faults.INVALID_UTF8_MARK, faults.INVALID_UTF8)
        if plan.truncate_json and tag == "body" and seen == 2:
            out.append((es.event(kind, faults.truncate_payload(payload)), tag))
            return out
        seen += tag == "body"
        out.append((es.event(kind, payload), tag))
    return out


def stream_events(plan, started):
    """[(frame bytes, tag)] with faults.write_events' tags ("head" never cut, "body" counted, "mid", "tail")."""
    out = [_ev("messageStart", {"role": "assistant"}, "head")]
    for index, (kind, data) in enumerate(blocks(plan)):
        tag = "head" if index == 0 else "mid"
        if kind == "reasoning":
            out += [_ev("contentBlockDelta", {"contentBlockIndex": index, "delta": {"reasoningContent": {"text": p}}},
                        "body") for p in plan.reasoning]
            out.append(_ev("contentBlockDelta", {"contentBlockIndex": index,
                                                 "delta": {"reasoningContent": {"signature": data["signature"]}}},
                           "mid"))
        elif kind == "text":
            out += [_ev("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": p}}, "body")
                    for p in plan.content]
        else:
            out.append(_ev("contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": {
                "toolUseId": data["toolUseId"], "name": data["name"]}}}, tag))
            spaced = json.dumps(data["input"], ensure_ascii=False) if data["input"] else ""
            out += [_ev("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": spaced[i:i + 8]}}},
                        "body") for i in range(0, len(spaced), 8)]
        out.append(_ev("contentBlockStop", {"contentBlockIndex": index}, "mid"))
    out.append(_ev("messageStop", {"stopReason": stop_reason(plan)}, "tail"))
    out.append(_ev("metadata", {"usage": usage(plan), "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)
                                                                   + 1}}, "tail"))
    return out


STATUS_ERRORS = {
    400: ("ValidationException", "Invalid request (scripted HTTP 400 from the emulator)."),
    403: ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
    404: ("ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier."),
    408: ("ModelTimeoutException", "Model has timed out in processing the request. Try your request again."),
    424: ("ModelErrorException", "The system encountered an unexpected error during processing. Try your request "
                                 "again."),
    429: ("ThrottlingException", THROTTLED),
    500: ("InternalServerException", "The system encountered an unexpected error during processing. Try your request "
                                     "again."),
    503: ("ServiceUnavailableException", "Bedrock is unable to process your request."),
}


def send_failure(reply, f):
    if f.kind == "html_404":
        return reply.ex.send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html", reply.headers())
    if f.kind == "context_length":
        return reply.error(400, "ValidationException", TOO_LONG)
    if f.kind == "quota":
        return reply.error(400, "ServiceQuotaExceededException", "Your request exceeded the service quota for your "
                                                                 "account. Request a quota increase.")
    if f.kind == "flaky":
        return reply.error(500, "InternalServerException", STATUS_ERRORS[500][1])
    if f.kind == "rate_limit":      # retry-after-date / retry-after-N: Bedrock's throttling with a Retry-After
        return reply.error(429, "ThrottlingException", THROTTLED, [faults.retry_after_header(f)])
    if f.status == 401:
        return reply.error(401, "UnrecognizedClientException", "The security token included in the request is invalid.",
                           namespace=CORAL_AUTH)
    # Converse documents no other statuses: their type is one no client knows, so it falls back on the status.
    kind, message = STATUS_ERRORS.get(f.status, ("ScriptedHttp%dException" % f.status,
                                                 "Request failed with HTTP %d (scripted by the emulator)." % f.status))
    return reply.error(f.status, kind, message)


# Bedrock-specific scripted models (besides script.py's): answered before planning.
SPECIAL = {
    "throttling": (429, "ThrottlingException", THROTTLED),
    "not-ready": (429, "ModelNotReadyException", "Model is not ready to serve inference requests. The AWS SDK will "
                                                 "automatically retry the operation."),
    "access-denied": (403,) + STATUS_ERRORS[403],
    "model-timeout": (408,) + STATUS_ERRORS[408],
    "unavailable": (503,) + STATUS_ERRORS[503],
}
# Streamed models that fail mid-stream after two content pieces: model -> exception type (or "bad-crc").
MID_STREAM = {"error-event": "modelStreamErrorException", "stream-throttling": "throttlingException",
              "stream-validation": "validationException", "stream-internal": "internalServerException",
              "stream-unavailable": "serviceUnavailableException", "bad-crc": "bad-crc"}
MID_MESSAGES = {"modelStreamErrorException": "The system encountered an unexpected error during processing.",
                "throttlingException": THROTTLED, "validationException": TOO_LONG,
                "internalServerException": "The system encountered an unexpected error during processing.",
                "serviceUnavailableException": "Bedrock is unable to process your request."}


def render(reply, plan, stream, model):
    ex = reply.ex
    started = ex.started
    if plan.replay is not None:
        fx = fixtures.find(ex.server.fixtures_dir, plan.replay)
        if fx is None:
            return reply.error(404, "ResourceNotFoundException", "Could not resolve the foundation model from the "
                                                                 "provided model identifier.")
        return fixtures.replay(ex, fx, reply.headers())
    if faults.transport_fault(ex, plan):
        return
    if plan.failure is not None:
        return send_failure(reply, plan.failure)
    if not stream:
        faults.stall(plan.delay_before_ms)
        if plan.garbage:
            return ex.send(200, faults.GARBAGE, JSON, reply.headers())
        if model == "error-body-200":
            # Bedrock's error shape with a 200: a client must not take it for an empty answer.
            return ex.send(200, json.dumps({"message": MID_MESSAGES["modelStreamErrorException"]}), JSON,
                           reply.headers())
        if plan.error_event or model in MID_STREAM:
            # Non-streamed, a mid-stream failure is an ordinary error answer.
            kind = {"bad-crc": "modelStreamErrorException"}.get(MID_STREAM.get(model), MID_STREAM.get(model, ""))
            kind = kind[0].upper() + kind[1:] if kind else "ModelErrorException"
            status = {"ThrottlingException": 429, "ValidationException": 400, "ServiceUnavailableException": 503,
                      "InternalServerException": 500}.get(kind, 424)
            return reply.error(status, kind, MID_MESSAGES.get(kind[0].lower() + kind[1:], STATUS_ERRORS[424][1]))
        body = json.dumps(converse_body(plan, started), separators=(",", ":"), ensure_ascii=False)
        return faults.send_body(ex, 200, body, JSON, reply.headers(), plan)

    ex.set_nodelay()
    ex.start_stream(200, EVENT_STREAM, reply.headers())
    if plan.garbage:
        ex.write(b"<<<this is not an event stream>>>")
        return ex.end_stream()
    events = frame_events(stream_events(plan, started), plan)
    interrupt = b""
    mid = MID_STREAM.get(model)
    if mid == "bad-crc":
        interrupt = es.event("contentBlockDelta", json.dumps({"contentBlockIndex": 0, "delta": {"text": "corrupt "},
                                                              "p": padding()}), corrupt="message")
    elif mid:
        interrupt = es.exception(mid, json.dumps({"message": MID_MESSAGES[mid]}))
    # Delivery faults (split-utf8 splits frames at every byte, trickle, stall, drop, reset) on the framed bytes; the
    # content faults are already inside the frames. A drop or reset cuts the next frame in half: a decoder must not
    # take a partial frame at the end of the body for a complete one.
    delivery = dataclasses.replace(plan, bad_utf8=False, truncate_json=False, error_event_after=2 if mid else None)
    faults.stream_with_faults(ex, events, delivery, interrupt, cut_mid_event=True)


# ---- handler --------------------------------------------------------------------------------------------------------------
def converse(ex):
    reply = Reply(ex)
    stream = ex.match.group("op") == "converse-stream"
    try:
        auth.verify(ex)
    except auth.Refused as r:
        return reply.error(r.status, r.kind, r.message, namespace=CORAL_AUTH)
    model = urllib.parse.unquote(ex.match.group("model"))
    ctype = (ex.header("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        return reply.error(415, "UnsupportedMediaTypeException", "Unsupported Media Type: %s"
                           % (ex.header("Content-Type") or ""))
    try:
        body = json.loads(ex.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return reply.error(400, "SerializationException", "Unable to parse request body as JSON.")
    try:
        info = v.validate(body)
    except v.Invalid as e:
        return reply.error(e.status, e.kind, e.message)
    if model in SPECIAL:
        status, kind, message = SPECIAL[model]
        return reply.error(status, kind, message)
    conv = conversation(body, model, stream, info)
    plan = script.plan(conv)
    if model in MID_STREAM:
        plan.error_event_after = None   # handled by render (Bedrock's own exception frames)
    render(reply, plan, stream, model)


ROUTES = [("POST", r"^/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream)$", converse)]
