import CAnyLLMTypes

/// Every failure in the library, typed by its C status. Serialised as design.md's error JSON:
/// `{"error": {"type", "status", "message", "provider", "param", "retry_after", "attempts",
/// "provider_error", "partial"}}`. Secrets are removed from every text field by `Redactor` before
/// the JSON leaves the library.
struct AnyLLMError: Error, Sendable {
    var status: anyllm_status
    var message: String
    var httpStatus: Int?
    var provider: String?
    /// The request field the error is about, for invalid requests ("messages[2].role").
    var param: String?
    /// Seconds the provider asked us to wait (Retry-After / retry-after-ms).
    var retryAfter: Double?
    /// The provider's own error body: JSON when it parsed, else its text (truncated).
    var providerError: JSON?
    /// What a stream had delivered before it failed, aggregated as a ChatCompletion.
    var partial: JSON?
    /// How many HTTP attempts were made (retries included).
    var attempts: Int?
    /// Extra structured detail, e.g. the list of known providers, or which timeout fired.
    var extra: [(key: String, value: JSON)] = []
    /// Not worth retrying whatever the status says: the same request would fail the same way.
    var permanent = false

    init(_ status: anyllm_status, _ message: String, httpStatus: Int? = nil, provider: String? = nil,
                param: String? = nil) {
        self.status = status
        self.message = message
        self.httpStatus = httpStatus
        self.provider = provider
        self.param = param
    }

    static func invalid(_ param: String, _ reason: String) -> AnyLLMError {
        AnyLLMError(ANYLLM_E_INVALID_REQUEST, "invalid request: \(param): \(reason)", param: param)
    }

    func json(redactor: Redactor) -> JSON {
        var o = JSONObject()
        o["type"] = .string(status.typeName)
        o["message"] = .string(redactor.clean(message))
        if let h = httpStatus { o["status"] = .int(h) }
        if let p = provider { o["provider"] = .string(redactor.clean(p)) }
        // The parameter's name comes from the caller's JSON (an unknown option's name): it can be anything.
        if let p = param { o["param"] = .string(redactor.clean(p)) }
        if let r = retryAfter { o["retry_after"] = .double((r * 1000).rounded() / 1000) }
        if let a = attempts { o["attempts"] = .int(a) }
        if let pe = providerError { o["provider_error"] = redactor.clean(pe) }
        for (k, v) in extra { o[k] = redactor.clean(v) }
        // The partial result is text the model wrote; it can echo a key the user put in a prompt.
        if let p = partial { o["partial"] = redactor.clean(p) }
        return .object(JSONObject([("error", .object(o))]))
    }
}

/// Removes secrets (API keys, bearer tokens) from anything that leaves the library. The library
/// never puts a key into a message itself; this guards against providers that echo it back.
struct Redactor: Sendable {
    var secrets: [String]

    init(secrets: [String]) {
        // Very short "keys" would redact ordinary words; real keys are long.
        self.secrets = secrets.filter { $0.utf8.count >= 6 }
    }

    mutating func add(_ more: [String]) {
        secrets += more.filter { $0.utf8.count >= 6 && !secrets.contains($0) }
    }

    /// The credentials among extra HTTP headers (names with auth, key, token, secret or cookie in them): the
    /// whole value, and the token after a scheme such as "Bearer "/"Basic ". (Proxy URLs: ProxyCredentials.)
    static func credentials(headers: [(String, String)]) -> [String] {
        var out: [String] = []
        for (name, value) in headers {
            let n = name.lowercased()
            guard ["auth", "key", "token", "secret", "cookie"].contains(where: { n.contains($0) }) else { continue }
            out.append(value)
            if let sp = value.firstIndex(of: " ") { out.append(String(value[value.index(after: sp)...]).trimmingSpaces()) }
        }
        return out
    }

    /// Matched as UTF-8 bytes, never as Characters: a String search compares grapheme clusters, and
    /// a key followed by a combining mark (or after a prepended mark) is not a run of whole
    /// characters there, so `contains` missed it and the key went out (found by the fuzzer).
    func clean(_ s: String) -> String {
        var out = s
        for k in secrets { out = out.replacingAll(k, with: "[redacted]") }
        return out
    }

    func clean(_ v: JSON) -> JSON {
        if secrets.isEmpty { return v }
        switch v {
        case .string(let s): return .string(clean(s))
        case .array(let a): return .array(a.map { clean($0) })
        // Keys too: a provider can echo the key as a member name as easily as in a value.
        case .object(let o): return .object(JSONObject(o.members.map { (clean($0.key), clean($0.value)) }))
        default: return v
        }
    }
}

extension String {
    /// Replaces every occurrence of `target` (non-empty) as UTF-8 bytes, whatever the grapheme
    /// clusters around it; self when there is none. No Foundation needed.
    func replacingAll(_ target: String, with replacement: String) -> String {
        let t = Array(target.utf8), src = Array(self.utf8)
        guard !t.isEmpty, src.count >= t.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(src.count)
        var i = 0, found = false
        while i < src.count {
            if i + t.count <= src.count && src[i] == t[0] && src[i..<(i + t.count)].elementsEqual(t) {
                out.append(contentsOf: replacement.utf8)
                i += t.count
                found = true
            } else {
                out.append(src[i])
                i += 1
            }
        }
        return found ? String(decoding: out, as: UTF8.self) : self
    }
}
