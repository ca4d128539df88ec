"""Google Gemini generateContent / streamGenerateContent, on the Gemini API and on Vertex AI.

Gemini API: POST /v1beta/models/{model}:generateContent | :streamGenerateContent (also /v1/models/...), key in
`x-goog-api-key` or `?key=`. Vertex AI: POST /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:...,
`Authorization: Bearer <token>`. Streams are SSE with `?alt=sse` (`data: {json}\\r\\n\\r\\n`, no [DONE]) and otherwise
one JSON array written piece by piece (`[{...}\\n,\\r\\n{...}\\n]`), as the real front end does.
"""

import base64
import email.utils
import json
import os
import random
import string
import time
import urllib.parse

import faults
import fixtures
import gemini_validate as v
import script
import sse

JSON = "application/json; charset=UTF-8"
EVENT_STREAM = "text/event-stream"
HTML_404 = b"<html><body><h1>404 Not Found</h1></body></html>"
URLSAFE = string.ascii_letters + string.digits + "-_"

MISSING_KEY = ("Method doesn't allow unregistered callers (callers without established identity). Please use API Key "
               "or other form of API consumer identity to call this API.")
BAD_KEY = "API key not valid. Please pass a valid API key."
VERTEX_MISSING = ("Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
                  "or other valid authentication credential. See "
                  "https://developers.google.com/identity/sign-in/web/devconsole-project.")
VERTEX_BAD = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
              "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
INTERNAL = ("An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting")
OVERLOADED = "The model is overloaded. Please try again later."
QUOTA = ("You exceeded your current quota, please check your plan and billing details. For more information on this "
         "error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.")
RATE_LIMITED = "Resource has been exhausted (e.g. check quota)."
VERTEX_429 = ("Resource exhausted. Please try again later. Please refer to "
              "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.")
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 501: "UNIMPLEMENTED",
                503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


def retry_info(seconds):
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "%ds" % seconds}


