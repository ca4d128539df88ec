"""asyncio calls: the library's callbacks hand results to the event loop with
loop.call_soon_threadsafe, so nothing ever blocks the loop; cancelling the awaiting task (or
leaving a stream early) cancels the call."""

from __future__ import annotations

import _thread
import asyncio
from collections import deque

from . import _calls, _chunks, _decode


def _resolve(fut, item) -> None:
    if not fut.done():
        fut.set_result(item)


async def complete(request, client=None):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def push(item, _call=loop.call_soon_threadsafe):  # on a library thread
        if item.__class__ is tuple:
            _call(_resolve, fut, item)

    pending = _calls.start(request.body, push, client)
    try:
        status, data = await fut
    except BaseException:
        pending.cancel()
        raise
    _calls.release()
    return _decode.result(status, data, request)


class AsyncStream:
    """An async iterator of ChatCompletionChunk objects (also an async context manager).
    `completion` is the aggregated ChatCompletion once the stream has ended.

    The library's thread appends each chunk to `_items` and wakes the loop only when no wake-up
    is already pending: a burst of chunks costs one loop wake-up, and the consumer then parses
    everything that arrived as one JSON array (as the synchronous stream does with
    anyllm_call_next), instead of one wake-up and one parse per chunk."""

    def __init__(self, request, client=None) -> None:
        self._loop = asyncio.get_running_loop()
        self._items: deque = deque()
        self._lock = _thread.allocate_lock()
        self._signalled = False
        self._waiter = None
        self._state = _chunks.StreamState(request)
        self._pending = _calls.start(request.body, self._push, client)

    def _push(self, item) -> None:  # on a library thread
        with self._lock:
            self._items.append(item)
            if self._signalled:
                return
            self._signalled = True
        try:
            self._loop.call_soon_threadsafe(self._wake)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    def _wake(self) -> None:  # on the loop
        with self._lock:
            self._signalled = False
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _fill(self) -> None:
        """Waits until the call has handed over something, then takes all of it."""
        while not self._items:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        batch = []
        items = self._items
        while items:
            item = items.popleft()
            if item.__class__ is tuple:
                if batch:
                    self._state.take_batch(b"[" + b",".join(batch) + b"]")
                    batch = []
                self._take(item)
            else:
                batch.append(item)
        if batch:
            self._state.take_batch(b"[" + b",".join(batch) + b"]")

    async def _prime(self) -> "AsyncStream":
        try:
            while self._state.wants_item():
                await self._fill()
            if self._state.end is not None and self._state.end[0] != _decode.OK:
                self._state.next_chunk()  # raises the call's error
        except BaseException:
            self.close()
            raise
        return self

    def _take(self, item) -> None:
        self._state.take(item)
        if item.__class__ is tuple:
            _calls.release()

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self):
        state = self._state
        if state.ready:  # the common case: a chunk of the last batch
            return state.ready.popleft()
        try:
            while state.wants_item():
                await self._fill()
            chunk = state.next_chunk()
        except BaseException:
            self.close()  # task cancelled, or any failure: stop the call now
            raise
        if chunk is _chunks.END:
            raise StopAsyncIteration
        return chunk

    @property
    def completion(self):
        """The ChatCompletion aggregated from the chunks (None until the stream has ended)."""
        return self._state.completion

    def close(self) -> None:
        if self._state.close():
            self._pending.cancel()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> "AsyncStream":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
