"""Request checks for the Anthropic Messages API, with the messages the real API uses.

The real API validates with pydantic, so most messages are `<dotted.path>: <pydantic message>` (paths index lists
with plain numbers: `messages.0.content.1.text`), plus a handful of hand-written conversation rules (roles, tool
pairing, thinking) whose wording is copied from the real service.
"""

import base64
import binascii
import re

DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"

TOP_LEVEL = {
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature", "top_p",
    "top_k", "tools", "tool_choice", "thinking", "output_config", "service_tier", "container", "context_management",
    "mcp_servers", "inference_geo",
}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
SERVER_TOOL_TYPE = re.compile(r"^[a-z_]+_\d{8}$")     # web_search_20250305, bash_20250124, ...

# Block types and the keys each may carry (None: not checked, e.g. server-tool results echoed back by clients).
BLOCK_KEYS = {
    "text": {"type", "text", "cache_control", "citations"},
    "image": {"type", "source", "cache_control"},
    "document": {"type", "source", "title", "context", "citations", "cache_control"},
    "search_result": {"type", "source", "title", "content", "citations", "cache_control"},
    "tool_use": {"type", "id", "name", "input", "cache_control", "caller"},
    "tool_result": {"type", "tool_use_id", "content", "is_error", "cache_control"},
    "thinking": {"type", "thinking", "signature"},
    "redacted_thinking": {"type", "data"},
    "server_tool_use": None, "web_search_tool_result": None, "web_fetch_tool_result": None,
    "code_execution_tool_result": None, "bash_code_execution_tool_result": None,
    "text_editor_code_execution_tool_result": None, "mcp_tool_use": None, "mcp_tool_result": None,
    "container_upload": None,
}
ASSISTANT_ONLY = {"tool_use", "thinking", "redacted_thinking", "server_tool_use"}
USER_ONLY = {"tool_result"}


class Invalid(Exception):
    """A 400 invalid_request_error (or another status/type) with the real API's message."""

    def __init__(self, message, status=400, type_="invalid_request_error"):
        super().__init__(message)
        self.message, self.status, self.type = message, status, type_


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _tags(names):
    quoted = ["'%s'" % n for n in names]
    return ", ".join(quoted)


def required(path):
    return Invalid("%s: Field required" % path)


def extra(path):
    return Invalid("%s: Extra inputs are not permitted" % path)


def need_str(obj, key, path):
    if key not in obj:
        raise required(path)
    if not isinstance(obj[key], str):
        raise Invalid("%s: Input should be a valid string" % path)
    return obj[key]


def need_dict(v, path):
    if not isinstance(v, dict):
        raise Invalid("%s: Input should be a valid dictionary" % path)
    return v


def need_list(v, path):
    if not isinstance(v, list):
        raise Invalid("%s: Input should be a valid list" % path)
    return v


def check_number(body, key, lo=None, hi=None, integer=False):
    v = body.get(key)
    if v is None:
        return
    if integer and not is_int(v):
        raise Invalid("%s: Input should be a valid integer" % key)
    if not is_num(v):
        raise Invalid("%s: Input should be a valid number" % key)
    if lo is not None and v < lo:
        raise Invalid("%s: Input should be greater than or equal to %s" % (key, lo))
    if hi is not None and v > hi:
        raise Invalid("%s: Input should be less than or equal to %s" % (key, hi))


