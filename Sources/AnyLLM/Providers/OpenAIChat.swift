import CAnyLLMTypes
import Glibc

/// The OpenAI chat-completions wire protocol (`POST {base}/chat/completions`), spoken by OpenAI and
/// by every OpenAI-compatible provider in the registry. Requests are already OpenAI-shaped, so
/// encoding is mostly pass-through plus each provider's quirks; responses are normalised only
/// where compatible servers differ (reasoning text fields).
struct OpenAIChat: WireProtocol {
    /// Request keys the Azure URL styles consume instead of passing on.
    static let consumedExtras: Set<String> = ["api_version"]

    func encode(_ req: CompletionRequest, endpoint: Endpoint) throws(AnyLLMError) -> HTTPRequest {
        let p = req.provider
        let q = p.quirks
        try q.check(req)
        var base = endpoint.base
        while base.hasSuffix("/") { base.removeLast() }
        let url: String
        switch p.urlStyle {
        case .standard:
            url = base + "/chat/completions"
        case .azureDeployment:
            let version = p.urlStyle.apiVersion(req)
            url = "\(base)/openai/deployments/\(percentEncodePath(req.model))/chat/completions?api-version=\(percentEncodePath(version))"
        case .azureInference:
            url = "\(base)/chat/completions?api-version=\(percentEncodePath(p.urlStyle.apiVersion(req)))"
        }

        var headers: [(String, String)] = [("Content-Type", "application/json"),
                                           ("Accept", req.stream ? "text/event-stream" : "application/json")]
        if let key = endpoint.apiKey, !key.isEmpty {
            switch p.auth {
            case .bearer: headers.append(("Authorization", "Bearer \(key)"))
            case .header(let name): headers.append((name, key))
            }
        }

        var body = JSONObject()
        body["model"] = .string(req.model)
        // Messages that came as checked text go out as that text (their place kept by a null here).
        let messagesText = q.roles.isEmpty ? req.messagesJSON : nil
        body["messages"] = messagesText != nil ? .null : .array(req.messages.map { q.message(Self.outgoingMessage($0)) })
        if req.stream { body["stream"] = .bool(true) }
        for (k, v) in req.params.members {
            switch k {
            case "max_tokens":
                // max_completion_tokens, when also given, is the more specific of the two.
                if req.params["max_completion_tokens"] == nil { body[p.maxTokensField] = v }
            case "max_completion_tokens":
                body[p.maxTokensField] = v
            case "stream_options":
                break  // merged below
            default:
                q.put(k, v, into: &body)
            }
        }
        if req.stream && p.acceptsStreamOptions {
            // Usage arrives only when asked for; the aggregated result needs it.
            var so = req.params["stream_options"]?.object ?? JSONObject()
            if so["include_usage"] == nil { so["include_usage"] = .bool(true) }
            body["stream_options"] = .object(so)
        }
        if let e = req.reasoningEffort { body["reasoning_effort"] = .string(e) }
        for (k, v) in req.extras.members where !(p.urlStyle.usesAPIVersion && Self.consumedExtras.contains(k)) {
            body[k] = v
        }
        if !q.isEmpty { headers += q.headers(for: body) }
        var w = JSONWriter(capacity: (messagesText?.count ?? 0) + 256)
        w.writeObject(body, verbatim: messagesText.map { ("messages", $0) })
        return HTTPRequest(url: url, headers: headers, body: w.bytes)
    }

