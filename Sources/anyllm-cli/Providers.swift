import AnyLLM

// The provider registry as the library reports it (anyllm_providers), the `providers` table, and
// the model used when none is given.

struct ProviderRow {
    var name: String
    var proto: String
    var baseURL: String?
    var baseEnv: String?
    var keyEnv: String?
    var keyRequired: Bool
    var keySet: Bool
}

func registryJSON() -> JSONValue {
    guard let p = anyllm_providers() else { return .object([]) }
    defer { anyllm_string_free(p) }
    return (try? JSONValue.parse(String(cString: p))) ?? .object([])
}

func loadRegistry() -> [ProviderRow] {
    (registryJSON()["providers"]?.array ?? []).compactMap { p in
        guard let name = p["name"]?.string else { return nil }
        return ProviderRow(name: name, proto: p["protocol"]?.string ?? "", baseURL: p["base_url"]?.string,
                           baseEnv: p["base_url_env"]?.string, keyEnv: p["api_key_env"]?.string,
                           keyRequired: p["api_key_required"]?.bool ?? true, keySet: p["api_key_set"]?.bool ?? false)
    }
}

/// The model used for a provider chosen only because its key is set.
let defaultModels: [String: String] = [
    "openai": "gpt-4.1-mini",
    "anthropic": "claude-haiku-4-5",
    "gemini": "gemini-2.5-flash",
    "mistral": "mistral-small-latest",
    "groq": "llama-3.1-8b-instant",
    "deepseek": "deepseek-chat",
    "xai": "grok-3-mini",
    "openrouter": "openai/gpt-4.1-mini",
    "perplexity": "sonar",
    "cerebras": "llama3.1-8b",
    "together": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "cohere": "command-a-03-2025",
]

/// `-m`, else $ANYLLM_MODEL, else the first provider (registry order) whose key is set and that
/// has a default model. nil when none applies.
func chooseModel(_ explicit: String?, registry: [ProviderRow]) -> String? {
    if let m = explicit { return m }
    if let m = environment("ANYLLM_MODEL") { return m }
    for p in registry where p.keySet && p.keyRequired {
        if let m = defaultModels[p.name] { return p.name + ":" + m }
    }
    return nil
}

/// The values of every key variable that is set: they must never be printed.
func keySecrets(_ registry: [ProviderRow]) -> [String] {
    var names = registry.compactMap(\.keyEnv)
    names += ["GOOGLE_API_KEY", "CO_API_KEY"]  // second key variables (gemini, cohere) the registry JSON does not list
    return names.compactMap { environment($0) }
}

func printProviders(json: Bool) -> Int32 {
    if json {
        return Out.write(Out.stdoutFD, registryJSON().serialized + "\n") ? Exit.ok : Exit.io
    }
    let rows = loadRegistry()
    var table: [[String]] = [["PROVIDER", "PROTOCOL", "BASE URL", "KEY VARIABLE", "KEY SET"]]
    for p in rows {
        var base = p.baseURL ?? (p.baseEnv.map { "$" + $0 } ?? "(from the location)")
        if p.baseURL != nil, let e = p.baseEnv { base += " (or $\(e))" }
        let key = (p.keyEnv ?? "-") + (p.keyRequired ? "" : " (optional)")
        table.append([p.name, p.proto, base, key, p.keySet ? "yes" : "no"])
    }
    var widths = [Int](repeating: 0, count: table[0].count)
    for r in table { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    var out = ""
    for r in table {
        var line = ""
        for (i, c) in r.enumerated() {
            line += c
            if i < r.count - 1 { line += String(repeating: " ", count: widths[i] - c.count + 2) }
        }
        out += line + "\n"
    }
    return Out.write(Out.stdoutFD, out) ? Exit.ok : Exit.io
}
