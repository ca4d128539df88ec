"""Structured output: a response_format class (Pydantic model or dataclass) becomes a json_schema
request, and the answer's content becomes an instance of that class (`message.parsed`).
Pydantic is never imported here: a Pydantic class is recognised by its methods."""

from __future__ import annotations


def is_pydantic(cls) -> bool:
    return isinstance(cls, type) and hasattr(cls, "model_json_schema") and hasattr(cls, "model_validate_json")


def is_dataclass(cls) -> bool:
    return isinstance(cls, type) and hasattr(cls, "__dataclass_fields__")


def response_format(cls) -> dict:
    """The request's response_format for a class: {"type": "json_schema", "json_schema": {...}}."""
    from . import _schema

    if is_pydantic(cls):
        builder = _schema.SchemaBuilder()
        schema = builder.root(builder.of(cls))
    elif is_dataclass(cls):
        builder = _schema.SchemaBuilder()
        schema = builder.root(builder.of(cls))
    else:
        raise TypeError("response_format must be a dict, a Pydantic model class or a dataclass, got %r" % (cls,))
    return {"type": "json_schema", "json_schema": {"name": cls.__name__, "schema": _strict(schema), "strict": True}}


def _strict(node):
    """OpenAI's strict mode: every object closed (additionalProperties false) with every property
    required; defaults dropped (they cannot apply when every property is required)."""
    if isinstance(node, list):
        return [_strict(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if k != "default"}
    if out.get("type") == "object" and isinstance(out.get("properties"), dict):
        out["additionalProperties"] = False
        out["required"] = list(out["properties"])
    return out


def parse(cls, content):
    """The content of an answer as an instance of cls (None when there is no content)."""
    if content is None:
        return None
    if is_pydantic(cls):
        return cls.model_validate_json(content)
    import json

    return build(cls, json.loads(content))


def build(tp, value):
    """A value of type tp from decoded JSON: dataclasses, lists, dicts, Optional, Enums, tuples."""
    import typing

    from . import _schema

    if value is None:
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return build(args[0], value)
    if origin is typing.Union or _schema._is_union_type(origin):
        for a in args:
            if a is type(None):
                continue
            try:
                return build(a, value)
            except (TypeError, ValueError, KeyError):
                continue
        return value
    if origin in (list, set, frozenset, tuple) and isinstance(value, list):
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return tuple(build(a, v) for a, v in zip(args, value))
        item = args[0] if args else typing.Any
        return origin(build(item, v) for v in value)
    if origin is dict and isinstance(value, dict):
        vt = args[1] if len(args) == 2 else typing.Any
        return {k: build(vt, v) for k, v in value.items()}
    if isinstance(tp, type):
        if is_dataclass(tp):
            if not isinstance(value, dict):
                raise TypeError("expected an object for %s" % tp.__name__)
            import dataclasses

            hints = _schema.type_hints(tp)
            names = {f.name for f in dataclasses.fields(tp) if f.init}
            return tp(**{k: build(hints.get(k, typing.Any), v) for k, v in value.items() if k in names})
        if is_pydantic(tp):
            return tp.model_validate(value)
        if _schema._is_enum(tp):
            return tp(value)
        if tp is float and isinstance(value, int):
            return float(value)
        if tp in (int, str, bool, float) and not isinstance(value, tp):
            raise TypeError("expected %s, got %r" % (tp.__name__, value))
    return value
