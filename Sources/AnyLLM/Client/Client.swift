import CAnyLLMTypes

/// The object behind `anyllm_client *`: default options for its calls, its engine (one I/O
/// thread over one curl multi handle, started with the first call), and the calls in flight,
/// so that freeing the client can cancel and wait for them.
final class Client: @unchecked Sendable {
    let options: ClientOptions
    private let monitor = Monitor()
    private var engine: Engine?
    private var live: [ObjectIdentifier: Call] = [:]
    private var closing = false

    init(options: ClientOptions) { self.options = options }

    /// The process-wide client used when the C caller passes NULL. Never freed.
    static let shared = Client(options: ClientOptions())

    /// Starts a call; its outcome arrives through the Call (at once for an invalid request).
    func start(_ request: UnsafeRawBufferPointer, blocking: Bool, onChunk: anyllm_chunk_fn?, onDone: anyllm_done_fn?,
               userData: UnsafeMutableRawPointer?) -> Call {
        let call = Call(client: self, blocking: blocking, onChunk: onChunk, onDone: onDone, userData: userData)
        let eng: Engine? = monitor.locked {
            if closing { return nil }
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
        monitor.locked {
            live[ObjectIdentifier(call)] = nil
            monitor.broadcast()
        }
    }

    /// Cancels every call, waits until all have delivered their outcome, stops the engine.
    func close() {
        let calls: [Call] = monitor.locked {
            closing = true
            return Array(live.values)
        }
        for c in calls { c.cancel() }
        monitor.locked {
            while !live.isEmpty { monitor.wait(until: nil) }
        }
        monitor.locked { engine }?.shutdown()
    }
}
