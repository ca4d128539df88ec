import CAnyLLMTypes

/// Google Gemini `generateContent` (API key, generativelanguage.googleapis.com) and Vertex AI
/// (bearer token, `projects/{p}/locations/{l}/publishers/google/models/{m}`): one body format.
///
/// Mapping choices (docs/providers.md): `reasoning_effort` → `thinkingConfig.thinkingBudget`
/// none 0, minimal 512, low 1024, medium 8192, high 24576, xhigh 32768, with `includeThoughts` so
/// that reasoning text comes back; tool schemas are converted to the OpenAPI subset Gemini's
/// `parameters` accepts; `response_format` json_schema → `responseJsonSchema` (full JSON Schema).
/// A function call's `thoughtSignature` is kept in the tool call's
/// `extra_content.google.thought_signature` and sent back when that assistant message returns.
struct Gemini: WireProtocol {
    let vertex: Bool
    static let efforts: [String: Int] = ["none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 32768]
    /// Request keys that address Vertex AI rather than the model.
    static let vertexKeys: Set<String> = ["vertex_project", "vertex_location"]

    static func vertexLocation(_ req: CompletionRequest) -> String {
        req.extras["vertex_location"]?.string ?? env("GOOGLE_CLOUD_LOCATION") ?? "us-central1"
    }

    /// Vertex's regional endpoint (the global location has no region prefix).
    static func vertexBase(_ req: CompletionRequest) throws(AnyLLMError) -> String {
        let loc = vertexLocation(req)
        return loc == "global" ? "https://aiplatform.googleapis.com" : "https://\(loc)-aiplatform.googleapis.com"
    }

    func encode(_ req: CompletionRequest, endpoint: Endpoint) throws(AnyLLMError) -> HTTPRequest {
        var base = endpoint.base
        while base.hasSuffix("/") { base.removeLast() }
        var model = req.model
        if model.hasPrefix("models/") { model.removeFirst(7) }
        let method = req.stream ? "streamGenerateContent?alt=sse" : "generateContent"
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        let url: String
        if vertex {
            // A wrong type is an error, not a silent fall-back on GOOGLE_CLOUD_PROJECT / _LOCATION.
            for k in Self.vertexKeys { _ = try req.extraString(k) }
            guard let project = req.extras["vertex_project"]?.string ?? env("GOOGLE_CLOUD_PROJECT") else {
                throw AnyLLMError(ANYLLM_E_INVALID_REQUEST,
                                  "invalid request: vertex_project: Vertex AI needs a project: pass \"vertex_project\" or set GOOGLE_CLOUD_PROJECT",
                                  provider: req.provider.name, param: "vertex_project")
            }
            url = "\(base)/v1/projects/\(percentEncodePath(project))/locations/\(percentEncodePath(Self.vertexLocation(req)))/publishers/google/models/\(percentEncodePath(model)):\(method)"
            if let k = endpoint.apiKey { headers.append(("Authorization", "Bearer \(k)")) }
        } else {
            if base.hasSuffix("/v1beta") { base.removeLast(7) }
            url = "\(base)/v1beta/models/\(percentEncodePath(model)):\(method)"
            if let k = endpoint.apiKey { headers.append(("x-goog-api-key", k)) }
        }

        var body = JSONObject()
        let (system, contents) = try Self.convertMessages(req.messages)
        body["contents"] = .array(contents)
        if !system.isEmpty { body["systemInstruction"] = .object(JSONObject([("parts", .array(system))])) }

        var decls: [JSON] = []
        for t in req.params["tools"]?.array ?? [] {
            guard let fn = t["function"]?.object, let name = fn["name"]?.string else { continue }
            var d = JSONObject([("name", .string(name))])
            if let desc = fn["description"]?.string { d["description"] = .string(desc) }
            if let p = fn["parameters"], let props = p["properties"]?.object, !props.isEmpty {
                d["parameters"] = GeminiSchema.convert(p)
            }
            decls.append(.object(d))
        }
        if !decls.isEmpty { body["tools"] = .array([.object(JSONObject([("functionDeclarations", .array(decls))]))]) }
        if let tc = req.params["tool_choice"] {
            var cfg = JSONObject()
            switch tc.string {
            case "auto"?: cfg["mode"] = .string("AUTO")
            case "none"?: cfg["mode"] = .string("NONE")
            case "required"?: cfg["mode"] = .string("ANY")
            default:
                cfg["mode"] = .string("ANY")
                if let n = tc["function"]?["name"]?.string { cfg["allowedFunctionNames"] = .array([.string(n)]) }
            }
            body["toolConfig"] = .object(JSONObject([("functionCallingConfig", .object(cfg))]))
        }

        var gen = JSONObject()
        if let v = req.params["temperature"] { gen["temperature"] = v }
        if let v = req.params["top_p"] { gen["topP"] = v }
        if let v = req.params["max_completion_tokens"] ?? req.params["max_tokens"] { gen["maxOutputTokens"] = v }
        if let s = OpenAIShape.stops(req.params["stop"]) { gen["stopSequences"] = .array(s) }
        if let v = req.params["seed"] { gen["seed"] = v }
        if let v = req.params["presence_penalty"] { gen["presencePenalty"] = v }
        if let v = req.params["frequency_penalty"] { gen["frequencyPenalty"] = v }
        if let v = req.params["n"] { gen["candidateCount"] = v }
        if let v = req.extras["top_k"] { gen["topK"] = v }
        if let rf = req.params["response_format"] {
            switch rf["type"]?.string {
            case "json_object"?: gen["responseMimeType"] = .string("application/json")
            case "json_schema"?:
                gen["responseMimeType"] = .string("application/json")
                if let s = rf["json_schema"]?["schema"] { gen["responseJsonSchema"] = s }
            default: break
            }
        }
        if let e = req.reasoningEffort, let budget = Self.efforts[e] {
            var tc = JSONObject([("thinkingBudget", .int(budget))])
            if budget > 0 { tc["includeThoughts"] = .bool(true) }
            gen["thinkingConfig"] = .object(tc)
        }
        if !gen.isEmpty { body["generationConfig"] = .object(gen) }
        for (k, v) in req.extras.members where k != "top_k" && !Self.vertexKeys.contains(k) { body[k] = v }
        return HTTPRequest(url: url, headers: headers, body: JSON.object(body).serialized)
    }

    /// OpenAI messages → (system parts, contents). Tool results become user functionResponse parts,
    /// named after the call they answer; consecutive contents of one role are merged.
    static func convertMessages(_ msgs: [JSON]) throws(AnyLLMError) -> ([JSON], [JSON]) {
        var system: [JSON] = []
        var out = Turns()
        func append(_ role: String, _ blocks: [JSON]) { out.append(role, blocks) }
        for (i, m) in msgs.enumerated() {
            let at = "messages[\(i)]"
            switch m["role"]?.string ?? "" {
            case "system", "developer":
                let t = OpenAIShape.text(m["content"])
                if !t.isEmpty { system.append(.object(JSONObject([("text", .string(t))]))) }
            case "user":
                append("user", try parts(m["content"], at: "\(at).content"))
            case "assistant":
                var ps = try parts(m["content"], at: "\(at).content")
                for (j, c) in (m["tool_calls"]?.array ?? []).enumerated() {
                    let args = try OpenAIShape.argumentsObject(c["function"]?["arguments"]?.string,
                                                               at: "\(at).tool_calls[\(j)].function.arguments")
                    var p = JSONObject([("functionCall", .object(JSONObject([("name", c["function"]?["name"] ?? .string("")),
                                                                             ("args", args)])))])
                    if let sig = c["extra_content"]?["google"]?["thought_signature"] { p["thoughtSignature"] = sig }
                    ps.append(.object(p))
                }
                append("model", ps)
            case "tool", "function":
                let id = m["tool_call_id"]?.string ?? ""
                let name = OpenAIShape.toolName(forCallID: id, in: Array(msgs[..<i])) ?? m["name"]?.string ?? id
                let text = OpenAIShape.text(m["content"])
                let response: JSON
                if let v = try? JSONReader.parse(text), v.object != nil { response = v }
                else { response = .object(JSONObject([("result", .string(text))])) }
                append("user", [.object(JSONObject([("functionResponse", .object(JSONObject([("name", .string(name)),
                                                                                           ("response", response)])))]))])
            default: break
            }
        }
        return (system, out.json(blocksKey: "parts"))
    }

    static func parts(_ c: JSON?, at: String) throws(AnyLLMError) -> [JSON] {
        guard let c, !c.isNull else { return [] }
        if let s = c.string { return s.isEmpty ? [] : [.object(JSONObject([("text", .string(s))]))] }
        var out: [JSON] = []
        for (i, p) in (c.array ?? []).enumerated() {
            switch p["type"]?.string {
            case "text"?:
                if let t = p["text"]?.string { out.append(.object(JSONObject([("text", .string(t))]))) }
            case "image_url"?:
                guard let url = OpenAIShape.imageURL(p) else { continue }
                if let d = OpenAIShape.dataURL(url) {
                    out.append(.object(JSONObject([("inlineData", .object(JSONObject([("mimeType", .string(d.mediaType)),
                                                                                      ("data", .string(d.data))])))])))
                } else if url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("gs://") {
                    out.append(.object(JSONObject([("fileData", .object(JSONObject([("mimeType", .string(mimeType(url))),
                                                                                    ("fileUri", .string(url))])))])))
                } else {
                    throw .invalid("\(at)[\(i)].image_url.url", "expected an http(s) URL or a base64 data: URL")
                }
            default: break
            }
        }
        return out
    }

    static func mimeType(_ url: String) -> String {
        let l = url.lowercased()
        if l.hasSuffix(".png") { return "image/png" }
        if l.hasSuffix(".webp") { return "image/webp" }
        if l.hasSuffix(".gif") { return "image/gif" }
        if l.hasSuffix(".pdf") { return "application/pdf" }
        return "image/jpeg"
    }

    static func finishReason(_ r: String?, hasCalls: Bool) -> String? {
        switch r {
        case nil, "FINISH_REASON_UNSPECIFIED"?: return nil
        case "MAX_TOKENS"?: return "length"
        case "SAFETY"?, "RECITATION"?, "BLOCKLIST"?, "PROHIBITED_CONTENT"?, "SPII"?, "IMAGE_SAFETY"?: return "content_filter"
        default: return hasCalls ? "tool_calls" : "stop"
        }
    }

    static func usage(_ u: JSON?) -> JSON? {
        guard let u, u.object != nil else { return nil }
        let prompt = u["promptTokenCount"]?.int ?? 0
        let thoughts = u["thoughtsTokenCount"]?.int
        let completion = (u["candidatesTokenCount"]?.int ?? 0) + (thoughts ?? 0)
        return OpenAIShape.usage(prompt: prompt, completion: completion, total: u["totalTokenCount"]?.int ?? prompt + completion,
                                 cached: u["cachedContentTokenCount"]?.int, reasoning: thoughts)
    }

    /// One candidate's parts → (text, reasoning, tool calls).
    static func readParts(_ parts: [JSON], callIndexBase: Int) -> (text: String?, reasoning: String, calls: [JSON]) {
        var text: String?, reasoning = ""
        var calls: [JSON] = []
        for p in parts {
            if let fc = p["functionCall"] {
                let extra: JSON? = p["thoughtSignature"].map {
                    .object(JSONObject([("google", .object(JSONObject([("thought_signature", $0)])))]))
                }
                calls.append(OpenAIShape.toolCall(id: fc["id"]?.string ?? OpenAIShape.randomID("call_"),
                                                  name: fc["name"]?.string ?? "",
                                                  arguments: OpenAIShape.compact(fc["args"] ?? .object(JSONObject())), extra: extra))
            } else if let t = p["text"]?.string {
                if p["thought"] == .bool(true) { reasoning += t } else { text = (text ?? "") + t }
            }
        }
        return (text, reasoning, calls)
    }

    func decodeResponse(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> JSON {
        let provider = request.provider.name
        var v = try ErrorMapping.parseProviderJSON(body, "answer", provider: provider, objectOnly: false)
        if let first = v.array?.first { v = first }  // a streamed-array body given to a non-stream call
        if v["error"] != nil { throw Self.mapError(v, status: nil, provider: provider) }
        var choices: [JSON] = []
        for (i, c) in (v["candidates"]?.array ?? []).enumerated() {
            let r = Self.readParts(c["content"]?["parts"]?.array ?? [], callIndexBase: 0)
            let finish = Self.finishReason(c["finishReason"]?.string, hasCalls: !r.calls.isEmpty) ?? "stop"
            let msg = OpenAIShape.message(content: r.text ?? (r.calls.isEmpty ? "" : nil), reasoning: r.reasoning, toolCalls: r.calls)
            choices.append(.object(JSONObject([("index", c["index"] ?? .int(i)), ("message", msg), ("logprobs", .null),
                                               ("finish_reason", .string(finish))])))
        }
        if choices.isEmpty {
            // The prompt itself was blocked (promptFeedback.blockReason): no candidates at all.
            guard v["promptFeedback"]?["blockReason"] != nil else {
                var e = AnyLLMError(ANYLLM_E_PROVIDER, "the provider's answer has no candidates", provider: provider)
                e.providerError = v
                throw e
            }
            choices.append(.object(JSONObject([("index", .int(0)), ("message", OpenAIShape.message(content: "", reasoning: nil, toolCalls: [])),
                                               ("logprobs", .null), ("finish_reason", .string("content_filter"))])))
        }
        var o = OpenAIShape.completion(id: v["responseId"]?.string ?? OpenAIShape.randomID("chatcmpl-"),
                                       model: v["modelVersion"]?.string ?? request.model, created: OpenAIShape.now(),
                                       message: .null, finishReason: "stop", usage: Self.usage(v["usageMetadata"])).object!
        o["choices"] = .array(choices)
        return .object(o)
    }

    func streamDecoder(for req: CompletionRequest) -> any StreamDecoder {
        GeminiStreamDecoder(provider: req.provider.name, model: req.model)
    }

    /// Gemini streams are SSE with alt=sse, and a JSON array (content type application/json) without.
    func streamsBody(contentType: String) -> Bool { true }

    func decodeError(status: Int, head: HTTPResponseHead, body: [UInt8], provider: String) -> AnyLLMError {
        var e = ErrorMapping.map(status: status, head: head, body: body, provider: provider)
        if let v = try? JSONReader.parse(body) { e = Self.refine(e, v) }
        return e
    }

    static func mapError(_ v: JSON, status: Int?, provider: String) -> AnyLLMError {
        var e = ErrorMapping.fromErrorObject(v, provider: provider)
        e.httpStatus = status ?? v["error"]?["code"]?.int
        switch v["error"]?["status"]?.string {
        case "RESOURCE_EXHAUSTED"?: e.status = ANYLLM_E_RATE_LIMIT
        case "INVALID_ARGUMENT"?, "FAILED_PRECONDITION"?, "OUT_OF_RANGE"?:
            if e.status == ANYLLM_E_PROVIDER { e.status = ANYLLM_E_INVALID_REQUEST }
        case "PERMISSION_DENIED"?: e.status = ANYLLM_E_PERMISSION
        case "UNAUTHENTICATED"?: e.status = ANYLLM_E_AUTHENTICATION
        case "NOT_FOUND"?: e.status = ANYLLM_E_NOT_FOUND
        case "DEADLINE_EXCEEDED"?: e.status = ANYLLM_E_TIMEOUT
        default: break
        }
        return refine(e, v)
    }

    /// Gemini reports a bad API key as 400 INVALID_ARGUMENT and a missing one as 403; both are
    /// authentication failures. A 429 is a rate limit even when its message says "quota"; its
    /// RetryInfo detail says how long to wait.
    static func refine(_ e0: AnyLLMError, _ v: JSON) -> AnyLLMError {
        var e = e0
        let reasons = (v["error"]?["details"]?.array ?? []).compactMap { $0["reason"]?.string }
        let msg = e.message.lowercased()
        if reasons.contains("API_KEY_INVALID") || msg.contains("api key not valid") || msg.contains("unregistered callers") {
            e.status = ANYLLM_E_AUTHENTICATION
        }
        if e.httpStatus == 429 || v["error"]?["status"]?.string == "RESOURCE_EXHAUSTED" { e.status = ANYLLM_E_RATE_LIMIT }
        if e.retryAfter == nil {
            for d in v["error"]?["details"]?.array ?? [] {
                if let delay = d["retryDelay"]?.string, delay.hasSuffix("s"), let s = Double(delay.dropLast()) { e.retryAfter = s }
            }
        }
        return e
    }
}

/// Gemini stream bodies → ChatCompletionChunks: SSE (`alt=sse`) or a streamed JSON array, told
/// apart by the first byte. There is no end marker: a candidate's finishReason ends the stream,
/// and usage (repeated in every event) is sent once, in a last chunk, when the body ends.
final class GeminiStreamDecoder: ChunkEmitter, StreamDecoder {
    /// SSE (alt=sse), a streamed JSON array, or one JSON object (a gateway that ignored streaming).
    private enum Mode { case undecided, sse, array, single }
    private var mode = Mode.undecided
    private var sse = SSEDecoder()
    private var array = JSONArrayStream()
    private var events: [SSEEvent] = []
    private var elements: [[UInt8]] = []
    private var single: [UInt8] = []
    private var usage: JSON?
    /// The usageMetadata of the last chunk that `textChunk` read, when it came after `usage`'s:
    /// read at the end (every chunk repeats the counts so far; only the last is sent).
    private var usageBytes: [UInt8]?
    private var sawFinish = false
    private var toolCount: [Int: Int] = [:]
    var isComplete: Bool { false }  // no end marker: read to the end of the body

    init(provider: String, model: String) {
        super.init(provider: provider, model: model, id: OpenAIShape.randomID("chatcmpl-"))
    }

    func feed(_ bytes: UnsafeRawBufferPointer, emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if mode == .undecided {
            guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
                // Kept for the single-object mode, so that its error offsets do not depend on reads.
                single.append(contentsOf: bytes)
                return
            }
            mode = first == UInt8(ascii: "[") ? .array : first == UInt8(ascii: "{") ? .single : .sse
        }
        switch mode {
        case .sse: sse.feed(bytes, into: &events)
        case .array: array.feed(bytes, into: &elements)
        default: single.append(contentsOf: bytes)
        }
        try drain(emit)
    }

    func finish(emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if mode == .sse { sse.finish(into: &events) }
        if mode == .single { elements.append(single) }
        try drain(emit)
        if mode == .array && array.truncated {
            throw AnyLLMError(ANYLLM_E_CONNECTION, "the stream ended inside its JSON array", provider: provider)
        }
        guard sawFinish else {
            throw AnyLLMError(ANYLLM_E_PROVIDER, "the stream ended before a finishReason", provider: provider)
        }
        if let b = usageBytes, let u = Gemini.usage(try? JSONReader.parse(b)) { usage = u }
        if let u = usage { try send(nil, usage: u, emit) }
    }

    private func drain(_ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        let items = mode == .sse ? events.map(\.data) : elements
        events.removeAll(keepingCapacity: true)
        elements.removeAll(keepingCapacity: true)
        for data in items { try handle(data, emit) }
    }

    private func handle(_ data: [UInt8], _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        // The common chunk, a piece of text, without building its tree.
        let sent = try sendText(in: data, { (d: UnsafeRawBufferPointer) -> (text: Range<Int>, escaped: Bool)? in
            guard let t = Self.textChunk(d, id: id, model: model) else { return nil }
            if let u = t.usage {  // into the same storage every chunk
                if usageBytes == nil { usageBytes = [] }
                usageBytes!.removeAll(keepingCapacity: true)
                usageBytes!.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[u]))
            }
            return (t.text, t.escaped)
        }, emit)
        if sent { return }
        let v = try ErrorMapping.parseProviderJSON(data, "stream event", provider: provider)
        if v["error"] != nil { throw Gemini.mapError(v, status: nil, provider: provider) }
        if let id = v["responseId"]?.string { self.id = id }
        if let m = v["modelVersion"]?.string { self.model = m }
        if let u = Gemini.usage(v["usageMetadata"]) {
            usage = u
            usageBytes = nil
        }
        if v["candidates"] == nil, v["promptFeedback"]?["blockReason"] != nil {
            sawFinish = true
            try send(JSONObject([("content", .string(""))]), finish: "content_filter", emit)
            return
        }
        for c in v["candidates"]?.array ?? [] {
            let ci = c["index"]?.int ?? 0
            let base = toolCount[ci] ?? 0
            let r = Gemini.readParts(c["content"]?["parts"]?.array ?? [], callIndexBase: base)
            var delta = JSONObject()
            if let t = r.text { delta["content"] = .string(t) }
            if !r.reasoning.isEmpty { delta["reasoning"] = .object(JSONObject([("content", .string(r.reasoning))])) }
            if !r.calls.isEmpty {
                delta["tool_calls"] = .array(r.calls.enumerated().map { i, call in
                    var o = call.object!
                    o.members.insert(("index", .int(base + i)), at: 0)
                    return .object(o)
                })
                toolCount[ci] = base + r.calls.count
            }
            let finish = Gemini.finishReason(c["finishReason"]?.string, hasCalls: (toolCount[ci] ?? 0) > 0)
            if finish != nil { sawFinish = true }
            if delta.isEmpty && finish == nil { continue }
            var chunk = OpenAIShape.chunk(id: id, model: model, created: created, delta: delta, finishReason: finish)
            if ci != 0, var ch = chunk["choices"]?.array?.first?.object {
                ch["index"] = .int(ci)
                chunk["choices"] = .array([.object(ch)])
            }
            if !sentRole, var ch = chunk["choices"]?.array?.first?.object, var d = ch["delta"]?.object {
                d.members.insert(("role", .string("assistant")), at: 0)
                ch["delta"] = .object(d)
                chunk["choices"] = .array([.object(ch)])
                sentRole = true
            }
            try emit(DecodedChunk(json: chunk, bytes: JSON.object(chunk).serialized))
        }
    }

    private static let notText = JSONParseError(message: "not a text chunk", offset: -1)

    /// A chunk that only adds text to candidate 0, `{"candidates":[{"content":{"parts":[{"text":
    /// "…"}],"role":"model"},"index":0}],"usageMetadata":{…},"modelVersion":M,"responseId":I}` in
    /// any key order and spacing, with the id and model the stream already has: where its text lies
    /// (between the quotes), whether it holds escapes, and where its usageMetadata object lies.
    /// nil for anything else — a finish reason, thoughts, function calls, several parts or
    /// candidates, safety ratings, another id or model, a repeated or escaped key, invalid JSON —
    /// which `handle` then reads whole, exactly as before.
    static func textChunk(_ data: UnsafeRawBufferPointer, id: String, model: String)
        -> (text: Range<Int>, escaped: Bool, usage: Range<Int>?)? {
        var seen: UInt16 = 0  // keys met, a bit each: a repeated one is the full reader's
        var text: (Range<Int>, Bool)?
        var usage: Range<Int>?
        func once(_ key: UInt16) throws(JSONParseError) {
            if seen & (1 << key) != 0 { throw notText }
            seen |= 1 << key
        }
        func stringEquals(_ s: inout JSONScanner, _ want: String) throws(JSONParseError) {
            guard try s.stringIs(want.utf8) else { throw notText }
        }
        func onlyItem(_ s: inout JSONScanner, _ body: (inout JSONScanner) throws(JSONParseError) -> Void) throws(JSONParseError) {
            guard !s.atEnd, s.peek() == UInt8(ascii: "[") else { throw notText }
            s.pos += 1
            s.skipSpace()
            try body(&s)
            s.skipSpace()
            guard !s.atEnd, s.peek() == UInt8(ascii: "]") else { throw notText }  // one item only
            s.pos += 1
        }
        let whole = JSONScanner.walkObject(data) { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
            if bytesEqual(key, "candidates") {
                try once(0)
                try onlyItem(&s) { (s: inout JSONScanner) throws(JSONParseError) in
                    try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                        if bytesEqual(key, "index") {
                            try once(1)
                            guard s.smallInt() == 0 else { throw notText }
                        } else if bytesEqual(key, "content") {
                            try once(2)
                            try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                                if bytesEqual(key, "role") {
                                    try once(3)
                                    try stringEquals(&s, "model")
                                } else if bytesEqual(key, "parts") {
                                    try once(4)
                                    try onlyItem(&s) { (s: inout JSONScanner) throws(JSONParseError) in
                                        try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                                            guard bytesEqual(key, "text"), text == nil, let t = try s.stringBody() else { throw notText }
                                            text = t
                                        }
                                    }
                                } else {
                                    throw notText
                                }
                            }
                        } else {
                            throw notText
                        }
                    }
                }
            } else if bytesEqual(key, "usageMetadata") {
                try once(5)
                guard !s.atEnd, s.peek() == UInt8(ascii: "{") else { throw notText }
                let start = s.pos
                try s.skipValue(depth: 1)
                usage = start..<s.pos
            } else if bytesEqual(key, "modelVersion") {
                try once(6)
                try stringEquals(&s, model)
            } else if bytesEqual(key, "responseId") {
                try once(7)
                try stringEquals(&s, id)
            } else {
                throw notText
            }
        }
        guard whole, let t = text else { return nil }
        return (t.0, t.1, usage)
    }
}

