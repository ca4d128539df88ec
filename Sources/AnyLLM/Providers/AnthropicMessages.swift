import CAnyLLMTypes

/// Anthropic Messages (`POST {base}/v1/messages`), request and response translated to and from
/// OpenAI shapes.
///
/// Mappings that are choices, not facts of either API (documented in docs/providers.md):
/// - `max_tokens` is required by Anthropic: the caller's `max_tokens` / `max_completion_tokens`,
///   else 4096.
/// - `reasoning_effort` → `thinking` with a token budget: minimal 1024, low 2048, medium 8192,
///   high 16384, xhigh 32768; "none" sends thinking disabled. The budget is added to max_tokens,
///   which Anthropic requires to exceed it, so max_tokens keeps meaning "tokens of answer".
/// - `response_format` json_schema → `output_config.format` on models that have structured output;
///   on older models (claude-3*, claude-*-4-0) a forced tool whose input is the answer.
///   json_object → an instruction appended to the system prompt (Anthropic has no JSON mode).
struct AnthropicMessages: WireProtocol {
    static let apiVersion = "2023-06-01"
    static let defaultMaxTokens = 4096
    static let efforts: [String: Int] = ["minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 32768]
    /// The tool that carries structured output on models without native support.
    static let structuredTool = "json_response"

    func encode(_ req: CompletionRequest, endpoint: Endpoint) throws(AnyLLMError) -> HTTPRequest {
        let name = req.provider.name
        var base = endpoint.base
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        var headers: [(String, String)] = [("Content-Type", "application/json"), ("anthropic-version", Self.apiVersion),
                                           ("Accept", req.stream ? "text/event-stream" : "application/json")]
        if let k = endpoint.apiKey { headers.append(("x-api-key", k)) }

        if let n = req.params["n"]?.int, n > 1 { throw OpenAIShape.unsupported("n", name, "one choice per request") }
        var body = JSONObject()
        body["model"] = .string(req.model)
        var (system, messages) = try Self.convertMessages(req.messages)
        var maxTokens = req.params["max_completion_tokens"]?.int ?? req.params["max_tokens"]?.int ?? Self.defaultMaxTokens
        if let e = req.reasoningEffort {
            if e == "none" {
                body["thinking"] = .object(JSONObject([("type", .string("disabled"))]))
            } else if let budget = Self.efforts[e] {
                body["thinking"] = .object(JSONObject([("type", .string("enabled")), ("budget_tokens", .int(budget))]))
                maxTokens += budget
            }
        }
        body["max_tokens"] = .int(maxTokens)
        if let t = req.params["temperature"] { body["temperature"] = t }
        if let t = req.params["top_p"] { body["top_p"] = t }
        if let s = OpenAIShape.stops(req.params["stop"]) { body["stop_sequences"] = .array(s) }
        if let u = req.params["user"] { body["metadata"] = .object(JSONObject([("user_id", u)])) }
        if req.stream { body["stream"] = .bool(true) }

        var tools: [JSON] = []
        for t in req.params["tools"]?.array ?? [] {
            guard let fn = t["function"]?.object, let fname = fn["name"]?.string else { continue }
            var o = JSONObject([("name", .string(fname))])
            if let d = fn["description"]?.string { o["description"] = .string(d) }
            o["input_schema"] = fn["parameters"] ?? .object(JSONObject([("type", .string("object")), ("properties", .object(JSONObject()))]))
            tools.append(.object(o))
        }
        var toolChoice: JSONObject?
        if let tc = req.params["tool_choice"] {
            switch tc.string {
            case "auto"?: toolChoice = JSONObject([("type", .string("auto"))])
            case "none"?: toolChoice = JSONObject([("type", .string("none"))])
            case "required"?: toolChoice = JSONObject([("type", .string("any"))])
            default:
                if let n = tc["function"]?["name"]?.string {
                    toolChoice = JSONObject([("type", .string("tool")), ("name", .string(n))])
                }
            }
        }
        if req.params["parallel_tool_calls"] == .bool(false), !tools.isEmpty {
            var tc = toolChoice ?? JSONObject([("type", .string("auto"))])
            if tc["type"] != .string("none") { tc["disable_parallel_tool_use"] = .bool(true) }
            toolChoice = tc
        }

        if let rf = req.params["response_format"], let type = rf["type"]?.string {
            switch type {
            case "json_schema":
                let schema = rf["json_schema"]?["schema"] ?? .object(JSONObject([("type", .string("object"))]))
                if Self.hasNativeStructuredOutput(req.model) {
                    body["output_config"] = .object(JSONObject([("format", .object(JSONObject([
                        ("type", .string("json_schema")), ("schema", schema)])))]))
                } else {
                    tools.append(.object(JSONObject([("name", .string(Self.structuredTool)),
                                                      ("description", .string("Respond with the answer as this tool's input.")),
                                                      ("input_schema", schema)])))
                    toolChoice = JSONObject([("type", .string("tool")), ("name", .string(Self.structuredTool))])
                }
            case "json_object":
                system.append(.object(JSONObject([("type", .string("text")),
                                                  ("text", .string("Respond only with a single valid JSON object."))])))
            default: break
            }
        }
        if !system.isEmpty { body["system"] = .array(system) }
        body["messages"] = .array(messages)
        if !tools.isEmpty { body["tools"] = .array(tools) }
        if let tc = toolChoice { body["tool_choice"] = .object(tc) }
        for (k, v) in req.extras.members { body[k] = v }  // top_k, metadata, service_tier, ... pass through
        messages = []
        return HTTPRequest(url: base + "/v1/messages", headers: headers, body: JSON.object(body).serialized)
    }

    /// Models that predate Anthropic's structured output.
    static func hasNativeStructuredOutput(_ model: String) -> Bool {
        !(model.hasPrefix("claude-3") || model.hasPrefix("claude-2") || model.contains("-4-0")
          || model.hasPrefix("claude-sonnet-4-2025") || model.hasPrefix("claude-opus-4-2025"))
    }

    /// OpenAI messages → (system blocks, Anthropic messages). System and developer messages go to
    /// the top-level system; tool results become user tool_result blocks; consecutive messages of
    /// the same Anthropic role are merged into one turn (tool results with a following user text).
    static func convertMessages(_ msgs: [JSON]) throws(AnyLLMError) -> ([JSON], [JSON]) {
        var system: [JSON] = []
        var out = Turns()
        func append(_ role: String, _ blocks: [JSON]) { out.append(role, blocks) }
        for (i, m) in msgs.enumerated() {
            let at = "messages[\(i)]"
            switch m["role"]?.string ?? "" {
            case "system", "developer":
                let t = OpenAIShape.text(m["content"])
                if !t.isEmpty { system.append(.object(JSONObject([("type", .string("text")), ("text", .string(t))]))) }
            case "user":
                append("user", try contentBlocks(m["content"], at: "\(at).content"))
            case "assistant":
                var blocks: [JSON] = []
                if let r = m["reasoning"]?.object, let text = r["content"]?.string, let sig = r["signature"]?.string {
                    blocks.append(.object(JSONObject([("type", .string("thinking")), ("thinking", .string(text)),
                                                      ("signature", .string(sig))])))
                }
                blocks += try contentBlocks(m["content"], at: "\(at).content")
                for (j, c) in (m["tool_calls"]?.array ?? []).enumerated() {
                    let input = try OpenAIShape.argumentsObject(c["function"]?["arguments"]?.string,
                                                                at: "\(at).tool_calls[\(j)].function.arguments")
                    blocks.append(.object(JSONObject([("type", .string("tool_use")), ("id", c["id"] ?? .string("")),
                                                      ("name", c["function"]?["name"] ?? .string("")), ("input", input)])))
                }
                append("assistant", blocks)
            case "tool", "function":
                var r = JSONObject([("type", .string("tool_result")),
                                    ("tool_use_id", m["tool_call_id"] ?? m["name"] ?? .string(""))])
                if let s = m["content"]?.string { r["content"] = .string(s) }
                else { r["content"] = .array(try contentBlocks(m["content"], at: "\(at).content")) }
                append("user", [.object(r)])
            default: break
            }
        }
        return (system, out.json(blocksKey: "content"))
    }

    static func contentBlocks(_ c: JSON?, at: String) throws(AnyLLMError) -> [JSON] {
        guard let c, !c.isNull else { return [] }
        if let s = c.string { return s.isEmpty ? [] : [.object(JSONObject([("type", .string("text")), ("text", .string(s))]))] }
        var out: [JSON] = []
        for (i, p) in (c.array ?? []).enumerated() {
            switch p["type"]?.string {
            case "text"?:
                if let t = p["text"]?.string, !t.isEmpty { out.append(.object(JSONObject([("type", .string("text")), ("text", .string(t))]))) }
            case "image_url"?:
                guard let url = OpenAIShape.imageURL(p) else { continue }
                let source: JSONObject
                if let d = OpenAIShape.dataURL(url) {
                    source = JSONObject([("type", .string("base64")), ("media_type", .string(d.mediaType)), ("data", .string(d.data))])
                } else if url.hasPrefix("http://") || url.hasPrefix("https://") {
                    source = JSONObject([("type", .string("url")), ("url", .string(url))])
                } else {
                    throw .invalid("\(at)[\(i)].image_url.url", "expected an http(s) URL or a base64 data: URL")
                }
                out.append(.object(JSONObject([("type", .string("image")), ("source", .object(source))])))
            default:
                // Anthropic-native blocks given by the caller (document, cache_control'd text, ...) pass as they are.
                if p["type"]?.string != nil, p["type"]?.string != "refusal" { out.append(p) }
            }
        }
        return out
    }

    static func finishReason(_ stop: String?) -> String {
        switch stop {
        case "max_tokens"?, "model_context_window_exceeded"?: return "length"
        case "tool_use"?: return "tool_calls"
        case "refusal"?: return "content_filter"
        default: return "stop"
        }
    }

    static func usage(_ u: JSON?) -> JSON? {
        guard let u, u.object != nil else { return nil }
        let input = u["input_tokens"]?.int ?? 0
        let cacheWrite = u["cache_creation_input_tokens"]?.int ?? 0
        let cacheRead = u["cache_read_input_tokens"]?.int ?? 0
        let output = u["output_tokens"]?.int ?? 0
        var usage = OpenAIShape.usage(prompt: input + cacheWrite + cacheRead, completion: output, cached: cacheRead).object!
        usage["cache_creation_input_tokens"] = .int(cacheWrite)
        usage["cache_read_input_tokens"] = .int(cacheRead)
        return .object(usage)
    }

    func decodeResponse(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> JSON {
        let provider = request.provider.name
        let v = try ErrorMapping.parseProviderJSON(body, "answer", provider: provider)
        if v["type"]?.string == "error" { throw Self.mapErrorObject(v, provider: provider) }
        guard let blocks = v["content"]?.array else {
            var e = AnyLLMError(ANYLLM_E_PROVIDER, "the provider's answer has no \"content\"", provider: provider)
            e.providerError = v
            throw e
        }
        var text = "", reasoning = "", signature: String?, sawText = false
        var calls: [JSON] = []
        var finish = Self.finishReason(v["stop_reason"]?.string)
        for b in blocks {
            switch b["type"]?.string {
            case "text"?:
                text += b["text"]?.string ?? ""
                sawText = true
            case "thinking"?:
                reasoning += b["thinking"]?.string ?? ""
                if let sig = b["signature"]?.string, !sig.isEmpty { signature = sig }
            case "tool_use"?:
                let name = b["name"]?.string ?? ""
                let args = OpenAIShape.compact(b["input"] ?? .object(JSONObject()))
                if name == Self.structuredTool && request.params["response_format"] != nil {
                    text += args  // the forced structured-output tool: its input is the answer
                    sawText = true
                    finish = "stop"
                } else {
                    calls.append(OpenAIShape.toolCall(id: b["id"]?.string ?? OpenAIShape.randomID("toolu_"), name: name, arguments: args))
                }
            default: break  // server tool results, redacted thinking: not part of the OpenAI shape
            }
        }
        var message = OpenAIShape.message(content: sawText || calls.isEmpty ? text : nil, reasoning: reasoning, toolCalls: calls).object!
        if let sig = signature, var r = message["reasoning"]?.object {
            // Anthropic needs the signed thinking block back when a tool result continues this turn.
            r["signature"] = .string(sig)
            message["reasoning"] = .object(r)
        }
        return OpenAIShape.completion(id: v["id"]?.string ?? OpenAIShape.randomID("msg_"),
                                      model: v["model"]?.string ?? request.model, created: OpenAIShape.now(),
                                      message: .object(message), finishReason: finish, usage: Self.usage(v["usage"]))
    }

    func streamDecoder(for req: CompletionRequest) -> any StreamDecoder {
        AnthropicStreamDecoder(provider: req.provider.name, model: req.model,
                               structuredTool: req.params["response_format"] != nil ? Self.structuredTool : nil)
    }

    func decodeError(status: Int, head: HTTPResponseHead, body: [UInt8], provider: String) -> AnyLLMError {
        var e = ErrorMapping.map(status: status, head: head, body: body, provider: provider)
        // 529 is Anthropic's "overloaded": a provider error worth retrying, which 5xx already is.
        if e.status == ANYLLM_E_INVALID_REQUEST, ErrorMapping.isQuota(e.message.lowercased()) { e.status = ANYLLM_E_INSUFFICIENT_FUNDS }
        return e
    }

    /// `{"type": "error", "error": {"type": "overloaded_error", ...}}` → typed error.
    static func mapErrorObject(_ v: JSON, provider: String) -> AnyLLMError {
        var e = ErrorMapping.fromErrorObject(v, provider: provider)
        switch v["error"]?["type"]?.string {
        case "rate_limit_error"?: e.status = ANYLLM_E_RATE_LIMIT
        case "authentication_error"?: e.status = ANYLLM_E_AUTHENTICATION
        case "permission_error"?: e.status = ANYLLM_E_PERMISSION
        case "not_found_error"?: e.status = ANYLLM_E_NOT_FOUND
        case "invalid_request_error"?, "request_too_large"?:
            if e.status == ANYLLM_E_PROVIDER { e.status = ANYLLM_E_INVALID_REQUEST }
        default: break
        }
        return e
    }
}

/// Anthropic's SSE events → ChatCompletionChunks. Tool-use blocks get OpenAI tool-call indexes in
/// order of appearance (0, 1, …), stable across their argument fragments.
final class AnthropicStreamDecoder: ChunkEmitter, StreamDecoder {
    private var sse = SSEDecoder()
    private var events: [SSEEvent] = []
    private(set) var isComplete = false
    private var toolIndexForBlock: [Int: Int] = [:]
    private var structuredBlocks: Set<Int> = []
    private let structuredTool: String?
    private var inputUsage: JSON?
    private var finish: String?
    private var usage: JSON?

    init(provider: String, model: String, structuredTool: String?) {
        self.structuredTool = structuredTool
        super.init(provider: provider, model: model, id: OpenAIShape.randomID("msg_"))
    }

    func feed(_ bytes: UnsafeRawBufferPointer, emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if isComplete { return }
        sse.feed(bytes, into: &events)
        try drain(emit)
    }

    func finish(emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if !isComplete {
            sse.finish(into: &events)
            try drain(emit)
        }
        if !isComplete {
            throw AnyLLMError(ANYLLM_E_PROVIDER, "the stream ended before message_stop", provider: provider)
        }
    }

    private func drain(_ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        defer { events.removeAll(keepingCapacity: true) }
        for ev in events where !isComplete { try handle(ev, emit) }
    }

    private func handle(_ ev: SSEEvent, _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        // The common event, a piece of text, without building its tree.
        if try sendText(in: ev.data, Self.textDelta, emit) { return }
        let v = try ErrorMapping.parseProviderJSON(ev.data, "stream event", provider: provider)
        let type = v["type"]?.string ?? ev.event ?? ""
        switch type {
        case "message_start":
            if let id = v["message"]?["id"]?.string { self.id = id }
            if let m = v["message"]?["model"]?.string { self.model = m }
            inputUsage = v["message"]?["usage"]
            try send(JSONObject([("content", .string(""))]), emit)
        case "content_block_start":
            let index = v["index"]?.int ?? 0
            let block = v["content_block"]
            switch block?["type"]?.string {
            case "tool_use"?:
                let name = block?["name"]?.string ?? ""
                if let s = structuredTool, name == s { structuredBlocks.insert(index); return }
                let ti = toolIndexForBlock.count
                toolIndexForBlock[index] = ti
                let call = JSONObject([("index", .int(ti)), ("id", block?["id"] ?? .string("")), ("type", .string("function")),
                                       ("function", .object(JSONObject([("name", .string(name)), ("arguments", .string(""))])))])
                try send(JSONObject([("tool_calls", .array([.object(call)]))]), emit)
            case "text"?:
                if let t = block?["text"]?.string, !t.isEmpty { try send(JSONObject([("content", .string(t))]), emit) }
            default: break
            }
        case "content_block_delta":
            let index = v["index"]?.int ?? 0
            let d = v["delta"]
            switch d?["type"]?.string {
            case "text_delta"?:
                try send(JSONObject([("content", d?["text"] ?? .string(""))]), emit)
            case "thinking_delta"?:
                try send(JSONObject([("reasoning", .object(JSONObject([("content", d?["thinking"] ?? .string(""))])))]), emit)
            case "input_json_delta"?:
                let frag = d?["partial_json"]?.string ?? ""
                if structuredBlocks.contains(index) {
                    if !frag.isEmpty { try send(JSONObject([("content", .string(frag))]), emit) }
                } else if let ti = toolIndexForBlock[index], !frag.isEmpty {
                    let call = JSONObject([("index", .int(ti)), ("function", .object(JSONObject([("arguments", .string(frag))])))])
                    try send(JSONObject([("tool_calls", .array([.object(call)]))]), emit)
                }
            case "signature_delta"?:
                if let sig = d?["signature"]?.string, !sig.isEmpty {
                    try send(JSONObject([("reasoning", .object(JSONObject([("content", .string("")), ("signature", .string(sig))])))]), emit)
                }
            default: break  // citations: not part of the OpenAI shape
            }
        case "message_delta":
            if let s = v["delta"]?["stop_reason"]?.string {
                finish = structuredTool != nil && s == "tool_use" && toolIndexForBlock.isEmpty ? "stop" : AnthropicMessages.finishReason(s)
            }
            usage = mergedUsage(v["usage"])
            if let f = finish { try send(JSONObject(), finish: f, emit) }
        case "message_stop":
            isComplete = true
            if let u = usage ?? AnthropicMessages.usage(inputUsage) { try send(nil, usage: u, emit) }
        case "error":
            throw AnthropicMessages.mapErrorObject(v, provider: provider)
        default:
            break  // ping and event types added later are not errors
        }
    }

    private static let notText = JSONParseError(message: "not a text delta", offset: -1)

    /// A `content_block_delta` event whose delta is a `text_delta`, exactly
    /// `{"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}` in any
    /// key order and spacing: where its text lies (between the quotes) and whether it holds
    /// escapes. nil for anything else — another event, another key, a repeated or escaped key,
    /// invalid JSON — which `handle` then reads whole, exactly as before.
    static func textDelta(_ data: UnsafeRawBufferPointer) -> (text: Range<Int>, escaped: Bool)? {
        var sawType = false, sawIndex = false, sawDelta = false
        var text: (range: Range<Int>, escaped: Bool)?
        let whole = JSONScanner.walkObject(data) { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
            if bytesEqual(key, "type") {
                guard !sawType, try s.stringIs("content_block_delta") else { throw notText }
                sawType = true
            } else if bytesEqual(key, "index") {
                guard !sawIndex, s.smallInt() != nil else { throw notText }
                sawIndex = true
            } else if bytesEqual(key, "delta") {
                guard !sawDelta, !s.atEnd, s.peek() == UInt8(ascii: "{") else { throw notText }
                sawDelta = true
                var sawDeltaType = false
                try s.forEachMember { (s: inout JSONScanner, key: UnsafeRawBufferPointer) throws(JSONParseError) in
                    if bytesEqual(key, "type") {
                        guard !sawDeltaType, try s.stringIs("text_delta") else { throw notText }
                        sawDeltaType = true
                    } else if bytesEqual(key, "text") {
                        guard text == nil, let t = try s.stringBody() else { throw notText }
                        text = t
                    } else {
                        throw notText
                    }
                }
                guard sawDeltaType else { throw notText }
            } else {
                throw notText
            }
        }
        guard whole, sawType, let t = text else { return nil }
        return (t.range, t.escaped)
    }

    /// message_delta's usage carries output tokens (and, lately, the input counts too).
    private func mergedUsage(_ delta: JSON?) -> JSON? {
        var u = inputUsage?.object ?? JSONObject()
        for (k, val) in delta?.object?.members ?? [] where !val.isNull { u[k] = val }
        return AnthropicMessages.usage(.object(u))
    }
}
