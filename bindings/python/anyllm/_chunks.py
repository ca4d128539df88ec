"""What a stream hands out, shared by the sync and async iterators: the call's items (chunk
bytes, then (status, json) at the end) in; ChatCompletionChunk objects, the end, or the call's
error out.

The library always asks the provider for usage and delivers it as a last chunk with no choices.
OpenAI sends that chunk only to callers who asked for stream_options.include_usage, and code
written for it reads `chunk.choices[0]` on every chunk. So, unless the caller asked for it, the
usage-only chunk is folded into the chunk before it (the one with the finish_reason): every chunk
has a choice, and the usage is still there.
"""

from __future__ import annotations

from collections import deque

from . import _decode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

END = object()  # next_chunk()'s answer once the stream is over


class StreamState:
    __slots__ = ("request", "fold", "ready", "held", "end", "finished")

    def __init__(self, request) -> None:
        self.request = request
        self.fold = not request.wants_usage
        self.ready: deque = deque()
        self.held: Any = None  # a finish chunk waiting to see whether usage follows
        self.end: Any = None   # (status, json) once the call has ended
        self.finished = False  # everything handed out (or the stream was closed)

    def wants_item(self) -> bool:
        return not self.ready and self.end is None and not self.finished

    def take(self, item) -> None:
        """One item from the call: a chunk's JSON bytes, or (status, json) at the end."""
        if item.__class__ is tuple:
            self.end = item
            self._release()
            return
        self.take_chunk(_decode.chunk(item))

    def take_batch(self, data: bytes) -> None:
        """The chunks of one read, as the JSON array anyllm_call_next hands out."""
        for chunk in _decode.chunks(data):
            self.take_chunk(chunk)

    def take_chunk(self, chunk) -> None:
        if not self.fold:
            self.ready.append(chunk)
            return
        if self.held is not None:
            if not chunk.choices and chunk.usage is not None:
                self.held.usage = chunk.usage
                self._release()
                return
            self._release()
        choices = chunk.choices
        if not choices:
            if chunk.usage is not None and self.ready:
                self.ready[-1].usage = chunk.usage  # not handed out yet: still safe to complete
            return
        for c in choices:
            if c.finish_reason:
                self.held = chunk
                return
        self.ready.append(chunk)

    def _release(self) -> None:
        if self.held is not None:
            self.ready.append(self.held)
            self.held = None

    def next_chunk(self):
        """The next chunk, or END; raises the call's error once, after the chunks before it."""
        if self.ready:
            return self.ready.popleft()
        if self.finished or self.end is None:
            self.finished = True
            return END
        self.finished = True
        status, data = self.end
        if status != _decode.OK:
            raise _decode.error(data, self.request)
        return END

    def close(self) -> bool:
        """Stops handing out chunks; True when the call may still be running (so cancel it)."""
        running = self.end is None and not self.finished
        self.finished = True
        self.ready.clear()
        self.held = None
        return running

    @property
    def completion(self):
        """The ChatCompletion aggregated by the library (None until the stream ended well)."""
        if self.end is None or self.end[0] != _decode.OK:
            return None
        return _decode.result(self.end[0], self.end[1], self.request)