def help_link():
    return {"@type": "type.googleapis.com/google.rpc.Help", "links": [
        {"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}


def pretty(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False)


class Site:
    """Where the request came in: the Gemini API or Vertex AI, and the model it names."""

    def __init__(self, ex, vertex):
        self.ex, self.vertex = ex, vertex
        g = ex.match.groupdict()
        self.model = urllib.parse.unquote(g["model"])
        self.method = g["method"]
        self.version = g["version"]
        self.project, self.location = g.get("project"), g.get("location")
        self.package = ("google.cloud.aiplatform.%s" % self.version if vertex
                        else "google.ai.generativelanguage.%s" % self.version)
        self.sse = ex.query.get("alt") == "sse" or ex.query.get("$alt") == "sse"

    def resource(self):
        if self.vertex:
            return "projects/%s/locations/%s/publishers/google/models/%s" % (self.project, self.location, self.model)
        return "models/" + self.model

    def headers(self, extra=()):
        return [("Vary", "Origin"), ("Vary", "X-Origin"), ("Vary", "Referer"),
                ("Server-Timing", "gfet4t7; dur=%d" % max(1, self.ex.elapsed_ms())),
                ("X-Content-Type-Options", "nosniff"), ("X-XSS-Protection", "0"),
                ("X-Frame-Options", "SAMEORIGIN")] + list(extra)

    def error(self, code, message, details=None, status=None, extra=()):
        err = {"code": code, "message": message, "status": status or STATUS_NAMES.get(code, "UNKNOWN")}
        if details:
            err["details"] = details
        self.ex.send(code, pretty({"error": err}) + "\n", JSON, self.headers(extra))

    def invalid(self, e):
        details = None
        if e.violations:
            vs = []
            for path, desc in e.violations:
                vs.append({"field": path, "description": desc} if path else {"description": desc})
            details = [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": vs}]
        self.error(400, e.message, details)

    def not_found(self):
        if self.vertex:
            return self.error(404, "Publisher Model `%s` was not found or your project does not have access to it. "
                                   "Please ensure you are using a valid model version. For more information, see: "
                                   "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"
                              % self.resource())
        return self.error(404, "models/%s is not found for API version %s, or is not supported for %s. Call "
                               "ListModels to see the list of available models and their supported methods."
                          % (self.model, self.version, self.method))


# ---- auth ------------------------------------------------------------------------------------------------------------------
def api_key_error(ex, site=None):
    """(code, message, details) when the Gemini API key is missing or refused. An OAuth bearer token (no key) is
    judged like Vertex AI's."""
    key = (ex.header("x-goog-api-key") or ex.query.get("key") or "").strip()
    if not key and site is not None and (ex.header("Authorization") or "").strip():
        return bearer_error(site)
    if not key:
        return 403, MISSING_KEY, None
    if key.startswith("sk-bad") or key.startswith("bad"):
        return 400, BAD_KEY, [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                               "domain": "googleapis.com",
                               "metadata": {"service": "generativelanguage.googleapis.com"}},
                              {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                               "message": BAD_KEY}]
    if key.startswith("sk-noperm") or key.startswith("noperm"):
        return 403, "The caller does not have permission", None
    return None


def bearer_error(site):
    """(code, message, details) when the OAuth bearer token (Vertex AI; optional on the Gemini API) is refused."""
    auth = (site.ex.header("Authorization") or "").strip()
    scheme, _, token = auth.partition(" ")
    token = token.strip()
    info = "type.googleapis.com/google.rpc.ErrorInfo"
    service = "aiplatform.googleapis.com" if site.vertex else "generativelanguage.googleapis.com"
    if scheme.lower() != "bearer" or not token:
        return 401, VERTEX_MISSING, [{"@type": info, "reason": "CREDENTIALS_MISSING", "domain": "googleapis.com",
                                      "metadata": {"service": service}}]
    if token.startswith("sk-bad") or token.startswith("bad"):
        return 401, VERTEX_BAD, [{"@type": info, "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                                  "domain": "googleapis.com", "metadata": {"service": service}}]
    if token.startswith("sk-noperm") or token.startswith("noperm"):
        if not site.vertex:
            return 403, "The caller does not have permission", None
        return 403, ("Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/%s' "
                     "(or it may not exist)." % site.resource()), [
            {"@type": info, "reason": "IAM_PERMISSION_DENIED", "domain": "aiplatform.googleapis.com",
             "metadata": {"permission": "aiplatform.endpoints.predict",
                          "resource": "projects/%s/locations/%s" % (site.project, site.location)}}]
    return None


# ---- request -> Conversation --------------------------------------------------------------------------------------------
def lower_types(schema):
    """Gemini schemas may spell types in capitals (STRING); script.example_value reads JSON Schema spellings."""
    if isinstance(schema, dict):
        return {k: (val.lower() if k == "type" and isinstance(val, str) else lower_types(val))
                for k, val in schema.items()}
    if isinstance(schema, list):
        return [lower_types(x) for x in schema]
    return schema


def response_text(response):
    """A function response as text: a one-key object holding a string gives that string, else compact JSON."""
    if isinstance(response, dict) and len(response) == 1:
        (only,) = response.values()
        if isinstance(only, str):
            return only
    return json.dumps(response, ensure_ascii=False, separators=(",", ":"))


def conversation(req, model, stream):
    msgs = []
    system = req.get("systemInstruction")
    if system:
        msgs.append(script.Message("system", " ".join(p.get("text", "") for p in system.get("parts") or []
                                                      if p and "text" in p)))
    for c in req["contents"]:
        parts = [p for p in (c or {}).get("parts") or [] if p]
        text = " ".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
        results = [p["functionResponse"] for p in parts if "functionResponse" in p]
        if c.get("role") == "model":
            msgs.append(script.Message("assistant", text))
            continue
        if text or not results:
            msgs.append(script.Message("user", text))
        msgs += [script.Message("tool", response_text(r.get("response") or {})) for r in results]
    tools = []
    for tool in req.get("tools") or []:
        for decl in (tool or {}).get("functionDeclarations") or []:
            schema = decl.get("parametersJsonSchema") or lower_types(decl.get("parameters"))
            tools.append(script.Tool(decl["name"], schema))
    fcc = (req.get("toolConfig") or {}).get("functionCallingConfig") or {}
    mode = fcc.get("mode") or "AUTO"
    choice, name = {"ANY": "required", "NONE": "none"}.get(mode, "auto"), None
    allowed = fcc.get("allowedFunctionNames")
    if allowed:
        tools = [t for t in tools if t.name in allowed]
        if len(tools) == 1:
            choice, name = "named", tools[0].name
    gc = req.get("generationConfig") or {}
    tc = gc.get("thinkingConfig") or {}
    schema = gc.get("responseJsonSchema") or lower_types(gc.get("responseSchema"))
    return script.Conversation(
        model=model, messages=msgs, tools=tools, tool_choice=choice, tool_name=name, stream=stream,
        reasoning=tc.get("includeThoughts"), json_schema=schema,
        json_mode=gc.get("responseMimeType") == "application/json" and schema is None,
        stop=gc.get("stopSequences"), max_output=gc.get("maxOutputTokens"), content_filter_error=False)


# ---- Plan -> wire -----------------------------------------------------------------------------------------------------------
FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}


def response_id():
    return "".join(random.choice(URLSAFE) for _ in range(23))


def function_call_id():
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))


def signature():
    return base64.b64encode(b"anyllm-emulator-thought:" + os.urandom(48)).decode()


def safety_ratings(blocked):
    cats = ["HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_HARASSMENT",
            "HARM_CATEGORY_SEXUALLY_EXPLICIT"]
    out = []
    for c in cats:
        r = {"category": c, "probability": "NEGLIGIBLE"}
        if blocked and c == "HARM_CATEGORY_DANGEROUS_CONTENT":
            r = {"category": c, "probability": "HIGH", "blocked": True}
        out.append(r)
    return out


class Answer:
    """One rendered answer: ids, signature policy and the response objects (whole or chunked)."""

    def __init__(self, site, plan, candidates):
        self.site, self.plan, self.n = site, plan, max(1, candidates)
        self.rid = response_id()
        self.signs = bool(plan.reasoning) or v.needs_signatures(plan.model)
        self.calls = [{"id": function_call_id(), "name": c.name, "args": json.loads(c.arguments)}
                      for c in plan.tool_calls]

    def usage(self, final):
        p = self.plan
        u = {"promptTokenCount": p.prompt_tokens}
        out = 0 if p.finish == "content_filter" else p.completion_tokens - p.reasoning_tokens
        if final and out:
            u["candidatesTokenCount"] = out
        u["totalTokenCount"] = p.prompt_tokens + (out + p.reasoning_tokens if final else 0)
        u["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": p.prompt_tokens}]
        if final and p.reasoning_tokens:
            u["thoughtsTokenCount"] = p.reasoning_tokens
        if self.site.vertex:
            u["trafficType"] = "ON_DEMAND"
        return u

    def call_parts(self):
        parts = []
        for i, call in enumerate(self.calls):
            part = {"functionCall": dict(call)}
            if i == 0 and self.signs:
                part["thoughtSignature"] = signature()
            parts.append(part)
        return parts

    def response(self, parts, finish=None, final=False):
        cands = []
        for i in range(self.n):
            cand = {}
            if finish == "SAFETY":
                cand = {"finishReason": "SAFETY", "index": i, "safetyRatings": safety_ratings(True)}
            else:
                cand["content"] = {"parts": parts, "role": "model"}
                if finish:
                    cand["finishReason"] = finish
                cand["index"] = i
            cands.append(cand)
        obj = {"candidates": cands, "usageMetadata": self.usage(final), "modelVersion": self.plan.model}
        if self.site.vertex:
            obj["createTime"] = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        obj["responseId"] = self.rid
        return obj

    def whole(self):
        p = self.plan
        finish = FINISH[p.finish]
        if finish == "SAFETY":
            return self.response([], "SAFETY", True)
        parts = []
        if p.reasoning:
            parts.append({"text": "".join(p.reasoning), "thought": True})
        if p.content is not None and (p.text or not p.tool_calls):
            part = {"text": p.text}
            if self.signs and not p.tool_calls:
                part["thoughtSignature"] = signature()
            parts.append(part)
        parts += self.call_parts()
        return self.response(parts, finish, True)

    def chunks(self):
        """[(object, tag)]: one chunk per reasoning / text piece, one per function call, then the finish chunk."""
        p = self.plan
        finish = FINISH[p.finish]
        out = [(self.response([{"text": r, "thought": True}]), "body") for r in p.reasoning]
        if finish == "SAFETY":                              # blocked: no text at all
            return out + [(self.response([], "SAFETY", True), "tail")]
        out += [(self.response([{"text": c}]), "body") for c in p.content or [] if c]
        out += [(self.response([part]), "body") for part in self.call_parts()]
        last = {"text": ""}
        if self.signs and not p.tool_calls:
            last["thoughtSignature"] = signature()
        out.append((self.response([last], finish, True), "tail"))
        return out


def error_object(code=503):
    return {"error": {"code": code, "message": OVERLOADED, "status": STATUS_NAMES[code]}}


def send_failure(site, f):
    ex = site.ex
    if f.kind == "html_404":
        return ex.send(404, HTML_404, "text/html", site.headers())
    if f.kind == "context_length":
        return site.error(400, "The input token count (1200000) exceeds the maximum number of tokens allowed "
                               "(1048576).")
    if f.kind == "quota":
        if site.vertex:
            return site.error(429, VERTEX_429)
        return site.error(429, QUOTA, [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                 "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                 "quotaDimensions": {"location": "global", "model": site.model}, "quotaValue": "250"}]},
            help_link()])
    if f.kind == "flaky":
        return site.error(500, INTERNAL)
    if f.kind == "rate_limit":
        secs = f.retry_after_secs if f.retry_after_secs is not None else 3
        return site.error(429, VERTEX_429 if site.vertex else RATE_LIMITED, [retry_info(secs)],
                          extra=[faults.retry_after_header(f)])
    n = f.status
    if n == 404:
        return site.not_found()
    if n == 429:
        return site.error(429, VERTEX_429 if site.vertex else RATE_LIMITED, [retry_info(2)])
    messages = {400: "Request contains an invalid argument.", 401: VERTEX_BAD, 403: "The caller does not have "
                "permission", 500: INTERNAL, 503: OVERLOADED, 504: "Deadline expired before operation could "
                "complete."}
    return site.error(n, messages.get(n, "Request failed with HTTP %d (scripted by the emulator)." % n))


def array_pieces(objs):
    """The streamed JSON array: `[{...}`, then `\\n,\\r\\n{...}` per further element, then `\\n]`."""
    out = []
    for i, (obj, tag) in enumerate(objs):
        out.append(((("[" if i == 0 else "\n,\r\n") + pretty(obj)).encode("utf-8"), tag))
    out.append((b"\n]", "tail"))
    return out


def sse_events(objs, framing):
    framing = "crlf" if framing == "lf" else framing        # the real API ends its SSE lines with CRLF
    if framing == "quirks":
        return sse.frame(objs, framing)
    # `data: {"candidates": [...],"usageMetadata": {...}}`: the real front end's spacing (": " but not ", ").
    return sse.frame([(json.dumps(o, ensure_ascii=False, separators=(",", ": ")), t) for o, t in objs], framing)


def render(site, plan, candidates):
    ex = site.ex
    if plan.replay is not None:
        fx = fixtures.find(ex.server.fixtures_dir, plan.replay)
        if fx is None:
            return site.not_found()
        return fixtures.replay(ex, fx, site.headers())
    if faults.transport_fault(ex, plan):
        return
    if plan.failure is not None:
        return send_failure(site, plan.failure)

    answer = Answer(site, plan, candidates)
    if site.method == "generateContent":
        faults.stall(plan.delay_before_ms)
        if plan.garbage:
            return ex.send(200, faults.GARBAGE, JSON, site.headers())
        obj = error_object() if plan.error_event else answer.whole()
        return faults.send_body(ex, 200, pretty(obj) + "\n", JSON, site.headers(), plan)

    ex.set_nodelay()
    ex.start_stream(200, EVENT_STREAM if site.sse else JSON, site.headers())
    if plan.garbage:
        ex.write(b"data: {not json\r\n\r\n" if site.sse else b"[{not json\n]")
        return ex.end_stream()
    if site.sse:
        events = sse_events(answer.chunks(), plan.framing)
        interrupt = sse_events([(error_object(), "body")], plan.framing)[0][0]
    else:
        events = array_pieces(answer.chunks())
        interrupt = ("\n,\r\n" + pretty(error_object()) + "\n]").encode("utf-8")
    faults.stream_with_faults(ex, events, plan, interrupt)


# ---- handlers ----------------------------------------------------------------------------------------------------------
def generate(ex, vertex):
    site = Site(ex, vertex)
    denied = bearer_error(site) if vertex else api_key_error(ex, site)
    if denied:
        return site.error(*denied)
    try:
        v.check_query(ex.query)
    except v.Invalid as e:
        return site.invalid(e)
    try:
        body = json.loads(ex.body.decode("utf-8")) if ex.body.strip() else {}
    except (UnicodeDecodeError, ValueError) as e:
        return site.error(400, "Invalid JSON payload received. %s" % _json_problem(e))
    if not isinstance(body, dict):
        return site.error(400, 'Invalid JSON payload received. Expected an object key or }.\n%s\n^'
                          % ex.body[:20].decode("utf-8", "replace"))
    try:
        req = v.validate(body, site.model, site.package)
    except v.Invalid as e:
        return site.invalid(e)
    gc = req.get("generationConfig") or {}
    conv = conversation(req, site.model, site.method == "streamGenerateContent")
    render(site, script.plan(conv), gc.get("candidateCount") or 1)


def _json_problem(e):
    if isinstance(e, json.JSONDecodeError):
        return "Unexpected token.\n%s\n%s^" % (e.doc[max(0, e.pos - 10):e.pos + 10], " " * min(10, e.pos))
    return "Unexpected token."


def gemini_api(ex):
    generate(ex, vertex=False)


def vertex(ex):
    generate(ex, vertex=True)


MODELS = [("gemini-2.5-flash", "Gemini 2.5 Flash", 65536), ("gemini-2.5-pro", "Gemini 2.5 Pro", 65536),
          ("gemini-3-flash-preview", "Gemini 3 Flash Preview", 65536)]


def model_info(name, display, out_limit):
    return {"name": "models/" + name, "version": "001", "displayName": display,
            "description": "Emulated %s." % display, "inputTokenLimit": 1048576, "outputTokenLimit": out_limit,
            "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent",
                                           "batchGenerateContent"],
            "temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": True}


