# Shared by bench/engine.sh and bench/run.sh (sourced from the repository root): Debian packages,
# the library build, and nginx serving the fixed bodies on a free loopback port.
export PATH="/opt/swift/usr/bin:$PATH"

# bench_packages PKG...: installs the Debian packages that are missing.
bench_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# bench_library: builds build/lib/libanyllm.so (release) unless it is there; the build directory
# is shared with other work on this machine, hence the lock.
bench_library() {
  if [ ! -f build/lib/libanyllm.so ] || [ "${BENCH_REBUILD:-0}" = 1 ]; then
    flock /tmp/anyllm-build.lock cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    flock /tmp/anyllm-build.lock cmake --build build --target anyllm_swift
  fi
}

# bench_nginx WORKDIR: writes the bodies and the config into WORKDIR, starts nginx on a free
# port, sets $bench_port and $bench_base. Stop it with bench_nginx_stop WORKDIR.
bench_nginx() {
  local work=$1
  bench_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  chmod 755 "$work"  # nginx workers run unprivileged
  python3 bench/make_bodies.py "$work"
  chmod 644 "$work"/completion.json "$work"/sse20.txt "$work"/sse1000.txt
  sed -e "s|@PORT@|$bench_port|g" -e "s|@DIR@|$work|g" bench/nginx.conf.in > "$work/nginx.conf"
  nginx -c "$work/nginx.conf" -p "$work"
  bench_base="http://127.0.0.1:$bench_port"
  for _ in $(seq 50); do
    curl -sf -o /dev/null "$bench_base/nginx_status" && return 0
    sleep 0.1
  done
  echo "nginx did not start: $(cat "$work/error.log" 2>/dev/null)" >&2
  return 1
}

bench_nginx_stop() {
  local pidfile=$1/nginx.pid
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
}
