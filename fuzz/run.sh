#!/usr/bin/env bash
# fuzz/run.sh [seconds-per-target] [target…]: builds the fuzz binary, makes the seed corpora, then
# runs each target (all when none is named) for that long, one after the other (default 60 s).
# Exits non-zero as soon as a target crashes, leaks, times out or breaks an invariant; the input is
# saved under fuzz/.work/crashes/<target>/ and the command to reproduce it is printed.
# Every run first replays Tests/fixtures/fuzz-regressions/<target>/ (earlier findings).
# Environment: FUZZ_SEED=N fixes libFuzzer's seed; FUZZ_NO_BUILD=1 reuses the built binary; FUZZ_KEEP_GOING=1 runs the other targets
# after a failure (and still exits non-zero). One target at a time: the machine has two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
work=fuzz/.work
bin=$work/anyllm-fuzz

[ "${FUZZ_NO_BUILD:-}" = 1 ] && [ -x "$bin" ] || fuzz/build.sh
python3 fuzz/seed.py "$work/seeds"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
# The Swift runtime's own crash backtracer would run inside the ASan process and trip it: off.
export SWIFT_BACKTRACE=enable=no
export ASAN_SYMBOLIZER_PATH=/opt/swift/usr/bin/llvm-symbolizer
mapfile -t rows < <(ANYLLM_FUZZ_TARGET=list "$bin")
if [ $# -eq 0 ]; then set -- $(printf '%s\n' "${rows[@]}" | cut -d' ' -f1); fi

failed=()
for target in "$@"; do
    row=$(printf '%s\n' "${rows[@]}" | awk -v t="$target" '$1 == t') || true
    [ -n "$row" ] || { echo "unknown target $target; known: $(printf '%s\n' "${rows[@]}" | cut -d' ' -f1 | tr '\n' ' ')"; exit 2; }
    read -r _ dict seeds <<<"$row"
    corpus=$work/corpus/$target       # grows across runs; libFuzzer writes new inputs here only
    crashes=$work/crashes/$target
    mkdir -p "$corpus" "$crashes"
    dirs=("$corpus")
    for s in $seeds; do [ -d "$work/seeds/$s" ] && dirs+=("$work/seeds/$s"); done
    [ -d "fuzz/corpus/$target" ] && dirs+=("fuzz/corpus/$target")
    [ -d "Tests/fixtures/fuzz-regressions/$target" ] && dirs+=("Tests/fixtures/fuzz-regressions/$target")
    args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
          -artifact_prefix="$crashes/")
    # libFuzzer takes one dictionary: the target's are joined.
    for d in ${dict//+/ }; do cat "fuzz/dict/$d.dict"; done >"$work/$target.dict"
    args+=(-dict="$work/$target.dict")
    # FUZZ_SEED: a fixed mutation sequence (tools/test_all.sh sets one, so that CI's verdict on a commit does
    # not depend on luck); unset, libFuzzer picks a random seed (exploratory runs).
    [ -n "${FUZZ_SEED:-}" ] && args+=(-seed="$FUZZ_SEED")
    echo "== fuzz $target: ${secs}s (corpus: ${dirs[*]})"
    log=$work/$target.log
    if ! ANYLLM_FUZZ_TARGET=$target "$bin" "${args[@]}" "${dirs[@]}" >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "FUZZ FAILURE in $target: input saved in $crashes/ (log $log)"
        echo "reproduce: ANYLLM_FUZZ_TARGET=$target $bin $crashes/<file>"
        failed+=("$target")
        [ "${FUZZ_KEEP_GOING:-}" = 1 ] || exit 1
        continue
    fi
    grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs|cov: ' "$log" | tail -n 2 | sed 's/^/   /'
done
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz: failed: ${failed[*]}"; exit 1; fi
echo "fuzz: $# targets passed"
