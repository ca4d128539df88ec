"""The Python clients of the benchmark, driven by bench/bench.py: the anyllm binding and, from the
venv, the openai SDK, any-llm-sdk and litellm, all against the same loopback nginx.

    py_client.py worker CLIENT BASE        persistent; reads commands on stdin, answers one JSON line each
        seq  CLIENT KIND MAXCALLS BUDGET_MS   sequential calls → {"us": [per-call µs, ...]}
        conc CLIENT SECONDS CONCURRENCY       asyncio, CONCURRENCY non-streamed calls in flight → {"requests", "secs", "failed"}
        quit
    py_client.py rss CLIENT BASE KIND CALLS   fresh process: CALLS streams at once (asyncio) → {"rss_base_kb", "rss_peak_kb", ...}
    py_client.py load CLIENT BASE             fresh process: import time, then the first call → {"import_us", "first_call_us"}

CLIENT: anyllm, openai, anyllm_sdk (any-llm-sdk's completion() as documented: a new provider
client per call), anyllm_sdk_reuse (AnyLLM.create once, its client reused), litellm. Every
client is pointed at BASE + the kind's path + "/v1" with a dummy key; every call's result is
read in full (a stream is iterated to its end, and its chunks counted and checked).
"""

import sys
import time

KINDS = {"nonstream": ("", 0), "sse20": ("/sse20", 22), "sse1000": ("/sse1000", 1002)}
MESSAGES = [{"role": "user", "content": "hi"}]
KEY = "sk-bench"


def rss_kb():
    """Peak RSS of this process image, kB (not ru_maxrss, which keeps the forking parent's peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


class Client:
    """One SDK: `call(kind)` runs one call to its end and returns the number of chunks;
    `acall(kind)` the same on asyncio."""

    def __init__(self, base):
        self.base = base

    def url(self, kind):
        return self.base + KINDS[kind][0] + "/v1"


class AnyLLMBinding(Client):
    module = "anyllm"

    def setup(self):
        import anyllm
        self.m = anyllm

    def call(self, kind):
        stream = kind != "nonstream"
        r = self.m.completion(model="openai:gpt-4.1-mini", messages=MESSAGES, api_base=self.url(kind), api_key=KEY,
                              stream=stream)
        if not stream:
            assert r.choices[0].message.content
            return 0
        return sum(1 for _ in r)

    async def acall(self, kind):
        stream = kind != "nonstream"
        r = await self.m.acompletion(model="openai:gpt-4.1-mini", messages=MESSAGES, api_base=self.url(kind),
                                     api_key=KEY, stream=stream)
        if not stream:
            assert r.choices[0].message.content
            return 0
        n = 0
        async for _ in r:
            n += 1
        return n


class OpenAISDK(Client):
    module = "openai"

    def setup(self):
        import openai
        self.m = openai
        self.sync = {k: openai.OpenAI(base_url=self.url(k), api_key=KEY) for k in KINDS}
        self.aio = {}

    @staticmethod
    def _args(kind):
        if kind == "nonstream":
            return {}
        return {"stream": True, "stream_options": {"include_usage": True}}

    def call(self, kind):
        r = self.sync[kind].chat.completions.create(model="gpt-4.1-mini", messages=MESSAGES, **self._args(kind))
        if kind == "nonstream":
            assert r.choices[0].message.content
            return 0
        return sum(1 for _ in r)

    async def acall(self, kind):
        c = self.aio.get(kind)
        if c is None:  # created inside the worker's one event loop, which it stays bound to
            c = self.aio[kind] = self.m.AsyncOpenAI(base_url=self.url(kind), api_key=KEY)
        r = await c.chat.completions.create(model="gpt-4.1-mini", messages=MESSAGES, **self._args(kind))
        if kind == "nonstream":
            assert r.choices[0].message.content
            return 0
        n = 0
        async for _ in r:
            n += 1
        return n


class AnyLLMSDK(Client):
    """any-llm-sdk's documented top-level API: completion(model="openai:...", api_base=...)."""
    module = "any_llm"

    def setup(self):
        import any_llm
        self.m = any_llm

    def call(self, kind):
        stream = kind != "nonstream"
        r = self.m.completion(model="openai:gpt-4.1-mini", messages=MESSAGES, api_base=self.url(kind), api_key=KEY,
                              stream=stream)
        if not stream:
            assert r.choices[0].message.content
            return 0
        return sum(1 for _ in r)

    async def acall(self, kind):
        stream = kind != "nonstream"
        r = await self.m.acompletion(model="openai:gpt-4.1-mini", messages=MESSAGES, api_base=self.url(kind),
                                     api_key=KEY, stream=stream)
        if not stream:
            assert r.choices[0].message.content
            return 0
        n = 0
        async for _ in r:
            n += 1
        return n


