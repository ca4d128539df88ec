import CAnyLLMTypes

/// Ollama's native chat API (`POST {base}/api/chat`, NDJSON stream). Generation parameters go in
/// `options`; tool-call arguments are JSON objects (strings in OpenAI); `stream` defaults to true
/// in Ollama, so it is always sent. `reasoning_effort` → `think`: "none" → false, low/medium/high
/// → that level (models that take levels), minimal → "low", xhigh → "high".
struct OllamaChat: WireProtocol {
    static let thinkLevels: [String: JSON] = ["none": .bool(false), "minimal": .string("low"), "low": .string("low"),
                                              "medium": .string("medium"), "high": .string("high"), "xhigh": .string("high")]

    func encode(_ req: CompletionRequest, endpoint: Endpoint) throws(AnyLLMError) -> HTTPRequest {
        var base = endpoint.base
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }  // the OpenAI-compatible base given by habit
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let k = endpoint.apiKey { headers.append(("Authorization", "Bearer \(k)")) }

        var body = JSONObject()
        body["model"] = .string(req.model)
        body["messages"] = .array(try Self.convertMessages(req.messages))
        body["stream"] = .bool(req.stream)
        var options = req.extras["options"]?.object ?? JSONObject()
        if let v = req.params["temperature"] { options["temperature"] = v }
        if let v = req.params["top_p"] { options["top_p"] = v }
        if let v = req.params["max_completion_tokens"] ?? req.params["max_tokens"] { options["num_predict"] = v }
        if let s = OpenAIShape.stops(req.params["stop"]) { options["stop"] = .array(s) }
        if let v = req.params["seed"] { options["seed"] = v }
        if let v = req.params["presence_penalty"] { options["presence_penalty"] = v }
        if let v = req.params["frequency_penalty"] { options["frequency_penalty"] = v }
        if let v = req.extras["top_k"] { options["top_k"] = v }
        if !options.isEmpty { body["options"] = .object(options) }
        if var tools = req.params["tools"]?.array, !tools.isEmpty {
            // Ollama has no tool_choice: "none" sends no tools, a named tool sends only that one;
            // "required" cannot be enforced and sends the tools as for "auto".
            switch req.params["tool_choice"] {
            case .string("none")?: tools = []
            case let tc?:
                if let name = tc["function"]?["name"]?.string { tools = tools.filter { $0["function"]?["name"]?.string == name } }
            case nil: break
            }
            if !tools.isEmpty { body["tools"] = .array(tools) }
        }
        if let rf = req.params["response_format"] {
            switch rf["type"]?.string {
            case "json_object"?: body["format"] = .string("json")
            case "json_schema"?: body["format"] = rf["json_schema"]?["schema"] ?? .string("json")
            default: break
            }
        }
        if let e = req.reasoningEffort, let think = Self.thinkLevels[e] { body["think"] = think }
        for (k, v) in req.extras.members where k != "options" && k != "top_k" { body[k] = v }
        return HTTPRequest(url: base + "/api/chat", headers: headers, body: JSON.object(body).serialized)
    }

    static func convertMessages(_ msgs: [JSON]) throws(AnyLLMError) -> [JSON] {
        var out: [JSON] = []
        for (i, m) in msgs.enumerated() {
            let at = "messages[\(i)]"
            var role = m["role"]?.string ?? "user"
            if role == "developer" { role = "system" }
            if role == "function" { role = "tool" }
            var o = JSONObject([("role", .string(role)), ("content", .string(OpenAIShape.text(m["content"])))])
            var images: [JSON] = []
            for (j, p) in (m["content"]?.array ?? []).enumerated() where p["type"]?.string == "image_url" {
                guard let url = OpenAIShape.imageURL(p), let d = OpenAIShape.dataURL(url) else {
                    throw OpenAIShape.unsupported("\(at).content[\(j)].image_url", "ollama",
                                                  "images must be base64 data: URLs (Ollama does not fetch URLs)")
                }
                images.append(.string(d.data))
            }
            if !images.isEmpty { o["images"] = .array(images) }
            if let calls = m["tool_calls"]?.array, !calls.isEmpty {
                var conv: [JSON] = []
                for (j, c) in calls.enumerated() {
                    let args = try OpenAIShape.argumentsObject(c["function"]?["arguments"]?.string,
                                                               at: "\(at).tool_calls[\(j)].function.arguments")
                    conv.append(.object(JSONObject([("function", .object(JSONObject([("name", c["function"]?["name"] ?? .string("")),
                                                                                     ("arguments", args)])))])))
                }
                o["tool_calls"] = .array(conv)
            }
            if role == "tool", let id = m["tool_call_id"]?.string,
               let name = OpenAIShape.toolName(forCallID: id, in: Array(msgs[..<i])) {
                o["tool_name"] = .string(name)
            }
            if let r = m["reasoning"]?["content"]?.string { o["thinking"] = .string(r) }
            out.append(.object(o))
        }
        return out
    }

    static func toolCalls(_ v: JSON?, indexBase: Int, withIndex: Bool) -> [JSON] {
        (v?.array ?? []).enumerated().map { i, c in
            var call = OpenAIShape.toolCall(id: c["id"]?.string ?? OpenAIShape.randomID("call_"),
                                            name: c["function"]?["name"]?.string ?? "",
                                            arguments: OpenAIShape.compact(c["function"]?["arguments"] ?? .object(JSONObject()))).object!
            if withIndex { call.members.insert(("index", .int(indexBase + i)), at: 0) }
            return .object(call)
        }
    }

    static func usage(_ v: JSON) -> JSON? {
        guard v["prompt_eval_count"] != nil || v["eval_count"] != nil else { return nil }
        return OpenAIShape.usage(prompt: v["prompt_eval_count"]?.int ?? 0, completion: v["eval_count"]?.int ?? 0)
    }

    static func finishReason(_ v: JSON, hasCalls: Bool) -> String {
        if v["done_reason"]?.string == "length" { return "length" }
        return hasCalls ? "tool_calls" : "stop"
    }

    func decodeResponse(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> JSON {
        let provider = request.provider.name
        let v = try ErrorMapping.parseProviderJSON(body, "answer", provider: provider)
        if v["error"] != nil { throw ErrorMapping.fromErrorObject(v, provider: provider) }
        guard let m = v["message"] else {
            var e = AnyLLMError(ANYLLM_E_PROVIDER, "the provider's answer has no \"message\"", provider: provider)
            e.providerError = v
            throw e
        }
        let calls = Self.toolCalls(m["tool_calls"], indexBase: 0, withIndex: false)
        let content = m["content"]?.string ?? ""
        let msg = OpenAIShape.message(content: content.isEmpty && !calls.isEmpty ? nil : content,
                                      reasoning: m["thinking"]?.string, toolCalls: calls)
        return OpenAIShape.completion(id: OpenAIShape.randomID("chatcmpl-"), model: v["model"]?.string ?? request.model,
                                      created: OpenAIShape.now(), message: msg,
                                      finishReason: Self.finishReason(v, hasCalls: !calls.isEmpty), usage: Self.usage(v))
    }

    func streamDecoder(for req: CompletionRequest) -> any StreamDecoder {
        OllamaStreamDecoder(provider: req.provider.name, model: req.model)
    }

    /// Ollama streams `application/x-ndjson`; a stream request answered with one JSON object is
    /// still one NDJSON line, so every 2xx body goes through the stream decoder.
    func streamsBody(contentType: String) -> Bool { true }
}

