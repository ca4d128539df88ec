"""Result types that behave like the openai SDK's (attribute access, model_dump, model_dump_json,
equality, repr) without importing openai or pydantic.

Each class declares its fields; a declared field that the JSON did not carry reads as None (as in
the SDK), keys that are not declared are kept as extra attributes. Nested objects are converted
when the result is built.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Dict, Iterable, List, Optional, Tuple


class Model:
    """Base of every result type."""

    _fields: ClassVar[Tuple[str, ...]] = ()
    _nested: ClassVar[Dict[str, Any]] = {}
    _known: ClassVar[frozenset] = frozenset()  # _fields and _nested's keys (set per subclass)  # field -> Model subclass, or a one-item list [Model subclass] for a list of them

    def __init__(self, **data: Any) -> None:
        self._fill(data)

    @classmethod
    def model_validate(cls, data: dict) -> Any:
        """Builds the object from a dict (the parsed JSON)."""
        obj = cls.__new__(cls)
        obj._fill(data)
        return obj

    @classmethod
    def model_validate_json(cls, text) -> Any:
        import json

        return cls.model_validate(json.loads(text))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._known = frozenset(cls._fields) | frozenset(cls._nested)

    @classmethod
    def _take(cls, d: dict) -> Any:
        """model_validate for a dict that json.loads has just made and nobody else holds: the dict
        becomes the object's __dict__, its nested values converted in place, instead of being
        copied key by key (model_validate must leave a caller's dict alone; results need not).
        Builds what model_validate builds: the types' tests compare the two."""
        for k, sub in cls._nested.items():
            v = d.get(k)
            if v is None:
                continue
            if sub.__class__ is list:
                if v.__class__ is list:
                    item = sub[0]
                    d[k] = [item._take(x) if x.__class__ is dict else x for x in v]
            elif v.__class__ is dict:
                d[k] = sub._take(v)
        if not cls._known.issuperset(d):
            known = cls._known
            for k, v in d.items():
                if v.__class__ is dict and k not in known:
                    d[k] = Extra._take(v)  # an existing key: the dict does not change size
        o = _new(cls)
        o.__dict__ = d
        return o

    def _fill(self, data: dict) -> None:
        d = self.__dict__
        nested = self._nested
        for k, v in data.items():
            sub = nested.get(k)
            if sub is not None and v is not None:
                if sub.__class__ is list:
                    item = sub[0]
                    if isinstance(v, list):
                        v = [item.model_validate(x) if isinstance(x, dict) else x for x in v]
                elif isinstance(v, dict):
                    v = sub.model_validate(v)
            elif v.__class__ is dict and k not in self._fields:
                v = Extra.model_validate(v)
            d[k] = v

    def __getattr__(self, name: str) -> Any:
        if name in type(self)._fields:
            return None
        raise AttributeError("%r object has no attribute %r" % (type(self).__name__, name))

    # -- dumping ---------------------------------------------------------------------------------

    @property
    def model_fields_set(self) -> set:
        return set(self.__dict__)

    def _keys(self, exclude_unset: bool) -> list:
        d = self.__dict__
        keys = [f for f in self._fields if f in d] if exclude_unset else list(self._fields)
        keys += [k for k in d if k not in self._fields]
        return keys

    def model_dump(
        self,
        *,
        mode: str = "python",
        include: Optional[Iterable[str]] = None,
        exclude: Optional[Iterable[str]] = None,
        by_alias: bool = False,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        round_trip: bool = False,
        warnings: Any = True,
        **_ignored: Any,
    ) -> dict:
        """The object as a dict of plain values (like pydantic's model_dump)."""
        out = {}
        d = self.__dict__
        for k in self._keys(exclude_unset):
            if include is not None and k not in include:
                continue
            if exclude is not None and k in exclude:
                continue
            v = d.get(k)
            if v is None and (exclude_none or exclude_defaults):
                continue
            out[k] = _dump(v, mode, exclude_unset, exclude_none or exclude_defaults)
        return out

    def model_dump_json(self, *, indent: Optional[int] = None, **kwargs: Any) -> str:
        """The object as JSON text (compact unless indent is given)."""
        import json

        kwargs["mode"] = "json"
        data = self.model_dump(**kwargs)
        if indent is None:
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return json.dumps(data, ensure_ascii=False, indent=indent)

    def to_dict(self, **kwargs: Any) -> dict:
        kwargs.setdefault("exclude_unset", True)
        return self.model_dump(**kwargs)

    def to_json(self, *, indent: Optional[int] = 2, **kwargs: Any) -> str:
        kwargs.setdefault("exclude_unset", True)
        return self.model_dump_json(indent=indent, **kwargs)

    def model_copy(self, *, update: Optional[dict] = None, deep: bool = False) -> Any:
        import copy

        new = copy.deepcopy(self) if deep else copy.copy(self)
        if update:
            new.__dict__.update(update)
        return new

    # -- dict-style access (LiteLLM's ModelResponse allows it) -----------------------------------

    def __getitem__(self, key: str) -> Any:
        if key in self.__dict__ or key in self._fields:
            return getattr(self, key)
        raise KeyError(key)

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__

    def get(self, key: str, default: Any = None) -> Any:
        v = self.__dict__.get(key)
        return default if v is None else v

    # -- comparison and display ------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.model_dump() == other.model_dump()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        d = self.__dict__
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % (k, d.get(k)) for k in self._keys(False)))


