"""The protocol-neutral transport faults (faults.transport_fault and the plan's delivery faults) on every protocol
module, seen on the wire: reset before headers, reset mid-body, trickle, truncated JSON, invalid UTF-8, huge
answers, error statuses without a JSON body, Retry-After in seconds, and the key-echoing 401. Bedrock's binary
event stream gets its own checks: content faults inside valid frames, cuts inside a frame."""

import json
import socket
import time

import pytest

from emu_client import KEY, RawResponse, decode_chunked, hostport

import eventstream as es
import faults

# name -> (path for a model, extra headers, body for a model) for a streamed / non-streamed request
PROTOCOLS = ["openai", "azure", "azure-ai", "mistral", "anthropic", "gemini-sse", "gemini-array", "vertex", "ollama",
             "cohere", "cohere-jsonl", "bedrock"]
BEDROCK_KEY = "bedrock-api-key-faults-0123456789"     # the bearer form the Bedrock module accepts


def request_bytes(base, proto, model, stream):
    msgs = [{"role": "user", "content": "Hello there"}]
    headers = []
    if proto == "openai":
        path, body = "/v1/chat/completions", {"model": model, "messages": msgs, "stream": stream}
        headers.append("Authorization: Bearer " + KEY)
    elif proto == "azure":
        path = "/openai/deployments/%s/chat/completions?api-version=2024-10-21" % model
        body = {"messages": msgs, "stream": stream}
        headers.append("api-key: " + KEY)
    elif proto == "azure-ai":
        path, body = "/models/chat/completions?api-version=2024-05-01-preview", {"model": model, "messages": msgs,
                                                                                 "stream": stream}
        headers.append("api-key: " + KEY)
    elif proto == "mistral":
        path, body = "/mistral/v1/chat/completions", {"model": model, "messages": msgs, "stream": stream}
        headers.append("Authorization: Bearer " + KEY)
    elif proto.startswith("cohere"):
        path, body = "/v2/chat", {"model": model, "messages": msgs, "stream": stream}
        headers.append("Authorization: Bearer " + KEY)
        if proto == "cohere":
            headers.append("Accept: text/event-stream")
    elif proto == "bedrock":
        path = "/model/%s/%s" % (model, "converse-stream" if stream else "converse")
        body = {"messages": [{"role": "user", "content": [{"text": "Hello there"}]}]}
        headers.append("Authorization: Bearer " + BEDROCK_KEY)
    elif proto == "anthropic":
        path, body = "/v1/messages", {"model": model, "messages": msgs, "max_tokens": 1000, "stream": stream}
        headers += ["x-api-key: " + KEY, "anthropic-version: 2023-06-01"]
    elif proto.startswith("gemini") or proto == "vertex":
        method = ("streamGenerateContent" + ("?alt=sse" if proto != "gemini-array" else "")) if stream \
            else "generateContent"
        prefix = "/v1beta/models/" if proto != "vertex" else \
            "/v1/projects/p/locations/europe-west4/publishers/google/models/"
        path, body = prefix + model + ":" + method, {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}
        headers.append(("x-goog-api-key: " if proto != "vertex" else "Authorization: Bearer ") + KEY)
    else:
        path, body = "/api/chat", {"model": model, "messages": msgs, "stream": stream}
    data = json.dumps(body).encode()
    host, port = hostport(base)
    lines = ["POST %s HTTP/1.1" % path, "Host: %s:%d" % (host, port), "Content-Type: application/json",
             "Content-Length: %d" % len(data), "Connection: close"] + headers
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def exchange(base, proto, model, stream, timeout=10):
    """(bytes received, whether the connection was reset, recv() arrival times)."""
    with socket.create_connection(hostport(base), timeout=timeout) as s:
        s.sendall(request_bytes(base, proto, model, stream))
        out, times, reset = b"", [], False
        while True:
            try:
                piece = s.recv(65536)
            except ConnectionResetError:
                reset = True
                break
            if not piece:
                break
            out += piece
            times.append(time.monotonic())
        return out, reset, times


def body_of(raw):
    r = RawResponse(raw)
    return r, r.body


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize("stream", [False, True])
def test_reset_before_headers(base, proto, stream):
    raw, reset, _ = exchange(base, proto, "reset-before-headers", stream)
    assert raw == b"" and reset


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_reset_mid_stream(base, proto):
    raw, reset, _ = exchange(base, proto, "reset-after-3", True)
    assert reset
    r, body = body_of(raw)
    assert r.status == 200 and not r.complete
    assert b"tok2" in body and b"tok3" not in body


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_reset_mid_body(base, proto):
    raw, reset, _ = exchange(base, proto, "reset-after-3", False)
    assert reset
    r, body = body_of(raw)
    assert r.status == 200 and 0 < len(body) < int(r.headers["content-length"])


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize("stream", [False, True])
def test_trickle(base, proto, stream):
    raw, reset, times = exchange(base, proto, "trickle-50-6", stream)
    r, body = body_of(raw)
    assert not reset and r.status == 200
    assert b"said:" in body or b"said: " in body.replace(b"\\u003a", b":")
    # 6 single-byte writes 50 ms apart: bytes keep coming for >= 250 ms, no gap much longer than 50 ms
    assert times[-1] - times[0] >= 0.25
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) < 0.2
    if stream:
        assert r.complete


