"""Azure AI model inference chat completions: `POST {endpoint}/chat/completions?api-version=...`.

Two endpoint forms: a Foundry resource's `https://<resource>.services.ai.azure.com/models` (path
`/models/chat/completions`, one endpoint for many models, so `model` is required in the body) and a serverless
endpoint's root (served here under the prefix `/azureai`, path `/azureai/chat/completions`, since the emulator's
root is OpenAI's; the endpoint runs one model, `model` may be omitted). Bodies and streams are OpenAI-shaped (the
OpenAI module renders them); what differs is checked here: `api-version` required, the `api-key` header (or a
bearer token), Azure's error bodies, and body keys outside the inference API's parameter set refused unless the
`extra-parameters: pass-through` header asks for them to be passed to the model.
"""

import json
import re

import openai_chat
import openai_validate as v
import script

# The inference API's chat completions parameters (anything else is an "extra parameter").
KNOWN_KEYS = {"model", "messages", "frequency_penalty", "presence_penalty", "temperature", "top_p", "max_tokens",
              "response_format", "stop", "stream", "tools", "tool_choice", "seed", "modalities"}
VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")


def azure_error(ex, status, code, message):
    openai_chat.send_error(ex, status, {"error": {"code": code, "message": message, "status": status}})


def handle(ex, needs_model):
    version = ex.query.get("api-version")
    if not version:
        return azure_error(ex, 400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
    if not VERSION.fullmatch(version):
        return azure_error(ex, 400, "UnsupportedApiVersion", "Unsupported api-version '%s'. The supported "
                           "api-versions are '2024-05-01-preview'." % version)
    key = (ex.header("api-key") or "").strip()
    scheme, _, token = (ex.header("Authorization") or "").strip().partition(" ")
    if not key and scheme.lower() == "bearer":
        key = token.strip()
    if not key or key.startswith("sk-bad"):
        return azure_error(ex, 401, "401", openai_chat.AZURE_DENIED)
    if key.startswith("sk-noperm"):
        return azure_error(ex, 403, "PermissionDenied", "The principal does not have permission to perform this action.")
    try:
        body = json.loads(ex.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return azure_error(ex, 400, "Invalid input", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return azure_error(ex, 400, "Invalid input", "The request body must be a JSON object.")
    extra = [k for k in body if k not in KNOWN_KEYS]
    mode = (ex.header("extra-parameters") or "error").strip().lower()
    if extra and mode == "error":
        return azure_error(ex, 400, "Invalid input", "Extra parameters %s are not allowed when extra-parameters is "
                           "not set or set to be 'error'. Set extra-parameters to 'pass-through' to pass to the "
                           "model." % ("[" + ", ".join("'%s'" % k for k in extra) + "]"))
    if needs_model and not body.get("model"):
        return azure_error(ex, 400, "no_model_name", "No model specified in request. Please provide a model name in "
                           "the request body or as a x-ms-model-mesh-model-name header.")
    try:
        v.validate(body, azure=not needs_model)
    except v.Invalid as e:
        return azure_error(ex, e.status, e.code or "Invalid input", e.message)
    model = body.get("model") or "serverless-model"
    conv = openai_chat.conversation(body, model)
    # Usage arrives in the last chunk without stream_options (the inference API has no such parameter).
    openai_chat.render(ex, script.plan(conv), conv.stream, True, extra if mode == "pass-through" else None)


def models_chat(ex):
    handle(ex, needs_model=True)


def serverless_chat(ex):
    handle(ex, needs_model=False)


# Mounted before the OpenAI module, whose generic `{prefix}/chat/completions` route would also match these.
ROUTES = [
    ("POST", r"^/models/chat/completions$", models_chat),
    ("POST", r"^/azureai/chat/completions$", serverless_chat),
]
