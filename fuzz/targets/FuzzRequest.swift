// CompletionRequest.parse (Core/CompletionRequest.swift, over JSONReader) and what follows it in a
// call before anything is sent: client_args merged into the options, and the provider's encoder.
// A bad request is a typed invalid_request/unsupported_* error; a good one encodes to a JSON body,
// a URL and headers without CR/LF/NUL, and never with the key in the body. The text path (RequestScan:
// messages kept as the caller's text) must agree with reading the whole request as values first:
// same errors, word for word, and bodies that read the same.
import CAnyLLMTypes

private let requestStatuses: Set<UInt32> = Set(([ANYLLM_E_INVALID_REQUEST, ANYLLM_E_UNSUPPORTED_PROVIDER,
                                                ANYLLM_E_UNSUPPORTED_PARAMETER] as [anyllm_status]).map { UInt32($0.rawValue) })

func fuzzRequest(_ buf: UnsafeRawBufferPointer) {
    let req: CompletionRequest
    let byValues: CompletionRequest?
    do {
        let root = try JSONReader.parse(buf)
        byValues = try? CompletionRequest.parse(root)
    } catch {
        byValues = nil
    }
    do { req = try CompletionRequest.parse(buf) } catch {
        checkError(error, allowed: requestStatuses, "request")
        require(byValues == nil, "request: refused by the text path (\(error.message)) but not when read as values")
        if let root = try? JSONReader.parse(buf) {
            do { _ = try CompletionRequest.parse(root) } catch let e {
                require(e.message == error.message && e.param == error.param,
                        "request: text path says \(error.message), values say \(e.message)")
            }
        }
        return
    }
    guard let other = byValues else { return require(false, "request: accepted by the text path only") }
    require(req.messages == other.messages && req.params == other.params && req.extras == other.extras,
            "request: the text path read other messages or parameters")
    do { _ = try ClientOptions().merged(with: req.clientArgs, field: "client_args") } catch {
        checkError(error, allowed: requestStatuses, "request client_args")
    }
    // Even lengths: an API key; odd: AWS credentials (Bedrock signs with SigV4; the others send no key).
    let endpoint = buf.count % 2 == 0 ? Endpoint(base: "http://127.0.0.1:9/v1", apiKey: fuzzSecret)
        : Endpoint(base: "http://127.0.0.1:9", apiKey: nil,
                   aws: AWSCredentials(accessKeyID: "AKIAFUZZ", secretAccessKey: fuzzSecret, sessionToken: "tok"),
                   region: "eu-west-1")
    let http: HTTPRequest
    do { http = try Protocols.implementation(req.provider.wire).encode(req, endpoint: endpoint) } catch {
        checkError(error, allowed: requestStatuses, "request encode (\(req.provider.name))")
        return
    }
    require(isValidJSON(http.body), "request: \(req.provider.name) encoded a body that is not JSON")
    if let o = try? Protocols.implementation(other.provider.wire).encode(other, endpoint: endpoint) {
        require((try? JSONReader.parse(http.body)) == (try? JSONReader.parse(o.body)),
                "request: the text path's body differs from the one read as values")
    }
    require(!http.url.utf8.contains { $0 <= 0x20 || $0 == 0x7F }, "request: URL with a control character or space: \(http.url)")
    for (k, v) in http.headers {
        require(ClientOptions.isHeaderSafe(k) && ClientOptions.isHeaderSafe(v), "request: header \(k) has CR/LF/NUL")
    }
    // The key travels in a header (or Gemini's query), never in the body, unless the user wrote it there;
    // an AWS secret key never travels at all (SigV4 sends a signature made with it).
    if !contains(Array(buf), Array(fuzzSecret.utf8)) {
        require(!contains(http.body, Array(fuzzSecret.utf8)), "request: the key is in the body")
        if endpoint.aws != nil {
            for (k, v) in http.headers { require(!v.contains(fuzzSecret), "request: the AWS secret key is in header \(k)") }
            require(!http.url.contains(fuzzSecret), "request: the AWS secret key is in the URL")
        }
    }
}
