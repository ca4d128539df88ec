"""Request checks of Bedrock's Converse / ConverseStream, as the service answers them: a failed check is a
ValidationException (HTTP 400) with Bedrock's own wording where it is known.

validate(body) returns what the renderer needs (the schema of a structured-output request, whether thinking is on).
"""

import base64
import json

TOP_LEVEL = {"messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig", "additionalModelRequestFields",
             "promptVariables", "additionalModelResponseFieldPaths", "requestMetadata", "performanceConfig",
             "outputConfig", "serviceTier"}
BLOCK_KINDS = {"text", "image", "document", "video", "toolUse", "toolResult", "guardContent", "cachePoint",
               "reasoningContent", "citationsContent", "audio", "searchResult"}
IMAGE_FORMATS = {"png", "jpeg", "gif", "webp"}


class Invalid(Exception):
    def __init__(self, message, kind="ValidationException", status=400):
        super().__init__(message)
        self.message, self.kind, self.status = message, kind, status


def _constraint(value, path, what):
    return Invalid("1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s"
                   % (json.dumps(value) if not isinstance(value, str) else "'%s'" % value, path, what))


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _blocks(m, i, tool_ids_prev, uses_tools):
    content = m.get("content")
    if not isinstance(content, list) or not content:
        raise _constraint(content, "messages.%d.member.content" % i, "Member must not be null" if content is None
                          else "Member must have length greater than or equal to 1")
    result_ids = []
    for j, b in enumerate(content):
        where = "messages.%d.content.%d" % (i, j)
        if not isinstance(b, dict):
            raise Invalid("The model returned the following errors: %s: Input should be an object" % where)
        kinds = [k for k in b if k in BLOCK_KINDS]
        unknown = [k for k in b if k not in BLOCK_KINDS]
        if unknown:
            raise Invalid("The format of the value at %s is invalid. Provide a json object for the field and try "
                          "again. Unknown member: %s" % (where, unknown[0]))
        if len(kinds) != 1:
            raise Invalid("The ContentBlock at %s must have exactly one member set (got %d)." % (where, len(kinds)))
        kind = kinds[0]
        v = b[kind]
        if kind == "text":
            if not isinstance(v, str) or not v.strip():
                raise Invalid("The text field in the ContentBlock object at %s is blank. Add text to the text field, "
                              "and try again." % where)
        elif kind == "image":
            fmt = (v or {}).get("format")
            if fmt not in IMAGE_FORMATS:
                raise _constraint(fmt, where + ".image.format", "Member must satisfy enum value set: [png, jpeg, gif, "
                                                                 "webp]")
            data = ((v or {}).get("source") or {}).get("bytes")
            try:
                if not isinstance(data, str) or not base64.b64decode(data, validate=True):
                    raise ValueError
            except ValueError:
                raise Invalid("Invalid base64 encoding at %s.image.source.bytes" % where)
        elif kind == "toolUse":
            if m["role"] != "assistant":
                raise Invalid("The toolUse content block at %s is only allowed in an assistant message." % where)
            if not isinstance(v, dict) or not isinstance(v.get("toolUseId"), str) or not v.get("toolUseId") \
                    or not isinstance(v.get("name"), str) or not isinstance(v.get("input"), dict):
                raise Invalid("The toolUse content block at %s needs toolUseId, name and an input object." % where)
            uses_tools.append(v["toolUseId"])
        elif kind == "toolResult":
            if m["role"] != "user":
                raise Invalid("The toolResult content block at %s is only allowed in a user message." % where)
            if not isinstance(v, dict) or not isinstance(v.get("toolUseId"), str):
                raise _constraint(None, where + ".toolResult.toolUseId", "Member must not be null")
            parts = v.get("content")
            if not isinstance(parts, list) or not parts:
                raise _constraint(parts, where + ".toolResult.content", "Member must not be null")
            for k, p in enumerate(parts):
                if not isinstance(p, dict) or len(p) != 1 or next(iter(p)) not in ("text", "json", "image", "document",
                                                                                   "video"):
                    raise Invalid("The ToolResultContentBlock at %s.toolResult.content.%d must have exactly one member "
                                  "set." % (where, k))
                if "json" in p and not isinstance(p["json"], dict):
                    raise Invalid("The json field at %s.toolResult.content.%d must be a JSON object." % (where, k))
            status = v.get("status")
            if status is not None and status not in ("success", "error"):
                raise _constraint(status, where + ".toolResult.status", "Member must satisfy enum value set: "
                                                                         "[success, error]")
            result_ids.append(v["toolUseId"])
            uses_tools.append(v["toolUseId"])
        elif kind == "reasoningContent":
            rt = (v or {}).get("reasoningText")
            if m["role"] != "assistant" or not (isinstance(rt, dict) and isinstance(rt.get("text"), str)
                                                or "redactedContent" in (v or {})):
                raise Invalid("The reasoningContent block at %s is malformed or not in an assistant message." % where)
    if result_ids:
        missing = [r for r in result_ids if r not in tool_ids_prev]
        if missing or len(result_ids) != len(tool_ids_prev):
            raise Invalid("The number of toolResult blocks at messages.%d.content exceeds the number of toolUse "
                          "blocks of previous turn." % i if len(result_ids) > len(tool_ids_prev) else
                          "Expected toolResult blocks at messages.%d.content for the following Ids: %s"
                          % (i, ", ".join(t for t in tool_ids_prev if t not in result_ids) or ", ".join(missing)))


