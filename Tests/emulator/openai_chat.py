"""OpenAI chat completions (and Azure OpenAI deployments): auth, checks, and rendering of a script.Plan.

Flow of one request: auth -> Content-Type -> JSON -> openai_validate -> script.plan() -> render. Everything the
answer *says* comes from script.py; this module only knows OpenAI's field names, error bodies and stream chunks.
"""

import email.utils
import json
import random
import re
import string
import time
import urllib.parse

import faults
import fixtures
import openai_validate as v
import script
import sse
from exchange import new_request_id

JSON = "application/json"
EVENT_STREAM = "text/event-stream; charset=utf-8"     # what api.openai.com sends (see the recordings)

MISSING_KEY = ("You didn't provide an API key. You need to provide your API key in an Authorization header using "
               "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) "
               "if you're accessing the API from your browser and are prompted for a username and password. You "
               "can obtain an API key from https://platform.openai.com/account/api-keys.")
# The real message masks the key (sk-bad***xyz); the emulator never echoes any part of it.
BAD_KEY = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
NO_PERMISSION = ("You have insufficient permissions for this operation. Missing scopes: model.request. Check that "
                 "you have the correct role in your organization (Reader, Writer, Owner) and project (Member, "
                 "Owner), and if you're using a restricted API key, that it has the necessary scopes.")
BAD_JSON = ("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
            "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
            "have trouble figuring out how to fix this, please contact us through our help center at "
            "help.openai.com.)")
SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"
AZURE_DENIED = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
                "key for an active subscription and use a correct regional API endpoint for your resource.")
AZURE_FILTERED = ("The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
                  "Please modify your prompt and retry. To learn more about our content filtering policies please "
                  "read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766")


def edge_html(status, reason):
    # What the CDN in front of api.openai.com answers when the origin is unreachable: HTML, not JSON.
    return ("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
            "<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n" % (status, reason, status, reason))


def error_obj(message, type_="invalid_request_error", param=None, code=None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def openai_headers(ex, extra=None, remaining="9999"):
    hs = [("x-request-id", new_request_id()),
          ("openai-organization", "emulator-org"),
          ("openai-processing-ms", str(max(1, ex.elapsed_ms()))),
          ("openai-version", "2020-10-01"),
          ("x-ratelimit-limit-requests", "10000"),
          ("x-ratelimit-limit-tokens", "30000000"),
          ("x-ratelimit-remaining-requests", remaining),
          ("x-ratelimit-remaining-tokens", "29999000"),
          ("x-ratelimit-reset-requests", "6ms"),
          ("x-ratelimit-reset-tokens", "2ms")]
    if extra:
        hs.append(("x-emulator-extra-keys", ",".join(extra)))
    return hs


def send_error(ex, status, body, extra=None, headers=()):
    ex.send_json(status, body, openai_headers(ex, extra) + list(headers))


# ---- auth ----------------------------------------------------------------------------------------------------------
def auth_error(ex, azure):
    """(status, body) when the key is missing/refused, else None. Keys are judged by prefix only."""
    if azure:
        key = (ex.header("api-key") or "").strip()
        if not key or key.startswith("sk-bad"):
            return 401, {"error": {"code": "401", "message": AZURE_DENIED, "type": None, "param": None}}
        if key.startswith("sk-noperm"):
            return 403, {"error": {"code": "PermissionDenied", "type": None, "param": None,
                                   "message": "The principal does not have permission to perform this action."}}
        return None
    auth = (ex.header("Authorization") or "").strip()
    scheme, _, key = auth.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return 401, error_obj(MISSING_KEY)
    if key.startswith("sk-bad"):
        return 401, error_obj(BAD_KEY, code="invalid_api_key")
    if key.startswith("sk-noperm"):
        return 403, error_obj(NO_PERMISSION)
    return None


# ---- request -> Conversation ------------------------------------------------------------------------------------------
def text_of(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get(p.get("type"), "") for p in content
                        if isinstance(p, dict) and p.get("type") in ("text", "refusal"))
    return ""


def conversation(body, model):
    roles = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant",
             "tool": "tool", "function": "tool"}
    msgs = [script.Message(roles[m["role"]], text_of(m.get("content"))) for m in body["messages"]]
    tools = [script.Tool(t["function"]["name"], t["function"].get("parameters")) for t in body.get("tools") or []]
    choice, name = body.get("tool_choice"), None
    if isinstance(choice, dict):
        choice, name = "named", choice["function"]["name"]
    return script.Conversation(model=model, messages=msgs, tools=tools, tool_choice=choice or "auto",
                               tool_name=name, parallel_tool_calls=body.get("parallel_tool_calls") is not False,
                               stream=body.get("stream") is True)


