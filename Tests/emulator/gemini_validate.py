"""Request checks for Gemini generateContent (Gemini API and Vertex AI), worded like the real service.

Two stages, as in the real front end:
1. proto-JSON parsing. Every field must exist in the request proto (lowerCamel or snake_case spelling, `null` =
   absent); unknown names, values of the wrong type and lists given to single fields fail with Google's "Invalid
   JSON payload received..." / "Invalid value at '...'" messages (paths in snake_case, map entries as
   `properties[i].value`), all violations at once, with a google.rpc.BadRequest detail. This is also where a
   function's `parameters` schema fails on JSON-Schema keywords outside Gemini's OpenAPI subset
   (`additionalProperties`, `$schema`, `$ref`, `$defs`, ...); `parametersJsonSchema` / `responseJsonSchema` take any
   JSON Schema.
2. semantic checks (`* GenerateContentRequest.<path>: <message>` and the conversation rules for function calls).
Parsing also normalises the request to lowerCamel names, which is what the protocol module reads afterwards.
"""

import base64
import binascii
import json
import re

# ---- the request protos ------------------------------------------------------------------------------------------------
# Field types: scalar names, "struct" (a JSON object), "value" (any JSON), "msg:Name", "enum:Name"; a "[]" prefix is
# a repeated field, "{}" a map from string keys.
MESSAGES = {
    "GenerateContentRequest": {
        "model": "string", "contents": "[]msg:Content", "systemInstruction": "msg:Content", "tools": "[]msg:Tool",
        "toolConfig": "msg:ToolConfig", "safetySettings": "[]msg:SafetySetting",
        "generationConfig": "msg:GenerationConfig", "cachedContent": "string", "labels": "{}string",
    },
    "Content": {"role": "string", "parts": "[]msg:Part"},
    "Part": {
        "text": "string", "inlineData": "msg:Blob", "fileData": "msg:FileData", "functionCall": "msg:FunctionCall",
        "functionResponse": "msg:FunctionResponse", "executableCode": "msg:ExecutableCode",
        "codeExecutionResult": "msg:CodeExecutionResult", "thought": "bool", "thoughtSignature": "bytes",
        "videoMetadata": "struct", "partMetadata": "struct", "mediaResolution": "struct",
    },
    "Blob": {"mimeType": "string", "data": "bytes", "displayName": "string"},
    "FileData": {"mimeType": "string", "fileUri": "string", "displayName": "string"},
    "FunctionCall": {"id": "string", "name": "string", "args": "struct"},
    "FunctionResponse": {"id": "string", "name": "string", "response": "struct", "willContinue": "bool",
                         "scheduling": "enum:Scheduling", "parts": "[]struct"},
    "ExecutableCode": {"language": "enum:Language", "code": "string"},
    "CodeExecutionResult": {"outcome": "enum:Outcome", "output": "string"},
    "Tool": {
        "functionDeclarations": "[]msg:FunctionDeclaration", "googleSearchRetrieval": "struct",
        "codeExecution": "struct", "googleSearch": "struct", "urlContext": "struct", "computerUse": "struct",
        "fileSearch": "struct", "googleMaps": "struct", "retrieval": "struct", "enterpriseWebSearch": "struct",
    },
    "FunctionDeclaration": {
        "name": "string", "description": "string", "behavior": "enum:Behavior", "parameters": "msg:Schema",
        "parametersJsonSchema": "value", "response": "msg:Schema", "responseJsonSchema": "value",
    },
    # Gemini's OpenAPI-subset Schema: no additionalProperties, $ref, $defs, $schema, oneOf, allOf, const, ...
    "Schema": {
        "type": "enum:Type", "format": "string", "title": "string", "description": "string", "nullable": "bool",
        "enum": "[]string", "maxItems": "int64", "minItems": "int64", "properties": "{}msg:Schema",
        "required": "[]string", "minProperties": "int64", "maxProperties": "int64", "minLength": "int64",
        "maxLength": "int64", "pattern": "string", "example": "value", "anyOf": "[]msg:Schema",
        "propertyOrdering": "[]string", "default": "value", "items": "msg:Schema", "minimum": "double",
        "maximum": "double",
    },
    "ToolConfig": {"functionCallingConfig": "msg:FunctionCallingConfig", "retrievalConfig": "struct"},
    "FunctionCallingConfig": {"mode": "enum:Mode", "allowedFunctionNames": "[]string"},
    "SafetySetting": {"category": "enum:HarmCategory", "threshold": "enum:HarmBlockThreshold", "method": "string"},
    "GenerationConfig": {
        "stopSequences": "[]string", "responseMimeType": "string", "responseSchema": "msg:Schema",
        "responseJsonSchema": "value", "responseModalities": "[]enum:Modality", "candidateCount": "int32",
        "maxOutputTokens": "int32", "temperature": "float", "topP": "float", "topK": "int32", "seed": "int32",
        "presencePenalty": "float", "frequencyPenalty": "float", "responseLogprobs": "bool", "logprobs": "int32",
        "enableEnhancedCivicAnswers": "bool", "speechConfig": "struct", "thinkingConfig": "msg:ThinkingConfig",
        "imageConfig": "struct", "mediaResolution": "enum:MediaResolution", "audioTimestamp": "bool",
        "routingConfig": "struct",
    },
    "ThinkingConfig": {"includeThoughts": "bool", "thinkingBudget": "int32", "thinkingLevel": "enum:ThinkingLevel"},
}
ENUMS = {
    "Type": ("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"),
    "Mode": ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"),
    "HarmCategory": ("HARM_CATEGORY_UNSPECIFIED", "HARM_CATEGORY_DEROGATORY", "HARM_CATEGORY_TOXICITY",
                     "HARM_CATEGORY_VIOLENCE", "HARM_CATEGORY_SEXUAL", "HARM_CATEGORY_MEDICAL",
                     "HARM_CATEGORY_DANGEROUS", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
                     "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT",
                     "HARM_CATEGORY_CIVIC_INTEGRITY"),
    "HarmBlockThreshold": ("HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
                           "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF"),
    "Modality": ("MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO"),
    "MediaResolution": ("MEDIA_RESOLUTION_UNSPECIFIED", "MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM",
                        "MEDIA_RESOLUTION_HIGH"),
    "ThinkingLevel": ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"),
    "Behavior": ("UNSPECIFIED", "BLOCKING", "NON_BLOCKING"),
    "Scheduling": ("SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"),
    "Language": ("LANGUAGE_UNSPECIFIED", "PYTHON"),
    "Outcome": ("OUTCOME_UNSPECIFIED", "OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"),
}
# The enums' proto names (nested in their message), as "Invalid value at" messages spell them.
ENUM_PROTO = {"Type": "Type", "Mode": "FunctionCallingConfig.Mode", "HarmCategory": "HarmCategory",
              "HarmBlockThreshold": "SafetySetting.HarmBlockThreshold", "Modality": "GenerationConfig.Modality",
              "MediaResolution": "GenerationConfig.MediaResolution", "ThinkingLevel": "ThinkingConfig.ThinkingLevel",
              "Behavior": "FunctionDeclaration.Behavior", "Scheduling": "FunctionResponse.Scheduling",
              "Language": "ExecutableCode.Language", "Outcome": "CodeExecutionResult.Outcome"}
