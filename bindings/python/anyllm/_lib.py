"""Finding and loading libanyllm.so, and declaring its C functions for ctypes. Nothing else.

The library is loaded on first use, not at `import anyllm`, so that importing stays cheap.
Search order: $ANYLLM_LIBRARY, the copy inside this package (pip install puts it there), the
repository's build/lib (running from a source checkout), then the dynamic loader's own path.
"""

from __future__ import annotations

import os
import _thread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_lib: Any = None  # the ctypes.CDLL once loaded
_load_lock = _thread.allocate_lock()
_HERE = os.path.dirname(os.path.abspath(__file__))


def candidates() -> list:
    """Where libanyllm.so is looked for, in order."""
    env = os.environ.get("ANYLLM_LIBRARY")
    if env:
        return [env]  # an explicit override is never silently replaced by another copy
    repo_build = os.path.join(_HERE, os.pardir, os.pardir, os.pardir, "build", "lib", "libanyllm.so")
    return [os.path.join(_HERE, "libanyllm.so"), os.path.normpath(repo_build), "libanyllm.so"]


def lib():
    """The loaded library (loading and declaring it the first time)."""
    if _lib is None:
        with _load_lock:
            if _lib is None:
                _load()
    return _lib


def _load() -> None:
    global _lib
    import ctypes

    errors = []
    handle = None
    for path in candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: not found" % path)
            continue
        try:
            handle = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(str(e))
    if handle is None:
        raise OSError("libanyllm.so could not be loaded (set ANYLLM_LIBRARY to its path): " + "; ".join(errors))

    c_void_p, c_char_p, c_int = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    out = ctypes.POINTER(c_void_p)
    for name, restype, argtypes in (
        ("anyllm_version", c_char_p, []),
        ("anyllm_providers", c_void_p, []),
        ("anyllm_client_new", c_void_p, [c_char_p, out]),
        ("anyllm_client_free", None, [c_void_p]),
        ("anyllm_completion_open", c_void_p, [c_void_p, c_char_p]),
        ("anyllm_completion_open_notify", c_void_p, [c_void_p, c_char_p, c_int, ctypes.c_uint64]),
        ("anyllm_call_next", c_int, [c_void_p, c_int, c_void_p, c_void_p]),  # chunks_json, len: byref
        ("anyllm_call_cancel", None, [c_void_p]),
        ("anyllm_call_wait", c_int, [c_void_p, c_void_p]),  # out_json: NULL or byref
        ("anyllm_call_free", None, [c_void_p]),
        ("anyllm_string_free", None, [c_void_p]),
    ):
        fn = getattr(handle, name)
        fn.restype, fn.argtypes = restype, argtypes
    _lib = handle


def take_string(ptr) -> bytes:
    """Copies a string the library returned (a new char *) and frees it."""
    if not ptr:
        return b""
    import ctypes

    try:
        return ctypes.string_at(ptr)
    finally:
        _lib.anyllm_string_free(ptr)


def version() -> str:
    return lib().anyllm_version().decode()


_providers = None


def providers() -> list:
    """The library's provider registry (list of dicts), read once."""
    global _providers
    if _providers is None:
        import json

        _providers = json.loads(take_string(lib().anyllm_providers()))["providers"]
    return _providers
