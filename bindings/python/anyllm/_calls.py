"""Calls in flight: starting them with anyllm_completion_start, the two C callbacks, cancelling,
and releasing the handles.

The callbacks run on the library's threads and only hand bytes to the call's `push` function (a
queue put, or loop.call_soon_threadsafe): no user code ever runs inside a ctypes callback, so no
user exception can be swallowed there. They are module-level CFUNCTYPE objects created once and
kept for the life of the process, so no call can outlive its callbacks; `user_data` is a small
integer key into `_calls`.

Handles are released only after their call has fully ended: on_done moves the handle to
`_deferred`, and an ordinary thread (the consumer that received the outcome, the next start(),
or the exit handler) runs anyllm_call_wait (which returns once on_done has returned) and then
anyllm_call_free. Nothing is freed or cancelled from inside a callback, and a call is never
cancelled after its outcome arrived. Cancelling calls anyllm_call_cancel, which never blocks,
under the call's lock, so it cannot race with on_done taking the handle away.
"""

from __future__ import annotations

import _thread
from collections import deque

from . import _lib

_calls: dict = {}          # user_data key -> Pending, until its on_done
_next_key = 1              # 0 would arrive as NULL
_key_lock = _thread.allocate_lock()
_callbacks = None          # (CHUNK_FN, DONE_FN) instances, created once
_busy: set = set()         # ids of the threads that are inside one of our callbacks right now
_deferred: deque = deque() # (function, argument): releases that must not run inside a callback
_get_ident = _thread.get_ident
_string_at = None


class Pending:
    """One started call as the binding tracks it."""

    __slots__ = ("key", "push", "handle", "done", "cancelled", "lock", "client")

    def __init__(self, key: int, push, client) -> None:
        self.key = key
        self.push = push          # called with bytes (a chunk) or (status, bytes) (the end)
        self.handle = None
        self.done = False
        self.cancelled = False
        self.lock = _thread.allocate_lock()
        self.client = client      # keeps a Client alive while its call runs

    def cancel(self) -> None:
        """Asks the call to stop; returns at once. Safe from any thread, any number of times."""
        with self.lock:
            self.cancelled = True
            if self.handle:
                _lib._lib.anyllm_call_cancel(self.handle)


def in_callback() -> bool:
    return _get_ident() in _busy


def defer(fn, arg) -> None:
    """Runs fn(arg) later on an ordinary thread (work that is forbidden inside a callback)."""
    _deferred.append((fn, arg))


def release() -> None:
    """Runs the deferred releases (call handles, clients). Never inside a callback."""
    if in_callback():
        return
    while _deferred:
        try:
            fn, arg = _deferred.popleft()
        except IndexError:
            return
        fn(arg)


def _free_call(handle) -> None:
    lib = _lib._lib
    lib.anyllm_call_wait(handle, None)  # returns once on_done has returned
    lib.anyllm_call_free(handle)


def _on_chunk(ptr, size, key):
    me = _get_ident()
    _busy.add(me)
    try:
        p = _calls.get(key)
        if p is None or p.cancelled:
            return 1
        p.push(_string_at(ptr, size))
        return 0
    except BaseException:  # never let anything escape into C; stop the call instead
        return 1
    finally:
        _busy.discard(me)


def _on_done(status, ptr, size, key):
    me = _get_ident()
    _busy.add(me)
    try:
        data = _string_at(ptr, size) if ptr else b""
        p = _calls.get(key)
        if p is None:
            return
        with p.lock:
            p.done = True
            handle, p.handle = p.handle, None
        if handle:
            _deferred.append((_free_call, handle))  # before push: whoever gets the outcome can free it
        del _calls[key]
        p.push((status, data))
    except BaseException:
        pass
    finally:
        _busy.discard(me)


def _ensure_callbacks():
    global _callbacks, _string_at
    if _callbacks is None:
        with _key_lock:  # exactly one pair, ever: a replaced pair would be freed under running calls
            if _callbacks is None:
                import atexit
                import ctypes

                _lib.lib()
                _string_at = ctypes.string_at
                _callbacks = (_lib.CHUNK_FN(_on_chunk), _lib.DONE_FN(_on_done))
                atexit.register(_cancel_all_at_exit)
    return _callbacks


def start(request: bytes, push, client=None) -> Pending:
    """Starts one completion whose chunks and end are handed to push(); returns at once."""
    global _next_key
    on_chunk, on_done = _ensure_callbacks()
    if _deferred:
        release()
    native = client._native() if client is not None else None
    with _key_lock:
        key = _next_key
        _next_key += 1
    p = Pending(key, push, client)
    _calls[key] = p
    with p.lock:  # on_done (which takes the handle) waits until the handle is known
        handle = _lib._lib.anyllm_completion_start(native, request, on_chunk, on_done, key)
        if not handle:
            _calls.pop(key, None)
            from ._errors import internal_error

            raise internal_error("anyllm_completion_start could not start the call")
        p.handle = handle
    return p


def pending_count() -> int:
    """Calls in flight: started ones (callbacks) and open pulled ones (_pull)."""
    from . import _pull

    return len(_calls) + _pull.live_count()


def _cancel_all_at_exit(grace: float = 5.0) -> None:
    """No callback may run once the interpreter shuts down (a library thread that wants the GIL
    then would be stopped in the middle of the library): cancel every call, wait until every
    on_done has run and every callback has returned, then release the handles."""
    import time

    for p in list(_calls.values()):
        p.cancel()
    deadline = time.monotonic() + grace
    while (_calls or _busy) and time.monotonic() < deadline:
        time.sleep(0.001)
    release()
