import CAnyLLMTypes

/// Cohere Chat v2 (`POST {base}/v2/chat`, bearer key), request and response translated to and from
/// OpenAI shapes. The stream decoder is in CohereStream.swift.
///
/// Mappings that are choices, not facts of either API (documented in docs/providers.md):
/// - All system/developer messages become one system message at the front (joined by a blank line).
/// - `top_p` → `p`, clamped into Cohere's 0.01…0.99 (OpenAI callers often send 1.0, which Cohere refuses).
/// - `tool_choice` auto → omitted, none → NONE, required → REQUIRED, a named function → only that tool is
///   sent, with REQUIRED (Cohere cannot name a tool).
/// - `reasoning_effort` → `thinking` with a token budget: minimal 1024, low 2048, medium 8192, high 16384,
///   xhigh 32768; none → disabled. max_tokens is not changed.
/// - The answer's `tool_plan` (the text Cohere writes before calling tools) is reasoning: it goes to
///   `message.reasoning.content`, after any thinking text, and is sent back as `tool_plan` when that
///   assistant message returns with its tool calls.
/// - Usage: `usage.tokens` (what the model processed), else `usage.billed_units`.
/// - finish_reason ERROR or TIMEOUT is an error (ANYLLM_E_PROVIDER), not an answer.
struct CohereChat: WireProtocol {
    static let efforts: [String: Int] = ["minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 32768]
    static let minP = 0.01, maxP = 0.99

    func encode(_ req: CompletionRequest, endpoint: Endpoint) throws(AnyLLMError) -> HTTPRequest {
        let name = req.provider.name
        var base = endpoint.base
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v2") || base.hasSuffix("/v1") { base.removeLast(3) }
        var headers: [(String, String)] = [("Content-Type", "application/json"),
                                           ("Accept", req.stream ? "text/event-stream" : "application/json")]
        if let k = endpoint.apiKey { headers.append(("Authorization", "Bearer \(k)")) }

        try Self.rejectUnsupported(req, name)
        var body = JSONObject()
        body["model"] = .string(req.model)
        body["messages"] = .array(try Self.convertMessages(req.messages))

        var tools = (req.params["tools"]?.array ?? []).compactMap(Self.tool)
        if let tc = req.params["tool_choice"] {
            switch tc.string {
            case "auto"?: break
            case "none"?: body["tool_choice"] = .string("NONE")
            case "required"?: body["tool_choice"] = .string("REQUIRED")
            default:
                if let n = tc["function"]?["name"]?.string {
                    tools = tools.filter { $0["function"]?["name"]?.string == n }
                    body["tool_choice"] = .string("REQUIRED")
                }
            }
        }
        if !tools.isEmpty { body["tools"] = .array(tools) }

        if let v = req.params["max_completion_tokens"] ?? req.params["max_tokens"] { body["max_tokens"] = v }
        if let s = OpenAIShape.stops(req.params["stop"]) { body["stop_sequences"] = .array(s) }
        if let v = req.params["temperature"] { body["temperature"] = v }
        if let v = req.params["seed"] { body["seed"] = v }
        if let v = req.params["frequency_penalty"] { body["frequency_penalty"] = v }
        if let v = req.params["presence_penalty"] { body["presence_penalty"] = v }
        if let p = req.params["top_p"]?.double { body["p"] = .double(min(max(p, Self.minP), Self.maxP)) }
        if let k = req.extras["top_k"] { body["k"] = k }
        if req.params["logprobs"] == .bool(true) { body["logprobs"] = .bool(true) }
        if let rf = req.params["response_format"] {
            switch rf["type"]?.string {
            case "json_object"?: body["response_format"] = .object(JSONObject([("type", .string("json_object"))]))
            case "json_schema"?:
                var o = JSONObject([("type", .string("json_object"))])
                if let s = rf["json_schema"]?["schema"] { o["json_schema"] = s }
                body["response_format"] = .object(o)
            default: break  // "text" is Cohere's default
            }
        }
        if let e = req.reasoningEffort {
            if e == "none" {
                body["thinking"] = .object(JSONObject([("type", .string("disabled"))]))
            } else if let budget = Self.efforts[e] {
                body["thinking"] = .object(JSONObject([("type", .string("enabled")), ("token_budget", .int(budget))]))
            }
        }
        body["stream"] = .bool(req.stream)
        // documents, citation_options, safety_mode, strict_tools, ... pass through; top_k became k.
        for (k, v) in req.extras.members where k != "top_k" { body[k] = v }
        return HTTPRequest(url: base + "/v2/chat", headers: headers, body: JSON.object(body).serialized)
    }

    /// OpenAI parameters Cohere has no equivalent for: refused rather than silently dropped.
    static func rejectUnsupported(_ req: CompletionRequest, _ name: String) throws(AnyLLMError) {
        if let n = req.params["n"]?.int, n > 1 { throw OpenAIShape.unsupported("n", name, "one choice per request") }
        if let t = req.params["top_logprobs"]?.int, t > 0 {
            throw OpenAIShape.unsupported("top_logprobs", name, "Cohere returns only the chosen tokens' log probabilities")
        }
        if let lb = req.params["logit_bias"]?.object, !lb.isEmpty {
            throw OpenAIShape.unsupported("logit_bias", name, "the Chat API has no logit bias")
        }
        if req.params["parallel_tool_calls"] == .bool(false), req.params["tools"] != nil {
            throw OpenAIShape.unsupported("parallel_tool_calls", name, "Cohere cannot be limited to one tool call")
        }
    }

    /// An OpenAI tool → Cohere's (the same `{"type":"function","function":{…}}` shape, parameters required).
    static func tool(_ t: JSON) -> JSON? {
        guard let fn = t["function"]?.object, let fname = fn["name"]?.string else { return nil }
        var f = JSONObject([("name", .string(fname))])
        if let d = fn["description"]?.string { f["description"] = .string(d) }
        f["parameters"] = fn["parameters"] ?? .object(JSONObject([("type", .string("object")), ("properties", .object(JSONObject()))]))
        return .object(JSONObject([("type", .string("function")), ("function", .object(f))]))
    }

    /// OpenAI messages → Cohere messages. Cohere's roles are OpenAI's minus developer; tool calls keep
    /// their shape (arguments stay a JSON string); assistant text next to tool calls becomes `tool_plan`.
    static func convertMessages(_ msgs: [JSON]) throws(AnyLLMError) -> [JSON] {
        var system: [String] = []
        var out: [JSON] = []
        for (i, m) in msgs.enumerated() {
            let at = "messages[\(i)]"
            switch m["role"]?.string ?? "" {
            case "system", "developer":
                let t = OpenAIShape.text(m["content"])
                if !t.isEmpty { system.append(t) }
            case "user":
                out.append(.object(JSONObject([("role", .string("user")), ("content", try content(m["content"], at: "\(at).content"))])))
            case "assistant":
                var o = JSONObject([("role", .string("assistant"))])
                let calls = m["tool_calls"]?.array ?? []
                if calls.isEmpty {
                    o["content"] = try content(m["content"], at: "\(at).content", assistant: true)
                } else {
                    o["tool_calls"] = .array(calls.map { c in
                        .object(JSONObject([("id", c["id"] ?? .string("")), ("type", .string("function")),
                                            ("function", .object(JSONObject([("name", c["function"]?["name"] ?? .string("")),
                                                                             ("arguments", c["function"]?["arguments"] ?? .string("{}"))])))]))
                    })
                    // The plan Cohere wrote before these calls came back to the caller as reasoning.
                    let plan = m["reasoning"]?["content"]?.string ?? OpenAIShape.text(m["content"])
                    if !plan.isEmpty { o["tool_plan"] = .string(plan) }
                }
                out.append(.object(o))
            case "tool", "function":
                let id = m["tool_call_id"] ?? m["name"] ?? .string("")
                out.append(.object(JSONObject([("role", .string("tool")), ("tool_call_id", id),
                                               ("content", try content(m["content"], at: "\(at).content"))])))
            default: break
            }
        }
        if !system.isEmpty {
            out.insert(.object(JSONObject([("role", .string("system")), ("content", .string(system.joined(separator: "\n\n")))])), at: 0)
        }
        return out
    }

    /// A string stays a string; parts become Cohere content items (text, image_url; Cohere-native
    /// items such as `document` pass as they are).
    static func content(_ c: JSON?, at: String, assistant: Bool = false) throws(AnyLLMError) -> JSON {
        guard let c, !c.isNull else { return .string("") }
        if c.string != nil { return c }
        var out: [JSON] = []
        for (i, p) in (c.array ?? []).enumerated() {
            switch p["type"]?.string {
            case "text"?:
                out.append(.object(JSONObject([("type", .string("text")), ("text", p["text"] ?? .string(""))])))
            case "image_url"?:
                if assistant { throw OpenAIShape.unsupported("\(at)[\(i)]", "cohere", "assistant messages cannot hold images") }
                guard let url = OpenAIShape.imageURL(p) else { continue }
                var iu = JSONObject([("url", .string(url))])
                if let d = p["image_url"]?["detail"]?.string { iu["detail"] = .string(d) }
                out.append(.object(JSONObject([("type", .string("image_url")), ("image_url", .object(iu))])))
            case "refusal"?, nil: break
            default: out.append(p)
            }
        }
        return .array(out)
    }

    static func finishReason(_ r: String?, hasCalls: Bool) -> String {
        switch r {
        case "MAX_TOKENS"?: return "length"
        case "TOOL_CALL"?: return "tool_calls"
        default: return hasCalls ? "tool_calls" : "stop"
        }
    }

    /// finish_reason ERROR / TIMEOUT: the generation failed.
    static func failure(_ reason: String?, detail: String?, provider: String, body: JSON) -> AnyLLMError? {
        guard reason == "ERROR" || reason == "TIMEOUT" else { return nil }
        var msg = reason == "TIMEOUT" ? "the provider timed out while generating" : "the provider failed while generating"
        if let d = detail, !d.isEmpty { msg += ": \(d)" }
        var e = AnyLLMError(ANYLLM_E_PROVIDER, msg, provider: provider)
        e.providerError = body
        return e
    }

    static func usage(_ u: JSON?) -> JSON? {
        guard let u, u.object != nil else { return nil }
        let t = u["tokens"], b = u["billed_units"]
        guard t != nil || b != nil else { return nil }
        // `.int`, not Int(double): a count that is no integer in Int's range (1e300 from a broken or hostile
        // server) must not trap; it is skipped like a missing one.
        let input = t?["input_tokens"]?.int ?? b?["input_tokens"]?.int ?? 0
        let output = t?["output_tokens"]?.int ?? b?["output_tokens"]?.int ?? 0
        return OpenAIShape.usage(prompt: input, completion: output)
    }

    /// A tool call's arguments: Cohere sends a JSON string; an object is accepted and serialised.
    static func arguments(_ v: JSON?) -> String {
        guard let v else { return "{}" }
        if let s = v.string { return s }
        return v.isNull ? "{}" : OpenAIShape.compact(v)
    }

    /// Cohere's logprobs (one item per text chunk, with one log probability per token) → OpenAI's
    /// `logprobs.content`, one entry per chunk carrying the sum.
    static func logprobs(_ v: JSON?) -> JSON {
        guard let items = v?.array else { return .null }
        let content: [JSON] = items.map { it in
            let lp = (it["logprobs"]?.array ?? []).compactMap(\.double).reduce(0, +)
            return .object(JSONObject([("token", it["text"] ?? .string("")), ("logprob", .double(lp)), ("bytes", .null),
                                       ("top_logprobs", .array([]))]))
        }
        return .object(JSONObject([("content", .array(content))]))
    }

    func decodeResponse(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> JSON {
        let provider = request.provider.name
        let v = try ErrorMapping.parseProviderJSON(body, "answer", provider: provider)
        guard let m = v["message"]?.object else {
            if v["message"]?.string != nil { throw ErrorMapping.fromErrorObject(v, provider: provider) }
            var e = AnyLLMError(ANYLLM_E_PROVIDER, "the provider's answer has no \"message\"", provider: provider)
            e.providerError = v
            throw e
        }
        if let e = Self.failure(v["finish_reason"]?.string, detail: nil, provider: provider, body: v) { throw e }
        var text = "", thinking = "", sawText = false
        for item in m["content"]?.array ?? [] {
            switch item["type"]?.string {
            case "text"?:
                text += item["text"]?.string ?? ""
                sawText = true
            case "thinking"?: thinking += item["thinking"]?.string ?? ""
            default: break
            }
        }
        let plan = m["tool_plan"]?.string ?? ""
        let reasoning = thinking + (!thinking.isEmpty && !plan.isEmpty ? "\n\n" : "") + plan
        let calls: [JSON] = (m["tool_calls"]?.array ?? []).map { c in
            OpenAIShape.toolCall(id: c["id"]?.string ?? OpenAIShape.randomID("call_"), name: c["function"]?["name"]?.string ?? "",
                                 arguments: Self.arguments(c["function"]?["arguments"]))
        }
        let message = OpenAIShape.message(content: sawText || calls.isEmpty ? text : nil, reasoning: reasoning, toolCalls: calls)
        var out = OpenAIShape.completion(id: v["id"]?.string ?? OpenAIShape.randomID("chatcmpl-"), model: request.model,
                                         created: OpenAIShape.now(), message: message,
                                         finishReason: Self.finishReason(v["finish_reason"]?.string, hasCalls: !calls.isEmpty),
                                         usage: Self.usage(v["usage"])).object!
        if v["logprobs"]?.array != nil, var choice = out["choices"]?.array?.first?.object {
            choice["logprobs"] = Self.logprobs(v["logprobs"])
            out["choices"] = .array([.object(choice)])
        }
        return .object(out)
    }

    func streamDecoder(for req: CompletionRequest) -> any StreamDecoder {
        CohereStreamDecoder(provider: req.provider.name, model: req.model)
    }

    /// SSE is asked for; a line-delimited JSON stream (`application/stream+json`, what Cohere sends
    /// without `Accept: text/event-stream`) is a stream too, and the decoder reads both.
    func streamsBody(contentType: String) -> Bool {
        let t = contentType.lowercased()
        return !t.contains("json") || t.contains("stream") || t.contains("ndjson") || t.contains("jsonl")
    }

    func decodeError(status: Int, head: HTTPResponseHead, body: [UInt8], provider: String) -> AnyLLMError {
        var e = ErrorMapping.map(status: status, head: head, body: body, provider: provider)
        let lower = e.message.lowercased()
        // "too many tokens: max tokens must be less than or equal to 4096, ..." is a bad max_tokens,
        // not an overflowing prompt (Cohere starts both messages with "too many tokens").
        if e.status == ANYLLM_E_CONTEXT_LENGTH, lower.contains("max tokens must be") { e.status = ANYLLM_E_INVALID_REQUEST }
        if status == 498 { e.status = ANYLLM_E_AUTHENTICATION }  // Cohere's "invalid token" status
        if status == 499 { e.status = ANYLLM_E_PROVIDER }        // "request cancelled": not something we did
        if e.status == ANYLLM_E_INVALID_REQUEST, lower.contains("payment") { e.status = ANYLLM_E_INSUFFICIENT_FUNDS }
        return e
    }
}
