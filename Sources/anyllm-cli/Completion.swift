import AnyLLM
import CAnyLLMTypes
import Glibc

// One completion through the public C ABI: anyllm_completion_start with callbacks that print each
// chunk as it arrives (on the library's delivery threads, one at a time), while the main thread
// waits on a pipe for "done" or "Ctrl-C" and cancels the call on the latter.

// MARK: Ctrl-C

/// Write end of the pipe the main thread waits on: "i" = interrupt (signal handler), "d" = done.
nonisolated(unsafe) private var wakeFD: Int32 = -1
nonisolated(unsafe) private var interrupts: Int32 = 0

/// Async-signal-safe: counts, pokes the pipe; a second Ctrl-C leaves at once.
private func onInterrupt(_ sig: Int32) {
    interrupts += 1
    if interrupts > 1 { _exit(Exit.interrupted) }
    var b = UInt8(ascii: "i")
    _ = write(wakeFD, &b, 1)
}

private func signalMask(_ how: Int32) {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(how, &set, nil)
}


// MARK: printing

final class CallState: @unchecked Sendable {
    let json: Bool
    let showReasoning: Bool
    let dim: Bool
    private(set) var wroteStdout = false
    private var stdoutEndsNewline = true
    private var reasoningOpen = false
    private var reasoningEndsNewline = true
    private(set) var writeFailed = false

    init(json: Bool, showReasoning: Bool) {
        self.json = json
        self.showReasoning = showReasoning
        self.dim = Out.colors(Out.stderrFD)
    }

    /// One ChatCompletionChunk; returns non-zero (cancel) when the output is gone.
    func chunk(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if writeFailed { return 1 }
        var data = Array(bytes)
        if json {
            // One chunk per line: a chunk that was spread over several lines is written compactly.
            if data.contains(10) || data.contains(13), let v = try? JSONValue.parse(data) {
                data = Array(v.serialized.utf8)
            }
            data.append(10)
            if !Out.write(Out.stdoutFD, data) { writeFailed = true }
            return writeFailed ? 1 : 0
        }
        guard let v = try? JSONValue.parse(data) else { return 0 }
        let choices = v["choices"]?.array ?? []
        guard let choice = choices.first(where: { $0["index"]?.double == 0 }) ?? choices.first,
              let delta = choice["delta"] else { return 0 }
        if let r = Self.reasoningText(delta), !r.isEmpty { reasoning(r) }
        if let c = delta["content"]?.string, !c.isEmpty { content(c) }
        if let c = delta["refusal"]?.string, !c.isEmpty { content(c) }
        return writeFailed ? 1 : 0
    }

    /// any-llm's `reasoning: {"content"}`, or the spellings of compatible servers.
    static func reasoningText(_ m: JSONValue) -> String? {
        m["reasoning"]?["content"]?.string ?? m["reasoning"]?.string ?? m["reasoning_content"]?.string
    }

    func reasoning(_ text: String) {
        guard showReasoning else { return }
        var s = text
        if !reasoningOpen {
            reasoningOpen = true
            if dim { s = "\u{1B}[2m" + s }
        }
        reasoningEndsNewline = text.hasSuffix("\n")
        Out.write(Out.stderrFD, s)
    }

    func endReasoning() {
        guard reasoningOpen else { return }
        reasoningOpen = false
        Out.write(Out.stderrFD, (dim ? "\u{1B}[0m" : "") + (reasoningEndsNewline ? "" : "\n"))
    }

    /// Text for stdout as it is (JSON lines).
    func raw(_ text: String) {
        if !Out.write(Out.stdoutFD, text) { writeFailed = true }
    }

    func content(_ text: String) {
        endReasoning()
        if !Out.write(Out.stdoutFD, text) { writeFailed = true }
        wroteStdout = true
        stdoutEndsNewline = text.hasSuffix("\n")
    }

    /// Ends the answer's last line, so the shell prompt (or an error) starts on a line of its own.
    func finish() {
        endReasoning()
        if wroteStdout && !stdoutEndsNewline {
            Out.write(Out.stdoutFD, "\n")
            stdoutEndsNewline = true
        }
    }
}

private let onChunk: anyllm_chunk_fn = { ptr, len, ud in
    guard let ptr, let ud else { return 0 }
    let st = Unmanaged<CallState>.fromOpaque(ud).takeUnretainedValue()
    return st.chunk(UnsafeRawBufferPointer(start: ptr, count: len))
}

private let onDone: anyllm_done_fn = { _, _, _, _ in
    var b = UInt8(ascii: "d")
    _ = write(wakeFD, &b, 1)
}

// MARK: running

struct CallOutcome {
    var status: UInt32
    var json: JSONValue
    /// The JSON text exactly as the library returned it.
    var raw: String = ""
    var interrupted: Bool
}

