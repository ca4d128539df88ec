#!/usr/bin/env bash
# The benchmark suite in one command: libanyllm (C API blocking and non-blocking, Python binding,
# Rust binding when it builds) against raw libcurl, the openai SDK, any-llm-sdk and litellm, all on
# the same loopback nginx; then the instruction profile (callgrind, perf) and the micro-benchmarks.
# Prints a table and writes bench/results.md and bench/results.json.
#
#   bench/run.sh [--quick] [--only PHASE,...]     phases: load,seq,conc,rss,profile,pyprofile,micro
#
# Installs what it needs (Debian: nginx-light, wrk, valgrind, linux-perf, python3-venv, libcurl
# headers; PyPI, into bench/.venv: openai, any-llm-sdk, litellm), builds the library if needed
# (BENCH_REBUILD=1 forces it) under /tmp/anyllm-build.lock. About 5 minutes on 2 cores (--quick:
# about 3), not counting the first venv install and builds.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

quick=""
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick="--quick" ;;
    --only) only="$2"; shift ;;
    *) echo "usage: bench/run.sh [--quick] [--only PHASE,...]" >&2; exit 2 ;;
  esac
  shift
done

echo "== setup (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
bench_packages nginx-light wrk valgrind linux-perf python3-venv libcurl4-openssl-dev curl gcc
bench_library

# The Python SDKs, in a venv of their own (bench/.venv, git-ignored).
venv=bench/.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import openai, any_llm, litellm" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q openai any-llm-sdk litellm
fi

work=$(mktemp -d /tmp/anyllm-bench.XXXXXX)
trap 'bench_nginx_stop "$work"; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# A private copy of the library: every phase measures the same build, even if build/ is rebuilt by
# other work on this machine while the benchmark runs.
mkdir -p "$work/lib"
cp build/lib/libanyllm.so "$work/lib/libanyllm.so"

# The C clients: with both libraries, and with libcurl only (the floor's memory and load figures
# carry nothing of libanyllm).
gcc -O2 -Wall -I build/include bench/clients.c -L "$work/lib" -lanyllm -lcurl -lpthread \
  -Wl,-rpath,"$work/lib" -o "$work/clients"
gcc -O2 -Wall -DRAW_ONLY bench/clients.c -lcurl -lpthread -o "$work/clients_raw"
gcc -O2 -Wall bench/loadtime.c -ldl -o "$work/loadtime"

# The Rust binding: included only when `cargo build --release --offline` works in bindings/rust.
# (Its own target directory is left alone: the bench builds into bench/.rust-target.)
rust_bin=""
rust_note=""
if [ -f bindings/rust/Cargo.toml ] && command -v cargo >/dev/null; then
  if (cd bindings/rust && CARGO_TARGET_DIR="$PWD/../../bench/.rust-target" cargo build --release --offline -q) >"$work/rust.log" 2>&1 &&
     (cd bench/rust && CARGO_TARGET_DIR="$PWD/../.rust-target" cargo build --release --offline -q) >>"$work/rust.log" 2>&1; then
    rust_bin="$PWD/bench/.rust-target/release/rust_client"
  else
    rust_note="SKIPPED: cargo build --release --offline failed (see below)"
    echo "Rust binding skipped: $(tail -3 "$work/rust.log")" >&2
  fi
else
  rust_note="SKIPPED: no bindings/rust or no cargo"
fi

# The micro-benchmarks: a Swift package using the repository's package by path (own .build).
micro=""
if [ -z "$only" ] || [[ ",$only," == *",micro,"* ]]; then
  if (cd bench/micro && flock /tmp/anyllm-build.lock swift build -c release -Xswiftc -enable-testing -q) >"$work/micro.log" 2>&1; then
    micro="$PWD/bench/micro/.build/release/micro"
  else
    echo "micro-benchmarks did not build: $(tail -5 "$work/micro.log")" >&2
  fi
fi

bench_nginx "$work"
echo "== nginx on $bench_base; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/bench.py --base "$bench_base" --work "$work" --bin "$work" --lib "$work/lib/libanyllm.so" \
  --python "$venv/bin/python" --rust "$rust_bin" --rust-note "$rust_note" --micro "$micro" $quick \
  ${only:+--only "$only"}
