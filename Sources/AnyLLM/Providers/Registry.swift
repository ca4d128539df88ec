// The provider registry: one row of data per provider. A provider speaking an existing wire
// protocol is added here and nowhere else.

enum WireProtocolKind: String, Sendable {
    case openAIChat = "openai_chat"
    case anthropic = "anthropic_messages"
    case gemini = "gemini"
    case vertex = "vertexai"
    case ollama = "ollama"
    case cohere = "cohere_chat"
    case bedrock = "bedrock_converse"
}

/// How the chat-completions URL is formed from the base URL.
enum URLStyle: Sendable {
    /// `{base}/chat/completions`
    case standard
    /// `{base}/openai/deployments/{model}/chat/completions?api-version=…` (Azure OpenAI)
    case azureDeployment
    /// `{base}/chat/completions?api-version=…` (Azure AI model inference: the model travels in the body)
    case azureInference
}

/// How the API key travels.
enum AuthStyle: Sendable {
    case bearer
    /// A named header carrying the bare key (Azure's `api-key`).
    case header(String)
}

/// A class, not a struct: a row is looked up and handed along with every call (request, endpoint,
/// attempt), and a struct of a dozen strings cost a retain and a release per string at each copy.
final class ProviderInfo: Sendable {
    let name: String
    let wire: WireProtocolKind
    /// Default base URL; nil when the user must supply one (`api_base` or `baseEnv`).
    let baseURL: String?
    /// Environment variable holding the base URL (checked before `baseURL`).
    let baseEnv: String?
    /// Appended to a base URL taken from `baseEnv` (Databricks: host → serving endpoints).
    let baseEnvSuffix: String
    /// Environment variable holding the API key.
    let keyEnv: String?
    /// A second variable tried when `keyEnv` is unset (Gemini: GOOGLE_API_KEY).
    let altKeyEnv: String?
    /// Local servers run without a key: a missing key is not an error, no auth header is sent.
    let keyOptional: Bool
    let auth: AuthStyle
    let urlStyle: URLStyle
    /// The body field that carries the output-token limit (OpenAI's reasoning models refuse
    /// `max_tokens` and want `max_completion_tokens`; most compatible servers want `max_tokens`).
    let maxTokensField: String
    /// Some OpenAI-compatible APIs reject `stream_options` (they report usage without it).
    let acceptsStreamOptions: Bool
    /// How the provider's request differs from OpenAI's beyond the fields above (renamed parameters,
    /// refused ones, tool_choice spellings, roles): see OpenAIQuirks.swift.
    let quirks: OpenAIQuirks

    init(_ name: String, base: String?, key: String?, altKey: String? = nil, keyOptional: Bool = false,
         baseEnv: String? = nil, baseEnvSuffix: String = "", auth: AuthStyle = .bearer,
         url: URLStyle = .standard, maxTokensField: String = "max_tokens", streamOptions: Bool = true,
         quirks: OpenAIQuirks = .none, wire: WireProtocolKind = .openAIChat) {
        self.name = name
        self.wire = wire
        self.baseURL = base
        self.baseEnv = baseEnv
        self.baseEnvSuffix = baseEnvSuffix
        self.keyEnv = key
        self.altKeyEnv = altKey
        self.keyOptional = keyOptional
        self.auth = auth
        self.urlStyle = url
        self.maxTokensField = maxTokensField
        self.acceptsStreamOptions = streamOptions
        self.quirks = quirks
    }
}

