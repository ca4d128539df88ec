import CAnyLLMTypes
import Glibc

/// AWS Bedrock Converse (`POST {base}/model/{modelId}/converse`, `/converse-stream`), request and
/// response translated to and from OpenAI shapes, signed with SigV4 or sent with a Bedrock API key.
///
/// Mappings that are choices, not facts of either API (documented in docs/providers.md):
/// - `tool_choice` "none": Bedrock has no such choice, so no tools are sent; when the history holds
///   tool calls or results, Bedrock requires a toolConfig, so the tools go with choice auto.
/// - `reasoning_effort` → per model family: Anthropic Claude `additionalModelRequestFields.thinking`
///   (budgets as on the Anthropic protocol, added to maxTokens), Amazon Nova
///   `reasoningConfig.maxReasoningEffort`, OpenAI gpt-oss `reasoning_effort`; other families get nothing.
/// - `response_format` json_schema → `outputConfig.textFormat` (Bedrock's structured output); on
///   Claude models that predate it, a forced tool whose input is the answer.
/// - Keys that are not any-llm parameters go to `additionalModelRequestFields` (the model's own
///   fields, e.g. `top_k`), except Converse's own top-level fields, which stay top-level.
struct BedrockConverse: WireProtocol {
    /// Seconds since the epoch for the signature's date; injectable so tests sign at fixed dates.
    var clock: @Sendable () -> Int = { Int(time(nil)) }

    static let service = "bedrock"
    static let structuredTool = "json_response"
    static let defaultMaxTokens = 4096
    static let efforts = AnthropicMessages.efforts
    /// Converse request fields a caller may give directly; they are not model fields.
    static let topLevelKeys: Set<String> = ["guardrailConfig", "additionalModelResponseFieldPaths", "promptVariables",
                                            "requestMetadata", "performanceConfig", "outputConfig", "serviceTier"]

    func encode(_ req: CompletionRequest, endpoint: Endpoint) throws(AnyLLMError) -> HTTPRequest {
        let body = try Self.body(req)
        var base = endpoint.base
        while base.hasSuffix("/") { base.removeLast() }
        let url = "\(base)/model/\(percentEncodePath(req.model))/\(req.stream ? "converse-stream" : "converse")"
        let (host, path) = Self.split(url)
        var headers: [(String, String)] = [("Host", host), ("Content-Type", "application/json")]
        if let creds = endpoint.aws, endpoint.apiKey == nil {
            let signed = SigV4.sign(method: "POST", path: path, headers: headers, body: body, credentials: creds,
                                    region: endpoint.region ?? BedrockCredentials.defaultRegion, service: Self.service,
                                    unixTime: clock())
            headers += signed.headers
        } else if let k = endpoint.apiKey {
            headers.append(("Authorization", "Bearer \(k)"))
        }
        headers.append(("Accept", req.stream ? "application/vnd.amazon.eventstream" : "application/json"))
        return HTTPRequest(url: url, headers: headers, body: body)
    }