def parse_all(proto, body):
    """Every JSON document of a body: a whole answer, SSE events, NDJSON lines, or one JSON array."""
    if proto == "bedrock":
        return [json.loads(payload) for _, payload in es.decode(body)]
    text = body.decode("utf-8")
    if proto in ("ollama", "cohere-jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if proto == "gemini-array":
        return json.loads(text)
    datas = [line[5:].strip() for line in text.replace("\r", "").split("\n") if line.startswith("data:")]
    return [json.loads(d) for d in datas if d != "[DONE]"]


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize("stream", [False, True])
def test_truncated_json(base, proto, stream):
    raw, reset, _ = exchange(base, proto, "truncated-json", stream)
    r, body = body_of(raw)
    assert not reset and r.status == 200
    if stream:
        assert r.complete                        # the framing ends properly: only the JSON is short
    else:
        assert len(body) == int(r.headers["content-length"])
    with pytest.raises(ValueError):
        json.loads(body) if not stream else parse_all(proto, body)


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize("stream", [False, True])
def test_bad_utf8(base, proto, stream):
    raw, reset, _ = exchange(base, proto, "bad-utf8", stream)
    r, body = body_of(raw)
    assert r.status == 200 and faults.INVALID_UTF8 in body and faults.INVALID_UTF8_MARK not in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    if not stream:
        assert len(body) == int(r.headers["content-length"])


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize("stream", [False, True])
def test_huge(base, proto, stream):
    raw, reset, _ = exchange(base, proto, "huge-2", stream, timeout=30)
    r, body = body_of(raw)
    assert r.status == 200 and len(body) > 2 << 20
    assert b"w00000000000000 " in body and b"w%014d " % ((2 << 20) // 16 - 1) in body
    assert b"w%014d " % ((2 << 20) // 16) not in body


@pytest.mark.parametrize("proto", PROTOCOLS)
@pytest.mark.parametrize("status", [400, 418, 429, 500, 503, 599])
@pytest.mark.parametrize("kind", ["text", "empty"])
def test_status_without_json(base, proto, status, kind):
    raw, _, _ = exchange(base, proto, "status-%d-%s" % (status, kind), False)
    r, body = body_of(raw)
    assert r.status == status and r.headers["content-type"].startswith("text/plain")
    assert (b"upstream error %d" % status in body) if kind == "text" else body == b""


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_retry_after_seconds(base, proto):
    raw, _, _ = exchange(base, proto, "retry-after-7", False)
    r, _ = body_of(raw)
    assert r.status == 429 and r.headers["retry-after"] == "7"
    assert "retry-after-ms" not in r.headers


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_echo_key(base, proto):
    raw, _, _ = exchange(base, proto, "echo-key", False)
    r, body = body_of(raw)
    assert r.status == 401
    msg = json.loads(body)["error"]["message"]
    key = BEDROCK_KEY if proto == "bedrock" else KEY
    assert (key in msg) if proto != "ollama" else ("No key provided" in msg)


# ---- Bedrock's event stream --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["drop-after-3", "reset-after-3"])
def test_bedrock_cut_inside_a_frame(base, model):
    """A drop or reset lands inside a frame: whole frames up to the third content piece, then part of one."""
    raw, reset, _ = exchange(base, "bedrock", model, True)
    r, body = body_of(raw)
    assert r.status == 200 and not r.complete and reset == (model == "reset-after-3")
    with pytest.raises(es.Corrupt, match="truncated"):
        es.decode(body)
    whole, i = [], 0
    while True:                                  # the frames before the cut are intact
        try:
            whole = es.decode(body[:len(body) - i])
            break
        except es.Corrupt:
            i += 1
    texts = [json.loads(p)["delta"]["text"] for h, p in whole if h[":event-type"] == "contentBlockDelta"]
    assert "".join(texts) == "tok0 tok1 tok2 "


@pytest.mark.parametrize("model", ["truncated-json", "bad-utf8"])
def test_bedrock_content_faults_in_valid_frames(base, model):
    """Both CRCs of every frame are right: only a payload's JSON (cut short) or UTF-8 is wrong."""
    raw, _, _ = exchange(base, "bedrock", model, True)
    r, body = body_of(raw)
    assert r.status == 200 and r.complete
    frames = es.decode(body)                     # raises on a bad CRC or a cut frame
    bad = []
    for _, payload in frames:
        try:
            json.loads(payload.decode("utf-8"))
        except ValueError:                       # UnicodeDecodeError is a ValueError
            bad.append(payload)
    assert len(bad) == 1
    if model == "truncated-json":
        assert frames[-1][1] == bad[0]           # the stream ends after the cut payload
    else:
        assert faults.INVALID_UTF8 in bad[0]


def test_bedrock_200_error_body(base):
    raw, _, _ = exchange(base, "bedrock", "error-body-200", False)
    r, body = body_of(raw)
    assert r.status == 200 and "output" not in json.loads(body) and json.loads(body)["message"]


def test_truncate_payload_keeps_framing():
    event = b'data: {"a":"hello world","b":[1,2,3]}\n\n'
    cut = faults.truncate_payload(event)
    assert cut.endswith(b"\n\n") and len(cut) < len(event)
    with pytest.raises(ValueError):
        json.loads(cut[6:])
    assert decode_chunked(b"0\r\n\r\n") == ([], True)
