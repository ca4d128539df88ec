"""Writes the fixed bodies nginx serves: one ChatCompletion, and SSE streams of 20 and 1,000 chunks,
shaped like OpenAI's (ids, service tier, usage, [DONE]; each chunk with the random `obfuscation`
padding OpenAI adds to streamed chunks by default, of varying length)."""
import json
import random
import sys

d = sys.argv[1]
base = {"id": "chatcmpl-bench", "created": 1750000000, "model": "gpt-4.1-mini", "system_fingerprint": "fp_bench"}
# As OpenAI answers today: annotations, token details, the service tier.
completion = dict(base, object="chat.completion", choices=[{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I help you today?", "refusal": None, "annotations": []}, "logprobs": None, "finish_reason": "stop"}],
                  usage={"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18,
                         "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                         "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
                  service_tier="default")
open(f"{d}/completion.json", "w").write(json.dumps(completion))


def sse(n):
    rng = random.Random(n)  # the same bodies every run
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    pad = lambda: "".join(rng.choice(letters) for _ in range(rng.randint(2, 12)))
    chunk = lambda delta, fin=None, **kw: "data: " + json.dumps(dict(base, object="chat.completion.chunk", service_tier="default", choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": fin}], obfuscation=pad(), **kw), separators=(",", ":")) + "\n\n"
    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": f"tok{i} "}) for i in range(n)]
    out.append(chunk({}, "stop"))
    out.append("data: " + json.dumps(dict(base, object="chat.completion.chunk", choices=[], usage={"prompt_tokens": 9, "completion_tokens": n, "total_tokens": 9 + n}), separators=(",", ":")) + "\n\n")
    out.append("data: [DONE]\n\n")
    return "".join(out)


open(f"{d}/sse20.txt", "w").write(sse(20))
open(f"{d}/sse1000.txt", "w").write(sse(1000))
