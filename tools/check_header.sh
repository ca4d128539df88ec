#!/usr/bin/env bash
# Checks that include/anyllm.h (committed) is exactly what the Swift @c declarations generate, that it
# compiles as strict C99 and C++17, that its prototypes agree with swiftc's own header, and that
# the library exports exactly the functions it declares.
# Usage: tools/check_header.sh RAW_GENERATED_HEADER LIBANYLLM_SO
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
raw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
so=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$root/tools/gen_header.py" --check "$raw" "$root/include/anyllm.h"

printf '#include "anyllm.h"\nint main(void) { return anyllm_version() == 0; }\n' > "$tmp/t.c"
gcc -std=c99 -Wall -Wextra -pedantic -Werror -I"$root/include" -c "$tmp/t.c" -o "$tmp/c.o"
cp "$tmp/t.c" "$tmp/t.cpp"
g++ -std=c++17 -Wall -Wextra -pedantic -Werror -I"$root/include" -c "$tmp/t.cpp" -o "$tmp/cpp.o"
echo "anyllm.h compiles as C99 and C++17 with -Wall -Wextra -pedantic -Werror"

# Both declarations of every function in one translation unit: any mismatch is a C error.
printf '#include "anyllm.h"\n#include "%s"\n' "$raw" > "$tmp/both.c"
gcc -std=c11 -w -I"$root/include" -I"$root/Sources/CAnyLLMTypes" -fsyntax-only "$tmp/both.c"
echo "anyllm.h agrees with swiftc's generated declarations"

declared=$(grep -oE '\banyllm_[a-z_]+\(' "$root/include/anyllm.h" | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sort -u)
if [ "$declared" != "$exported" ]; then
  echo "declared functions and exported symbols differ:"
  diff <(echo "$declared") <(echo "$exported") || true
  exit 1
fi
echo "exported symbols = declared functions ($(echo "$declared" | wc -l) functions)"