enum Registry {
    static let providers: [ProviderInfo] = [
        .init("openai", base: "https://api.openai.com/v1", key: "OPENAI_API_KEY",
              baseEnv: "OPENAI_BASE_URL", maxTokensField: "max_completion_tokens"),
        .init("azureopenai", base: nil, key: "AZURE_OPENAI_API_KEY", baseEnv: "AZURE_OPENAI_ENDPOINT",
              auth: .header("api-key"), url: .azureDeployment, maxTokensField: "max_completion_tokens"),
        // Azure AI model inference (Foundry models, serverless endpoints): no default URL.
        .init("azure", base: nil, key: "AZURE_API_KEY", baseEnv: "AZURE_AI_CHAT_ENDPOINT", auth: .header("api-key"),
              url: .azureInference, streamOptions: false, quirks: .azureInference),
        .init("mistral", base: "https://api.mistral.ai/v1", key: "MISTRAL_API_KEY", streamOptions: false,
              quirks: .mistral),
        .init("groq", base: "https://api.groq.com/openai/v1", key: "GROQ_API_KEY"),
        .init("deepseek", base: "https://api.deepseek.com", key: "DEEPSEEK_API_KEY"),
        .init("xai", base: "https://api.x.ai/v1", key: "XAI_API_KEY"),
        .init("together", base: "https://api.together.xyz/v1", key: "TOGETHER_API_KEY"),
        .init("fireworks", base: "https://api.fireworks.ai/inference/v1", key: "FIREWORKS_API_KEY"),
        .init("openrouter", base: "https://openrouter.ai/api/v1", key: "OPENROUTER_API_KEY"),
        .init("perplexity", base: "https://api.perplexity.ai", key: "PERPLEXITY_API_KEY", streamOptions: false),
        .init("cerebras", base: "https://api.cerebras.ai/v1", key: "CEREBRAS_API_KEY"),
        .init("nebius", base: "https://api.studio.nebius.com/v1", key: "NEBIUS_API_KEY"),
        .init("sambanova", base: "https://api.sambanova.ai/v1", key: "SAMBANOVA_API_KEY"),
        .init("moonshot", base: "https://api.moonshot.ai/v1", key: "MOONSHOT_API_KEY"),
        .init("huggingface", base: "https://router.huggingface.co/v1", key: "HF_TOKEN"),
        .init("databricks", base: nil, key: "DATABRICKS_TOKEN", baseEnv: "DATABRICKS_HOST",
              baseEnvSuffix: "/serving-endpoints"),
        .init("nvidia", base: "https://integrate.api.nvidia.com/v1", key: "NVIDIA_API_KEY"),
        .init("inception", base: "https://api.inceptionlabs.ai/v1", key: "INCEPTION_API_KEY"),
        .init("llama", base: "https://api.llama.com/compat/v1", key: "LLAMA_API_KEY"),
        .init("portkey", base: "https://api.portkey.ai/v1", key: "PORTKEY_API_KEY"),
        .init("zai", base: "https://api.z.ai/api/paas/v4", key: "ZAI_API_KEY"),
        .init("minimax", base: "https://api.minimax.io/v1", key: "MINIMAX_API_KEY"),
        // Native wire protocols.
        .init("anthropic", base: "https://api.anthropic.com", key: "ANTHROPIC_API_KEY", baseEnv: "ANTHROPIC_BASE_URL",
              wire: .anthropic),
        .init("gemini", base: "https://generativelanguage.googleapis.com", key: "GEMINI_API_KEY",
              altKey: "GOOGLE_API_KEY", wire: .gemini),
        // Vertex AI: the base URL depends on the location, so it is built by the protocol (nil here).
        .init("vertexai", base: nil, key: "GOOGLE_CLOUD_ACCESS_TOKEN", wire: .vertex),
        // Bedrock: the base URL depends on the region, and SigV4 credentials are an alternative to
        // the key, so both are resolved by BedrockCredentials (the key here is the API-key form).
        .init("bedrock", base: nil, key: "AWS_BEARER_TOKEN_BEDROCK", baseEnv: "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
              wire: .bedrock),
        .init("ollama", base: "http://127.0.0.1:11434", key: "OLLAMA_API_KEY", keyOptional: true,
              baseEnv: "OLLAMA_HOST", wire: .ollama),
        .init("cohere", base: "https://api.cohere.com", key: "COHERE_API_KEY", altKey: "CO_API_KEY", baseEnv: "CO_API_URL",
              wire: .cohere),
        // Local servers: no key needed; one is sent when given.
        .init("lmstudio", base: "http://127.0.0.1:1234/v1", key: "LM_STUDIO_API_KEY", keyOptional: true,
              baseEnv: "LM_STUDIO_API_BASE"),
        .init("llamacpp", base: "http://127.0.0.1:8080/v1", key: "LLAMACPP_API_KEY", keyOptional: true,
              baseEnv: "LLAMACPP_API_BASE"),
        .init("llamafile", base: "http://127.0.0.1:8080/v1", key: "LLAMAFILE_API_KEY", keyOptional: true,
              baseEnv: "LLAMAFILE_API_BASE"),
        .init("vllm", base: "http://127.0.0.1:8000/v1", key: "VLLM_API_KEY", keyOptional: true,
              baseEnv: "VLLM_API_BASE"),
    ]

    /// The rows by name, for `find` (one hash lookup instead of a scan comparing names).
    private static let byName: [String: ProviderInfo] = Dictionary(providers.map { ($0.name, $0) },
                                                                   uniquingKeysWith: { first, _ in first })

    /// The row for a provider name, case-insensitively (names in the registry are lowercase).
    static func find(_ name: String) -> ProviderInfo? {
        if let p = byName[name] { return p }
        let n = name.lowercased()
        return n == name ? nil : byName[n]
    }

    static var names: [String] { providers.map(\.name) }

    /// The registry as JSON for `anyllm_providers()`.
    static func json(environment: (String) -> String?) -> JSON {
        .object(JSONObject([("providers", .array(providers.map { p in
            var o = JSONObject()
            o["name"] = .string(p.name)
            o["protocol"] = .string(p.wire.rawValue)
            o["base_url"] = p.baseURL.map { .string($0) } ?? .null
            o["base_url_env"] = p.baseEnv.map { .string($0) } ?? .null
            o["api_key_env"] = p.keyEnv.map { .string($0) } ?? .null
            o["api_key_required"] = .bool(!p.keyOptional)
            o["api_key_set"] = .bool(keyIsSet(p, environment))
            return .object(o)
        }))]))
    }

    /// Whether the environment holds credentials the provider would use: its key variable, its
    /// alternative one (Cohere's CO_API_KEY, ...), or for Bedrock an AWS access key pair.
    static func keyIsSet(_ p: ProviderInfo, _ environment: (String) -> String?) -> Bool {
        func set(_ name: String?) -> Bool { name.flatMap { environment($0) }.map { !$0.isEmpty } ?? false }
        if set(p.keyEnv) || set(p.altKeyEnv) { return true }
        return p.wire == .bedrock && set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")
    }
}
