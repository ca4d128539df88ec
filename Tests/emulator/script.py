"""Protocol-neutral behaviour scripting: which model name answers what.

A protocol module translates its request into a Conversation (roles, plain text, tools), calls plan(), and renders
the returned Plan in its own wire format. Nothing here knows about JSON field names, SSE or HTTP, so a new wire
protocol reuses every scripted behaviour (echo, tool calls, long/slow streams, faults) by writing a renderer only.
"""

import json
import random
import re
import string
import threading
from dataclasses import dataclass, field


# ---- what a protocol hands in ----------------------------------------------------------------------------------
@dataclass
class Message:
    role: str            # normalised: "system" | "user" | "assistant" | "tool"
    text: str = ""       # the message's text parts joined by a space (images, audio, files contribute nothing)


@dataclass
class Tool:
    name: str
    schema: dict = None  # JSON Schema of the arguments (may be None)


@dataclass
class Conversation:
    model: str
    messages: list
    tools: list = field(default_factory=list)
    tool_choice: str = "auto"          # "auto" | "none" | "required" | "named"
    tool_name: str = None              # with tool_choice "named"
    parallel_tool_calls: bool = True
    stream: bool = False
    # Used by the non-OpenAI protocols (the OpenAI module leaves them at their defaults):
    reasoning: bool = None             # True: thinking was asked for; False: explicitly off; None: the model decides
    json_schema: dict = None           # structured output: answer with a JSON object generated from this schema
    json_mode: bool = False            # JSON output without a schema: answer {"text": "<the echo>"}
    stop: list = None                  # stop sequences: the answer text is cut at the first one
    max_output: int = None             # output limit in "tokens" (words): a longer answer text is cut, finish "length"
    content_filter_error: bool = True  # content-filter non-streamed: an HTTP error (else a filtered answer)


# ---- what comes back ---------------------------------------------------------------------------------------------
@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str       # JSON text, exactly what the renderer sends


@dataclass
class Failure:
    # kind: "status" | "rate_limit" | "context_length" | "quota" | "content_filter" | "html_404" | "flaky"
    kind: str
    status: int
    retry_after_date: bool = False
    retry_after_secs: int = None       # retry-after-N: Retry-After in seconds (else an HTTP date)


@dataclass
class Plan:
    model: str
    content: list = None               # text pieces (a stream sends one per event); None = no text (tool calls)
    reasoning: list = field(default_factory=list)
    tool_calls: list = field(default_factory=list)
    finish: str = "stop"               # "stop" | "length" | "tool_calls" | "content_filter"
    stop_sequence: str = None          # the stop sequence that ended the answer (finish stays "stop")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    failure: Failure = None            # answer with an error instead of content
    replay: str = None                 # answer with this recorded fixture
    garbage: bool = False              # answer with bytes that are not the protocol at all
    # delivery faults
    delay_before_ms: int = 0           # non-streamed: wait before the headers
    stall_ms: int = 0                  # streamed: silence after the first event
    piece_delay_ms: int = 0            # streamed: pause between content events
    drop_after: int = None             # streamed: cut after N content events; non-streamed: cut the body
    error_event_after: int = None      # streamed: an in-stream error event after N content events
    error_event: bool = False          # non-streamed: HTTP 200 whose body is an error object
    bytewise: bool = False             # write the body one byte per write
    reset_before_headers: bool = False # reset the connection (RST) instead of answering
    reset_after: int = None            # like drop_after, but the connection is reset (RST) instead of closed
    trickle: tuple = None              # (ms, n): the first n body bytes one per write, ms apart
    truncate_json: bool = False        # a body / the third stream event whose JSON is cut short, framing intact
    bad_utf8: bool = False             # invalid UTF-8 bytes in the answer text (faults.INVALID_UTF8_MARK)
    raw_status: tuple = None           # (status, "text" | "empty"): an error status without a JSON body
    echo_key: bool = False             # a 401 whose message repeats the credential received
    framing: str = "lf"                # SSE line endings: "lf" | "crlf" | "cr" | "quirks"

    @property
    def text(self):
        return None if self.content is None else "".join(self.content)


SPLIT_UTF8_TEXT = "héllo wörld — 你好 👋 ok"
BAD_UTF8_TEXT = "tok0 tok1 BAD_UTF8_HERE tok3 tok4"   # the marker becomes invalid bytes on the wire (faults.py)
HUGE_PIECE = 256 << 10                                 # huge-MB: bytes per content piece