SCALAR_TYPES = {"string": "TYPE_STRING", "bool": "TYPE_BOOL", "int32": "TYPE_INT32", "int64": "TYPE_INT64",
                "float": "TYPE_FLOAT", "double": "TYPE_DOUBLE", "bytes": "TYPE_BYTES"}
DATA_FIELDS = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
               "codeExecutionResult")
FUNCTION_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")
MIME_TYPES = ("text/plain", "application/json", "application/xml", "application/yaml", "text/x.enum")
# Query parameters every Google API accepts; anything else cannot be bound to the request message.
QUERY_PARAMS = {"key", "alt", "$alt", "prettyPrint", "fields", "$fields", "callback", "quotaUser", "access_token",
                "upload_protocol", "uploadType", "$.xgafv", "userIp"}
SIGNATURE_DOCS = "https://docs.cloud.google.com/vertex-ai/generative-ai/docs/thought-signatures"
DUMMY_SIGNATURES = ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")


class Invalid(Exception):
    """A 400 INVALID_ARGUMENT; `violations` fill a google.rpc.BadRequest detail (parse errors only)."""

    def __init__(self, message, violations=None):
        super().__init__(message)
        self.message, self.violations = message, violations


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


CANON = {msg: dict([(f, f) for f in fields] + [(snake(f), f) for f in fields]) for msg, fields in MESSAGES.items()}


