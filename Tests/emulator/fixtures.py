"""Recorded provider responses for the `replay:NAME` models (format: Tests/fixtures/recorded/README.md).

Replays are protocol-neutral: whichever protocol module received the request, the recorded status, content type
and body bytes go back unchanged. Quirks in the recordings (a space before `data:`, bytes after `[DONE]`, bodies
that do not end in a blank line) are the point of replaying them, so nothing is normalised.
"""

import base64
import functools
import json
import os
import re


def default_dir():
    # Tests/emulator/fixtures.py -> Tests/fixtures/recorded
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "recorded")


@functools.lru_cache(maxsize=256)
def find(fixtures_dir, name):
    """The fixture called NAME (with or without .json) in any provider folder, or None.
    `provider/NAME` picks the folder explicitly. Names that try to leave the fixtures folder find nothing."""
    if not name or ".." in name.split("/") or name.startswith("/") or "\\" in name:
        return None
    filename = name if name.endswith(".json") else name + ".json"
    candidates = [os.path.join(fixtures_dir, filename)]
    if "/" not in name and os.path.isdir(fixtures_dir):
        candidates = [os.path.join(fixtures_dir, d, filename) for d in sorted(os.listdir(fixtures_dir))]
    for path in candidates:
        if os.path.isfile(path):
            with open(path, "r", encoding="utf-8") as f:
                return json.load(f)
    return None


def body_bytes(fixture):
    resp = fixture["response"]
    if "body_b64" in resp:
        return base64.b64decode(resp["body_b64"])
    return (resp.get("body_text") or "").encode("utf-8")


_BLANK_LINE = re.compile(rb"\r\n\r\n|\n\n|\r\r")


def split_events(body):
    """Cut the body after every blank line; the pieces concatenate back to exactly the original bytes."""
    out, start = [], 0
    for m in _BLANK_LINE.finditer(body):
        out.append(body[start:m.end()])
        start = m.end()
    if start < len(body):
        out.append(body[start:])
    return out


_ARRAY_BREAK = re.compile(rb"\n,\r\n|\n\]\s*$")


def split_array(body):
    """A streamed JSON array (Gemini without alt=sse): `[{...}`, then `\\n,\\r\\n{...}` per element, then `\\n]`,
    cut where the real front end flushes. The pieces concatenate back to exactly the original bytes."""
    out, start = [], 0
    for m in _ARRAY_BREAK.finditer(body):
        if m.start() > start:
            out.append(body[start:m.start()])
            start = m.start()
    out.append(body[start:])
    return out


def pieces(fixture, body):
    """How a streamed recording is written: one write per SSE event, or per element of a streamed JSON array."""
    ctype = (fixture["response"].get("content_type") or "").lower()
    if not ctype.startswith("text/event-stream") and body[:1] == b"[":
        return split_array(body)
    return split_events(body)


def is_streamed(fixture):
    ctype = (fixture["response"].get("content_type") or "").lower()
    return bool(fixture.get("stream")) or ctype.startswith("text/event-stream")


def replay(ex, fixture, headers=()):
    """Answer with the recording: Content-Length for plain bodies, chunked event-by-event writes for streams."""
    resp = fixture["response"]
    status = int(resp.get("status") or 200)
    ctype = resp.get("content_type") or "application/octet-stream"
    body = body_bytes(fixture)
    if not is_streamed(fixture):
        ex.send(status, body, ctype, headers)
        return
    ex.set_nodelay()
    ex.start_stream(status, ctype, headers)
    for piece in pieces(fixture, body):
        ex.write(piece)
    ex.end_stream()
