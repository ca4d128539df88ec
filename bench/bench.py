#!/usr/bin/env python3
"""The benchmark driver (bench/run.sh runs it; standard library only).

Runs every client against the same loopback nginx, alternating clients inside each round so that
machine noise hits all alike, then profiles libanyllm and runs the micro-benchmarks, prints a table
and writes bench/results.md (plus bench/results.json with every raw figure).

    bench.py --base http://127.0.0.1:PORT --bin DIR --lib build/lib/libanyllm.so --python bench/.venv/bin/python
             [--quick] [--rust PATH] [--micro PATH] [--only PHASE,...]

Phases: load, seq, conc, rss, profile, pyprofile, micro.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KINDS = ["nonstream", "sse20", "sse1000"]
CAPI = ("capi", "capi_async", "capi_pull")  # served by one `clients` worker

# name → (label, language, kind of worker)
CLIENTS = {
    "curl": ("raw libcurl (C, the floor)", "C"),
    "capi": ("libanyllm C API, blocking", "C"),
    "capi_async": ("libanyllm C API, non-blocking", "C"),
    "capi_pull": ("libanyllm C API, pull (open + next)", "C"),
    "rust": ("Rust binding (anyllm crate)", "Rust"),
    "anyllm": ("Python binding (anyllm)", "Python"),
    "openai": ("openai SDK", "Python"),
    "anyllm_sdk": ("any-llm-sdk completion()", "Python"),
    "anyllm_sdk_reuse": ("any-llm-sdk, AnyLLM reused", "Python"),
    "litellm": ("litellm", "Python"),
    "wrk": ("wrk (HTTP load generator, the ceiling)", "C"),
}
PY_CLIENTS = ["anyllm", "openai", "anyllm_sdk", "anyllm_sdk_reuse", "litellm"]

TARGETS_TEXT = [
    ("capi_nonstream", "C API ≤ 1.25× raw libcurl per non-streamed call"),
    ("capi_sse1000", "C API ≤ 3× raw libcurl per 1,000-chunk stream"),
    ("py_vs_openai", "Python binding ≥ 25× faster than the openai SDK per non-streamed call"),
    ("py_sse1000", "Python binding ≤ 5 ms per 1,000-chunk stream"),
    ("rps", "≥ 20,000 requests/s from one process (64 concurrent calls)"),
    ("dlopen", "dlopen(libanyllm.so) ≤ 10 ms"),
    ("import", "import anyllm ≤ 30 ms"),
]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def loadavg() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f} {b:.2f} {c:.2f}"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1), nearest rank on the sorted values."""
    s = sorted(values)
    if not s:
        return float("nan")
    i = min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))
    return s[i]


def median(values: list[float]) -> float:
    return pct(values, 0.5)


def run(cmd: list[str], env=None, timeout=600, check=True) -> str:
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p.stdout


def last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in output: {text[-500:]}")