def _join(path, name):
    return name if not path else path + "." + name


def _show(value):
    return json.dumps(value, ensure_ascii=False)


class Parser:
    def __init__(self, package):
        self.package = package              # google.ai.generativelanguage.v1beta / google.cloud.aiplatform.v1
        self.errors = []                    # [(field path or None, description)]

    def full(self, name):
        return "type.googleapis.com/%s.%s" % (self.package, name)

    def bad_value(self, path, type_name, value):
        self.errors.append((path, "Invalid value at '%s' (%s), %s" % (path, type_name, _show(value))))

    def unknown(self, key, parent, why="Cannot find field."):
        where = " at '%s'" % parent if parent else ""
        self.errors.append((parent or None, 'Invalid JSON payload received. Unknown name "%s"%s: %s'
                            % (key, where, why)))

    def message(self, value, name, path):
        if not isinstance(value, dict):
            self.bad_value(path, self.full(name), value)
            return None
        fields, canon, out = MESSAGES[name], CANON[name], {}
        for key, val in value.items():
            field = canon.get(key)
            if field is None:
                self.unknown(key, path)
                continue
            if val is None:
                continue                    # proto JSON: null is the default value
            out[field] = self.field(val, fields[field], _join(path, snake(field)), key, path)
        return out

    def field(self, val, spec, path, key, parent):
        if spec.startswith("[]"):
            if not isinstance(val, list):
                return self.single(val, spec[2:], path, key, parent)
            return [self.single(x, spec[2:], "%s[%d]" % (path, i), key, parent) for i, x in enumerate(val)]
        if spec.startswith("{}"):
            if not isinstance(val, dict):
                self.bad_value(path, "map", val)
                return None
            return {k: self.single(x, spec[2:], "%s[%d].value" % (path, i), "value", "%s[%d]" % (path, i))
                    for i, (k, x) in enumerate(val.items())}
        if isinstance(val, list) and spec not in ("value",):
            self.unknown(key, parent, "Proto field is not repeating, cannot start list.")
            return None
        return self.single(val, spec, path, key, parent)

    def single(self, val, spec, path, key, parent):
        if spec == "value":
            return val
        if spec == "struct":
            if not isinstance(val, dict):
                self.bad_value(path, "type.googleapis.com/google.protobuf.Struct", val)
            return val
        if spec.startswith("msg:"):
            return self.message(val, spec[4:], path)
        if spec.startswith("enum:"):
            name = spec[5:]
            values = ENUMS[name]
            if isinstance(val, int) and not isinstance(val, bool) and 0 <= val < len(values):
                return values[val]
            if isinstance(val, str) and val.upper() in values:
                return val.upper()
            self.bad_value(path, self.full(ENUM_PROTO[name]), val)
            return None
        ok = {
            "string": lambda x: isinstance(x, str),
            "bool": lambda x: isinstance(x, bool),
            "int32": _is_proto_int, "int64": _is_proto_int,
            "float": _is_proto_number, "double": _is_proto_number,
            "bytes": _is_base64,
        }[spec](val)
        if not ok:
            self.bad_value(path, SCALAR_TYPES[spec], val)
            return None
        if spec in ("int32", "int64"):
            return int(float(val))
        if spec in ("float", "double"):
            return float(val)
        return val


def _is_proto_int(x):
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    if isinstance(x, float):
        return x.is_integer()
    return isinstance(x, str) and re.fullmatch(r"-?\d+", x) is not None


def _is_proto_number(x):
    if isinstance(x, bool):
        return False
    if isinstance(x, (int, float)):
        return True
    if isinstance(x, str):
        try:
            float(x)
            return True
        except ValueError:
            return False
    return False


def _is_base64(x):
    if not isinstance(x, str):
        return False
    s = x.strip()
    try:
        if "-" in s or "_" in s:
            base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        else:
            base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def parse(body, package):
    """Stage 1: the normalised request, or Invalid with every parse violation."""
    p = Parser(package)
    out = p.message(body, "GenerateContentRequest", "")
    if p.errors:
        raise Invalid("\n".join(d for _, d in p.errors), p.errors)
    return out


