import CAnyLLMTypes

/// A parsed and validated completion request: any-llm's `completion()` parameters as JSON.
/// Validation happens here, once, so that each wire protocol encodes from known-good values and
/// every bad field gets ANYLLM_E_INVALID_REQUEST naming the field.
///
/// A class, not a struct: the request is held by the call's driver and by each attempt, and a copy
/// of a struct of strings, arrays and trees cost a retain and a release per field (17 per call).
final class CompletionRequest: Sendable {
    let provider: ProviderInfo
    let model: String
    let legacyModelFormat: Bool
    /// OpenAI-shaped messages (a plain string was turned into one user message). Read from
    /// `messagesJSON` on first use when the request took the text path (see RequestScan).
    var messages: [JSON] {
        if let m = parsedMessages { return m }
        // RequestScan validated this text as simple messages, which validateMessages leaves as they
        // are: parsing it again cannot fail (the empty fallback is unreachable).
        return (try? JSONReader.parse(messagesJSON ?? []))?.array ?? []
    }
    private let parsedMessages: [JSON]?
    /// The caller's messages as JSON text, already valid and OpenAI-shaped (the text path): the
    /// OpenAI encoder sends it as it came instead of decoding and re-encoding every string.
    let messagesJSON: [UInt8]?
    let stream: Bool
    /// The standard generation parameters that were given (not null), validated, in request order.
    let params: JSONObject
    /// Keys that are not any-llm parameters: passed to the provider's body unchanged (**kwargs).
    let extras: JSONObject
    let apiKey: String?
    let apiBase: String?
    let clientArgs: JSON?
    /// nil when "auto" or absent: send nothing, let the provider choose.
    let reasoningEffort: String?

    init(provider: ProviderInfo, model: String, legacyModelFormat: Bool, messages: [JSON]?, messagesJSON: [UInt8]?,
         stream: Bool, params: JSONObject, extras: JSONObject, apiKey: String?, apiBase: String?, clientArgs: JSON?,
         reasoningEffort: String?) {
        self.provider = provider
        self.model = model
        self.legacyModelFormat = legacyModelFormat
        self.parsedMessages = messages
        self.messagesJSON = messagesJSON
        self.stream = stream
        self.params = params
        self.extras = extras
        self.apiKey = apiKey
        self.apiBase = apiBase
        self.clientArgs = clientArgs
        self.reasoningEffort = reasoningEffort
    }

    /// The any-llm parameters that are encoded into the provider body (all but routing and auth).
    /// Arrays, not Sets: for the few short keys of a request, comparing them costs less than the
    /// SipHash a Set lookup computes for every key.
    static let generationKeys = [
        "tools", "tool_choice", "temperature", "top_p", "max_tokens", "max_completion_tokens", "response_format",
        "n", "stop", "presence_penalty", "frequency_penalty", "seed", "user", "parallel_tool_calls", "logprobs",
        "top_logprobs", "logit_bias", "stream_options",
    ]
    /// Keys the library consumes itself.
    static let controlKeys = [
        "model", "messages", "provider", "stream", "api_key", "api_base", "client_args", "reasoning_effort",
        "session_label",
    ]
    static let roles = ["assistant", "developer", "function", "system", "tool", "user"]

    /// What a top-level request key is.
    enum KeyKind { case control, generation, extra }
    static func kind(of key: String) -> KeyKind {
        if controlKeys.contains(key) { return .control }
        if generationKeys.contains(key) { return .generation }
        return .extra
    }
    static let efforts: Set<String> = ["none", "minimal", "low", "medium", "high", "xhigh", "auto"]

    static func parse(_ text: UnsafeRawBufferPointer) throws(AnyLLMError) -> CompletionRequest {
        // The text path: every member but the messages read as JSON values, the messages checked
        // in place and kept as text. Anything it does not take (invalid JSON, messages it cannot
        // vouch for) is read whole below, so errors are the full reader's, word for word.
        if let scanned = RequestScan.scan(text) {
            return try parse(scanned.members, scanned: scanned)
        }
        let root: JSON
        do { root = try JSONReader.parse(text) } catch {
            throw AnyLLMError(ANYLLM_E_INVALID_REQUEST, "invalid request: the request is not valid JSON: \(error)",
                              param: "")
        }
        return try parse(root)
    }

    static func parse(_ root: JSON) throws(AnyLLMError) -> CompletionRequest {
        guard let o = root.object else {
            throw AnyLLMError(ANYLLM_E_INVALID_REQUEST,
                              "invalid request: the request must be a JSON object, got \(root.typeName)", param: "")
        }
        return try parse(o, scanned: nil)
    }

