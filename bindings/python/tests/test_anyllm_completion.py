"""completion(): the any-llm signature, request building, and the documented examples."""

import inspect
import json
import warnings

import pytest

import anyllm
from anyllm import completion, acompletion, async_completion
from anyllm_testlib import KEY, last_request

ANY_LLM_PARAMETERS = [
    ("provider", None), ("tools", None), ("tool_choice", None), ("temperature", None), ("top_p", None),
    ("max_tokens", None), ("response_format", None), ("stream", None), ("n", None), ("stop", None),
    ("presence_penalty", None), ("frequency_penalty", None), ("seed", None), ("api_key", None), ("api_base", None),
    ("user", None), ("session_label", None), ("parallel_tool_calls", None), ("logprobs", None),
    ("top_logprobs", None), ("logit_bias", None), ("stream_options", None), ("max_completion_tokens", None),
    ("reasoning_effort", "auto"), ("client_args", None),
]


@pytest.mark.parametrize("fn", [completion, acompletion])
def test_signature_is_any_llms(fn):
    params = list(inspect.signature(fn).parameters.values())
    assert [p.name for p in params[:2]] == ["model", "messages"]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty for p in params[:2])
    assert [(p.name, p.default) for p in params[2:-1]] == ANY_LLM_PARAMETERS
    assert all(p.kind is p.KEYWORD_ONLY for p in params[2:-1])
    assert params[-1].kind is params[-1].VAR_KEYWORD
    assert inspect.iscoroutinefunction(acompletion)
    assert async_completion is acompletion


def test_basic_completion(kw):
    r = completion("gpt-4o-mini", [{"role": "user", "content": "What is the capital of France?"}], **kw)
    assert isinstance(r, anyllm.ChatCompletion)
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-")
    assert r.choices[0].message.content == "You said: What is the capital of France?"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == 6 and r.usage.completion_tokens == 8 and r.usage.total_tokens == 14


def test_messages_may_be_a_string(kw, emu):
    r = completion("gpt-4o-mini", "Hello, how are you?", **kw)
    assert r.choices[0].message.content == "You said: Hello, how are you?"
    assert last_request(emu)["body"]["messages"] == [{"role": "user", "content": "Hello, how are you?"}]


