"""Errors: each library error type becomes its exception, with status, provider, body; no key shows."""

import builtins
import json
import socket

import pytest

import anyllm
from anyllm import _errors, completion

STATUS_MODELS = [
    ("status-400", anyllm.InvalidRequestError, 400),
    ("status-401", anyllm.AuthenticationError, 401),
    ("status-403", anyllm.PermissionDeniedError, 403),
    ("status-404", anyllm.ModelNotFoundError, 404),
    ("status-429", anyllm.RateLimitError, 429),
    ("status-500", anyllm.ProviderError, 500),
    ("context-length", anyllm.ContextLengthExceededError, 400),
    ("quota", anyllm.InsufficientFundsError, 429),
    ("content-filter", anyllm.ContentFilterError, 400),
]


@pytest.mark.parametrize("model,cls,status", STATUS_MODELS)
def test_provider_errors(fast, model, cls, status):
    with pytest.raises(cls) as info:
        completion(model, "x", **fast)
    e = info.value
    assert isinstance(e, anyllm.AnyLLMError)
    assert e.status_code == status and e.provider == e.provider_name == "openai"
    assert isinstance(e.body, (dict, str)) and e.body
    assert e.message and str(e) == "[openai] " + e.message
    assert e.type == cls.error_type


def test_rate_limit_retry_after(fast):
    with pytest.raises(anyllm.RateLimitError) as info:
        completion("status-429", "x", **fast)
    assert info.value.retry_after == 1.5
    assert info.value.body["error"]["code"] == "rate_limit_exceeded"


def test_no_key_in_repr_or_body(fast):
    secret = "sk-bad-0123456789-very-secret"
    args = dict(fast, api_key=secret)
    with pytest.raises(anyllm.AuthenticationError) as info:
        completion("gpt-4o-mini", "x", **args)
    e = info.value
    for text in (repr(e), str(e), json.dumps(e.body), json.dumps(e.error)):
        assert secret not in text


def test_key_echoed_by_a_provider_is_scrubbed():
    secret = "sk-live-abcdefghijklmnop"
    data = json.dumps({"error": {"type": "authentication", "message": "bad key " + secret, "status": 401,
                                 "provider_error": {"error": {"message": "key " + secret}}}}).encode()
    e = _errors.from_json(data, secret)
    assert secret not in repr(e) and secret not in str(e) and secret not in json.dumps(e.body)


def test_unknown_provider(kw):
    args = dict(kw, provider="nonesuch")
    with pytest.raises(anyllm.UnsupportedProviderError) as info:
        completion("m", "x", **args)
    assert "openai" in info.value.supported_providers


def test_missing_api_key(kw, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = dict(kw)
    del args["api_key"]
    with pytest.raises(anyllm.MissingApiKeyError) as info:
        completion("gpt-4o-mini", "x", **args)
    assert info.value.env_var_name == "OPENAI_API_KEY"


def test_invalid_request_names_the_parameter(kw):
    with pytest.raises(anyllm.InvalidRequestError) as info:
        completion("gpt-4o-mini", "x", top_p=3, **kw)
    assert info.value.param == "top_p" and info.value.status_code is None


def test_connection_error(kw):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    args = dict(kw, api_base="http://127.0.0.1:%d/v1" % port, client_args={"max_retries": 0})
    with pytest.raises(anyllm.ConnectionError) as info:
        completion("gpt-4o-mini", "x", **args)
    assert isinstance(info.value, builtins.ConnectionError)


def test_timeout_error(kw):
    args = dict(kw, client_args={"max_retries": 0, "timeout": 0.3})
    with pytest.raises(anyllm.TimeoutError) as info:
        completion("stall-3000", "x", **args)
    assert isinstance(info.value, builtins.TimeoutError)


@pytest.mark.parametrize("error_type,cls", sorted(_errors._BY_TYPE.items()))
def test_every_error_type_has_its_class(error_type, cls):
    data = json.dumps({"error": {"type": error_type, "message": "m", "provider": "p", "status": 418,
                                 "param": "x", "retry_after": 2.0, "provider_error": {"a": 1}}}).encode()
    e = _errors.from_json(data)
    assert type(e) is cls and e.status_code == 418 and e.body == {"a": 1} and e.provider == "p"
    assert issubclass(cls, anyllm.AnyLLMError)
    assert repr(e) == "%s(message='m', status_code=418, provider='p')" % cls.__name__


def test_exceptions_pickle():
    import pickle

    e = anyllm.RateLimitError("slow down", None, "openai", status_code=429, retry_after=2.0)
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is anyllm.RateLimitError and e2.retry_after == 2.0 and str(e2) == "[openai] slow down"


def test_cancelled_is_not_asyncio_cancellation():
    import asyncio

    assert not issubclass(anyllm.CancelledError, asyncio.CancelledError)
    assert issubclass(anyllm.CancelledError, anyllm.AnyLLMError)
