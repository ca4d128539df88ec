"""Synchronous calls through the pull API (anyllm_completion_open / anyllm_call_next): the thread
that iterates drives the call's I/O inside anyllm_call_next, with the GIL released, and receives
each read's chunks as one JSON array. No library thread, no callback into Python, no queue: per
chunk, the cost is parsing its JSON and building its object.

Each anyllm_call_next waits at most POLL seconds, so that a signal (Ctrl-C) is handled at once:
its exception cancels the call and propagates.
"""

from __future__ import annotations

import ctypes

from . import _lib

POLL_MS = 50          # longest wait inside one anyllm_call_next
_TIMEOUT = 13         # ANYLLM_E_TIMEOUT: nothing new within POLL_MS; the call goes on
_live: set = set()    # ids of the open calls (live_count)
NOTHING = object()    # take()'s answer when a watched call has nothing yet


class PulledCall:
    """One call opened with anyllm_completion_open, or, given `notify` (a pipe's write end and a
    token), with anyllm_completion_open_notify: its I/O then runs on the library's engine thread,
    which writes the token to the pipe whenever take() has something (event loops). free() (or
    the end of `run`) releases it; the pipe must stay open until then."""

    __slots__ = ("handle", "client", "owner", "_data", "_len", "_refs", "__weakref__")

    def __init__(self, body: bytes, client=None, notify=None) -> None:
        lib = _lib.lib()
        native = client._native() if client is not None else None
        self.client = client  # keeps the Client alive while its call runs
        self.owner = None     # told (released()) when the handle is freed: the pipe's keeper
        self._data = ctypes.c_void_p()
        self._len = ctypes.c_size_t()
        self._refs = (ctypes.byref(self._data), ctypes.byref(self._len))
        if notify is not None:
            self.handle = lib.anyllm_completion_open_notify(native, body, notify[0], notify[1])
        else:
            self.handle = lib.anyllm_completion_open(native, body)
        if not self.handle:
            from ._errors import internal_error

            raise internal_error("anyllm_completion_open could not start the call")
        _live.add(id(self))

    def next_batch(self):
        """The next chunks as the bytes of a JSON array, or None once the call has ended."""
        nxt = _lib._lib.anyllm_call_next
        handle, (data_ref, len_ref) = self.handle, self._refs
        try:
            while True:
                st = nxt(handle, POLL_MS, data_ref, len_ref)
                if st == 0:
                    ptr = self._data.value
                    return ctypes.string_at(ptr, self._len.value) if ptr else None
                if st != _TIMEOUT:
                    from ._errors import internal_error

                    raise internal_error("anyllm_call_next failed with status %d" % st)
        except BaseException:
            self.cancel()
            raise

    def take(self):
        """A notifying call's next chunks without waiting: the bytes of a JSON array, None once
        the call has ended, or NOTHING (wait for its token)."""
        st = _lib._lib.anyllm_call_next(self.handle, 0, *self._refs)
        if st == 0:
            ptr = self._data.value
            return ctypes.string_at(ptr, self._len.value) if ptr else None
        if st == _TIMEOUT:
            return NOTHING
        from ._errors import internal_error

        raise internal_error("anyllm_call_next failed with status %d" % st)

    def outcome(self):
        """(status, JSON bytes) of the ended call."""
        out = ctypes.c_void_p()
        st = _lib._lib.anyllm_call_wait(self.handle, ctypes.byref(out))
        return st, _lib.take_string(out.value)

    def cancel(self) -> None:
        if self.handle:
            _lib._lib.anyllm_call_cancel(self.handle)

    def free(self) -> None:
        """Releases the handle (a call still running is cancelled and ended first)."""
        handle, self.handle = self.handle, None
        if handle:
            _live.discard(id(self))
            _lib._lib.anyllm_call_free(handle)
            owner, self.owner = self.owner, None
            if owner is not None:
                owner.released()

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:
            pass


def run(body: bytes, client=None):
    """Runs a call to its end on this thread, dropping chunks; returns (status, JSON bytes)."""
    call = PulledCall(body, client)
    try:
        while call.next_batch() is not None:
            pass
        return call.outcome()
    finally:
        call.free()


def live_count() -> int:
    return len(_live)
