"""Python type hints -> JSON Schema (for tool parameters and dataclass response formats).

Handles str, int, float, bool, None, Any, Optional/Union (also `X | Y`), list/set/tuple/Sequence,
dict/Mapping, Literal, Enum, Annotated (a string annotation becomes the description), dataclasses,
TypedDicts, Pydantic models, datetime/date/time/UUID/Decimal/bytes. Named classes (dataclasses,
TypedDicts, Pydantic models) go into "$defs" and are referenced, which also covers recursion.
"""

from __future__ import annotations

import typing

_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


class SchemaBuilder:
    """Builds schemas that share one "$defs" table (put it at the root with root())."""

    def __init__(self) -> None:
        self.defs: dict = {}

    def root(self, schema: dict) -> dict:
        """The finished schema: references inlined, "$defs" kept only for recursive classes."""
        if not self.defs:
            return schema
        kept: dict = {}
        out = _inline(schema, self.defs, (), kept)
        if kept:
            out = dict(out)
            out["$defs"] = kept
        return out

    def of(self, tp) -> dict:
        """The schema of one type annotation."""
        if tp is typing.Any or tp is object:
            return {}
        if tp is None:
            return {"type": "null"}
        if isinstance(tp, (str, typing.ForwardRef)):
            return {}  # an unresolved forward reference: accept anything
        if tp in _PRIMITIVES:
            return {"type": _PRIMITIVES[tp]}
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            schema = dict(self.of(args[0]))
            for meta in args[1:]:
                if isinstance(meta, str):
                    schema["description"] = meta
                elif hasattr(meta, "description") and isinstance(getattr(meta, "description"), str):
                    schema["description"] = meta.description  # pydantic.Field(description=...)
            return schema
        if origin is typing.Union or _is_union_type(origin):
            return self._union(args)
        if origin is typing.Literal:
            return _literal(args)
        if origin is not None:
            return self._generic(origin, args)
        if isinstance(tp, type):
            return self._class(tp)
        if isinstance(tp, typing.TypeVar):
            return self.of(tp.__bound__) if tp.__bound__ is not None else {}
        return {}

    def _union(self, args) -> dict:
        non_null = [a for a in args if a is not type(None)]
        nullable = len(non_null) < len(args)
        parts = [self.of(a) for a in non_null]
        if len(parts) == 1 and not nullable:
            return parts[0]
        simple = all(set(p) == {"type"} and isinstance(p["type"], str) for p in parts)
        if simple:
            types = [p["type"] for p in parts] + (["null"] if nullable else [])
            return {"type": types[0] if len(types) == 1 else types}
        return {"anyOf": parts + ([{"type": "null"}] if nullable else [])}

    def _generic(self, origin, args) -> dict:
        import collections.abc as abc

        if origin in (list, set, frozenset, abc.Sequence, abc.MutableSequence, abc.Set, abc.MutableSet,
                      abc.Iterable, abc.Collection):
            schema: dict = {"type": "array"}
            if args:
                schema["items"] = self.of(args[0])
            if origin in (set, frozenset, abc.Set, abc.MutableSet):
                schema["uniqueItems"] = True
            return schema
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.of(args[0])}
            if args == ((),):
                return {"type": "array", "maxItems": 0}
            return {"type": "array", "prefixItems": [self.of(a) for a in args], "minItems": len(args),
                    "maxItems": len(args)}
        if origin in (dict, abc.Mapping, abc.MutableMapping):
            schema = {"type": "object"}
            if len(args) == 2:
                schema["additionalProperties"] = self.of(args[1])
            return schema
        if origin is type:
            return {"type": "string"}
        return self.of(origin)

    def _class(self, cls) -> dict:
        import collections.abc as abc

        if cls in (list, set, frozenset, tuple) or cls in (abc.Sequence, abc.Set):
            return {"type": "array"}
        if cls in (dict, abc.Mapping):
            return {"type": "object"}
        if cls in (bytes, bytearray):
            return {"type": "string"}
        special = _special_format(cls)
        if special:
            return special
        if _is_enum(cls):
            values = [m.value for m in cls]
            schema = _literal(values)
            if cls.__doc__ and cls.__doc__ != "An enumeration.":
                schema["description"] = _first_paragraph(cls.__doc__)
            return schema
        if hasattr(cls, "model_json_schema"):  # Pydantic v2 model, without importing pydantic
            return self._pydantic(cls)
        if hasattr(cls, "__dataclass_fields__") or _is_typeddict(cls):
            return self._ref(cls, self._object_class)
        for base, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
            if issubclass(cls, base):
                return {"type": name}
        return {}

    def _ref(self, cls, build) -> dict:
        name = cls.__name__
        if name not in self.defs:
            self.defs[name] = {}  # placeholder: a recursive reference finds it
            self.defs[name] = build(cls)
        return {"$ref": "#/$defs/" + name}

    def _pydantic(self, cls) -> dict:
        schema = cls.model_json_schema(ref_template="#/$defs/{model}")
        for k, v in schema.pop("$defs", {}).items():
            self.defs.setdefault(k, v)
        self.defs.setdefault(cls.__name__, schema)
        return {"$ref": "#/$defs/" + cls.__name__}

    def _object_class(self, cls) -> dict:
        """A dataclass or TypedDict as an object schema (descriptions from its docstring)."""
        from . import _docstrings

        hints = _type_hints(cls)
        summary, docs = _docstrings.parse(_own_doc(cls))
        props, required = {}, []
        if hasattr(cls, "__dataclass_fields__"):
            import dataclasses

            for f in dataclasses.fields(cls):
                if not f.init:
                    continue
                props[f.name] = self._described(hints.get(f.name, typing.Any), docs.get(f.name))
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    required.append(f.name)
        else:
            required_keys = getattr(cls, "__required_keys__", set(hints))
            for name, tp in hints.items():
                props[name] = self._described(tp, docs.get(name))
                if name in required_keys:
                    required.append(name)
        schema = {"type": "object", "properties": props, "required": required}
        if summary:
            schema["description"] = summary
        return schema

    def _described(self, tp, description) -> dict:
        schema = self.of(tp)
        if description and "description" not in schema:
            schema = {**schema, "description": description}
        return schema


