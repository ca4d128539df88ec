"""Synchronous streams: chunks, aggregation, early exit cancels the call, errors keep `partial`."""

import gc
import time

import pytest

import anyllm
from anyllm import completion
from anyllm_testlib import wait_no_calls


def test_stream_yields_chunks(kw):
    stream = completion("long-5", "hi", stream=True, **kw)
    chunks = list(stream)
    assert all(isinstance(c, anyllm.ChatCompletionChunk) for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)  # every chunk has a choice
    assert text == "tok0 tok1 tok2 tok3 tok4"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.completion_tokens == 5  # the usage chunk is folded into the last one
    assert all(c.usage is None for c in chunks[:-1])
    final = stream.completion  # the aggregated ChatCompletion
    assert final.choices[0].message.content == text and final.usage.total_tokens == chunks[-1].usage.total_tokens


def test_usage_chunk_when_asked_for(kw):
    chunks = list(completion("long-2", "hi", stream=True, stream_options={"include_usage": True}, **kw))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 2  # as OpenAI sends it
    assert chunks[-2].choices[0].finish_reason == "stop" and chunks[-2].usage is None


def test_stream_matches_the_non_streamed_answer(kw):
    whole = completion("split-utf8", "x", **kw).choices[0].message.content
    streamed = "".join(c.choices[0].delta.content or "" for c in completion("split-utf8", "x", stream=True, **kw)
                       if c.choices)
    assert streamed == whole == "héllo wörld — 你好 👋 ok"


def test_streamed_reasoning(kw):
    chunks = list(completion("reasoning", "why", stream=True, **kw))
    reasoning = "".join(c.choices[0].delta.reasoning.content for c in chunks
                        if c.choices and c.choices[0].delta.reasoning)
    assert reasoning == "Let me think about what the user said: why"


def test_streamed_tool_call(kw):
    def lookup(city: str, days: int) -> str:
        """Forecast."""
        return ""

    parts, names, ids = [], [], set()
    for c in completion("gpt-4o-mini", "weather", tools=[lookup], stream=True, **kw):
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            assert tc.index == 0
            ids.add(tc.id)
            names.append(tc.function.name)
            parts.append(tc.function.arguments or "")
    assert names[0] == "lookup" and "".join(parts) == '{"city":"Paris","days":42}'
    assert len(ids - {None}) == 1


def test_breaking_out_cancels_the_call(kw):
    t0 = time.monotonic()
    for chunk in completion("slow-50-100", "x", stream=True, **kw):
        break
    del chunk
    wait_no_calls(1.0)
    assert time.monotonic() - t0 < 2.0  # the whole stream would take 5 s


def test_close_and_context_manager_cancel(kw):
    with completion("slow-50-100", "x", stream=True, **kw) as stream:
        next(stream)
    assert list(stream) == []
    wait_no_calls(1.0)
    stream = completion("slow-50-100", "x", stream=True, **kw)
    stream.close()
    wait_no_calls(1.0)


def test_garbage_collection_cancels_the_call(kw):
    stream = completion("slow-50-100", "x", stream=True, **kw)
    next(stream)
    holder = [stream]
    holder.append(holder)  # a reference cycle: only the cycle collector frees it
    del stream, holder
    gc.collect()
    wait_no_calls(1.0)


def test_user_exceptions_propagate_and_cancel(kw):
    with pytest.raises(ZeroDivisionError):
        for chunk in completion("slow-50-100", "x", stream=True, **kw):
            1 / 0
    wait_no_calls(1.0)


def test_errors_before_streaming_raise_at_call_time(fast):
    with pytest.raises(anyllm.AuthenticationError):
        completion("status-401", "x", stream=True, **fast)


def test_broken_stream_keeps_partial(fast):
    got = []
    with pytest.raises(anyllm.AnyLLMError) as info:
        for c in completion("drop-after-3", "x", stream=True, **fast):
            if c.choices:
                got.append(c.choices[0].delta.content or "")
    assert "".join(got) == "tok0 tok1 tok2 "
    partial = info.value.partial
    assert isinstance(partial, anyllm.ChatCompletion)
    assert partial.choices[0].message.content == "tok0 tok1 tok2 "


def test_error_event_in_stream(fast):
    with pytest.raises(anyllm.ProviderError) as info:
        list(completion("error-event", "x", stream=True, **fast))
    assert "server had an error" in info.value.message
    assert info.value.partial.choices[0].message.content


def test_many_streams_at_once(kw):
    streams = [completion("long-20", "x", stream=True, **kw) for _ in range(8)]
    texts = ["".join(c.choices[0].delta.content or "" for c in s if c.choices) for s in streams]
    assert len(set(texts)) == 1 and texts[0].count("tok") == 20