def check_query(query):
    for name in query:
        if name not in QUERY_PARAMS:
            raise Invalid('Invalid JSON payload received. Unknown name "%s": Cannot bind query parameter. Field '
                          "'%s' could not be found in request message." % (name, name),
                          [(None, 'Invalid JSON payload received. Unknown name "%s": Cannot bind query parameter. '
                                  "Field '%s' could not be found in request message." % (name, name))])


# ---- stage 2 -----------------------------------------------------------------------------------------------------------------
def fail(path, message):
    raise Invalid("* GenerateContentRequest.%s: %s\n" % (path, message))


def check_schema(schema, path):
    props = schema.get("properties") or {}
    for i, name in enumerate(schema.get("required") or []):
        if name not in props:
            fail("%s.required[%d]" % (path, i), "property is not defined")
    for i, (_, sub) in enumerate(props.items()):
        if sub:
            check_schema(sub, "%s.properties[%d].value" % (path, i))
    if schema.get("items"):
        check_schema(schema["items"], path + ".items")
    for i, sub in enumerate(schema.get("anyOf") or []):
        if sub:
            check_schema(sub, "%s.any_of[%d]" % (path, i))


def function_calls(content):
    return [p for p in content.get("parts") or [] if p and "functionCall" in p]


def function_responses(content):
    return [p for p in content.get("parts") or [] if p and "functionResponse" in p]


def check_contents(req, model):
    contents = req.get("contents") or []
    if not contents:
        fail("contents", "contents is not specified")
    for i, c in enumerate(contents):
        if c is None:
            continue
        role = c.get("role", "")
        if role not in ("", "user", "model", "function"):     # "function": the older spelling for responses
            raise Invalid("Please use a valid role: user, model.")
        parts = c.get("parts") or []
        if not parts:
            fail("contents[%d].parts" % i, "contents.parts must not be empty.")
        for j, part in enumerate(parts):
            at = "contents[%d].parts[%d]" % (i, j)
            data = [f for f in DATA_FIELDS if f in (part or {})]
            if not data:
                fail(at + ".data", "required oneof field 'data' must have one initialized field")
            if len(data) > 1:
                raise Invalid("Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '%s'"
                              % data[1], [(at, "Oneof field 'data' is already set. Cannot set '%s'" % data[1])])
            for f in ("functionCall", "functionResponse"):
                if f in part and not (part[f] or {}).get("name"):
                    fail("%s.%s.name" % (at, snake(f)), "Name cannot be empty.")
            if "inlineData" in part and not (part["inlineData"] or {}).get("mimeType"):
                fail(at + ".inline_data.mime_type", "Mime type cannot be empty.")
            if "fileData" in part and not (part["fileData"] or {}).get("fileUri"):
                fail(at + ".file_data.file_uri", "File URI cannot be empty.")

    # the conversation rules for function calling
    for i, c in enumerate(contents):
        calls = function_calls(c or {})
        responses = function_responses(c or {})
        prev = contents[i - 1] if i > 0 else None
        if calls:
            if prev is None or prev.get("role", "user") == "model":
                raise Invalid("Please ensure that function call turn comes immediately after a user turn or after a "
                              "function response turn.")
        if responses:
            prev_calls = function_calls(prev) if prev is not None and prev.get("role") == "model" else []
            if not prev_calls:
                raise Invalid("Please ensure that function response turn comes immediately after a function call "
                              "turn.")
            if len(prev_calls) != len(responses):
                raise Invalid("Please ensure that the number of function response parts is equal to the number of "
                              "function call parts of the function call turn.")

    # thought signatures: required on the first function call of each model turn of the current turn
    if needs_signatures(model):
        start = 0
        for i, c in enumerate(contents):
            if (c or {}).get("role", "user") != "model" and any(
                    "functionResponse" not in (p or {}) for p in (c or {}).get("parts") or []):
                start = i
        for i in range(start, len(contents)):
            calls = function_calls(contents[i] or {})
            if calls and not calls[0].get("thoughtSignature"):
                raise Invalid("Unable to submit request because function call `%s` in the %d. content block is "
                              "missing a `thought_signature`. Learn more: %s"
                              % (calls[0]["functionCall"]["name"], i + 1, SIGNATURE_DOCS))


def needs_signatures(model):
    """Models that return thought signatures on function calls and require them back (Gemini 3 does)."""
    return model == "reasoning" or model.startswith("gemini-3")