    /// `https://host:port/a/b` → ("host:port", "/a/b"): the Host header we send (and sign) and the path.
    static func split(_ url: String) -> (String, String) {
        var rest = Substring(url)
        for scheme in ["https://", "http://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        guard let slash = rest.firstIndex(of: "/") else { return (String(rest), "/") }
        return (String(rest[..<slash]), String(rest[slash...]))
    }

    // MARK: - request

    static func body(_ req: CompletionRequest) throws(AnyLLMError) -> [UInt8] {
        let name = req.provider.name
        if let n = req.params["n"]?.int, n > 1 { throw OpenAIShape.unsupported("n", name, "one choice per request") }
        var (system, messages, usesTools) = try convertMessages(req.messages, provider: name)
        var body = JSONObject()
        var extraFields = JSONObject()
        var inference = JSONObject()
        var maxTokens = req.params["max_completion_tokens"]?.int ?? req.params["max_tokens"]?.int
        if let t = req.params["temperature"] { inference["temperature"] = t }
        if let t = req.params["top_p"] { inference["topP"] = t }
        if let s = OpenAIShape.stops(req.params["stop"]) { inference["stopSequences"] = .array(s) }

        if let e = req.reasoningEffort, e != "none" {
            let m = req.model.lowercased()
            if m.contains("anthropic.claude"), let budget = efforts[e] {
                extraFields["thinking"] = .object(JSONObject([("type", .string("enabled")), ("budget_tokens", .int(budget))]))
                maxTokens = (maxTokens ?? defaultMaxTokens) + budget  // Claude needs max_tokens > budget
            } else if m.contains("amazon.nova") {
                let level = e == "minimal" ? "low" : (e == "xhigh" ? "high" : e)
                extraFields["reasoningConfig"] = .object(JSONObject([("type", .string("enabled")),
                                                                     ("maxReasoningEffort", .string(level))]))
            } else if m.contains("openai.gpt-oss") {
                extraFields["reasoning_effort"] = .string(e == "minimal" ? "low" : (e == "xhigh" ? "high" : e))
            }
        }
        if let mt = maxTokens { inference.members.insert(("maxTokens", .int(mt)), at: 0) }

        var tools: [JSON] = []
        for t in req.params["tools"]?.array ?? [] {
            guard let fn = t["function"]?.object, let fname = fn["name"]?.string else { continue }
            var spec = JSONObject([("name", .string(fname))])
            if let d = fn["description"]?.string, !d.isEmpty { spec["description"] = .string(d) }
            let schema = fn["parameters"] ?? .object(JSONObject([("type", .string("object")), ("properties", .object(JSONObject()))]))
            spec["inputSchema"] = .object(JSONObject([("json", schema)]))
            tools.append(.object(JSONObject([("toolSpec", .object(spec))])))
        }
        var toolChoice: JSON?
        var sendTools = true
        switch req.params["tool_choice"] {
        case .string("auto")?: toolChoice = .object(JSONObject([("auto", .object(JSONObject()))]))
        case .string("required")?: toolChoice = .object(JSONObject([("any", .object(JSONObject()))]))
        case .string("none")?: sendTools = usesTools  // no "none" in Bedrock; see the type's comment
        case let tc?:
            if let n = tc["function"]?["name"]?.string {
                toolChoice = .object(JSONObject([("tool", .object(JSONObject([("name", .string(n))])))]))
            }
        case nil: break
        }
        if !sendTools { tools = [] }

        if let rf = req.params["response_format"], let type = rf["type"]?.string {
            switch type {
            case "json_schema":
                let js = rf["json_schema"]
                let schema = js?["schema"] ?? .object(JSONObject([("type", .string("object"))]))
                if hasNativeStructuredOutput(req.model) {
                    var def = JSONObject([("schema", .string(schema.text))])
                    if let n = js?["name"]?.string { def["name"] = .string(n) }
                    if let d = js?["description"]?.string { def["description"] = .string(d) }
                    body["outputConfig"] = .object(JSONObject([("textFormat", .object(JSONObject([
                        ("type", .string("json_schema")),
                        ("structure", .object(JSONObject([("jsonSchema", .object(def))])))])))]))
                } else {
                    tools.append(.object(JSONObject([("toolSpec", .object(JSONObject([
                        ("name", .string(structuredTool)),
                        ("description", .string("Respond with the answer as this tool's input.")),
                        ("inputSchema", .object(JSONObject([("json", schema)])))])))])))
                    toolChoice = .object(JSONObject([("tool", .object(JSONObject([("name", .string(structuredTool))])))]))
                }
            case "json_object":
                system.append(.object(JSONObject([("text", .string("Respond only with a single valid JSON object."))])))
            default: break
            }
        }

        body["messages"] = .array(messages)
        if !system.isEmpty { body["system"] = .array(system) }
        if !inference.isEmpty { body["inferenceConfig"] = .object(inference) }
        if !tools.isEmpty {
            var tc = JSONObject([("tools", .array(tools))])
            if let c = toolChoice { tc["toolChoice"] = c }
            body["toolConfig"] = .object(tc)
        }
        for (k, v) in req.extras.members where !BedrockCredentials.controlKeys.contains(k) {
            if k == "additionalModelRequestFields", let o = v.object {
                for (kk, vv) in o.members { extraFields[kk] = vv }
            } else if topLevelKeys.contains(k) {
                body[k] = v
            } else {
                extraFields[k] = v  // top_k and other model-specific fields
            }
        }
        if !extraFields.isEmpty { body["additionalModelRequestFields"] = .object(extraFields) }
        messages = []
        return JSON.object(body).serialized
    }

    /// Claude models on Bedrock that predate structured output get the forced-tool fallback.
    static func hasNativeStructuredOutput(_ model: String) -> Bool {
        // us.anthropic.claude-…, anthropic.claude-…, or an ARN ending in one of those.
        let m = model.lowercased()
        guard let tail = m.split(separator: "/").last, let dot = tail.firstIndex(of: "."),
              m.contains("anthropic.") else { return true }
        var rest = tail[tail.index(after: dot)...]
        if !tail.hasPrefix("anthropic."), let d2 = rest.firstIndex(of: ".") { rest = rest[rest.index(after: d2)...] }
        return AnthropicMessages.hasNativeStructuredOutput(String(rest))
    }

    /// OpenAI messages → (system blocks, Bedrock messages, whether the history has tool blocks).
    /// Tool results become toolResult blocks in a user turn; consecutive turns of one role are
    /// merged (Bedrock requires alternating roles).
    static func convertMessages(_ msgs: [JSON], provider: String) throws(AnyLLMError) -> ([JSON], [JSON], Bool) {
        var system: [JSON] = []
        var out = Turns()
        var usesTools = false
        func append(_ role: String, _ blocks: [JSON]) { out.append(role, blocks) }
        for (i, m) in msgs.enumerated() {
            let at = "messages[\(i)]"
            switch m["role"]?.string ?? "" {
            case "system", "developer":
                let t = OpenAIShape.text(m["content"])
                if !t.isEmpty { system.append(.object(JSONObject([("text", .string(t))]))) }
            case "user":
                append("user", try contentBlocks(m["content"], at: "\(at).content", provider: provider))
            case "assistant":
                var blocks: [JSON] = []
                if let r = m["reasoning"]?.object, let text = r["content"]?.string, let sig = r["signature"]?.string {
                    blocks.append(.object(JSONObject([("reasoningContent", .object(JSONObject([("reasoningText", .object(JSONObject([
                        ("text", .string(text)), ("signature", .string(sig))])))])))])))
                }
                blocks += try contentBlocks(m["content"], at: "\(at).content", provider: provider)
                for (j, c) in (m["tool_calls"]?.array ?? []).enumerated() {
                    let input = try OpenAIShape.argumentsObject(c["function"]?["arguments"]?.string,
                                                                at: "\(at).tool_calls[\(j)].function.arguments")
                    blocks.append(.object(JSONObject([("toolUse", .object(JSONObject([
                        ("toolUseId", c["id"] ?? .string("")), ("name", c["function"]?["name"] ?? .string("")), ("input", input)])))])))
                    usesTools = true
                }
                append("assistant", blocks)
            case "tool", "function":
                let text = OpenAIShape.text(m["content"])
                // A JSON object result travels as a json block (models see structure), other text as text.
                let content: JSON
                if let v = try? JSONReader.parse(text), v.object != nil {
                    content = .object(JSONObject([("json", v)]))
                } else {
                    content = .object(JSONObject([("text", .string(text.isEmpty ? "(empty)" : text))]))
                }
                let r = JSONObject([("toolUseId", m["tool_call_id"] ?? m["name"] ?? .string("")), ("content", .array([content]))])
                append("user", [.object(JSONObject([("toolResult", .object(r))]))])
                usesTools = true
            default: break
            }
        }
        let messages = out.json(blocksKey: "content")
        return (system, messages, usesTools)
    }

    static let imageFormats = ["image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"]

    static func contentBlocks(_ c: JSON?, at: String, provider: String) throws(AnyLLMError) -> [JSON] {
        guard let c, !c.isNull else { return [] }
        if let s = c.string { return s.isEmpty ? [] : [.object(JSONObject([("text", .string(s))]))] }
        var out: [JSON] = []
        for (i, p) in (c.array ?? []).enumerated() {
            switch p["type"]?.string {
            case "text"?:
                if let t = p["text"]?.string, !t.isEmpty { out.append(.object(JSONObject([("text", .string(t))]))) }
            case "image_url"?:
                guard let url = OpenAIShape.imageURL(p) else { continue }
                guard let d = OpenAIShape.dataURL(url) else {
                    if url.hasPrefix("http://") || url.hasPrefix("https://") {
                        throw OpenAIShape.unsupported("\(at)[\(i)].image_url", provider,
                                                      "Bedrock does not fetch image URLs; pass the image as a base64 data: URL")
                    }
                    throw .invalid("\(at)[\(i)].image_url.url", "expected a base64 data: URL")
                }
                guard let format = imageFormats[d.mediaType.lowercased()] else {
                    throw OpenAIShape.unsupported("\(at)[\(i)].image_url", provider,
                                                  "image type \(d.mediaType) (Bedrock takes png, jpeg, gif, webp)")
                }
                out.append(.object(JSONObject([("image", .object(JSONObject([("format", .string(format)),
                    ("source", .object(JSONObject([("bytes", .string(d.data))])))])))])))
            case "refusal"?: break
            case let t?:
                throw OpenAIShape.unsupported("\(at)[\(i)]", provider, "content parts of type \"\(t)\"")
            case nil: break
            }
        }
        return out
    }

    // MARK: - response

    static func finishReason(_ stop: String?) -> String {
        switch stop {
        case "max_tokens"?, "model_context_window_exceeded"?: return "length"
        case "tool_use"?: return "tool_calls"
        case "guardrail_intervened"?, "content_filtered"?: return "content_filter"
        default: return "stop"
        }
    }

    static func usage(_ u: JSON?) -> JSON? {
        guard let u, u.object != nil else { return nil }
        let input = u["inputTokens"]?.int ?? 0, output = u["outputTokens"]?.int ?? 0
        let cacheRead = u["cacheReadInputTokens"]?.int ?? 0, cacheWrite = u["cacheWriteInputTokens"]?.int ?? 0
        let prompt = input + cacheRead + cacheWrite
        return OpenAIShape.usage(prompt: prompt, completion: output, total: u["totalTokens"]?.int ?? prompt + output,
                                 cached: cacheRead)
    }

    func decodeResponse(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> JSON {
        let provider = request.provider.name
        let v = try ErrorMapping.parseProviderJSON(body, "answer", provider: provider)
        guard let blocks = v["output"]?["message"]?["content"]?.array else {
            var e = AnyLLMError(ANYLLM_E_PROVIDER, "the provider's answer has no \"output.message.content\"", provider: provider)
            e.providerError = v
            throw e
        }
        let structured = request.params["response_format"] != nil
        var text = "", reasoning = "", signature: String?, sawText = false
        var calls: [JSON] = []
        var finish = Self.finishReason(v["stopReason"]?.string)
        for b in blocks {
            if let t = b["text"]?.string {
                text += t
                sawText = true
            } else if let r = b["reasoningContent"] {
                reasoning += r["reasoningText"]?["text"]?.string ?? ""
                if let s = r["reasoningText"]?["signature"]?.string, !s.isEmpty { signature = s }
            } else if let u = b["toolUse"] {
                let name = u["name"]?.string ?? ""
                let args = OpenAIShape.compact(u["input"] ?? .object(JSONObject()))
                if structured && name == Self.structuredTool {
                    text += args  // the forced structured-output tool: its input is the answer
                    sawText = true
                    finish = "stop"
                } else {
                    calls.append(OpenAIShape.toolCall(id: u["toolUseId"]?.string ?? OpenAIShape.randomID("tooluse_"),
                                                      name: name, arguments: args))
                }
            }
        }
        var message = OpenAIShape.message(content: sawText || calls.isEmpty ? text : nil, reasoning: reasoning,
                                          toolCalls: calls).object!
        if let sig = signature, var r = message["reasoning"]?.object {
            r["signature"] = .string(sig)  // sent back with the next turn (Claude requires it with tool use)
            message["reasoning"] = .object(r)
        }
        return OpenAIShape.completion(id: OpenAIShape.randomID("chatcmpl-"), model: request.model, created: OpenAIShape.now(),
                                      message: .object(message), finishReason: finish, usage: Self.usage(v["usage"]))
    }

    func streamDecoder(for req: CompletionRequest) -> any StreamDecoder {
        BedrockStreamDecoder(provider: req.provider.name, model: req.model,
                             structuredTool: req.params["response_format"] != nil ? Self.structuredTool : nil)
    }

    func streamsBody(contentType: String) -> Bool { contentType.contains("eventstream") }

    func decodeError(status: Int, head: HTTPResponseHead, body: [UInt8], provider: String) -> AnyLLMError {
        var e = ErrorMapping.map(status: status, head: head, body: body, provider: provider)
        if e.message.isEmpty || e.message.hasPrefix("HTTP "), let m = (try? JSONReader.parse(body))?["Message"]?.string {
            e.message = m
        }
        let type = Self.errorType(head.header("x-amzn-errortype") ?? "")
        if !type.isEmpty { e.extra.append(("error_type", .string(type))) }
        if let s = Self.status(forException: type, message: e.message) { e.status = s }
        else if e.message.lowercased().contains("signature we calculated") { e.status = ANYLLM_E_AUTHENTICATION }
        return e
    }

    /// `ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/` → `ValidationException`.
    static func errorType(_ header: String) -> String {
        String(header.split(separator: ":", maxSplits: 1).first ?? "").trimmingSpaces()
    }

    /// Bedrock's exception names (headers and stream exception events, either capitalisation) → status.
    static func status(forException type: String, message: String) -> anyllm_status? {
        let lower = message.lowercased()
        switch type.lowercased() {
        case "throttlingexception", "servicequotaexceededexception": return ANYLLM_E_RATE_LIMIT
        case "validationexception":
            return ErrorMapping.isContextLength(lower) || lower.contains("too long") ? ANYLLM_E_CONTEXT_LENGTH : ANYLLM_E_INVALID_REQUEST
        case "accessdeniedexception":
            // A bad Bedrock API key is an AccessDeniedException too; no model access is a permission matter.
            return lower.contains("authentication") || lower.contains("api key") || lower.contains("credential")
                ? ANYLLM_E_AUTHENTICATION : ANYLLM_E_PERMISSION
        case "unrecognizedclientexception", "invalidsignatureexception", "incompletesignatureexception",
             "missingauthenticationtokenexception", "expiredtokenexception", "invalidclienttokenid",
             "signaturedoesnotmatch":
            return ANYLLM_E_AUTHENTICATION
        case "resourcenotfoundexception": return ANYLLM_E_NOT_FOUND
        case "modeltimeoutexception": return ANYLLM_E_TIMEOUT
        case "internalserverexception", "serviceunavailableexception", "modelstreamerrorexception",
             "modelerrorexception", "modelnotreadyexception":
            return ANYLLM_E_PROVIDER
        default: return nil
        }
    }
}