def is_base64(s):
    if not isinstance(s, str) or not s:
        return False
    try:
        base64.b64decode(s, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


# ---- blocks -----------------------------------------------------------------------------------------------------
def check_source(src, path, kinds):
    need_dict(src, path)
    kind = src.get("type")
    if kind is None:
        raise required(path + ".type")
    if kind not in kinds:
        raise Invalid("%s: Input tag '%s' found using 'type' does not match any of the expected tags: %s"
                      % (path, kind, _tags(kinds)))
    if kind == "base64":
        need_str(src, "data", "%s.base64.data" % path)
        if "media_type" not in src:
            raise required("%s.base64.media_type" % path)
        if path.endswith("image.source") and src["media_type"] not in IMAGE_TYPES:
            raise Invalid("%s.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or "
                          "'image/webp'" % path)
        if not is_base64(src["data"]):
            raise Invalid("%s.base64.data: Input should be valid base64" % path)
    elif kind == "url":
        need_str(src, "url", "%s.url.url" % path)
    elif kind == "file":
        need_str(src, "file_id", "%s.file.file_id" % path)


def check_block(block, path, role):
    """Check one content block; return its type."""
    if not isinstance(block, dict):
        raise Invalid("%s: Input should be a valid dictionary or object to extract fields from" % path)
    kind = block.get("type")
    if kind is None:
        raise required(path + ".type")
    if kind not in BLOCK_KEYS:
        raise Invalid("%s: Input tag '%s' found using 'type' does not match any of the expected tags: %s"
                      % (path, kind, _tags(BLOCK_KEYS)))
    allowed = BLOCK_KEYS[kind]
    if allowed is not None:
        for k in block:
            if k not in allowed:
                raise extra("%s.%s.%s" % (path, kind, k))
    at = "%s.%s" % (path, kind)
    if kind == "text":
        if not need_str(block, "text", at + ".text"):
            raise Invalid("messages: text content blocks must be non-empty")
    elif kind == "image":
        if "source" not in block:
            raise required(at + ".source")
        check_source(block["source"], at + ".source", ("base64", "url", "file"))
    elif kind == "document":
        if "source" not in block:
            raise required(at + ".source")
        check_source(block["source"], at + ".source", ("base64", "text", "url", "content", "file"))
    elif kind == "tool_use":
        need_str(block, "id", at + ".id")
        need_str(block, "name", at + ".name")
        if "input" not in block:
            raise required(at + ".input")
        need_dict(block["input"], at + ".input")
    elif kind == "tool_result":
        need_str(block, "tool_use_id", at + ".tool_use_id")
        content = block.get("content")
        if content is not None and not isinstance(content, str):
            need_list(content, at + ".content")
            for j, sub in enumerate(content):
                sub_kind = check_block(sub, "%s.content.%d" % (at, j), "user")
                if sub_kind not in ("text", "image", "document", "search_result"):
                    raise Invalid("%s.content.%d: Input tag '%s' found using 'type' does not match any of the "
                                  "expected tags: 'text', 'image', 'search_result', 'document'" % (at, j, sub_kind))
        if "is_error" in block and not isinstance(block["is_error"], bool):
            raise Invalid("%s.is_error: Input should be a valid boolean" % at)
    elif kind == "thinking":
        need_str(block, "thinking", at + ".thinking")
        need_str(block, "signature", at + ".signature")
        if not is_base64(block["signature"]):
            raise Invalid("%s: Invalid `signature` in `thinking` block" % path)
    elif kind == "redacted_thinking":
        need_str(block, "data", at + ".data")
    if role == "user" and kind in ASSISTANT_ONLY:
        raise Invalid("%s: `%s` blocks can only be in `assistant` messages" % (path, kind))
    if role == "assistant" and kind in USER_ONLY:
        raise Invalid("%s: `%s` blocks can only be in `user` messages" % (path, kind))
    return kind


def blocks_of(msg):
    content = msg.get("content")
    return content if isinstance(content, list) else []


def check_messages(body):
    if "messages" not in body:
        raise required("messages")
    msgs = need_list(body["messages"], "messages")
    if not msgs:
        raise Invalid("messages: at least one message is required")
    for i, msg in enumerate(msgs):
        at = "messages.%d" % i
        if not isinstance(msg, dict):
            raise Invalid("%s: Input should be a valid dictionary or object to extract fields from" % at)
        for k in msg:
            if k not in ("role", "content"):
                raise extra("%s.%s" % (at, k))
        if "role" not in msg:
            raise required(at + ".role")
        role = msg["role"]
        if role == "system":
            raise Invalid('messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                          'parameter, not "system" as an input message role.')
        if role not in ("user", "assistant"):
            raise Invalid("%s.role: Input should be 'user' or 'assistant'" % at)
        if "content" not in msg:
            raise required(at + ".content")
        content = msg["content"]
        last = i == len(msgs) - 1
        if isinstance(content, str):
            if not content and not (last and role == "assistant"):
                raise Invalid("messages.%d: all messages must have non-empty content except for the optional "
                              "final assistant message" % i)
        elif isinstance(content, list):
            if not content and not (last and role == "assistant"):
                raise Invalid("messages.%d: all messages must have non-empty content except for the optional "
                              "final assistant message" % i)
            for j, block in enumerate(content):
                check_block(block, "%s.content.%d" % (at, j), role)
        else:
            raise Invalid("%s.content: Input should be a valid list" % at)
    if msgs[0]["role"] != "user":
        raise Invalid('messages: first message must use the "user" role')

    # a final assistant message is a prefill: it may not end with whitespace
    final = msgs[-1]
    if final["role"] == "assistant":
        text = final["content"] if isinstance(final["content"], str) else None
        if isinstance(final["content"], list) and final["content"] and final["content"][-1].get("type") == "text":
            text = final["content"][-1]["text"]
        if text and text != text.rstrip():
            raise Invalid("messages: final assistant content cannot end with trailing whitespace")

    # tool_use / tool_result pairing, as the real API enforces it
    for i, msg in enumerate(msgs):
        if msg["role"] != "assistant":
            continue
        ids, seen = [], set()
        for j, b in enumerate(blocks_of(msg)):
            if b.get("type") == "tool_use":
                if b["id"] in seen:
                    raise Invalid("messages.%d.content.%d: `tool_use` ids must be unique" % (i, j))
                seen.add(b["id"])
                ids.append(b["id"])
        if ids and i + 1 < len(msgs):
            answered = {b.get("tool_use_id") for b in blocks_of(msgs[i + 1]) if b.get("type") == "tool_result"}
            missing = [x for x in ids if x not in answered]
            if missing:
                raise Invalid("messages.%d: `tool_use` ids were found without `tool_result` blocks immediately "
                              "after: %s. Each `tool_use` block must have a corresponding `tool_result` block in "
                              "the next message." % (i, ", ".join(missing)))
    for i, msg in enumerate(msgs):
        if msg["role"] != "user":
            continue
        prev = msgs[i - 1] if i > 0 and msgs[i - 1]["role"] == "assistant" else None
        offered = {b.get("id") for b in blocks_of(prev) if b.get("type") == "tool_use"} if prev else set()
        for j, b in enumerate(blocks_of(msg)):
            if b.get("type") == "tool_result" and b["tool_use_id"] not in offered:
                raise Invalid("messages.%d.content.%d: unexpected `tool_use_id` found in `tool_result` blocks: %s. "
                              "Each `tool_result` block must have a corresponding `tool_use` block in the previous "
                              "message." % (i, j, b["tool_use_id"]))
    return msgs


def check_system(body):
    system = body.get("system")
    if system is None or isinstance(system, str):
        return
    need_list(system, "system")
    for j, block in enumerate(system):
        at = "system.%d" % j
        need_dict(block, at)
        if block.get("type") != "text":
            raise Invalid("%s.type: Input should be 'text'" % at)
        for k in block:
            if k not in ("type", "text", "cache_control", "citations"):
                raise extra("%s.%s" % (at, k))
        need_str(block, "text", at + ".text")


def check_tools(body):
    tools = body.get("tools")
    names = []
    if tools is None:
        return names
    need_list(tools, "tools")
    for j, tool in enumerate(tools):
        at = "tools.%d" % j
        need_dict(tool, at)
        kind = tool.get("type")
        if kind not in (None, "custom"):
            if not isinstance(kind, str) or not SERVER_TOOL_TYPE.match(kind):
                raise Invalid("%s: Input tag '%s' found using 'type' does not match any of the expected tags: "
                              "'custom', 'web_search_20250305', 'bash_20250124', 'text_editor_20250728', "
                              "'code_execution_20250825', ..." % (at, kind))
            need_str(tool, "name", at + ".%s.name" % kind)
            names.append(tool["name"])
            continue
        at += ".custom"
        for k in tool:
            if k not in ("type", "name", "description", "input_schema", "cache_control", "strict", "input_examples"):
                raise extra("%s.%s" % (at, k))
        name = need_str(tool, "name", at + ".name")
        if not TOOL_NAME.match(name):
            raise Invalid("%s.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'" % at)
        if "description" in tool and not isinstance(tool["description"], str):
            raise Invalid("%s.description: Input should be a valid string" % at)
        if "input_schema" not in tool:
            raise required(at + ".input_schema")
        schema = need_dict(tool["input_schema"], at + ".input_schema")
        if schema.get("type") != "object":
            raise Invalid("%s.input_schema.type: Input should be 'object'" % at)
        if name in names:
            raise Invalid("tools: Tool names must be unique.")
        names.append(name)
    return names


def check_tool_choice(body, names, thinking_on):
    choice = body.get("tool_choice")
    if choice is None:
        return
    need_dict(choice, "tool_choice")
    kind = choice.get("type")
    if kind is None:
        raise required("tool_choice.type")
    if kind not in ("auto", "any", "tool", "none"):
        raise Invalid("tool_choice: Input tag '%s' found using 'type' does not match any of the expected tags: "
                      "'auto', 'any', 'tool', 'none'" % kind)
    allowed = {"type", "disable_parallel_tool_use"} | ({"name"} if kind == "tool" else set())
    for k in choice:
        if k not in allowed:
            raise extra("tool_choice.%s.%s" % (kind, k))
    if "disable_parallel_tool_use" in choice and not isinstance(choice["disable_parallel_tool_use"], bool):
        raise Invalid("tool_choice.%s.disable_parallel_tool_use: Input should be a valid boolean" % kind)
    if kind == "tool":
        name = need_str(choice, "name", "tool_choice.tool.name")
        if name not in names:
            raise Invalid("tool_choice: tool `%s` was not found in `tools`" % name)
    if kind in ("any", "tool") and not names:
        raise Invalid("tool_choice: `tool_choice.type` `%s` requires `tools` to be provided" % kind)
    if kind in ("any", "tool") and thinking_on:
        raise Invalid("Thinking may not be enabled when tool_choice forces tool use.")


def check_thinking(body):
    """Returns True when thinking is on (enabled or adaptive)."""
    thinking = body.get("thinking")
    if thinking is None:
        return False
    need_dict(thinking, "thinking")
    kind = thinking.get("type")
    if kind is None:
        raise required("thinking.type")
    if kind not in ("enabled", "disabled", "adaptive"):
        raise Invalid("thinking: Input tag '%s' found using 'type' does not match any of the expected tags: "
                      "'enabled', 'disabled', 'adaptive'" % kind)
    for k in thinking:
        if k not in ("type", "budget_tokens", "display"):
            raise extra("thinking.%s.%s" % (kind, k))
    if kind == "disabled":
        return False
    if kind == "enabled":
        if "budget_tokens" not in thinking:
            raise required("thinking.enabled.budget_tokens")
        budget = thinking["budget_tokens"]
        if not is_int(budget):
            raise Invalid("thinking.enabled.budget_tokens: Input should be a valid integer")
        if budget < 1024:
            raise Invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        if body["max_tokens"] <= budget:
            raise Invalid("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                          "documentation at %s#max-tokens-and-context-window-size" % DOCS)
    temp = body.get("temperature")
    if temp is not None and temp != 1:
        raise Invalid("`temperature` may only be set to 1 when thinking is enabled or in adaptive mode. Please "
                      "consult our documentation at %s#feature-compatibility" % DOCS)
    return True


def check_thinking_round_trip(msgs):
    """With thinking on, the assistant turn that made the last round of tool calls must start with its thinking
    block (clients that drop thinking blocks from the history fail here, as on the real API)."""
    if msgs[-1]["role"] != "user" or not any(b.get("type") == "tool_result" for b in blocks_of(msgs[-1])):
        return
    if len(msgs) < 2 or msgs[-2]["role"] != "assistant":
        return
    blocks = blocks_of(msgs[-2])
    first = blocks[0].get("type") if blocks else "text"
    if first not in ("thinking", "redacted_thinking"):
        raise Invalid("messages.%d.content.0.type: Expected `thinking` or `redacted_thinking`, but found `%s`. When "
                      "`thinking` is enabled, a final `assistant` message must start with a thinking block "
                      "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you "
                      "include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. "
                      "Please consult our documentation at %s" % (len(msgs) - 2, first, DOCS))


def check_output_config(body):
    oc = body.get("output_config")
    if oc is None:
        return None
    need_dict(oc, "output_config")
    for k in oc:
        if k not in ("format", "effort"):
            raise extra("output_config.%s" % k)
    effort = oc.get("effort")
    if effort is not None and effort not in ("low", "medium", "high", "max"):
        raise Invalid("output_config.effort: Input should be 'low', 'medium', 'high' or 'max'")
    fmt = oc.get("format")
    if fmt is None:
        return None
    need_dict(fmt, "output_config.format")
    if fmt.get("type") != "json_schema":
        raise Invalid("output_config.format: Input tag '%s' found using 'type' does not match any of the expected "
                      "tags: 'json_schema'" % fmt.get("type"))
    for k in fmt:
        if k not in ("type", "schema"):
            raise extra("output_config.format.json_schema.%s" % k)
    if "schema" not in fmt:
        raise required("output_config.format.json_schema.schema")
    return need_dict(fmt["schema"], "output_config.format.json_schema.schema")


def validate(body):
    """Raise Invalid for the first problem, roughly in the order the real API reports them. Returns a dict of
    what the renderer needs: thinking (bool), schema (dict or None), tool names."""
    if "model" not in body:
        raise required("model")
    if not isinstance(body["model"], str):
        raise Invalid("model: Input should be a valid string")
    if "max_tokens" not in body:
        raise required("max_tokens")
    check_number(body, "max_tokens", lo=1, integer=True)
    if body["max_tokens"] is None:
        raise Invalid("max_tokens: Input should be a valid integer")
    msgs = check_messages(body)
    for k in body:
        if k not in TOP_LEVEL:
            raise extra(k)
    check_system(body)
    check_number(body, "temperature", 0, 1)
    check_number(body, "top_p", 0, 1)
    check_number(body, "top_k", 0, integer=True)
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise Invalid("stream: Input should be a valid boolean")
    stops = body.get("stop_sequences")
    if stops is not None:
        need_list(stops, "stop_sequences")
        for j, s in enumerate(stops):
            if not isinstance(s, str):
                raise Invalid("stop_sequences.%d: Input should be a valid string" % j)
            if not s.strip():
                raise Invalid("stop_sequences: each stop sequence must contain non-whitespace")
    meta = body.get("metadata")
    if meta is not None:
        need_dict(meta, "metadata")
        for k in meta:
            if k != "user_id":
                raise extra("metadata.%s" % k)
        if meta.get("user_id") is not None and not isinstance(meta["user_id"], str):
            raise Invalid("metadata.user_id: Input should be a valid string")
    tier = body.get("service_tier")
    if tier is not None and tier not in ("auto", "standard_only"):
        raise Invalid("service_tier: Input should be 'auto' or 'standard_only'")
    thinking_on = check_thinking(body)
    names = check_tools(body)
    check_tool_choice(body, names, thinking_on)
    schema = check_output_config(body)
    if thinking_on:
        check_thinking_round_trip(msgs)
    return {"thinking": thinking_on, "schema": schema, "tools": names}
