"""anyllm: any LLM provider through one OpenAI-compatible completion API (libanyllm).

    from anyllm import completion
    r = completion("openai:gpt-4.1-mini", [{"role": "user", "content": "Hi"}])
    print(r.choices[0].message.content)

A drop-in for any-llm's and xnano's completion(): same parameters, OpenAI-shaped results. The
native library is loaded at the first call, which keeps `import anyllm` fast.
"""

from ._api import acompletion, async_completion, completion
from .exceptions import (
    AnyLLMError,
    AuthenticationError,
    CancelledError,
    ConnectionError,
    ContentFilterError,
    ContextLengthExceededError,
    InsufficientFundsError,
    InternalError,
    InvalidRequestError,
    MissingApiKeyError,
    ModelNotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    TimeoutError,
    UnsupportedParameterError,
    UnsupportedProviderError,
)

__version__ = "0.1.0"

_LAZY = {
    "Client": "_client", "AnyLLM": "_client",
    "ChatCompletion": "types", "ChatCompletionChunk": "types", "ChatCompletionMessage": "types",
    "ParsedChatCompletion": "types", "Stream": "_blocking", "AsyncStream": "_aio",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'anyllm' has no attribute %r" % name)
    import importlib

    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value


def library_version() -> str:
    """The version of the loaded libanyllm.so."""
    from . import _lib

    return _lib.version()


def providers() -> list:
    """The providers libanyllm knows: [{"name", "protocol", "base_url", "api_key_env", ...}]."""
    from . import _lib

    return [dict(p) for p in _lib.providers()]


__all__ = [
    "completion", "acompletion", "async_completion", "Client", "AnyLLM", "ChatCompletion", "ChatCompletionChunk",
    "ChatCompletionMessage", "ParsedChatCompletion", "Stream", "AsyncStream", "library_version", "providers",
    "AnyLLMError", "RateLimitError", "AuthenticationError", "PermissionDeniedError", "InvalidRequestError",
    "ContextLengthExceededError", "ModelNotFoundError", "ContentFilterError", "InsufficientFundsError",
    "ProviderError", "TimeoutError", "ConnectionError", "MissingApiKeyError", "UnsupportedProviderError",
    "UnsupportedParameterError", "CancelledError", "InternalError",
]
