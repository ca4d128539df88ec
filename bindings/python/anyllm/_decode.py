"""The library's result JSON -> result objects (or the exception to raise)."""

from __future__ import annotations

import json

from . import _errors
from .types import ChatCompletion, ChatCompletionChunk, ParsedChatCompletion

OK = 0


def chunk(data: bytes) -> ChatCompletionChunk:
    return ChatCompletionChunk._take(json.loads(data))


def chunks(data: bytes) -> list:
    """A JSON array of chunks (one read's, from anyllm_call_next): one parse for all of them."""
    build = ChatCompletionChunk._from_json
    return [build(d) for d in json.loads(data)]


def error(data: bytes, request):
    """The exception for a failed call's error JSON."""
    return _errors.from_json(data, request.api_key, ChatCompletion)


def result(status: int, data: bytes, request):
    """The ChatCompletion of a finished call, or raises its error."""
    if status != OK:
        raise error(data, request)
    d = json.loads(data)
    if request.parse_as is None:
        return ChatCompletion._take(d)
    from . import _structured

    r = ParsedChatCompletion._take(d)
    for c in r.choices or ():
        m = c.message
        if m is not None:
            m.parsed = None if m.refusal else _structured.parse(request.parse_as, m.content)
    return r
