#!/usr/bin/env bash
# Engine benchmark: requests/s for 64 concurrent non-streamed calls through one client, next to
# wrk against the same nginx (the ceiling), and peak RSS with 1,000 concurrent streams.
# Usage: bench/engine.sh   (builds the library if needed; installs nginx and wrk from Debian)
# bench/run.sh measures the same and more against raw libcurl and the Python SDKs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_packages nginx-light wrk
bench_library
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
work=$(mktemp -d)
trap 'bench_nginx_stop "$work"; rm -rf "$work"' EXIT
bench_nginx "$work"
gcc -O2 -I build/include bench/engine_bench.c -L build/lib -lanyllm -Wl,-rpath,"$PWD/build/lib" -lpthread -o "$work/engine_bench"
base=$bench_base
echo "machine: $(nproc) cores, $(uname -r); nginx $(nginx -v 2>&1 | sed 's/.*\///'); curl $(curl-config --version 2>/dev/null || pkg-config --modversion libcurl)"
echo "== wrk, 64 connections, 2 threads, 5 s (the ceiling)"
wrk -t2 -c64 -d5s "$base/v1/chat/completions" | grep -E "Requests/sec|Latency"
for i in 1 2 3; do
  "$work/engine_bench" "$base/v1" nonstream 100000 64
done
"$work/engine_bench" "$base/sse20/v1" streams 1000
"$work/engine_bench" "$base/sse1000/v1" streams 1000
