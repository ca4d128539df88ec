import CAnyLLMTypes

/// ConverseStream's event-stream messages → ChatCompletionChunks. Content blocks that are tool
/// uses get OpenAI tool-call indexes in order of appearance (0, 1, …), stable across fragments.
/// `messageStop` carries the finish reason; `metadata`, the last event, the usage.
final class BedrockStreamDecoder: ChunkEmitter, StreamDecoder {
    private var frames = EventStreamDecoder()
    private var messages: [EventStreamMessage] = []
    private(set) var isComplete = false
    private var stopped = false
    private var toolIndexForBlock: [Int: Int] = [:]
    private var structuredBlocks: Set<Int> = []
    private let structuredTool: String?

    init(provider: String, model: String, structuredTool: String?) {
        self.structuredTool = structuredTool
        super.init(provider: provider, model: model, id: OpenAIShape.randomID("chatcmpl-"))
    }

    func feed(_ bytes: UnsafeRawBufferPointer, emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if isComplete { return }
        do { try frames.feed(bytes, into: &messages) } catch {
            // Messages decoded before the bad frame still count: deliver them, then fail.
            try drain(emit)
            throw AnyLLMError(ANYLLM_E_PROVIDER, "the provider's stream is corrupt: \(error)", provider: provider)
        }
        try drain(emit)
    }

    func finish(emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if isComplete { return }
        do { try frames.finish() } catch {
            throw AnyLLMError(ANYLLM_E_PROVIDER, "the provider's stream is corrupt: \(error)", provider: provider)
        }
        // metadata (usage) is the documented last event, but a stream that reached messageStop is whole.
        if !stopped { throw AnyLLMError(ANYLLM_E_PROVIDER, "the stream ended before messageStop", provider: provider) }
    }

    private func drain(_ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        defer { messages.removeAll(keepingCapacity: true) }
        for m in messages where !isComplete { try handle(m, emit) }
    }

    private func handle(_ m: EventStreamMessage, _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        switch m.string(":message-type") ?? "event" {
        case "exception":
            throw exception(m.string(":exception-type") ?? "", m.payload)
        case "error":
            // The older error form: code and message in headers.
            let code = m.string(":error-code") ?? "", msg = m.string(":error-message") ?? "the stream reported an error"
            var e = AnyLLMError(BedrockConverse.status(forException: code, message: msg) ?? ANYLLM_E_PROVIDER, msg, provider: provider)
            e.extra.append(("error_type", .string(code)))
            throw e
        default: break
        }
        let v = try ErrorMapping.parseProviderJSON(m.payload, "stream event", provider: provider)
        switch m.string(":event-type") ?? "" {
        case "messageStart":
            try send(JSONObject([("content", .string(""))]), emit)
        case "contentBlockStart":
            let index = v["contentBlockIndex"]?.int ?? 0
            guard let tu = v["start"]?["toolUse"] else { return }
            let name = tu["name"]?.string ?? ""
            if let s = structuredTool, name == s { structuredBlocks.insert(index); return }
            let ti = toolIndexForBlock.count
            toolIndexForBlock[index] = ti
            let call = JSONObject([("index", .int(ti)), ("id", tu["toolUseId"] ?? .string("")), ("type", .string("function")),
                                   ("function", .object(JSONObject([("name", .string(name)), ("arguments", .string(""))])))])
            try send(JSONObject([("tool_calls", .array([.object(call)]))]), emit)
        case "contentBlockDelta":
            let index = v["contentBlockIndex"]?.int ?? 0
            let d = v["delta"]
            if let t = d?["text"]?.string {
                if !t.isEmpty { try send(JSONObject([("content", .string(t))]), emit) }
            } else if let frag = d?["toolUse"]?["input"]?.string {
                if frag.isEmpty { return }
                if structuredBlocks.contains(index) {
                    try send(JSONObject([("content", .string(frag))]), emit)
                } else if let ti = toolIndexForBlock[index] {
                    let call = JSONObject([("index", .int(ti)), ("function", .object(JSONObject([("arguments", .string(frag))])))])
                    try send(JSONObject([("tool_calls", .array([.object(call)]))]), emit)
                }
            } else if let r = d?["reasoningContent"] {
                var o = JSONObject([("content", .string(r["text"]?.string ?? ""))])
                if let sig = r["signature"]?.string, !sig.isEmpty { o["signature"] = .string(sig) }
                if o["content"] != .string("") || o["signature"] != nil { try send(JSONObject([("reasoning", .object(o))]), emit) }
            }
        case "messageStop":
            stopped = true
            let s = v["stopReason"]?.string
            let finish = structuredTool != nil && s == "tool_use" && toolIndexForBlock.isEmpty ? "stop" : BedrockConverse.finishReason(s)
            try send(JSONObject(), finish: finish, emit)
        case "metadata":
            isComplete = true
            if let u = BedrockConverse.usage(v["usage"]) { try send(nil, usage: u, emit) }
        default:
            break  // contentBlockStop, and event types added later
        }
    }

    /// An exception event: `{"message": ...}` under `:exception-type` → typed error.
    private func exception(_ type: String, _ payload: [UInt8]) -> AnyLLMError {
        let v = try? JSONReader.parse(payload)
        let msg = v?["message"]?.string ?? v?["Message"]?.string ?? "the stream reported \(type.isEmpty ? "an exception" : type)"
        var e = AnyLLMError(BedrockConverse.status(forException: type, message: msg) ?? ANYLLM_E_PROVIDER, msg, provider: provider)
        e.extra.append(("error_type", .string(type)))
        if let v { e.providerError = v } else if !payload.isEmpty { e.providerError = .string(ErrorMapping.truncatedText(payload)) }
        return e
    }
}
