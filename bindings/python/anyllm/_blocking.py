"""Synchronous calls: wait for a call's result, or iterate over its chunks.

Both run through the pull API (_pull): the calling thread drives the call's I/O itself, in
slices of at most 50 ms with the GIL released, so a signal (Ctrl-C) is handled at once: its
exception cancels the call and propagates. A stream that is left early (break, close(), or
garbage collection) cancels its call.
"""

from __future__ import annotations

from . import _chunks, _decode, _pull


def complete(request, client=None):
    """Runs one call to its end; returns the ChatCompletion or raises its error."""
    status, data = _pull.run(request.body, client)
    return _decode.result(status, data, request)


class Stream:
    """An iterator of ChatCompletionChunk objects (also a context manager). `completion` is the
    aggregated ChatCompletion once the stream has ended."""

    def __init__(self, request, client=None) -> None:
        self._state = _chunks.StreamState(request)
        self._call = _pull.PulledCall(request.body, client)

    def _prime(self) -> "Stream":
        """Waits for the first chunks, so that a call that fails before streaming raises here."""
        try:
            self._pull()
            if self._state.end is not None and self._state.end[0] != _decode.OK:
                self._state.next_chunk()  # raises the call's error
        except BaseException:
            self.close()
            raise
        return self

    def _pull(self) -> None:
        """Takes the next read's chunks, or the call's end."""
        call = self._call
        batch = call.next_batch()
        if batch is not None:
            self._state.take_batch(batch)
            return
        end = call.outcome()
        call.free()
        self._state.take(end)

    def __iter__(self) -> "Stream":
        return self

    def __next__(self):
        state = self._state
        if state.ready:  # the common case, a chunk of the last read: no checks to make
            return state.ready.popleft()
        try:
            while state.wants_item():
                self._pull()
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
        """Stops the stream (cancels the call if it is still running) and releases it."""
        self._state.close()
        self._call.free()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