/// Ollama NDJSON lines → ChatCompletionChunks; the `done: true` line ends the stream and carries
/// the token counts.
final class OllamaStreamDecoder: ChunkEmitter, StreamDecoder {
    private var nd = NDJSONDecoder()
    private var lines: [[UInt8]] = []
    private(set) var isComplete = false
    private var toolCount = 0

    init(provider: String, model: String) {
        super.init(provider: provider, model: model, id: OpenAIShape.randomID("chatcmpl-"))
    }

    func feed(_ bytes: UnsafeRawBufferPointer, emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if isComplete { return }
        nd.feed(bytes, into: &lines)
        try drain(emit)
    }

    func finish(emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if !isComplete {
            nd.finish(into: &lines)
            try drain(emit)
        }
        if !isComplete {
            throw AnyLLMError(ANYLLM_E_PROVIDER, "the stream ended before its \"done\": true line", provider: provider)
        }
    }

    private func drain(_ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        defer { lines.removeAll(keepingCapacity: true) }
        for l in lines where !isComplete { try handle(l, emit) }
    }

    private func handle(_ line: [UInt8], _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        // The common line, a piece of text, without building its tree.
        if try sendText(in: line, { Self.textLine($0, model: model) }, emit) { return }
        let v = try ErrorMapping.parseProviderJSON(line, "stream line", provider: provider)
        if v["error"] != nil { throw ErrorMapping.fromErrorObject(v, provider: provider) }
        if let m = v["model"]?.string { model = m }
        let m = v["message"]
        var delta = JSONObject()
        if let c = m?["content"]?.string, !c.isEmpty || !sentRole { delta["content"] = .string(c) }
        if let t = m?["thinking"]?.string, !t.isEmpty { delta["reasoning"] = .object(JSONObject([("content", .string(t))])) }
        let calls = OllamaChat.toolCalls(m?["tool_calls"], indexBase: toolCount, withIndex: true)
        if !calls.isEmpty {
            delta["tool_calls"] = .array(calls)
            toolCount += calls.count
        }
        if v["done"] == .bool(true) {
            isComplete = true
            try send(delta, finish: OllamaChat.finishReason(v, hasCalls: toolCount > 0), emit)
            if let u = OllamaChat.usage(v) { try send(nil, usage: u, emit) }
        } else if !delta.isEmpty {
            try send(delta, emit)
        }
    }

