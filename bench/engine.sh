#!/usr/bin/env bash
# Engine benchmark: requests/s for 64 concurrent non-streamed calls through one client, next to
# wrk against the same nginx (the ceiling), and peak RSS with 1,000 concurrent streams.
# Usage: bench/engine.sh   (builds the library if needed; installs nginx and wrk from Debian)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
for p in nginx-light wrk; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null; }
done
[ -f build/lib/libanyllm.so ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null; cmake --build build --target anyllm_swift; }
work=$(mktemp -d)
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chmod 755 "$work"  # nginx workers run unprivileged
python3 bench/make_bodies.py "$work"
chmod 644 "$work"/*
sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$work|g" bench/nginx.conf.in > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5
gcc -O2 -I build/include bench/engine_bench.c -L build/lib -lanyllm -Wl,-rpath,"$PWD/build/lib" -lpthread -o "$work/engine_bench"
base="http://127.0.0.1:$port"
echo "machine: $(nproc) cores, $(uname -r); nginx $(nginx -v 2>&1 | sed 's/.*\///'); curl $(curl-config --version 2>/dev/null || pkg-config --modversion libcurl)"
echo "== wrk, 64 connections, 2 threads, 5 s (the ceiling)"
wrk -t2 -c64 -d5s "$base/v1/chat/completions" | grep -E "Requests/sec|Latency"
for i in 1 2 3; do
  "$work/engine_bench" "$base/v1" nonstream 100000 64
done
"$work/engine_bench" "$base/sse20/v1" streams 1000
"$work/engine_bench" "$base/sse1000/v1" streams 1000
