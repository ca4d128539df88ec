"""Building the library's request JSON from completion()'s arguments.

None-valued parameters are left out; reasoning_effort "auto" (the default) is left out as well
(the library treats it as nothing). Message objects from earlier results, tool callables and
response_format classes are converted here; **kwargs go into the request unchanged.
"""

from __future__ import annotations

# `parsed` exists only in Python. `reasoning` stays: the library sends it back where the protocol
# needs it (Anthropic thinking blocks with their signature, Ollama's "thinking").
_PYTHON_ONLY_MESSAGE_KEYS = ("parsed",)


class Request:
    """The encoded request plus what decoding its answer needs."""

    __slots__ = ("body", "api_key", "parse_as", "stream", "wants_usage")

    def __init__(self, body: bytes, api_key, parse_as, stream: bool, wants_usage: bool) -> None:
        self.body = body
        self.api_key = api_key          # only to scrub it out of errors
        self.parse_as = parse_as        # the response_format class, or None
        self.stream = stream
        self.wants_usage = wants_usage  # stream_options.include_usage was asked for


_encoder = None  # one JSONEncoder for every request: json.dumps with options makes a new one per call


def _encode(req: dict) -> bytes:
    global _encoder
    if _encoder is None:
        import json

        _encoder = json.JSONEncoder(default=_to_json, ensure_ascii=False, allow_nan=False)
    return _encoder.encode(req).encode("utf-8")


def build(model, messages, params: dict, kwargs: dict, stacklevel: int = 4) -> Request:
    provider = params.get("provider")
    if provider is not None and not isinstance(provider, str):
        provider = getattr(provider, "value", provider)  # an LLMProvider-style enum
    if not isinstance(model, str):
        raise TypeError("model must be a string, got %r" % (model,))
    if provider is None:
        _warn_if_legacy(model, stacklevel)

    req: dict = {"model": model, "messages": _messages(messages)}
    if provider is not None:
        req["provider"] = str(provider)
    parse_as = None
    for key, value in params.items():
        if value is None or key == "provider":
            continue
        if key == "reasoning_effort" and value == "auto":
            continue
        if key == "tools":
            from ._tools import to_tool

            value = [to_tool(t) for t in value]
        elif key == "response_format" and isinstance(value, type):
            from . import _structured

            parse_as = value
            value = _structured.response_format(value)
        req[key] = value
    for key, value in kwargs.items():
        req[key] = value
    body = _encode(req)
    options = params.get("stream_options")
    wants_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    return Request(body, params.get("api_key"), parse_as, bool(params.get("stream")), wants_usage)


def _messages(messages):
    if isinstance(messages, str):
        return messages
    if not isinstance(messages, (list, tuple)):
        messages = list(messages)
    return [m if isinstance(m, dict) else message_dict(m) for m in messages]


def message_dict(m) -> dict:
    """A message object (e.g. a result's ChatCompletionMessage) as a request message."""
    if hasattr(m, "model_dump"):
        d = m.model_dump(exclude_none=True)
    elif hasattr(m, "__dataclass_fields__"):
        import dataclasses

        d = {k: v for k, v in dataclasses.asdict(m).items() if v is not None}
    else:
        raise TypeError("a message must be a dict or have model_dump(), got %r" % (m,))
    for k in _PYTHON_ONLY_MESSAGE_KEYS:
        d.pop(k, None)
    if d.get("annotations") == []:
        del d["annotations"]  # carries nothing, and strict OpenAI-compatible servers reject the key
    return d


def _to_json(o):
    """json.dumps fallback for objects inside the request (result objects, enums, sets, ...)."""
    if hasattr(o, "model_dump") and not isinstance(o, type):
        return o.model_dump(exclude_none=True, mode="json")
    if hasattr(o, "__dataclass_fields__") and not isinstance(o, type):
        import dataclasses

        return dataclasses.asdict(o)
    if hasattr(type(o), "__members__") and hasattr(o, "value"):
        return o.value
    if isinstance(o, (set, frozenset)):
        return list(o)
    if isinstance(o, (bytes, bytearray)):
        return o.decode("utf-8")
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


def _warn_if_legacy(model: str, stacklevel: int) -> None:
    """any-llm deprecates "provider/model"; the library accepts it silently, so warn here."""
    slash = model.find("/")
    if slash <= 0:
        return
    from . import _lib

    names = {p["name"].lower() for p in _lib.providers()}
    colon = model.find(":")
    if colon > 0 and model[:colon].lower() in names:
        return  # "provider:model" (the model name itself may contain a slash)
    if model[:slash].lower() in names:
        import warnings

        warnings.warn(
            "the 'provider/model' format is deprecated: use 'provider:model' or the provider argument "
            "(got %r)" % model,
            DeprecationWarning,
            stacklevel=stacklevel,
        )
