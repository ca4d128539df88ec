import Glibc

// anyllm: the libanyllm command-line tool. Everything goes through the library's public C ABI.

/// The prompt from the PROMPT words ("-" = standard input), or from standard input when none.
func readPrompt(_ words: [String]) throws(UsageError) -> String? {
    func stdinText() throws(UsageError) -> String {
        guard let data = Out.readAll(0) else { throw UsageError(message: "cannot read the prompt from standard input") }
        var s = String(decoding: data, as: UTF8.self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return s
    }
    if words.isEmpty {
        if Out.isTTY(0) { return nil }
        return try stdinText()
    }
    var text = ""
    for (i, w) in words.enumerated() {
        if w == "-" {
            let input = try stdinText()
            text += (i > 0 ? "\n" : "") + input + (i < words.count - 1 ? "\n" : "")
        } else {
            if i > 0 && !text.isEmpty && !text.hasSuffix("\n") { text += " " }
            text += w
        }
    }
    return text
}

func complete(_ o: Options) -> Int32 {
    let registry = loadRegistry()
    let hasMessages = o.extra.contains { $0.0 == "messages" }
    let prompt: String?
    do {
        prompt = try readPrompt(o.prompt)
    } catch {
        Out.error(error.message)
        return Exit.usage
    }
    if !hasMessages {
        guard let p = prompt else {
            Out.write(Out.stderrFD, shortUsage + "\n")
            return Exit.usage
        }
        guard p.contains(where: { !$0.isWhitespace }) else {
            Out.error(o.prompt.isEmpty ? "no prompt: pass it as an argument or pipe it in (anyllm --help)"
                                       : "the prompt is empty")
            return Exit.usage
        }
    }
    guard let model = chooseModel(o.model, registry: registry) else {
        if let p = registry.first(where: { $0.keySet && $0.keyRequired }) {
            Out.error("no model chosen: \(p.keyEnv ?? p.name) is set but anyllm knows no default model for \(p.name): "
                      + "pass -m \(p.name):MODEL or set ANYLLM_MODEL")
        } else {
            Out.error("no model chosen: pass -m provider:model (e.g. -m openai:gpt-4.1-mini), set ANYLLM_MODEL, "
                      + "or set a provider's API key variable such as OPENAI_API_KEY (see anyllm providers)")
        }
        return Exit.usage
    }
    let request = buildRequest(o, model: model, prompt: hasMessages ? nil : prompt)
    let streamed = request["stream"]?.bool ?? false
    var secrets = keySecrets(registry)
    if let k = o.apiKey { secrets.append(k) }
    if let k = request["api_key"]?.string { secrets.append(k) }

    let state = CallState(json: o.json, showReasoning: !o.hideReasoning)
    let outcome = runCall(request.serialized, state: state, stream: streamed)

    if outcome.status == 0 {
        printResult(outcome.json, raw: outcome.raw, state: state, streamed: streamed)
        if outcome.interrupted { return Exit.interrupted }
        return state.writeFailed ? Exit.io : Exit.ok
    }
    state.finish()
    let errorJSON = redact(outcome.json, secrets)
    if o.json { state.raw(errorJSON.serialized + "\n") }
    if outcome.interrupted { return Exit.interrupted }
    if state.writeFailed && outcome.status == 15 { return Exit.io }  // the reader went away: we cancelled
    let context = ErrorContext(model: model, registry: registry, secrets: secrets)
    Out.error(describeError(errorJSON, status: outcome.status, context: context))
    return Exit.forStatus(outcome.status)
}

func main() -> Int32 {
    let o: Options
    do {
        o = try parseArguments(Array(CommandLine.arguments.dropFirst()))
    } catch {
        Out.error(error.message + " (anyllm --help)")
        return Exit.usage
    }
    switch o.command {
    case .help: return Out.write(Out.stdoutFD, helpText()) ? Exit.ok : Exit.io
    case .version: return Out.write(Out.stdoutFD, "anyllm \(libraryVersion())\n") ? Exit.ok : Exit.io
    case .providers: return printProviders(json: o.json)
    case .complete: return complete(o)
    }
}

exit(main())
