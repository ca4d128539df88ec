"""Turning the library's error JSON into the matching exception."""

from __future__ import annotations

from . import exceptions as _x

_BY_TYPE = {
    cls.error_type: cls
    for cls in (
        _x.InvalidRequestError, _x.UnsupportedProviderError, _x.UnsupportedParameterError, _x.MissingApiKeyError,
        _x.AuthenticationError, _x.PermissionDeniedError, _x.ModelNotFoundError, _x.RateLimitError,
        _x.ContextLengthExceededError, _x.ContentFilterError, _x.InsufficientFundsError, _x.ProviderError,
        _x.TimeoutError, _x.ConnectionError, _x.CancelledError, _x.InternalError,
    )
}


def _scrub(value, secret):
    """Removes `secret` from every string in value (the library already does; this is a second guard)."""
    if isinstance(value, str):
        return value.replace(secret, "[redacted]")
    if isinstance(value, list):
        return [_scrub(v, secret) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secret) for k, v in value.items()}
    return value


def from_json(data: bytes, api_key=None, partial_type=None) -> _x.AnyLLMError:
    """The exception for an {"error": {...}} object from the library."""
    import json

    try:
        err = json.loads(data)["error"]
        if not isinstance(err, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return _x.InternalError("unreadable error from libanyllm: %r" % data[:200])
    if isinstance(api_key, str) and len(api_key) >= 6:
        err = _scrub(err, api_key)
    cls = _BY_TYPE.get(err.get("type"), _x.AnyLLMError)
    partial = err.get("partial")
    if isinstance(partial, dict) and partial_type is not None:
        partial = partial_type.model_validate(partial)
    kwargs = dict(
        status_code=err.get("status"), body=err.get("provider_error"), param=err.get("param"),
        attempts=err.get("attempts"), partial=partial, error=err,
    )
    if cls is _x.RateLimitError:
        kwargs["retry_after"] = err.get("retry_after")
    return cls(err.get("message"), None, err.get("provider"), **kwargs)


def internal_error(message: str) -> _x.AnyLLMError:
    return _x.InternalError(message)