# ---- Plan -> wire ------------------------------------------------------------------------------------------------------
def usage_obj(plan):
    return {"prompt_tokens": plan.prompt_tokens,
            "completion_tokens": plan.completion_tokens,
            "total_tokens": plan.prompt_tokens + plan.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": plan.reasoning_tokens, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


def completion_id():
    return "chatcmpl-" + "".join(random.choice(string.ascii_letters + string.digits) for _ in range(29))


FINGERPRINT = "fp_e1a7a0b2c3"


def completion_obj(plan):
    msg = {"role": "assistant", "content": plan.text}
    if plan.reasoning:
        msg["reasoning_content"] = "".join(plan.reasoning)
    if plan.tool_calls:
        msg["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                             for c in plan.tool_calls]
    msg["refusal"] = None
    msg["annotations"] = []
    return {"id": completion_id(), "object": "chat.completion", "created": int(time.time()), "model": plan.model,
            "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": plan.finish}],
            "usage": usage_obj(plan), "service_tier": "default", "system_fingerprint": FINGERPRINT}


def fragments(text, size=5):
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def stream_payloads(plan, include_usage):
    """[(payload, tag)] for sse.frame: tags mark what faults.write_events counts ("body") or cuts before."""
    cid, created = completion_id(), int(time.time())

    def base():
        return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": plan.model,
                "service_tier": "default", "system_fingerprint": FINGERPRINT}

    def chunk(delta, finish=None):
        c = base()
        c["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        if include_usage:
            c["usage"] = None         # OpenAI sends an explicit null on every chunk but the usage chunk
        return c

    out = [(chunk({"role": "assistant", "content": ""}), "head")]
    out += [(chunk({"reasoning_content": r}), "body") for r in plan.reasoning]
    out += [(chunk({"content": piece}), "body") for piece in plan.content or []]
    for i, call in enumerate(plan.tool_calls):
        first = {"index": i, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        out.append((chunk({"tool_calls": [first]}), "body"))
        out += [(chunk({"tool_calls": [{"index": i, "function": {"arguments": f}}]}), "body")
                for f in fragments(call.arguments)]
    out.append((chunk({}, plan.finish), "tail"))
    if include_usage:
        last = base()
        last["choices"], last["usage"] = [], usage_obj(plan)
        out.append((last, "tail"))
    out.append(("[DONE]", "tail"))
    return out


def failure_response(f, model):
    """(status, content_type, body bytes, extra headers) for a scripted failure."""
    hs = []
    if f.kind == "html_404":
        return 404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>", hs
    if f.kind == "content_filter":
        body = {"error": {"message": AZURE_FILTERED, "type": None, "param": "prompt", "code": "content_filter",
                          "status": 400, "innererror": {"code": "ResponsibleAIPolicyViolation",
                                                        "content_filter_result": {
                                                            "hate": {"filtered": False, "severity": "safe"},
                                                            "self_harm": {"filtered": False, "severity": "safe"},
                                                            "sexual": {"filtered": False, "severity": "safe"},
                                                            "violence": {"filtered": True, "severity": "medium"}}}}}
        return 400, JSON, body, hs
    if f.kind == "context_length":
        return 400, JSON, error_obj("This model's maximum context length is 128000 tokens. However, your messages "
                                    "resulted in 200000 tokens. Please reduce the length of the messages.",
                                    param="messages", code="context_length_exceeded"), hs
    if f.kind == "quota":
        return 429, JSON, error_obj("You exceeded your current quota, please check your plan and billing details.",
                                    "insufficient_quota", code="insufficient_quota"), hs
    if f.kind == "flaky":
        return 500, JSON, error_obj(SERVER_ERROR, "server_error"), hs
    rate_limited = error_obj("Rate limit reached for %s in organization org-emulator on requests per min (RPM): "
                             "Limit 3, Used 3, Requested 1. Please try again in 1.5s. Visit "
                             "https://platform.openai.com/account/rate-limits to learn more." % model,
                             "requests", code="rate_limit_exceeded")
    if f.kind == "rate_limit":      # retry-after-date / retry-after-N: only Retry-After (a date 3 s ahead, or N s)
        return 429, JSON, rate_limited, [faults.retry_after_header(f)]
    n = f.status
    if n == 429:
        return 429, JSON, rate_limited, [("retry-after", "2"), ("retry-after-ms", "1500")]
    if n in (502, 504):
        reason = {502: "Bad Gateway", 504: "Gateway Time-out"}[n]
        return n, "text/html", edge_html(n, reason).encode(), hs
    fixed = {
        400: error_obj("Invalid request (scripted HTTP 400 from the emulator)."),
        401: error_obj(BAD_KEY, code="invalid_api_key"),
        403: error_obj(NO_PERMISSION),
        404: error_obj("The model `%s` does not exist or you do not have access to it." % model,
                       code="model_not_found"),
        409: error_obj("The request conflicts with another request in progress. Please retry.", code="conflict"),
        422: error_obj("The request was well-formed but could not be processed.", code="unprocessable_entity"),
        500: error_obj(SERVER_ERROR, "server_error"),
        503: error_obj("The engine is currently overloaded, please try again later", "server_error"),
    }
    if n in fixed:
        return n, JSON, fixed[n], hs
    if n < 500:
        return n, JSON, error_obj("Request failed with HTTP %d (scripted by the emulator)." % n), hs
    return n, JSON, error_obj("Request failed with HTTP %d (scripted by the emulator)." % n, "server_error"), hs


def render(ex, plan, stream, include_usage, extra):
    headers = openai_headers(ex, extra)
    if plan.replay is not None:
        fx = fixtures.find(ex.server.fixtures_dir, plan.replay)
        if fx is None:
            return send_error(ex, 404, error_obj("The model `replay:%s` does not exist or you do not have access to "
                                                 "it. (no such recorded fixture)" % plan.replay,
                                                 code="model_not_found"), extra)
        return fixtures.replay(ex, fx, headers)
    if faults.transport_fault(ex, plan):
        return
    if plan.failure is not None:
        status, ctype, body, more = failure_response(plan.failure, plan.model)
        if isinstance(body, dict):
            body = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
        if status == 429:
            headers = openai_headers(ex, extra, remaining="0")
        return ex.send(status, body, ctype, headers + more)

    err_event = error_obj(SERVER_ERROR, "server_error")
    if not stream:
        faults.stall(plan.delay_before_ms)
        if plan.garbage:
            return ex.send(200, faults.GARBAGE, JSON, headers)
        obj = err_event if plan.error_event else completion_obj(plan)
        body = (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        return faults.send_body(ex, 200, body, JSON, headers, plan)

    ex.set_nodelay()        # every event should leave as soon as it is written
    ex.start_stream(200, EVENT_STREAM, headers)
    if plan.garbage:
        for data, _ in sse.frame([("{not json", "body"), ("[DONE]", "tail")], plan.framing):
            ex.write(data)
        return ex.end_stream()
    events = sse.frame(stream_payloads(plan, include_usage), plan.framing)
    interrupt = sse.frame([(err_event, "body")], plan.framing)[0][0]
    faults.stream_with_faults(ex, events, plan, interrupt)


# ---- handlers ------------------------------------------------------------------------------------------------------------
def handle(ex, azure=False):
    if azure:
        version = ex.query.get("api-version")
        if version is None:
            return send_error(ex, 404, {"error": {"code": "404", "message": "Resource not found",
                                                  "type": None, "param": None}})
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", version):
            return send_error(ex, 400, {"error": {"code": "BadRequest", "message": "API version not supported",
                                                  "type": None, "param": None}})
    denied = auth_error(ex, azure)
    if denied:
        return send_error(ex, *denied)

    ctype = (ex.header("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        shown = ex.header("Content-Type") or ""
        return send_error(ex, 400, error_obj(
            "Unsupported content type: '%s'. This API method only accepts 'application/json' requests, but you "
            "specified the header 'Content-Type: %s'. Please try again with a supported content type."
            % (shown, shown)))
    try:
        body = json.loads(ex.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return send_error(ex, 400, error_obj(BAD_JSON))
    if not isinstance(body, dict):
        return send_error(ex, 400, error_obj("Invalid type for request body: expected an object, but got %s "
                                             "instead." % v._article(v.jtype(body)), code="invalid_type"))
    extra = v.extra_keys(body)
    try:
        v.validate(body, azure)
    except v.Invalid as e:
        return send_error(ex, e.status, error_obj(e.message, e.type, e.param, e.code), extra)

    model = urllib.parse.unquote(ex.match.group("deployment")) if azure else body["model"]
    conv = conversation(body, model)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    render(ex, script.plan(conv), conv.stream, include_usage, extra)


def chat(ex):
    handle(ex, azure=False)


def azure_chat(ex):
    handle(ex, azure=True)


# Mounted by emulator.py in this order: the Azure path first, since the generic prefix route would also match it.
ROUTES = [
    ("POST", r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions$", azure_chat),
    ("POST", r"^(?:/.*)?/chat/completions$", chat),
]
