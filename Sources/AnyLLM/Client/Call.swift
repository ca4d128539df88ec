import CAnyLLMTypes
import Glibc

/// The object behind `anyllm_call *`: one non-blocking completion on its own thread.
/// (The engine issue replaces the thread with a shared curl-multi event loop per client.)
final class Call: @unchecked Sendable {
    let client: Client
    let token = CancelToken()
    let request: [UInt8]
    let onChunk: anyllm_chunk_fn?
    let onDone: anyllm_done_fn?
    let userData: UnsafeMutableRawPointer?
    private let monitor = Monitor()
    private var finished = false
    private(set) var status = ANYLLM_E_INTERNAL
    private(set) var result: [UInt8] = []
    private(set) var thread: pthread_t?

    init(client: Client, request: [UInt8], onChunk: anyllm_chunk_fn?, onDone: anyllm_done_fn?,
         userData: UnsafeMutableRawPointer?) {
        self.client = client
        self.request = request
        self.onChunk = onChunk
        self.onDone = onDone
        self.userData = userData
    }

    /// Starts the worker thread. It holds its own reference, so freeing the handle early is safe.
    func start() -> Bool {
        guard client.enter(token) else {
            finish(ANYLLM_E_CANCELLED, AnyLLMError(ANYLLM_E_CANCELLED, "the client is being freed").json(redactor: Redactor(secrets: [])).serialized)
            return true
        }
        let ctx = Unmanaged.passRetained(self).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        var tid = pthread_t()
        let rc = pthread_create(&tid, &attr, { ctx in
            let call = Unmanaged<Call>.fromOpaque(ctx!).takeRetainedValue()
            call.runOnThisThread()
            return nil
        }, ctx)
        pthread_attr_destroy(&attr)
        if rc != 0 {
            Unmanaged<Call>.fromOpaque(ctx).release()
            client.leave(token)
            return false
        }
        monitor.locked { if !finished { thread = tid } }
        return true
    }

    private func runOnThisThread() {
        monitor.locked { thread = pthread_self() }
        let sink: CompletionRunner.ChunkSink? = onChunk.map { fn in
            { [userData] bytes in CABI.deliverChunk(fn, bytes, userData) }
        }
        let runner = CompletionRunner(options: client.options, token: token, onChunk: sink)
        let outcome = request.withUnsafeBytes { runner.run($0) }
        client.leave(token)
        finish(outcome.status, outcome.json)
    }

    /// Records the outcome, runs on_done, then releases waiters (so that after anyllm_call_wait
    /// returns, on_done has finished and user_data may be freed).
    private func finish(_ status: anyllm_status, _ json: [UInt8]) {
        monitor.locked {
            self.status = status
            self.result = json
        }
        if let done = onDone {
            var bytes = json
            bytes.append(0)
            bytes.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { done(status, $0, json.count, userData) }
            }
        }
        monitor.locked {
            finished = true
            monitor.broadcast()
        }
    }

    var isOnOwnThread: Bool {
        monitor.locked { thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Blocks until the call has finished (on_done included).
    func wait() -> (anyllm_status, [UInt8]) {
        monitor.locked {
            while !finished { monitor.wait(until: nil) }
            return (status, result)
        }
    }

    /// The outcome when known: inside on_done on the call's own thread.
    func outcomeIfKnown() -> (anyllm_status, [UInt8])? {
        monitor.locked { result.isEmpty ? nil : (status, result) }
    }
}