    /// Validates a request's members: with `scanned`, `o` holds no "messages" and they come from
    /// the scan; without, from `o`.
    private static func parse(_ o: JSONObject, scanned: RequestScan.Scanned?) throws(AnyLLMError) -> CompletionRequest {
        func present(_ k: String) -> JSON? {
            guard let v = o[k], !v.isNull else { return nil }
            return v
        }
        func string(_ k: String) throws(AnyLLMError) -> String? {
            guard let v = present(k) else { return nil }
            guard let s = v.string else { throw .invalid(k, "expected a string, got \(v.typeName)") }
            return s
        }

        guard let model = try string("model"), !model.isEmpty else {
            throw .invalid("model", o["model"] == nil ? "required field is missing" : "must be a non-empty string")
        }
        let providerName = try string("provider")
        if let p = providerName, p.isEmpty { throw .invalid("provider", "must be a non-empty string") }
        let ref = try ModelRef.parse(model: model, provider: providerName)
        guard let info = Registry.find(ref.provider) else { throw ModelRef.unknownProvider(ref.provider) }

        var messages: [JSON]?, messagesJSON: [UInt8]?
        if let simple = scanned?.simple, info.wire == .openAIChat, info.quirks.roles.isEmpty {
            messagesJSON = simple  // sent as they came
        } else {
            let value: JSON?
            if let sc = scanned {
                // Simple messages are text the scan built from validated JSON: reading it cannot fail.
                value = sc.simple.map { try? JSONReader.parse($0) } ?? sc.value
            } else {
                value = o["messages"]
            }
            guard let v = value, !v.isNull else { throw .invalid("messages", "required field is missing") }
            messages = try validateMessages(v)
        }

        var stream = false
        if let s = present("stream") {
            guard let b = s.bool else { throw .invalid("stream", "expected true or false, got \(s.typeName)") }
            stream = b
        }

        var effort: String?
        if let e = present("reasoning_effort") {
            guard let s = e.string, efforts.contains(s) else {
                throw .invalid("reasoning_effort", "expected one of \(efforts.sorted().joined(separator: ", "))")
            }
            effort = s == "auto" ? nil : s
        }

        let apiKey = try string("api_key")
        let apiBase = try string("api_base")
        if let b = apiBase, !(b.hasPrefix("http://") || b.hasPrefix("https://")) {
            throw .invalid("api_base", "expected an http:// or https:// URL")
        }
        let clientArgs = present("client_args")
        if let c = clientArgs { _ = try ClientOptions().merged(with: c, field: "client_args") }
        _ = try string("session_label")

        var params = JSONObject(), extras = JSONObject()
        for (k, v) in o.members {
            switch kind(of: k) {
            case .control: continue
            case .generation:
                if v.isNull { continue }
                try validateParam(k, v, stream: stream)
                params[k] = v
            case .extra:
                extras[k] = v
            }
        }
        if let tc = params["tool_choice"] { try validateToolChoice(tc, tools: params["tools"]) }

        return CompletionRequest(provider: info, model: ref.model, legacyModelFormat: ref.legacySlash,
                                 messages: messages, messagesJSON: messagesJSON, stream: stream, params: params, extras: extras,
                                 apiKey: apiKey, apiBase: apiBase, clientArgs: clientArgs, reasoningEffort: effort)
    }

    // MARK: - messages

    /// A provider-specific string field (credentials, region, project): absent or null → nil; any other type, or an
    /// empty string, is an error — falling back to the environment or a default would send the call elsewhere.
    func extraString(_ k: String) throws(AnyLLMError) -> String? {
        guard let v = extras[k], !v.isNull else { return nil }
        guard let s = v.string, !s.isEmpty else { throw .invalid(k, "expected a non-empty string, got \(v.typeName)") }
        return s
    }

    static func validateMessages(_ v: JSON) throws(AnyLLMError) -> [JSON] {
        if let s = v.string {
            guard !s.isEmpty else { throw .invalid("messages", "an empty string is not a message") }
            return [.object(JSONObject([("role", .string("user")), ("content", .string(s))]))]
        }
        guard let list = v.array else {
            throw .invalid("messages", "expected a list of messages or a string, got \(v.typeName)")
        }
        guard !list.isEmpty else { throw .invalid("messages", "at least one message is required") }
        var out: [JSON] = []
        out.reserveCapacity(list.count)
        for (i, m) in list.enumerated() { out.append(try validateMessage(m, "messages[\(i)]")) }
        return out
    }

