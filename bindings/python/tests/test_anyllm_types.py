"""Result objects: attribute access, model_dump / model_dump_json, equality, repr."""

import json

import pytest

from anyllm.types import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage

RESULT = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o",
    "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None, "message": {
        "role": "assistant", "content": None, "reasoning": {"content": "thinking"},
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12,
              "completion_tokens_details": {"reasoning_tokens": 3}},
    "x_provider_extra": {"region": "eu"},
}


def test_attribute_access():
    r = ChatCompletion.model_validate(RESULT)
    m = r.choices[0].message
    assert isinstance(m, ChatCompletionMessage)
    assert m.tool_calls[0].function.arguments == '{"city":"Paris"}'
    assert m.tool_calls[0].id == "call_1" and m.tool_calls[0].type == "function"
    assert m.reasoning.content == "thinking"
    assert r.usage.prompt_tokens == 5 and r.usage.completion_tokens_details.reasoning_tokens == 3
    assert r.usage.prompt_tokens_details is None  # declared field, absent -> None
    assert m.content is None and m.refusal is None and m.audio is None
    assert r.service_tier is None
    assert r.x_provider_extra.region == "eu"  # undeclared keys stay reachable
    with pytest.raises(AttributeError):
        r.no_such_field
    assert r["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert r.get("model") == "gpt-4o" and r.get("service_tier", "default") == "default"


def test_model_dump():
    r = ChatCompletion.model_validate(RESULT)
    d = r.model_dump()
    assert list(d)[:8] == ["id", "choices", "created", "model", "object", "service_tier", "system_fingerprint",
                           "usage"]
    assert d["service_tier"] is None
    assert d["choices"][0]["message"]["tool_calls"][0]["function"] == {
        "arguments": '{"city":"Paris"}', "name": "get_weather"}
    assert d["x_provider_extra"] == {"region": "eu"}
    assert r.model_dump(exclude_unset=True) == RESULT
    assert "service_tier" not in r.model_dump(exclude_none=True)
    assert set(r.model_dump(include={"id", "model"})) == {"id", "model"}
    assert "usage" not in r.model_dump(exclude={"usage"})


def test_model_dump_json_round_trip():
    r = ChatCompletion.model_validate(RESULT)
    text = r.model_dump_json()
    assert " " not in text.split('"arguments"')[0]  # compact, like pydantic
    assert ChatCompletion.model_validate_json(text) == r
    assert json.loads(r.model_dump_json(indent=2, exclude_unset=True)) == RESULT
    assert json.loads(r.to_json()) == RESULT and r.to_dict() == RESULT


def test_equality_and_repr():
    a, b = ChatCompletion.model_validate(RESULT), ChatCompletion.model_validate(json.loads(json.dumps(RESULT)))
    assert a == b and a is not b
    b.choices[0].message.reasoning.content = "other"
    assert a != b
    assert a != ChatCompletionChunk.model_validate(RESULT)  # another type is never equal
    text = repr(a)
    assert text.startswith("ChatCompletion(id='chatcmpl-1', choices=[Choice(finish_reason='tool_calls'")
    assert "ChatCompletionMessageToolCall(id='call_1', function=Function(arguments='{\"city\":\"Paris\"}'" in text
    assert "reasoning=Reasoning(content='thinking')" in text
    with pytest.raises(TypeError):
        hash(a)


def test_chunks():
    c = ChatCompletionChunk.model_validate({
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": None, "delta": {
            "reasoning": {"content": "hm"},
            "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                            "function": {"name": "f", "arguments": ""}}]}}]})
    d = c.choices[0].delta
    assert d.content is None and d.role is None
    assert d.reasoning.content == "hm"
    assert d.tool_calls[0].index == 0 and d.tool_calls[0].function.name == "f"
    assert c.usage is None


def test_objects_are_copyable_and_picklable():
    import copy
    import pickle

    r = ChatCompletion.model_validate(RESULT)
    assert copy.deepcopy(r) == r
    assert pickle.loads(pickle.dumps(r)) == r
    assert r.model_copy(update={"model": "x"}).model == "x"


CHUNK_SHAPES = [
    {"choices": [{"index": 0, "delta": {"content": "w"}, "logprobs": None, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c", "type": "function",
                                                         "function": {"name": "f", "arguments": "{"}}]},
                  "finish_reason": None}]},
    {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3,
                              "prompt_tokens_details": {"cached_tokens": 0}}},
    {"choices": [{"index": 0, "delta": {"reasoning": {"content": "r"}}, "finish_reason": None}], "x_extra": {"k": 1}},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "x_choice_extra": {"a": [1]},
                  "logprobs": {"content": [{"token": "a", "logprob": -1, "bytes": [97], "top_logprobs": []}]}}]},
    # OpenAI's per-chunk padding (a string): kept as an extra attribute, on the fast path
    {"choices": [{"index": 0, "delta": {"content": "w"}, "logprobs": None, "finish_reason": None}],
     "service_tier": "default", "system_fingerprint": "fp_1", "obfuscation": "xY3k"},
    # the same key holding an object: it must become an object, as any extra object does
    {"choices": [{"index": 0, "delta": {"content": "w"}, "finish_reason": None}], "obfuscation": {"pad": "x"}},
    # scalar extras in a delta and in a choice (DeepSeek's reasoning_content), explicit nulls
    {"choices": [{"index": 0, "delta": {"content": None, "reasoning_content": "think", "tool_calls": None,
                                        "function_call": None}, "finish_reason": None, "stop_reason": None}]},
    # extra lists stay lists; a legacy function_call delta becomes its object
    {"choices": [{"index": 0, "delta": {"function_call": {"name": "f", "arguments": ""}}, "finish_reason": None}],
     "x_list": [{"a": 1}], "obfuscation": "p"},
    # a delta with an extra object beside plain fields
    {"choices": [{"index": 0, "delta": {"content": "w", "x_meta": {"k": [1]}}, "finish_reason": None}]},
]


