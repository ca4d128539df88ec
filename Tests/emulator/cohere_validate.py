"""Request checks for Cohere's Chat API v2 (`POST /v2/chat`), with Cohere's message style.

Cohere answers a bad request with 400 and `{"id": "<uuid>", "message": "invalid request: ..."}`. Wording taken
from Cohere's error reference where it lists the case (unknown fields, `too many tokens`); the others follow its
`invalid request: <what>` pattern and are approximations.
"""

import re

TOP_LEVEL = {
    "model", "messages", "tools", "strict_tools", "documents", "citation_options", "response_format", "safety_mode",
    "max_tokens", "stop_sequences", "temperature", "seed", "frequency_penalty", "presence_penalty", "k", "p",
    "logprobs", "tool_choice", "thinking", "stream", "priority",
}
ROLES = ("user", "assistant", "system", "tool")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
USER_ITEMS = ("text", "image_url", "document")
SYSTEM_ITEMS = ("text",)
ASSISTANT_ITEMS = ("text", "thinking")
TOOL_ITEMS = ("text", "document")


class Invalid(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.message, self.status = message, status


def bad(what):
    return Invalid("invalid request: " + what)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def present(body, key):
    return body.get(key) is not None


def check_items(content, path, kinds):
    """A string, or a list of typed items of the given kinds."""
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise bad("%s must be a string or a list of content items" % path)
    for j, item in enumerate(content):
        at = "%s[%d]" % (path, j)
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad("%s must be an object with a type" % at)
        kind = item["type"]
        if kind not in kinds:
            raise bad("%s.type must be one of %s, got %s" % (at, ", ".join(kinds), kind))
        if kind == "text" and not isinstance(item.get("text"), str):
            raise bad("%s.text must be a string" % at)
        if kind == "thinking" and not isinstance(item.get("thinking"), str):
            raise bad("%s.thinking must be a string" % at)
        if kind == "image_url":
            iu = item.get("image_url")
            if not isinstance(iu, dict) or not isinstance(iu.get("url"), str) or not iu["url"]:
                raise bad("%s.image_url.url must be a non-empty string" % at)
            if not (iu["url"].startswith(("http://", "https://")) or re.match(r"data:image/[a-z+.-]+;base64,", iu["url"])):
                raise bad("%s.image_url.url must be an http(s) URL or a base64 data URL" % at)
            if iu.get("detail") not in (None, "auto", "low", "high"):
                raise bad("%s.image_url.detail must be one of auto, low, high" % at)
        if kind == "document" and not isinstance(item.get("document"), dict):
            raise bad("%s.document must be an object" % at)


def text_of(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(i.get("text", "") for i in content if isinstance(i, dict) and i.get("type") == "text")
    return ""


def check_messages(msgs):
    if not isinstance(msgs, list) or not msgs:
        raise bad("messages must be a non-empty list")
    call_ids = set()
    for i, m in enumerate(msgs):
        at = "messages[%d]" % i
        if not isinstance(m, dict):
            raise bad("%s must be an object" % at)
        role = m.get("role")
        if role not in ROLES:
            raise bad("%s.role must be one of User, Assistant, System, Tool, got %s" % (at, role))
        content = m.get("content")
        if role == "user":
            if content is None:
                raise bad("%s.content is required" % at)
            check_items(content, at + ".content", USER_ITEMS)
            if not text_of(content).strip() and not (isinstance(content, list) and content):
                raise bad("message must be at least 1 token long")
        elif role == "system":
            if content is None:
                raise bad("%s.content is required" % at)
            check_items(content, at + ".content", SYSTEM_ITEMS)
        elif role == "tool":
            tid = m.get("tool_call_id")
            if not isinstance(tid, str) or not tid:
                raise bad("%s.tool_call_id is required" % at)
            if tid not in call_ids:
                raise bad("%s.tool_call_id %s does not match any tool call of an earlier assistant message" % (at, tid))
            if content is None:
                raise bad("%s.content is required" % at)
            check_items(content, at + ".content", TOOL_ITEMS)
        else:
            calls = m.get("tool_calls")
            if calls is not None:
                if not isinstance(calls, list):
                    raise bad("%s.tool_calls must be a list" % at)
                for j, c in enumerate(calls):
                    cat = "%s.tool_calls[%d]" % (at, j)
                    if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not c["id"]:
                        raise bad("%s.id is required" % cat)
                    fn = c.get("function")
                    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
                        raise bad("%s.function.name is required" % cat)
                    if not isinstance(fn.get("arguments"), str):
                        raise bad("%s.function.arguments must be a string" % cat)
                    call_ids.add(c["id"])
            if content is not None:
                check_items(content, at + ".content", ASSISTANT_ITEMS)
            if m.get("tool_plan") is not None and not isinstance(m["tool_plan"], str):
                raise bad("%s.tool_plan must be a string" % at)
            if not calls and not text_of(content).strip():
                raise bad("%s: an assistant message needs content or tool_calls" % at)


def check_tools(tools):
    if not isinstance(tools, list):
        raise bad("tools must be a list")
    names = set()
    for i, t in enumerate(tools):
        at = "tools[%d]" % i
        if not isinstance(t, dict) or t.get("type") != "function":
            raise bad("%s.type must be function" % at)
        fn = t.get("function")
        if not isinstance(fn, dict):
            raise bad("%s.function is required" % at)
        name = fn.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise bad("%s.function.name must match ^[a-zA-Z0-9_-]{1,64}$" % at)
        if name in names:
            raise bad("duplicate tool name %s" % name)
        names.add(name)
        params = fn.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise bad("%s.function.parameters must be a JSON schema object" % at)


def number(body, key, lo, hi, integer=False, what=None):
    v = body.get(key)
    if v is None:
        return
    if integer and not is_int(v) or not is_num(v):
        raise bad("%s must be %s" % (key, "an integer" if integer else "a number"))
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise bad(what or "%s must be between %s and %s inclusive" % (key, lo, hi))


def validate(body):
    """Raise Invalid for what the real API refuses; return nothing."""
    for k in body:
        if k not in TOP_LEVEL:
            raise Invalid("invalid request: unknown field: parameter %s is not a valid field" % k)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("model must be specified")
    if "messages" not in body:
        raise bad("messages must be specified")
    check_messages(body["messages"])
    if present(body, "stream") and not isinstance(body["stream"], bool):
        raise bad("stream must be a boolean")
    if present(body, "tools"):
        check_tools(body["tools"])
    choice = body.get("tool_choice")
    if choice is not None:
        if choice not in ("REQUIRED", "NONE"):
            raise bad("tool_choice must be one of REQUIRED, NONE")
        if choice == "REQUIRED" and not body.get("tools"):
            raise bad("tool_choice REQUIRED requires tools to be specified")
    number(body, "temperature", 0, None, what="temperature must be non-negative")
    number(body, "p", 0.01, 0.99)
    number(body, "k", 0, 500, integer=True)
    number(body, "frequency_penalty", 0, 1)
    number(body, "presence_penalty", 0, 1)
    number(body, "max_tokens", 1, None, integer=True, what="max_tokens must be at least 1")
    if present(body, "seed") and not is_int(body["seed"]):
        raise bad("seed must be an integer")
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise bad("stop_sequences must be a list of strings")
        if len(stops) > 5:
            raise bad("stop_sequences can have at most 5 elements")
    for key in ("logprobs", "strict_tools"):
        if present(body, key) and not isinstance(body[key], bool):
            raise bad("%s must be a boolean" % key)
    if present(body, "safety_mode") and body["safety_mode"] not in ("CONTEXTUAL", "STRICT", "OFF"):
        raise bad("safety_mode must be one of CONTEXTUAL, STRICT, OFF")
    rf = body.get("response_format")
    if rf is not None:
        if not isinstance(rf, dict) or rf.get("type") not in ("text", "json_object"):
            raise bad("response_format.type must be one of text, json_object")
        if rf["type"] == "text" and rf.get("json_schema") is not None:
            raise bad("response_format.json_schema must not be specified when type is text")
        if rf.get("json_schema") is not None and not isinstance(rf["json_schema"], dict):
            raise bad("response_format.json_schema must be an object")
    thinking = body.get("thinking")
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
            raise bad("thinking.type must be one of enabled, disabled")
        budget = thinking.get("token_budget")
        if budget is not None and (not is_int(budget) or budget < 1):
            raise bad("thinking.token_budget must be a positive integer")
