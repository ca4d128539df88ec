#!/usr/bin/env bash
# Builds fuzz/.work/anyllm-fuzz: the library's decoding sources (no transport, client or C ABI:
# they need curl and threads, and no decoder uses them) compiled together with fuzz/*.swift and
# fuzz/targets/*.swift as one module, with libFuzzer and AddressSanitizer. Outside the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
out=fuzz/.work
mkdir -p "$out"
# Everything under Sources/AnyLLM except the parts that drive curl and calls; a new decoder or
# protocol file in Core/, Providers/ or Streaming/ is picked up without a change here.
mapfile -t lib < <(find Sources/AnyLLM -name '*.swift' \
    -not -path '*/CABI/*' -not -path '*/Client/*' -not -path '*/Transport/*' | sort)
lib+=(Sources/AnyLLM/Transport/HTTPTypes.swift)
mapfile -t harness < <(find fuzz -maxdepth 2 -name '*.swift' -not -path 'fuzz/.work/*' | sort)
# -g for symbolised reports; lld (from the toolchain) links the sanitizer runtimes without gold's
# warnings. -parse-as-library: the entry points are @_cdecl functions, libFuzzer has main().
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld \
    -module-name AnyLLM -I Sources/CAnyLLMTypes \
    "${lib[@]}" "${harness[@]}" -o "$out/anyllm-fuzz"
echo "built $out/anyllm-fuzz (${#lib[@]} library files, ${#harness[@]} fuzz files)"
