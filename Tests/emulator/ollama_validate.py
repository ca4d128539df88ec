"""Request checks for Ollama's native `POST /api/chat`, with the Go server's own error strings.

Ollama decodes the body with Go's encoding/json into api.ChatRequest: unknown keys are ignored, `null` leaves a
field at its zero value, and a value of the wrong JSON type fails the whole request with
`json: cannot unmarshal <json type> into Go struct field <Struct>.<path> of type <Go type>`. Custom types add
their own messages (images are base64 []byte, `think`, `keep_alive` durations), and `options` are type-checked
when the runner is scheduled.
"""

import base64
import binascii
import json
import re


class Invalid(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.message, self.status = message, status


def go_kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def wrong(value, struct, path, go_type):
    kind = go_kind(value)
    if kind == "number" and go_type in ("int",):
        kind = "number " + json.dumps(value)
    return Invalid("json: cannot unmarshal %s into Go struct field %s.%s of type %s" % (kind, struct, path, go_type))


def want(obj, key, struct, path, check, go_type):
    v = obj.get(key)
    if v is not None and not check(v):
        raise wrong(v, struct, path, go_type)
    return v


def is_str(v):
    return isinstance(v, str)


def is_bool(v):
    return isinstance(v, bool)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_obj(v):
    return isinstance(v, dict)


def is_list(v):
    return isinstance(v, list)


def check_image(data):
    """Go decodes []byte from standard base64; the error names the first bad byte."""
    s = data
    for i, ch in enumerate(s):
        if not (ch.isascii() and (ch.isalnum() or ch in "+/=")):
            raise Invalid("illegal base64 data at input byte %d" % i)
    try:
        base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("illegal base64 data at input byte %d" % max(0, len(s) - len(s) % 4))


def check_messages(msgs):
    for msg in msgs:
        if msg is None:
            continue
        if not is_obj(msg):
            raise wrong(msg, "ChatRequest", "messages", "api.Message")
        for key in ("role", "content", "thinking", "tool_name", "tool_call_id"):
            want(msg, key, "Message", "messages." + key, is_str, "string")
        images = want(msg, "images", "Message", "messages.images", is_list, "[]api.ImageData")
        for img in images or []:
            if img is None:
                continue
            if not is_str(img):
                raise wrong(img, "Message", "messages.images", "api.ImageData")
            check_image(img)
        calls = want(msg, "tool_calls", "Message", "messages.tool_calls", is_list, "[]api.ToolCall")
        for call in calls or []:
            if call is None:
                continue
            if not is_obj(call):
                raise wrong(call, "Message", "messages.tool_calls", "api.ToolCall")
            want(call, "id", "ToolCall", "messages.tool_calls.id", is_str, "string")
            fn = want(call, "function", "ToolCall", "messages.tool_calls.function", is_obj, "api.ToolCallFunction")
            if fn:
                p = "messages.tool_calls.function."
                want(fn, "index", "ToolCallFunction", p + "index", is_int, "int")
                want(fn, "name", "ToolCallFunction", p + "name", is_str, "string")
                want(fn, "arguments", "ToolCallFunction", p + "arguments", is_obj, "api.ToolCallFunctionArguments")


def check_tools(tools):
    for tool in tools:
        if tool is None:
            continue
        if not is_obj(tool):
            raise wrong(tool, "ChatRequest", "tools", "api.Tool")
        want(tool, "type", "Tool", "tools.type", is_str, "string")
        fn = want(tool, "function", "Tool", "tools.function", is_obj, "api.ToolFunction")
        if fn:
            want(fn, "name", "ToolFunction", "tools.function.name", is_str, "string")
            want(fn, "description", "ToolFunction", "tools.function.description", is_str, "string")
            params = want(fn, "parameters", "ToolFunction", "tools.function.parameters", is_obj,
                          "api.ToolFunctionParameters")
            if params:
                want(params, "type", "ToolFunctionParameters", "tools.function.parameters.type", is_str, "string")
                want(params, "required", "ToolFunctionParameters", "tools.function.parameters.required", is_list,
                     "[]string")
                want(params, "properties", "ToolFunctionParameters", "tools.function.parameters.properties",
                     is_obj, "map[string]api.ToolProperty")


def check_think(think):
    if think is None or isinstance(think, bool):
        return
    if isinstance(think, str):
        if think not in ("high", "medium", "low"):
            raise Invalid('invalid think value: %s (must be "high", "medium", "low", true, or false)'
                          % json.dumps(think))
        return
    raise Invalid('think must be a boolean or string ("high", "medium", "low", true, or false)')


GO_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")


def check_keep_alive(value):
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return
    if isinstance(value, str):
        if value in ("0", "+0", "-0") or GO_DURATION.match(value):
            return
        if re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", value):
            raise Invalid('time: missing unit in duration %s' % json.dumps(value))
        m = re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([^\d.]+).*", value)
        if m:
            raise Invalid('time: unknown unit %s in duration %s' % (json.dumps(m.group(3)), json.dumps(value)))
        raise Invalid("time: invalid duration %s" % json.dumps(value))
    go = {"bool": "bool", "array": "[]interface {}", "object": "map[string]interface {}"}[go_kind(value)]
    raise Invalid("Unsupported type: '%s'" % go)


INT_OPTIONS = ("num_keep", "seed", "num_predict", "top_k", "repeat_last_n", "num_ctx", "num_batch", "num_gpu",
               "main_gpu", "num_thread")
FLOAT_OPTIONS = ("top_p", "min_p", "typical_p", "temperature", "repeat_penalty", "presence_penalty",
                 "frequency_penalty")


def check_options(options):
    """As api.Options.FromMap does when the runner is scheduled (so the real server answers these with 500)."""
    for key, val in options.items():
        if val is None:
            continue
        if key in INT_OPTIONS and not (isinstance(val, (int, float)) and not isinstance(val, bool)):
            raise Invalid('option "%s" must be of type integer' % key, 500)
        if key in FLOAT_OPTIONS and not (isinstance(val, (int, float)) and not isinstance(val, bool)):
            raise Invalid('option "%s" must be of type float32' % key, 500)
        if key == "use_mmap" and not isinstance(val, bool):
            raise Invalid('option "%s" must be of type boolean' % key, 500)
        if key == "stop":
            if not isinstance(val, list):
                raise Invalid('option "%s" must be of type array' % key, 500)
            if not all(isinstance(s, str) for s in val):
                raise Invalid('option "%s" must be of an array of strings' % key, 500)
        # unknown options are only logged by the real server ("invalid option provided")


def check_format(fmt):
    """Checked by the runner before it generates (the real server answers 500)."""
    if fmt is None or fmt == "" or fmt == "json" or isinstance(fmt, dict):
        return
    raise Invalid('invalid format: %s; expected "json" or a valid JSON Schema object'
                  % json.dumps(json.dumps(fmt, ensure_ascii=False)), 500)


def validate(body):
    """Raise Invalid for the first problem, in the order the Go server meets them."""
    model = want(body, "model", "ChatRequest", "model", is_str, "string")
    msgs = want(body, "messages", "ChatRequest", "messages", is_list, "[]api.Message")
    check_messages(msgs or [])
    for key in ("stream", "truncate", "shift", "logprobs"):
        want(body, key, "ChatRequest", key, is_bool, "bool")
    want(body, "top_logprobs", "ChatRequest", "top_logprobs", is_int, "int")
    options = want(body, "options", "ChatRequest", "options", is_obj, "map[string]interface {}")
    tools = want(body, "tools", "ChatRequest", "tools", is_list, "api.Tools")
    check_tools(tools or [])
    check_think(body.get("think"))
    check_keep_alive(body.get("keep_alive"))
    if not model:
        raise Invalid("model is required")
    return options or {}
