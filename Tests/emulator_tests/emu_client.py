"""Small HTTP/SSE client helpers for testing the emulator (standard library only).

http.client is used where a well-behaved client is enough; raw sockets where the test must see the exact bytes
on the wire (chunk framing, truncation, 100-continue).
"""

import http.client
import json
import os
import re
import socket
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR_DIR = os.path.join(os.path.dirname(HERE), "emulator")
FIXTURES_DIR = os.path.join(os.path.dirname(HERE), "fixtures", "recorded")
sys.path.insert(0, EMULATOR_DIR)

KEY = "sk-test-0123456789abcdef"


def hostport(base):
    u = urllib.parse.urlsplit(base)
    return u.hostname, u.port


def user(text="hello there"):
    return [{"role": "user", "content": text}]


def chat_body(model="gpt-4o", text="hello there", **extra):
    body = {"model": model, "messages": user(text)}
    body.update(extra)
    return body


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8")


def request(base, method="POST", path="/v1/chat/completions", body=None, key=KEY, headers=None, raw_body=None,
            timeout=10):
    """One request on a fresh connection via http.client; body is JSON-encoded unless raw_body is given."""
    host, port = hostport(base)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    hs = {}
    if key is not None:
        hs["Authorization"] = "Bearer " + key
    data = raw_body
    if data is None and body is not None:
        data = json.dumps(body).encode("utf-8")
        hs["Content-Type"] = "application/json"
    hs.update(headers or {})
    try:
        conn.request(method, path, body=data, headers=hs)
        r = conn.getresponse()
        payload = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
    finally:
        conn.close()


def post(base, body, **kw):
    return request(base, "POST", body=body, **kw)


