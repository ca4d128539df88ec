"""The Bedrock Converse protocol of the emulator (Tests/emulator/README.md, "AWS Bedrock Converse"): SigV4 checked
against a signer written here from AWS's documentation, the API-key form, request checks, Converse bodies and binary
event streams (decoded with eventstream.decode, CRCs checked)."""

import hashlib
import hmac
import http.client
import json
import time
import urllib.parse

import pytest

import eventstream
from emu_client import hostport

AKID, SECRET = "AKIDANYLLMTEST0000001", "anyllm/test/SECRETKEY+bPxRfiCYEXAMPLEKEY"
TEMP_AKID, TEMP_SECRET = "ASIAANYLLMTEST0000002", "anyllm/temp/SECRETKEY+zPxRfiCYEXAMPLEKEY"
TOKEN = "anyllm-session-token-EXAMPLE/Zm9vYmFy=="
CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
WEATHER = {"toolSpec": {"name": "get_weather", "description": "Weather", "inputSchema": {"json": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}


def _h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(host, path, body, akid=AKID, secret=SECRET, token=None, when=None, region="us-west-2", signed_extra=True):
    """Client-side SigV4 (the IAM guide's four steps), independent of the emulator's verifier."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when if when is not None else time.time()))
    headers = {"content-type": "application/json", "host": host, "x-amz-date": stamp}
    if token:
        headers["x-amz-security-token"] = token
    names = sorted(headers) if signed_extra else ["host", "x-amz-date"]
    canonical_path = "/".join(urllib.parse.quote(s, safe="-_.~") for s in path.split("/"))
    creq = "\n".join(["POST", canonical_path, "", "".join("%s:%s\n" % (n, headers[n]) for n in names), ";".join(names),
                      hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/bedrock/aws4_request" % (stamp[:8], region)
    sts = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = _h(("AWS4" + secret).encode(), stamp[:8])
    for part in (region, "bedrock", "aws4_request"):
        key = _h(key, part)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        akid, scope, ";".join(names), sig)
    return headers


def call(base, model, body, stream=False, bearer=None, **kw):
    host, port = hostport(base)
    path = "/model/%s/%s" % (urllib.parse.quote(model, safe=""), "converse-stream" if stream else "converse")
    data = json.dumps(body).encode()
    if bearer:
        headers = {"Authorization": "Bearer " + bearer, "Content-Type": "application/json"}
    else:
        headers = sign("%s:%d" % (host, port), path, data, **kw)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", path, body=data, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, raw)
    conn.close()
    return out


def msgs(text="hello there"):
    return {"messages": [{"role": "user", "content": [{"text": text}]}]}


def error_of(resp, status, kind):
    st, headers, raw = resp
    assert st == status, raw
    assert headers["x-amzn-errortype"].split(":")[0] == kind, headers
    return json.loads(raw)["message"]


def test_signed_text_and_model_id_with_colon(base):
    st, headers, raw = call(base, CLAUDE, msgs())
    assert st == 200, raw
    body = json.loads(raw)
    assert body["output"]["message"]["content"] == [{"text": "You said: hello there"}]
    assert body["stopReason"] == "end_turn"
    assert body["usage"] == {"inputTokens": 2, "outputTokens": 4, "totalTokens": 6, "cacheReadInputTokens": 0,
                             "cacheWriteInputTokens": 0}
    assert headers["x-amzn-requestid"]


def test_wrong_secret_unknown_key_and_missing_auth(base):
    m = error_of(call(base, "echo", msgs(), secret="not-the-secret"), 403, "InvalidSignatureException")
    assert m.startswith("The request signature we calculated does not match")
    assert "not-the-secret" not in m
    error_of(call(base, "echo", msgs(), akid="AKIDUNKNOWN0000000000"), 403, "UnrecognizedClientException")
    host, port = hostport(base)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", "/model/echo/converse", body=json.dumps(msgs()), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 403 and r.getheader("x-amzn-ErrorType").startswith("MissingAuthenticationTokenException")
    r.read()
    conn.close()


def test_signature_covers_body_date_and_headers(base):
    # A body changed after signing, a stale or future date, unsigned content-type is fine but unsigned host is not.
    host, port = hostport(base)
    data = json.dumps(msgs()).encode()
    headers = sign("%s:%d" % (host, port), "/model/echo/converse", data)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", "/model/echo/converse", body=data.replace(b"hello", b"HELLO"), headers=headers)
    r = conn.getresponse()
    assert r.status == 403 and r.getheader("x-amzn-ErrorType").startswith("InvalidSignatureException")
    r.read()
    m = error_of(call(base, "echo", msgs(), when=time.time() - 600), 403, "InvalidSignatureException")
    assert m.startswith("Signature expired")
    m = error_of(call(base, "echo", msgs(), when=time.time() + 600), 403, "InvalidSignatureException")
    assert m.startswith("Signature not yet current")
    assert call(base, "echo", msgs(), signed_extra=False)[0] == 200


def test_session_token(base):
    assert call(base, "echo", msgs(), akid=TEMP_AKID, secret=TEMP_SECRET, token=TOKEN)[0] == 200
    error_of(call(base, "echo", msgs(), akid=TEMP_AKID, secret=TEMP_SECRET), 403, "UnrecognizedClientException")
    error_of(call(base, "echo", msgs(), akid=TEMP_AKID, secret=TEMP_SECRET, token=TOKEN + "x"), 403,
             "UnrecognizedClientException")


def test_bearer(base):
    assert call(base, "echo", msgs(), bearer="bedrock-api-key-abc123")[0] == 200
    m = error_of(call(base, "echo", msgs(), bearer="bedrock-api-key-bad-1"), 403, "AccessDeniedException")
    assert "API Key" in m


@pytest.mark.parametrize("body, fragment", [
    ({}, "Value null at 'messages'"),
    ({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}, "must start with a user message"),
    ({"messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]},
     "must alternate"),
    ({"messages": [{"role": "user", "content": [{"text": " "}]}]}, "is blank"),
    ({"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]}, "exactly one member"),
    (dict(msgs(), inferenceConfig={"temperature": 1.5}), "less than or equal to 1"),
    (dict(msgs(), inferenceConfig={"maxTokens": 0}), "greater than or equal to 1"),
    ({"messages": [{"role": "user", "content": [{"text": "a"}]},
                   {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]},
                   {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "r"}]}}]}]},
     "toolConfig field must be defined"),
    ({"messages": [{"role": "user", "content": [{"text": "a"}]},
                   {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather",
                                                                  "input": {}}}]},
                   {"role": "user", "content": [{"toolResult": {"toolUseId": "t9", "content": [{"text": "r"}]}}]}],
      "toolConfig": {"tools": [WEATHER]}}, "Expected toolResult blocks"),
    (dict(msgs(), toolConfig={"tools": [WEATHER], "toolChoice": {"tool": {"name": "nope"}}}), "not defined"),
])
def test_validation(base, body, fragment):
    m = error_of(call(base, "echo", body), 400, "ValidationException")
    assert fragment in m, m


def test_tools_and_results(base):
    st, _, raw = call(base, "echo", dict(msgs("weather?"), toolConfig={"tools": [WEATHER]}))
    body = json.loads(raw)
    use = body["output"]["message"]["content"][0]["toolUse"]
    assert body["stopReason"] == "tool_use" and use["name"] == "get_weather" and use["input"] == {"city": "Paris"}
    turn = {"messages": [msgs("weather?")["messages"][0], {"role": "assistant", "content": [{"toolUse": use}]},
                         {"role": "user", "content": [{"toolResult": {"toolUseId": use["toolUseId"],
                                                                      "content": [{"json": {"t": 21}}]}}]}],
            "toolConfig": {"tools": [WEATHER]}}
    st, _, raw = call(base, "echo", turn)
    assert st == 200 and json.loads(raw)["output"]["message"]["content"] == [{"text": 'Tool results: {"t":21}'}]


def test_stream_frames(base):
    st, headers, raw = call(base, "echo", msgs(), stream=True)
    assert st == 200 and headers["content-type"] == "application/vnd.amazon.eventstream"
    frames = eventstream.decode(raw)
    types = [h[":event-type"] for h, _ in frames]
    assert types[0] == "messageStart" and types[-2:] == ["messageStop", "metadata"]
    text = "".join(json.loads(p)["delta"]["text"] for h, p in frames if h[":event-type"] == "contentBlockDelta")
    assert text == "You said: hello there"
    assert all(json.loads(p)["p"] for _, p in frames)
    assert json.loads(frames[-1][1])["usage"]["totalTokens"] == 6


def test_stream_tool_and_reasoning(base):
    st, _, raw = call(base, CLAUDE, dict(msgs("weather?"), toolConfig={"tools": [WEATHER]},
                                         inferenceConfig={"maxTokens": 3000},
                                         additionalModelRequestFields={"thinking": {"type": "enabled",
                                                                                    "budget_tokens": 1024}}),
                      stream=True)
    frames = [(h[":event-type"], json.loads(p)) for h, p in eventstream.decode(raw)]
    start = next(p for t, p in frames if t == "contentBlockStart")
    assert start["start"]["toolUse"]["name"] == "get_weather"
    args = "".join(p["delta"]["toolUse"]["input"] for t, p in frames if t == "contentBlockDelta" and "toolUse" in p["delta"])
    assert json.loads(args) == {"city": "Paris"}
    assert any("signature" in p["delta"].get("reasoningContent", {}) for t, p in frames if t == "contentBlockDelta")


def test_thinking_needs_signed_reasoning_back(base):
    turn = {"messages": [{"role": "user", "content": [{"text": "w"}]},
                         {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather",
                                                                        "input": {}}}]},
                         {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "r"}]}}]}],
            "toolConfig": {"tools": [WEATHER]}, "inferenceConfig": {"maxTokens": 3000},
            "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}}}
    assert "Expected `thinking`" in error_of(call(base, CLAUDE, turn), 400, "ValidationException")


def test_mid_stream_exception_and_bad_crc(base):
    st, _, raw = call(base, "stream-throttling", msgs(), stream=True)
    frames = eventstream.decode(raw)
    assert frames[-1][0][":message-type"] == "exception" and frames[-1][0][":exception-type"] == "throttlingException"
    st, _, raw = call(base, "bad-crc", msgs(), stream=True)
    with pytest.raises(eventstream.Corrupt, match="message crc"):
        eventstream.decode(raw)


def test_errors(base):
    error_of(call(base, "throttling", msgs()), 429, "ThrottlingException")
    assert error_of(call(base, "context-length", msgs()), 400, "ValidationException") == "Input is too long for requested model."
    error_of(call(base, "status-404", msgs()), 404, "ResourceNotFoundException")
    error_of(call(base, "status-503", msgs()), 503, "ServiceUnavailableException")
    error_of(call(base, "not-ready", msgs()), 429, "ModelNotReadyException")


def test_structured_output(base):
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}
    st, _, raw = call(base, "echo", dict(msgs(), outputConfig={"textFormat": {"type": "json_schema", "structure": {
        "jsonSchema": {"schema": json.dumps(schema), "name": "P"}}}}))
    assert json.loads(json.loads(raw)["output"]["message"]["content"][0]["text"]) == {"name": "Paris", "age": 42}