def validate(body):
    if not isinstance(body, dict):
        raise Invalid("Unable to parse the request body: expected a JSON object.", "SerializationException")
    msgs = body.get("messages")
    if msgs is None:
        raise _constraint(None, "messages", "Member must not be null")
    if not isinstance(msgs, list):
        raise Invalid("Unexpected field type for messages: expected a list.", "SerializationException")
    if not msgs:
        raise Invalid("A conversation must start with a user message. Try again with a conversation that starts "
                      "with a user message.")
    uses_tools = []
    prev_tool_ids = []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            raise Invalid("Unexpected field type at messages.%d: expected an object." % i, "SerializationException")
        role = m.get("role")
        if role not in ("user", "assistant"):
            raise _constraint(role, "messages.%d.member.role" % i, "Member must satisfy enum value set: [user, "
                                                                   "assistant]")
        if i == 0 and role != "user":
            raise Invalid("A conversation must start with a user message. Try again with a conversation that starts "
                          "with a user message.")
        if i > 0 and msgs[i - 1].get("role") == role:
            raise Invalid("A conversation must alternate between user and assistant roles. Make sure the "
                          "conversation alternates between user and assistant roles and try again.")
        _blocks(m, i, prev_tool_ids if role == "user" else [], uses_tools)
        prev_tool_ids = [b["toolUse"]["toolUseId"] for b in m["content"] if isinstance(b, dict) and "toolUse" in b]
    system = body.get("system")
    if system is not None:
        if not isinstance(system, list) or any(not isinstance(s, dict) or len(s) != 1 for s in system):
            raise Invalid("The system field must be a list of SystemContentBlock objects with one member each.")
        for k, s in enumerate(system):
            if "text" in s and (not isinstance(s["text"], str) or not s["text"].strip()):
                raise Invalid("The text field in the SystemContentBlock object at system.%d is blank. Add text to the "
                              "text field, and try again." % k)

    inf = body.get("inferenceConfig") or {}
    if not isinstance(inf, dict):
        raise Invalid("Unexpected field type for inferenceConfig.", "SerializationException")
    for key in inf:
        if key not in ("maxTokens", "temperature", "topP", "stopSequences"):
            raise Invalid("Unknown field in inferenceConfig: %s" % key, "SerializationException")
    if "maxTokens" in inf and (not isinstance(inf["maxTokens"], int) or isinstance(inf["maxTokens"], bool)
                               or inf["maxTokens"] < 1):
        raise _constraint(inf["maxTokens"], "inferenceConfig.maxTokens", "Member must have value greater than or "
                                                                         "equal to 1")
    for key in ("temperature", "topP"):
        if key in inf:
            if not _number(inf[key]) or inf[key] < 0:
                raise _constraint(inf[key], "inferenceConfig." + key, "Member must have value greater than or equal "
                                                                      "to 0")
            if inf[key] > 1:
                raise _constraint(inf[key], "inferenceConfig." + key, "Member must have value less than or equal "
                                                                      "to 1")
    stops = inf.get("stopSequences")
    if stops is not None and (not isinstance(stops, list) or len(stops) > 4
                              or any(not isinstance(s, str) or not s for s in stops)):
        raise _constraint(stops, "inferenceConfig.stopSequences", "Member must have length less than or equal to 4")

    tool_names = []
    tc = body.get("toolConfig")
    if tc is not None:
        tools = tc.get("tools") if isinstance(tc, dict) else None
        if not isinstance(tools, list) or not tools:
            raise _constraint(tools, "toolConfig.tools", "Member must have length greater than or equal to 1")
        for k, t in enumerate(tools):
            spec = t.get("toolSpec") if isinstance(t, dict) else None
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
                raise _constraint(None, "toolConfig.tools.%d.member.toolSpec.name" % k, "Member must not be null")
            if not isinstance((spec.get("inputSchema") or {}).get("json"), dict):
                raise _constraint(None, "toolConfig.tools.%d.member.toolSpec.inputSchema" % k,
                                  "Member must not be null")
            if spec["name"] in tool_names:
                raise Invalid("The toolConfig field contains duplicate tool names: %s" % spec["name"])
            tool_names.append(spec["name"])
        choice = tc.get("toolChoice")
        if choice is not None:
            if not isinstance(choice, dict) or len(choice) != 1 or next(iter(choice)) not in ("auto", "any", "tool"):
                raise Invalid("The toolChoice field must have exactly one of auto, any, tool.")
            if "tool" in choice and (choice["tool"] or {}).get("name") not in tool_names:
                raise Invalid("The tool specified in toolChoice (%s) is not defined in toolConfig.tools."
                              % (choice["tool"] or {}).get("name"))
    elif uses_tools:
        raise Invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.")

    extra = body.get("additionalModelRequestFields") or {}
    if not isinstance(extra, dict):
        raise Invalid("additionalModelRequestFields must be a JSON object.")
    thinking = extra.get("thinking") or {}
    thinking_on = isinstance(thinking, dict) and thinking.get("type") == "enabled"
    if thinking_on:
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            raise Invalid("The model returned the following errors: thinking.enabled.budget_tokens: Input should be "
                          "greater than or equal to 1024")
        if budget >= inf.get("maxTokens", 4096):
            raise Invalid("The model returned the following errors: `max_tokens` must be greater than "
                          "`thinking.budget_tokens`. Please consult our documentation at "
                          "https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size")
        # As Anthropic: with thinking on, the assistant turn answered by a final tool result must start with its
        # (signed) reasoning block, so clients have to send reasoning back.
        if len(msgs) >= 2 and any("toolResult" in b for b in msgs[-1]["content"]):
            first = msgs[-2]["content"][0]
            if "reasoningContent" not in first or not (first["reasoningContent"].get("reasoningText") or {}).get(
                    "signature"):
                raise Invalid("The model returned the following errors: messages.%d.content.0.type: Expected "
                              "`thinking` or `redacted_thinking`, but found `%s`. When `thinking` is enabled, a final "
                              "`assistant` message must start with a thinking block (preceeding the lastmost set of "
                              "`tool_use` and `tool_result` blocks)." % (len(msgs) - 2,
                                                                          "tool_use" if "toolUse" in first else "text"))

    schema = None
    oc = body.get("outputConfig")
    if oc is not None:
        tf = oc.get("textFormat") if isinstance(oc, dict) else None
        js = ((tf or {}).get("structure") or {}).get("jsonSchema") if isinstance(tf, dict) else None
        if not isinstance(tf, dict) or tf.get("type") != "json_schema" or not isinstance(js, dict) \
                or not isinstance(js.get("schema"), str):
            raise Invalid("outputConfig.textFormat must be {type: json_schema, structure: {jsonSchema: {schema: "
                          "<JSON Schema as a string>}}}.")
        try:
            schema = json.loads(js["schema"])
        except ValueError:
            raise Invalid("The JSON schema in outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON.")
        if not isinstance(schema, dict):
            raise Invalid("The JSON schema in outputConfig.textFormat.structure.jsonSchema.schema must be an object.")
    return {"thinking": thinking_on, "schema": schema, "tool_names": tool_names}
