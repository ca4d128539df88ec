#!/usr/bin/env bash
# The main job: build libanyllm.so and run examples/demo — one completion and one streamed
# completion through the C ABI. With a provider key set (OPENAI_API_KEY, ...) it calls that
# provider; otherwise the local provider emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
tools/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target demo -j2
ANYLLM_EMULATOR="$PWD/Tests/emulator/emulator.py" build/examples/demo "$@"