def _inline(node, defs: dict, chain: tuple, kept: dict):
    """Replaces {"$ref": "#/$defs/X", ...} by X's schema (merged with the sibling keys), except
    inside X itself (recursion), where the reference stays and X is kept in `kept`."""
    if isinstance(node, list):
        return [_inline(x, defs, chain, kept) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs:
        name = ref[8:]
        siblings = {k: _inline(v, defs, chain, kept) for k, v in node.items() if k != "$ref"}
        if name in chain:
            if name not in kept:
                kept[name] = None  # placeholder while it is being expanded
                kept[name] = _inline(defs[name], defs, (name,), kept)
            return {"$ref": ref, **siblings}
        target = _inline(defs[name], defs, chain + (name,), kept)
        return {**target, **siblings}
    return {k: _inline(v, defs, chain, kept) for k, v in node.items() if k != "$defs"}


def _is_union_type(origin) -> bool:
    import types

    return getattr(types, "UnionType", None) is origin


def _literal(values) -> dict:
    values = list(values)
    kinds = {_PRIMITIVES.get(type(v)) for v in values}
    schema = {"enum": values}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), "enum": values}
    return schema


def _is_enum(cls) -> bool:
    import enum

    return issubclass(cls, enum.Enum)


def _is_typeddict(cls) -> bool:
    return isinstance(cls, type) and issubclass(cls, dict) and hasattr(cls, "__total__")


def _special_format(cls):
    import datetime
    import decimal
    import uuid

    formats = {datetime.datetime: "date-time", datetime.date: "date", datetime.time: "time",
               uuid.UUID: "uuid", datetime.timedelta: "duration"}
    if cls in formats:
        return {"type": "string", "format": formats[cls]}
    if cls is decimal.Decimal:
        return {"type": "number"}
    return None


def _type_hints(obj) -> dict:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception:
        return dict(getattr(obj, "__annotations__", {}))


def _own_doc(cls):
    doc = cls.__doc__
    if doc and hasattr(cls, "__dataclass_fields__") and doc.startswith(cls.__name__ + "("):
        return None  # the signature dataclasses writes when the class has no docstring
    return doc


def _first_paragraph(doc: str) -> str:
    from . import _docstrings

    return _docstrings.parse(doc)[0]


def type_hints(obj) -> dict:
    return _type_hints(obj)