class Bench:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.base = a.base
        self.quick = a.quick
        self.bin = a.bin
        self.lib = os.path.abspath(a.lib)
        self.python = a.python
        self.env = dict(os.environ)
        self.env.update({
            "PYTHONPATH": os.path.join(ROOT, "bindings", "python"),
            "ANYLLM_LIBRARY": self.lib,
            "LD_LIBRARY_PATH": os.path.dirname(self.lib),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no model-price download at import
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONDONTWRITEBYTECODE": "0",
        })
        self.results: dict = {"load": {}, "seq": {}, "conc": {}, "rss": {}, "profile": {}, "pyprofile": {}, "micro": [],
                              "loadavg": {}, "notes": []}
        self.have_rust = bool(a.rust)
        self.client_cpu = None
        self.results["placement"] = None

    def nginx_workers(self) -> list[int]:
        with open(os.path.join(self.a.work, "nginx.pid")) as f:
            master = int(f.read().split()[0])
        with open(f"/proc/{master}/task/{master}/children") as f:
            return [int(x) for x in f.read().split()]

    def unpin_server(self) -> None:
        """Gives nginx's worker back every CPU (the other phases measure with the scheduler free)."""
        if self.client_cpu is None:
            return
        try:
            for w in self.nginx_workers():
                os.sched_setaffinity(w, os.sched_getaffinity(0))
        except (OSError, ValueError):
            pass
        self.client_cpu = None

    def pin_server(self):
        """For the sequential phase: pins nginx's worker to the first CPU this process may use and
        returns another one for the clients (None on one CPU). Unpinned, the scheduler put a client process on
        nginx's core or on the other one and tended to keep it there for the life of the process:
        on the 2-core VM of the first runs, raw libcurl took 38 µs per call on nginx's core and
        95 µs on the other (a cross-core wake-up each way), so a row's figure depended on where
        its worker process happened to land. Every client now gets the same placement."""
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if len(cpus) < 2:
            return None
        try:
            for w in self.nginx_workers():
                os.sched_setaffinity(w, {cpus[0]})
        except (OSError, ValueError) as e:
            self.results["notes"].append(f"nginx not pinned ({e}): clients not pinned either")
            return None
        self.results["placement"] = {"server_cpu": cpus[0], "client_cpu": cpus[-1]}
        return cpus[-1]

    # ------------------------------------------------------------------ helpers

    def accepts(self) -> int:
        """Connections nginx has accepted so far (stub_status)."""
        with urllib.request.urlopen(self.base + "/nginx_status", timeout=5) as r:
            text = r.read().decode()
        return int(text.splitlines()[2].split()[0])

    def note_load(self, phase: str) -> None:
        self.results["loadavg"][phase] = loadavg()

    def seq_clients(self) -> list[str]:
        c = ["curl", "capi", "capi_async", "capi_pull"]
        if self.have_rust:
            c.append("rust")
        return c + PY_CLIENTS

    # ------------------------------------------------------------------ workers

    def start_workers(self, names: list[str], pin: bool = False) -> dict:
        """One worker process per client (the C API clients too: one client's library threads and
        state must not weigh on another's figures); `pin`: on the clients' CPU (pin_server)."""
        workers = {}
        for n in names:
            if n == "curl":
                cmd = [os.path.join(self.bin, "clients_raw"), "worker", self.base]
            elif n in CAPI:
                cmd = [os.path.join(self.bin, "clients"), "worker", self.base]
            elif n == "rust":
                cmd = [self.a.rust, "worker", self.base]
            else:
                cmd = [self.python, os.path.join(HERE, "py_client.py"), "worker", n, self.base]
            p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=self.env, bufsize=1,
                                 preexec_fn=(lambda cpu=self.client_cpu: os.sched_setaffinity(0, {cpu}))
                                 if pin and self.client_cpu is not None else None)
            ready = json.loads(p.stdout.readline() or "{}")
            if not ready.get("ready"):
                raise RuntimeError(f"worker {n} did not start")
            workers[n] = p
        return workers

    @staticmethod
    def ask(worker, line: str) -> dict:
        worker.stdin.write(line + "\n")
        worker.stdin.flush()
        out = worker.stdout.readline()
        if not out:
            raise RuntimeError(f"worker died on: {line}")
        d = json.loads(out)
        if "error" in d:
            raise RuntimeError(f"{line}: {d['error']}")
        return d

    @staticmethod
    def stop_workers(workers: dict) -> None:
        for p in set(workers.values()):
            try:
                p.stdin.write("quit\n")
                p.stdin.flush()
                p.wait(timeout=20)
            except Exception:
                p.kill()

    # ------------------------------------------------------------------ phases

    def phase_load(self) -> None:
        """Fresh processes: dlopen + first call (C), import + first call (Python)."""
        reps = 2 if self.quick else 5
        names = ["curl", "capi"] + [c for c in PY_CLIENTS if c != "anyllm_sdk_reuse"]
        data = {n: [] for n in names}
        self.note_load("load")
        log(f"== load: {reps} rounds, fresh process each ({', '.join(names)})")
        for r in range(reps):
            order = names[r % len(names):] + names[:r % len(names)]
            for n in order:
                if n == "curl":
                    d = last_json(run([os.path.join(self.bin, "loadtime"), "curl", self.base], env=self.env))
                    d = {"load_us": d["dlopen_us"], "first_call_us": d["first_call_us"]}
                elif n == "capi":
                    d = last_json(run([os.path.join(self.bin, "loadtime"), "anyllm", self.base, self.lib], env=self.env))
                    d = {"load_us": d["dlopen_us"], "first_call_us": d["first_call_us"]}
                else:
                    d = last_json(run([self.python, os.path.join(HERE, "py_client.py"), "load", n, self.base], env=self.env,
                                      timeout=120))
                    d = {"load_us": d["import_us"], "first_call_us": d["first_call_us"]}
                data[n].append(d)
        self.results["load"] = data

    def phase_seq(self) -> None:
        rounds = 2 if self.quick else 5
        # per kind: (max calls, time budget ms) per batch
        budgets = {"nonstream": (3000, 150 if self.quick else 300), "sse20": (2000, 150 if self.quick else 300),
                   "sse1000": (500, 250 if self.quick else 500)}
        names = self.seq_clients()
        self.note_load("seq")
        log(f"== sequential calls: {rounds} rounds per kind, clients alternating ({', '.join(names)})")
        self.client_cpu = self.pin_server()
        workers = self.start_workers(names, pin=True)
        try:
            for n in names:  # warm-up: connections, threads, first-call costs; discarded
                for kind, calls in (("nonstream", 5), ("sse20", 2), ("sse1000", 1)):
                    self.ask(workers[n], f"seq {n} {kind} {calls} 100000")
            for kind in KINDS:
                mx, budget = budgets[kind]
                res = {n: {"us": [], "batch_medians": [], "calls": 0, "new_conns": 0} for n in names}
                for r in range(rounds):
                    order = names[r % len(names):] + names[:r % len(names)]
                    for n in order:
                        a0 = self.accepts()
                        d = self.ask(workers[n], f"seq {n} {kind} {mx} {budget}")
                        a1 = self.accepts()
                        res[n]["us"] += d["us"]
                        res[n]["batch_medians"].append(round(median(d["us"]), 1))
                        res[n]["calls"] += len(d["us"])
                        res[n]["new_conns"] += a1 - a0 - 1  # the status request itself is one
                for n in names:
                    us = res[n]["us"]
                    res[n]["median_us"] = round(median(us), 1)
                    res[n]["p90_us"] = round(pct(us, 0.9), 1)
                    del res[n]["us"]
                self.results["seq"][kind] = res
                log(f"   {kind}: " + ", ".join(f"{n} {res[n]['median_us']:.0f}" for n in names) + " µs")
        finally:
            self.stop_workers(workers)
            self.unpin_server()
        self.note_load("seq_end")

    def wrk(self, seconds: float) -> float:
        lua = os.path.join(self.a.work, "post.lua")
        if not os.path.exists(lua):
            with open(lua, "w") as f:
                f.write('wrk.method = "POST"\n'
                        'wrk.body = \'{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}\'\n'
                        'wrk.headers["Content-Type"] = "application/json"\n'
                        'wrk.headers["Authorization"] = "Bearer sk-bench"\n')
        out = run(["wrk", "-t2", "-c64", f"-d{max(1, int(round(seconds)))}s", "-s", lua, self.base + "/v1/chat/completions"])
        m = re.search(r"Requests/sec:\s*([\d.]+)", out)
        return float(m.group(1)) if m else float("nan")

    def phase_conc(self) -> None:
        rounds = 1 if self.quick else 3
        secs = 1.0 if self.quick else 2.0
        # The pull API is sequential by nature (the caller's thread drives it): measured in seq only.
        names = ["wrk"] + [n for n in self.seq_clients() if n != "capi_pull"]
        self.note_load("conc")
        log(f"== 64 concurrent calls: {rounds} rounds of {secs} s per client, alternating")
        workers = self.start_workers([n for n in names if n != "wrk"])
        res = {n: {"rps": [], "failed": 0, "new_conns": 0, "requests": 0} for n in names}
        try:
            for n in names:  # warm-up: 64 connections, async clients, library threads
                if n != "wrk":
                    self.ask(workers[n], f"conc {n} 0.5 64")
            for r in range(rounds):
                order = names[r % len(names):] + names[:r % len(names)]
                for n in order:
                    a0 = self.accepts()
                    if n == "wrk":
                        res[n]["rps"].append(round(self.wrk(secs), 1))
                    else:
                        d = self.ask(workers[n], f"conc {n} {secs} 64")
                        res[n]["rps"].append(round(d["requests"] / d["secs"], 1))
                        res[n]["failed"] += d["failed"]
                        res[n]["requests"] += d["requests"]
                    res[n]["new_conns"] += self.accepts() - a0 - 1
        finally:
            self.stop_workers(workers)
        for n in names:
            res[n]["median_rps"] = median(res[n]["rps"])
        self.results["conc"] = res
        log("   " + ", ".join(f"{n} {res[n]['median_rps']:.0f}/s" for n in names))
        self.note_load("conc_end")

    def phase_rss(self) -> None:
        calls = 1000
        names = ["curl", "capi_async"] + PY_CLIENTS
        self.note_load("rss")
        log(f"== peak RSS with {calls} concurrent 20-chunk streams, fresh process each")
        for n in names:
            if n == "curl":
                cmd = [os.path.join(self.bin, "clients_raw"), "rss", self.base, "curl", "sse20", str(calls)]
            elif n == "capi_async":
                cmd = [os.path.join(self.bin, "clients"), "rss", self.base, "capi_async", "sse20", str(calls)]
            else:
                cmd = [self.python, os.path.join(HERE, "py_client.py"), "rss", n, self.base, "sse20", str(calls)]
            try:
                d = last_json(run(cmd, env=self.env, timeout=300))
            except Exception as e:  # one client's failure must not lose the others' figures
                d = {"error": str(e)[:300]}
            self.results["rss"][n] = d
            log(f"   {n}: {d}")

    def callgrind_run(self, client: str, kind: str, n: int) -> tuple[int, dict, dict]:
        """One program run under callgrind: (total instructions, {function: inclusive}, {function: self})."""
        out = os.path.join(self.a.work, f"cg.{client}.{kind}.{n}")
        binary = os.path.join(self.bin, "clients_raw" if client == "curl" else "clients")
        run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no", "--separate-threads=no",
             binary, "profile", self.base, client, kind, str(n)], env=self.env, timeout=900)
        total = 0
        with open(out) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    total = int(line.split()[1])
        return total, self.annotate(out, True), self.annotate(out, False)

    def annotate(self, path: str, inclusive: bool) -> dict:
        """callgrind_annotate's per-function costs: {(function, object): instructions}."""
        out = run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", path],
                  timeout=300)
        rows = {}
        for line in out.splitlines():
            m = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$", line)
            if not m or "PROGRAM TOTALS" in line:
                continue
            where, obj = m.group(2), ""
            mo = re.search(r"\[(.*?)\]\s*$", where)
            if mo:
                obj = os.path.basename(mo.group(1))
                where = where[:mo.start()].strip()
            fn = where.split(":", 1)[1] if where.startswith("???:") else where
            key = (fn, obj)
            rows[key] = rows.get(key, 0) + int(m.group(1).replace(",", ""))
        return rows

    # Selected functions (demangled names, "specialized " dropped), inclusive: the anatomy of a call.
    LANDMARKS = [
        ("anyllm_completion", "caller thread, all of it"),
        ("static CompletionRequest.parse(_:)", "request JSON parse + validation (caller)"),
        ("protocol witness for WireProtocol.encode(_:endpoint:) in conformance OpenAIChat", "request encode, OpenAI (caller)"),
        ("CallDriver.startAttempt()", "new curl easy handle + its options (caller)"),
        ("Call.deliver(_:)", "delivering queued chunks and the outcome: copy, on_chunk, second aggregation (caller)"),
        ("static CABI.deliverChunk(_:_:_:)", "NUL-terminated copy + on_chunk (caller)"),
        ("Engine.loop()", "engine thread, all of it"),
        ("curl_multi_perform", "libcurl: request, socket I/O, response parsing, our callbacks (engine)"),
        ("EasyTransfer.header(_:)", "response header callback (engine)"),
        ("Attempt.receive(_:_:)", "body callback; stream decoding runs here (engine)"),
        ("SSEDecoder.feed(_:into:)", "SSE framing (engine)"),
        ("OpenAISSEDecoder.handle(_:_:)", "one SSE event → chunk: parse, checks, emit (engine)"),
        ("static ErrorMapping.parseProviderJSON(_:_:provider:objectOnly:)", "JSON parse of a provider body: stream event or answer (engine)"),
        ("Attempt.deliver(_:)", "per chunk: aggregation + hand-off to the caller (engine)"),
        ("CallDriver.transferEnded(_:_:)", "transfer end: answer check or stream finish, outcome (engine)"),
        ("protocol witness for WireProtocol.decodeResponseBytes(_:request:) in conformance OpenAIChat", "answer parse + check, bytes passed through (engine)"),
        ("StreamAggregator.result(complete:)", "aggregated ChatCompletion built (engine)"),
        ("curl_easy_cleanup", "curl easy handle freed (engine)"),
        ("curl_multi_poll", "waiting for sockets (engine)"),
        ("StreamAggregator.add(_:)", "StreamAggregator.add (both threads)"),
        ("static JSONReader.parse(_:)", "JSONReader.parse (both threads)"),
    ]

    def callgrind(self, client: str, kind: str, n1: int, n2: int, top: int = 60) -> dict:
        """The cost of n2 - n1 calls: two runs that differ only in their number of calls, so that
        start-up, warm-up and exit cancel out (exact, since callgrind counts instructions)."""
        t1, inc1, self1 = self.callgrind_run(client, kind, n1)
        t2, inc2, self2 = self.callgrind_run(client, kind, n2)
        calls = n2 - n1
        res = {"calls": calls, "ir_per_call": (t2 - t1) // calls}
        def diff(a, b, n=top):
            rows = []
            for k, v in b.items():
                d = (v - a.get(k, 0)) / calls
                if d > 0:
                    rows.append({"fn": k[0], "obj": k[1], "ir": int(d), "pct": 100.0 * d / max(1, res["ir_per_call"])})
            rows.sort(key=lambda r: -r["ir"])
            return rows[:n]
        if client != "curl":
            everything = self.demangle(diff(inc1, inc2, n=100000))
            res["inclusive"] = everything[:top]
            res["self"] = self.demangle(diff(self1, self2))
            marks = []
            for name, what in self.LANDMARKS:
                ir = max((r["ir"] for r in everything
                          if r["fn"].removeprefix("specialized ") == name or r["fn"].removeprefix("specialized ") == name + "'2"),
                         default=0)
                if ir:
                    marks.append({"fn": name, "what": what, "ir": ir, "pct": 100.0 * ir / max(1, res["ir_per_call"])})
            res["landmarks"] = marks
        return res

    @staticmethod
    def demangle(rows: list) -> list:
        swift = shutil.which("swift")
        if swift and rows:
            try:
                p = subprocess.run([swift, "demangle", "--simplified", "--compact"], input="\n".join(r["fn"] for r in rows) + "\n",
                                   stdout=subprocess.PIPE, text=True, timeout=60)
                dem = p.stdout.splitlines()
                if len(dem) == len(rows):
                    for r, d in zip(rows, dem):
                        r["fn"] = d
            except Exception:
                pass
        return rows

    def phase_profile(self) -> None:
        if not shutil.which("valgrind"):
            self.results["notes"].append("valgrind is missing: no instruction profile")
            return
        self.note_load("profile")
        plain, stream = ((20, 120), (1, 4)) if self.quick else ((20, 420), (1, 11))
        log(f"== callgrind: {plain[1] - plain[0]} non-streamed calls and {stream[1] - stream[0]} 1,000-chunk streams "
            "(C API blocking, and raw libcurl)")
        prof = {}
        for client in ("curl", "capi"):
            prof[f"{client}.nonstream"] = self.callgrind(client, "nonstream", *plain)
            prof[f"{client}.sse1000"] = self.callgrind(client, "sse1000", *stream)
        self.results["profile"] = prof
        for k, v in prof.items():
            log(f"   {k}: {v['ir_per_call']:,} instructions per call")
        if shutil.which("perf"):
            self.perf_profile()

    def perf_stat(self) -> dict:
        """Context switches and CPU time per call (all threads of the client process), from `perf stat`
        software counters: the difference between two runs that differ only in their number of calls."""
        out = {}
        counts = {"nonstream": (200, 5200 if not self.quick else 2200), "sse1000": (2, 202 if not self.quick else 82)}
        for client in ("curl", "capi"):
            binary = os.path.join(self.bin, "clients_raw" if client == "curl" else "clients")
            for kind, (n1, n2) in counts.items():
                vals = []
                for n in (n1, n2):
                    csv = os.path.join(self.a.work, "perfstat.csv")
                    run(["perf", "stat", "-x", ",", "-o", csv, "-e", "context-switches,task-clock", "--", binary, "profile",
                         self.base, client, kind, str(n)], env=self.env, timeout=300)
                    v = {}
                    with open(csv) as f:
                        for line in f:
                            parts = line.strip().split(",")
                            if len(parts) > 2 and parts[0] and parts[0][0].isdigit():
                                v[parts[2]] = float(parts[0])
                    vals.append(v)
                calls = n2 - n1
                out[f"{client}.{kind}"] = {
                    "context_switches": round((vals[1].get("context-switches", 0) - vals[0].get("context-switches", 0)) / calls, 2),
                    "cpu_us": round((vals[1].get("task-clock", 0) - vals[0].get("task-clock", 0)) * 1000 / calls, 1),
                }
        return out

    def perf_profile(self) -> None:
        """Wall-clock samples (kernel included) of sequential calls: where the time goes, not only
        the instructions (thread hand-offs and syscalls show here, not in callgrind)."""
        out = {}
        for kind, n in (("nonstream", 3000 if self.quick else 10000), ("sse1000", 60 if self.quick else 200)):
            data = os.path.join(self.a.work, f"perf.{kind}.data")
            try:
                run(["perf", "record", "-e", "cpu-clock", "-F", "4999", "-o", data, "--",
                     os.path.join(self.bin, "clients"), "profile", self.base, "capi", kind, str(n)], env=self.env, timeout=300)
                rep = run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso", "-g", "none"], timeout=120)
                dsos = []
                for line in rep.splitlines():
                    m = re.match(r"^\s+([\d.]+)%\s+(\S.*)$", line)
                    if m:
                        dsos.append({"pct": float(m.group(1)), "dso": m.group(2).strip()})
                rep = run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,sym", "-g", "none"],
                          timeout=120)
                syms = []
                for line in rep.splitlines():
                    m = re.match(r"^\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$", line)
                    if m:
                        syms.append({"pct": float(m.group(1)), "dso": m.group(2), "sym": m.group(4).strip()})
                out[kind] = {"calls": n, "dso": dsos[:12], "sym": syms[:25]}
            except Exception as e:
                out[kind] = {"error": str(e)[:300]}
        # demangle the Swift symbols
        swift = shutil.which("swift")
        for k in out.values():
            syms = k.get("sym", [])
            if swift and syms:
                p = subprocess.run([swift, "demangle", "--simplified", "--compact"], input="\n".join(s["sym"] for s in syms) + "\n",
                                   stdout=subprocess.PIPE, text=True)
                dem = p.stdout.splitlines()
                if len(dem) == len(syms):
                    for s, d in zip(syms, dem):
                        s["sym"] = d
        try:
            out["stat"] = self.perf_stat()
        except Exception as e:
            out["stat"] = {"error": str(e)[:300]}
        self.results["perf"] = out

    def phase_pyprofile(self) -> None:
        """cProfile of the Python binding: where a non-streamed call and a 1,000-chunk stream spend
        their time on the Python side."""
        self.note_load("pyprofile")
        code = r'''
import cProfile, pstats, io, sys, json
sys.argv = ["x"]
import anyllm
base = sys.stdin.readline().strip()
def call(kind, n):
    url = base + ("/sse1000" if kind == "sse1000" else "") + "/v1"
    for _ in range(n):
        r = anyllm.completion(model="openai:gpt-4.1-mini", messages=[{"role": "user", "content": "hi"}], api_base=url,
                              api_key="sk-bench", stream=kind != "nonstream")
        if kind != "nonstream":
            for _ in r: pass
out = {}
for kind, n in (("nonstream", 2000), ("sse1000", 20)):
    call(kind, 3)
    pr = cProfile.Profile()
    pr.enable(); call(kind, n); pr.disable()
    s = pstats.Stats(pr)
    rows = []
    for (f, line, fn), (cc, nc, tt, ct, callers) in s.stats.items():
        rows.append({"fn": f"{f.split('/')[-1]}:{line}({fn})", "calls": nc, "tottime_us": tt * 1e6 / n, "cumtime_us": ct * 1e6 / n})
    rows.sort(key=lambda r: -r["tottime_us"])
    out[kind] = {"calls": n, "self": rows[:15], "total_us": sum(r["tottime_us"] for r in rows)}
print(json.dumps(out))
'''
        try:
            p = subprocess.run([self.python, "-c", code], input=self.base + "\n", stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=self.env, timeout=300)
            self.results["pyprofile"] = last_json(p.stdout)
        except Exception as e:
            self.results["pyprofile"] = {"error": str(e)[:300]}

    def phase_micro(self) -> None:
        if not self.a.micro or not os.path.exists(self.a.micro):
            self.results["notes"].append("micro-benchmarks not built")
            return
        self.note_load("micro")
        log("== micro-benchmarks (no network)")
        out = run([self.a.micro] + (["--quick"] if self.quick else []), timeout=600)
        self.results["micro"] = [json.loads(l) for l in out.splitlines() if l.startswith("{")]

    # ------------------------------------------------------------------ report

    def versions(self) -> dict:
        v = {}
        def cmd(c, pat=None):
            try:
                o = subprocess.run(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30).stdout.strip()
                if pat:
                    m = re.search(pat, o)
                    return m.group(1) if m else o.splitlines()[0]
                return o.splitlines()[0] if o else ""
            except Exception:
                return "?"
        try:
            import hashlib
            with open(self.lib, "rb") as f:
                v["libanyllm.so sha256"] = hashlib.sha256(f.read()).hexdigest()[:12]
        except OSError:
            pass
        try:
            import ctypes
            f = ctypes.CDLL(self.lib).anyllm_version
            f.restype = ctypes.c_char_p
            v["libanyllm"] = f().decode()
        except Exception:
            v["libanyllm"] = "?"
        v["libcurl"] = cmd(["curl-config", "--version"], r"libcurl ([\d.]+)")
        v["nginx"] = cmd(["nginx", "-v"], r"nginx/([\d.]+)")
        v["wrk"] = cmd(["wrk", "-v"], r"wrk (?:debian/)?([\d.]+)")
        v["valgrind"] = cmd(["valgrind", "--version"], r"valgrind-([\d.]+)")
        v["swift"] = cmd(["swift", "--version"], r"Swift version ([\d.]+)")
        v["gcc"] = cmd(["gcc", "--version"], r"\) ([\d.]+)")
        v["python"] = cmd([self.python, "--version"], r"Python ([\d.]+)")
        pkgs = cmd([self.python, "-c", "import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in "
                    "['openai', 'any-llm-sdk', 'litellm', 'httpx', 'pydantic']}))"])
        try:
            v.update(json.loads(pkgs))
        except Exception:
            pass
        if self.have_rust:
            v["rustc"] = cmd(["rustc", "--version"], r"rustc ([\d.]+)")
        try:
            v["git"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE, text=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources", "Package.swift"],
                                   stdout=subprocess.PIPE, text=True).stdout.strip()
            if dirty:
                v["git"] += " (Sources modified)"
        except Exception:
            v["git"] = "?"
        return v

    def machine(self) -> dict:
        cpu = "?"
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        cpu = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        osr = "?"
        try:
            with open("/etc/os-release") as f:
                for line in f:
                    if line.startswith("PRETTY_NAME="):
                        osr = line.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
        mem = "?"
        try:
            with open("/proc/meminfo") as f:
                mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.0f} GiB"
        except OSError:
            pass
        return {"cpus": os.cpu_count(), "cpu": cpu, "os": osr, "kernel": platform.release(), "memory": mem}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--rust", default="")
    ap.add_argument("--rust-note", default="")
    ap.add_argument("--micro", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"))
    a = ap.parse_args()
    b = Bench(a)
    phases = ["load", "seq", "conc", "rss", "profile", "pyprofile", "micro"]
    only = [p for p in a.only.split(",") if p] or phases
    started = datetime.datetime.now().astimezone()
    b.results["started"] = started.isoformat(timespec="seconds")
    b.results["quick"] = a.quick
    b.results["machine"] = b.machine()
    b.results["versions"] = b.versions()
    b.results["rust_note"] = a.rust_note
    t0 = time.time()
    for p in phases:
        if p in only:
            tp = time.time()
            getattr(b, "phase_" + p)()
            b.results.setdefault("phase_secs", {})[p] = round(time.time() - tp, 1)
    b.results["loadavg"]["end"] = loadavg()
    b.results["duration_s"] = round(time.time() - t0, 1)
    import report
    partial = bool(a.only)
    report.write(b.results, a.out, os.path.join(HERE, "results-partial.json" if partial else "results.json"), partial=partial)


if __name__ == "__main__":
    main()