/// JSON Schema → the OpenAPI 3.0 subset that Gemini's `parameters` accepts: `$ref`s inlined,
/// `type: [T, "null"]` → `type: T, nullable: true`, `const` → `enum`, `oneOf` → `anyOf`, and
/// keywords Gemini rejects (`additionalProperties`, `$schema`, `$defs`, ...) dropped.
enum GeminiSchema {
    static let allowed: Set<String> = ["type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
                                       "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
                                       "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"]

    static func convert(_ schema: JSON) -> JSON {
        let defs = schema["$defs"]?.object ?? schema["definitions"]?.object ?? JSONObject()
        return convert(schema, defs: defs, depth: 0)
    }

    private static func convert(_ s: JSON, defs: JSONObject, depth: Int) -> JSON {
        guard depth < 32, var o = s.object else { return s }
        if let ref = o["$ref"]?.string, let name = ref.split(separator: "/").last, let target = defs[String(name)] {
            var merged = target.object ?? JSONObject()
            for (k, v) in o.members where k != "$ref" { merged[k] = v }
            return convert(.object(merged), defs: defs, depth: depth + 1)
        }
        if let types = o["type"]?.array {
            let nonNull = types.filter { $0.string != "null" }
            if nonNull.count < types.count { o["nullable"] = .bool(true) }
            if let first = nonNull.first { o["type"] = first }
        }
        if let c = o["const"] { o["enum"] = .array([c]) }
        if o["anyOf"] == nil, let one = o["oneOf"] { o["anyOf"] = one }
        if let any = o["anyOf"]?.array {
            // Optional[T] from Pydantic: anyOf [T, {type: null}] → T, nullable.
            let nonNull = any.filter { $0["type"]?.string != "null" }
            if nonNull.count == 1, any.count == 2, var only = convert(nonNull[0], defs: defs, depth: depth + 1).object {
                only["nullable"] = .bool(true)
                for (k, v) in o.members where k != "anyOf" && only[k] == nil && allowed.contains(k) { only[k] = v }
                return .object(only)
            }
        }
        var out = JSONObject()
        for (k, v) in o.members where allowed.contains(k) {
            switch k {
            case "properties":
                out[k] = .object(JSONObject((v.object?.members ?? []).map { ($0.key, convert($0.value, defs: defs, depth: depth + 1)) }))
            case "items": out[k] = convert(v, defs: defs, depth: depth + 1)
            case "anyOf": out[k] = .array((v.array ?? []).map { convert($0, defs: defs, depth: depth + 1) })
            case "enum": out[k] = .array((v.array ?? []).map { $0.string.map(JSON.string) ?? .string($0.text) })
            default: out[k] = v
            }
        }
        return .object(out)
    }
}