# ---- raw socket level ------------------------------------------------------------------------------------------------
def raw_request_bytes(base, body, path="/v1/chat/completions", key=KEY, extra_headers=()):
    host, port = hostport(base)
    data = json.dumps(body).encode("utf-8")
    lines = ["POST %s HTTP/1.1" % path, "Host: %s:%d" % (host, port), "Content-Type: application/json",
             "Content-Length: %d" % len(data), "Connection: close"]
    if key:
        lines.append("Authorization: Bearer " + key)
    lines += list(extra_headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def raw_exchange(base, request_bytes, timeout=10):
    """Send bytes, read until the server closes; returns (all bytes, list of recv() sizes)."""
    host, port = hostport(base)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(request_bytes)
        out, sizes = b"", []
        while True:
            try:
                piece = s.recv(65536)
            except ConnectionResetError:
                break
            if not piece:
                break
            out += piece
            sizes.append(len(piece))
        return out, sizes


class RawResponse:
    def __init__(self, raw):
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.wire = rest            # the body bytes exactly as received (chunk framing included)
        self.chunks, self.complete = None, None
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            self.chunks, self.complete = decode_chunked(rest)
            self.body = b"".join(self.chunks)
        else:
            self.body = rest


def decode_chunked(data):
    """(list of chunk payloads, whether the 0-size terminator arrived). Tolerates truncation."""
    chunks, pos = [], 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return chunks, False
        size = int(data[pos:eol].split(b";")[0], 16)
        if size == 0:
            return chunks, data[eol + 2:eol + 4] == b"\r\n"
        start = eol + 2
        if len(data) < start + size + 2:
            chunks.append(data[start:start + size])
            return chunks, False
        chunks.append(data[start:start + size])
        pos = start + size + 2


def raw_post(base, body, **kw):
    raw, _ = raw_exchange(base, raw_request_bytes(base, body, **kw))
    return RawResponse(raw)


# ---- SSE ---------------------------------------------------------------------------------------------------------------
def sse_data(text):
    """The data of each dispatched event, parsed as the SSE spec says (any line ending, comments, fields)."""
    out, data = [], []
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if data:
                out.append("\n".join(data))
            data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
    if data:
        out.append("\n".join(data))
    return out


def chunks_of(body_text):
    datas = sse_data(body_text)
    assert datas and datas[-1] == "[DONE]", datas[-3:]
    return [json.loads(d) for d in datas[:-1]]


def assemble(chunks):
    """(content, reasoning, tool calls by index, finish_reason) from chat.completion.chunk objects."""
    content, reasoning, calls, finish = "", "", {}, None
    for c in chunks:
        for ch in c["choices"]:
            d = ch["delta"]
            content += d.get("content") or ""
            reasoning += d.get("reasoning_content") or ""
            for tc in d.get("tool_calls") or []:
                slot = calls.setdefault(tc["index"], {"id": None, "name": None, "arguments": ""})
                if tc.get("id"):
                    slot["id"] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    slot["name"] = fn["name"]
                slot["arguments"] += fn.get("arguments") or ""
            finish = ch.get("finish_reason") or finish
    return content, reasoning, calls, finish


def sse_events(text):
    """[(event name or None, data)] as the SSE spec dispatches them (for Anthropic's `event:` lines)."""
    out, data, name = [], [], None
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if data:
                out.append((name, "\n".join(data)))
            data, name = [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    if data:
        out.append((name, "\n".join(data)))
    return out


# ---- Anthropic ---------------------------------------------------------------------------------------------------------
ANTHROPIC_HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


def anthropic_body(model="claude-sonnet-4-5", text="hello there", **extra):
    body = {"model": model, "max_tokens": 1024, "messages": user(text)}
    body.update(extra)
    return body


def anthropic(base, body, headers=None, drop=(), **kw):
    hs = {k: v for k, v in ANTHROPIC_HEADERS.items() if k not in drop}
    hs.update(headers or {})
    return request(base, "POST", "/v1/messages", body=body, key=None, headers=hs, **kw)


def anthropic_raw(base, body, extra_headers=()):
    hs = ["x-api-key: " + KEY, "anthropic-version: 2023-06-01"] + list(extra_headers)
    return raw_post(base, body, path="/v1/messages", key=None, extra_headers=hs)


def anthropic_stream(events):
    """(text, thinking, signature, tool calls [{id, name, input}], stop_reason, usage) from parsed SSE events."""
    text, thinking, sig, calls, stop, usage, kinds = "", "", "", {}, None, {}, {}
    for name, data in events:
        ev = json.loads(data)
        assert ev["type"] == name, (name, ev)
        if name == "message_start":
            usage.update(ev["message"]["usage"])
        elif name == "content_block_start":
            kinds[ev["index"]] = ev["content_block"]["type"]
            if ev["content_block"]["type"] == "tool_use":
                calls[ev["index"]] = {"id": ev["content_block"]["id"], "name": ev["content_block"]["name"],
                                      "json": ""}
        elif name == "content_block_delta":
            d = ev["delta"]
            if d["type"] == "text_delta":
                text += d["text"]
            elif d["type"] == "thinking_delta":
                thinking += d["thinking"]
            elif d["type"] == "signature_delta":
                sig += d["signature"]
            elif d["type"] == "input_json_delta":
                calls[ev["index"]]["json"] += d["partial_json"]
        elif name == "message_delta":
            stop = ev["delta"]["stop_reason"]
            usage.update(ev["usage"])
    tool_calls = [{"id": c["id"], "name": c["name"], "input": json.loads(c["json"] or "{}")}
                  for _, c in sorted(calls.items())]
    return text, thinking, sig, tool_calls, stop, usage


# ---- Gemini ------------------------------------------------------------------------------------------------------------
def gemini_body(text="hello there", **extra):
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    body.update(extra)
    return body


def gemini(base, model="gemini-2.5-flash", body=None, method="generateContent", query="", key=KEY, headers=None,
           **kw):
    hs = {"x-goog-api-key": key} if key else {}
    hs.update(headers or {})
    path = "/v1beta/models/%s:%s%s" % (model, method, query)
    return request(base, "POST", path, body=gemini_body() if body is None else body, key=None, headers=hs, **kw)


def gemini_array(text):
    """The objects of a streamed JSON array (checks it is one valid JSON array)."""
    arr = json.loads(text)
    assert isinstance(arr, list)
    return arr


def gemini_sse(text):
    return [json.loads(d) for d in sse_data(text)]


def gemini_collect(objs):
    """(text, thoughts, function calls, finishReason, parts with a thoughtSignature) over response objects."""
    text, thoughts, calls, finish, signed = "", "", [], None, []
    for o in objs:
        cand = o["candidates"][0]
        for part in (cand.get("content") or {}).get("parts") or []:
            if "thoughtSignature" in part:
                signed.append(part)
            if part.get("thought"):
                thoughts += part["text"]
            elif "text" in part:
                text += part["text"]
            if "functionCall" in part:
                calls.append(part["functionCall"])
        finish = cand.get("finishReason") or finish
    return text, thoughts, calls, finish, signed


# ---- Ollama ------------------------------------------------------------------------------------------------------------
def ollama(base, body, raw_body=None, **kw):
    return request(base, "POST", "/api/chat", body=body, key=None, raw_body=raw_body, **kw)


def ndjson(text):
    assert text.endswith("\n"), text[-50:]
    return [json.loads(line) for line in text.split("\n") if line]
