"""Server-sent-events framing shared by the SSE-speaking protocols (OpenAI, Anthropic, ...).

A protocol module builds a list of (payload, tag) pairs - payload a JSON-able object or a ready string such as
"[DONE]" - and this module turns them into wire bytes in one of the framings the scripted models ask for. The tag
is passed through untouched for faults.write_events.
"""

import json

EOL = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def dumps(payload):
    # Compact separators and raw UTF-8, the way OpenAI writes stream chunks.
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def event_bytes(text, eol="\n", event=None):
    lines = []
    if event:
        lines.append("event: " + event)
    lines += ["data: " + line for line in text.split("\n")]
    return (eol.join(lines) + eol + eol).encode("utf-8")


def frame(payloads, framing="lf", event_names=None):
    """payloads: [(payload, tag)]; event_names: optional parallel list of `event:` names (Anthropic style)."""
    if framing == "quirks":
        return _quirky(payloads, event_names)
    eol = EOL[framing]
    out = []
    for i, (payload, tag) in enumerate(payloads):
        name = event_names[i] if event_names else None
        out.append((event_bytes(dumps(payload), eol, name), tag))
    return out


def _quirky(payloads, event_names=None):
    """Legal-but-unusual SSE a robust client must read the same way as the plain stream:
    comment lines, `data:` without its space, one JSON payload spread over several data lines (joined with "\\n",
    still valid JSON), id/retry/event fields, and blank lines that dispatch nothing. With event_names (Anthropic)
    every event keeps its `event:` line, written as `event:NAME` (no space) on the first body event."""
    out = []
    body_seen = 0
    for i, (payload, tag) in enumerate(payloads):
        text = dumps(payload)
        name = event_names[i] if event_names else None
        if i == 0:
            raw = ": keep-alive\n\n" + "id: 1\nretry: 3000\nevent: %s\n" % (name or "message") + "data: " + text + "\n\n"
        elif tag == "body" and body_seen == 0:
            raw = "data:" + text + "\n\n"
        elif tag == "body" and body_seen == 1 and not isinstance(payload, str):
            spread = json.dumps(payload, indent=1, ensure_ascii=False).split("\n")
            raw = "".join("data: " + line + "\n" for line in spread) + "\n"
        elif tag == "body" and body_seen == 2:
            raw = "\n\n: keep-alive\ndata: " + text + "\n\n"   # blank keep-alive lines, then a comment in-event
        else:
            raw = "data: " + text + "\n\n"
        if name and i != 0:
            if tag == "body" and body_seen == 0:
                raw = "event:" + name + "\n" + raw
            elif raw.startswith("\n\n"):
                raw = "\n\n: keep-alive\nevent: " + name + "\n" + raw[len("\n\n: keep-alive\n"):]
            else:
                raw = "event: " + name + "\n" + raw
        if tag == "body":
            body_seen += 1
        out.append((raw.encode("utf-8"), tag))
    return out
