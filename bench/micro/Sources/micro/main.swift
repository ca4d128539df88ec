// Micro-benchmarks of libanyllm's hot paths, no network: what one call costs in the library
// itself, per wire protocol, so that a regression shows in isolation.
//
//   micro [--quick] [--filter SUBSTRING]
//
// Prints one JSON object per line: {"name", "unit", "ns", "per"} — ns per unit (a request, an
// answer or a chunk), the median of several timed repetitions. Internal APIs are reached through
// `@testable import AnyLLM` (the package is built with -enable-testing; see Package.swift).
@testable import AnyLLM
import Glibc

// MARK: - inputs

let sample = "Hello! How can I help you today?"

/// A one-message request, as the end-to-end benchmarks send it.
func smallRequest(_ model: String, stream: Bool) -> String {
    """
    {"model":"\(model)","messages":"hi","api_key":"sk-bench","stream":\(stream),"client_args":{"max_retries":0}}
    """
}

/// A typical chat turn: system prompt, history, one tool, sampling parameters.
func chatRequest(_ model: String, stream: Bool) -> String {
    """
    {"model":"\(model)","stream":\(stream),"api_key":"sk-bench","temperature":0.2,"max_tokens":512,
     "messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly and cite sources when you can."},
                 {"role":"user","content":"What is the weather in Paris, and should I take an umbrella?"},
                 {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
                 {"role":"tool","tool_call_id":"call_1","content":"{\\"temp_c\\":14,\\"rain_probability\\":0.7}"},
                 {"role":"user","content":"Thanks. And tomorrow in Lyon? Résumé en français, s'il te plaît."}],
     "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city",
               "parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},
                             "unit":{"type":"string","enum":["c","f"]}},"required":["city"]}}}]}
    """
}

/// A long conversation as a gateway forwards it: 40 turns of about 1.2 KB of text each (≈50 KB),
/// with the escapes and non-ASCII text real messages carry.
func longRequest(_ model: String, stream: Bool) -> String {
    let para = #"Paragraph with \"quotes\", a tab\t, a newline\n and café, naïve, 東京 text. "#
    var turns: [String] = []
    for i in 0..<40 {
        let role = i % 2 == 0 ? "user" : "assistant"
        turns.append("{\"role\":\"\(role)\",\"content\":\"\(String(repeating: para, count: 15))\"}")
    }
    return "{\"model\":\"\(model)\",\"stream\":\(stream),\"api_key\":\"sk-bench\",\"temperature\":0.2,"
        + "\"messages\":[\(turns.joined(separator: ","))]}"
}