def list_models(ex):
    site = Site.__new__(Site)
    site.ex, site.vertex = ex, False
    denied = api_key_error(ex)
    if denied:
        return site.error(*denied)
    ex.send(200, pretty({"models": [model_info(*m) for m in MODELS]}) + "\n", JSON, site.headers())


def get_model(ex):
    site = Site.__new__(Site)
    site.ex, site.vertex = ex, False
    site.model, site.version, site.method = urllib.parse.unquote(ex.match.group("model")), ex.match.group(
        "version"), "get"
    denied = api_key_error(ex)
    if denied:
        return site.error(*denied)
    for m in MODELS:
        if m[0] == site.model:
            return ex.send(200, pretty(model_info(*m)) + "\n", JSON, site.headers())
    site.error(404, "models/%s is not found for API version %s, or is not supported for get. Call ListModels to "
                    "see the list of available models and their supported methods." % (site.model, site.version))


METHODS = r":(?P<method>generateContent|streamGenerateContent)$"
ROUTES = [
    ("POST", r"^/(?P<version>v1beta|v1)/models/(?P<model>[^/].*?)" + METHODS, gemini_api),
    ("POST", r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google"
             r"/models/(?P<model>[^/].*?)" + METHODS, vertex),
    ("GET", r"^/(?P<version>v1beta|v1)/models$", list_models),
    ("GET", r"^/(?P<version>v1beta|v1)/models/(?P<model>[^/:]+)$", get_model),
]
