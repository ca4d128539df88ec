"""Turns bench.py's raw results into the printed table and bench/results.md (raw figures in
bench/results.json). Two parts of results.md survive a new run: the history table (one row per
full run, so that before/after figures of each change to the core stay side by side) and the
hand-written analysis at the end (below the "kept across runs" marker)."""

from __future__ import annotations

import json
import os
import sys

from bench import CLIENTS, TARGETS_TEXT

HISTORY_BEGIN = "<!-- history: one row per full run; kept across runs -->"
HISTORY_END = "<!-- /history -->"
MANUAL = "<!-- everything below this line is written by hand and kept across runs -->"

HISTORY_HEAD = ("| date | commit | load avg | C blocking µs (×curl) | C stream 1k ms (×curl) | Python µs | Python stream 1k ms "
                "| openai ÷ Python | C req/s | dlopen ms | import ms | instr./call | instr./stream 1k "
                "| micro: OpenAI stream ns/chunk | micro: parse + encode ns |\n"
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")


PHASE_NAMES = {"load": "time to load", "seq": "sequential calls", "seq_end": "after them", "conc": "concurrency",
               "conc_end": "after it", "rss": "memory", "profile": "profiles", "pyprofile": "Python profile",
               "micro": "micro-benchmarks", "end": "end"}


def placement_text(r: dict) -> str:
    p = r.get("placement")
    if not p:
        return "Processes not pinned to CPUs (one CPU, or nginx could not be pinned)."
    return (f"In this phase nginx's worker is pinned to CPU {p['server_cpu']} and every client process to CPU {p['client_cpu']}: "
            "unpinned, a process's figures depended on whether the scheduler kept it on nginx's core (bench.py, "
            "`pin_server`).")


def fmt_us(v: float | None) -> str:
    if v is None:
        return "–"
    if v >= 10000:
        return f"{v / 1000:,.1f} ms"
    return f"{v:,.0f} µs"


def ratio(x: float | None, base: float | None) -> str:
    if not x or not base:
        return "–"
    r = x / base
    return f"{r:.2f}×" if r < 10 else f"{r:,.0f}×"


def label(n: str) -> str:
    return CLIENTS.get(n, (n,))[0]


def seq_table(r: dict) -> list[str]:
    seq = r.get("seq", {})
    if not seq:
        return []
    names = list(seq.get("nonstream", {}).keys())
    lines = ["| client | non-streamed median / p90 | ×curl | 20-chunk stream median / p90 | ×curl "
             "| 1,000-chunk stream median / p90 | ×curl | new connections per 100 calls (plain / 20 / 1,000) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n in names:
        cells = [label(n)]
        conns = []
        for kind in ("nonstream", "sse20", "sse1000"):
            d = seq.get(kind, {}).get(n)
            base = seq.get(kind, {}).get("curl", {}).get("median_us")
            if not d:
                cells += ["–", "–"]
                continue
            cells.append(f"{fmt_us(d['median_us'])} / {fmt_us(d['p90_us'])}")
            cells.append(ratio(d["median_us"], base))
            conns.append(f"{100 * d['new_conns'] / d['calls']:.0f}" if d["calls"] else "–")
        cells.append(" / ".join(conns))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def conc_table(r: dict) -> list[str]:
    c = r.get("conc", {})
    if not c:
        return []
    base = c.get("curl", {}).get("median_rps")
    lines = ["| client | requests/s (median) | rounds | ×raw libcurl | connections opened, all rounds |",
             "| --- | ---: | --- | ---: | ---: |"]
    for n, d in c.items():
        rounds = " / ".join(f"{x:,.0f}" for x in d["rps"])
        failed = f" ({d['failed']} failed)" if d.get("failed") else ""
        lines.append(f"| {label(n)} | {d['median_rps']:,.0f}{failed} | {rounds} | {ratio(d['median_rps'], base)} | {d['new_conns']} |")
    return lines


def rss_table(r: dict) -> list[str]:
    m = r.get("rss", {})
    if not m:
        return []
    base = m.get("curl", {}).get("rss_peak_kb")
    lines = ["| client | RSS before | peak RSS | growth | ×raw libcurl (peak) | all streams done in |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for n, d in m.items():
        if "error" in d:
            lines.append(f"| {label(n)} | failed: {d['error'][:120]} | | | | |")
            continue
        bad = f" ({d['failed']} failed)" if d.get("failed") else ""
        lines.append(f"| {label(n)} | {d['rss_base_kb'] / 1024:.1f} MB | {d['rss_peak_kb'] / 1024:.1f} MB | "
                     f"{(d['rss_peak_kb'] - d['rss_base_kb']) / 1024:.1f} MB | {ratio(d['rss_peak_kb'], base)} | {d['secs']:.2f} s{bad} |")
    return lines


def load_summary(r: dict) -> dict:
    out = {}
    for n, runs in r.get("load", {}).items():
        if not runs:
            continue
        ls = sorted(x["load_us"] for x in runs)
        fs = sorted(x["first_call_us"] for x in runs)
        ts = sorted(x["load_us"] + x["first_call_us"] for x in runs)
        out[n] = {"load": ls[len(ls) // 2], "first": fs[len(fs) // 2], "total": ts[len(ts) // 2], "n": len(runs)}
    return out


def load_table(r: dict) -> list[str]:
    s = load_summary(r)
    if not s:
        return []
    base = s.get("curl", {}).get("total")
    what = {"curl": "dlopen(libcurl.so.4)", "capi": "dlopen(libanyllm.so)"}
    lines = ["| client | load | load time | first call | load + first call | ×raw libcurl |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for n, d in s.items():
        w = what.get(n, f"import {CLIENTS_MODULE.get(n, n)}")
        lines.append(f"| {label(n)} | {w} | {d['load'] / 1000:.1f} ms | {d['first'] / 1000:.1f} ms | {d['total'] / 1000:.1f} ms | "
                     f"{ratio(d['total'], base)} |")
    return lines


CLIENTS_MODULE = {"anyllm": "anyllm", "openai": "openai", "anyllm_sdk": "any_llm", "litellm": "litellm"}


def targets(r: dict) -> list[tuple[str, str, str, bool | None]]:
    """(key, text, figure, met)"""
    out = []
    seq = r.get("seq", {})
    def med(kind, n):
        return seq.get(kind, {}).get(n, {}).get("median_us")
    for key, text in TARGETS_TEXT:
        fig, met = "not measured", None
        if key == "capi_nonstream" and med("nonstream", "capi") and med("nonstream", "curl"):
            x = med("nonstream", "capi") / med("nonstream", "curl")
            y = med("nonstream", "capi_async") / med("nonstream", "curl") if med("nonstream", "capi_async") else None
            fig = f"{x:.2f}× blocking" + (f", {y:.2f}× non-blocking" if y else "") + \
                  f" ({med('nonstream', 'capi'):.0f} vs {med('nonstream', 'curl'):.0f} µs)"
            met = x <= 1.25
        elif key == "capi_sse1000" and med("sse1000", "capi") and med("sse1000", "curl"):
            x = med("sse1000", "capi") / med("sse1000", "curl")
            fig = f"{x:.1f}× ({med('sse1000', 'capi') / 1000:.2f} vs {med('sse1000', 'curl') / 1000:.2f} ms)"
            met = x <= 3
        elif key == "py_vs_openai" and med("nonstream", "anyllm") and med("nonstream", "openai"):
            x = med("nonstream", "openai") / med("nonstream", "anyllm")
            fig = f"{x:.1f}× faster ({med('nonstream', 'anyllm'):.0f} vs {med('nonstream', 'openai'):.0f} µs)"
            met = x >= 25
        elif key == "py_sse1000" and med("sse1000", "anyllm"):
            fig = f"{med('sse1000', 'anyllm') / 1000:.2f} ms"
            met = med("sse1000", "anyllm") <= 5000
        elif key == "rps" and r.get("conc"):
            c = r["conc"]
            best = max((n for n in ("capi_async", "capi") if n in c), key=lambda n: c[n]["median_rps"], default=None)
            if best:
                others = ", ".join(f"{label(n)} {c[n]['median_rps']:,.0f}/s" for n in ("capi", "capi_async") if n in c and n != best)
                fig = (f"{c[best]['median_rps']:,.0f}/s ({label(best)}; {others}; raw libcurl "
                       f"{c.get('curl', {}).get('median_rps', 0):,.0f}/s; wrk ceiling {c.get('wrk', {}).get('median_rps', 0):,.0f}/s)")
                met = c[best]["median_rps"] >= 20000
        elif key == "dlopen":
            s = load_summary(r).get("capi")
            if s:
                fig = f"{s['load'] / 1000:.1f} ms (+ {s['first'] / 1000:.1f} ms first call)"
                met = s["load"] <= 10000
        elif key == "import":
            s = load_summary(r).get("anyllm")
            if s:
                fig = f"{s['load'] / 1000:.1f} ms (+ {s['first'] / 1000:.1f} ms first call, which loads the library)"
                met = s["load"] <= 30000
        out.append((key, text, fig, met))
    return out


def targets_table(r: dict) -> list[str]:
    lines = ["| target | measured | |", "| --- | --- | --- |"]
    for _, text, fig, met in targets(r):
        lines.append(f"| {text} | {fig} | {'met' if met else 'MISSED' if met is False else '–'} |")
    return lines


def profile_section(r: dict) -> list[str]:
    p = r.get("profile", {})
    if not p:
        return []
    out = ["Instructions counted by `valgrind --tool=callgrind` in the client process (all threads; nginx excluded). "
           "Each figure is the difference between two runs that differ only in their number of calls, divided by "
           "that difference: start-up, warm-up and exit cancel out. Instruction counts repeat from run to run within about 1 % (how the bytes arrive varies a little), unlike the timings.", "",
           "| | raw libcurl | libanyllm C API (blocking) | × |", "| --- | ---: | ---: | ---: |"]
    for kind, what in (("nonstream", "per non-streamed call"), ("sse1000", "per 1,000-chunk stream")):
        a, b = p.get(f"curl.{kind}"), p.get(f"capi.{kind}")
        if a and b:
            out.append(f"| instructions {what} | {a['ir_per_call']:,} | {b['ir_per_call']:,} | {ratio(b['ir_per_call'], a['ir_per_call'])} |")
    for kind, what in (("nonstream", "a non-streamed call"), ("sse1000", "a 1,000-chunk stream")):
        b = p.get(f"capi.{kind}")
        if not b or not b.get("landmarks"):
            continue
        per_chunk = kind == "sse1000"
        out += ["", f"#### Anatomy of {what}: selected functions, inclusive instructions per call"
                + (" (and per chunk: ÷ 1,003)" if per_chunk else ""), "",
                "| function | what | instructions | % of the call |" + (" per chunk |" if per_chunk else ""),
                "| --- | --- | ---: | ---: |" + (" ---: |" if per_chunk else "")]
        for m in b["landmarks"]:
            out.append(f"| `{short(m['fn'], 70)}` | {m['what']} | {m['ir']:,} | {m['pct']:.1f} |"
                       + (f" {m['ir'] / 1003:,.0f} |" if per_chunk else ""))
    for kind, what in (("nonstream", "a non-streamed call"), ("sse1000", "a 1,000-chunk stream")):
        b = p.get(f"capi.{kind}")
        if not b:
            continue
        calls = b["calls"]
        out += ["", f"#### Top functions by inclusive instructions: {what} (per call; {calls} calls profiled)", "",
                "| instructions per call | % | function | object |", "| ---: | ---: | --- | --- |"]
        for row in [x for x in b["inclusive"] if not driver_frame(x)][:30]:
            out.append(f"| {row['ir']:,} | {row['pct']:.1f} | `{short(row['fn'])}` | {row['obj']} |")
        out += ["", f"#### Top functions by self instructions: {what}", "",
                "| instructions per call | % | function | object |", "| ---: | ---: | --- | --- |"]
        for row in b["self"][:20]:
            out.append(f"| {row['ir']:,} | {row['pct']:.1f} | `{short(row['fn'])}` | {row['obj']} |")
    perf = r.get("perf", {})
    st = perf.get("stat", {})
    if st and "error" not in st:
        out += ["", "#### CPU time and context switches per call (`perf stat`, all threads of the client process)", "",
                "Difference between two runs that differ only in their number of sequential calls, divided by that "
                "difference. CPU time is the client's own (nginx excluded).", "",
                "| | raw libcurl | libanyllm C API (blocking) | × |", "| --- | ---: | ---: | ---: |"]
        for kind, what in (("nonstream", "non-streamed call"), ("sse1000", "1,000-chunk stream")):
            a, b = st.get(f"curl.{kind}"), st.get(f"capi.{kind}")
            if a and b:
                out.append(f"| CPU µs per {what} | {a['cpu_us']:,.1f} | {b['cpu_us']:,.1f} | {ratio(b['cpu_us'], a['cpu_us'])} |")
                out.append(f"| context switches per {what} | {a['context_switches']:,.2f} | {b['context_switches']:,.2f} | "
                           f"{ratio(b['context_switches'], a['context_switches'])} |")
    for kind, what in (("nonstream", "non-streamed calls"), ("sse1000", "1,000-chunk streams")):
        d = perf.get(kind)
        if not isinstance(d, dict) or "error" in d or "dso" not in d:
            continue
        out += ["", f"#### perf (wall-clock samples, kernel included): sequential {what}, C API blocking", "",
                "By object: " + ", ".join(f"{x['dso']} {x['pct']:.1f} %" for x in d["dso"][:8]), "",
                "| % of samples | object | symbol |", "| ---: | --- | --- |"]
        for s in d["sym"][:20]:
            out.append(f"| {s['pct']:.1f} | {s['dso']} | `{short(s['sym'])}` |")
    return out


def driver_frame(row: dict) -> bool:
    """Frames of the benchmark program and thread start-up, which only repeat the totals."""
    if row["obj"] in ("clients", "clients_raw", "ld-linux-x86-64.so.2"):
        return True
    return any(k in row["fn"] for k in ("start_thread", "libc-start", "libc_start_call_main", "(below main)", "clone.S"))


def short(fn: str, n: int = 150) -> str:
    fn = fn.replace("|", "\\|").replace("`", "'")
    return fn if len(fn) <= n else fn[: n - 1] + "…"


def pyprofile_section(r: dict) -> list[str]:
    p = r.get("pyprofile", {})
    if not p or "error" in p:
        return [f"(failed: {p.get('error')})"] if p else []
    out = []
    for kind, what in (("nonstream", "a non-streamed call"), ("sse1000", "a 1,000-chunk stream")):
        d = p.get(kind)
        if not d:
            continue
        out += [f"#### Python binding, {what}: cProfile self time per call ({d['calls']} calls; "
                f"profiled total {d['total_us']:,.0f} µs per call, cProfile overhead included)", "",
                "| self µs per call | cumulative µs | calls per call | function |", "| ---: | ---: | ---: | --- |"]
        for row in d["self"][:12]:
            out.append(f"| {row['tottime_us']:,.1f} | {row['cumtime_us']:,.1f} | {row['calls'] / d['calls']:,.1f} | `{short(row['fn'], 90)}` |")
        out.append("")
    return out


def micro_table(r: dict) -> list[str]:
    m = r.get("micro", [])
    if not m:
        return []
    lines = ["| benchmark | ns | per | spread of repetitions |", "| --- | ---: | --- | ---: |"]
    for x in m:
        lines.append(f"| `{x['name']}` | {x['ns']:,} | {x['unit']} | {x['spread_pct']} % |")
    return lines


def history_row(r: dict) -> str:
    seq = r.get("seq", {})
    def med(kind, n):
        return seq.get(kind, {}).get(n, {}).get("median_us")
    def cell_ratio(kind, n, scale, unit):
        a, b = med(kind, n), med(kind, "curl")
        if not a:
            return "–"
        return f"{a / scale:,.{0 if scale == 1 else 2}f}{unit} ({a / b:.2f}×)" if b else f"{a / scale:.0f}"
    c = r.get("conc", {})
    rps = max((c[n]["median_rps"] for n in ("capi_async", "capi") if n in c), default=None)
    ls = load_summary(r)
    p = r.get("profile", {})
    ov = med("nonstream", "openai") / med("nonstream", "anyllm") if med("nonstream", "openai") and med("nonstream", "anyllm") else None
    cells = [r["started"][:16].replace("T", " "), r["versions"].get("git", "?"), r["loadavg"].get("seq", "?"),
             cell_ratio("nonstream", "capi", 1, ""), cell_ratio("sse1000", "capi", 1000, ""),
             f"{med('nonstream', 'anyllm'):.0f}" if med("nonstream", "anyllm") else "–",
             f"{med('sse1000', 'anyllm') / 1000:.2f}" if med("sse1000", "anyllm") else "–",
             f"{ov:.1f}×" if ov else "–", f"{rps:,.0f}" if rps else "–",
             f"{ls['capi']['load'] / 1000:.1f}" if "capi" in ls else "–",
             f"{ls['anyllm']['load'] / 1000:.1f}" if "anyllm" in ls else "–",
             f"{p['capi.nonstream']['ir_per_call']:,}" if "capi.nonstream" in p else "–",
             f"{p['capi.sse1000']['ir_per_call']:,}" if "capi.sse1000" in p else "–"]
    micro = {m["name"]: m["ns"] for m in r.get("micro", [])}
    cells.append(f"{micro['stream.decode+aggregate/openai']:,}" if "stream.decode+aggregate/openai" in micro else "–")
    pe = [micro.get("request.parse/small"), micro.get("request.encode/openai/small")]
    cells.append(f"{pe[0] + pe[1]:,}" if all(pe) else "–")
    return "| " + " | ".join(cells) + " |"


def console(r: dict) -> str:
    out = [f"libanyllm benchmark — {r['started']} — load average {r['loadavg'].get('seq', '?')} (1/5/15 min)", ""]
    for title, lines in (("Per call, sequential", seq_table(r)), ("64 concurrent non-streamed calls", conc_table(r)),
                         ("1,000 concurrent 20-chunk streams", rss_table(r)), ("Time to load", load_table(r)),
                         ("Targets", targets_table(r))):
        if len(lines) > 2:
            out += [f"== {title}"] + [l for i, l in enumerate(lines) if i != 1] + [""]
    p = r.get("profile", {})
    if "capi.nonstream" in p and "curl.nonstream" in p:
        out.append(f"== Instructions per non-streamed call: libanyllm {p['capi.nonstream']['ir_per_call']:,}, "
                   f"raw libcurl {p['curl.nonstream']['ir_per_call']:,}")
    return "\n".join(out)


def write(r: dict, md_path: str, json_path: str, partial: bool = False) -> None:
    print(console(r))
    with open(json_path, "w") as f:
        json.dump(r, f, indent=1)
    old = open(md_path).read() if os.path.exists(md_path) else ""
    history = []
    if HISTORY_BEGIN in old and HISTORY_END in old:
        block = old.split(HISTORY_BEGIN, 1)[1].split(HISTORY_END, 1)[0]
        history = [l for l in block.splitlines() if l.startswith("| ") and not l.startswith("| date") and not l.startswith("| ---")]
    manual = old.split(MANUAL, 1)[1].strip("\n") if MANUAL in old else ""
    if not partial and not r.get("quick"):
        history.append(history_row(r))
    if partial:
        print(f"(partial run: {md_path} not rewritten; raw figures in {json_path})", file=sys.stderr)
        return
    m, v = r["machine"], r["versions"]
    load = r["loadavg"]
    md = ["# libanyllm benchmark results", "",
          f"Generated by `bench/run.sh{' --quick' if r.get('quick') else ''}` on {r['started']} in {r['duration_s']:.0f} s "
          f"(raw figures: `bench/results.json`). Benchmarks are measurements, not tests.", "",
          "## Machine and versions", "",
          f"- {m['cpus']} × {m['cpu']}, {m['memory']}, {m['os']}, Linux {m['kernel']}; shared with other engineers' builds "
          "and tests, so every figure is taken with clients alternating inside each round.",
          "- Load average (1/5/15 min) at the start of each phase: " +
          "; ".join(f"{PHASE_NAMES.get(k, k)} {v_}" for k, v_ in load.items()) + ".",
          "- " + ", ".join(f"{k} {v_}" for k, v_ in v.items()) + ".",
          f"- Rust binding: {r.get('rust_note') or 'included'}.", "",
          "Server: nginx (one worker) serving fixed bodies at the OpenAI paths on 127.0.0.1 — one ChatCompletion (`/v1`), "
          "SSE streams of 20 and 1,000 content chunks (`/sse20/v1`, `/sse1000/v1`; 23 and 1,003 chunks with role, finish "
          "and usage), shaped as OpenAI's today (token details, `service_tier`, each chunk's `obfuscation` padding). Every client sends the same request (`gpt-4.1-mini`, one user message, dummy key) and reads the "
          "whole answer (streams iterated to the end). Ratios are to raw libcurl measured in the same run; the last "
          "column of the first table is nginx's count of accepted connections per 100 calls (0 = keep-alive).", "",
          "## Targets", ""] + targets_table(r) + ["",
          "## Per call, sequential", "",
          "Each client in its own process, one call at a time; rounds alternate the clients (each batch ~0.3 s, "
          "5 rounds) and the figures pool every call of every round. " + placement_text(r), ""] + seq_table(r) + ["",
          "## Throughput: 64 concurrent non-streamed calls, one process", "",
          "C: raw libcurl = one multi handle with 64 easy handles; non-blocking C API = one thread keeping 64 calls in "
          "flight; blocking C API and Rust = 64 threads. Python: asyncio, 64 tasks. wrk: 2 threads, 64 connections, "
          "the same POST.", ""] + conc_table(r) + ["",
          "## Memory: 1,000 concurrent 20-chunk streams, one process", "",
          "Fresh process per client; RSS before = peak RSS after 8 warm-up calls, before the streams start.", ""] + rss_table(r) + ["",
          "## Time to load", "",
          "Fresh process each time, median of the rounds: C = `dlopen` (RTLD_NOW) then the first non-streamed call; "
          "Python = `import` then the first call (the anyllm binding loads libanyllm.so at its first call).", ""] + load_table(r) + ["",
          "## Micro-benchmarks (no network)", "",
          "`bench/micro`: a Swift executable package depending on the repository's package by path, reaching the "
          "internal APIs through `@testable import AnyLLM` (release build with `-enable-testing`). Streams are 1,000 "
          "content chunks in each protocol's own wire format, fed in 16 KiB pieces; `stream.decode` = framing + JSON "
          "parse + normalisation into OpenAI chunks (+ their bytes), `+aggregate` adds the StreamAggregator every "
          "call runs and the final ChatCompletion. `chat` requests have a system prompt, history with a tool call "
          "and result, and one tool.", ""] + micro_table(r) + ["",
          "## Where the time goes in libanyllm", ""] + profile_section(r) + ["", "### Python binding", ""] + pyprofile_section(r) + [
          "## History", "",
          "One row per full run (`bench/run.sh` without `--quick`): the before/after record of each change to the core.", "",
          HISTORY_BEGIN, HISTORY_HEAD] + history + [HISTORY_END, "", MANUAL, ""]
    if r.get("notes"):
        md.insert(md.index("## Targets"), "Notes: " + "; ".join(r["notes"]) + "\n")
    with open(md_path, "w") as f:
        f.write("\n".join(md) + ("\n" + manual + "\n" if manual else ""))
    print(f"wrote {md_path} and {json_path}", file=sys.stderr)