def _shape_of(v):
    """The classes of a built value, all the way down (equality alone could let a dict pass for an
    object that compares equal to it)."""
    if isinstance(v, list):
        return [_shape_of(x) for x in v]
    if isinstance(v, dict):
        return {k: _shape_of(x) for k, x in v.items()}
    if hasattr(v, "__dict__"):
        return (type(v).__name__, {k: _shape_of(x) for k, x in vars(v).items()})
    return type(v).__name__


@pytest.mark.parametrize("shape", CHUNK_SHAPES)
def test_stream_chunk_fast_path_builds_what_model_validate_builds(shape):
    """Streams build chunks with a fast path (anyllm._decode.chunks); it must give the same objects."""
    from anyllm import _decode

    d = dict({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}, **shape)
    slow = ChatCompletionChunk.model_validate(json.loads(json.dumps(d)))
    fast = _decode.chunks(json.dumps([d, d]).encode())
    assert len(fast) == 2 and fast[0] == slow and fast[1] == slow
    assert repr(fast[0]) == repr(slow) and fast[0].model_dump() == slow.model_dump()
    assert fast[0].model_dump_json() == slow.model_dump_json()
    assert _shape_of(fast[0]) == _shape_of(slow)
    for f, s in zip(fast[0].choices, slow.choices):
        assert type(f) is type(s) and type(f.delta) is type(s.delta)
        assert f.delta.tool_calls == s.delta.tool_calls and f.delta.reasoning == s.delta.reasoning
    fast[0].choices = []  # objects do not share state
    assert fast[1].choices == slow.choices


ANSWER_SHAPES = [
    RESULT,
    # as OpenAI answers today: annotations, token details, service tier
    {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "service_tier": "default",
     "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": None, "annotations": []},
                  "logprobs": None, "finish_reason": "stop"}],
     "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3,
               "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
               "completion_tokens_details": {"reasoning_tokens": 0, "accepted_prediction_tokens": 0}}},
    # odd values where objects are declared: kept as they came, as model_validate keeps them
    {"id": "c", "choices": [{"message": ["not", "an", "object"], "logprobs": {"content": None}}, 7, None],
     "usage": "n/a", "x_nested": {"a": {"b": {"c": [1, {"d": 2}]}}}, "x_list": [{"a": 1}]},
    # logprobs all the way down, and a legacy function_call
    {"choices": [{"index": 0, "message": {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"},
                                          "x_m": {"k": 1}},
                  "logprobs": {"content": [{"token": "a", "logprob": -0.1, "bytes": [97],
                                            "top_logprobs": [{"token": "a", "logprob": -0.1}, "odd"]}]}}]},
]


@pytest.mark.parametrize("shape", ANSWER_SHAPES)
def test_results_taken_over_build_what_model_validate_builds(shape):
    """Results are built by taking over the parsed dicts (Model._take); it must give what the
    public model_validate gives, which leaves its argument alone."""
    from anyllm.types import ParsedChatCompletion

    for cls in (ChatCompletion, ParsedChatCompletion, ChatCompletionChunk):
        given = json.loads(json.dumps(shape))
        slow = cls.model_validate(given)
        assert given == shape, "model_validate changed the dict it was given"
        fast = cls._take(json.loads(json.dumps(shape)))
        assert fast == slow and repr(fast) == repr(slow)
        assert fast.model_dump() == slow.model_dump() == cls.model_validate(shape).model_dump()
        assert _shape_of(fast) == _shape_of(slow)