def _dump(v: Any, mode: str, exclude_unset: bool, exclude_none: bool) -> Any:
    if isinstance(v, Model):
        return v.model_dump(mode=mode, exclude_unset=exclude_unset, exclude_none=exclude_none)
    if isinstance(v, list):
        return [_dump(x, mode, exclude_unset, exclude_none) for x in v]
    if isinstance(v, dict):
        return {k: _dump(x, mode, exclude_unset, exclude_none) for k, x in v.items()}
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return _dump_foreign(v, mode)


def _dump_foreign(v: Any, mode: str) -> Any:
    """`parsed` values: pydantic models, dataclasses, enums."""
    if hasattr(v, "model_dump"):
        return v.model_dump(mode=mode)
    if hasattr(v, "__dataclass_fields__"):
        import dataclasses

        return _dump(dataclasses.asdict(v), mode, False, False)
    if hasattr(v, "value") and hasattr(type(v), "__members__"):
        return v.value
    return v


class Extra(Model):
    """A nested object the types do not declare (kept with attribute access)."""


class Reasoning(Model):
    _fields = ("content",)
    content: Optional[str]


class Function(Model):
    _fields = ("arguments", "name")
    arguments: str
    name: str


class ChatCompletionMessageToolCall(Model):
    _fields = ("id", "function", "type")
    _nested = {"function": Function}
    id: str
    function: Function
    type: str


class FunctionCall(Model):
    _fields = ("arguments", "name")
    arguments: str
    name: str


class ChatCompletionMessage(Model):
    _fields: ClassVar[Tuple[str, ...]] = ("content", "refusal", "role", "annotations", "audio", "function_call", "tool_calls", "reasoning")
    _nested = {"tool_calls": [ChatCompletionMessageToolCall], "function_call": FunctionCall, "reasoning": Reasoning}
    content: Optional[str]
    refusal: Optional[str]
    role: str
    annotations: Optional[List[Any]]
    audio: Optional[Any]
    function_call: Optional[FunctionCall]
    tool_calls: Optional[List[ChatCompletionMessageToolCall]]
    reasoning: Optional[Reasoning]


class ParsedChatCompletionMessage(ChatCompletionMessage):
    _fields = ChatCompletionMessage._fields + ("parsed",)
    parsed: Any


class TopLogprob(Model):
    _fields = ("token", "bytes", "logprob")
    token: str
    bytes: Optional[List[int]]
    logprob: float


class ChatCompletionTokenLogprob(Model):
    _fields = ("token", "bytes", "logprob", "top_logprobs")
    _nested = {"top_logprobs": [TopLogprob]}
    token: str
    bytes: Optional[List[int]]
    logprob: float
    top_logprobs: List[TopLogprob]


