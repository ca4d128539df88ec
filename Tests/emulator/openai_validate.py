"""Request checks for OpenAI chat completions, with the messages, `param` paths and `code`s the real API uses.

The point is that a client bug (a missing tool_call_id, a bad tool name, stream_options without stream) fails
against the emulator the same way it would fail in production, instead of passing silently.
"""

import json
import re

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
USER_PARTS = ("text", "image_url", "input_audio", "file")
ASSISTANT_PARTS = ("text", "refusal")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")

# Top-level parameters of POST /v1/chat/completions. Anything else is let through but reported back in the
# x-emulator-extra-keys response header, so pass-through tests can see what arrived.
KNOWN_KEYS = {
    "model", "messages", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "prompt_cache_key", "prompt_cache_retention", "reasoning_effort", "response_format",
    "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options", "temperature",
    "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
}


class Invalid(Exception):
    """A 400 with OpenAI's error fields."""

    def __init__(self, message, param=None, code=None, type_="invalid_request_error", status=400):
        super().__init__(message)
        self.message, self.param, self.code, self.type, self.status = message, param, code, type_, status


def jtype(v):
    """The JSON type name OpenAI uses in its 'expected X, but got Y' messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "decimal"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _article(t):
    return ("an " if t[0] in "aeiou" else "a ") + t


def wrong_type(param, expected, value):
    return Invalid("Invalid type for '%s': expected %s, but got %s instead." % (param, expected, _article(jtype(value))),
                   param, "invalid_type")


def missing(param):
    return Invalid("Missing required parameter: '%s'." % param, param, "missing_required_parameter")


def bad_value(param, value, allowed):
    quoted = ["'%s'" % a for a in allowed]
    listing = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + (", and " if len(quoted) > 2 else " and ") + quoted[-1]
    return Invalid("Invalid value: '%s'. Supported values are: %s." % (value, listing), param, "invalid_value")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_integer(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_range(body, key, lo, hi):
    v = body.get(key)
    if v is None:
        return
    if not is_number(v):
        raise wrong_type(key, "a decimal", v)
    if v < lo:
        raise Invalid("Invalid '%s': decimal below minimum value. Expected a value >= %s, but got %s instead."
                      % (key, lo, json.dumps(v)), key, "decimal_below_min_value")
    if v > hi:
        raise Invalid("Invalid '%s': decimal above maximum value. Expected a value <= %s, but got %s instead."
                      % (key, hi, json.dumps(v)), key, "decimal_above_max_value")


def check_min_int(body, key, lo):
    v = body.get(key)
    if v is None:
        return
    if not is_integer(v):
        raise wrong_type(key, "an integer", v)
    if v < lo:
        raise Invalid("Invalid '%s': integer below minimum value. Expected a value >= %d, but got %d instead."
                      % (key, lo, v), key, "integer_below_min_value")


def check_content(content, at, allowed, required=True):
    if content is None:
        if required:
            raise missing(at)
        return
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise wrong_type(at, "one of a string or array of objects", content)
    if not content:
        raise Invalid("Invalid '%s': empty array. Expected an array with minimum length 1, but got an empty array "
                      "instead." % at, at, "empty_array")
    for j, part in enumerate(content):
        p = "%s[%d]" % (at, j)
        if not isinstance(part, dict):
            raise wrong_type(p, "an object", part)
        kind = part.get("type")
        if kind is None:
            raise missing(p + ".type")
        if kind not in allowed:
            raise bad_value(p + ".type", kind, allowed)
        if kind in ("text", "refusal"):
            if not isinstance(part.get(kind), str):
                raise missing(p + "." + kind) if part.get(kind) is None else wrong_type(p + "." + kind, "a string", part[kind])
        elif kind == "image_url":
            image = part.get("image_url")
            if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                raise missing(p + ".image_url.url")
        elif not isinstance(part.get(kind), dict):       # input_audio / file carry an object named like the type
            raise missing(p + "." + kind)


def check_messages(msgs):
    if msgs is None:
        raise missing("messages")
    if not isinstance(msgs, list):
        raise wrong_type("messages", "an array", msgs)
    if not msgs:
        raise Invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty "
                      "array instead.", "messages", "empty_array")
    call_ids = set()          # ids of tool calls made by earlier assistant messages
    for i, msg in enumerate(msgs):
        at = "messages[%d]" % i
        if not isinstance(msg, dict):
            raise wrong_type(at, "an object", msg)
        role = msg.get("role")
        if role is None:
            raise missing(at + ".role")
        if role not in ROLES:
            raise bad_value(at + ".role", role, ("system", "assistant", "user", "function", "tool", "developer"))
        content = msg.get("content")
        if role in ("system", "developer", "user"):
            check_content(content, at + ".content", USER_PARTS)
        elif role == "assistant":
            calls = msg.get("tool_calls")
            if content is None and not calls and not msg.get("function_call"):
                raise Invalid("Invalid value for 'content': expected a string, got null.", at + ".content")
            check_content(content, at + ".content", ASSISTANT_PARTS, required=False)
            if calls is not None:
                if not isinstance(calls, list):
                    raise wrong_type(at + ".tool_calls", "an array", calls)
                for j, call in enumerate(calls):
                    p = "%s.tool_calls[%d]" % (at, j)
                    if not isinstance(call, dict):
                        raise wrong_type(p, "an object", call)
                    if not isinstance(call.get("id"), str):
                        raise missing(p + ".id")
                    fn = call.get("function")
                    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                        raise missing(p + ".function.name")
                    call_ids.add(call["id"])
        elif role == "tool":
            tcid = msg.get("tool_call_id")
            if not isinstance(tcid, str) or not tcid:
                raise Invalid("Missing parameter 'tool_call_id': messages with role 'tool' must have a "
                              "'tool_call_id'.", at + ".tool_call_id")
            if tcid not in call_ids:
                # (sic: "preceeding" is the real API's spelling)
                raise Invalid("Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                              "message with 'tool_calls'.", at + ".role")
            check_content(content, at + ".content", ("text",))
        elif role == "function":
            if not isinstance(msg.get("name"), str):
                raise Invalid("Missing parameter 'name': messages with role 'function' must have a 'name'.",
                              at + ".name")


def check_tools(body):
    tools = body.get("tools")
    names = []
    if tools is not None:
        if not isinstance(tools, list):
            raise wrong_type("tools", "an array", tools)
        if not tools:
            raise Invalid("Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty "
                          "array instead.", "tools", "empty_array")
        for j, tool in enumerate(tools):
            at = "tools[%d]" % j
            if not isinstance(tool, dict):
                raise wrong_type(at, "an object", tool)
            if tool.get("type") != "function":
                raise missing(at + ".type") if tool.get("type") is None else bad_value(at + ".type", tool["type"], ("function",))
            fn = tool.get("function")
            if not isinstance(fn, dict):
                raise missing(at + ".function")
            name = fn.get("name")
            p = at + ".function.name"
            if name is None:
                raise missing(p)
            if not isinstance(name, str):
                raise wrong_type(p, "a string", name)
            if len(name) > 64:
                raise Invalid("Invalid '%s': string too long. Expected a string with maximum length 64, but got a "
                              "string with length %d instead." % (p, len(name)), p, "string_above_max_length")
            if not TOOL_NAME.match(name):
                raise Invalid("Invalid '%s': string does not match pattern. Expected a string that matches the "
                              "pattern '^[a-zA-Z0-9_-]+$'." % p, p, "invalid_value")
            params = fn.get("parameters")
            if params is not None and not isinstance(params, dict):
                raise wrong_type(at + ".function.parameters", "an object", params)
            names.append(name)

    choice = body.get("tool_choice")
    if choice is None:
        return
    if tools is None:
        raise Invalid("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                      "tool_choice")
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise bad_value("tool_choice", choice, ("none", "auto", "required"))
    elif isinstance(choice, dict):
        fn = choice.get("function")
        if choice.get("type") != "function" or not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise missing("tool_choice.function.name")
        if fn["name"] not in names:
            raise Invalid("Invalid value for 'tool_choice': function '%s' is not one of the functions in 'tools'."
                          % fn["name"], "tool_choice")
    else:
        raise wrong_type("tool_choice", "one of a string or object", choice)


def validate(body, azure=False):
    """Raise Invalid for the first problem found, in roughly the order the real API reports them."""
    if not azure:                     # on Azure the deployment in the path names the model
        model = body.get("model")
        if model is None or model == "":
            raise Invalid("you must provide a model parameter")
        if not isinstance(model, str):
            raise wrong_type("model", "a string", model)
    check_messages(body.get("messages"))
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise wrong_type("stream", "a boolean", stream)
    opts = body.get("stream_options")
    if opts is not None:
        if stream is not True:
            raise Invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                          "stream_options")
        if not isinstance(opts, dict):
            raise wrong_type("stream_options", "an object", opts)
        if "include_usage" in opts and not isinstance(opts["include_usage"], bool):
            raise wrong_type("stream_options.include_usage", "a boolean", opts["include_usage"])
    check_range(body, "temperature", 0, 2)
    check_range(body, "top_p", 0, 1)
    check_min_int(body, "n", 1)
    check_min_int(body, "max_tokens", 1)
    check_min_int(body, "max_completion_tokens", 1)
    ptc = body.get("parallel_tool_calls")
    if ptc is not None and not isinstance(ptc, bool):
        raise wrong_type("parallel_tool_calls", "a boolean", ptc)
    check_tools(body)


def extra_keys(body):
    return [k for k in body if k not in KNOWN_KEYS]
