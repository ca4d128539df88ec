"""asyncio calls: the library's callbacks hand results to the event loop with
loop.call_soon_threadsafe, so nothing ever blocks the loop; cancelling the awaiting task (or
leaving a stream early) cancels the call."""

from __future__ import annotations

import asyncio

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
    `completion` is the aggregated ChatCompletion once the stream has ended."""

    def __init__(self, request, client=None) -> None:
        loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._state = _chunks.StreamState(request)
        put, call = self._queue.put_nowait, loop.call_soon_threadsafe
        self._pending = _calls.start(request.body, lambda item: call(put, item), client)

    async def _prime(self) -> "AsyncStream":
        try:
            self._take(await self._queue.get())
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
        try:
            while state.wants_item():
                self._take(await self._queue.get())
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
