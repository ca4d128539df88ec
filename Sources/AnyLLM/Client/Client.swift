import CAnyLLMTypes

/// The object behind `anyllm_client *`: default options for its calls, its engines, and the calls
/// in flight, so that freeing the client can cancel and wait for them.
///
/// Non-blocking calls share one threaded engine (one I/O thread over one curl multi handle,
/// started with the first call). A blocking call takes an inline engine from a pool and drives it
/// on its own thread (no hand-over between threads per call or per chunk); the pool is a stack,
/// so a thread making one call after another gets the same engine and its open connection back.
/// With `max_connections_per_host` set, blocking calls use the shared engine too, whose multi
/// handle enforces the limit across all calls.
final class Client: @unchecked Sendable {
    let options: ClientOptions
    private let monitor = Monitor()
    private var engine: Engine?
    private var idleInline: [Engine] = []
    private var live: [ObjectIdentifier: Call] = [:]
    private var closing = false
    /// close() ran inside a callback of one of the client's calls: the engines stop when the last call ends.
    private var closeDeferred = false

    /// Idle inline engines kept (each holds its connections).
    static let maxIdleInline = 256

    init(options: ClientOptions) { self.options = options }

    /// The process-wide client used when the C caller passes NULL. Never freed.
    static let shared = Client(options: ClientOptions())

    /// Runs a blocking call on the calling thread; returns its outcome.
    func runBlocking(_ request: UnsafeRawBufferPointer, onChunk: anyllm_chunk_fn?,
                     userData: UnsafeMutableRawPointer?) -> (anyllm_status, [UInt8]) {
        let inline = options.maxConnectionsPerHost == 0 ? takeInlineEngine() : nil
        let call = start(request, blocking: true, onChunk: onChunk, onDone: nil, userData: userData, on: inline)
        let outcome = call.runBlocking(driving: inline)
        if let inline { putBack(inline) }
        return outcome
    }

    /// Starts a call that the caller pulls (anyllm_completion_open): its I/O runs in
    /// anyllm_call_next on the pulling thread, on an inline engine lent to it until it ends.
    func open(_ request: UnsafeRawBufferPointer) -> Call {
        let inline = options.maxConnectionsPerHost == 0 ? takeInlineEngine() : nil
        let call = start(request, blocking: true, onChunk: nil, onDone: nil, userData: nil, on: inline, pulled: true)
        call.startPulling(engine: inline)
        return call
    }

    /// Starts a pulled call for an event loop (anyllm_completion_open_notify): its I/O runs on the
    /// client's engine thread, which writes `token` to `notifyFD` when a pull has something.
    func openWatched(_ request: UnsafeRawBufferPointer, notifyFD: Int32, token: UInt64) -> Call {
        let call = start(request, blocking: true, onChunk: nil, onDone: nil, userData: nil, pulled: true,
                         notifyFD: notifyFD, token: token)
        call.startPulling(engine: nil)
        return call
    }

    private func takeInlineEngine() -> Engine? {
        if let e = monitor.locked({ closing ? nil : idleInline.popLast() }) { return e }
        return Engine(maxConnectionsPerHost: 0, inline: true)
    }

    func putBack(_ e: Engine) {
        let kept: Bool = monitor.locked {
            if closing || idleInline.count >= Self.maxIdleInline { return false }
            idleInline.append(e)
            return true
        }
        if !kept { e.shutdown() }
    }

    /// Starts a call; its outcome arrives through the Call (at once for an invalid request).
    /// `inlineEngine`: the engine a blocking call drives itself; nil = the shared threaded one.
    func start(_ request: UnsafeRawBufferPointer, blocking: Bool, onChunk: anyllm_chunk_fn?, onDone: anyllm_done_fn?,
               userData: UnsafeMutableRawPointer?, on inlineEngine: Engine? = nil, pulled: Bool = false,
               notifyFD: Int32 = -1, token: UInt64 = 0) -> Call {
        let call = Call(client: self, blocking: blocking, onChunk: onChunk, onDone: onDone, userData: userData,
                        pulled: pulled, notifyFD: notifyFD, token: token)
        let eng: Engine? = monitor.locked {
            if closing { return nil }
            if let inlineEngine {
                live[ObjectIdentifier(call)] = call
                return inlineEngine
            }
            if engine == nil { engine = Engine(maxConnectionsPerHost: options.maxConnectionsPerHost) }
            if engine != nil { live[ObjectIdentifier(call)] = call }
            return engine
        }
        guard let eng else {
            let msg = monitor.locked { closing } ? "the client is being freed" : "could not start the client's engine"
            monitor.locked { live[ObjectIdentifier(call)] = call }
            call.finish(ANYLLM_E_CANCELLED, AnyLLMError(ANYLLM_E_CANCELLED, msg).json(redactor: Redactor(secrets: [])).serialized)
            return call
        }
        let driver = CallDriver(call: call, engine: eng)
        call.driver = driver
        driver.start(request, defaults: options)
        return call
    }

    func leave(_ call: Call) {
        let finishClose: Bool = monitor.locked {
            live[ObjectIdentifier(call)] = nil
            monitor.broadcast()
            guard closeDeferred, live.isEmpty else { return false }
            closeDeferred = false
            return true
        }
        guard finishClose else { return }
        // A call without callbacks is delivered on the shared engine's own thread (Call.push),
        // which cannot stop (join) itself: another thread does it (without one, the engines are
        // left running rather than joined from their own thread).
        if monitor.locked({ engine })?.isCurrentThread == true {
            detachThread { self.stopEngines() }
        } else {
            stopEngines()
        }
    }

    /// Cancels every call, waits until all have delivered their outcome, stops the engine. From inside
    /// a callback of one of its calls it cannot wait: it cancels them and returns (see anyllm_client_free).
    func close() {
        let calls: [Call] = monitor.locked {
            closing = true
            return Array(live.values)
        }
        for c in calls { c.cancel() }
        // Nobody may be pulling a pulled call any more: drive each to its (cancelled) end here.
        for c in calls where c.pulled { _ = c.wait() }
        // Freed from inside a callback of one of its own calls: waiting for that call would wait for
        // ourselves. The calls are cancelled; the last one to end stops the engines (leave).
        if calls.contains(where: { $0.isOnOwnThread }) {
            let later: Bool = monitor.locked {
                if live.isEmpty { return false }
                closeDeferred = true
                return true
            }
            if later { return }
        } else {
            monitor.locked {
                while !live.isEmpty { monitor.wait(until: nil) }
            }
        }
        stopEngines()
    }

    private func stopEngines() {
        monitor.locked { engine }?.shutdown()
        // Engines still lent to blocking calls are shut down by those calls when they return.
        let idle: [Engine] = monitor.locked {
            defer { idleInline.removeAll() }
            return idleInline
        }
        for e in idle { e.shutdown() }
    }
}
