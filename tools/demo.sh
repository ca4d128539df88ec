#!/usr/bin/env bash
# The main job: build libanyllm.so and run examples/demo — one completion and one streamed
# completion through the C ABI. With a provider key set (OPENAI_API_KEY, ...) it calls that
# provider; otherwise a real local model: llama.cpp's llama-server with Gemma 3 270M
# (tools/local_model.sh; the first run builds and caches it, about 6 minutes on 2 cores).
# ANYLLM_DEMO=emulator uses the local provider emulator instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
tools/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target demo -j2
keys=""
for k in OPENAI_API_KEY ANTHROPIC_API_KEY MISTRAL_API_KEY GROQ_API_KEY DEEPSEEK_API_KEY OPENROUTER_API_KEY ANYLLM_MODEL; do
  keys+="${!k:-}"
done
if [ $# -eq 0 ] && [ -z "$keys" ] && [ "${ANYLLM_DEMO:-}" != emulator ]; then
  echo "no provider API key set: using a local model, llama.cpp's llama-server with Gemma 3 270M" \
       "(set ANYLLM_DEMO=emulator for the provider emulator)"
  exec tools/local_model.sh run build/examples/demo llamacpp:gemma-3-270m
fi
ANYLLM_EMULATOR="$PWD/Tests/emulator/emulator.py" build/examples/demo "$@"
