// Exit codes and the one-line error messages.

enum Exit {
    static let ok: Int32 = 0
    static let io: Int32 = 1
    static let usage: Int32 = 2
    static let interrupted: Int32 = 130

    /// A library failure exits with 10 + its anyllm_status; a cancelled call (Ctrl-C) with 130.
    static func forStatus(_ raw: UInt32) -> Int32 {
        raw == 15 ? interrupted : 10 + Int32(raw)
    }

    static let table: [(Int32, String)] = [
        (0, "success"),
        (1, "the input could not be read or the answer written"),
        (2, "usage: unknown option, bad value, no prompt, no model chosen"),
        (11, "invalid request (a bad parameter; HTTP 400 and other 4xx)"),
        (12, "unknown provider"),
        (13, "a parameter the provider does not support"),
        (14, "no API key (the message names the variable to set)"),
        (15, "authentication failed (HTTP 401)"),
        (16, "permission denied (HTTP 403)"),
        (17, "not found: unknown model or wrong URL (HTTP 404)"),
        (18, "rate limited (HTTP 429)"),
        (19, "the prompt does not fit the model's context window"),
        (20, "refused by the provider's content filter"),
        (21, "insufficient funds or quota (HTTP 402)"),
        (22, "provider error (HTTP 5xx, an error inside the stream, an unreadable answer)"),
        (23, "timeout"),
        (24, "connection failed (refused, reset, DNS, TLS, stream cut off)"),
        (26, "internal error in libanyllm (please report it)"),
        (130, "interrupted by Ctrl-C; the partial answer stays printed"),
    ]
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[x.count][y.count]
}

/// The names close to `name`: a small edit distance, or `name` as a prefix (at most 3, best first).
func closeMatches(_ name: String, among candidates: [String]) -> [String] {
    let n = name.lowercased()
    guard !n.isEmpty else { return [] }
    let limit = n.count <= 4 ? 1 : 2
    var scored: [(Int, String)] = []
    for c in candidates {
        let cl = c.lowercased()
        let d = editDistance(n, cl)
        if d <= limit {
            scored.append((d, c))
        } else if n.count >= 3, cl.hasPrefix(n) {
            scored.append((limit + 1, c))
        }
    }
    scored.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    return Array(scored.prefix(3).map(\.1))
}

/// Names people use for providers that are registered under another name.
let providerAliases: [String: String] = [
    "claude": "anthropic", "google": "gemini", "azure": "azureopenai", "vertex": "vertexai",
    "hf": "huggingface", "grok": "xai", "kimi": "moonshot", "meta": "llama", "llama.cpp": "llamacpp",
    "lm-studio": "lmstudio", "lm_studio": "lmstudio", "glm": "zai", "zhipu": "zai",
]

/// The provider a bare model name most likely belongs to ("gpt-4o" → openai), for a hint.
func guessProvider(model: String) -> String? {
    let m = model.lowercased()
    let prefixes: [(String, String)] = [
        ("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"), ("chatgpt", "openai"),
        ("claude", "anthropic"), ("gemini", "gemini"), ("mistral", "mistral"), ("ministral", "mistral"),
        ("codestral", "mistral"), ("magistral", "mistral"), ("deepseek", "deepseek"), ("grok", "xai"),
        ("sonar", "perplexity"), ("kimi", "moonshot"), ("glm", "zai"), ("command-", "cohere"),
    ]
    return prefixes.first { m.hasPrefix($0.0) }?.1
}

/// Suggestions for an unknown provider name, from the list the error carries.
func providerSuggestions(_ name: String, known: [String]) -> [String] {
    var out = closeMatches(name, among: known)
    if let a = providerAliases[name.lowercased()], known.contains(a), !out.contains(a) { out.insert(a, at: 0) }
    return out
}

/// What the error message may mention besides the error itself.
struct ErrorContext {
    var model: String
    var registry: [ProviderRow]
    /// Secrets that must never be printed (the API key given, and the key variables' values).
    var secrets: [String]
}

/// Removes every secret from a text.
func redact(_ s: String, _ secrets: [String]) -> String {
    var out = s
    for k in secrets where k.utf8.count >= 6 {
        out = out.replacingOccurrences(k, "[redacted]")
    }
    return out
}

