#!/usr/bin/env bash
# Every test: Swift unit tests, the C tests (ctest: plain and under valgrind, header check), the
# emulator's own tests, the real local model (Tests/localmodel: llama-server + Gemma 3 270M), the Python
# binding, the Rust crate and a short run of every fuzz target. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$HOME/.cargo/bin:$PATH"
tools/install_deps.sh

echo "== swift test"
swift test

echo "== cmake build + ctest (C tests: plain, valgrind, ASan+UBSan, TSan; header check)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2
(cd build && ctest --output-on-failure -j2)

echo "== local model: llama-server + Gemma 3 270M (the first run builds and caches it, about 6 minutes)"
tools/local_model.sh build

echo "== python tests"
py_tests=(Tests/emulator_tests Tests/localmodel)
[ -d bindings/python/tests ] && py_tests+=(bindings/python/tests)
ANYLLM_LIBRARY="$PWD/build/lib/libanyllm.so" python3 -m pytest -q "${py_tests[@]}"

if [ -f bindings/rust/Cargo.toml ]; then
  echo "== rust tests"
  (cd bindings/rust && ANYLLM_LIB_DIR="$PWD/../../build/lib" cargo test --offline)
fi
echo "== fuzz: every libFuzzer target briefly (docs/fuzzing.md; about 3-4 minutes with the ASan build)"
# A fixed seed: the same commit gets the same verdict. Finding new bugs is the job of longer, random runs
# (fuzz/run.sh 60; docs/fuzzing.md), whose findings become regression inputs replayed here first.
FUZZ_SEED="${FUZZ_SEED:-1}" fuzz/run.sh "${ANYLLM_FUZZ_SECONDS:-4}"

echo "all test suites passed"