/// A vision request: a question and a 1 MB image as a base64 data URL.
func imageRequest(_ model: String, stream: Bool) -> String {
    let b64 = String(repeating: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", count: 11_000)
    return "{\"model\":\"\(model)\",\"stream\":\(stream),\"api_key\":\"sk-bench\",\"messages\":[{\"role\":\"user\",\"content\":["
        + "{\"type\":\"text\",\"text\":\"What is in this picture?\"},"
        + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,\(b64)\",\"detail\":\"high\"}}]}]}"
}

struct Proto {
    let name: String
    let model: String
    let answer: String
    let stream: (Int) -> String
}

func openAIStream(_ n: Int) -> String {
    let base = #""id":"chatcmpl-bench","created":1750000000,"model":"gpt-4.1-mini","system_fingerprint":"fp_bench","object":"chat.completion.chunk""#
    var s = "data: {\(base),\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    for i in 0..<n {
        s += "data: {\(base),\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok\(i) \"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    }
    s += "data: {\(base),\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n"
    s += "data: {\(base),\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":\(n),\"total_tokens\":\(9 + n)}}\n\n"
    s += "data: [DONE]\n\n"
    return s
}

func anthropicStream(_ n: Int) -> String {
    func ev(_ name: String, _ data: String) -> String { "event: \(name)\ndata: \(data)\n\n" }
    var s = ev("message_start", #"{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#)
    s += ev("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
    s += ev("ping", #"{"type": "ping"}"#)
    for i in 0..<n {
        s += ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tok\(i) \"}}")
    }
    s += ev("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
    s += ev("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":\(n)}}")
    s += ev("message_stop", #"{"type":"message_stop"}"#)
    return s
}

func geminiStream(_ n: Int) -> String {
    var s = ""
    for i in 0..<n {
        let fin = i == n - 1 ? ",\"finishReason\": \"STOP\"" : ""
        s += "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"tok\(i) \"}],\"role\": \"model\"}\(fin),\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": \(i + 1),\"totalTokenCount\": \(10 + i)},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"resp-bench\"}\r\n\r\n"
    }
    return s
}

func ollamaStream(_ n: Int) -> String {
    var s = ""
    for i in 0..<n {
        s += "{\"model\":\"llama3.2\",\"created_at\":\"2025-06-01T00:00:00.000000Z\",\"message\":{\"role\":\"assistant\",\"content\":\"tok\(i) \"},\"done\":false}\n"
    }
    s += "{\"model\":\"llama3.2\",\"created_at\":\"2025-06-01T00:00:00.000000Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":1,\"load_duration\":1,\"prompt_eval_count\":9,\"prompt_eval_duration\":1,\"eval_count\":\(n),\"eval_duration\":1}\n"
    return s
}

let protos: [Proto] = [
    Proto(name: "openai", model: "openai:gpt-4.1-mini",
          answer: #"{"id":"chatcmpl-bench","object":"chat.completion","created":1750000000,"model":"gpt-4.1-mini","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}"#,
          stream: openAIStream),
    Proto(name: "anthropic", model: "anthropic:claude-haiku-4-5",
          answer: #"{"id":"msg_bench","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"Hello! How can I help you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}}"#,
          stream: anthropicStream),
    Proto(name: "gemini", model: "gemini:gemini-2.5-flash",
          answer: #"{"candidates":[{"content":{"parts":[{"text":"Hello! How can I help you today?"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":9,"totalTokenCount":18},"modelVersion":"gemini-2.5-flash","responseId":"resp-bench"}"#,
          stream: geminiStream),
    Proto(name: "ollama", model: "ollama:llama3.2",
          answer: #"{"model":"llama3.2","created_at":"2025-06-01T00:00:00.000000Z","message":{"role":"assistant","content":"Hello! How can I help you today?"},"done_reason":"stop","done":true,"total_duration":1,"load_duration":1,"prompt_eval_count":9,"prompt_eval_duration":1,"eval_count":9,"eval_duration":1}"#,
          stream: ollamaStream),
]

// MARK: - harness

var quick = false
var filter: String?
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--quick": quick = true
    case "--filter": filter = args.next()
    default: fatalError("usage: micro [--quick] [--filter SUBSTRING]")
    }
}

@inline(never)
func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Times `body` (which handles `units` units per run): repetitions of at least `slice` seconds
/// each; prints the median ns per unit.
func bench(_ name: String, unit: String, units: Int, _ body: () -> Void) {
    if let f = filter, !name.contains(f) { return }
    body()  // warm-up (and a check that it runs)
    let reps = quick ? 3 : 7
    let slice = quick ? 0.04 : 0.12
    var perUnit: [Double] = []
    for _ in 0..<reps {
        var iters = 0
        let t0 = now()
        var t = t0
        repeat {
            body()
            iters += 1
            t = now()
        } while t - t0 < slice
        perUnit.append((t - t0) * 1e9 / Double(iters * units))
    }
    perUnit.sort()
    let med = perUnit[perUnit.count / 2]
    let spread = (perUnit.last! - perUnit.first!) / med * 100
    print("{\"name\":\"\(name)\",\"unit\":\"\(unit)\",\"ns\":\(Int(med.rounded())),\"spread_pct\":\(Int(spread.rounded()))}")
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Feeds a body to a stream decoder in pieces of `piece` bytes (curl hands over up to 16 KiB).
func feedAll(_ d: any StreamDecoder, _ body: UnsafeRawBufferPointer, piece: Int,
             _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) {
    var i = 0
    do {
        while i < body.count {
            let e = min(body.count, i + piece)
            try d.feed(UnsafeRawBufferPointer(rebasing: body[i..<e]), emit: emit)
            i = e
        }
        try d.finish(emit: emit)
    } catch {
        fatalError("decode failed: \(error.message)")
    }
}

func parsed(_ text: String) -> CompletionRequest {
    do { return try bytes(text).withUnsafeBytes { b throws(AnyLLMError) in try CompletionRequest.parse(b) } } catch {
        fatalError("request rejected: \(error)")
    }
}

// MARK: - benchmarks

// Request: JSON text → validated CompletionRequest (what every call does first, any protocol).
for (label, text) in [("small", smallRequest("openai:gpt-4.1-mini", stream: false)),
                      ("chat", chatRequest("openai:gpt-4.1-mini", stream: false)),
                      ("long", longRequest("openai:gpt-4.1-mini", stream: false)),
                      // Another wire: the messages are read as values (RequestScan keeps text for OpenAI's only).
                      ("long/anthropic", longRequest("anthropic:claude-haiku-4-5", stream: false)),
                      ("image", imageRequest("openai:gpt-4.1-mini", stream: false))] {
    let b = bytes(text)
    bench("request.parse/\(label)", unit: "request", units: 1) {
        b.withUnsafeBytes { p in blackHole(try? CompletionRequest.parse(p)) }
    }
}

// Request encode per protocol: endpoint resolution + the provider's HTTP request (URL, headers, body).
for p in protos {
    let impl = Protocols.implementation(parsed(smallRequest(p.model, stream: false)).provider.wire)
    for (label, text) in [("small", smallRequest(p.model, stream: false)), ("chat", chatRequest(p.model, stream: true)),
                          ("long", longRequest(p.model, stream: false)), ("image", imageRequest(p.model, stream: false))] {
        let r = parsed(text)
        bench("request.encode/\(p.name)/\(label)", unit: "request", units: 1) {
            do {
                let ep = try CallPolicy.resolveEndpoint(r)
                blackHole(try impl.encode(r, endpoint: ep))
            } catch { fatalError("\(error)") }
        }
    }
}

// Non-streamed answer → ChatCompletion bytes (pass-through for OpenAI when unchanged).
for p in protos {
    let r = parsed(smallRequest(p.model, stream: false))
    let impl = Protocols.implementation(r.provider.wire)
    let body = bytes(p.answer)
    bench("answer.decode/\(p.name)", unit: "answer", units: 1) {
        do { blackHole(try impl.decodeResponseBytes(body, request: r)) } catch { fatalError("\(error)") }
    }
}

// The same answer as OpenAI sends it today: indented two spaces a level, with annotations, token
// details and the service tier (the end-to-end benchmark's nginx body, bench/make_bodies.py, has
// the same members on one line).
let openAIIndented = """
    {
      "id": "chatcmpl-bench",
      "object": "chat.completion",
      "created": 1750000000,
      "model": "gpt-4.1-mini-2025-04-14",
      "choices": [
        {
          "index": 0,
          "message": {
            "role": "assistant",
            "content": "Hello! How can I help you today?",
            "refusal": null,
            "annotations": []
          },
          "logprobs": null,
          "finish_reason": "stop"
        }
      ],
      "usage": {
        "prompt_tokens": 9,
        "completion_tokens": 9,
        "total_tokens": 18,
        "prompt_tokens_details": {
          "cached_tokens": 0,
          "audio_tokens": 0
        },
        "completion_tokens_details": {
          "reasoning_tokens": 0,
          "audio_tokens": 0,
          "accepted_prediction_tokens": 0,
          "rejected_prediction_tokens": 0
        }
      },
      "service_tier": "default",
      "system_fingerprint": "fp_bench"
    }
    """
do {
    let r = parsed(smallRequest("openai:gpt-4.1-mini", stream: false))
    let impl = Protocols.implementation(r.provider.wire)
    let body = bytes(openAIIndented)
    bench("answer.decode/openai/indented", unit: "answer", units: 1) {
        do { blackHole(try impl.decodeResponseBytes(body, request: r)) } catch { fatalError("\(error)") }
    }
}

// Streams: 1,000 content chunks → decoder (framing, JSON parse, normalisation into OpenAI chunks).
// "stream.decode" emits to a counter; "stream.decode+aggregate" also does what a call does with
// each chunk (StreamAggregator.add) and serialises the aggregated ChatCompletion at the end.
let streamChunks = 1000
for p in protos {
    let r = parsed(smallRequest(p.model, stream: true))
    let impl = Protocols.implementation(r.provider.wire)
    let body = bytes(p.stream(streamChunks))
    body.withUnsafeBytes { raw in
        var count = 0
        feedAll(impl.streamDecoder(for: r), raw, piece: 16384) { _ in count += 1 }
        let chunks = count  // content chunks plus the role/finish/usage chunks the protocol produces
        bench("stream.decode/\(p.name)", unit: "chunk", units: chunks) {
            var n = 0
            feedAll(impl.streamDecoder(for: r), raw, piece: 16384) { c in n += c.withBytes { $0.count } }
            blackHole(n)
        }
        bench("stream.decode+aggregate/\(p.name)", unit: "chunk", units: chunks) {
            var agg = StreamAggregator()
            feedAll(impl.streamDecoder(for: r), raw, piece: 16384) { c in agg.add(c.json) }
            blackHole(agg.result().serialized)
        }
    }
}

// The pieces of the OpenAI stream path, separately.
do {
    let body = bytes(openAIStream(streamChunks))
    body.withUnsafeBytes { raw in
        bench("sse.frame/openai", unit: "event", units: streamChunks + 4) {
            var d = SSEDecoder()
            var evs: [SSEEvent] = []
            var i = 0
            while i < raw.count {
                let e = min(raw.count, i + 16384)
                d.feed(UnsafeRawBufferPointer(rebasing: raw[i..<e]), into: &evs)
                i = e
            }
            d.finish(into: &evs)
            blackHole(evs)
        }
    }
    let chunk = bytes(#"{"id":"chatcmpl-bench","created":1750000000,"model":"gpt-4.1-mini","system_fingerprint":"fp_bench","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok42 "},"logprobs":null,"finish_reason":null}]}"#)
    bench("json.parse/chunk", unit: "chunk", units: 1) { blackHole(try? JSONReader.parse(chunk)) }
    let v = try! JSONReader.parse(chunk)
    bench("json.write/chunk", unit: "chunk", units: 1) { blackHole(v.serialized) }
    let o = v.object!
    bench("aggregate.add/chunk", unit: "chunk", units: 100) {
        var agg = StreamAggregator()
        for _ in 0..<100 { agg.add(o) }
        blackHole(agg)
    }
}
