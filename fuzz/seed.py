#!/usr/bin/env python3
"""fuzz/seed.py OUT_DIR: the seed corpora of the fuzz targets, one folder per input shape.

Taken, not hand-copied: the bodies and streams of the recorded provider traffic
(Tests/fixtures/recorded), and the emulator's answers for each protocol (started on 127.0.0.1 for
the purpose), streamed and not, for the scripted models that shape answers (tool calls, reasoning,
CR/CRLF framing, keep-alives, cut streams, error events, every error status). Request and option
seeds are built from the recorded OpenAI requests. Files are named by content hash (duplicates
collapse). Skipped when OUT_DIR is newer than everything it is made from.
"""

import glob
import hashlib
import http.client
import json
import os
import sys
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDED = os.path.join(ROOT, "Tests", "fixtures", "recorded")
EMULATOR_DIR = os.path.join(ROOT, "Tests", "emulator")
sys.path.insert(0, EMULATOR_DIR)

# A seed bigger than this slows every mutation more than it adds (libFuzzer's -max_len applies anyway).
MAX_SEED = 48 * 1024
KEY = "sk-test-seed-key"


class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, folder, data):
        if isinstance(data, str):
            data = data.encode()
        if not data or len(data) > MAX_SEED:
            return
        d = os.path.join(self.out, folder)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
        self.count[folder] = self.count.get(folder, 0) + 1


def error_input(status, headers, body):
    """The `errors` target's input: status line, header lines, blank line, body."""
    lines = [str(status)] + ["%s: %s" % (k, v) for k, v in headers]
    return ("\n".join(lines) + "\n\n").encode() + body


# ---- recordings -------------------------------------------------------------------------------

def from_recordings(seeds):
    for path in sorted(glob.glob(os.path.join(RECORDED, "*", "*.json"))):
        provider = os.path.basename(os.path.dirname(path))
        with open(path) as f:
            rec = json.load(f)
        resp = rec["response"]
        body = resp.get("body_text")
        if body is None:
            continue  # binary bodies (none are decoder input)
        body = body.encode()
        uri = rec["request"].get("uri", "")
        ctype = resp.get("content_type") or ""
        if resp["status"] >= 400:
            seeds.add("errors", error_input(resp["status"], [("content-type", ctype)], body))
            seeds.add("json", body)
            continue
        streamed = rec.get("stream") or "event-stream" in ctype
        if provider == "openai":
            if "event-stream" in ctype:
                seeds.add("sse", body)
                skim_seeds(seeds, body)
            if uri.endswith("/chat/completions"):
                seeds.add("openai_stream" if streamed else "openai_response", body)
                body_json = rec["request"].get("body")
                if isinstance(body_json, str):
                    try:
                        body_json = json.loads(body_json)
                    except ValueError:
                        body_json = None
                if isinstance(body_json, dict):
                    request_seeds(seeds, body_json)
        elif provider == "anthropic":
            if "event-stream" in ctype:
                seeds.add("sse", body)
            seeds.add("anthropic_stream" if streamed else "anthropic_response", body)
        elif provider == "gemini":
            if ":streamGenerateContent" in uri:
                seeds.add("json_array", body)
                seeds.add("gemini_stream", body)
            elif ":generateContent" in uri:
                seeds.add("gemini_response", body)
        if not streamed:
            seeds.add("json", body)


