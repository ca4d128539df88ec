"""Client: provider, key, base URL and transport options (timeouts, retries, headers, proxy)
shared by many calls, over one native anyllm_client. `AnyLLM.create(provider, ...)` is the
any-llm spelling of the same thing."""

from __future__ import annotations

from . import _api, _lib, _request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

_OPTION_KEYS = ("timeout", "connect_timeout", "read_timeout", "max_retries", "headers", "proxy", "ca_bundle",
                "verify_tls")


class Client:
    """Defaults for completion calls plus a native client with its own connection pool.

    Transport options: timeout, connect_timeout, read_timeout (seconds), max_retries, headers,
    proxy, ca_bundle, verify_tls. Use it as a context manager or call close() to free it early.
    """

    def __init__(self, provider: Optional[str] = None, *, api_key: Optional[str] = None,
                 api_base: Optional[str] = None, **options: Any) -> None:
        unknown = set(options) - set(_OPTION_KEYS)
        if unknown:
            raise TypeError("unknown Client option(s): %s" % ", ".join(sorted(unknown)))
        self.provider = provider
        self.api_key = api_key
        self.api_base = api_base
        self._options = {k: v for k, v in options.items() if v is not None}
        self._handle = None
        self._closed = False

    def __repr__(self) -> str:  # never shows the key
        return "%s(provider=%r, api_base=%r)" % (type(self).__name__, self.provider, self.api_base)

    def _native(self):
        if self._closed:
            from .exceptions import InvalidRequestError

            raise InvalidRequestError("the client is closed")
        if self._handle is None:
            import ctypes
            import json

            lib = _lib.lib()
            err = ctypes.c_void_p()
            opts = json.dumps(self._options).encode() if self._options else None
            handle = lib.anyllm_client_new(opts, ctypes.byref(err))
            if not handle:
                from . import _errors

                raise _errors.from_json(_lib.take_string(err.value))
            self._handle = handle
        return self._handle

    def _params(self, kwargs: dict) -> tuple:
        params = {k: kwargs.pop(k) for k in _api.PARAMETERS if k in kwargs}
        for key in ("provider", "api_key", "api_base"):
            if params.get(key) is None:
                params[key] = getattr(self, key)
        params.setdefault("reasoning_effort", "auto")
        return params, kwargs

    def completion(self, model: str, messages: Any, **kwargs: Any) -> Any:
        """completion() with this client's defaults (same parameters)."""
        params, extra = self._params(kwargs)
        return _api._run(_request.build(model, messages, params, extra, stacklevel=5), self)

    async def acompletion(self, model: str, messages: Any, **kwargs: Any) -> Any:
        """acompletion() with this client's defaults (same parameters)."""
        params, extra = self._params(kwargs)
        return await _api._arun(_request.build(model, messages, params, extra, stacklevel=5), self)

    def close(self) -> None:
        """Cancels this client's calls in flight, waits for them to end, and frees it."""
        self._closed = True
        handle, self._handle = self._handle, None
        if handle:
            _free(handle)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            handle, self._handle = self._handle, None
            if handle:
                _free(handle)
        except Exception:
            pass


def _free(handle) -> None:
    # No library thread ever runs Python code (calls are pulled, by the caller's thread or its
    # event loop), so the last reference to a Client never drops inside a callback of its calls.
    _lib._lib.anyllm_client_free(handle)


class AnyLLM(Client):
    """any-llm's class API: `llm = AnyLLM.create("openai", api_key=...); llm.completion(model=..., messages=...)`."""

    @classmethod
    def create(cls, provider: str, api_key: Optional[str] = None, api_base: Optional[str] = None,
               **options: Any) -> "AnyLLM":
        return cls(provider, api_key=api_key, api_base=api_base, **options)
