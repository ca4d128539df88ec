"""Tools: callables -> JSON Schema from type hints and docstrings; tool dicts pass through."""

import enum
import json
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any, Dict, List, Literal, Optional, Tuple, TypedDict, Union

import pytest

from anyllm import completion
from anyllm._tools import callable_to_tool
from anyllm_testlib import last_request


def params(fn):
    return callable_to_tool(fn)["function"]["parameters"]


def test_any_llm_example_tool():
    def get_weather(location: str, unit: str = "F") -> str:
        """Get weather information for a location.

        Args:
            location: The city or location to get weather for
            unit: Temperature unit, either 'C' or 'F'

        Returns:
            Current weather description
        """
        return ""

    assert callable_to_tool(get_weather) == {"type": "function", "function": {
        "name": "get_weather",
        "description": "Get weather information for a location.",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "The city or location to get weather for"},
            "unit": {"type": "string", "description": "Temperature unit, either 'C' or 'F'"}},
            "required": ["location"]}}}


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclass
class Point:
    """A point.

    Attributes:
        x: horizontal
    """

    x: float
    y: float = 0.0
    tags: List[str] = field(default_factory=list)


class Filters(TypedDict, total=False):
    lang: str
    year: int


def test_types():
    def f(a: int, b: float, c: bool, d: str, e: Optional[int], g: Union[int, str], h: List[int], i: list[str],
          j: Dict[str, float], k: dict, l: Literal["x", "y"], m: Color, n: Level, o: Point, p: Tuple[int, str],
          q: Any, r, s: Optional[List[Point]] = None, t: int = 3, u: Filters = None, v: set[int] = None,
          w: Annotated[str, "described by Annotated"] = "", *args, **kwargs):
        pass

    p = params(f)
    props = p["properties"]
    assert props["a"] == {"type": "integer"} and props["b"] == {"type": "number"}
    assert props["c"] == {"type": "boolean"} and props["d"] == {"type": "string"}
    assert props["e"] == {"type": ["integer", "null"]}
    assert props["g"] == {"type": ["integer", "string"]}
    assert props["h"] == {"type": "array", "items": {"type": "integer"}}
    assert props["i"] == {"type": "array", "items": {"type": "string"}}
    assert props["j"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["k"] == {"type": "object"}
    assert props["l"] == {"type": "string", "enum": ["x", "y"]}
    assert props["m"] == {"type": "string", "enum": ["red", "blue"]}
    assert props["n"] == {"type": "integer", "enum": [1, 2]}
    point = {"type": "object", "description": "A point.",
             "properties": {"x": {"type": "number", "description": "horizontal"}, "y": {"type": "number"},
                            "tags": {"type": "array", "items": {"type": "string"}}},
             "required": ["x"]}
    assert props["o"] == point
    assert props["p"] == {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                          "minItems": 2, "maxItems": 2}
    assert props["q"] == {} and props["r"] == {"type": "string"}
    assert props["s"] == {"anyOf": [{"type": "array", "items": point}, {"type": "null"}]}
    assert props["u"] == {"type": "object", "properties": {"lang": {"type": "string"}, "year": {"type": "integer"}},
                          "required": []}
    assert props["v"] == {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}
    assert props["w"] == {"type": "string", "description": "described by Annotated"}
    assert p["required"] == list("abcdegh") + list("ijklmnopqr")
    assert "args" not in props and "kwargs" not in props and "$defs" not in p


@pytest.mark.skipif(sys.version_info < (3, 10), reason="X | Y needs Python 3.10")
def test_pep604_unions():
    ns = {}
    exec("def f(a: int | None, b: str | int): pass", ns)
    props = params(ns["f"])["properties"]
    assert props["a"] == {"type": ["integer", "null"]} and props["b"] == {"type": ["string", "integer"]}


def test_recursive_dataclass_keeps_a_reference():
    @dataclass
    class Node:
        name: str
        children: "List[Node]"

    globals()["Node"] = Node  # resolvable forward reference
    try:
        def walk(root: Node) -> None:
            """Walks a tree."""

        p = params(walk)
    finally:
        del globals()["Node"]
    node = {"type": "object", "properties": {"name": {"type": "string"},
                                             "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            "required": ["name", "children"]}
    assert p["properties"]["root"] == node  # inlined once; the recursion refers to $defs
    assert p["$defs"] == {"Node": node}


def test_pydantic_parameter():
    pydantic = pytest.importorskip("pydantic")

    class Address(pydantic.BaseModel):
        street: str
        zip_code: Optional[str] = None

    class Person(pydantic.BaseModel):
        name: str = pydantic.Field(description="full name")
        address: Address

    def register(person: Person, notify: bool = False) -> str:
        """Registers a person."""

    p = params(register)
    person = p["properties"]["person"]
    assert person["type"] == "object" and person["required"] == ["name", "address"]
    assert person["properties"]["name"]["description"] == "full name"
    assert person["properties"]["address"]["properties"]["street"] == {"title": "Street", "type": "string"}
    assert "$defs" not in p and "$ref" not in json.dumps(p)
    assert p["required"] == ["person"]


def test_google_numpy_rest_docstrings():
    def google(a: int, b: str) -> None:
        """Google style summary
        on two lines.

        More text that is not the summary.

        Args:
            a (int): first
                continued.
            b: second
        """

    def numpy(a: int, b: str) -> None:
        """NumPy style summary.

        Parameters
        ----------
        a : int
            first
            continued.
        b : str
            second

        Returns
        -------
        None
        """

    def rest(a: int, b: str) -> None:
        """reST style summary.

        :param a: first
            continued.
        :type a: int
        :param str b: second
        :returns: nothing
        """

    for fn, summary in ((google, "Google style summary on two lines."), (numpy, "NumPy style summary."),
                        (rest, "reST style summary.")):
        t = callable_to_tool(fn)["function"]
        assert t["description"] == summary
        assert t["parameters"]["properties"]["a"]["description"] == "first continued."
        assert t["parameters"]["properties"]["b"]["description"] == "second"


def test_callable_objects_and_no_docstring():
    class Adder:
        def __call__(self, x: int, y: int = 1) -> int:
            return x + y

    t = callable_to_tool(Adder())["function"]
    assert t["name"] == "Adder" and t["parameters"]["required"] == ["x"]

    def bare(x):
        pass

    assert callable_to_tool(bare)["function"] == {
        "name": "bare", "parameters": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}}


def test_tool_dicts_pass_through(kw, emu):
    tool = {"type": "function", "function": {"name": "search", "description": "d", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}
    r = completion("gpt-4o-mini", "find", tools=[tool], tool_choice="auto", **kw)
    assert r.choices[0].message.tool_calls[0].function.arguments == '{"q":"Paris"}'
    body = last_request(emu)["body"]
    assert body["tools"] == [tool] and body["tool_choice"] == "auto"


def test_parallel_tool_calls_and_tool_choice(kw):
    def a(city: str) -> str:
        """A."""

    def b(n: int) -> str:
        """B."""

    r = completion("parallel", "go", tools=[a, b], **kw)
    calls = r.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["a", "b"]
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"}, {"n": 42}]
    r = completion("gpt-4o-mini", "go", tools=[a, b], tool_choice={"type": "function", "function": {"name": "b"}},
                   **kw)
    assert r.choices[0].message.tool_calls[0].function.name == "b"