def request_seeds(seeds, openai_body):
    """One recorded OpenAI request as any-llm requests for every protocol."""
    for model in ("openai:" + str(openai_body.get("model", "gpt-4o-mini")), "anthropic:claude-haiku-4-5",
                  "gemini:gemini-2.5-flash", "ollama:llama3.2", "azureopenai:my-deployment", "mistral:mistral-small",
                  "azure:gpt-4o", "cohere:command-a-03-2025", "bedrock:anthropic.claude-3-haiku-20240307-v1:0"):
        r = dict(openai_body)
        r["model"] = model
        seeds.add("request", json.dumps(r))


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                            "parameters": {"type": "object", "properties": {
                                                "city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                                                "required": ["city"]}}}

CRAFTED_REQUESTS = [
    {"model": "openai:gpt-4.1-mini", "messages": "Say hi"},
    {"model": "gpt-4.1-mini", "provider": "mistral", "messages": [{"role": "user", "content": "hi"}], "stream": True,
     "stream_options": {"include_usage": False}, "temperature": 0.2, "top_p": 1, "max_tokens": 5, "stop": ["x", "y"],
     "seed": 7, "user": "u", "n": 1, "presence_penalty": 0.5, "frequency_penalty": -0.5, "logit_bias": {"50256": -100},
     "logprobs": True, "top_logprobs": 2, "reasoning_effort": "low", "custom_extra": {"a": [1, 2]}},
    {"model": "anthropic:claude-haiku-4-5", "messages": [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
        {"role": "assistant", "content": None, "reasoning": {"content": "think", "signature": "c2ln"},
         "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
     "tools": [WEATHER], "tool_choice": "auto", "parallel_tool_calls": False, "reasoning_effort": "high"},
    {"model": "gemini:gemini-2.5-flash", "messages": [{"role": "developer", "content": "json only"},
                                                      {"role": "user", "content": "list two cities"}],
     "response_format": {"type": "json_schema", "json_schema": {"name": "cities", "strict": True, "schema": {
         "type": "object", "$defs": {"city": {"type": ["string", "null"], "const": "Paris"}},
         "properties": {"cities": {"type": "array", "items": {"$ref": "#/$defs/city"}},
                        "any": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]}},
         "additionalProperties": False}}}, "tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    {"model": "vertexai:gemini-2.5-flash", "messages": "hi", "vertex_location": "europe-west4", "stream": True},
    {"model": "ollama:llama3.2", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"},
     "max_completion_tokens": 9, "api_base": "localhost:11434", "api_key": "k",
     "client_args": {"timeout": 5, "connect_timeout": 1.5, "read_timeout": 2, "max_retries": 0,
                     "headers": {"X-Trace": "1"}, "proxy": "http://127.0.0.1:3128", "ca_bundle": "/tmp/ca.pem",
                     "verify_tls": False}},
    {"model": "openai/gpt-4o", "messages": [{"role": "function", "name": "f", "content": "r"}]},
    {"model": "cohere:command-a-03-2025", "messages": [{"role": "system", "content": "brief"},
                                                      {"role": "user", "content": "weather?"}],
     "tools": [WEATHER], "tool_choice": "required", "stream": True, "reasoning_effort": "low", "top_p": 0.5, "seed": 3},
    {"model": "bedrock:anthropic.claude-3-haiku-20240307-v1:0", "messages": [
        {"role": "system", "content": "brief"}, {"role": "user", "content": "weather?"},
        {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function",
                                              "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "rain"}],
     "tools": [WEATHER], "stop": "x", "max_tokens": 20, "aws_region": "eu-west-1",
     "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}}},
    {"model": "mistral:magistral-small-latest", "messages": [{"role": "developer", "content": "x"},
                                                             {"role": "user", "content": "hi"}],
     "seed": 1, "tool_choice": "required", "tools": [WEATHER]},
]

CRAFTED_OPTIONS = [
    {}, {"timeout": 30}, {"connect_timeout": 0.5, "read_timeout": 86400, "max_retries": 100},
    {"headers": {"X-A": "b", "x-a": "c", "Authorization": "Bearer z"}}, {"proxy": "socks5://127.0.0.1:1080"},
    {"ca_bundle": "/etc/ssl/certs/ca-certificates.crt", "verify_tls": True, "max_connections_per_host": 4},
    {"timeout": 1e400}, {"max_retries": 2.0}, {"headers": {"X": "a\r\nB: c"}}, {"nope": 1},
]


# ---- emulator ---------------------------------------------------------------------------------

MODELS = ["echo", "long-12", "reasoning", "length", "content-filter", "error-event", "sse-crlf", "sse-cr",
          "sse-quirks", "garbage", "drop-after-2", "status-400", "status-401", "status-402", "status-403",
          "status-404", "status-409", "status-422", "status-429", "status-500", "status-502", "status-503",
          "status-504", "status-529", "retry-after-date", "context-length", "quota", "html-404"]
TOOL_MODELS = ["echo", "parallel", "drop-after-3", "sse-cr"]
MESSAGES = [{"role": "user", "content": "hello there, héllo 👋"}]


def post(url, headers, body):
    """(status, headers, body bytes), whatever the status; a cut stream yields what arrived."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers=dict({"Content-Type": "application/json"}, **headers))
    try:
        resp = urllib.request.urlopen(req, timeout=15)
    except urllib.error.HTTPError as e:
        resp = e
    try:
        data = resp.read()
    except http.client.IncompleteRead as e:
        data = e.partial
    return resp.status if hasattr(resp, "status") else resp.code, list(resp.headers.items()), data


def emulator_exchanges(base):
    """(protocol, streamed, alt_sse, status, headers, body) for every model, streamed and not."""
    tools_openai = [WEATHER, dict(WEATHER, function=dict(WEATHER["function"], name="get_time"))]
    tools_anthropic = [{"name": t["function"]["name"], "input_schema": t["function"]["parameters"]} for t in tools_openai]
    tools_gemini = [{"functionDeclarations": [{"name": t["function"]["name"], "parameters": {
        "type": "OBJECT", "properties": {"city": {"type": "STRING"}}}} for t in tools_openai]}]
    tools_bedrock = {"tools": [{"toolSpec": {"name": t["function"]["name"], "inputSchema": {
        "json": t["function"]["parameters"]}}} for t in tools_openai]}
    gemini_contents = [{"role": "user", "parts": [{"text": MESSAGES[0]["content"]}]}]
    runs = [(m, False) for m in MODELS] + [(m, True) for m in TOOL_MODELS]
    for model, tools in runs:
        for stream in (False, True):
            body = {"model": model, "messages": MESSAGES, "stream": stream}
            if stream:
                body["stream_options"] = {"include_usage": True}
            if tools:
                body["tools"] = tools_openai
            yield ("openai", stream, False) + post(base + "/v1/chat/completions", {"Authorization": "Bearer " + KEY}, body)

            body = {"model": model, "max_tokens": 200, "messages": MESSAGES, "stream": stream}
            if tools:
                body["tools"] = tools_anthropic
            if model == "reasoning":
                body.update(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 1024})
            yield ("anthropic", stream, False) + post(base + "/v1/messages",
                                                       {"x-api-key": KEY, "anthropic-version": "2023-06-01"}, body)

            body = {"contents": gemini_contents}
            if tools:
                body["tools"] = tools_gemini
            for alt in ((False, True) if stream else (False,)):
                path = "/v1beta/models/%s:%s%s" % (model, "streamGenerateContent" if stream else "generateContent",
                                                   "?alt=sse" if alt else "")
                yield ("gemini", stream, alt) + post(base + path, {"x-goog-api-key": KEY}, body)

            body = {"model": model, "messages": MESSAGES, "stream": stream}
            if tools:
                body["tools"] = tools_openai
            yield ("ollama", stream, False) + post(base + "/api/chat", {}, body)

            # Cohere v2: SSE when asked for it, else one JSON object per line.
            body = {"model": model, "messages": MESSAGES, "stream": stream}
            if tools:
                body["tools"] = tools_openai
            for sse in ((False, True) if stream else (False,)):
                hs = {"Authorization": "Bearer " + KEY}
                if sse:
                    hs["Accept"] = "text/event-stream"
                yield ("cohere", stream, sse) + post(base + "/v2/chat", hs, body)

            # Bedrock Converse / ConverseStream (API-key auth): JSON, or binary event-stream frames.
            body = {"messages": [{"role": "user", "content": [{"text": MESSAGES[0]["content"]}]}]}
            if tools:
                body["toolConfig"] = tools_bedrock
            yield ("bedrock", stream, False) + post(
                base + "/model/%s/%s" % (model, "converse-stream" if stream else "converse"),
                {"Authorization": "Bearer bedrock-api-key-seed"}, body)

            # Mistral: typed content chunks (thinking, text) in answers and deltas of reasoning models.
            for m in (("magistral-small", model) if model == "echo" else (model,)):
                body = {"model": m, "messages": MESSAGES, "stream": stream}
                if tools:
                    body["tools"] = tools_openai
                yield ("openai", stream, False) + post(base + "/mistral/v1/chat/completions",
                                                       {"Authorization": "Bearer " + KEY}, body)


def from_emulator(seeds):
    import harness
    proc, base = harness.start()
    try:
        for proto, stream, alt, status, headers, body in emulator_exchanges(base):
            if status >= 300:
                keep = [(k.lower(), v) for k, v in headers
                        if k.lower() in ("content-type", "retry-after", "retry-after-ms", "x-amzn-errortype")]
                seeds.add("errors", error_input(status, keep, body))
                continue
            if not stream:
                seeds.add(proto + "_response", body)
                seeds.add("json", body)
                if proto == "ollama":
                    seeds.add("ollama_stream", body)  # a stream request answered with one object
                if proto == "openai":
                    seeds.add("openai_skim", body)
                continue
            seeds.add(proto + "_stream", body)
            if proto == "ollama" or (proto == "cohere" and not alt):
                seeds.add("ndjson", body)
            elif proto == "bedrock":
                seeds.add("event_stream", body)
            elif proto == "openai":
                seeds.add("sse", body)
                skim_seeds(seeds, body)
            elif proto == "gemini" and not alt:
                seeds.add("json_array", body)
            else:
                seeds.add("sse", body)
    finally:
        harness.stop(proc)


def skim_seeds(seeds, body):
    """The `openai_skim` target's input is one chunk's JSON (each data line of an OpenAI stream), or
    two consecutive chunks joined by a newline (the first teaches the template the second is matched
    against)."""
    chunks = []
    for line in body.splitlines():
        line = line.strip()
        if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
            chunks.append(line[5:].strip())
    for i, c in enumerate(chunks):
        seeds.add("openai_skim", c)
        if i + 1 < len(chunks):
            seeds.add("openai_skim", c + b"\n" + chunks[i + 1])


def newest_input():
    paths = glob.glob(os.path.join(RECORDED, "*", "*.json")) + glob.glob(os.path.join(EMULATOR_DIR, "*.py"))
    return max(os.path.getmtime(p) for p in paths + [os.path.abspath(__file__)])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz", ".work", "seeds")
    stamp = os.path.join(out, ".stamp")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= newest_input():
        return
    seeds = Seeds(out)
    from_recordings(seeds)
    for r in CRAFTED_REQUESTS:
        seeds.add("request", json.dumps(r, ensure_ascii=False))
    for o in CRAFTED_OPTIONS:
        seeds.add("client_options", json.dumps(o).replace("Infinity", "1e400"))
    from_emulator(seeds)
    seeds.add("errors", error_input(401, [], json.dumps({"error": {"message": "Incorrect API key provided: " +
                                                                   "sk-fuzz-SECRET-0123456789"}}).encode()))
    with open(stamp, "w") as f:
        f.write("\n")
    print("seeds: " + ", ".join("%s %d" % kv for kv in sorted(seeds.count.items())))


if __name__ == "__main__":
    main()
