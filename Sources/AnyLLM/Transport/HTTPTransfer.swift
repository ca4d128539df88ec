import CCurl
import CCurlShim
import Glibc

struct HTTPRequest: Sendable {
    var url: String
    var headers: [(String, String)]
    var body: [UInt8]
}

/// Status line and headers of a response, as received.
struct HTTPResponseHead: Sendable {
    var status: Int = 0
    var headers: [(name: String, value: String)] = []

    /// The first header of that name (case-insensitive).
    func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name.lowercased() == n }?.value
    }
}

/// Why a transfer ended without a complete response.
enum TransferFailure: Error {
    case cancelled
    case timeout(kind: String, seconds: Double)
    case connection(String)
    /// The body sink refused the data (a decode error, or the caller cancelled from a callback).
    case sink(AnyLLMError)
}

private let curlGlobal: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

/// Per-transfer state reached from curl's C callbacks through an unmanaged pointer.
private final class TransferState {
    var head = HTTPResponseHead()
    var lastActivity = monotonicNow()
    var sink: (HTTPResponseHead, UnsafeRawBufferPointer) -> AnyLLMError?
    var sinkError: AnyLLMError?
    let token: CancelToken

    init(token: CancelToken, sink: @escaping (HTTPResponseHead, UnsafeRawBufferPointer) -> AnyLLMError?) {
        self.token = token
        self.sink = sink
    }
}

private let headerCallback: ccurl_data_fn = { ptr, size, nmemb, ud in
    let n = size * nmemb
    guard let ptr, let ud else { return n }
    let st = Unmanaged<TransferState>.fromOpaque(ud).takeUnretainedValue()
    st.lastActivity = monotonicNow()
    let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        // A new response begins (after 100 Continue or a proxy's CONNECT answer): start over.
        st.head.headers.removeAll()
        let parts = line.split(separator: " ", maxSplits: 2)
        if parts.count >= 2, let code = Int(parts[1]) { st.head.status = code }
        return n
    }
    if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon])
        let value = String(line[line.index(after: colon)...]).trimmingSpaces()
        st.head.headers.append((name, value))
    }
    return n
}

private let writeCallback: ccurl_data_fn = { ptr, size, nmemb, ud in
    let n = size * nmemb
    guard let ud else { return 0 }
    let st = Unmanaged<TransferState>.fromOpaque(ud).takeUnretainedValue()
    st.lastActivity = monotonicNow()
    if st.token.isCancelled { return 0 }  // any value != n aborts the transfer
    if let err = st.sink(st.head, UnsafeRawBufferPointer(start: ptr, count: n)) {
        st.sinkError = err
        return 0
    }
    return n
}

extension String {
    /// Without leading and trailing spaces, tabs, CR and LF. Works on bytes: "\r\n" is one
    /// Character in Swift, so a Character-based trim would miss it.
    func trimmingSpaces() -> String {
        let u = Array(utf8)
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
        var s = 0, e = u.count
        while s < e && isSpace(u[s]) { s += 1 }
        while e > s && isSpace(u[e - 1]) { e -= 1 }
        return s == 0 && e == u.count ? self : String(decoding: u[s..<e], as: UTF8.self)
    }
}

