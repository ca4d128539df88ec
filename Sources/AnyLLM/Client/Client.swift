import CAnyLLMTypes

/// The object behind `anyllm_client *`: default options for its calls, and the set of calls in
/// flight so that freeing the client can cancel and wait for them.
final class Client: @unchecked Sendable {
    let options: ClientOptions
    private let monitor = Monitor()
    private var live: [ObjectIdentifier: CancelToken] = [:]
    private var closing = false

    init(options: ClientOptions) { self.options = options }

    /// The process-wide client used when the C caller passes NULL. Never freed.
    static let shared = Client(options: ClientOptions())

    /// Registers a call; false when the client is being freed (the call must not start).
    func enter(_ token: CancelToken) -> Bool {
        monitor.locked {
            if closing { return false }
            live[ObjectIdentifier(token)] = token
            return true
        }
    }

    func leave(_ token: CancelToken) {
        monitor.locked {
            live[ObjectIdentifier(token)] = nil
            monitor.broadcast()
        }
    }

    /// Cancels every call and waits until all have left.
    func close() {
        let tokens: [CancelToken] = monitor.locked {
            closing = true
            return Array(live.values)
        }
        for t in tokens { t.cancel() }
        monitor.locked {
            while !live.isEmpty { monitor.wait(until: nil) }
        }
    }
}