class ChoiceLogprobs(Model):
    _fields = ("content", "refusal")
    _nested = {"content": [ChatCompletionTokenLogprob], "refusal": [ChatCompletionTokenLogprob]}
    content: Optional[List[ChatCompletionTokenLogprob]]
    refusal: Optional[List[ChatCompletionTokenLogprob]]


class Choice(Model):
    _fields = ("finish_reason", "index", "logprobs", "message")
    _nested = {"message": ChatCompletionMessage, "logprobs": ChoiceLogprobs}
    finish_reason: Optional[str]
    index: int
    logprobs: Optional[ChoiceLogprobs]
    message: ChatCompletionMessage


class ParsedChoice(Choice):
    _nested = {"message": ParsedChatCompletionMessage, "logprobs": ChoiceLogprobs}
    message: ParsedChatCompletionMessage


class CompletionTokensDetails(Model):
    _fields = ("accepted_prediction_tokens", "audio_tokens", "reasoning_tokens", "rejected_prediction_tokens")
    accepted_prediction_tokens: Optional[int]
    audio_tokens: Optional[int]
    reasoning_tokens: Optional[int]
    rejected_prediction_tokens: Optional[int]


class PromptTokensDetails(Model):
    _fields = ("audio_tokens", "cached_tokens")
    audio_tokens: Optional[int]
    cached_tokens: Optional[int]


class CompletionUsage(Model):
    _fields = ("completion_tokens", "prompt_tokens", "total_tokens", "completion_tokens_details",
               "prompt_tokens_details")
    _nested = {"completion_tokens_details": CompletionTokensDetails, "prompt_tokens_details": PromptTokensDetails}
    completion_tokens: int
    prompt_tokens: int
    total_tokens: int
    completion_tokens_details: Optional[CompletionTokensDetails]
    prompt_tokens_details: Optional[PromptTokensDetails]


class ChatCompletion(Model):
    """A completion: `choices[0].message.content`, `.tool_calls`, `.reasoning`; `usage`."""

    _fields = ("id", "choices", "created", "model", "object", "service_tier", "system_fingerprint", "usage")
    _nested = {"choices": [Choice], "usage": CompletionUsage}
    id: str
    choices: List[Choice]
    created: int
    model: str
    object: str
    service_tier: Optional[str]
    system_fingerprint: Optional[str]
    usage: Optional[CompletionUsage]


class ParsedChatCompletion(ChatCompletion):
    """A completion whose `choices[i].message.parsed` is an instance of the response_format class."""

    _nested = {"choices": [ParsedChoice], "usage": CompletionUsage}
    choices: List[ParsedChoice]  # type: ignore[assignment]


class ChoiceDeltaToolCallFunction(Model):
    _fields = ("arguments", "name")
    arguments: Optional[str]
    name: Optional[str]


class ChoiceDeltaToolCall(Model):
    _fields = ("index", "id", "function", "type")
    _nested = {"function": ChoiceDeltaToolCallFunction}
    index: int
    id: Optional[str]
    function: Optional[ChoiceDeltaToolCallFunction]
    type: Optional[str]


class ChoiceDeltaFunctionCall(Model):
    _fields = ("arguments", "name")
    arguments: Optional[str]
    name: Optional[str]


class ChoiceDelta(Model):
    _fields = ("content", "function_call", "refusal", "role", "tool_calls", "reasoning")
    _nested = {"tool_calls": [ChoiceDeltaToolCall], "function_call": ChoiceDeltaFunctionCall, "reasoning": Reasoning}
    content: Optional[str]
    function_call: Optional[ChoiceDeltaFunctionCall]
    refusal: Optional[str]
    role: Optional[str]
    tool_calls: Optional[List[ChoiceDeltaToolCall]]
    reasoning: Optional[Reasoning]


class ChunkChoice(Model):
    _fields = ("delta", "finish_reason", "index", "logprobs")
    _nested = {"delta": ChoiceDelta, "logprobs": ChoiceLogprobs}
    delta: ChoiceDelta
    finish_reason: Optional[str]
    index: int
    logprobs: Optional[ChoiceLogprobs]


