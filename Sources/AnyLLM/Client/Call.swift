import CAnyLLMTypes
import Glibc

/// One call as the C caller sees it (`anyllm_call *`, or the blocking anyllm_completion): the
/// queue of chunks and the outcome coming from the engine, and their delivery to the callbacks.
/// Non-blocking calls are delivered by DeliveryPool threads; a blocking call by the thread that
/// waits in anyllm_completion, so its callbacks run on the caller's own thread; a pulled call
/// (anyllm_completion_open) by whichever thread calls anyllm_call_next, which also drives its I/O.
final class Call: Deliverable, @unchecked Sendable {
    /// How a call ended, as the engine side knows it. Turned into the outcome JSON on the delivery
    /// side, which alone knows which chunks the caller received (the aggregate and "partial").
    /// (A struct, not an enum with payloads: valgrind flagged the multi-payload enum's tag test as
    /// a read of uninitialised padding.)
    struct Outcome {
        enum Kind { case json, aggregate, failure }
        var kind: Kind
        var status = ANYLLM_OK
        var bytes: [UInt8] = []
        var error: AnyLLMError?

        /// The final JSON, ready (a non-streamed answer, or an error before any chunk).
        static func json(_ status: anyllm_status, _ bytes: [UInt8]) -> Outcome {
            Outcome(kind: .json, status: status, bytes: bytes)
        }
        /// A stream that ended normally: the result is the aggregate of its chunks.
        static let aggregate = Outcome(kind: .aggregate)
        /// An error; its "partial" is the aggregate of the chunks delivered before it.
        static func failure(_ e: AnyLLMError) -> Outcome { Outcome(kind: .failure, status: e.status, error: e) }
    }

    /// What the engine side hands over: a read's chunks, or the outcome. A struct for the same
    /// reason as Outcome: valgrind reads an enum with a class payload and a struct payload as a
    /// test of uninitialised bits when it is copied.
    struct Item {
        /// nil: this item is the outcome.
        var chunks: ChunkBatch?
        var outcome: Outcome

        static func chunks(_ b: ChunkBatch) -> Item { Item(chunks: b, outcome: .aggregate) }
        static func done(_ o: Outcome) -> Item { Item(chunks: nil, outcome: o) }
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
    @exclusivity(unchecked) private var stopRequested = false  // read per chunk, always under `monitor`
    /// The chunks delivered (to on_chunk, when there is one): the result of a stream, and the
    /// "partial" of an error. Kept on the delivery side, so that a call stopped by its caller
    /// reports exactly what its callbacks received, though the engine may have read further.
    @exclusivity(unchecked) private var delivered = StreamAggregator()  // per chunk, one delivering thread at a time

    /// Pull mode: the inline engine the pulling thread drives (nil: the client's shared engine),
    /// given back to the client when the call ends. `pullLock` makes concurrent pulls, waits and
    /// frees of one pulled call take turns instead of driving one engine from two threads.
    let pulled: Bool
    private var pullEngine: Engine?
    private let pullLock = Monitor()
    /// Items taken from the queue for pulling, and where the next pull resumes in them.
    private var pullBatch: [Item] = []
    private var pullItem = 0
    private var pullEntry = 0
    /// What the last anyllm_call_next handed out: a JSON array of chunks, NUL-terminated.
    let pulledJSON = CBuffer()
    /// anyllm_completion_open_notify: the caller's descriptor (an event loop's pipe) and this
    /// call's token, written to it when the call has something for the caller's next pull (chunks,
    /// or the end) and no token is outstanding; -1 for other calls.
    private let notifyFD: Int32
    private let token: UInt64
    /// A token was written and no pull of the caller's has come since: another would be a
    /// duplicate. Under `monitor`.
    private var notified = false
    /// Started with anyllm_completion_open_notify.
    var watched: Bool { notifyFD >= 0 }
    /// A pull of the caller's has returned the end (watched calls; under `pullLock`).
    private var endHandedOut = false

    init(client: Client, blocking: Bool, onChunk: anyllm_chunk_fn?, onDone: anyllm_done_fn?,
         userData: UnsafeMutableRawPointer?, pulled: Bool = false, notifyFD: Int32 = -1, token: UInt64 = 0) {
        self.client = client
        self.notifyFD = notifyFD
        self.token = token
        self.blocking = blocking || pulled
        self.pulled = pulled
        self.onChunk = onChunk
        self.onDone = onDone
        self.userData = userData
    }

    // MARK: producer side (engine thread, or the starting thread for early errors)