    static func validateMessage(_ m: JSON, _ at: String) throws(AnyLLMError) -> JSON {
        guard var o = m.object else { throw .invalid(at, "expected a message object, got \(m.typeName)") }
        guard let roleValue = o["role"] else { throw .invalid("\(at).role", "required field is missing") }
        guard let role = roleValue.string, roles.contains(role) else {
            throw .invalid("\(at).role", "expected one of \(roles.joined(separator: ", "))")
        }
        let content = o["content"]
        switch role {
        case "assistant":
            let hasCalls: Bool
            if let calls = o["tool_calls"], !calls.isNull {
                o["tool_calls"] = try validateToolCalls(calls, "\(at).tool_calls")
                hasCalls = true
            } else {
                hasCalls = false
            }
            if content == nil || content!.isNull {
                guard hasCalls || o["function_call"] != nil else {
                    throw .invalid("\(at).content", "an assistant message needs content or tool_calls")
                }
            } else {
                try validateContent(content!, "\(at).content", role: role)
            }
        case "tool":
            guard let id = o["tool_call_id"], let s = id.string, !s.isEmpty else {
                throw .invalid("\(at).tool_call_id", "a tool message needs the id of the tool call it answers")
            }
            guard let c = content, !c.isNull else { throw .invalid("\(at).content", "required field is missing") }
            try validateContent(c, "\(at).content", role: role)
        default:
            guard let c = content, !c.isNull else { throw .invalid("\(at).content", "required field is missing") }
            try validateContent(c, "\(at).content", role: role)
        }
        if let n = o["name"], !n.isNull, n.string == nil { throw .invalid("\(at).name", "expected a string") }
        return .object(o)
    }

    static func validateContent(_ c: JSON, _ at: String, role: String) throws(AnyLLMError) {
        if c.string != nil { return }
        guard let parts = c.array else {
            throw .invalid(at, "expected a string or a list of content parts, got \(c.typeName)")
        }
        for (i, p) in parts.enumerated() {
            let pat = "\(at)[\(i)]"
            guard let po = p.object else { throw .invalid(pat, "expected a content part object") }
            guard let type = po["type"]?.string else { throw .invalid("\(pat).type", "required field is missing") }
            switch type {
            case "text":
                guard po["text"]?.string != nil else { throw .invalid("\(pat).text", "a text part needs a string \"text\"") }
            case "image_url":
                guard let iu = po["image_url"], let url = iu.string ?? iu["url"]?.string, !url.isEmpty else {
                    throw .invalid("\(pat).image_url", "an image_url part needs {\"url\": \"https://… or data:…\"}")
                }
                if let d = iu["detail"], !d.isNull, d.string == nil { throw .invalid("\(pat).image_url.detail", "expected a string") }
            default:
                // input_audio, file, refusal, and provider-specific part types travel unchanged.
                break
            }
        }
    }

    static func validateToolCalls(_ v: JSON, _ at: String) throws(AnyLLMError) -> JSON {
        guard let calls = v.array else { throw .invalid(at, "expected a list of tool calls") }
        var out: [JSON] = []
        for (i, c) in calls.enumerated() {
            let cat = "\(at)[\(i)]"
            guard var co = c.object else { throw .invalid(cat, "expected a tool call object") }
            guard let id = co["id"]?.string, !id.isEmpty else { throw .invalid("\(cat).id", "required field is missing") }
            _ = id
            guard var fn = co["function"]?.object else { throw .invalid("\(cat).function", "required field is missing") }
            guard let name = fn["name"]?.string, !name.isEmpty else {
                throw .invalid("\(cat).function.name", "required field is missing")
            }
            _ = name
            switch fn["arguments"] {
            case .string?: break
            case nil, .null?: fn["arguments"] = .string("{}")
            case .object(let a)?: fn["arguments"] = .string(JSON.object(a).text)  // lenient: a dict becomes its JSON text
            default: throw .invalid("\(cat).function.arguments", "expected a JSON string")
            }
            co["function"] = .object(fn)
            if co["type"] == nil { co["type"] = .string("function") }
            out.append(.object(co))
        }
        return .array(out)
    }

    // MARK: - parameters

