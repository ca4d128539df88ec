"""acompletion(): results, async streams, the event loop is never blocked, task cancel cancels."""

import asyncio
import time

import pytest

import anyllm
from anyllm import acompletion
from anyllm_testlib import KEY, wait_no_calls


def run(coro):
    return asyncio.run(coro)


def test_acompletion(kw):
    r = run(acompletion("gpt-4o-mini", [{"role": "user", "content": "Hello!"}], **kw))
    assert isinstance(r, anyllm.ChatCompletion)
    assert r.choices[0].message.content == "You said: Hello!"


def test_any_llm_async_example(emu):
    async def main():
        response = await acompletion(
            model="claude-sonnet-4-20250514",
            provider="anthropic",
            messages=[{"role": "user", "content": "Hello!"}],
            api_base=emu, api_key=KEY,
        )
        print(response.choices[0].message.content)
        return response

    assert run(main()).choices[0].message.content == "You said: Hello!"


def test_async_stream(kw):
    async def main():
        stream = await acompletion("long-6", "x", stream=True, **kw)
        assert isinstance(stream, anyllm.AsyncStream)
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        return "".join(parts), stream.completion

    text, final = run(main())
    assert text == "tok0 tok1 tok2 tok3 tok4 tok5"
    assert final.choices[0].message.content == text


def test_event_loop_keeps_running(kw):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        t = asyncio.create_task(ticker())
        t0 = time.monotonic()
        await acompletion("slow-10-50", "x", **kw)  # answers after 0.5 s
        elapsed = time.monotonic() - t0
        t.cancel()
        return ticks, elapsed

    ticks, elapsed = run(main())
    assert elapsed >= 0.45 and ticks >= 20


def test_concurrent_calls(kw):
    async def main():
        t0 = time.monotonic()
        rs = await asyncio.gather(*[acompletion("slow-4-50", "call %d" % i, **kw) for i in range(10)])
        return rs, time.monotonic() - t0

    rs, elapsed = run(main())
    assert [r.choices[0].message.content for r in rs] == ["tok0 tok1 tok2 tok3"] * 10
    assert elapsed < 1.5  # 10 x 0.2 s would be 2 s one after another


def test_cancelling_the_task_cancels_the_call(kw):
    async def main():
        task = asyncio.create_task(acompletion("slow-50-100", "x", **kw))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    t0 = time.monotonic()
    run(main())
    wait_no_calls(1.0)
    assert time.monotonic() - t0 < 2.0


def test_timeout_cancels_the_call(kw):
    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(acompletion("slow-50-100", "x", stream=False, **kw), 0.2)

    run(main())
    wait_no_calls(1.0)


def test_leaving_an_async_stream_cancels(kw):
    async def main():
        stream = await acompletion("slow-50-100", "x", stream=True, **kw)
        async for _ in stream:
            break
        await stream.aclose()
        async with await acompletion("slow-50-100", "x", stream=True, **kw) as s2:
            await s2.__anext__()

    t0 = time.monotonic()
    run(main())
    wait_no_calls(1.0)
    assert time.monotonic() - t0 < 2.0


def test_cancelling_a_task_that_iterates_a_stream(kw):
    async def consume():
        async for _ in await acompletion("slow-50-100", "x", stream=True, **kw):
            pass

    async def main():
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    wait_no_calls(1.0)


def test_async_errors(fast):
    with pytest.raises(anyllm.RateLimitError) as info:
        run(acompletion("status-429", "x", **fast))
    assert info.value.retry_after == 1.5
    with pytest.raises(anyllm.ProviderError) as info:
        run(_drain(acompletion("error-event", "x", stream=True, **fast)))
    assert info.value.partial is not None


async def _drain(aw):
    return [c async for c in await aw]


def test_closing_a_stream_from_another_task(kw):
    """A stream closed by another task while its consumer waits for the next chunk: the consumer's
    iteration ends at once, and the call is cancelled and released."""
    async def main():
        stream = await acompletion("stall-30000", "x", stream=True, **kw)
        await stream.__anext__()  # the first chunk; the next one is 30 s away

        async def closer():
            await asyncio.sleep(0.1)
            await stream.aclose()

        t = asyncio.create_task(closer())
        t0 = time.monotonic()
        rest = [c async for c in stream]
        await t
        return rest, time.monotonic() - t0

    rest, took = run(main())
    assert rest == [] and took < 2.0
    wait_no_calls(1.0)


def _pipes():
    import os

    n = 0
    for f in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink("/proc/self/fd/" + f).startswith("pipe:")
        except OSError:
            pass
    return n


def test_async_calls_leave_nothing_open(kw):
    """Every call of a loop sends its tokens to the loop's one pipe: finished, failed, cancelled or
    left, every call is released, and the pipe is closed with its loop."""
    import gc

    async def stream_some(n):
        async with await acompletion("slow-50-20", "x", stream=True, **kw) as s:
            async for _ in s:
                n -= 1
                if n == 0:
                    break

    async def main():
        tasks = []
        for i in range(40):
            if i % 4 == 0:
                tasks.append(asyncio.create_task(acompletion("gpt-4o-mini", "x", **kw)))
            elif i % 4 == 1:
                tasks.append(asyncio.create_task(stream_some(3)))
            elif i % 4 == 2:
                tasks.append(asyncio.create_task(acompletion("status-400", "x", **kw)))
            else:
                tasks.append(asyncio.create_task(acompletion("stall-30000", "x", stream=False, **kw)))
        await asyncio.sleep(0.3)
        for i in range(3, 40, 4):
            tasks[i].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        kinds = [type(r).__name__ for r in results]
        assert kinds.count("ChatCompletion") == 10 and kinds.count("NoneType") == 10
        assert kinds.count("CancelledError") == 10 and kinds.count("InvalidRequestError") == 10, kinds

    gc.collect()  # the pipes of earlier tests' loops
    before = _pipes()
    for _ in range(3):  # a loop each time, as asyncio.run makes
        run(main())
    wait_no_calls(1.0)
    gc.collect()
    assert _pipes() == before


def test_more_calls_than_the_pipe_holds_are_refused(kw):
    """A loop's pipe holds one token per call in flight; a call beyond that is refused with an
    error rather than left to wait for a token the full pipe would drop."""
    from anyllm import _aio

    async def main():
        n = _aio._Notifier.of(asyncio.get_running_loop())
        assert n.room >= 8192
        n.room = 2  # as if the pipe were tiny
        first = asyncio.create_task(acompletion("stall-30000", "x", **kw))
        second = asyncio.create_task(acompletion("stall-30000", "x", **kw))
        await asyncio.sleep(0.1)
        with pytest.raises(anyllm.AnyLLMError, match="too many calls in flight"):
            await acompletion("gpt-4o-mini", "x", **kw)
        first.cancel()
        second.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
        assert await acompletion("gpt-4o-mini", "x", **kw)  # room again

    run(main())
    wait_no_calls(1.0)