func redact(_ v: JSONValue, _ secrets: [String]) -> JSONValue {
    switch v {
    case .string(let s): return .string(redact(s, secrets))
    case .array(let a): return .array(a.map { redact($0, secrets) })
    case .object(let m): return .object(m.map { ($0.0, redact($0.1, secrets)) })
    default: return v
    }
}

private func seconds(_ d: Double) -> String {
    if d == d.rounded() && d < 1e9 { return String(Int(d)) }
    return String((d * 10).rounded() / 10)
}

/// One clear line for an {"error": {...}} object (without the "anyllm: " prefix).
func describeError(_ json: JSONValue, status: UInt32, context: ErrorContext) -> String {
    let e = json["error"] ?? .object([])
    let type = e["type"]?.string ?? "error"
    // The library speaks of request fields; on the command line they are options.
    let message = (e["message"]?.string ?? "unknown error")
        .replacingOccurrences("pass \"api_base\"", "pass --api-base")
        .replacingOccurrences("pass \"api_key\"", "pass --api-key")
    let provider = e["provider"]?.string
    let http = e["status"]?.double.map { Int($0) }
    let keyVar = provider.flatMap { p in context.registry.first { $0.name == p }?.keyEnv }
    let at = provider.map { " (\($0)\(http.map { ", HTTP \($0)" } ?? ""))" } ?? (http.map { " (HTTP \($0))" } ?? "")

    let line: String
    switch type {
    case "missing_api_key":
        let v = e["env_var"]?.string ?? keyVar
        line = "no API key for \(provider ?? "this provider"): set \(v ?? "its key variable") or pass --api-key"
    case "unsupported_provider":
        let known = e["known_providers"]?.array?.compactMap(\.string) ?? context.registry.map(\.name)
        if let p = provider {
            let near = providerSuggestions(p, known: known)
            line = "unknown provider \"\(p)\""
                + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?")
                + " (anyllm providers lists them all)"
        } else if known.contains(context.model.lowercased()) {
            line = "\"\(context.model)\" is a provider, not a model: use -m \(context.model.lowercased()):MODEL"
        } else {
            var hint = ""
            if let sep = context.model.firstIndex(where: { $0 == "/" }) {
                let near = providerSuggestions(String(context.model[..<sep]), known: known)
                if !near.isEmpty {
                    hint = " (did you mean -m \(near[0]):\(context.model[context.model.index(after: sep)...])?)"
                }
            } else if let p = guessProvider(model: context.model), known.contains(p) {
                hint = " (did you mean -m \(p):\(context.model)?)"
            }
            line = "no provider in model \"\(context.model)\": use -m provider:model\(hint)"
                + "; anyllm providers lists the providers"
        }
    case "rate_limit":
        if let r = e["retry_after"]?.double {
            line = "rate limited\(at): retry after \(seconds(r)) s"
        } else {
            line = "rate limited\(at): \(message)"
        }
    case "authentication":
        line = "authentication failed\(at): \(message)"
            + (keyVar.map { " — check \($0) or --api-key" } ?? " — check the API key")
    case "permission":
        line = "permission denied\(at): \(message)"
    case "not_found":
        line = "not found\(at): \(message)"
    case "timeout":
        let kind = e["timeout"]?.string
        line = "timed out\(at): \(message)"
            + (kind == "total" ? " — raise --timeout" : "")
    case "connection":
        line = "connection failed\(at): \(message)"
    case "insufficient_funds":
        line = "insufficient funds or quota\(at): \(message)"
    case "context_length":
        line = "prompt too long for the model\(at): \(message)"
    case "content_filter":
        line = "refused by the content filter\(at): \(message)"
    case "provider":
        line = "provider error\(at): \(message)"
    case "unsupported_parameter":
        line = "unsupported parameter\(at): \(message)"
    case "invalid_request":
        line = message.hasPrefix("invalid request:") ? message : "invalid request\(at): \(message)"
    case "internal":
        line = "internal error in libanyllm (please report it): \(message)"
    default:
        line = message
    }
    return redact(line, context.secrets)
}

extension String {
    /// Matched as UTF-8 bytes: String's own search compares grapheme clusters, and misses a key
    /// that a combining mark after it (or a prepended mark before it) joins to its neighbour.
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        let t = Array(target.utf8), src = Array(utf8)
        guard !t.isEmpty, src.count >= t.count else { return self }
        var out: [UInt8] = []
        var i = 0, found = false
        while i < src.count {
            if i + t.count <= src.count, src[i] == t[0], src[i..<(i + t.count)].elementsEqual(t) {
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