    private static let notText = JSONParseError(message: "not a text line", offset: -1)

    /// A line that only adds text, `{"model":M,"created_at":"…","message":{"role":"assistant",
    /// "content":"…"},"done":false}` in any key order and spacing, with the model the stream
    /// already has and content that is not empty: where its text lies (between the quotes) and
    /// whether it holds escapes. nil for anything else — thinking, tool calls, images, the last
    /// line, another model, another or a repeated or escaped key, invalid JSON — which `handle`
    /// then reads whole, exactly as before.
    static func textLine(_ data: UnsafeRawBufferPointer, model: String) -> (text: Range<Int>, escaped: Bool)? {
        var seen: UInt8 = 0  // keys met, a bit each: a repeated one is the full reader's
        var text: (Range<Int>, Bool)?
        var sawDone = false
        func once(_ key: UInt8) throws(JSONParseError) {
            if seen & (1 << key) != 0 { throw notText }
            seen |= 1 << key
        }
        let whole = JSONScanner.walkObject(data) { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
            if bytesEqual(key, "model") {
                try once(0)
                // Another model (or one written with escapes) is the full reader's to take.
                guard try s.stringIs(model.utf8) else { throw notText }
            } else if bytesEqual(key, "created_at") {
                try once(1)
                guard try s.stringBody() != nil else { throw notText }
            } else if bytesEqual(key, "done") {
                try once(2)
                try s.literal("false")
                sawDone = true
            } else if bytesEqual(key, "message") {
                try once(3)
                try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                    if bytesEqual(key, "role") {
                        try once(4)
                        guard try s.stringIs("assistant") else { throw notText }
                    } else if bytesEqual(key, "content") {
                        try once(5)
                        // An empty piece sends no chunk.
                        guard let t = try s.stringBody(), !t.range.isEmpty else { throw notText }
                        text = t
                    } else {
                        throw notText
                    }
                }
            } else {
                throw notText
            }
        }
        guard whole, sawDone, let t = text else { return nil }
        return (t.0, t.1)
    }
}
