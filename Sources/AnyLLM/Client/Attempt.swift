import CAnyLLMTypes

/// One HTTP attempt: collects the body or decodes the stream as it arrives.
final class Attempt {
    let req: CompletionRequest
    let proto: any WireProtocol
    let onChunks: CallPolicy.ChunkSink
    /// Chunks decoded so far (any chunk makes a retry impossible: the caller may have seen it).
    @exclusivity(unchecked) private(set) var delivered = 0
    /// The chunks of the current read, handed to the call together when the read is done.
    @exclusivity(unchecked) private var pending = ChunkBatch()
    private var decoder: (any StreamDecoder)?
    private var buffered: [UInt8] = []
    private var streaming: Bool?
    private var lastStatus = 0

    init(req: CompletionRequest, proto: any WireProtocol, onChunks: @escaping CallPolicy.ChunkSink) {
        self.req = req
        self.proto = proto
        self.onChunks = onChunks
    }

    func retryable(_ e: AnyLLMError) -> Bool {
        if e.permanent { return false }
        switch e.status {
        case ANYLLM_E_CONNECTION, ANYLLM_E_TIMEOUT: return true
        case ANYLLM_E_RATE_LIMIT: return true
        // 429 that is not a rate limit: a model still loading (Bedrock's ModelNotReadyException).
        case ANYLLM_E_PROVIDER: return (e.httpStatus ?? 0) >= 500 || e.httpStatus == 429
        case ANYLLM_E_INVALID_REQUEST: return e.httpStatus == 409
        default: return false
        }
    }

    /// Turns the transfer's end into the completion (or its typed error). The chunks decoded on the
    /// way are handed over first.
    func complete(_ result: Result<HTTPResponseHead, TransferFailure>) throws(AnyLLMError) -> Call.Outcome {
        defer { flush() }
        let provider = req.provider.name
        switch result {
        case .failure(.cancelled):
            throw AnyLLMError(ANYLLM_E_CANCELLED, "the call was cancelled", provider: provider)
        case .failure(.timeout(let kind, let seconds)):
            var e = AnyLLMError(ANYLLM_E_TIMEOUT, Self.timeoutMessage(kind, seconds), provider: provider)
            e.extra.append(("timeout", .string(kind)))
            throw e
        case .failure(.connection(let msg, let permanent)):
            var e = AnyLLMError(ANYLLM_E_CONNECTION, msg, provider: provider)
            e.permanent = permanent
            throw e
        case .failure(.sink(let e)):
            throw e
        case .success(let head):
            if head.status == 407 { throw Self.proxyRefused(head, body: buffered, provider: provider) }
            guard (200..<300).contains(head.status) else {
                throw proto.decodeError(status: head.status, head: head, body: buffered, provider: provider)
            }
            if let d = decoder {
                try d.finish { (c: DecodedChunk) throws(AnyLLMError) in self.deliver(c) }
                return .aggregate
            }
            let (completion, bytes) = try proto.decodeResponseBytes(buffered, request: req)
            if req.stream {
                // Asked for a stream, answered with one JSON body (some servers ignore "stream"):
                // the caller still gets its chunks.
                for c in SyntheticChunks.from(completion) { deliver(DecodedChunk(json: c, bytes: JSON.object(c).serialized)) }
            }
            return .json(ANYLLM_OK, bytes)
        }
    }

    /// 407 is only ever a proxy's answer (to a plain-http request forwarded through it): a connection
    /// problem on our side, not the provider's error, and not one a retry fixes. The body is the
    /// proxy's page; it goes through the Redactor like any other text.
    static func proxyRefused(_ head: HTTPResponseHead, body: [UInt8], provider: String) -> AnyLLMError {
        var e = AnyLLMError(ANYLLM_E_CONNECTION, ProxyText.authenticationRequired, httpStatus: 407, provider: provider)
        e.permanent = true
        if !body.isEmpty { e.providerError = .string(ErrorMapping.truncatedText(body)) }
        return e
    }

    static func timeoutMessage(_ kind: String, _ s: Double) -> String {
        let secs = s.rounded() == s ? String(Int(s)) : String(s)
        switch kind {
        case "connect": return "connect timeout: no connection within \(secs) s"
        case "read": return "read timeout: no data received for \(secs) s"
        default: return "total timeout: the request took longer than \(secs) s"
        }
    }

    /// Body bytes from the transport; returns an error to abort the transfer.
    func receive(_ head: HTTPResponseHead, _ bytes: UnsafeRawBufferPointer) -> AnyLLMError? {
        if streaming == nil {
            lastStatus = head.status
            let ctype = head.header("content-type")?.lowercased() ?? ""
            let ok = (200..<300).contains(head.status)
            streaming = ok && req.stream && proto.streamsBody(contentType: ctype)
            if streaming == true { decoder = proto.streamDecoder(for: req) }
        }
        if let d = decoder {
            defer { flush() }
            pending.reserve(bytes.count + 256)
            do {
                try d.feed(bytes) { (c: DecodedChunk) throws(AnyLLMError) in self.deliver(c) }
            } catch {
                return error
            }
            return nil
        }
        if buffered.count + bytes.count > CallPolicy.maxBodyBytes {
            return AnyLLMError(ANYLLM_E_PROVIDER, "the response body is larger than \(CallPolicy.maxBodyBytes >> 20) MiB",
                               httpStatus: lastStatus, provider: req.provider.name)
        }
        buffered.append(contentsOf: bytes)
        return nil
    }

    private func deliver(_ c: DecodedChunk) {
        delivered += 1
        pending.append(c)
    }

    private func flush() {
        if pending.isEmpty { return }
        onChunks(pending)
        pending = ChunkBatch.make()
    }
}

/// ChatCompletionChunks equivalent to a whole ChatCompletion: used when a server answers a stream
/// request with a plain JSON body.
enum SyntheticChunks {
    static func from(_ completion: JSON) -> [JSONObject] {
        var out: [JSONObject] = []
        func chunk(_ choices: [JSON], usage: JSON?) -> JSONObject {
            var o = JSONObject()
            for k in ["id", "created", "model", "system_fingerprint"] { if let v = completion[k] { o[k] = v } }
            o["object"] = .string("chat.completion.chunk")
            o["choices"] = .array(choices)
            if let u = usage { o["usage"] = u }
            return o
        }
        for c in completion["choices"]?.array ?? [] {
            var delta = c["message"]?.object ?? JSONObject()
            if let calls = delta["tool_calls"]?.array {
                delta["tool_calls"] = .array(calls.enumerated().map { i, t in
                    guard var to = t.object else { return t }
                    to["index"] = .int(i)
                    return .object(to)
                })
            }
            var ch = JSONObject()
            ch["index"] = c["index"] ?? .int(0)
            ch["delta"] = .object(delta)
            ch["logprobs"] = c["logprobs"] ?? .null
            ch["finish_reason"] = c["finish_reason"] ?? .null
            out.append(chunk([.object(ch)], usage: nil))
        }
        if let u = completion["usage"], !u.isNull { out.append(chunk([], usage: u)) }
        return out
    }
}
