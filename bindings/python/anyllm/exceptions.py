"""The exception hierarchy, mirroring any-llm's `any_llm.exceptions`.

Every error of the library is an AnyLLMError subclass chosen by the error's "type" and carries
`status_code` (the HTTP status, when there was one), `provider`, `body` (the provider's own error
body) and, for a stream that broke after chunks were delivered, `partial` (the ChatCompletion so
far). No repr or str ever contains an API key.
"""

from __future__ import annotations

import builtins

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


class AnyLLMError(Exception):
    """Base class of every error raised by anyllm."""

    default_message = "An error occurred"
    error_type = "internal"

    def __init__(
        self,
        message: Optional[str] = None,
        original_exception: Optional[BaseException] = None,
        provider_name: Optional[str] = None,
        *,
        status_code: Optional[int] = None,
        body: Any = None,
        param: Optional[str] = None,
        attempts: Optional[int] = None,
        partial: Any = None,
        error: Optional[dict] = None,
    ) -> None:
        self.message = message or self.default_message
        self.original_exception = original_exception
        self.provider_name = provider_name
        self.status_code = status_code
        self.body = body
        self.param = param
        self.attempts = attempts
        self.partial = partial
        self.error = error if error is not None else {}
        super().__init__(self.message)

    @property
    def provider(self) -> Optional[str]:
        return self.provider_name

    @property
    def type(self) -> str:
        return self.error.get("type", self.error_type)

    def __str__(self) -> str:
        return "[%s] %s" % (self.provider_name, self.message) if self.provider_name else self.message

    def __repr__(self) -> str:
        parts = ["message=%r" % self.message]
        if self.status_code is not None:
            parts.append("status_code=%r" % self.status_code)
        if self.provider_name:
            parts.append("provider=%r" % self.provider_name)
        return "%s(%s)" % (type(self).__name__, ", ".join(parts))

    def __reduce__(self):
        return (_restore, (type(self), self.__dict__.copy()))


def _restore(cls, state):
    e = cls.__new__(cls)
    Exception.__init__(e, state.get("message"))
    e.__dict__.update(state)
    return e


class RateLimitError(AnyLLMError):
    """HTTP 429: too many requests. `retry_after` holds the seconds the provider asked to wait."""

    default_message = "Rate limit exceeded"
    error_type = "rate_limit"

    def __init__(self, *args: Any, retry_after: Optional[float] = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class AuthenticationError(AnyLLMError):
    """HTTP 401: the API key was refused."""

    default_message = "Authentication failed"
    error_type = "authentication"


class PermissionDeniedError(AnyLLMError):
    """HTTP 403: the key may not use this model or resource."""

    default_message = "Permission denied"
    error_type = "permission"


class InvalidRequestError(AnyLLMError):
    """The request is malformed or has an invalid field (also other 4xx answers)."""

    default_message = "Invalid request"
    error_type = "invalid_request"


class ContextLengthExceededError(AnyLLMError):
    """The prompt does not fit the model's context window."""

    default_message = "Context length exceeded"
    error_type = "context_length"


class ModelNotFoundError(AnyLLMError):
    """HTTP 404: unknown model (or wrong URL)."""

    default_message = "Model not found"
    error_type = "not_found"


class ContentFilterError(AnyLLMError):
    """The provider refused the content."""

    default_message = "Content blocked by the provider's filter"
    error_type = "content_filter"


class InsufficientFundsError(AnyLLMError):
    """HTTP 402, or a quota or billing error."""

    default_message = "Insufficient funds"
    error_type = "insufficient_funds"


class ProviderError(AnyLLMError):
    """HTTP 5xx, an error event in a stream, or an answer that could not be read."""

    default_message = "Provider error"
    error_type = "provider"


class TimeoutError(AnyLLMError, builtins.TimeoutError):
    """A connect, read (silence) or total timeout. Also a builtins.TimeoutError."""

    default_message = "Request timed out"
    error_type = "timeout"


class ConnectionError(AnyLLMError, builtins.ConnectionError):
    """Connection refused or reset, DNS or TLS failure. Also a builtins.ConnectionError."""

    default_message = "Connection failed"
    error_type = "connection"


class MissingApiKeyError(AnyLLMError):
    """No api_key was given and the provider's environment variable is unset."""

    default_message = "Missing API key"
    error_type = "missing_api_key"

    @property
    def env_var_name(self) -> Optional[str]:
        return self.error.get("env_var")


class UnsupportedProviderError(AnyLLMError):
    """The provider name is unknown."""

    default_message = "Unsupported provider"
    error_type = "unsupported_provider"

    @property
    def provider_key(self) -> Optional[str]:
        return self.error.get("provider")

    @property
    def supported_providers(self) -> list:
        return list(self.error.get("known_providers") or [])


class UnsupportedParameterError(AnyLLMError):
    """A parameter the chosen provider cannot honour."""

    default_message = "Unsupported parameter"
    error_type = "unsupported_parameter"

    @property
    def parameter_name(self) -> Optional[str]:
        return self.param


class CancelledError(AnyLLMError):
    """The call was cancelled. Not asyncio.CancelledError: task cancellation raises that one."""

    default_message = "The call was cancelled"
    error_type = "cancelled"


class InternalError(AnyLLMError):
    """A bug in libanyllm or in this binding."""

    default_message = "Internal error"
    error_type = "internal"


__all__ = [
    "AnyLLMError", "RateLimitError", "AuthenticationError", "PermissionDeniedError", "InvalidRequestError",
    "ContextLengthExceededError", "ModelNotFoundError", "ContentFilterError", "InsufficientFundsError",
    "ProviderError", "TimeoutError", "ConnectionError", "MissingApiKeyError", "UnsupportedProviderError",
    "UnsupportedParameterError", "CancelledError", "InternalError",
]
