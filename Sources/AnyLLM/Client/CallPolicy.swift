import CAnyLLMTypes

/// What every call needs besides its driver: where to send it, and the retry policy.
enum CallPolicy {
    /// Hands decoded chunks to the call, in order, a read's worth at a time.
    typealias ChunkSink = (ChunkBatch) -> Void

    /// The largest non-streamed body we accept; a bigger one is a provider fault, not a completion.
    static let maxBodyBytes = 256 << 20
    /// A Retry-After longer than this is reported instead of waited for.
    static let maxRetryWait = 60.0

    static func resolveEndpoint(_ req: CompletionRequest) throws(AnyLLMError) -> Endpoint {
        let p = req.provider
        var base = req.apiBase
        if base == nil, let be = p.baseEnv, let v = env(be) { base = v + p.baseEnvSuffix }
        if base == nil { base = p.baseURL }
        if base == nil, p.wire == .vertex { base = try Gemini.vertexBase(req) }
        if base == nil, p.wire == .bedrock { base = BedrockCredentials.defaultBase(region: BedrockCredentials.region(req)) }
        if var b = base, !b.hasPrefix("http://") && !b.hasPrefix("https://") {
            b = "http://" + b  // OLLAMA_HOST is often "host:port"
            base = b
        }
        guard let base else {
            throw AnyLLMError(ANYLLM_E_INVALID_REQUEST,
                              "provider \"\(p.name)\" has no default URL: pass \"api_base\" or set \(p.baseEnv ?? "its base URL variable")",
                              provider: p.name, param: "api_base")
        }
        // Bedrock signs with AWS credentials or sends an API key: its own resolution.
        if p.wire == .bedrock { return try BedrockCredentials.endpoint(req, base: base) }
        var key = req.apiKey
        if key == nil, let ke = p.keyEnv { key = env(ke) }
        if key == nil, let ke = p.altKeyEnv { key = env(ke) }
        if key == nil && !p.keyOptional {
            var e = AnyLLMError(ANYLLM_E_MISSING_API_KEY,
                                "no API key for provider \"\(p.name)\": pass \"api_key\" or set \(p.keyEnv ?? "its key variable")",
                                provider: p.name, param: "api_key")
            if let ke = p.keyEnv { e.extra.append(("env_var", .string(ke))) }
            throw e
        }
        return Endpoint(base: base, apiKey: key)
    }

    /// 0.5 s, 1 s, 2 s, … capped at 8 s, each with ±25 % jitter so that clients do not retry in step.
    static func backoff(_ attempt: Int) -> Double {
        let base = min(8.0, 0.5 * Double(1 << min(attempt - 1, 10)))
        return base * Double.random(in: 0.75...1.25)
    }
}