def huge_pieces(mib):
    """mib MiB of text in 256 KiB pieces: 16-byte words "w0000000000000N " (N counting up), so a client's copy can
    be checked for lost, repeated or reordered bytes."""
    total = mib << 20
    words_per_piece = HUGE_PIECE // 16
    out, n = [], 0
    while n * 16 < total:
        count = min(words_per_piece, (total - n * 16) // 16)
        out.append("".join("w%014d " % (n + i) for i in range(count)))
        n += count
    return out


# ---- small helpers -----------------------------------------------------------------------------------------------
def words(text):
    return len(text.split()) if text else 0


def pieces(text):
    """One word and its trailing whitespace per piece; leading whitespace rides on the first piece."""
    found = re.findall(r"\S+\s*", text)
    lead = text[: len(text) - len(text.lstrip())]
    if found and lead:
        found[0] = lead + found[0]
    return found


def tokens(n):
    return " ".join("tok%d" % i for i in range(n))


def call_id():
    alphabet = string.ascii_letters + string.digits
    return "call_" + "".join(random.choice(alphabet) for _ in range(24))


def example_value(schema, root=None):
    """A value that satisfies a JSON Schema well enough for a client to parse the arguments back."""
    root = root if root is not None else schema
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return example_value(target, root)
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for combo in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(combo) or [] if isinstance(o, dict) and o.get("type") != "null"]
        if options:
            return example_value(options[0], root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "string":
        return "Paris"
    if kind == "integer":
        return 42
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        props = schema.get("properties")
        return {k: example_value(v, root) for k, v in props.items()} if isinstance(props, dict) else {}
    return {}


def structured_text(conv, text):
    """The answer text, or the JSON a structured-output request gets instead of it (spaced, so it streams in
    several pieces)."""
    if conv.json_schema is not None:
        return json.dumps(example_value(conv.json_schema), ensure_ascii=False)
    if conv.json_mode:
        return json.dumps({"text": text}, ensure_ascii=False)
    return text


# flaky-K-TAG keeps a per-model-name counter for the life of the server process.
_flaky_lock = threading.Lock()
_flaky_counts = {}


def _flaky_hit(model):
    with _flaky_lock:
        _flaky_counts[model] = _flaky_counts.get(model, 0) + 1
        return _flaky_counts[model]


# ---- the script --------------------------------------------------------------------------------------------------
def plan(conv):
    m = conv.model
    p = Plan(model=m)
    msgs = conv.messages
    p.prompt_tokens = sum(words(x.text) for x in msgs)

    # 1. answers that are not content at all
    r = re.fullmatch(r"replay:(.+)", m)
    if r:
        p.replay = r.group(1)
        return p
    r = re.fullmatch(r"status-(\d{3})", m)
    if r and 400 <= int(r.group(1)) <= 599:
        p.failure = Failure("status", int(r.group(1)))
        return p
    simple = {"retry-after-date": Failure("rate_limit", 429, retry_after_date=True),
              "context-length": Failure("context_length", 400),
              "quota": Failure("quota", 429),
              "html-404": Failure("html_404", 404)}
    if m in simple:
        p.failure = simple[m]
        return p
    if m == "content-filter" and not conv.stream and conv.content_filter_error:
        p.failure = Failure("content_filter", 400)
        return p
    r = re.fullmatch(r"flaky-(\d+)-(.+)", m)
    if r and _flaky_hit(m) <= int(r.group(1)):
        p.failure = Failure("flaky", 500)
        return p
    if m == "garbage":
        p.garbage = True
        return p
    r = re.fullmatch(r"status-(\d{3})-(text|empty)", m)
    if r and 400 <= int(r.group(1)) <= 599:
        p.raw_status = (int(r.group(1)), r.group(2))
        return p
    r = re.fullmatch(r"retry-after-(\d+)", m)
    if r:
        p.failure = Failure("rate_limit", 429, retry_after_secs=int(r.group(1)))
        return p
    if m == "reset-before-headers":
        p.reset_before_headers = True
        return p
    if m == "echo-key":
        p.echo_key = True
        return p

    # 2. what the answer says. Tool rules apply to every model; model-specific text only replaces the echo.
    last = msgs[-1] if msgs else None
    last_user = next((x.text for x in reversed(msgs) if x.role == "user"), "")
    long_n = re.fullmatch(r"long-(\d+)", m)
    slow = re.fullmatch(r"slow-(\d+)-(\d+)", m)
    drop = re.fullmatch(r"drop-after-(\d+)", m)
    reset_n = re.fullmatch(r"reset-after-(\d+)", m)
    huge = re.fullmatch(r"huge-(\d+)", m)

    if conv.tools and conv.tool_choice != "none" and last is not None and last.role == "user":
        if conv.tool_choice == "named":
            chosen = [t for t in conv.tools if t.name == conv.tool_name][:1]
        elif "parallel" in m and len(conv.tools) >= 2 and conv.parallel_tool_calls:
            chosen = conv.tools[:2]
        else:
            chosen = conv.tools[:1]
        for t in chosen:
            # Compact, as OpenAI sends arguments ({"city":"Paris"}).
            args = json.dumps(example_value(t.schema or {}), ensure_ascii=False, separators=(",", ":"))
            p.tool_calls.append(ToolCall(call_id(), t.name, args))
        p.finish = "tool_calls"
    elif last is not None and last.role == "tool":
        results = []
        for x in reversed(msgs):         # the trailing run of tool results answers the last round of calls
            if x.role != "tool":
                break
            results.insert(0, x.text)
        p.content = pieces(structured_text(conv, "Tool results: " + "; ".join(results)))
    elif long_n:
        p.content = pieces(tokens(int(long_n.group(1))))
    elif slow:
        p.content = pieces(tokens(int(slow.group(1))))
    elif drop or reset_n:
        # More words than N so the cut always lands mid-answer.
        p.content = pieces(tokens(int((drop or reset_n).group(1)) + 5))
    elif huge:
        p.content = huge_pieces(int(huge.group(1)))
    elif m == "bad-utf8":
        p.content = pieces(BAD_UTF8_TEXT)
    elif m == "length":
        p.content, p.finish = ["truncated"], "length"
    elif m == "split-utf8":
        p.content = pieces(SPLIT_UTF8_TEXT)
    else:
        p.content = pieces(structured_text(conv, "You said: " + last_user))

    if conv.stop and p.content is not None and p.finish == "stop":
        text = p.text
        cuts = [(text.find(s), s) for s in conv.stop if isinstance(s, str) and s and s in text]
        if cuts:
            at, seq = min(cuts)
            p.content, p.stop_sequence = pieces(text[:at]), seq
    if conv.max_output is not None and conv.max_output >= 1 and p.content and len(p.content) > conv.max_output:
        p.content, p.finish = p.content[:conv.max_output], "length"
    if m == "content-filter":           # streamed (or a filtered answer): one piece, then the filter
        p.content, p.finish = (p.content or [])[:1], "content_filter"
    if conv.reasoning is True or (m == "reasoning" and conv.reasoning is not False):
        p.reasoning = pieces("Let me think about what the user said: " + last_user)

    # 3. how it is delivered
    if slow:
        p.piece_delay_ms = int(slow.group(2))
        p.delay_before_ms = int(slow.group(1)) * int(slow.group(2))
    r = re.fullmatch(r"stall-(\d+)", m)
    if r:
        p.stall_ms = p.delay_before_ms = int(r.group(1))
    if drop:
        p.drop_after = int(drop.group(1))
    if reset_n:
        p.reset_after = int(reset_n.group(1))
    r = re.fullmatch(r"trickle-(\d+)-(\d+)", m)
    if r:
        p.trickle = (int(r.group(1)), int(r.group(2)))
    p.truncate_json = m == "truncated-json"
    p.bad_utf8 = m == "bad-utf8"
    if m == "error-event":
        p.error_event_after, p.error_event = 2, True
    p.bytewise = m == "split-utf8"
    p.framing = {"sse-crlf": "crlf", "sse-cr": "cr", "sse-quirks": "quirks"}.get(m, "lf")

    # 4. usage: "tokens" are whitespace-separated words
    p.reasoning_tokens = words("".join(p.reasoning))
    p.completion_tokens = (words(p.text) + p.reasoning_tokens
                           + sum(words(c.name) + words(c.arguments) for c in p.tool_calls))
    return p
