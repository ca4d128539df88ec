"""Writes the fixed bodies nginx serves: one ChatCompletion, and SSE streams of 20 and 1,000 chunks,
shaped like OpenAI's (ids, usage, [DONE])."""
import json
import sys

d = sys.argv[1]
base = {"id": "chatcmpl-bench", "created": 1750000000, "model": "gpt-4.1-mini", "system_fingerprint": "fp_bench"}
completion = dict(base, object="chat.completion", choices=[{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I help you today?", "refusal": None}, "logprobs": None, "finish_reason": "stop"}],
                  usage={"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18})
open(f"{d}/completion.json", "w").write(json.dumps(completion))


def sse(n):
    chunk = lambda delta, fin=None, **kw: "data: " + json.dumps(dict(base, object="chat.completion.chunk", choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": fin}], **kw), separators=(",", ":")) + "\n\n"
    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": f"tok{i} "}) for i in range(n)]
    out.append(chunk({}, "stop"))
    out.append("data: " + json.dumps(dict(base, object="chat.completion.chunk", choices=[], usage={"prompt_tokens": 9, "completion_tokens": n, "total_tokens": 9 + n}), separators=(",", ":")) + "\n\n")
    out.append("data: [DONE]\n\n")
    return "".join(out)


open(f"{d}/sse20.txt", "w").write(sse(20))
open(f"{d}/sse1000.txt", "w").write(sse(1000))
