"""asyncio calls, on the library's notifying pull API (anyllm_completion_open_notify): each call
runs on the library's engine thread, which writes the call's token to the event loop's pipe
whenever the call has chunks or its end to hand over. The loop reads the pipe (add_reader) and
takes what is there with pulls that never wait, on its own thread. No library thread calls into
Python, so nothing has to take the GIL from the loop: with callbacks, those hand-overs cost more
than the calls themselves at 64 calls in flight. One pipe serves every call of a loop.

Cancelling the awaiting task (or leaving a stream early) cancels the call.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import weakref

from . import _chunks, _decode, _pull

_NOTHING = _pull.NOTHING
_TOKENS = struct.Struct("=Q")   # the library writes each token as 8 bytes, in the machine's order
_F_SETPIPE_SZ, _F_GETPIPE_SZ = 1031, 1032  # Linux fcntl
_notifiers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # loop -> its _Notifier


class _Notifier:
    """An event loop's pipe: calls' tokens come in on it, and wake the call's waiter."""

    __slots__ = ("r", "w", "waiters", "next_token", "live", "room", "__weakref__")

    def __init__(self, loop) -> None:
        self.r, self.w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        try:  # one token per call in flight must fit (8 bytes each): 1 MiB holds 131,072
            fcntl.fcntl(self.w, _F_SETPIPE_SZ, 1 << 20)
        except OSError:
            pass  # the default, 64 KiB: 8,192 calls
        try:
            self.room = fcntl.fcntl(self.w, _F_GETPIPE_SZ) // 8
        except OSError:
            self.room = 8192
        self.waiters: dict = {}   # token -> future of the task waiting for that call
        self.next_token = 1
        self.live = 0             # calls opened on this pipe and not freed: it stays open for them
        loop.add_reader(self.r, self._dispatch)

    @staticmethod
    def of(loop) -> "_Notifier":
        n = _notifiers.get(loop)
        if n is None:
            n = _notifiers[loop] = _Notifier(loop)
        return n

    def open(self, body: bytes, client):
        """A call that sends its tokens here; (call, token)."""
        if self.live >= self.room:
            # A full pipe would drop a token and leave its call waiting forever: refuse instead.
            from ._errors import internal_error

            raise internal_error("too many calls in flight on one event loop (%d): its notification pipe holds "
                                 "%d tokens" % (self.live, self.room))
        token = self.next_token
        self.next_token += 1
        call = _pull.PulledCall(body, client, (self.w, token))
        call.owner = self
        self.live += 1
        return call, token

    def released(self) -> None:
        self.live -= 1

    def _dispatch(self) -> None:
        try:
            data = os.read(self.r, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        pop = self.waiters.pop
        for (token,) in _TOKENS.iter_unpack(data):
            fut = pop(token, None)  # none: the call was not waiting (what the token announced was taken)
            if fut is not None and not fut.done():
                fut.set_result(None)

    async def wait(self, token) -> None:
        fut = asyncio.get_running_loop().create_future()
        self.waiters[token] = fut
        try:
            await fut
        finally:
            if self.waiters.get(token) is fut:
                del self.waiters[token]

    def __del__(self) -> None:
        # The loop is gone. The library writes to the pipe until a call's handle is freed: with
        # a call still open (a stream dropped in a reference cycle), the pipe is left open.
        if self.live == 0:
            for fd in (self.r, self.w):
                try:
                    os.close(fd)
                except OSError:
                    pass


async def complete(request, client=None):
    notifier = _Notifier.of(asyncio.get_running_loop())
    call, token = notifier.open(request.body, client)
    try:
        while True:
            got = call.take()
            if got is None:
                break
            if got is _NOTHING:
                await notifier.wait(token)
            # else: chunks, which a non-streamed call does not have
        status, data = call.outcome()
    except BaseException:
        call.cancel()
        raise
    finally:
        call.free()
    return _decode.result(status, data, request)


class AsyncStream:
    """An async iterator of ChatCompletionChunk objects (also an async context manager).
    `completion` is the aggregated ChatCompletion once the stream has ended.

    Each wake-up takes everything the call has read as one JSON array (up to 32 KiB of chunks per
    pull), parsed at once, as the synchronous stream does."""

    def __init__(self, request, client=None) -> None:
        self._notifier = _Notifier.of(asyncio.get_running_loop())
        self._state = _chunks.StreamState(request)
        self._call, self._token = self._notifier.open(request.body, client)
        self._waiting = False  # a _pull is waiting for the call's token

    async def _pull(self) -> None:
        """Takes the call's next chunks or its end, waiting for them if there is nothing yet."""
        call = self._call
        while True:
            got = call.take()
            if got is _NOTHING:
                self._waiting = True
                try:
                    await self._notifier.wait(self._token)
                finally:
                    self._waiting = False
                continue
            if got is not None:
                self._state.take_batch(got)
                return
            end = call.outcome()
            call.free()
            self._state.take(end)
            return

    async def _prime(self) -> "AsyncStream":
        try:
            while self._state.wants_item():
                await self._pull()
            if self._state.end is not None and self._state.end[0] != _decode.OK:
                self._state.next_chunk()  # raises the call's error
        except BaseException:
            self.close()
            raise
        return self

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self):
        state = self._state
        if state.ready:  # the common case: a chunk of the last batch
            return state.ready.popleft()
        try:
            while state.wants_item():
                await self._pull()
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
            self._call.cancel()
        # Freed here unless a _pull still waits for the call's token (another task closed the
        # stream): that one takes the cancelled end, and frees the call, when it wakes.
        if not self._waiting:
            self._call.free()

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
