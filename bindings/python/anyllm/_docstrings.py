"""Reading a docstring: its summary and per-parameter descriptions (Google, NumPy, reST, Epytext)."""

from __future__ import annotations

import re

_GOOGLE_PARAM_SECTIONS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments",
                          "kwargs", "other parameters", "attributes", "fields"}
_GOOGLE_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_NUMPY_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_NUMPY_ENTRY = re.compile(r"^\*{0,2}([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*\*{0,2}[A-Za-z_][A-Za-z0-9_]*)*)\s*(?::\s*(.*))?$")
_FIELD = re.compile(r"^\s*[:@](param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?\*{0,2}([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")
_ANY_FIELD = re.compile(r"^\s*[:@][A-Za-z]")


def parse(doc) -> tuple:
    """(summary, {parameter name: description}) of a docstring; ("", {}) for None."""
    if not doc:
        return "", {}
    import inspect

    lines = inspect.cleandoc(doc).splitlines()
    return _summary(lines), {**_numpy(lines), **_google(lines), **_fields(lines)}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_section_start(lines: list, i: int) -> bool:
    line = lines[i]
    if _ANY_FIELD.match(line):
        return True
    if _GOOGLE_HEADER.match(line) and _indent(line) == 0:
        return True
    return i + 1 < len(lines) and bool(_NUMPY_UNDERLINE.match(lines[i + 1])) and line.strip() != ""


def _summary(lines: list) -> str:
    """The first paragraph, unless the docstring starts with a section."""
    out = []
    for i, line in enumerate(lines):
        if not line.strip() or _is_section_start(lines, i):
            break
        out.append(line.strip())
    return " ".join(out)


def _join(parts: list) -> str:
    return " ".join(p.strip() for p in parts if p.strip())


def _google(lines: list) -> dict:
    out: dict = {}
    i = 0
    while i < len(lines):
        m = _GOOGLE_HEADER.match(lines[i])
        if not (m and m.group(1).strip().lower() in _GOOGLE_PARAM_SECTIONS):
            i += 1
            continue
        base = _indent(lines[i])
        i += 1
        entry_indent = None
        name = None
        while i < len(lines):
            line = lines[i]
            if line.strip() and _indent(line) <= base:
                break  # the next section
            if not line.strip():
                i += 1
                continue
            ind = _indent(line)
            if entry_indent is None:
                entry_indent = ind
            e = _GOOGLE_ENTRY.match(line.strip()) if ind == entry_indent else None
            if e:
                name = e.group(1)
                out[name] = e.group(3).strip()
            elif name is not None:
                out[name] = _join([out[name], line])
            i += 1
    return out


def _numpy(lines: list) -> dict:
    out: dict = {}
    i = 0
    while i + 1 < len(lines):
        title = lines[i].strip().lower()
        if not (_NUMPY_UNDERLINE.match(lines[i + 1]) and title in _GOOGLE_PARAM_SECTIONS):
            i += 1
            continue
        base = _indent(lines[i])
        i += 2
        names: list = []
        while i < len(lines):
            line = lines[i]
            if i + 1 < len(lines) and _NUMPY_UNDERLINE.match(lines[i + 1]) and line.strip():
                break  # the next section
            if not line.strip():
                i += 1
                continue
            if _indent(line) <= base:
                e = _NUMPY_ENTRY.match(line.strip())
                if not e:
                    break
                names = [n.strip().lstrip("*") for n in e.group(1).split(",")]
                for n in names:
                    out[n] = ""
            elif names:
                for n in names:
                    out[n] = _join([out[n], line])
            i += 1
    return out


def _fields(lines: list) -> dict:
    out: dict = {}
    name = None
    base = 0
    for line in lines:
        m = _FIELD.match(line)
        if m:
            name, base = m.group(2), _indent(line)
            out[name] = m.group(3).strip()
        elif name is not None and line.strip() and _indent(line) > base and not _ANY_FIELD.match(line):
            out[name] = _join([out[name], line])
        else:
            name = None
    return out