enum HTTPTransfer {
    /// Performs one HTTP POST on the calling thread. Body bytes go to `sink` as they arrive
    /// (return an error to abort). Returns the response head once the body is complete.
    static func perform(_ req: HTTPRequest, options: ClientOptions, token: CancelToken,
                        sink: @escaping (HTTPResponseHead, UnsafeRawBufferPointer) -> AnyLLMError?)
        -> Result<HTTPResponseHead, TransferFailure>
    {
        _ = curlGlobal
        if token.isCancelled { return .failure(.cancelled) }
        guard let easy = curl_easy_init() else { return .failure(.connection("could not create a curl handle")) }
        let st = TransferState(token: token, sink: sink)
        let stPtr = Unmanaged.passRetained(st).toOpaque()
        var slist: UnsafeMutablePointer<curl_slist>?
        defer {
            curl_slist_free_all(slist)
            Unmanaged<TransferState>.fromOpaque(stPtr).release()
        }

        for (k, v) in req.headers { slist = curl_slist_append(slist, "\(k): \(v)") }
        // No "Expect: 100-continue" round trip for large bodies.
        slist = curl_slist_append(slist, "Expect:")

        _ = ccurl_setopt_ptr(easy, CURLOPT_URL, req.url)
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        _ = ccurl_setopt_ptr(easy, CURLOPT_USERAGENT, "libanyllm/\(anyllmVersion)")
        _ = ccurl_setopt_ptr(easy, CURLOPT_ACCEPT_ENCODING, "")  // whatever curl can decode
        _ = ccurl_setopt_ptr(easy, CURLOPT_HTTPHEADER, slist)
        _ = ccurl_setopt_long(easy, CURLOPT_POST, 1)
        _ = ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.count))
        req.body.withUnsafeBytes { b in _ = ccurl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, b.baseAddress ?? UnsafeRawPointer(bitPattern: 1)) }
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        _ = ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(options.timeout * 1000))
        if let p = options.proxy { _ = ccurl_setopt_ptr(easy, CURLOPT_PROXY, p) }
        if let ca = options.caBundle { _ = ccurl_setopt_ptr(easy, CURLOPT_CAINFO, ca) }
        if !options.verifyTLS {
            _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
        }
        _ = ccurl_setopt_data_fn(easy, CURLOPT_HEADERFUNCTION, headerCallback)
        _ = ccurl_setopt_ptr(easy, CURLOPT_HEADERDATA, stPtr)
        _ = ccurl_setopt_data_fn(easy, CURLOPT_WRITEFUNCTION, writeCallback)
        _ = ccurl_setopt_ptr(easy, CURLOPT_WRITEDATA, stPtr)

        guard let multi = curl_multi_init() else {
            curl_easy_cleanup(easy)
            return .failure(.connection("could not create a curl multi handle"))
        }
        curl_multi_add_handle(multi, easy)
        token.attach(multi)
        defer {
            token.attach(nil)
            curl_multi_remove_handle(multi, easy)
            curl_multi_cleanup(multi)
            curl_easy_cleanup(easy)
        }

        var running: Int32 = 1
        var readTimedOut = false
        st.lastActivity = monotonicNow()
        while true {
            curl_multi_perform(multi, &running)
            if running == 0 { break }
            if token.isCancelled { return .failure(.cancelled) }
            let silent = monotonicNow() - st.lastActivity
            if silent >= options.readTimeout { readTimedOut = true; break }
            let waitMs = Int32(max(1, min(1000, (options.readTimeout - silent) * 1000)))
            curl_multi_poll(multi, nil, 0, waitMs, nil)
        }
        if readTimedOut {
            return .failure(.timeout(kind: "read", seconds: options.readTimeout))
        }

        var code = CURLE_OK
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            if msg.pointee.msg == CURLMSG_DONE { code = msg.pointee.data.result }
        }
        if token.isCancelled { return .failure(.cancelled) }
        if let e = st.sinkError { return .failure(.sink(e)) }
        if code == CURLE_OK { return .success(st.head) }
        return .failure(classify(code, easy: easy, options: options))
    }

    private static func classify(_ code: CURLcode, easy: UnsafeMutableRawPointer?, options: ClientOptions) -> TransferFailure {
        let text = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            var connectTime = 0.0
            _ = ccurl_getinfo_double(easy, CURLINFO_CONNECT_TIME, &connectTime)
            return connectTime == 0 ? .timeout(kind: "connect", seconds: options.connectTimeout)
                                    : .timeout(kind: "total", seconds: options.timeout)
        case CURLE_COULDNT_CONNECT: return .connection("connection refused or unreachable (\(text))")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .connection("could not resolve host (\(text))")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return .connection("TLS failure (\(text))")
        case CURLE_GOT_NOTHING: return .connection("the server closed the connection without answering")
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            return .connection("the connection was closed or reset before the response was complete (\(text))")
        default: return .connection(text)
        }
    }
}
