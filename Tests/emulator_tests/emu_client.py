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
