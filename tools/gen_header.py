#!/usr/bin/env python3
"""Generate include/anyllm.h from the header swiftc emits for the @c functions.

swiftc's -emit-clang-header-path output is correct but noisy (about 400 lines of macro prologue,
Objective-C and C++ branches, nullability annotations, curly quotes in comments). This keeps what a
C user needs: one documented prototype per exported function, in API order, in plain C that
compiles as C99 and C++ with -Wall -Wextra -pedantic -Werror.

  gen_header.py RAW_HEADER OUT_HEADER      write OUT_HEADER
  gen_header.py --check RAW_HEADER HEADER  exit 1 (with a diff) when HEADER is not what RAW_HEADER gives
"""
import difflib
import re
import sys

# The order in which functions appear in the public header; anything else exported comes last.
ORDER = [
    "anyllm_version", "anyllm_providers",
    "anyllm_client_new", "anyllm_client_free",
    "anyllm_completion",
    "anyllm_completion_start", "anyllm_completion_open", "anyllm_completion_open_notify", "anyllm_call_next", "anyllm_call_cancel", "anyllm_call_wait", "anyllm_call_free",
    "anyllm_string_free",
]

PREAMBLE = r'''/*
 * anyllm.h — libanyllm's C API: one OpenAI-compatible completion call for every LLM provider.
 *
 * GENERATED from the Swift @c declarations in Sources/AnyLLM/CABI by tools/gen_header.py: do not
 * edit; change the Swift doc comments and rebuild. Types, status codes and callbacks are in
 * anyllm_types.h.
 *
 * Requests and results are JSON (UTF-8, NUL-terminated):
 *   request   any-llm's completion() parameters as one object:
 *             {"model": "openai:gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}],
 *              "stream": true, "temperature": 0.2, "tools": [...], "api_key": "...", ...}
 *             Keys that are not completion() parameters go to the provider's body unchanged.
 *   result    an OpenAI ChatCompletion; a stream delivers ChatCompletionChunks to on_chunk and
 *             its result is the ChatCompletion aggregated from them.
 *   error     {"error": {"type": "rate_limit", "message": "...", "status": 429, "provider": "openai",
 *             "retry_after": 2.0, "attempts": 3, "provider_error": {...}, "partial": {...}}}
 *             "type" names the anyllm_status; "partial" holds what a broken stream had delivered.
 *             No API key ever appears in an error.
 *
 * Ownership: every `char *` the library returns through an out-parameter or as a return value is
 * a new string that the caller frees with anyllm_string_free (anyllm_version's is static). Strings
 * passed to callbacks are valid only during the callback. The library never keeps a pointer to a
 * caller's string after the function returns.
 *
 * Threads: every function may be called from any thread. A client is shared safely by many
 * threads. Callbacks of anyllm_completion run on the calling thread; those of
 * anyllm_completion_start on a thread of the library, one at a time per call.
 */
#ifndef ANYLLM_H
#define ANYLLM_H

#include "anyllm_types.h"

#ifdef __cplusplus
extern "C" {
#endif
'''

POSTAMBLE = r'''
#ifdef __cplusplus
}
#endif

#endif /* ANYLLM_H */
'''


def parse(raw):
    """(name, doc lines, declaration) for each SWIFT_EXTERN function, with its /// comment."""
    out = []
    doc = []
    for line in raw.splitlines():
        s = line.strip()
        if s.startswith("///"):
            doc.append(s[3:].strip())
            continue
        if s.startswith("SWIFT_EXTERN") and "(" in s:
            name = re.search(r"(anyllm_\w+)\s*\(", s).group(1)
            out.append((name, doc, s))
        doc = []
    return out


def clean_decl(decl):
    d = decl.replace("SWIFT_EXTERN", "")
    for tok in ("_Nullable", "_Nonnull", "SWIFT_NOEXCEPT", "SWIFT_WARN_UNUSED_RESULT"):
        d = d.replace(tok, "")
    d = d.replace("anyllm_client_handle", "anyllm_client *").replace("anyllm_call_handle", "anyllm_call *")
    d = d.replace("char const *", "const char *")
    d = re.sub(r"\*\s+\*", "**", d)
    d = re.sub(r"\s+", " ", d).strip()
    d = re.sub(r"\*\s+(\w)", r"*\1", d)         # "char * s" -> "char *s"
    d = re.sub(r"(\w)\*", r"\1 *", d)            # "char*" -> "char *"
    d = re.sub(r"\s+\)", ")", d).replace("( ", "(")
    d = re.sub(r"\s*;\s*$", ";", d)
    return d


def clean_doc(lines):
    text = [l.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'").replace("\u2018", "'")
             .replace("\u2026", "...").replace("\u2014", "-").replace("\u2013", "-")
             .replace("<code>", "").replace("</code>", "") for l in lines]
    while text and not text[-1]:
        text.pop()
    return ["/*"] + [(" * " + l).rstrip() for l in text] + [" */"]


def generate(raw):
    funcs = parse(raw)
    by_name = {n: (doc, decl) for n, doc, decl in funcs}
    names = [n for n in ORDER if n in by_name] + sorted(n for n in by_name if n not in ORDER)
    body = []
    for n in names:
        doc, decl = by_name[n]
        body.append("")
        body.extend(clean_doc(doc))
        body.append(clean_decl(decl))
    return PREAMBLE + "\n".join(body) + "\n" + POSTAMBLE


def main(argv):
    if len(argv) == 4 and argv[1] == "--check":
        want = generate(open(argv[2], encoding="utf-8").read())
        have = open(argv[3], encoding="utf-8").read()
        if want != have:
            sys.stdout.writelines(difflib.unified_diff(have.splitlines(True), want.splitlines(True),
                                                       argv[3], "regenerated"))
            print(f"\n{argv[3]} is stale: run `python3 tools/gen_header.py {argv[2]} {argv[3]}`")
            return 1
        print(f"{argv[3]} matches the Swift declarations")
        return 0
    if len(argv) == 3:
        open(argv[2], "w", encoding="utf-8").write(generate(open(argv[1], encoding="utf-8").read()))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
