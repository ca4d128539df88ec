import CAnyLLMTypes
import Glibc

/// One call as the C caller sees it (`anyllm_call *`, or the blocking anyllm_completion): the
/// queue of chunks and the outcome coming from the engine, and their delivery to the callbacks.
/// Non-blocking calls are delivered by DeliveryPool threads; a blocking call by the thread that
/// waits in anyllm_completion, so its callbacks run on the caller's own thread.
final class Call: @unchecked Sendable {
    enum Item {
        case chunk([UInt8], JSONObject)
        case done(anyllm_status, [UInt8])
    }

    let client: Client
    let blocking: Bool
    let onChunk: anyllm_chunk_fn?
    let onDone: anyllm_done_fn?
    let userData: UnsafeMutableRawPointer?
    /// Weak: the engine keeps the driver alive while a transfer or retry timer is pending; a strong
    /// reference here would make a cycle (the driver holds its call).
    weak var driver: CallDriver?
    /// Set by the driver once the key is known: errors built here are cleaned with it too.
    var redactor = Redactor(secrets: [])
    private let monitor = Monitor()
    private var queue: [Item] = []
    private var scheduled = false
    private var finished = false
    private var outcomeKnown = false
    private var status = ANYLLM_E_INTERNAL
    private var result: [UInt8] = []
    private var deliveringThread: pthread_t?
    /// Set by a cancel (anyllm_call_cancel, call_free, or on_chunk returning non-zero): later chunks
    /// are not delivered, and an outcome still undelivered becomes ANYLLM_E_CANCELLED.
    private var stopRequested = false
    /// What on_chunk actually received: the "partial" of a call stopped by its caller. (The engine
    /// may have read further ahead than the callbacks had been given.)
    private var delivered = StreamAggregator()

    init(client: Client, blocking: Bool, onChunk: anyllm_chunk_fn?, onDone: anyllm_done_fn?,
         userData: UnsafeMutableRawPointer?) {
        self.client = client
        self.blocking = blocking
        self.onChunk = onChunk
        self.onDone = onDone
        self.userData = userData
    }

    // MARK: producer side (engine thread, or the starting thread for early errors)

    func enqueueChunk(_ bytes: [UInt8], _ json: JSONObject) -> Bool {
        guard onChunk != nil else { return true }
        push(.chunk(bytes, json))
        return true
    }

    func finish(_ status: anyllm_status, _ json: [UInt8]) { push(.done(status, json)) }

    private func push(_ item: Item) {
        let schedule: Bool = monitor.locked {
            queue.append(item)
            monitor.broadcast()
            if blocking || scheduled { return false }
            scheduled = true
            return true
        }
        if schedule { DeliveryPool.shared.schedule(self) }
    }

    // MARK: delivery side

    /// Runs on a pool thread: delivers everything queued, then releases the call to the pool.
    func drain() {
        while true {
            let batch: [Item] = monitor.locked {
                if queue.isEmpty {
                    scheduled = false
                    deliveringThread = nil
                    return []
                }
                deliveringThread = pthread_self()
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            if batch.isEmpty { return }
            for item in batch { deliver(item) }
        }
    }

    /// Blocking mode: delivers on the calling thread until the outcome has been delivered.
    func runBlocking() -> (anyllm_status, [UInt8]) {
        monitor.locked { deliveringThread = pthread_self() }
        while true {
            let batch: [Item] = monitor.locked {
                while queue.isEmpty { monitor.wait(until: nil) }
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            for item in batch { deliver(item) }
            if let r = monitor.locked({ finished ? (status, result) : nil }) { return r }
        }
    }

    private func deliver(_ item: Item) {
        switch item {
        case .chunk(let bytes, let json):
            guard let fn = onChunk, !monitor.locked({ stopRequested }) else { return }
            delivered.add(json)
            if !CABI.deliverChunk(fn, bytes, userData) { cancel() }
        case .done(var st, var json):
            if monitor.locked({ stopRequested }), st == ANYLLM_OK || st == ANYLLM_E_CANCELLED {
                // Cancelled by the caller: the outcome says so, with what the callbacks received,
                // even when the transfer had completed before the cancel reached it.
                var e = AnyLLMError(ANYLLM_E_CANCELLED, "the call was cancelled")
                if let prov = (try? JSONReader.parse(json))?["error"]?["provider"]?.string { e.provider = prov }
                if delivered.chunkCount > 0 { e.partial = delivered.result(complete: false) }
                st = ANYLLM_E_CANCELLED
                json = e.json(redactor: redactor).serialized
            }
            monitor.locked {
                status = st
                result = json
                outcomeKnown = true
            }
            if let done = onDone {
                var b = json
                b.append(0)
                b.withUnsafeBufferPointer { p in
                    p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { done(st, $0, json.count, userData) }
                }
            }
            client.leave(self)
            monitor.locked {
                finished = true
                monitor.broadcast()
            }
        }
    }

    // MARK: caller side

    func cancel() {
        let first: Bool = monitor.locked {
            if finished || outcomeKnown || stopRequested { return false }
            stopRequested = true
            return true
        }
        if first { driver?.cancel() }
    }

    var isOnOwnThread: Bool {
        monitor.locked { deliveringThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    func wait() -> (anyllm_status, [UInt8]) {
        monitor.locked {
            while !finished { monitor.wait(until: nil) }
            return (status, result)
        }
    }

    /// The outcome when known: inside on_done.
    func outcomeIfKnown() -> (anyllm_status, [UInt8])? {
        monitor.locked { outcomeKnown ? (status, result) : nil }
    }
}
