"""Tools: OpenAI tool dicts pass through; Python callables become function tools whose parameter
schema comes from the type hints and whose descriptions come from the docstring."""

from __future__ import annotations


def to_tool(tool) -> dict:
    """One entry of `tools` as an OpenAI tool dict."""
    if isinstance(tool, dict):
        return tool
    if hasattr(tool, "model_dump") and not isinstance(tool, type):
        return tool.model_dump(exclude_none=True)
    if callable(tool):
        return callable_to_tool(tool)
    raise TypeError("a tool must be an OpenAI tool dict or a callable, got %r" % (tool,))


def callable_to_tool(fn) -> dict:
    """{"type": "function", "function": {"name", "description", "parameters"}} for a Python function."""
    import inspect

    from . import _docstrings, _schema

    target = fn
    if not (inspect.isfunction(fn) or inspect.ismethod(fn) or inspect.isbuiltin(fn)):
        target = getattr(fn, "__call__", fn)  # a callable object: describe its __call__
    name = getattr(fn, "__name__", None) or type(fn).__name__
    summary, param_docs = _docstrings.parse(inspect.getdoc(fn))
    hints = _schema.type_hints(target)
    builder = _schema.SchemaBuilder()
    props, required = {}, []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        tp = hints.get(p.name, p.annotation)
        schema = {"type": "string"} if tp is inspect.Parameter.empty else builder.of(tp)
        if p.name in param_docs and param_docs[p.name] and "description" not in schema:
            schema = {**schema, "description": param_docs[p.name]}
        props[p.name] = schema
        if p.default is inspect.Parameter.empty:
            required.append(p.name)
    parameters = builder.root({"type": "object", "properties": props, "required": required})
    function = {"name": name}
    if summary:
        function["description"] = summary
    function["parameters"] = parameters
    return {"type": "function", "function": function}
