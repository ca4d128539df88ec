"""Request checks for Mistral's chat completions, the way its FastAPI/pydantic front end reports them.

Mistral forbids unknown keys everywhere (`extra_forbidden`) and reports every violation at once with HTTP 422 and
`{"object":"error","message":{"detail":[{"type","loc","msg","input"}...]},"type":"invalid_request_error",...}`.
The parameter set follows mistralai/client-python's ChatCompletionRequest (docs.mistral.ai/api).
"""

import json

KNOWN_KEYS = {
    "model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed", "metadata",
    "response_format", "tools", "tool_choice", "presence_penalty", "frequency_penalty", "n", "prediction",
    "parallel_tool_calls", "reasoning_effort", "prompt_mode", "guardrails", "prompt_cache_key", "safe_prompt",
}
ROLE_KEYS = {
    "system": {"role", "content"},
    "user": {"role", "content"},
    "assistant": {"role", "content", "tool_calls", "prefix"},
    "tool": {"role", "content", "tool_call_id", "name"},
}
TOOL_CHOICES = ("auto", "none", "any", "required")
REASONING_EFFORTS = ("none", "high")


class Invalid(Exception):
    def __init__(self, items):
        super().__init__("validation failed")
        self.items = items


def body_of(items):
    return {"object": "error", "message": {"detail": items}, "type": "invalid_request_error", "param": None,
            "code": None}


def item(type_, loc, msg, value, ctx=None):
    out = {"type": type_, "loc": ["body"] + list(loc), "msg": msg, "input": value}
    if ctx:
        out["ctx"] = ctx
    return out


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _enum_msg(options):
    quoted = ["'%s'" % o for o in options]
    return "Input should be " + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1])


def json_invalid(err):
    return body_of([item("json_invalid", [0], "JSON decode error", {}, {"error": str(err)})])


def validate(body):
    """Raise Invalid with every violation found."""
    errs = []
    for k, v in body.items():
        if k not in KNOWN_KEYS:
            errs.append(item("extra_forbidden", [k], "Extra inputs are not permitted", v))

    model = body.get("model")
    if "model" not in body:
        errs.append(item("missing", ["model"], "Field required", body))
    elif not isinstance(model, str):
        errs.append(item("string_type", ["model"], "Input should be a valid string", model))

    msgs = body.get("messages")
    if "messages" not in body:
        errs.append(item("missing", ["messages"], "Field required", body))
    elif not isinstance(msgs, list):
        errs.append(item("list_type", ["messages"], "Input should be a valid list", msgs))
    else:
        for i, m in enumerate(msgs):
            errs += _message(i, m)

    for key, lo, hi in (("temperature", 0, None), ("top_p", 0, 1), ("presence_penalty", -2, 2),
                        ("frequency_penalty", -2, 2)):
        v = body.get(key)
        if v is None:
            continue
        if not _is_num(v):
            errs.append(item("float_type", [key], "Input should be a valid number", v))
        elif v < lo:
            errs.append(item("greater_than_equal", [key], "Input should be greater than or equal to %s" % lo, v,
                             {"ge": lo}))
        elif hi is not None and v > hi:
            errs.append(item("less_than_equal", [key], "Input should be less than or equal to %s" % hi, v,
                             {"le": hi}))
    for key, lo in (("max_tokens", 0), ("n", 1), ("random_seed", 0)):
        v = body.get(key)
        if v is None:
            continue
        if not _is_int(v):
            errs.append(item("int_type", [key], "Input should be a valid integer", v))
        elif v < lo:
            errs.append(item("greater_than_equal", [key], "Input should be greater than or equal to %d" % lo, v,
                             {"ge": lo}))
    for key in ("stream", "safe_prompt", "parallel_tool_calls"):
        v = body.get(key)
        if v is not None and not isinstance(v, bool):
            errs.append(item("bool_type", [key], "Input should be a valid boolean", v))
    pm = body.get("prompt_mode")
    if pm is not None and pm != "reasoning":
        errs.append(item("enum", ["prompt_mode"], _enum_msg(["reasoning"]), pm, {"expected": "'reasoning'"}))
    re_ = body.get("reasoning_effort")
    if re_ is not None and re_ not in REASONING_EFFORTS:
        errs.append(item("enum", ["reasoning_effort"], _enum_msg(REASONING_EFFORTS), re_))
    errs += _tools(body)
    rf = body.get("response_format")
    if rf is not None and (not isinstance(rf, dict) or rf.get("type") not in ("text", "json_object", "json_schema")):
        errs.append(item("enum", ["response_format", "type"], _enum_msg(["text", "json_object", "json_schema"]),
                         rf.get("type") if isinstance(rf, dict) else rf))
    if errs:
        raise Invalid(errs)


def _message(i, m):
    if not isinstance(m, dict):
        return [item("model_attributes_type", ["messages", i], "Input should be a valid dictionary or object to "
                     "extract fields from", m)]
    role = m.get("role")
    if role not in ROLE_KEYS:
        return [item("union_tag_invalid", ["messages", i],
                     "Input tag '%s' found using 'role' does not match any of the expected tags: 'assistant', "
                     "'system', 'tool', 'user'" % role, m,
                     {"discriminator": "'role'", "tag": str(role),
                      "expected_tags": "'assistant', 'system', 'tool', 'user'"})]
    errs = [item("extra_forbidden", ["messages", i, role, k], "Extra inputs are not permitted", v)
            for k, v in m.items() if k not in ROLE_KEYS[role]]
    content = m.get("content")
    if role in ("system", "user") and "content" not in m:
        errs.append(item("missing", ["messages", i, role, "content"], "Field required", m))
    if content is not None and not isinstance(content, (str, list)):
        errs.append(item("string_type", ["messages", i, role, "content", "str"], "Input should be a valid string",
                         content))
    if role == "tool" and not isinstance(m.get("tool_call_id"), str):
        errs.append(item("missing", ["messages", i, role, "tool_call_id"], "Field required", m))
    for j, call in enumerate(m.get("tool_calls") or [] if role == "assistant" else []):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            errs.append(item("missing", ["messages", i, role, "tool_calls", j, "function", "name"], "Field required",
                             call))
        elif not isinstance(fn.get("arguments"), (str, dict)):
            errs.append(item("missing", ["messages", i, role, "tool_calls", j, "function", "arguments"],
                             "Field required", call))
    return errs


def _tools(body):
    errs = []
    tools = body.get("tools")
    names = []
    if tools is not None:
        if not isinstance(tools, list):
            return [item("list_type", ["tools"], "Input should be a valid list", tools)]
        for j, t in enumerate(tools):
            fn = t.get("function") if isinstance(t, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                errs.append(item("missing", ["tools", j, "function", "name"], "Field required", t))
                continue
            names.append(fn["name"])
            extra = [k for k in t if k not in ("type", "function")]
            errs += [item("extra_forbidden", ["tools", j, k], "Extra inputs are not permitted", t[k]) for k in extra]
    choice = body.get("tool_choice")
    if isinstance(choice, str):
        if choice not in TOOL_CHOICES:
            errs.append(item("enum", ["tool_choice", "function-after[validate_enum(), ToolChoiceEnum]"],
                             _enum_msg(TOOL_CHOICES), choice))
    elif isinstance(choice, dict):
        fn = choice.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            errs.append(item("missing", ["tool_choice", "ToolChoice", "function"], "Field required", choice))
    elif choice is not None:
        errs.append(item("enum", ["tool_choice"], _enum_msg(TOOL_CHOICES), choice))
    return errs


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
