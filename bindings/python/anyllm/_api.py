"""completion() and acompletion(): any-llm's signature and defaults, on libanyllm."""

from __future__ import annotations

from . import _request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, AsyncIterator, Callable, Iterator, Literal, Optional, Union

    from .types import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage

    Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "auto"]


def completion(
    model: str,
    messages: Union[str, list[Union[dict[str, Any], ChatCompletionMessage]]],
    *,
    provider: Optional[str] = None,
    tools: Optional[list[Union[dict[str, Any], Callable[..., Any]]]] = None,
    tool_choice: Optional[Union[str, dict[str, Any]]] = None,
    temperature: Optional[float] = None,
    top_p: Optional[float] = None,
    max_tokens: Optional[int] = None,
    response_format: Optional[Union[dict[str, Any], type]] = None,
    stream: Optional[bool] = None,
    n: Optional[int] = None,
    stop: Optional[Union[str, list[str]]] = None,
    presence_penalty: Optional[float] = None,
    frequency_penalty: Optional[float] = None,
    seed: Optional[int] = None,
    api_key: Optional[str] = None,
    api_base: Optional[str] = None,
    user: Optional[str] = None,
    session_label: Optional[str] = None,
    parallel_tool_calls: Optional[bool] = None,
    logprobs: Optional[bool] = None,
    top_logprobs: Optional[int] = None,
    logit_bias: Optional[dict[str, float]] = None,
    stream_options: Optional[dict[str, Any]] = None,
    max_completion_tokens: Optional[int] = None,
    reasoning_effort: Optional[Effort] = "auto",
    client_args: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Union[ChatCompletion, Iterator[ChatCompletionChunk]]:
    """Creates a chat completion with any provider (OpenAI-compatible parameters and results).

    model is "provider:model", or the model name with `provider`. messages is a list of OpenAI
    messages (dicts or message objects from earlier results) or a string (one user message).
    Returns a ChatCompletion, or with stream=True an iterator of ChatCompletionChunk objects;
    with a Pydantic model or dataclass as response_format, `choices[0].message.parsed` is an
    instance of it. Errors raise anyllm.AnyLLMError subclasses. Extra keyword arguments go to the
    provider's request body unchanged.
    """
    params = dict(locals())
    del params["model"], params["messages"], params["kwargs"]
    return _run(_request.build(model, messages, params, kwargs), None)


async def acompletion(
    model: str,
    messages: Union[str, list[Union[dict[str, Any], ChatCompletionMessage]]],
    *,
    provider: Optional[str] = None,
    tools: Optional[list[Union[dict[str, Any], Callable[..., Any]]]] = None,
    tool_choice: Optional[Union[str, dict[str, Any]]] = None,
    temperature: Optional[float] = None,
    top_p: Optional[float] = None,
    max_tokens: Optional[int] = None,
    response_format: Optional[Union[dict[str, Any], type]] = None,
    stream: Optional[bool] = None,
    n: Optional[int] = None,
    stop: Optional[Union[str, list[str]]] = None,
    presence_penalty: Optional[float] = None,
    frequency_penalty: Optional[float] = None,
    seed: Optional[int] = None,
    api_key: Optional[str] = None,
    api_base: Optional[str] = None,
    user: Optional[str] = None,
    session_label: Optional[str] = None,
    parallel_tool_calls: Optional[bool] = None,
    logprobs: Optional[bool] = None,
    top_logprobs: Optional[int] = None,
    logit_bias: Optional[dict[str, float]] = None,
    stream_options: Optional[dict[str, Any]] = None,
    max_completion_tokens: Optional[int] = None,
    reasoning_effort: Optional[Effort] = "auto",
    client_args: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Union[ChatCompletion, AsyncIterator[ChatCompletionChunk]]:
    """The async form of completion(): never blocks the event loop; cancelling the task cancels
    the call. With stream=True it returns an async iterator of ChatCompletionChunk objects."""
    params = dict(locals())
    del params["model"], params["messages"], params["kwargs"]
    return await _arun(_request.build(model, messages, params, kwargs), None)


async_completion = acompletion  # xnano's name

PARAMETERS = tuple(completion.__code__.co_varnames[2:completion.__code__.co_kwonlyargcount + 2])


def _run(request, client):
    from . import _blocking

    if request.stream:
        return _blocking.Stream(request, client)._prime()
    return _blocking.complete(request, client)


async def _arun(request, client):
    from . import _aio

    if request.stream:
        return await _aio.AsyncStream(request, client)._prime()
    return await _aio.complete(request, client)
