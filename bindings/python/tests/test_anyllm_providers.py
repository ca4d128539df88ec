"""The same binding code against every wire protocol the emulator speaks: results, streams, tool
round trips with message objects (reasoning and signatures included) and errors look the same."""

import json

import pytest

import anyllm
from anyllm import completion
from anyllm_testlib import KEY

PROVIDERS = ["openai", "anthropic", "gemini", "ollama", "mistral", "azure", "cohere"]
# Where the emulator serves each provider (Mistral under a prefix, Azure AI inference as a Foundry resource).
BASES = {"openai": "/v1", "mistral": "/mistral/v1", "azure": "/models"}


@pytest.fixture(params=PROVIDERS)
def pkw(request, emu):
    base = emu + BASES.get(request.param, "")
    return {"provider": request.param, "api_base": base, "api_key": KEY, "client_args": {"max_retries": 0}}


def get_weather(location: str, unit: str = "C") -> str:
    """Get the weather.

    Args:
        location: The city.
        unit: C or F.
    """
    return "sunny in %s" % location


def test_completion_and_stream(pkw):
    r = completion("any-model", "hello there", **pkw)
    assert r.choices[0].message.content == "You said: hello there"
    assert r.usage.completion_tokens == 4
    chunks = list(completion("any-model", "hello there", stream=True, **pkw))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "You said: hello there"
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].usage.completion_tokens == 4


def test_tool_round_trip_with_reasoning(pkw):
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = completion("reasoning", messages, tools=[get_weather], **pkw)
    msg = first.choices[0].message
    thinking = "Let me think about what the user said: Weather in Paris?"
    if pkw["provider"] == "cohere":     # Cohere's tool plan follows the thinking (docs/providers.md)
        thinking += "\n\nI will use get_weather to answer this."
    assert msg.reasoning.content == thinking
    call = msg.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments)["location"] == "Paris"
    messages += [msg, {"role": "tool", "tool_call_id": call.id, "content": get_weather("Paris")}]
    second = completion("reasoning", messages, tools=[get_weather], **pkw)
    assert second.choices[0].message.content == "Tool results: sunny in Paris"


def test_errors(pkw):
    with pytest.raises(anyllm.RateLimitError) as info:
        completion("status-429", "x", **pkw)
    assert info.value.status_code == 429 and info.value.provider == pkw["provider"] and info.value.body
    with pytest.raises(anyllm.AuthenticationError):
        completion("status-401", "x", **pkw)
    with pytest.raises(anyllm.ProviderError) as info:
        list(completion("error-event", "x", stream=True, **pkw))
    assert info.value.partial is not None  # the chunks before the error


def test_cohere_specifics(emu):
    """Cohere through the binding: a dataclass response format becomes json_object + json_schema and parses back;
    parameters Cohere has no equivalent for raise UnsupportedParameterError naming them; a context overflow is
    ContextLengthExceededError."""
    import dataclasses

    @dataclasses.dataclass
    class Person:
        name: str
        age: int

    kw = {"provider": "cohere", "api_base": emu, "api_key": KEY, "client_args": {"max_retries": 0}}
    r = completion("command-a-03-2025", "Who?", response_format=Person, **kw)
    assert r.choices[0].message.parsed == Person("Paris", 42)
    for extra, param in (({"n": 2}, "n"), ({"logit_bias": {"12": 1}}, "logit_bias")):
        with pytest.raises(anyllm.UnsupportedParameterError) as info:
            completion("command-a-03-2025", "x", **extra, **kw)
        assert param in str(info.value)
    with pytest.raises(anyllm.ContextLengthExceededError) as info:
        completion("context-length", "x", **kw)
    assert info.value.status_code == 400 and "too many tokens" in str(info.value)
