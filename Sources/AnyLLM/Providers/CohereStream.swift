import CAnyLLMTypes

/// Cohere's chat stream → ChatCompletionChunks. Every event is a JSON object with a `type`
/// (message-start, content-start/delta/end, tool-plan-delta, tool-call-start/delta/end,
/// citation-start/end, message-end). It comes as SSE (`event:` lines are optional; a `[DONE]` is
/// ignored) or, when the server was not asked for SSE, as one JSON object per line: the first byte
/// of the body tells which. Tool calls get OpenAI indexes in order of appearance, stable across
/// their argument fragments; `message-end` carries the finish reason and usage.
final class CohereStreamDecoder: ChunkEmitter, StreamDecoder {
    private enum Framing { case unknown, sse, lines }
    private var framing = Framing.unknown
    private var sse = SSEDecoder()
    private var nd = NDJSONDecoder()
    private var events: [SSEEvent] = []
    private var lines: [[UInt8]] = []
    /// Whitespace read before the framing is known.
    private var leading: [UInt8] = []
    private(set) var isComplete = false
    private var toolIndexForCohere: [Int: Int] = [:]
    private var reasoningSent = false
    private var planStarted = false

    init(provider: String, model: String) {
        super.init(provider: provider, model: model, id: OpenAIShape.randomID("chatcmpl-"))
    }

    func feed(_ bytes: UnsafeRawBufferPointer, emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if isComplete { return }
        if framing == .unknown {
            // Whitespace before the first event says nothing; "{" starts a JSON line, anything else SSE.
            guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
                // Kept until the framing is known and then given to its decoder, so that what it sees
                // (and an error's byte offset) does not depend on how the body was cut into reads.
                leading.append(contentsOf: bytes)
                return
            }
            framing = first == UInt8(ascii: "{") ? .lines : .sse
            if !leading.isEmpty {
                let held = UnsafeMutableRawBufferPointer.allocate(byteCount: leading.count, alignment: 1)
                defer { held.deallocate() }
                held.copyBytes(from: leading)
                leading = []
                try feedCurrent(UnsafeRawBufferPointer(held), emit)
            }
        }
        try feedCurrent(bytes, emit)
    }

    private func feedCurrent(_ bytes: UnsafeRawBufferPointer, _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if framing == .lines { nd.feed(bytes, into: &lines) } else { sse.feed(bytes, into: &events) }
        try drain(emit)
    }

    func finish(emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if !isComplete {
            if framing == .lines { nd.finish(into: &lines) } else { sse.finish(into: &events) }
            try drain(emit)
        }
        if !isComplete {
            throw AnyLLMError(ANYLLM_E_PROVIDER, "the stream ended before message-end", provider: provider)
        }
    }

    private func drain(_ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        defer {
            events.removeAll(keepingCapacity: true)
            lines.removeAll(keepingCapacity: true)
        }
        for ev in events where !isComplete {
            if ev.data == Array("[DONE]".utf8) { continue }
            try handle(ev.data, eventName: ev.event, emit)
        }
        for l in lines where !isComplete { try handle(l, eventName: nil, emit) }
    }

    private func reasoning(_ text: String, _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        guard !text.isEmpty else { return }
        reasoningSent = true
        try send(JSONObject([("reasoning", .object(JSONObject([("content", .string(text))])))]), emit)
    }

    private func handle(_ data: [UInt8], eventName: String?, _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        let v = try ErrorMapping.parseProviderJSON(data, "stream event", provider: provider)
        let type = v["type"]?.string ?? eventName ?? ""
        let msg = v["delta"]?["message"]
        switch type {
        case "message-start":
            if let id = v["id"]?.string { self.id = id }
            try send(JSONObject([("content", .string(""))]), emit)
        case "content-start", "content-delta":
            let c = msg?["content"]
            if let t = c?["thinking"]?.string {
                try reasoning(t, emit)
            } else if let t = c?["text"]?.string, !t.isEmpty {
                try send(JSONObject([("content", .string(t))]), emit)
            }
        case "tool-plan-delta":
            var t = msg?["tool_plan"]?.string ?? ""
            if !planStarted && !t.isEmpty {
                planStarted = true
                if reasoningSent { t = "\n\n" + t }  // the same separator the non-streamed answer gets
            }
            try reasoning(t, emit)
        case "tool-call-start":
            let call = msg?["tool_calls"]
            let ti = toolIndexForCohere.count
            toolIndexForCohere[v["index"]?.int ?? ti] = ti
            let args = call?["function"]?["arguments"]?.string ?? ""
            let o = JSONObject([("index", .int(ti)), ("id", call?["id"] ?? .string(OpenAIShape.randomID("call_"))),
                                ("type", .string("function")),
                                ("function", .object(JSONObject([("name", call?["function"]?["name"] ?? .string("")),
                                                                 ("arguments", .string(args))])))])
            try send(JSONObject([("tool_calls", .array([.object(o)]))]), emit)
        case "tool-call-delta":
            let frag = msg?["tool_calls"]?["function"]?["arguments"]?.string ?? ""
            let ci = v["index"]?.int ?? max(0, toolIndexForCohere.count - 1)
            if let ti = toolIndexForCohere[ci], !frag.isEmpty {
                let o = JSONObject([("index", .int(ti)), ("function", .object(JSONObject([("arguments", .string(frag))])))])
                try send(JSONObject([("tool_calls", .array([.object(o)]))]), emit)
            }
        case "message-end":
            let d = v["delta"]
            let reason = d?["finish_reason"]?.string
            if let e = CohereChat.failure(reason, detail: d?["error"]?.string, provider: provider, body: v) { throw e }
            isComplete = true
            try send(JSONObject(), finish: CohereChat.finishReason(reason, hasCalls: !toolIndexForCohere.isEmpty), emit)
            if let u = CohereChat.usage(d?["usage"]) { try send(nil, usage: u, emit) }
        case "error":
            throw ErrorMapping.fromErrorObject(v, provider: provider)
        default:
            // content-end, tool-call-end, citations, debug, and event types added later.
            if type.isEmpty, v["message"]?.string != nil { throw ErrorMapping.fromErrorObject(v, provider: provider) }
        }
    }
}
