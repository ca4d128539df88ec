import CAnyLLMTypes
import Synchronization

/// Drives one completion through the client's engine: prepares the request, runs attempts,
/// schedules retries on the engine's timers, and hands chunks and the outcome to the Call.
/// After `start`, everything runs on the engine thread except `cancel`.
final class CallDriver: TransferReceiver, @unchecked Sendable {
    let call: Call
    let engine: Engine
    private let cancelled = Atomic<Bool>(false)
    private let id = Engine.newOwnerID()
    private var req: CompletionRequest!
    private var proto: (any WireProtocol)!
    private var http: HTTPRequest!
    private var options = ClientOptions()
    private var redactor = Redactor(secrets: [])
    private var attempts = 0
    private var attempt: Attempt?

    init(call: Call, engine: Engine) {
        self.call = call
        self.engine = engine
    }

    /// Parses and encodes on the caller's thread (errors end the call at once), then submits.
    func start(_ requestText: UnsafeRawBufferPointer, defaults: ClientOptions) {
        do {
            let r = try CompletionRequest.parse(requestText)
            let endpoint = try CallPolicy.resolveEndpoint(r)
            redactor = Redactor(secrets: endpoint.secrets)
            call.redactor = redactor
            options = try defaults.merged(with: r.clientArgs, field: "client_args")
            redactor.add(ProxyCredentials.secrets(explicit: options.proxy))
            // A credential can also come as an extra header (client options or client_args).
            if !options.headers.isEmpty { redactor.add(Redactor.credentials(headers: options.headers)) }
            call.redactor = redactor
            let p = Protocols.implementation(r.provider.wire)
            var h = try p.encode(r, endpoint: endpoint)
            for (k, v) in options.headers {
                let lk = k.lowercased()
                h.headers.removeAll { $0.0.lowercased() == lk }
                h.headers.append((k, v))
            }
            req = r
            proto = p
            http = h
        } catch {
            call.finish(error.status, error.json(redactor: redactor).serialized)
            return
        }
        startAttempt()
    }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
        engine.cancel(owner: id)
    }

    private func startAttempt() {
        if cancelled.load(ordering: .acquiring) {
            fail(AnyLLMError(ANYLLM_E_CANCELLED, "the call was cancelled", provider: req.provider.name), attempt: nil)
            return
        }
        attempts += 1
        let call = self.call
        let a = Attempt(req: req, proto: proto, onChunks: { chunks in call.enqueue(chunks) })
        attempt = a
        // The transfer reports to self (TransferReceiver), which hands on to this attempt: the
        // current one until the transfer ends, since a retry starts only after that.
        guard let t = EasyTransfer(http, options: options, owner: id, receiver: self) else {
            fail(AnyLLMError(ANYLLM_E_INTERNAL, "could not create a curl handle", provider: req.provider.name), attempt: a)
            return
        }
        engine.submit(t)
    }

    func received(_ head: HTTPResponseHead, _ bytes: UnsafeRawBufferPointer) -> AnyLLMError? {
        attempt?.receive(head, bytes)
    }

    func ended(_ result: Result<HTTPResponseHead, TransferFailure>) {
        if let a = attempt { transferEnded(result, a) }
    }

    private func transferEnded(_ result: Result<HTTPResponseHead, TransferFailure>, _ a: Attempt) {
        do {
            call.finish(try a.complete(result))
        } catch var e {
            if cancelled.load(ordering: .acquiring), e.status != ANYLLM_E_CANCELLED {
                e = AnyLLMError(ANYLLM_E_CANCELLED, "the call was cancelled", provider: req.provider.name)
            }
            guard attempts <= options.maxRetries, a.delivered == 0, a.retryable(e),
                  !cancelled.load(ordering: .acquiring) else {
                fail(e, attempt: a)
                return
            }
            let wait = e.retryAfter ?? CallPolicy.backoff(attempts)
            if wait > CallPolicy.maxRetryWait {
                fail(e, attempt: a)
                return
            }
            engine.after(wait, owner: id) { [self] in self.startAttempt() }
        }
    }

    private func fail(_ e0: AnyLLMError, attempt a: Attempt?) {
        var e = e0
        e.attempts = max(attempts, 1)
        call.finish(.failure(e))  // the call adds the chunks delivered as "partial"
    }
}
