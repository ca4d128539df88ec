// What each wire protocol implements. The call machinery (retries, streaming, aggregation,
// callbacks) is shared; a protocol only translates between OpenAI shapes and its own.

/// A resolved target: where to send, with what credentials.
struct Endpoint: Sendable {
    var base: String
    var apiKey: String?
    /// AWS credentials for SigV4 signing (Bedrock), instead of an API key.
    var aws: AWSCredentials? = nil
    /// The AWS region (Bedrock): part of the signature's scope.
    var region: String? = nil

    /// Everything that must never appear in an error or a log.
    var secrets: [String] { [apiKey, aws?.secretAccessKey, aws?.sessionToken].compactMap { $0 } }
}

protocol WireProtocol: Sendable {
    /// The HTTP request for this completion.
    func encode(_ req: CompletionRequest, endpoint: Endpoint) throws(AnyLLMError) -> HTTPRequest
    /// A non-streamed 2xx body → OpenAI ChatCompletion.
    func decodeResponse(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> JSON
    /// The same, with the bytes to return (a requirement, not only an extension method, so that
    /// calls through `any WireProtocol` reach a protocol's own pass-through).
    func decodeResponseBytes(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> (JSON, [UInt8])
    /// A fresh decoder for one streamed response body.
    func streamDecoder(for req: CompletionRequest) -> any StreamDecoder
    /// A non-2xx response → typed error.
    func decodeError(status: Int, head: HTTPResponseHead, body: [UInt8], provider: String) -> AnyLLMError
    /// Whether a 2xx answer to a stream request with this content type is a stream (else one JSON
    /// body, e.g. a server that ignored "stream").
    func streamsBody(contentType: String) -> Bool
}

extension WireProtocol {
    /// The completion and the bytes to return for it. A protocol whose answers are often already
    /// in the right shape returns the provider's own bytes then, saving a re-encode.
    func decodeResponseBytes(_ body: [UInt8], request: CompletionRequest) throws(AnyLLMError) -> (JSON, [UInt8]) {
        let j = try decodeResponse(body, request: request)
        return (j, j.serialized)
    }

    func decodeError(status: Int, head: HTTPResponseHead, body: [UInt8], provider: String) -> AnyLLMError {
        ErrorMapping.map(status: status, head: head, body: body, provider: provider)
    }

    func streamsBody(contentType: String) -> Bool { !contentType.contains("json") }
}

/// One decoded chunk: its JSON (for aggregation) and the exact bytes handed to the caller. A
/// skimmed chunk (a plain content delta passed on as received) has no tree, only `skim`, and its
/// bytes are borrowed from the decoder (`raw`): they are valid only while the chunk is emitted,
/// and whoever keeps the chunk copies them (ChunkBatch does, once, into the batch it hands over).
struct DecodedChunk {
    var json: JSONObject
    var bytes: [UInt8]
    var skim: SkimmedDelta?
    var raw: UnsafeRawBufferPointer?

    init(json: JSONObject, bytes: [UInt8]) {
        self.json = json
        self.bytes = bytes
    }

    init(skim: SkimmedDelta, raw: UnsafeRawBufferPointer) {
        self.json = JSONObject()
        self.bytes = []
        self.skim = skim
        self.raw = raw
    }

    /// The chunk's bytes, whichever form holds them.
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let r = raw { return try body(r) }
        return try bytes.withUnsafeBytes(body)
    }

    /// A copy of the chunk's bytes (tests, fuzz targets).
    var ownedBytes: [UInt8] { raw.map { Array($0) } ?? bytes }
}

/// Turns a streamed body, piece by piece, into ChatCompletionChunks.
protocol StreamDecoder: AnyObject {
    func feed(_ bytes: UnsafeRawBufferPointer, emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError)
    /// The body ended normally: flush, and fail if the stream was cut short.
    func finish(emit: (DecodedChunk) throws(AnyLLMError) -> Void) throws(AnyLLMError)
    /// True once the protocol's end marker arrived (later bytes are ignored).
    var isComplete: Bool { get }
}

enum Protocols {
    static func implementation(_ kind: WireProtocolKind) -> any WireProtocol {
        switch kind {
        case .openAIChat: return OpenAIChat()
        case .anthropic: return AnthropicMessages()
        case .gemini: return Gemini(vertex: false)
        case .vertex: return Gemini(vertex: true)
        case .ollama: return OllamaChat()
        case .cohere: return CohereChat()
        case .bedrock: return BedrockConverse()
        }
    }
}
