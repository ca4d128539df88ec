"""No credential in what the binding's exceptions show: repr, str, the formatted traceback, the body, the error
object and the partial result, for every protocol and every error path the emulator can script, streamed and not.

The credentials are ones the binding itself does not scrub (it only knows `api_key`): a bearer token in
client_args.headers, and Bedrock's AWS secret key and session token — so what is tested is the library's own
redaction, seen through the binding. The emulator's echo-key answer does contain the credential, so that path
proves there was something to remove.
"""

import json
import traceback

import pytest

import anyllm
import anyllm.exceptions
from anyllm import completion
from anyllm_testlib import KEY

HEADER_TOKEN = "tok-py-header-5b6c7d8e9f0a1b2c"
AWS_AKID = "ASIAANYLLMTEST0000002"               # the emulator's temporary test credentials (bedrock_sigv4.py)
AWS_SECRET = "anyllm/temp/SECRETKEY+zPxRfiCYEXAMPLEKEY"
AWS_TOKEN = "anyllm-session-token-EXAMPLE/Zm9vYmFy=="
SECRETS = [HEADER_TOKEN, AWS_SECRET, AWS_TOKEN]

PROVIDERS = ["openai", "azureopenai", "azure", "mistral", "anthropic", "gemini", "ollama", "cohere", "bedrock"]
BASES = {"openai": "/v1", "mistral": "/mistral/v1", "azure": "/models"}
# (scripted model, streamed): the error paths; each must raise
PATHS = [("status-400", False), ("status-401", False), ("status-403", True), ("status-429", False),
         ("status-500", True), ("status-503-text", False), ("echo-key", False), ("echo-key", True),
         ("drop-after-2", True), ("reset-after-2", True), ("garbage", False), ("bad-utf8", True),
         ("truncated-json", True), ("error-event", True)]


def args(emu, provider):
    a = {"provider": provider, "api_base": emu + BASES.get(provider, ""), "client_args": {"max_retries": 0}}
    if provider == "bedrock":
        a.update(aws_access_key_id=AWS_AKID, aws_secret_access_key=AWS_SECRET, aws_session_token=AWS_TOKEN,
                 aws_region="eu-central-1")
    else:
        # the emulator accepts KEY; the header token rides along (and is what echo-key sends back for
        # providers that read Authorization)
        a["api_key"] = KEY
        a["client_args"]["headers"] = {"Authorization": "Bearer " + HEADER_TOKEN}
    return a


def shown(e):
    """Everything an exception can show a user or a log."""
    texts = [repr(e), str(e), "".join(traceback.format_exception(type(e), e, e.__traceback__)),
             json.dumps(e.body, default=repr), json.dumps(e.error, default=repr), repr(e.partial), repr(e.__dict__)]
    return "\n".join(texts)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("model,stream", PATHS)
def test_no_credential_in_exceptions(emu, provider, model, stream):
    with pytest.raises(anyllm.AnyLLMError) as info:
        r = completion(model, "Hello there", stream=stream, **args(emu, provider))
        if stream:
            for _ in r:
                pass
    text = shown(info.value)
    for s in SECRETS:
        assert s not in text, "%s / %s: %s leaked" % (provider, model, s)
    if model == "echo-key" and provider != "ollama":
        # the provider did echo a credential (Ollama takes none): the library removed it
        assert "[redacted]" in info.value.message


def test_no_credential_when_the_connection_is_refused(emu):
    a = args(emu, "bedrock")
    a["api_base"] = "http://127.0.0.1:9"                  # discard port: nothing listens
    with pytest.raises(anyllm.exceptions.ConnectionError) as info:
        completion("any-model", "Hello there", **a)
    text = shown(info.value)
    assert not any(s in text for s in SECRETS)