def test_provider_in_the_model_string(kw):
    args = dict(kw)
    del args["provider"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = completion("openai:gpt-4o-mini", "colon form", **args)
    assert r.choices[0].message.content == "You said: colon form"


def test_legacy_slash_form_warns(kw, emu):
    args = dict(kw)
    del args["provider"]
    with pytest.warns(DeprecationWarning, match="provider/model") as rec:
        r = completion("openai/gpt-4o-mini", "slash form", **args)
    assert rec[0].filename == __file__  # points at the caller
    assert r.choices[0].message.content == "You said: slash form"
    assert last_request(emu)["body"]["model"] == "gpt-4o-mini"


def test_model_names_with_slashes_do_not_warn(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        completion("meta-llama/Llama-3-8b", "x", **kw)  # provider given: the slash is part of the name
        args = dict(kw)
        del args["provider"]
        completion("openai:org/model", "x", **args)


def test_none_parameters_are_not_sent(kw, emu):
    completion("gpt-4o-mini", "x", **kw)
    body = last_request(emu)["body"]
    assert set(body) == {"model", "messages"}


def test_parameters_are_sent(kw, emu):
    completion(
        "gpt-4o-mini", "x", temperature=0.5, top_p=0.9, max_completion_tokens=100, stop=["\n"], seed=7, user="u1",
        presence_penalty=0.1, frequency_penalty=0.2, n=1, logprobs=True, top_logprobs=2, logit_bias={"50256": -100},
        reasoning_effort="low", **kw)
    body = last_request(emu)["body"]
    for k, v in dict(temperature=0.5, top_p=0.9, max_completion_tokens=100, stop=["\n"], seed=7, user="u1",
                     presence_penalty=0.1, frequency_penalty=0.2, n=1, logprobs=True, top_logprobs=2,
                     logit_bias={"50256": -100}, reasoning_effort="low").items():
        assert body[k] == v, k


def test_kwargs_go_to_the_provider_body(kw, emu):
    completion("gpt-4o-mini", "x", metadata={"team": "a"}, store=False, **kw)
    body = last_request(emu)["body"]
    assert body["metadata"] == {"team": "a"} and body["store"] is False


def test_client_args_reach_the_transport(kw, emu):
    completion("gpt-4o-mini", "x", client_args={"headers": {"X-Anyllm-Test": "yes"}, "timeout": 30}, **kw)
    req = last_request(emu)
    assert req["headers"]["x-anyllm-test"] == "yes"
    assert "client_args" not in req["body"]


def test_message_objects_from_results_are_accepted(kw):
    def get_weather(location: str) -> str:
        """Get the weather."""
        return "sunny in " + location

    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = completion("gpt-4o-mini", messages, tools=[get_weather], **kw)
    msg = first.choices[0].message
    call = msg.tool_calls[0]
    messages.append(msg)  # a ChatCompletionMessage, as with the openai SDK
    messages.append({"role": "tool", "tool_call_id": call.id, "content": get_weather("Paris")})
    second = completion("gpt-4o-mini", messages, tools=[get_weather], **kw)
    assert second.choices[0].message.content == "Tool results: sunny in Paris"


def test_tool_calls_inside_a_dict_message(kw):
    first = completion("gpt-4o-mini", "weather?", tools=[_tool_dict()], **kw)
    calls = first.choices[0].message.tool_calls
    messages = [{"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": calls},  # objects inside a dict
                {"role": "tool", "tool_call_id": calls[0].id, "content": "rain"}]
    assert completion("gpt-4o-mini", messages, **kw).choices[0].message.content == "Tool results: rain"


def _tool_dict():
    return {"type": "function", "function": {"name": "weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def test_invalid_arguments_raise_before_any_call(kw):
    with pytest.raises(TypeError):
        completion("gpt-4o-mini", "x", tools=[42], **kw)
    with pytest.raises(TypeError):
        completion("gpt-4o-mini", "x", response_format=int, **kw)
    with pytest.raises(anyllm.InvalidRequestError, match="temperature"):
        completion("gpt-4o-mini", "x", temperature=5, **kw)


# ---- the documented examples (any-llm's and xnano's), pointed at the emulator --------------------------------------

def test_any_llm_basic_example(emu):
    response = completion(
        model="mistral-small-latest",
        provider="mistral",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        api_base=emu + "/v1", api_key=KEY,
    )
    print(response.choices[0].message.content)
    assert response.choices[0].message.content == "You said: What is the capital of France?"


def test_any_llm_streaming_example(emu, capsys):
    for chunk in completion(
        model="gpt-4.1-mini",
        provider="openai",
        messages=[{"role": "user", "content": "Tell me a story."}],
        stream=True,
        api_base=emu + "/v1", api_key=KEY,
    ):
        print(chunk.choices[0].delta.content or "", end="")
    assert capsys.readouterr().out == "You said: Tell me a story."


def test_any_llm_tool_calling_example(emu):
    def get_weather(location: str, unit: str = "F") -> str:
        """Get weather information for a location.

        Args:
            location: The city or location to get weather for
            unit: Temperature unit, either 'C' or 'F'

        Returns:
            Current weather description
        """
        return f"Weather in {location} is sunny and 75{unit}!"

    response = completion(
        model="mistral-small-latest",
        provider="mistral",
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=[get_weather],
        api_base=emu + "/v1", api_key=KEY,
    )
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["location"] == "Paris"
    assert response.choices[0].finish_reason == "tool_calls"


def test_xnano_example(emu, capsys):
    import anyllm as x

    response = x.completion(
        model="openai:gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello, how are you today?"}
        ],
        temperature=0.5,
        max_completion_tokens=100,
        api_base=emu + "/v1", api_key=KEY,
    )
    print(response)
    print(response.choices[0].message.content)
    print(response.choices[0].message.tool_calls)
    out = capsys.readouterr().out
    assert out.startswith("ChatCompletion(id='chatcmpl-")
    assert out.endswith("You said: Hello, how are you today?\nNone\n")


def test_xnano_async_example(emu):
    import asyncio

    import anyllm as x

    result = asyncio.run(x.async_completion(
        model="openai:gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello, how are you today?"}
        ],
        temperature=0.5,
        max_completion_tokens=100,
        api_base=emu + "/v1", api_key=KEY,
    ))
    print(result)
    assert result.choices[0].message.content == "You said: Hello, how are you today?"


def test_library_information():
    assert anyllm.library_version().count(".") == 2
    names = {p["name"] for p in anyllm.providers()}
    assert {"openai", "mistral", "anthropic"} <= names
