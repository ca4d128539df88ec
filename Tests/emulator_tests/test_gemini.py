"""The Gemini / Vertex AI protocol of the emulator (Tests/emulator/README.md, "Google Gemini")."""

import email.utils
import glob
import json
import os
import re
import time
import urllib.parse
import uuid

import pytest

import fixtures as fixture_mod
from emu_client import (FIXTURES_DIR, KEY, RawResponse, gemini, gemini_array, gemini_body, gemini_collect,
                        gemini_sse, raw_exchange, request, sse_data)

ECHO = "You said: hello there"
PKG = "type.googleapis.com/google.ai.generativelanguage.v1beta."
WEATHER = {"name": "get_weather", "description": "Weather", "parameters": {
    "type": "OBJECT", "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"}}, "required": ["city"]}}
TIME = {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}
VERTEX = "/v1/projects/my-proj/locations/us-central1/publishers/google/models/%s:%s"


def assert_error(r, code, status, message=None):
    assert r.status == code, r.body
    assert r.header("content-type") == "application/json; charset=UTF-8"
    assert r.text.startswith('{\n  "error": {\n    "code": %d,' % code)
    err = r.json()["error"]
    assert err["code"] == code and err["status"] == status, err
    if message is not None:
        assert err["message"] == message, err["message"]
    return err


def sse(base, model="gemini-2.5-flash", body=None, **kw):
    r = gemini(base, model, body, "streamGenerateContent", "?alt=sse", **kw)
    assert r.status == 200, r.body
    assert r.header("content-type") == "text/event-stream"
    return r, gemini_sse(r.text)


def array(base, model="gemini-2.5-flash", body=None, **kw):
    r = gemini(base, model, body, "streamGenerateContent", **kw)
    assert r.status == 200, r.body
    assert r.header("content-type") == "application/json; charset=UTF-8"
    return r, gemini_array(r.text)


def whole(base, model="gemini-2.5-flash", body=None, **kw):
    r = gemini(base, model, body, **kw)
    assert r.status == 200, r.body
    return r.json()


def vertex(base, model="gemini-2.5-flash", method="generateContent", body=None, token=KEY, query="", headers=None):
    hs = {"Authorization": "Bearer " + token} if token else {}
    hs.update(headers or {})
    return request(base, "POST", VERTEX % (model, method) + query, body=body or gemini_body(), key=None, headers=hs)


# ---- auth ---------------------------------------------------------------------------------------------------------------
def test_missing_key_is_403(base):
    assert_error(gemini(base, key=None), 403, "PERMISSION_DENIED",
                 "Method doesn't allow unregistered callers (callers without established identity). Please use API "
                 "Key or other form of API consumer identity to call this API.")


