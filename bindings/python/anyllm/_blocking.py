"""Synchronous calls: wait for a call's result, or iterate over its chunks.

The calling thread waits on a queue with a short timeout, so a signal (Ctrl-C) is handled at once:
its exception cancels the call and propagates. A stream that is left early (break, close(), or
garbage collection) cancels its call.
"""

from __future__ import annotations

from _queue import Empty, SimpleQueue

from . import _calls, _chunks, _decode

POLL = 0.05  # seconds between wake-ups while waiting (signals are handled at least this often)


def _wait(q, pending):
    try:
        while True:
            try:
                return q.get(True, POLL)
            except Empty:
                continue
    except BaseException:
        pending.cancel()
        raise


def complete(request, client=None):
    """Runs one call to its end; returns the ChatCompletion or raises its error."""
    q = SimpleQueue()
    pending = _calls.start(request.body, q.put, client)
    while True:
        item = _wait(q, pending)
        if item.__class__ is tuple:
            _calls.release()
            return _decode.result(item[0], item[1], request)


class Stream:
    """An iterator of ChatCompletionChunk objects (also a context manager). `completion` is the
    aggregated ChatCompletion once the stream has ended."""

    def __init__(self, request, client=None) -> None:
        self._queue: SimpleQueue = SimpleQueue()
        self._state = _chunks.StreamState(request)
        self._pending = _calls.start(request.body, self._queue.put, client)

    def _prime(self) -> "Stream":
        """Waits for the first item, so that a call that fails before streaming raises here."""
        try:
            self._take(_wait(self._queue, self._pending))
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

    def __iter__(self) -> "Stream":
        return self

    def __next__(self):
        state = self._state
        try:
            while state.wants_item():
                self._take(_wait(self._queue, self._pending))
            chunk = state.next_chunk()
        except BaseException:
            # Ctrl-C, or any failure: the traceback would keep this stream alive, so stop the call now.
            self.close()
            raise
        if chunk is _chunks.END:
            raise StopIteration
        return chunk

    @property
    def completion(self):
        """The ChatCompletion aggregated from the chunks (None until the stream has ended)."""
        return self._state.completion

    def close(self) -> None:
        """Stops the stream (cancels the call if it is still running)."""
        if self._state.close():
            self._pending.cancel()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
