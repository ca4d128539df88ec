#!/usr/bin/env bash
# Quick look while working on the core: median µs per sequential call for raw libcurl and the C API
# (blocking and non-blocking) and the Python binding, non-streamed and streamed, clients
# alternating, plus requests/s with 64 concurrent calls. Seconds, not minutes; bench/run.sh is the
# full, recorded benchmark.
# Usage: bench/quick.sh [ROUNDS] [BASELINE_LIB]
#   BASELINE_LIB: another libanyllm.so (e.g. a build of an older commit) measured in the same run,
#   its rows marked "@base", for before/after figures taken under the same machine load. When it
#   lies in a checkout (…/build/lib/libanyllm.so), that checkout's Python binding is measured with it.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_packages nginx-light libcurl4-openssl-dev
rounds=${1:-3}
baseline=${2:-}
work=$(mktemp -d)
trap 'bench_nginx_stop "$work"; rm -rf "$work"' EXIT
bench_nginx "$work"
build_clients() {  # DIR LIB
  mkdir -p "$1" && cp "$2" "$1/libanyllm.so"
  gcc -O2 -I build/include bench/clients.c -L "$1" -lanyllm -Wl,-rpath,"$1" -lcurl -lpthread -o "$1/clients"
}
build_clients "$work/new" build/lib/libanyllm.so
[ -n "$baseline" ] && build_clients "$work/base" "$baseline"
python3 - "$bench_base" "$rounds" "$PWD" "$work/new/clients" ${baseline:+"$work/base/clients" "$baseline"} <<'PY'
import json, os, statistics, subprocess, sys
base, rounds, root, exes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
def start(cmd, env=None):
    w = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    w.stdout.readline()
    return w
def py_worker(lib, checkout):
    env = dict(os.environ, ANYLLM_LIBRARY=lib, PYTHONPATH=os.path.join(checkout, "bindings", "python"))
    return start([sys.executable, os.path.join(root, "bench", "py_client.py"), "worker", "anyllm", base], env)
# One worker process per row, as in bench/run.sh: a client's threads (the shared engine, the
# delivery pool) or its library's state must not weigh on another client's figures.
workers, rows = [], []
def row(name, cmd, client):
    workers.append(start(cmd))
    rows.append((name, len(workers) - 1, client))
for cl in ("curl", "capi", "capi_async", "capi_pull"):
    row(cl, [exes[0], "worker", base], cl)
workers.append(py_worker(os.path.join(os.path.dirname(exes[0]), "libanyllm.so"), root)); rows.append(("python", len(workers) - 1, "anyllm"))
if len(exes) > 1:
    for cl in ("capi", "capi_async"):
        row(f"{cl}@base", [exes[1], "worker", base], cl)
    checkout = os.path.normpath(os.path.join(os.path.dirname(exes[2]), "..", ".."))
    if os.path.isdir(os.path.join(checkout, "bindings", "python", "anyllm")):
        workers.append(py_worker(exes[2], checkout)); rows.append(("python@base", len(workers) - 1, "anyllm"))
def ask(w, line):
    w.stdin.write(line + "\n"); w.stdin.flush()
    return json.loads(w.stdout.readline())
kinds = [("nonstream", 300), ("sse20", 300), ("sse1000", 30)]
us = {(r[0], k): [] for r in rows for k, _ in kinds}
for _ in range(rounds):
    for k, n in kinds:
        for name, wi, cl in rows:
            us[(name, k)] += ask(workers[wi], f"seq {cl} {k} {n} 300")["us"]
print(f"{'client':<16}" + "".join(f"{k:>20}" for k, _ in kinds))
for name, _, _ in rows:
    row = ""
    for k, _ in kinds:
        m = statistics.median(us[(name, k)]); f = m / statistics.median(us[("curl", k)])
        row += f"{m:>11.0f} µs {f:>5.2f}×"
    print(f"{name:<16}{row}")
for name, wi, cl in [r for r in rows if not r[0].startswith(("python", "capi_pull"))]:
    r = [ask(workers[wi], f"conc {cl} 1.5 64") for _ in range(2)]
    print(f"conc {name:<16} {max(x['requests'] / x['secs'] for x in r):>9.0f} req/s  failed {sum(x['failed'] for x in r)}")
for w in workers:
    if w: w.stdin.close(); w.wait()
PY
