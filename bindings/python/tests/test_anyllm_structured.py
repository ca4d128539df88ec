"""Structured output: response_format as a Pydantic class, a dataclass, or a JSON-schema dict."""

import enum
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import List, Optional

import pytest

import anyllm
from anyllm import completion
from anyllm_testlib import KEY, child_env, last_request


def test_any_llm_structured_output_example(emu):
    pydantic = pytest.importorskip("pydantic")

    class CityInfo(pydantic.BaseModel):
        name: str
        country: str
        population: int

    response = completion(
        model="replay:city",  # the emulator answers the recorded JSON (any-llm's example: gpt-4.1-mini)
        provider="openai",
        messages=[{"role": "user", "content": "Tell me about Paris."}],
        response_format=CityInfo,
        api_base=emu + "/v1", api_key=KEY,
    )
    city = response.choices[0].message.parsed
    print(f"{city.name}, {city.country} - pop. {city.population}")
    assert isinstance(response, anyllm.ParsedChatCompletion)
    assert city == CityInfo(name="Paris", country="France", population=2102650)
    rf = last_request(emu)["body"]["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["name"] == "CityInfo"
    schema = rf["json_schema"]["schema"]
    assert schema["required"] == ["name", "country", "population"] and schema["additionalProperties"] is False
    assert response.model_dump()["choices"][0]["message"]["parsed"] == {
        "name": "Paris", "country": "France", "population": 2102650}


class Mood(enum.Enum):
    RELAXED = "relaxed"
    BUSY = "busy"


@dataclass
class Stop:
    city: str
    nights: int


@dataclass
class Trip:
    title: str
    stops: List[Stop]
    mood: Mood
    budget: Optional[float] = None


def test_dataclass_response_format(kw, emu):
    r = completion("replay:trip", "plan a trip", response_format=Trip, **kw)
    assert r.choices[0].message.parsed == Trip("Weekend", [Stop("Lyon", 2), Stop("Nice", 1)], Mood.RELAXED, None)
    schema = last_request(emu)["body"]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["stops"]["items"]["required"] == ["city", "nights"]
    assert schema["properties"]["mood"] == {"type": "string", "enum": ["relaxed", "busy"]}
    assert schema["required"] == ["title", "stops", "mood", "budget"]  # strict: every property required
    assert schema["properties"]["budget"] == {"type": ["number", "null"]}


def test_dict_response_format_passes_through(kw, emu):
    rf = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    r = completion("replay:city", "x", response_format=rf, **kw)
    assert last_request(emu)["body"]["response_format"] == rf
    assert type(r) is anyllm.ChatCompletion  # no class to parse into: a plain completion
    completion("gpt-4o-mini", "x", response_format={"type": "json_object"}, **kw)
    assert last_request(emu)["body"]["response_format"] == {"type": "json_object"}


def test_pydantic_is_imported_only_when_used(emu):
    code = textwrap.dedent("""
        import sys
        from dataclasses import dataclass
        import anyllm

        @dataclass
        class City:
            name: str
            country: str
            population: int

        r = anyllm.completion("replay:city", "x", response_format=City, provider="openai",
                              api_base=sys.argv[1], api_key="sk-test-key")
        assert r.choices[0].message.parsed == City("Paris", "France", 2102650)
        assert "pydantic" not in sys.modules, "pydantic was imported"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code, emu + "/v1"], env=child_env(), capture_output=True, text=True,
                         timeout=30)
    assert out.stdout.strip() == "ok", out.stderr