class AnyLLMSDKReuse(AnyLLMSDK):
    """any-llm-sdk with one AnyLLM instance per base URL, reused: its HTTP client keeps its
    connections alive (the top-level completion() builds a new client, so a new connection, per call)."""

    def setup(self):
        from any_llm import AnyLLM
        self.sync = {k: AnyLLM.create("openai", api_key=KEY, api_base=self.url(k)) for k in KINDS}
        self.aio = {}
        self.create = AnyLLM.create

    def call(self, kind):
        stream = kind != "nonstream"
        r = self.sync[kind].completion(model="gpt-4.1-mini", messages=MESSAGES, stream=stream)
        if not stream:
            assert r.choices[0].message.content
            return 0
        return sum(1 for _ in r)

    async def acall(self, kind):
        llm = self.aio.get(kind)
        if llm is None:  # its own instance: the sync ones are bound to any-llm's runner loop
            llm = self.aio[kind] = self.create("openai", api_key=KEY, api_base=self.url(kind))
        stream = kind != "nonstream"
        r = await llm.acompletion(model="gpt-4.1-mini", messages=MESSAGES, stream=stream)
        if not stream:
            assert r.choices[0].message.content
            return 0
        n = 0
        async for _ in r:
            n += 1
        return n


class LiteLLM(Client):
    module = "litellm"

    def setup(self):
        import litellm
        litellm.telemetry = False
        litellm.suppress_debug_info = True
        self.m = litellm

    def call(self, kind):
        stream = kind != "nonstream"
        r = self.m.completion(model="openai/gpt-4.1-mini", messages=MESSAGES, api_base=self.url(kind), api_key=KEY,
                              stream=stream)
        if not stream:
            assert r.choices[0].message.content
            return 0
        return sum(1 for _ in r)

    async def acall(self, kind):
        stream = kind != "nonstream"
        r = await self.m.acompletion(model="openai/gpt-4.1-mini", messages=MESSAGES, api_base=self.url(kind),
                                     api_key=KEY, stream=stream)
        if not stream:
            assert r.choices[0].message.content
            return 0
        n = 0
        async for _ in r:
            n += 1
        return n


CLIENTS = {"anyllm": AnyLLMBinding, "openai": OpenAISDK, "anyllm_sdk": AnyLLMSDK, "anyllm_sdk_reuse": AnyLLMSDKReuse,
           "litellm": LiteLLM}


def check_chunks(name, kind, n):
    """Each SDK reports a stream's chunks its own way (anyllm folds the usage chunk into the one
    before it; litellm may drop or merge chunks): the check is that the stream was read, not a count."""
    want = KINDS[kind][1]
    if kind != "nonstream" and n < want * 0.9:
        raise SystemExit(f"{name}: {kind}: only {n} chunks (want about {want})")


def seq(client, name, kind, maxcalls, budget_ms):
    us = []
    perf = time.perf_counter
    start = perf()
    while len(us) < maxcalls:
        t0 = perf()
        n = client.call(kind)
        t1 = perf()
        us.append(round((t1 - t0) * 1e6, 1))
        if len(us) == 1:
            check_chunks(name, kind, n)
        if (t1 - start) * 1e3 >= budget_ms:
            break
    return {"us": us}


async def conc(client, seconds, concurrency, kind="nonstream"):
    import asyncio
    perf = time.perf_counter
    done = failed = 0
    t0 = perf()
    end = t0 + seconds

    async def loop():
        nonlocal done, failed
        while perf() < end:
            try:
                await client.acall(kind)
                done += 1
            except Exception as e:  # counted; the first few are shown
                failed += 1
                if failed <= 3:
                    print(f"conc: {type(e).__name__}: {e}", file=sys.stderr)

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return {"requests": done, "secs": round(perf() - t0, 4), "failed": failed}


def worker(name, base):
    import asyncio
    import json
    client = CLIENTS[name](base)
    client.setup()
    loop = asyncio.new_event_loop()  # one loop for the life of the worker: async clients stay bound to it
    asyncio.set_event_loop(loop)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        try:
            if parts[0] == "seq":
                out = seq(client, name, parts[2], int(float(parts[3])), float(parts[4]))
            elif parts[0] == "conc":
                out = loop.run_until_complete(conc(client, float(parts[2]), int(float(parts[3]))))
            else:
                out = {"error": "bad command"}
        except Exception as e:
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


def rss(name, base, kind, calls):
    import asyncio
    import json
    client = CLIENTS[name](base)
    client.setup()

    async def run():
        for _ in range(8):  # warm-up: connections, library threads
            await client.acall("nonstream")
        base_kb = rss_kb()
        perf = time.perf_counter
        t0 = perf()
        results = await asyncio.gather(*(client.acall(kind) for _ in range(calls)), return_exceptions=True)
        secs = perf() - t0
        bad = [r for r in results if isinstance(r, BaseException)]
        ok = len(results) - len(bad)
        if bad:
            print(f"rss: {len(bad)} failed, e.g. {type(bad[0]).__name__}: {bad[0]}", file=sys.stderr)
        return {"calls": calls, "ok": ok, "failed": len(bad), "secs": round(secs, 3), "rss_base_kb": base_kb,
                "rss_peak_kb": rss_kb()}

    print(json.dumps(asyncio.run(run())), flush=True)


def load(name, base):
    import json
    cls = CLIENTS[name]
    perf = time.perf_counter
    t0 = perf()
    __import__(cls.module)
    t1 = perf()
    client = cls(base)
    client.setup()
    client.call("nonstream")
    t2 = perf()
    print(json.dumps({"import_us": round((t1 - t0) * 1e6, 1), "first_call_us": round((t2 - t1) * 1e6, 1)}), flush=True)


def main():
    mode, name, base = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "worker":
        worker(name, base)
    elif mode == "rss":
        rss(name, base, sys.argv[4], int(sys.argv[5]))
    elif mode == "load":
        load(name, base)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
