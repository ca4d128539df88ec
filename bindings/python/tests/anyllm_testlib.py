"""Helpers shared by the anyllm binding tests (conftest.py holds the fixtures).

Which anyllm is tested: ANYLLM_TEST_INSTALLED=1 -> the pip-installed package, =0 -> this source tree
(bindings/python). Unset: the source tree when ANYLLM_LIBRARY is set (tools/test_all.sh) or no
package is installed, else the installed one. The library comes from $ANYLLM_LIBRARY, the
package's own copy, or the repository's build/lib (see anyllm/_lib.py).
"""

import json
import os
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
EMULATOR_DIR = os.path.join(REPO, "Tests", "emulator")



def _use_source_tree():
    choice = os.environ.get("ANYLLM_TEST_INSTALLED")
    if choice:
        return choice == "0"
    if os.environ.get("ANYLLM_LIBRARY"):
        return True
    import importlib.util

    return importlib.util.find_spec("anyllm") is None


if _use_source_tree():
    sys.path.insert(0, PACKAGE_ROOT)
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)

import anyllm  # noqa: E402

KEY = "sk-test-0123456789abcdef"

# Recorded answers served by the emulator's replay:NAME models (structured output needs JSON content).
FIXTURES = {
    "city": {"name": "Paris", "country": "France", "population": 2102650},
    "trip": {"title": "Weekend", "stops": [{"city": "Lyon", "nights": 2}, {"city": "Nice", "nights": 1}],
             "mood": "relaxed", "budget": None},
}


def write_fixtures(root):
    folder = os.path.join(root, "openai")
    os.makedirs(folder, exist_ok=True)
    for name, content in FIXTURES.items():
        body = {
            "id": "chatcmpl-replay-" + name, "object": "chat.completion", "created": 1700000000, "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": json.dumps(content), "refusal": None}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22},
        }
        fixture = {"provider": "openai", "stream": False,
                   "request": {"method": "POST", "uri": "https://api.openai.com/v1/chat/completions", "body": None},
                   "response": {"status": 200, "content_type": "application/json", "body_text": json.dumps(body)}}
        with open(os.path.join(folder, name + ".json"), "w") as f:
            json.dump(fixture, f)


def last_request(base):
    """The last request the emulator received: {"method", "path", "query", "headers", "body"}."""
    with urllib.request.urlopen(base + "/_emulator/last_request", timeout=5) as r:
        return json.loads(r.read())


def wait_no_calls(timeout=2.0):
    """Waits until no call is in flight in this process; returns the seconds it took."""
    import time

    from anyllm import _pull

    t0 = time.monotonic()
    while _pull.live_count() and time.monotonic() - t0 < timeout:
        time.sleep(0.002)
    assert _pull.live_count() == 0, "a call is still running"
    return time.monotonic() - t0


def child_env():
    """Environment for a child Python that must import the same anyllm as this process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(anyllm.__file__)), EMULATOR_DIR,
                                         env.get("PYTHONPATH", "")])
    return env