def check_tools(req):
    names = []
    for t, tool in enumerate(req.get("tools") or []):
        for d, decl in enumerate((tool or {}).get("functionDeclarations") or []):
            at = "tools[%d].function_declarations[%d]" % (t, d)
            decl = decl or {}
            name = decl.get("name", "")
            if not FUNCTION_NAME.match(name):
                fail(at + ".name", "Invalid function name. Must start with a letter or an underscore. Must be "
                                   "alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), "
                                   "with a maximum length of 64.")
            if name in names:
                fail(at + ".name", "Duplicate function declaration found: %s" % name)
            names.append(name)
            if "parameters" in decl and "parametersJsonSchema" in decl:
                fail(at + ".parameters_json_schema", "parameters_json_schema and parameters cannot both be set.")
            if decl.get("parameters"):
                check_schema(decl["parameters"], at + ".parameters")
            pjs = decl.get("parametersJsonSchema")
            if pjs is not None and not isinstance(pjs, dict):
                fail(at + ".parameters_json_schema", "must be a JSON object.")
    fcc = (req.get("toolConfig") or {}).get("functionCallingConfig") or {}
    allowed = fcc.get("allowedFunctionNames")
    if allowed:
        if fcc.get("mode") not in ("ANY", "VALIDATED"):
            fail("tool_config.function_calling_config.allowed_function_names",
                 "allowed_function_names can only be set when mode is ANY or VALIDATED.")
        for i, name in enumerate(allowed):
            if name not in names:
                fail("tool_config.function_calling_config.allowed_function_names[%d]" % i,
                     "function '%s' is not declared in tools." % name)
    return names


def check_generation_config(req):
    gc = req.get("generationConfig") or {}
    at = "generation_config."

    def rng(key, lo, hi, text):
        val = gc.get(key)
        if val is not None and not lo <= val <= hi:
            fail(at + snake(key), text)

    rng("temperature", 0, 2, "temperature must be in the range [0.0, 2.0].")
    rng("topP", 0, 1, "top_p must be in the range [0.0, 1.0].")
    rng("candidateCount", 1, 8, "candidate_count must be in the range [1, 8].")
    rng("presencePenalty", -2, 1.999999, "presence_penalty must be in the range [-2.0, 2.0).")
    rng("frequencyPenalty", -2, 1.999999, "frequency_penalty must be in the range [-2.0, 2.0).")
    if gc.get("topK") is not None and gc["topK"] < 1:
        fail(at + "top_k", "top_k must be positive.")
    if gc.get("maxOutputTokens") is not None and gc["maxOutputTokens"] < 1:
        fail(at + "max_output_tokens", "max_output_tokens must be positive.")
    if len(gc.get("stopSequences") or []) > 5:
        fail(at + "stop_sequences", "must have at most 5 elements.")
    mime = gc.get("responseMimeType")
    if mime is not None and mime not in MIME_TYPES:
        fail(at + "response_mime_type", "allowed mimetypes are `text/plain`, `application/json`, `application/xml`, "
                                        "`application/yaml` and `text/x.enum`.")
    if "responseSchema" in gc and "responseJsonSchema" in gc:
        fail(at + "response_json_schema", "response_json_schema and response_schema cannot both be set.")
    if ("responseSchema" in gc or "responseJsonSchema" in gc) and mime not in ("application/json", "text/x.enum"):
        field = "response_schema" if "responseSchema" in gc else "response_json_schema"
        fail(at + field, "response_mime_type must be one of ['application/json', 'text/x.enum'] when %s is set."
             % field)
    if gc.get("responseSchema"):
        check_schema(gc["responseSchema"], at + "response_schema")
    tc = gc.get("thinkingConfig") or {}
    if "thinkingBudget" in tc and "thinkingLevel" in tc:
        raise Invalid("You can only set only one of thinking budget and thinking level.")
    if tc.get("thinkingBudget") is not None and tc["thinkingBudget"] < -1:
        fail(at + "thinking_config.thinking_budget", "thinking_budget must be -1 (dynamic), 0 (off) or positive.")


def validate(body, model, package):
    """Both stages; returns the normalised (lowerCamel) request."""
    req = parse(body, package)
    check_contents(req, model)
    check_tools(req)
    check_generation_config(req)
    return req