@pytest.mark.parametrize("key", ["sk-bad-secret-1", "bad-secret-2"])
def test_invalid_key_is_400(base, key):
    r = gemini(base, key=key)
    err = assert_error(r, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
    assert err["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert err["details"][0]["reason"] == "API_KEY_INVALID"
    assert b"secret" not in r.body


def test_key_in_query_and_noperm(base):
    r = request(base, "POST", "/v1beta/models/gemini-2.5-flash:generateContent?key=" + KEY, body=gemini_body(),
                key=None)
    assert r.status == 200
    assert_error(gemini(base, key="sk-noperm-1"), 403, "PERMISSION_DENIED")


def test_bearer_token_on_the_gemini_api(base):
    assert gemini(base, key=None, headers={"Authorization": "Bearer ya29.token"}).status == 200
    assert_error(gemini(base, key=None, headers={"Authorization": "Bearer bad-token"}), 401, "UNAUTHENTICATED")
    assert_error(gemini(base, key=None, headers={"Authorization": "Bearer noperm-token"}), 403, "PERMISSION_DENIED")


def test_unknown_query_parameter(base):
    err = assert_error(gemini(base, query="?foo=1"), 400, "INVALID_ARGUMENT")
    assert err["message"] == ("Invalid JSON payload received. Unknown name \"foo\": Cannot bind query parameter. "
                              "Field 'foo' could not be found in request message.")
    assert gemini(base, query="?alt=json&prettyPrint=false").status == 200


def test_last_request_redacts_keys(base):
    secret = "AIza-query-secret-123"
    request(base, "POST", "/v1beta/models/m:generateContent?alt=sse&key=" + secret, body=gemini_body(), key=None)
    r = request(base, "GET", "/_emulator/last_request", key=None)
    assert secret.encode() not in r.body
    rec = r.json()
    assert rec["query"] == {"alt": "sse", "key": "<redacted:%d chars>" % len(secret)}
    assert rec["path"] == "/v1beta/models/m:generateContent"
    gemini(base, key=secret)
    r = request(base, "GET", "/_emulator/last_request", key=None)
    assert secret.encode() not in r.body
    assert r.json()["headers"]["x-goog-api-key"] == "<redacted:%d chars>" % len(secret)


def test_verbose_log_never_shows_the_key():
    import subprocess
    import sys
    from emu_client import EMULATOR_DIR
    proc = subprocess.Popen([sys.executable, os.path.join(EMULATOR_DIR, "emulator.py"), "--verbose"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = proc.stdout.readline().decode().split()[1]
        r = request(url, "POST", "/v1beta/models/m:generateContent?key=SECRET-KEY-42&alt=sse", body=gemini_body(),
                    key=None)
        assert r.status == 200
    finally:
        proc.stdin.close()
        proc.wait(5)
        log = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
    assert "generateContent?key=<redacted>&alt=sse" in log and "SECRET" not in log


def test_vertex_auth(base):
    assert_error(vertex(base, token=None), 401, "UNAUTHENTICATED")
    assert_error(vertex(base, token=None, headers={"x-goog-api-key": KEY}), 401, "UNAUTHENTICATED")
    err = assert_error(vertex(base, token="bad-token-secret"), 401, "UNAUTHENTICATED")
    assert err["message"].startswith("Request had invalid authentication credentials.")
    err = assert_error(vertex(base, token="sk-noperm-x"), 403, "PERMISSION_DENIED")
    assert err["message"] == ("Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com"
                              "/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash' (or it "
                              "may not exist).")


# ---- request checks: parsing ------------------------------------------------------------------------------------------------
def decl(**params):
    return {"tools": [{"functionDeclarations": [{"name": "f", "parameters": params}]}]}


PARSE_ERRORS = [
    ("unknown top-level", gemini_body(foo=1), None,
     'Invalid JSON payload received. Unknown name "foo": Cannot find field.'),
    ("unknown nested", gemini_body(generationConfig={"maxTokens": 5}), "generation_config",
     'Invalid JSON payload received. Unknown name "maxTokens" at \'generation_config\': Cannot find field.'),
    ("openai messages", {"messages": [{"role": "user", "content": "hi"}]}, None,
     'Invalid JSON payload received. Unknown name "messages": Cannot find field.'),
    ("wrong scalar type", gemini_body(generationConfig={"temperature": "hot"}), "generation_config.temperature",
     "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\""),
    ("text not string", {"contents": [{"role": "user", "parts": [{"text": 5}]}]}, "contents[0].parts[0].text",
     "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING), 5"),
    ("contents not list", {"contents": "hi"}, "contents",
     "Invalid value at 'contents' (%sContent), \"hi\"" % PKG),
    ("list for a single field", gemini_body(systemInstruction=[{"parts": [{"text": "x"}]}]), None,
     'Invalid JSON payload received. Unknown name "systemInstruction": Proto field is not repeating, cannot start '
     'list.'),
    ("bad enum", gemini_body(toolConfig={"functionCallingConfig": {"mode": "SOMETIMES"}}),
     "tool_config.function_calling_config.mode",
     "Invalid value at 'tool_config.function_calling_config.mode' (%sFunctionCallingConfig.Mode), \"SOMETIMES\""
     % PKG),
    ("bad bytes", {"contents": [{"role": "model", "parts": [{"text": "x", "thoughtSignature": "not base64!"}]}]},
     "contents[0].parts[0].thought_signature",
     "Invalid value at 'contents[0].parts[0].thought_signature' (TYPE_BYTES), \"not base64!\""),
    ("args not object", {"contents": [{"role": "user", "parts": [{"text": "x"}]}, {"role": "model", "parts": [
        {"functionCall": {"name": "f", "args": "{}"}}]}]}, "contents[1].parts[0].function_call.args",
     "Invalid value at 'contents[1].parts[0].function_call.args' (type.googleapis.com/google.protobuf.Struct), \"{}\""),
    ("additionalProperties", gemini_body(**decl(type="object", properties={}, additionalProperties=False)),
     "tools[0].function_declarations[0].parameters",
     'Invalid JSON payload received. Unknown name "additionalProperties" at '
     '\'tools[0].function_declarations[0].parameters\': Cannot find field.'),
    ("$schema", gemini_body(**decl(**{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"})),
     "tools[0].function_declarations[0].parameters",
     'Invalid JSON payload received. Unknown name "$schema" at \'tools[0].function_declarations[0].parameters\': '
     'Cannot find field.'),
    ("$defs", gemini_body(**decl(**{"$defs": {"A": {"type": "string"}}, "type": "object"})),
     "tools[0].function_declarations[0].parameters", 'Invalid JSON payload received. Unknown name "$defs"'),
    ("$ref in a property", gemini_body(**decl(type="object", properties={"a": {"type": "string"},
                                                                         "b": {"$ref": "#/$defs/A"}})),
     "tools[0].function_declarations[0].parameters.properties[1].value",
     'Invalid JSON payload received. Unknown name "$ref" at '
     '\'tools[0].function_declarations[0].parameters.properties[1].value\': Cannot find field.'),
    ("nested additionalProperties", gemini_body(**decl(type="object", properties={"a": {
        "type": "object", "properties": {"x": {"type": "string"}}, "additionalProperties": False}})),
     "tools[0].function_declarations[0].parameters.properties[0].value",
     'Invalid JSON payload received. Unknown name "additionalProperties" at '
     '\'tools[0].function_declarations[0].parameters.properties[0].value\''),
    ("type list", gemini_body(**decl(type="object", properties={"a": {"type": ["string", "null"]}})),
     "tools[0].function_declarations[0].parameters.properties[0].value",
     'Invalid JSON payload received. Unknown name "type" at '
     '\'tools[0].function_declarations[0].parameters.properties[0].value\': Proto field is not repeating, cannot '
     'start list.'),
    ("oneOf in responseSchema", gemini_body(generationConfig={"responseMimeType": "application/json",
                                                              "responseSchema": {"oneOf": []}}),
     "generation_config.response_schema", 'Invalid JSON payload received. Unknown name "oneOf" at '
                                          '\'generation_config.response_schema\''),
]


@pytest.mark.parametrize("name,body,field,message", PARSE_ERRORS, ids=[c[0] for c in PARSE_ERRORS])
def test_parse_errors(base, name, body, field, message):
    err = assert_error(gemini(base, body=body), 400, "INVALID_ARGUMENT")
    assert err["message"].startswith(message), err["message"]
    [detail] = err["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    violation = detail["fieldViolations"][0]
    assert violation.get("field") == field and violation["description"] == err["message"].split("\n")[0]


def test_all_parse_errors_are_reported_at_once(base):
    body = gemini_body(foo=1, generationConfig={"temperature": "hot", "bar": 2},
                       **decl(type="object", additionalProperties=False, properties={"a": {"type": "string"}}))
    err = assert_error(gemini(base, body=body), 400, "INVALID_ARGUMENT")
    assert len(err["message"].split("\n")) == 4 == len(err["details"][0]["fieldViolations"])


def test_vertex_uses_its_own_proto_names(base):
    r = vertex(base, body={"contents": "hi"})
    assert assert_error(r, 400, "INVALID_ARGUMENT")["message"] == (
        "Invalid value at 'contents' (type.googleapis.com/google.cloud.aiplatform.v1.Content), \"hi\"")


@pytest.mark.parametrize("raw", [b"{nope", b"[1]"])
def test_body_must_be_a_json_object(base, raw):
    r = request(base, "POST", "/v1beta/models/m:generateContent", raw_body=raw, key=None,
                headers={"x-goog-api-key": KEY, "Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_ARGUMENT")
    assert r.json()["error"]["message"].startswith("Invalid JSON payload received.")


# ---- request checks: semantics -----------------------------------------------------------------------------------------------
def fcall(name="get_weather", sig=None, **args):
    part = {"functionCall": {"name": name, "args": args}}
    if sig:
        part["thoughtSignature"] = sig
    return part


def fresp(name="get_weather", **response):
    return {"functionResponse": {"name": name, "response": response or {"result": "sunny"}}}


def turns(*pairs):
    return [{"role": role, "parts": parts} for role, parts in pairs]


TOOLS = [{"functionDeclarations": [WEATHER, TIME]}]
ROUND = turns(("user", [{"text": "weather?"}]), ("model", [fcall(city="Paris")]), ("user", [fresp()]))

SEMANTIC = [
    ("no contents", {}, "* GenerateContentRequest.contents: contents is not specified\n"),
    ("empty contents", {"contents": []}, "* GenerateContentRequest.contents: contents is not specified\n"),
    ("empty parts", {"contents": [{"role": "user", "parts": []}]},
     "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"),
    ("empty part", {"contents": [{"role": "user", "parts": [{}]}]},
     "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized "
     "field\n"),
    ("thought flag only", {"contents": [{"role": "user", "parts": [{"thought": True}]}]},
     "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data'"),
    ("two data fields", {"contents": [{"role": "user", "parts": [{"text": "a", "fileData": {
        "fileUri": "gs://b/x.png", "mimeType": "image/png"}}]}]},
     "Invalid JSON payload received. Oneof field 'data' is already set. Cannot set 'fileData'"),
    ("assistant role", {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]},
     "Please use a valid role: user, model."),
    ("system role", {"contents": [{"role": "system", "parts": [{"text": "hi"}]}]},
     "Please use a valid role: user, model."),
    ("function call without name", {"contents": turns(("user", [{"text": "x"}]), ("model", [
        {"functionCall": {"args": {}}}]))}, "* GenerateContentRequest.contents[1].parts[0].function_call.name: "),
    ("inline data without mime type", {"contents": [{"role": "user", "parts": [{"inlineData": {"data": "AAAA"}}]}]},
     "* GenerateContentRequest.contents[0].parts[0].inline_data.mime_type: "),
    ("function call first", {"contents": turns(("model", [fcall()]))},
     "Please ensure that function call turn comes immediately after a user turn or after a function response turn."),
    ("function call after model", {"contents": turns(("user", [{"text": "x"}]), ("model", [{"text": "hm"}]),
                                                     ("model", [fcall()]))},
     "Please ensure that function call turn comes immediately after a user turn or after a function response turn."),
    ("response count mismatch", {"tools": TOOLS, "contents": ROUND[:2] + turns(("user", [fresp(), fresp()]))},
     "Please ensure that the number of function response parts is equal to the number of function call parts of "
     "the function call turn."),
    ("response without call", {"contents": turns(("user", [{"text": "x"}]), ("model", [{"text": "ok"}]),
                                                 ("user", [fresp()]))},
     "Please ensure that function response turn comes immediately after a function call turn."),
    ("bad function name", gemini_body(tools=[{"functionDeclarations": [{"name": "get weather"}]}]),
     "* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function name. Must start with a "
     "letter or an underscore."),
    ("duplicate function", gemini_body(tools=[{"functionDeclarations": [WEATHER]}, {"functionDeclarations": [
        WEATHER]}]), "* GenerateContentRequest.tools[1].function_declarations[0].name: Duplicate function "),
    ("both parameter kinds", gemini_body(tools=[{"functionDeclarations": [dict(WEATHER, parametersJsonSchema={
        "type": "object"})]}]), "* GenerateContentRequest.tools[0].function_declarations[0].parameters_json_schema: "),
    ("required not a property", gemini_body(**decl(type="OBJECT", properties={"a": {"type": "STRING"}},
                                                   required=["a", "b"])),
     "* GenerateContentRequest.tools[0].function_declarations[0].parameters.required[1]: property is not defined\n"),
    ("allowed names with AUTO", gemini_body(tools=TOOLS, toolConfig={"functionCallingConfig": {
        "mode": "AUTO", "allowedFunctionNames": ["get_time"]}}),
     "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: "),
    ("allowed name undeclared", gemini_body(tools=TOOLS, toolConfig={"functionCallingConfig": {
        "mode": "ANY", "allowedFunctionNames": ["nope"]}}),
     "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names[0]: "),
    ("temperature", gemini_body(generationConfig={"temperature": 2.5}),
     "* GenerateContentRequest.generation_config.temperature: "),
    ("top_p", gemini_body(generationConfig={"topP": 1.5}), "* GenerateContentRequest.generation_config.top_p: "),
    ("candidate count", gemini_body(generationConfig={"candidateCount": 9}),
     "* GenerateContentRequest.generation_config.candidate_count: "),
    ("max output tokens", gemini_body(generationConfig={"maxOutputTokens": 0}),
     "* GenerateContentRequest.generation_config.max_output_tokens: "),
    ("six stop sequences", gemini_body(generationConfig={"stopSequences": list("abcdef")}),
     "* GenerateContentRequest.generation_config.stop_sequences: "),
    ("mime type", gemini_body(generationConfig={"responseMimeType": "text/csv"}),
     "* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are `text/plain`, "
     "`application/json`, `application/xml`, `application/yaml` and `text/x.enum`.\n"),
    ("schema without json mime", gemini_body(generationConfig={"responseSchema": {"type": "OBJECT"}}),
     "* GenerateContentRequest.generation_config.response_schema: response_mime_type must be one of "),
    ("both schemas", gemini_body(generationConfig={"responseMimeType": "application/json", "responseSchema": {
        "type": "OBJECT"}, "responseJsonSchema": {"type": "object"}}),
     "* GenerateContentRequest.generation_config.response_json_schema: "),
    ("budget and level", gemini_body(generationConfig={"thinkingConfig": {"thinkingBudget": 100,
                                                                          "thinkingLevel": "low"}}),
     "You can only set only one of thinking budget and thinking level."),
    ("gemini 3 without signature", {"tools": TOOLS, "contents": ROUND}, "Unable to submit request because function "
     "call `get_weather` in the 2. content block is missing a `thought_signature`. Learn more: "),
]


@pytest.mark.parametrize("name,body,message", SEMANTIC, ids=[c[0] for c in SEMANTIC])
def test_semantic_errors(base, name, body, message):
    model = "gemini-3-flash-preview" if "gemini 3" in name else "gemini-2.5-flash"
    err = assert_error(gemini(base, model, body=body), 400, "INVALID_ARGUMENT")
    assert err["message"].startswith(message), err["message"]


VALID = [
    ("snake_case names", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generation_config": {
        "max_output_tokens": 50, "response_mime_type": "text/plain", "thinking_config": {"include_thoughts": False}},
        "system_instruction": {"parts": [{"text": "be brief"}]}}),
    ("nulls are absent", gemini_body(systemInstruction=None, generationConfig={"temperature": None},
                                     tools=[{"functionDeclarations": [dict(WEATHER, description=None)]}])),
    ("no role", {"contents": [{"parts": [{"text": "hi"}]}]}),
    ("media parts", {"contents": [{"role": "user", "parts": [
        {"text": "what is this"}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/doc.pdf"}}]}]}),
    ("everything in generationConfig", gemini_body(generationConfig={
        "temperature": 2, "topP": 1, "topK": 40, "maxOutputTokens": 100, "stopSequences": list("abcde"),
        "seed": 7, "presencePenalty": 0.5, "frequencyPenalty": -0.5, "candidateCount": 1,
        "responseMimeType": "application/json", "responseJsonSchema": {"type": "object", "additionalProperties": False},
        "thinkingConfig": {"thinkingBudget": -1, "includeThoughts": True}})),
    ("thinking level lower-case", gemini_body(generationConfig={"thinkingConfig": {"thinkingLevel": "low"}})),
    ("enum spelled as a number", gemini_body(tools=TOOLS, toolConfig={"functionCallingConfig": {"mode": 1}})),
    ("string numbers", gemini_body(generationConfig={"maxOutputTokens": "64", "temperature": "0.5"})),
    ("safety settings", gemini_body(safetySettings=[{"category": "HARM_CATEGORY_HATE_SPEECH",
                                                     "threshold": "BLOCK_NONE"}])),
    ("parametersJsonSchema is full JSON Schema", gemini_body(tools=[{"functionDeclarations": [{
        "name": "f", "parametersJsonSchema": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                               "type": "object", "additionalProperties": False,
                                               "$defs": {"A": {"type": "string"}},
                                               "properties": {"a": {"$ref": "#/$defs/A"}}}}]}])),
    ("openapi subset", gemini_body(**decl(type="OBJECT", nullable=True, properties={
        "a": {"type": "STRING", "enum": ["x", "y"], "format": "enum"},
        "b": {"type": "ARRAY", "items": {"type": "INTEGER"}, "minItems": 1},
        "c": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]}}, required=["a"], propertyOrdering=["a", "b"]))),
    ("tool round trip", {"tools": TOOLS, "contents": ROUND}),
    ("function role for responses", {"tools": TOOLS, "contents": ROUND[:2] + turns(("function", [fresp()]))}),
    ("parallel round trip", {"tools": TOOLS, "contents": turns(
        ("user", [{"text": "both?"}]), ("model", [fcall(), fcall("get_time")]),
        ("user", [fresp(), fresp("get_time")]))}),
    ("other tools", gemini_body(tools=[{"googleSearch": {}}, {"codeExecution": {}}, {"urlContext": {}}])),
]


@pytest.mark.parametrize("name,body", VALID, ids=[c[0] for c in VALID])
def test_valid_requests_pass(base, name, body):
    r = gemini(base, body=body)
    assert r.status == 200, r.body


def test_recorded_requests_pass(base):
    for path in glob.glob(os.path.join(FIXTURES_DIR, "gemini", "*.json")):
        fx = json.load(open(path, encoding="utf-8"))
        m = re.search(r"/models/([^:/]+):streamGenerateContent$", fx["request"]["uri"])
        if not m:
            continue                                  # model listing / embeddings
        r = gemini(base, m.group(1), fx["request"]["body"], "streamGenerateContent")
        assert r.status == 200, (os.path.basename(path), r.body)


def test_gemini_3_signatures_round_trip(base):
    first = whole(base, "gemini-3-flash-preview", gemini_body(tools=TOOLS))
    part = first["candidates"][0]["content"]["parts"][0]
    assert part["thoughtSignature"] and part["functionCall"]["name"] == "get_weather"
    contents = gemini_body()["contents"] + [first["candidates"][0]["content"],
                                            {"role": "user", "parts": [fresp()]}]
    assert gemini(base, "gemini-3-flash-preview", {"tools": TOOLS, "contents": contents}).status == 200
    dummy = turns(("user", [{"text": "x"}]), ("model", [fcall(sig="skip_thought_signature_validator")]),
                  ("user", [fresp()]))
    assert gemini(base, "gemini-3-flash-preview", {"tools": TOOLS, "contents": dummy}).status == 200
    # only the current turn is checked: an old unsigned call before a new user prompt is fine
    old = ROUND + turns(("model", [{"text": "Sunny."}]), ("user", [{"text": "thanks"}]))
    assert gemini(base, "gemini-3-flash-preview", {"tools": TOOLS, "contents": old}).status == 200


# ---- answers -----------------------------------------------------------------------------------------------------------------
def test_echo_shape(base):
    r = gemini(base, body=gemini_body(systemInstruction={"parts": [{"text": "be brief"}]}))
    assert r.status == 200 and r.header("content-type") == "application/json; charset=UTF-8"
    assert r.text.startswith('{\n  "candidates": [\n') and r.text.endswith("}\n")
    obj = r.json()
    assert list(obj) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    assert obj["candidates"] == [{"content": {"parts": [{"text": ECHO}], "role": "model"}, "finishReason": "STOP",
                                  "index": 0}]
    assert obj["usageMetadata"] == {"promptTokenCount": 4, "candidatesTokenCount": 4, "totalTokenCount": 8,
                                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4}]}
    assert obj["modelVersion"] == "gemini-2.5-flash" and re.fullmatch(r"[\w-]{20,}", obj["responseId"])
    assert r.header("server-timing").startswith("gfet4t7; dur=")


def test_sse_stream(base):
    r, objs = sse(base)
    assert r.text.startswith('data: {"candidates": [{"content": {"parts": [{"text": "You "}],"role": "model"},')
    assert r.text.endswith("}\r\n\r\n") and "[DONE]" not in r.text
    assert all(e.endswith("}") for e in r.text.split("\r\n\r\n")[:-1])
    text, thoughts, calls, finish, _ = gemini_collect(objs)
    assert (text, thoughts, calls, finish) == (ECHO, "", [], "STOP")
    assert len({o["responseId"] for o in objs}) == 1
    assert objs[-1]["candidates"][0]["content"]["parts"] == [{"text": ""}]
    assert objs[-1]["usageMetadata"]["candidatesTokenCount"] == 4
    assert "candidatesTokenCount" not in objs[0]["usageMetadata"]


def test_json_array_stream_is_written_piece_by_piece(base):
    from emu_client import raw_request_bytes
    raw, _ = raw_exchange(base, raw_request_bytes(base, gemini_body(), key=None,
                                                  path="/v1beta/models/long-3:streamGenerateContent",
                                                  extra_headers=["x-goog-api-key: " + KEY]))
    r = RawResponse(raw)
    assert r.status == 200 and r.complete
    body = r.body.decode()
    assert body.startswith("[{\n  \"candidates\"") and body.endswith("}\n]") and body.count("\n,\r\n") == 3
    assert [c[:4] for c in r.chunks] == [b"[{\n ", b"\n,\r\n", b"\n,\r\n", b"\n,\r\n", b"\n]"]
    assert gemini_collect(gemini_array(body))[0] == "tok0 tok1 tok2"


def test_function_call(base):
    obj = whole(base, body=gemini_body(tools=TOOLS))
    cand = obj["candidates"][0]
    assert cand["finishReason"] == "STOP"
    [part] = cand["content"]["parts"]
    call = part["functionCall"]
    assert call["name"] == "get_weather" and call["args"] == {"city": "Paris", "days": 42}
    assert re.fullmatch(r"[a-z0-9]{8}", call["id"]) and "thoughtSignature" not in part
    _, objs = sse(base, body=gemini_body(tools=TOOLS))
    text, _, calls, finish, _ = gemini_collect(objs)
    assert text == "" and finish == "STOP" and [c["name"] for c in calls] == ["get_weather"]


def test_function_calling_modes(base):
    def names(model="gemini-2.5-flash", **kw):
        return [c["name"] for c in gemini_collect([whole(base, model, gemini_body(**kw))])[2]]
    assert names("parallel-x", tools=TOOLS) == ["get_weather", "get_time"]
    assert names(tools=TOOLS, toolConfig={"functionCallingConfig": {"mode": "NONE"}}) == []
    assert names(tools=TOOLS, toolConfig={"functionCallingConfig": {"mode": "ANY"}}) == ["get_weather"]
    assert names(tools=TOOLS, toolConfig={"functionCallingConfig": {"mode": "ANY",
                                                                    "allowedFunctionNames": ["get_time"]}}) == [
        "get_time"]
    schema_tool = [{"functionDeclarations": [{"name": "f", "parametersJsonSchema": {
        "type": "object", "properties": {"n": {"type": ["integer", "null"]}}}}]}]
    assert gemini_collect([whole(base, body=gemini_body(tools=schema_tool))])[2][0]["args"] == {"n": 42}


def test_function_response_answer(base):
    contents = turns(("user", [{"text": "both?"}]), ("model", [fcall(), fcall("get_time")]),
                     ("user", [fresp(), fresp("get_time", time="noon", tz="UTC")]))
    obj = whole(base, "parallel-x", {"tools": TOOLS, "contents": contents})
    assert gemini_collect([obj])[0] == 'Tool results: sunny; {"time":"noon","tz":"UTC"}'


@pytest.mark.parametrize("how", ["reasoning model", "includeThoughts"])
def test_thoughts(base, how):
    model, body = ("reasoning", gemini_body()) if how == "reasoning model" else (
        "gemini-2.5-flash", gemini_body(generationConfig={"thinkingConfig": {"includeThoughts": True}}))
    obj = whole(base, model, body)
    parts = obj["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and parts[0]["text"].startswith("Let me think")
    assert parts[1]["text"] == ECHO and parts[1]["thoughtSignature"]
    assert obj["usageMetadata"]["thoughtsTokenCount"] == len(parts[0]["text"].split())
    _, objs = sse(base, model, body)
    text, thoughts, _, _, signed = gemini_collect(objs)
    assert text == ECHO and thoughts == parts[0]["text"]
    assert signed == [objs[-1]["candidates"][0]["content"]["parts"][0]]
    obj = whole(base, model, dict(body, tools=TOOLS))
    parts = obj["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] and "functionCall" in parts[1] and parts[1]["thoughtSignature"]


def test_structured_output(base):
    schema = {"type": "OBJECT", "properties": {"name": {"type": "STRING"}, "tags": {"type": "ARRAY"}}}
    obj = whole(base, body=gemini_body(generationConfig={"responseMimeType": "application/json",
                                                          "responseSchema": schema}))
    assert json.loads(gemini_collect([obj])[0]) == {"name": "Paris", "tags": []}
    _, objs = sse(base, body=gemini_body(generationConfig={"responseMimeType": "application/json",
                                                            "responseJsonSchema": {"type": "object", "properties": {
                                                                "n": {"type": "number"}}}}))
    assert json.loads(gemini_collect(objs)[0]) == {"n": 1.5}
    obj = whole(base, body=gemini_body(generationConfig={"responseMimeType": "application/json"}))
    assert json.loads(gemini_collect([obj])[0]) == {"text": ECHO}


def test_stop_sequences_and_max_output_tokens(base):
    obj = whole(base, body=gemini_body("one two three", generationConfig={"stopSequences": ["two"]}))
    assert gemini_collect([obj])[0] == "You said: one " and obj["candidates"][0]["finishReason"] == "STOP"
    obj = whole(base, "long-10", gemini_body(generationConfig={"maxOutputTokens": 2}))
    assert gemini_collect([obj])[0] == "tok0 tok1 " and obj["candidates"][0]["finishReason"] == "MAX_TOKENS"
    _, objs = sse(base, "length")
    assert gemini_collect(objs)[3] == "MAX_TOKENS"


def test_candidate_count(base):
    obj = whole(base, body=gemini_body(generationConfig={"candidateCount": 2}))
    assert [c["index"] for c in obj["candidates"]] == [0, 1]


def test_long_n(base):
    _, objs = array(base, "long-25")
    assert len(objs) == 26 and gemini_collect(objs)[0] == " ".join("tok%d" % i for i in range(25))


def test_content_filter_is_safety_without_content(base):
    obj = whole(base, "content-filter")
    [cand] = obj["candidates"]
    assert cand["finishReason"] == "SAFETY" and "content" not in cand
    assert any(r.get("blocked") for r in cand["safetyRatings"])
    assert "candidatesTokenCount" not in obj["usageMetadata"]
    _, objs = sse(base, "content-filter")
    assert len(objs) == 1 and objs[0]["candidates"][0]["finishReason"] == "SAFETY"


@pytest.mark.parametrize("status,name", [(400, "INVALID_ARGUMENT"), (401, "UNAUTHENTICATED"),
                                         (403, "PERMISSION_DENIED"), (404, "NOT_FOUND"), (429, "RESOURCE_EXHAUSTED"),
                                         (500, "INTERNAL"), (503, "UNAVAILABLE"), (504, "DEADLINE_EXCEEDED"),
                                         (409, "ABORTED"), (418, "UNKNOWN")])
@pytest.mark.parametrize("method,query", [("generateContent", ""), ("streamGenerateContent", "?alt=sse"),
                                          ("streamGenerateContent", "")])
def test_status_models(base, status, name, method, query):
    err = assert_error(gemini(base, "status-%d" % status, method=method, query=query), status, name)
    if status == 429:
        assert err["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]
    if status == 503:
        assert err["message"] == "The model is overloaded. Please try again later."
    if status == 404:
        assert err["message"].startswith("models/status-404 is not found for API version v1beta, or is not "
                                         "supported for %s." % method)


def test_retry_after_date(base):
    r = gemini(base, "retry-after-date")
    err = assert_error(r, 429, "RESOURCE_EXHAUSTED")
    assert err["details"][0]["retryDelay"] == "3s"
    when = email.utils.parsedate_to_datetime(r.header("retry-after")).timestamp()
    assert 1.0 <= when - time.time() <= 4.0


def test_context_length_quota_html_flaky(base):
    assert_error(gemini(base, "context-length"), 400, "INVALID_ARGUMENT",
                 "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).")
    err = assert_error(gemini(base, "quota"), 429, "RESOURCE_EXHAUSTED")
    assert err["message"].startswith("You exceeded your current quota, please check your plan and billing details.")
    assert err["details"][0]["@type"] == "type.googleapis.com/google.rpc.QuotaFailure"
    r = gemini(base, "html-404", method="streamGenerateContent", query="?alt=sse")
    assert r.status == 404 and r.header("content-type") == "text/html"
    model = "flaky-1-" + uuid.uuid4().hex[:6]
    assert_error(gemini(base, model), 500, "INTERNAL")
    assert gemini(base, model).status == 200


def test_drop_after_n(base):
    from emu_client import raw_request_bytes
    for path in ("/v1beta/models/drop-after-3:streamGenerateContent?alt=sse",
                 "/v1beta/models/drop-after-3:streamGenerateContent", "/v1beta/models/drop-after-3:generateContent"):
        raw, _ = raw_exchange(base, raw_request_bytes(base, gemini_body(), path=path, key=None,
                                                      extra_headers=["x-goog-api-key: " + KEY]))
        r = RawResponse(raw)
        assert r.status == 200
        if "content-length" in r.headers:
            assert 0 < len(r.body) < int(r.headers["content-length"])
            continue
        assert not r.complete
        body = r.body.decode()
        if "alt=sse" in path:
            texts = [gemini_collect([json.loads(d)])[0] for d in sse_data(body)]
        else:
            assert not body.endswith("]")
            texts = [gemini_collect([json.loads(piece.lstrip("[,\r\n"))])[0] for piece in body.split("\n,\r\n")]
        assert texts == ["tok0 ", "tok1 ", "tok2 "]


def test_stall_and_slow(base):
    t0 = time.monotonic()
    _, objs = sse(base, "stall-250")
    assert time.monotonic() - t0 >= 0.23 and gemini_collect(objs)[0] == ECHO
    t0 = time.monotonic()
    _, objs = array(base, "slow-3-80")
    assert time.monotonic() - t0 >= 0.15 and gemini_collect(objs)[0] == "tok0 tok1 tok2"


def test_garbage(base):
    r = gemini(base, "garbage")
    assert r.status == 200 and r.body == b"<<<this is not json>>>"
    assert gemini(base, "garbage", method="streamGenerateContent", query="?alt=sse").body == b"data: {not json\r\n\r\n"
    assert gemini(base, "garbage", method="streamGenerateContent").body == b"[{not json\n]"


def test_split_utf8(base):
    from emu_client import raw_request_bytes
    raw, _ = raw_exchange(base, raw_request_bytes(base, gemini_body(), key=None, extra_headers=[
        "x-goog-api-key: " + KEY], path="/v1beta/models/split-utf8:streamGenerateContent?alt=sse"))
    r = RawResponse(raw)
    assert r.complete and all(len(c) == 1 for c in r.chunks)
    assert gemini_collect(gemini_sse(r.body.decode()))[0] == "héllo wörld — 你好 👋 ok"


def test_error_event(base):
    overloaded = {"error": {"code": 503, "message": "The model is overloaded. Please try again later.",
                            "status": "UNAVAILABLE"}}
    _, objs = sse(base, "error-event")
    assert [gemini_collect([o])[0] for o in objs[:2]] == ["You ", "said: "]
    assert objs[2:] == [overloaded]
    _, objs = array(base, "error-event")
    assert objs[2:] == [overloaded]
    r = gemini(base, "error-event")
    assert r.status == 200 and r.json() == overloaded


@pytest.mark.parametrize("model", ["sse-cr", "sse-quirks"])
def test_sse_framings(base, model):
    r, objs = sse(base, model)
    if model == "sse-cr":
        assert "\n" not in r.text
    else:
        assert ": keep-alive" in r.text
    assert gemini_collect(objs)[0] == ECHO


# ---- Vertex, models, replay ----------------------------------------------------------------------------------------------
def test_vertex_answers(base):
    r = vertex(base)
    assert r.status == 200
    obj = r.json()
    assert gemini_collect([obj])[0] == ECHO and obj["usageMetadata"]["trafficType"] == "ON_DEMAND"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", obj["createTime"])
    r = vertex(base, method="streamGenerateContent", query="?alt=sse")
    assert r.header("content-type") == "text/event-stream" and gemini_collect(gemini_sse(r.text))[0] == ECHO
    r = vertex(base, method="streamGenerateContent")
    assert gemini_collect(gemini_array(r.text))[0] == ECHO
    err = assert_error(vertex(base, "status-404"), 404, "NOT_FOUND")
    assert err["message"].startswith("Publisher Model `projects/my-proj/locations/us-central1/publishers/google/"
                                     "models/status-404` was not found")
    assert request(base, "POST", "/v1beta1/projects/p/locations/global/publishers/google/models/m:generateContent",
                   body=gemini_body(), key=KEY).status == 200


def test_models_listing(base):
    r = request(base, "GET", "/v1beta/models", key=None, headers={"x-goog-api-key": KEY})
    models = r.json()["models"]
    assert r.status == 200 and all(m["name"].startswith("models/") for m in models)
    assert "generateContent" in models[0]["supportedGenerationMethods"]
    r = request(base, "GET", "/v1beta/models/gemini-2.5-flash", key=None, headers={"x-goog-api-key": KEY})
    assert r.json()["name"] == "models/gemini-2.5-flash"
    assert_error(request(base, "GET", "/v1beta/models/nope", key=None, headers={"x-goog-api-key": KEY}), 404,
                 "NOT_FOUND")
    assert_error(request(base, "GET", "/v1beta/models", key=None), 403, "PERMISSION_DENIED")
    assert request(base, "GET", "/v1beta/models/m:generateContent", key=None).status == 405


GEMINI_FIXTURES = sorted(glob.glob(os.path.join(FIXTURES_DIR, "gemini", "*.json")))


@pytest.mark.parametrize("path", GEMINI_FIXTURES, ids=[os.path.basename(p)[:-5] for p in GEMINI_FIXTURES])
def test_replay_gemini_fixture(base, path):
    from emu_client import raw_request_bytes
    fx = json.load(open(path, encoding="utf-8"))
    name = os.path.basename(path)[:-5]
    model = urllib.parse.quote("replay:" + name, safe="")       # [ ] : are percent-encoded by careful clients
    raw, _ = raw_exchange(base, raw_request_bytes(base, gemini_body(), key=None, extra_headers=[
        "x-goog-api-key: " + KEY], path="/v1beta/models/%s:streamGenerateContent" % model))
    r = RawResponse(raw)
    assert r.status == fx["response"]["status"]
    assert r.headers["content-type"] == fx["response"]["content_type"]
    assert r.body == fixture_mod.body_bytes(fx)
    if fixture_mod.is_streamed(fx):
        assert r.complete and len(r.chunks) == len(fixture_mod.split_array(r.body)) == r.body.count(b"\n,\r\n") + 2
        assert gemini_array(r.body.decode())


def test_replay_with_a_raw_colon_and_unknown_names(base):
    name = "tests__cassettes__test_gemini__test_prompt__0"
    r = gemini(base, "replay:" + name, method="streamGenerateContent")
    assert r.status == 200 and gemini_collect(gemini_array(r.text))[0] == "Scoop"
    r = gemini(base, "replay:gemini/" + name, method="generateContent", query="?alt=sse")
    assert r.status == 200 and r.body == fixture_mod.body_bytes(json.load(open(os.path.join(
        FIXTURES_DIR, "gemini", name + ".json"), encoding="utf-8")))
    err = assert_error(gemini(base, "replay:nope"), 404, "NOT_FOUND")
    assert err["message"].startswith("models/replay:nope is not found")
