import CAnyLLMTypes

/// How one OpenAI-shaped provider's request differs from OpenAI's, as data on its registry row
/// (`ProviderInfo.quirks`). OpenAIChat.encode applies it through `put`, `message`, `check` and
/// `headers`; a provider without quirks (`.none`) takes the plain path.
struct OpenAIQuirks: Sendable {
    /// any-llm parameter → the provider's name for it (Mistral: `seed` → `random_seed`).
    var renames: [String: String] = [:]
    /// `tool_choice` strings the provider spells differently (Mistral: `required` → `any`).
    var toolChoice: [String: String] = [:]
    /// Message roles the provider does not know → the role it takes instead (Mistral has no `developer`).
    var roles: [String: String] = [:]
    /// Parameters the provider's API refuses (sending them fails the call), with the reason shown in
    /// the UNSUPPORTED_PARAMETER error raised before anything is sent. Never dropped silently.
    var unsupported: [String: String] = [:]
    /// Body keys the provider's API defines. When the body carries others (any-llm's pass-through
    /// kwargs), `extrasHeader` is sent so that the service passes them on instead of refusing them.
    var knownBodyKeys: Set<String> = []
    var extrasHeader: (name: String, value: String)?

    static let none = OpenAIQuirks()

    var isEmpty: Bool {
        renames.isEmpty && toolChoice.isEmpty && roles.isEmpty && unsupported.isEmpty && extrasHeader == nil
    }

    /// Mistral's chat completions (docs.mistral.ai/api, mistralai/client-python's ChatCompletionRequest):
    /// the body forbids unknown keys (422 `extra_forbidden`), names the seed `random_seed`, spells a
    /// forced tool call `any`, and has no logprobs, logit bias or end-user id.
    static let mistral = OpenAIQuirks(
        renames: ["seed": "random_seed"],
        toolChoice: ["required": "any"],
        roles: ["developer": "system"],
        unsupported: [
            "logprobs": "Mistral's chat completions API returns no log probabilities",
            "top_logprobs": "Mistral's chat completions API returns no log probabilities",
            "logit_bias": "Mistral's chat completions API has no logit bias",
            "user": "Mistral's chat completions API has no end-user id (it refuses the field)",
        ])

    /// Azure AI model inference (`POST {endpoint}/chat/completions?api-version=…`): the API defines a
    /// common parameter set and refuses other body keys unless `extra-parameters: pass-through` asks it
    /// to hand them to the model.
    static let azureInference = OpenAIQuirks(
        knownBodyKeys: ["model", "messages", "frequency_penalty", "presence_penalty", "temperature", "top_p",
                        "max_tokens", "response_format", "stop", "stream", "tools", "tool_choice", "seed",
                        "modalities"],
        extrasHeader: ("extra-parameters", "pass-through"))

    /// Refuses, before sending, a parameter the provider does not accept.
    func check(_ req: CompletionRequest) throws(AnyLLMError) {
        if unsupported.isEmpty { return }
        for (k, _) in req.params.members {
            if let why = unsupported[k] { throw OpenAIShape.unsupported(k, req.provider.name, why) }
        }
    }

    /// Puts one any-llm generation parameter into the body under the provider's name and spelling.
    func put(_ key: String, _ value: JSON, into body: inout JSONObject) {
        let name = renames[key] ?? key
        if key == "tool_choice", let s = value.string, let spelled = toolChoice[s] {
            body[name] = .string(spelled)
        } else {
            body[name] = value
        }
    }

    /// One outgoing message with its role renamed where the provider has no such role.
    func message(_ m: JSON) -> JSON {
        guard !roles.isEmpty, var o = m.object, let r = o["role"]?.string, let to = roles[r] else { return m }
        o["role"] = .string(to)
        return .object(o)
    }

    /// Headers the finished body calls for.
    func headers(for body: JSONObject) -> [(String, String)] {
        guard let h = extrasHeader, body.members.contains(where: { !knownBodyKeys.contains($0.key) }) else { return [] }
        return [(h.name, h.value)]
    }
}

/// The `api-version` query parameter of the Azure URL styles: from the request's `api_version`
/// (consumed, never sent in the body), else the environment, else the API's current version.
extension URLStyle {
    var usesAPIVersion: Bool { self != .standard }

    /// Azure OpenAI's current GA data-plane version; Azure AI model inference's only published one.
    var defaultAPIVersion: String {
        switch self {
        case .standard: return ""
        case .azureDeployment: return "2024-10-21"
        case .azureInference: return "2024-05-01-preview"
        }
    }

    /// Checked in order when the request has no `api_version` (OPENAI_API_VERSION is the variable the
    /// OpenAI SDK's Azure client reads; AZURE_OPENAI_API_VERSION the one LangChain and others use).
    var apiVersionEnv: [String] {
        switch self {
        case .standard: return []
        case .azureDeployment: return ["OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION"]
        case .azureInference: return ["OPENAI_API_VERSION"]
        }
    }

    func apiVersion(_ req: CompletionRequest) -> String {
        if let v = req.extras["api_version"]?.string, !v.isEmpty { return v }
        for name in apiVersionEnv { if let v = env(name) { return v } }
        return defaultAPIVersion
    }
}
