// The command line: a small parser (options may come before or after the prompt; `--` ends them;
// `--name=value`, `--name value`, `-m value` and `-mvalue` all work).

struct UsageError: Error {
    let message: String
}

struct Options {
    enum Command { case complete, providers, help, version }

    var command: Command = .complete
    var model: String?
    var system: String?
    var temperature: JSONValue?
    var maxTokens: JSONValue?
    var stream = true
    var json = false
    var hideReasoning = false
    var extra: [(String, JSONValue)] = []
    var apiBase: String?
    var apiKey: String?
    var timeout: JSONValue?
    var retries: JSONValue?
    /// The prompt's words (joined by spaces); "-" stands for standard input.
    var prompt: [String] = []
}

private struct OptionSpec: Sendable {
    let short: Character?
    let long: String
    let takesValue: Bool
    let apply: @Sendable (inout Options, String) throws(UsageError) -> Void
}

private func number(_ v: String, _ opt: String, min: Double? = nil, integer: Bool = false) throws(UsageError) -> JSONValue {
    let parsed = try? JSONValue.parse(v)
    guard case .number(let text)? = parsed, let d = Double(text) else {
        throw UsageError(message: "\(opt) expects a number, got \"\(v)\"")
    }
    if integer && (text.contains(".") || text.contains("e") || text.contains("E")) {
        throw UsageError(message: "\(opt) expects a whole number, got \"\(v)\"")
    }
    if let min, d < min {
        throw UsageError(message: "\(opt) must be at least \(integer ? String(Int(min)) : String(min)), got \(v)")
    }
    return .number(text)
}

private let specs: [OptionSpec] = [
    OptionSpec(short: "m", long: "model", takesValue: true) { o, v throws(UsageError) in
        guard !v.isEmpty else { throw UsageError(message: "--model expects provider:model") }
        o.model = v
    },
    OptionSpec(short: "s", long: "system", takesValue: true) { o, v in o.system = v },
    OptionSpec(short: "t", long: "temperature", takesValue: true) { o, v throws(UsageError) in
        o.temperature = try number(v, "--temperature", min: 0)
    },
    OptionSpec(short: nil, long: "max-tokens", takesValue: true) { o, v throws(UsageError) in
        o.maxTokens = try number(v, "--max-tokens", min: 1, integer: true)
    },
    OptionSpec(short: nil, long: "no-stream", takesValue: false) { o, _ in o.stream = false },
    OptionSpec(short: nil, long: "json", takesValue: false) { o, _ in o.json = true },
    OptionSpec(short: nil, long: "hide-reasoning", takesValue: false) { o, _ in o.hideReasoning = true },
    OptionSpec(short: "o", long: "option", takesValue: true) { o, v throws(UsageError) in
        guard let eq = v.firstIndex(of: "="), eq != v.startIndex else {
            throw UsageError(message: "-o expects key=value, got \"\(v)\"")
        }
        let key = String(v[..<eq]), raw = String(v[v.index(after: eq)...])
        // A value that parses as JSON is sent as that JSON (numbers, true, objects, "quoted"),
        // anything else as a string.
        let value = (try? JSONValue.parse(raw)) ?? .string(raw)
        o.extra.append((key, value))
    },
    OptionSpec(short: nil, long: "api-base", takesValue: true) { o, v in o.apiBase = v },
    OptionSpec(short: nil, long: "api-key", takesValue: true) { o, v in o.apiKey = v },
    OptionSpec(short: nil, long: "timeout", takesValue: true) { o, v throws(UsageError) in
        o.timeout = try number(v, "--timeout", min: 0.001)
    },
    OptionSpec(short: nil, long: "retries", takesValue: true) { o, v throws(UsageError) in
        o.retries = try number(v, "--retries", min: 0, integer: true)
    },
    OptionSpec(short: "h", long: "help", takesValue: false) { o, _ in o.command = .help },
    OptionSpec(short: "V", long: "version", takesValue: false) { o, _ in o.command = .version },
]

func parseArguments(_ args: [String]) throws(UsageError) -> Options {
    var o = Options()
    var positional: [String] = []
    var i = 0
    var wantsHelp = false, wantsVersion = false
    var literalFirst = false  // the first positional came after "--": a prompt, never a command
    while i < args.count {
        let a = args[i]
        i += 1
        if a == "--" {
            if positional.isEmpty { literalFirst = true }
            positional.append(contentsOf: args[i...])
            break
        }
        if a == "-" || !a.hasPrefix("-") {
            positional.append(a)
            continue
        }
        var spec: OptionSpec?
        var inline: String?
        let shown: String
        if a.hasPrefix("--") {
            var name = String(a.dropFirst(2))
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            shown = "--" + name
            spec = specs.first { $0.long == name }
            guard spec != nil else {
                let near = closeMatches(name, among: specs.map(\.long)).map { "--" + $0 }
                throw UsageError(message: "unknown option \(shown)"
                                 + (near.isEmpty ? "" : " (did you mean \(near.joined(separator: " or "))?)"))
            }
        } else {
            let c = a[a.index(after: a.startIndex)]
            shown = "-" + String(c)
            spec = specs.first { $0.short == c }
            guard spec != nil else { throw UsageError(message: "unknown option \(a)") }
            if a.count > 2 {
                guard spec!.takesValue else { throw UsageError(message: "unknown option \(a)") }
                inline = String(a.dropFirst(2))
            }
        }
        let s = spec!
        var value = ""
        if s.takesValue {
            if let inline {
                value = inline
            } else {
                guard i < args.count else { throw UsageError(message: "\(shown) needs a value") }
                value = args[i]
                i += 1
            }
        } else if inline != nil {
            throw UsageError(message: "\(shown) takes no value")
        }
        try s.apply(&o, value)
        if o.command == .help { wantsHelp = true }
        if o.command == .version { wantsVersion = true }
        o.command = .complete
    }
    if wantsHelp {
        o.command = .help
    } else if wantsVersion {
        o.command = .version
    } else if positional.first == "providers" && !literalFirst {
        guard positional.count == 1 else {
            throw UsageError(message: "\"providers\" takes no arguments (to send the word as a prompt: anyllm -- providers ...)")
        }
        o.command = .providers
    } else {
        o.prompt = positional
    }
    return o
}