    func decodeResponse(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> JSON {
        try decode(body, request: request).json
    }

    /// OpenAI's own bodies, and most compatible servers', need no change: returned as received.
    func decodeResponseBytes(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> (JSON, [UInt8]) {
        // The tree is needed only to make chunks of an answer to a stream request.
        if !request.stream && OpenAIAnswerSkim.isPlain(body) { return (.null, body) }
        let (j, changed) = try decode(body, request: request)
        return (j, changed ? j.serialized : body)
    }

    private func decode(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> (json: JSON, changed: Bool) {
        let provider = request.provider.name
        let v = try ErrorMapping.parseProviderJSON(body, "answer", provider: provider)
        var o = v.object!
        if o["error"].map({ !$0.isNull }) ?? false, o["choices"] == nil {
            throw ErrorMapping.fromErrorObject(v, provider: provider)
        }
        guard let choices = o["choices"]?.array else {
            var e = AnyLLMError(ANYLLM_E_PROVIDER, "the provider's answer has no \"choices\"", provider: provider)
            e.providerError = v
            throw e
        }
        var changed = false
        let normalized: [JSON] = choices.map { c in
            guard var co = c.object, let m = co["message"]?.object else { return c }
            if let f = Self.normalizedFinishReason(co["finish_reason"]) {
                co["finish_reason"] = f
                changed = true
            }
            let n = Self.normalizeToolCalls(Self.normalizeReasoning(m))
            if n == m { return changed ? .object(co) : c }
            changed = true
            co["message"] = .object(n)
            return .object(co)
        }
        if changed { o["choices"] = .array(normalized) }
        if o["object"]?.string != "chat.completion" {
            o["object"] = .string("chat.completion")
            changed = true
        }
        return (.object(o), changed)
    }

    func streamDecoder(for req: CompletionRequest) -> any StreamDecoder {
        OpenAISSEDecoder(provider: req.provider.name)
    }


    /// An assistant message taken from an earlier result carries our `reasoning` object, which is
    /// not part of OpenAI's request schema (strict servers reject it; DeepSeek refuses reasoning
    /// sent back): it stays out of the request.
    static func outgoingMessage(_ m: JSON) -> JSON {
        guard var o = m.object, o["reasoning"]?.object != nil, o["role"]?.string == "assistant" else { return m }
        o["reasoning"] = nil
        return .object(o)
    }

    /// Finish reasons some compatible servers spell their own way → OpenAI's (nil: already fine).
    /// Mistral ends a reply cut by the model's context window with `model_length`.
    static func normalizedFinishReason(_ f: JSON?) -> JSON? {
        guard let s = f?.string else { return nil }
        switch s {
        case "model_length": return .string("length")
        default: return nil
        }
    }

    /// Tool-call arguments are a JSON string in OpenAI's shape; some compatible servers send null
    /// (no arguments) or an object.
    static func normalizeToolCalls(_ m: JSONObject) -> JSONObject {
        guard let calls = m["tool_calls"]?.array else { return m }
        var m = m
        m["tool_calls"] = .array(calls.map { c in
            guard var co = c.object, var fn = co["function"]?.object else { return c }
            switch fn["arguments"] {
            case .string?: return c
            case .object(let o)?: fn["arguments"] = .string(JSON.object(o).text)
            default: fn["arguments"] = .string("{}")
            }
            co["function"] = .object(fn)
            return .object(co)
        })
        return m
    }

    /// Compatible servers name reasoning text differently: `reasoning_content` (DeepSeek, vLLM,
    /// llama.cpp), `reasoning` as a string (OpenRouter, Groq), or thinking chunks in a content list
    /// (Mistral; see ContentChunks.swift). The result always carries any-llm's `reasoning: {"content": …}`.
    static func normalizeReasoning(_ m: JSONObject) -> JSONObject {
        var m = ContentChunks.isChunkList(m["content"]) ? ContentChunks.flatten(m) : m
        if let r = m["reasoning_content"] {
            m["reasoning_content"] = nil
            if let s = r.string, m["reasoning"]?.object == nil {
                m["reasoning"] = .object(JSONObject([("content", .string(s))]))
            }
        }
        if let s = m["reasoning"]?.string {
            m["reasoning"] = .object(JSONObject([("content", .string(s))]))
        }
        return m
    }

    static func needsReasoningNormalization(_ m: JSONObject) -> Bool {
        m["reasoning_content"] != nil || m["reasoning"]?.string != nil || ContentChunks.isChunkList(m["content"])
    }
}

/// SSE → ChatCompletionChunks. Chunks that need no change are passed on as the exact bytes the
/// provider sent (no re-encoding on the hot path).
final class OpenAISSEDecoder: StreamDecoder {
    // `@exclusivity(unchecked)`: these are touched for every chunk, and the runtime's access
    // tracking cost more than the work itself. A decoder is only ever driven by one thread, and
    // the tests run with the checks (debug builds keep them).
    @exclusivity(unchecked) private var sse = SSEDecoder()
    private let provider: String
    @exclusivity(unchecked) private(set) var isComplete = false
    @exclusivity(unchecked) private var sawFinishReason = false
    /// Chunks read in full so far: the first always is (it carries id, model, role).
    @exclusivity(unchecked) private var fullChunks = 0
    /// The last skimmed chunk's shape, matched before walking the next chunk.
    @exclusivity(unchecked) private var template = OpenAIChunkSkim.Template()
    @exclusivity(unchecked) private var slots: [Range<Int>] = []

    init(provider: String) { self.provider = provider }

    func feed(_ bytes: UnsafeRawBufferPointer, emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if isComplete { return }
        try sse.feed(bytes) { (ev: SSEEventView) throws(AnyLLMError) in try self.handle(ev, emit) }
    }

    func finish(emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if !isComplete {
            try sse.finish { (ev: SSEEventView) throws(AnyLLMError) in try self.handle(ev, emit) }
        }
        if !isComplete && !sawFinishReason {
            throw AnyLLMError(ANYLLM_E_PROVIDER, "the stream ended before it was complete (no finish_reason and no [DONE])",
                              provider: provider)
        }
    }

    private func handle(_ ev: SSEEventView, _ emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError) {
        if isComplete { return }
        let data = ev.data
        if isDone(data) {
            isComplete = true
            return
        }
        if fullChunks > 0, !ev.eventIs("error") {
            if let skim = template.match(data) {
                try emit(DecodedChunk(skim: skim, raw: data))
                return
            }
            if let skim = OpenAIChunkSkim.skim(data, slots: &slots) {
                template.learn(data, skim, slots)
                try emit(DecodedChunk(skim: skim, raw: data))
                return
            }
        }
        fullChunks += 1
        let bytes = Array(data)
        let v = try ErrorMapping.parseProviderJSON(bytes, "stream event", provider: provider)
        var o = v.object!
        if let err = o["error"], !err.isNull {
            throw ErrorMapping.fromErrorObject(v, provider: provider)
        }
        if ev.eventIs("error") || (o["object"]?.string == "error" && o["choices"] == nil) {
            // An error event, or an error object in place of a chunk (Mistral's `"object": "error"`).
            throw ErrorMapping.fromErrorObject(.object(JSONObject([("error", v)])), provider: provider)
        }
        var modified = false
        if let choices = o["choices"]?.array {
            var out = choices
            for (i, c) in choices.enumerated() {
                guard var co = c.object else { continue }
                if let f = co["finish_reason"], !f.isNull { sawFinishReason = true }
                if let f = OpenAIChat.normalizedFinishReason(co["finish_reason"]) {
                    co["finish_reason"] = f
                    out[i] = .object(co)
                    modified = true
                }
                if let d = co["delta"]?.object, OpenAIChat.needsReasoningNormalization(d) {
                    co["delta"] = .object(OpenAIChat.normalizeReasoning(d))
                    out[i] = .object(co)
                    modified = true
                }
            }
            if modified { o["choices"] = .array(out) }
        }
        try emit(DecodedChunk(json: o, bytes: modified ? JSON.object(o).serialized : bytes))
    }

    private func isDone(_ d: UnsafeRawBufferPointer) -> Bool {
        var s = 0, e = d.count
        while s < e && (d[s] == 0x20 || d[s] == 0x09) { s += 1 }
        while e > s && (d[e - 1] == 0x20 || d[e - 1] == 0x09 || d[e - 1] == 0x0A || d[e - 1] == 0x0D) { e -= 1 }
        return e - s == 6 && Array(d[s..<e]) == Array("[DONE]".utf8)
    }
}

/// Environment lookup (no Foundation).
func env(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    let s = String(cString: p)
    return s.isEmpty ? nil : s
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for one path segment or query value.
func percentEncodePath(_ s: String) -> String {
    var out = ""
    for b in s.utf8 {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.append(Character(UnicodeScalar(b)))
        default:
            let hex = Array("0123456789ABCDEF")
            out.append("%"); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
        }
    }
    return out
}