    /// The chunks decoded from one read, handed over together (one lock, one wake-up).
    func enqueue(_ chunks: ChunkBatch) {
        if chunks.isEmpty { return }
        push { $0.append(.chunks(chunks)) }
    }

    func finish(_ outcome: Outcome) { push { $0.append(.done(outcome)) } }

    func finish(_ status: anyllm_status, _ json: [UInt8]) { finish(.json(status, json)) }

    private func push(_ add: (inout [Item]) -> Void) {
        let schedule: Bool = monitor.locked {
            add(&queue)
            monitor.broadcast()
            if watched && !notified { notify() }
            if blocking || scheduled { return false }
            scheduled = true
            return true
        }
        guard schedule else { return }
        // Without callbacks there is no caller code to keep off the engine's thread: delivery is
        // only bookkeeping (aggregate, outcome, wake the waiter), done here rather than after a
        // hand-over to a pool thread — one thread switch less per call for anyllm_call_wait.
        if onChunk == nil && onDone == nil { drain() } else { DeliveryPool.shared.schedule(self) }
    }

    // MARK: delivery side

    /// Runs on a pool thread: delivers everything queued, then releases the call to the pool.
    func drain() {
        var batch: [Item] = []
        while true {
            let more: Bool = monitor.locked {
                if queue.isEmpty {
                    scheduled = false
                    deliveringThread = nil
                    return false
                }
                deliveringThread = pthread_self()
                swap(&queue, &batch)  // the two buffers alternate: no allocation per batch
                return true
            }
            if !more { return }
            for item in batch { deliver(item) }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Blocking mode: delivers on the calling thread until the outcome has been delivered. With an
    /// inline engine, the calling thread also drives the I/O between deliveries.
    func runBlocking(driving engine: Engine?) -> (anyllm_status, [UInt8]) {
        monitor.locked { deliveringThread = pthread_self() }
        var batch: [Item] = []
        while true {
            monitor.locked {
                if engine == nil { while queue.isEmpty { monitor.wait(until: nil) } }
                swap(&queue, &batch)
            }
            if batch.isEmpty {
                _ = engine?.step()
                continue
            }
            for item in batch { deliver(item) }
            batch.removeAll(keepingCapacity: true)
            if let r = monitor.locked({ finished ? (status, result) : nil }) { return r }
        }
    }

    private func deliver(_ item: Item) {
        if let b = item.chunks {
            b.withBytes { all in
                for e in b.entries {
                    if monitor.locked({ stopRequested }) { return }
                    delivered.add(e, of: b, in: all)
                    // The batch has a NUL after each chunk: on_chunk reads the chunk in place.
                    if let fn = onChunk, fn((all.baseAddress! + e.start).assumingMemoryBound(to: CChar.self), e.count, userData) != 0 {
                        cancel()
                    }
                }
            }
            b.recycle()
        } else {
            let outcome = item.outcome
            var (st, json) = outcomeJSON(outcome)
            if monitor.locked({ stopRequested }), st == ANYLLM_OK || st == ANYLLM_E_CANCELLED {
                // Cancelled by the caller: the outcome says so, with what the callbacks received,
                // even when the transfer had completed before the cancel reached it.
                var e = AnyLLMError(ANYLLM_E_CANCELLED, "the call was cancelled")
                if let f = outcome.error { e.provider = f.provider }
                else if let prov = (try? JSONReader.parse(json))?["error"]?["provider"]?.string { e.provider = prov }
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

    private func outcomeJSON(_ o: Outcome) -> (anyllm_status, [UInt8]) {
        switch o.kind {
        case .json:
            return (o.status, o.bytes)
        case .aggregate:
            return (ANYLLM_OK, delivered.result().serialized)
        case .failure:
            var e = o.error!
            if delivered.chunkCount > 0 { e.partial = delivered.result(complete: false) }
            return (e.status, e.json(redactor: redactor).serialized)
        }
    }

    // MARK: pull mode (anyllm_completion_open / anyllm_call_next)

    enum Pulled: Equatable { case chunks, ended, timedOut }

    func startPulling(engine: Engine?) { pullEngine = engine }

    /// Drives the call until chunks are ready (then `pulledJSON` is a JSON array of them, in
    /// order), it has ended, or `timeout` seconds have passed (negative: no limit).
    func next(timeout: Double) -> Pulled {
        pullLock.locked { pullLocked(timeout: timeout, keep: true) }
    }

    /// Runs a pulled call to its end, dropping chunks nobody pulled (they are still in the result).
    private func pullToEnd() {
        pullLock.locked { while pullLocked(timeout: -1, keep: false) == .chunks {} }
    }

    /// The most chunk bytes one anyllm_call_next hands out (a single larger chunk still goes out
    /// whole). One inline engine step can read a whole stream that the server has already sent;
    /// handing it out in one array made a buffer of hundreds of kilobytes per call, which malloc
    /// maps and unmaps each time (page faults were most of a pulled 1,000-chunk stream's cost).
    static let maxPullBytes = 32 << 10

    /// `keep`: a pull of the caller's (anyllm_call_next), whose chunks it hands out; false when the
    /// library runs the call to its end itself (call_wait, call_free, client_free).
    private func pullLocked(timeout: Double, keep: Bool) -> Pulled {
        // Watched calls: a pull of the caller's answers the last token (or makes it moot).
        if watched && keep { monitor.locked { notified = false } }
        let r = pullStep(timeout: timeout, keep: keep)
        if watched {
            // If the caller's next pull has something (items left over from this one, new ones,
            // or the end, until a pull of the caller's has reported it: the library may have run
            // the call to its end itself), a token must be on its way.
            if r == .ended && keep { endHandedOut = true }
            monitor.locked {
                let pending = !queue.isEmpty || pullItem < pullBatch.count || (finished && !endHandedOut)
                if pending && !notified { notify() }
            }
        }
        return r
    }

    private func pullStep(timeout: Double, keep: Bool) -> Pulled {
        pulledJSON.removeAll()
        if monitor.locked({ finished }) { return .ended }
        let deadline = timeout < 0 ? Double.infinity : monotonicNow() + timeout
        while true {
            if pullItem >= pullBatch.count {
                pullBatch.removeAll(keepingCapacity: true)
                pullItem = 0
                pullEntry = 0
                monitor.locked {
                    if pullEngine == nil && queue.isEmpty {
                        monitor.wait(until: deadline == .infinity ? nil : deadline)  // the shared engine's thread pushes
                    }
                    swap(&queue, &pullBatch)
                }
            }
            // Hand out what was read, from where the last pull stopped, up to maxPullBytes.
            var count = 0
            while pullItem < pullBatch.count {
                let item = pullBatch[pullItem]
                if let b = item.chunks {
                    var full = false
                    b.withBytes { all in
                        while pullEntry < b.entries.count {
                            if keep && count > 0 && pulledJSON.count >= Self.maxPullBytes {
                                full = true
                                return
                            }
                            let e = b.entries[pullEntry]
                            pullEntry += 1
                            if monitor.locked({ stopRequested }) { continue }
                            delivered.add(e, of: b, in: all)
                            if keep {
                                pulledJSON.append(count == 0 ? UInt8(ascii: "[") : UInt8(ascii: ","))
                                pulledJSON.append(UnsafeRawBufferPointer(rebasing: all[e.start..<(e.start + e.count)]))
                            }
                            count += 1
                        }
                    }
                    if full { break }
                    b.recycle()  // handed out whole (the array holds copies)
                    pullItem += 1
                    pullEntry = 0
                } else {
                    // The outcome is always the last item; chunks before it are handed out first.
                    if count > 0 { break }
                    pullItem += 1
                    deliver(item)
                }
            }
            if count > 0 {
                if keep {
                    pulledJSON.append(UInt8(ascii: "]"))
                    pulledJSON.append(0)
                }
                return .chunks
            }
            if monitor.locked({ finished }) {
                endPull()
                return .ended
            }
            let left = deadline - monotonicNow()
            if left <= 0 { return .timedOut }
            if let e = pullEngine { _ = e.step(maxWait: left) }
        }
    }

    /// Under `monitor`: writes the call's token to the caller's descriptor (8 bytes, one write:
    /// atomic on a pipe). A full pipe or a closed descriptor loses it: the header asks for room.
    private func notify() {
        var t = token
        while write(notifyFD, &t, 8) < 0 && errno == EINTR {}
        notified = true
    }

    private func endPull() {
        if let e = pullEngine {
            pullEngine = nil
            client.putBack(e)
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
        if pulled { pullToEnd() }
        return monitor.locked {
            while !finished { monitor.wait(until: nil) }
            return (status, result)
        }
    }

    /// The outcome when known: inside on_done.
    func outcomeIfKnown() -> (anyllm_status, [UInt8])? {
        monitor.locked { outcomeKnown ? (status, result) : nil }
    }
}