class ChatCompletionChunk(Model):
    """One streamed piece: `choices[0].delta.content`, `.tool_calls`, `.reasoning`; `usage` at the end."""

    _fields = ("id", "choices", "created", "model", "object", "service_tier", "system_fingerprint", "usage")
    _nested = {"choices": [ChunkChoice], "usage": CompletionUsage}
    id: str
    choices: List[ChunkChoice]
    created: int
    model: str
    object: str
    service_tier: Optional[str]
    system_fingerprint: Optional[str]
    usage: Optional[CompletionUsage]

    @classmethod
    def _from_json(cls, d: dict) -> "ChatCompletionChunk":
        """Builds a chunk from a dict that json.loads just made, taking it over: when building
        would convert nothing (no nested object set, no extra object: plain content deltas, a
        finish reason, scalar extras such as OpenAI's `obfuscation` padding), the dicts become
        the objects' own __dict__s instead of being copied key by key. Anything else (tool calls,
        reasoning, logprobs, usage, extra objects) takes _take's general path. A stream
        builds thousands of these."""
        choices = d.get("choices")
        if choices.__class__ is list:
            out = []
            for c in choices:
                if c.__class__ is dict:
                    delta = c.get("delta")
                    if delta.__class__ is dict:
                        if _PLAIN_DELTA.issuperset(delta) or _plain(delta, _DELTA_NESTED):
                            o = _new(ChoiceDelta)
                            o.__dict__ = delta
                            c["delta"] = o
                        else:
                            c["delta"] = ChoiceDelta._take(delta)
                    if c.get("logprobs") is None and (_CHOICE_KEYS.issuperset(c) or _plain(c, _CHOICE_NESTED, "delta")):
                        o = _new(ChunkChoice)
                        o.__dict__ = c
                        c = o
                    else:
                        c = ChunkChoice._take(c)  # its delta is an object already: kept
                out.append(c)
            d["choices"] = out
        if d.get("usage") is None and (_CHUNK_FAST.issuperset(d) and d.get("obfuscation").__class__ is not dict
                                       or _plain(d, _CHUNK_NESTED, "choices")):
            o = _new(cls)
            o.__dict__ = d
            return o
        return cls._take(d)  # the choices are objects already: kept as they are


def _plain(d: dict, nested: dict, done: str = "") -> bool:
    """True when Model._fill would keep every value of d as it is: no dict value (it would become
    an object) and no nested field set, except `done`, converted already."""
    for k, v in d.items():
        if v is not None and (v.__class__ is dict or k in nested) and k != done:
            return False
    return True


_new = object.__new__
_PLAIN_DELTA = frozenset(("content", "role", "refusal"))  # deltas with no nested object
_CHOICE_KEYS = frozenset(ChunkChoice._fields)
# The chunk's fields, and OpenAI's `obfuscation`: a string of random padding on every streamed
# chunk (by default since 2025), kept as an extra attribute as the SDK keeps it. Tested as part
# of one set, it costs the common chunk nothing; _plain's loop would cost it half a microsecond.
_CHUNK_FAST = frozenset(ChatCompletionChunk._fields + ("obfuscation",))
_DELTA_NESTED = ChoiceDelta._nested
_CHOICE_NESTED = ChunkChoice._nested
_CHUNK_NESTED = ChatCompletionChunk._nested


__all__ = [
    "Model", "ChatCompletion", "ParsedChatCompletion", "Choice", "ParsedChoice", "ChatCompletionMessage",
    "ParsedChatCompletionMessage", "ChatCompletionMessageToolCall", "Function", "FunctionCall", "Reasoning",
    "CompletionUsage", "CompletionTokensDetails", "PromptTokensDetails", "ChatCompletionChunk", "ChunkChoice",
    "ChoiceDelta", "ChoiceDeltaToolCall", "ChoiceDeltaToolCallFunction", "ChoiceDeltaFunctionCall",
    "ChoiceLogprobs", "ChatCompletionTokenLogprob", "TopLogprob", "Extra",
]