    static func validateParam(_ k: String, _ v: JSON, stream: Bool) throws(AnyLLMError) {
        func number(_ lo: Double, _ hi: Double) throws(AnyLLMError) {
            guard let d = v.double else { throw .invalid(k, "expected a number, got \(v.typeName)") }
            guard d >= lo && d <= hi else { throw .invalid(k, "must be between \(fmt(lo)) and \(fmt(hi)), got \(fmt(d))") }
        }
        func positiveInt() throws(AnyLLMError) {
            guard let i = v.int, i >= 1 else { throw .invalid(k, "expected a positive integer") }
        }
        func boolean() throws(AnyLLMError) {
            guard v.bool != nil else { throw .invalid(k, "expected true or false, got \(v.typeName)") }
        }
        switch k {
        case "temperature": try number(0, 2)
        case "top_p": try number(0, 1)
        case "presence_penalty", "frequency_penalty": try number(-2, 2)
        case "max_tokens", "max_completion_tokens", "n": try positiveInt()
        case "seed": guard v.isInt64 else { throw .invalid(k, "expected an integer") }
        case "top_logprobs": guard let i = v.int, i >= 0, i <= 20 else { throw .invalid(k, "expected an integer from 0 to 20") }
        case "parallel_tool_calls", "logprobs": try boolean()
        case "user": guard v.string != nil else { throw .invalid(k, "expected a string") }
        case "stop":
            if v.string != nil { return }
            guard let a = v.array, a.allSatisfy({ $0.string != nil }) else {
                throw .invalid(k, "expected a string or a list of strings")
            }
        case "logit_bias":
            guard let o = v.object, o.members.allSatisfy({ $0.value.double != nil }) else {
                throw .invalid(k, "expected an object mapping token ids to numbers")
            }
        case "stream_options":
            guard v.object != nil else { throw .invalid(k, "expected an object") }
            guard stream else { throw .invalid(k, "only allowed when \"stream\" is true") }
        case "response_format": try validateResponseFormat(v)
        case "tools": try validateTools(v)
        default: break
        }
    }

    static func fmt(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e9 ? String(Int(d)) : String(d)
    }

    static func validateResponseFormat(_ v: JSON) throws(AnyLLMError) {
        guard let o = v.object else { throw .invalid("response_format", "expected an object such as {\"type\": \"json_object\"}") }
        guard let t = o["type"]?.string else { throw .invalid("response_format.type", "required field is missing") }
        switch t {
        case "text", "json_object": break
        case "json_schema":
            guard let js = o["json_schema"]?.object else {
                throw .invalid("response_format.json_schema", "required for type json_schema: {\"name\": …, \"schema\": {…}}")
            }
            guard let name = js["name"]?.string, !name.isEmpty else {
                throw .invalid("response_format.json_schema.name", "required field is missing")
            }
            _ = name
            if let s = js["schema"], s.object == nil { throw .invalid("response_format.json_schema.schema", "expected a JSON Schema object") }
        default:
            throw .invalid("response_format.type", "expected text, json_object or json_schema, got \"\(t)\"")
        }
    }

    static func validateTools(_ v: JSON) throws(AnyLLMError) {
        guard let list = v.array else { throw .invalid("tools", "expected a list of tools") }
        for (i, t) in list.enumerated() {
            let at = "tools[\(i)]"
            guard let o = t.object else { throw .invalid(at, "expected a tool object") }
            let type = o["type"]?.string ?? "function"
            guard type == "function" else { continue }  // provider-specific tool types pass through
            guard let fn = o["function"]?.object else { throw .invalid("\(at).function", "required field is missing") }
            guard let name = fn["name"]?.string else { throw .invalid("\(at).function.name", "required field is missing") }
            guard isToolName(name) else {
                throw .invalid("\(at).function.name", "must be 1–64 characters of a-z, A-Z, 0-9, _ and -")
            }
            if let p = fn["parameters"], !p.isNull, p.object == nil {
                throw .invalid("\(at).function.parameters", "expected a JSON Schema object")
            }
        }
    }

    static func isToolName(_ s: String) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count <= 64 else { return false }
        return u.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
        }
    }

    static func validateToolChoice(_ v: JSON, tools: JSON?) throws(AnyLLMError) {
        if let s = v.string {
            guard ["none", "auto", "required"].contains(s) else {
                throw .invalid("tool_choice", "expected \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}")
            }
            if s == "required" && tools == nil { throw .invalid("tool_choice", "\"required\" needs \"tools\"") }
            return
        }
        guard let o = v.object, let name = o["function"]?["name"]?.string else {
            throw .invalid("tool_choice", "expected \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}")
        }
        guard let tools = tools?.array else { throw .invalid("tool_choice", "names a tool but no \"tools\" were given") }
        let names = tools.compactMap { $0["function"]?["name"]?.string }
        guard names.contains(name) else {
            throw .invalid("tool_choice.function.name", "\"\(name)\" is not one of the given tools (\(names.joined(separator: ", ")))")
        }
    }
}