/// Starts the call, waits for it (cancelling on Ctrl-C) and returns its status and JSON.
func runCall(_ request: String, state: CallState, stream: Bool) -> CallOutcome {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else {
        return CallOutcome(status: ANYLLM_E_INTERNAL.rawValue,
                           json: .object([("error", .object([("type", .string("internal")),
                                                               ("message", .string("cannot create a pipe"))]))]),
                           interrupted: false)
    }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
    wakeFD = fds[1]
    signal(SIGINT, onInterrupt)

    // The threads the library starts for the call inherit a mask without SIGINT, so Ctrl-C lands
    // on this thread (and never interrupts a transfer's system calls); one pressed meanwhile waits.
    signalMask(SIG_BLOCK)
    let ud = Unmanaged.passUnretained(state).toOpaque()
    let call = request.withCString { anyllm_completion_start(nil, $0, stream ? onChunk : nil, onDone, ud) }
    signalMask(SIG_UNBLOCK)

    var pfd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
    var cancelled = false, done = false
    var cancelledAt = timespec()
    while !done {
        let r = poll(&pfd, 1, cancelled ? 100 : -1)
        if r > 0 {
            var buf = [UInt8](repeating: 0, count: 64)
            let n = buf.withUnsafeMutableBytes { read(fds[0], $0.baseAddress!, $0.count) }
            for b in buf.prefix(max(n, 0)) {
                if b == UInt8(ascii: "d") { done = true }
                if b == UInt8(ascii: "i") && !cancelled {
                    cancelled = true
                    clock_gettime(CLOCK_MONOTONIC, &cancelledAt)
                    anyllm_call_cancel(call)
                }
            }
        }
        if cancelled && !done {
            // Cancelling is immediate; should the call still not end, do not keep the user waiting.
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            if now.tv_sec - cancelledAt.tv_sec >= 2 {
                state.finish()
                _exit(Exit.interrupted)
            }
        }
    }

    var out: UnsafeMutablePointer<CChar>? = nil
    let st = anyllm_call_wait(call, &out)
    var json = JSONValue.null, raw = ""
    if let out {
        raw = String(cString: out)
        json = (try? JSONValue.parse(raw)) ?? .null
        anyllm_string_free(out)
    }
    anyllm_call_free(call)
    close(fds[0])
    wakeFD = -1
    close(fds[1])
    return CallOutcome(status: st.rawValue, json: json, raw: raw, interrupted: interrupts > 0)
}

// MARK: the request

func buildRequest(_ o: Options, model: String, prompt: String?) -> JSONValue {
    var req = JSONValue.object([("model", .string(model))])
    var messages: [JSONValue] = []
    if let s = o.system { messages.append(.object([("role", .string("system")), ("content", .string(s))])) }
    if let p = prompt { messages.append(.object([("role", .string("user")), ("content", .string(p))])) }
    req.set("messages", .array(messages))
    req.set("stream", .bool(o.stream))
    if let t = o.temperature { req.set("temperature", t) }
    if let m = o.maxTokens { req.set("max_tokens", m) }
    if let b = o.apiBase { req.set("api_base", .string(b)) }
    if let k = o.apiKey { req.set("api_key", .string(k)) }
    var clientArgs: [(String, JSONValue)] = []
    if let t = o.timeout { clientArgs.append(("timeout", t)) }
    if let r = o.retries { clientArgs.append(("max_retries", r)) }
    if !clientArgs.isEmpty { req.set("client_args", .object(clientArgs)) }
    // -o: any other parameter; an object given for an object already set (client_args) is merged.
    for (k, v) in o.extra {
        if case .object(let new)? = Optional(v), case .object(var old)? = req[k] {
            for (nk, nv) in new {
                if let i = old.firstIndex(where: { $0.0 == nk }) { old[i].1 = nv } else { old.append((nk, nv)) }
            }
            req.set(k, .object(old))
        } else {
            req.set(k, v)
        }
    }
    return req
}

/// Prints what a successful call returned that was not streamed: the answer (non-streamed), tool
/// calls and notes about how the answer ended.
func printResult(_ result: JSONValue, raw: String, state: CallState, streamed: Bool) {
    if state.json {
        if !streamed { state.raw((raw.contains("\n") ? result.serialized : raw) + "\n") }
        return
    }
    let choice = result["choices"]?[0]
    let message = choice?["message"]
    if !streamed, let m = message {
        if let r = CallState.reasoningText(m), !r.isEmpty { state.reasoning(r) }
        if let c = m["content"]?.string, !c.isEmpty { state.content(c) }
        if let c = m["refusal"]?.string, !c.isEmpty { state.content(c) }
    }
    for call in message?["tool_calls"]?.array ?? [] {
        let name = call["function"]?["name"]?.string ?? "?"
        let args = call["function"]?["arguments"]?.string ?? ""
        if state.wroteStdout { state.finish() }
        state.content("tool call: \(name)(\(args))\n")
    }
    state.finish()
    switch choice?["finish_reason"]?.string {
    case "length": Out.error("note: the answer was cut off at the token limit (finish_reason: length)")
    case "content_filter": Out.error("note: the provider's content filter stopped the answer (finish_reason: content_filter)")
    default: break
    }
}
