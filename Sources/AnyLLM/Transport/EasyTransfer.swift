import CCurl
import CCurlShim
import Glibc

private let curlGlobal: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

/// Who a transfer reports to, on the engine's thread: the body as it arrives, then the end, once.
/// A protocol rather than two closures: the closures' contexts were two allocations per call.
protocol TransferReceiver: AnyObject {
    /// A piece of the body; an error aborts the transfer (it ends with `.sink(error)`).
    func received(_ head: HTTPResponseHead, _ bytes: UnsafeRawBufferPointer) -> AnyLLMError?
    func ended(_ result: Result<HTTPResponseHead, TransferFailure>)
}

/// One HTTP POST as a configured curl easy handle, with the state its C callbacks reach through
/// an unmanaged pointer. Driven by the engine's multi handle; knows nothing about LLMs.
final class EasyTransfer {

    let easy: UnsafeMutableRawPointer
    /// Whose transfer this is: cancelling an owner cancels its transfer and its pending timers.
    let owner: UInt64
    let options: ClientOptions
    var head = HTTPResponseHead()
    var lastActivity = monotonicNow()
    var sinkError: AnyLLMError?
    /// Held strongly: the receiver lives at least as long as its transfer is active.
    private let receiver: any TransferReceiver
    private let handle: PooledEasy
    private var completed = false
    /// curl's own words for a failure (CURLOPT_ERRORBUFFER), more precise than curl_easy_strerror:
    /// "SSL certificate problem: self-signed certificate" rather than "SSL peer certificate or SSH
    /// remote key was not OK".
    private var errorBuffer: UnsafeMutablePointer<CChar> { handle.errorBuffer }

    /// Sent with every request unless the caller's headers name their own.
    static let userAgent = "User-Agent: libanyllm/\(anyllmVersion)"

    init?(_ req: HTTPRequest, options: ClientOptions, owner: UInt64, receiver: any TransferReceiver) {
        _ = curlGlobal
        guard let h = EasyPool.take() else { return nil }
        handle = h
        easy = h.easy
        self.owner = owner
        self.options = options
        self.receiver = receiver
        configure(req)
    }

    deinit {
        EasyPool.put(handle)
    }

    /// Sets the handle's options for this request. The constant ones are set only when the handle
    /// was last used with other settings (or never): then it is reset first, so an option set for
    /// an earlier call (a proxy, a CA bundle, verify_tls=false, its timeouts) never carries over.
    private func configure(_ req: HTTPRequest) {
        let settings = EasySettings(options)
        if handle.settings != settings {
            if handle.settings != nil { handle.reset() }
            _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
            _ = ccurl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)
            _ = ccurl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
            // Compressed answers are decoded (gzip: every server that compresses offers it). The
            // option makes curl decode; the header itself is in the list below.
            _ = ccurl_setopt_ptr(easy, CURLOPT_ACCEPT_ENCODING, "gzip")
            _ = ccurl_setopt_long(easy, CURLOPT_POST, 1)
            _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeoutMs)
            _ = ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, settings.timeoutMs)
            // No proxy option: libcurl reads https_proxy / HTTPS_PROXY / http_proxy / all_proxy and no_proxy
            // itself. "" turns proxies off, the environment's included (curl's meaning of an empty proxy).
            if let p = settings.proxy { _ = ccurl_setopt_ptr(easy, CURLOPT_PROXY, p) }
            if let ca = settings.caBundle { _ = ccurl_setopt_ptr(easy, CURLOPT_CAINFO, ca) }
            if !settings.verifyTLS {  // loud in the docs: anyone on the path can read and change the traffic
                _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
                _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
            }
            _ = ccurl_setopt_data_fn(easy, CURLOPT_HEADERFUNCTION, easyHeaderCallback)
            _ = ccurl_setopt_data_fn(easy, CURLOPT_WRITEFUNCTION, easyWriteCallback)
            handle.settings = settings
        }
        if handle.headers == nil || !Self.same(handle.headers!, req.headers) {
            curl_slist_free_all(handle.slist)
            var slist: UnsafeMutablePointer<curl_slist>?
            var ownAgent = false, ownEncoding = false
            for (k, v) in req.headers {
                slist = curl_slist_append(slist, k + ": " + v)
                let n = k.utf8.count
                if n == 10 && k.lowercased() == "user-agent" { ownAgent = true }
                if n == 15 && k.lowercased() == "accept-encoding" { ownEncoding = true }
            }
            // Headers rather than CURLOPT_USERAGENT and CURLOPT_ACCEPT_ENCODING's own header: libcurl
            // formats those into headers again on every request (curl_maprintf, ~200 instructions a
            // byte); a list entry is written once per list. A caller's own header wins, as before.
            if !ownAgent { slist = curl_slist_append(slist, Self.userAgent) }
            if !ownEncoding { slist = curl_slist_append(slist, "Accept-Encoding: gzip") }
            slist = curl_slist_append(slist, "Expect:")  // no 100-continue round trip for large bodies
            handle.slist = slist
            handle.headers = req.headers
            _ = ccurl_setopt_ptr(easy, CURLOPT_HTTPHEADER, slist)
        }
        let me = Unmanaged.passUnretained(self).toOpaque()  // the engine keeps self alive while active
        errorBuffer[0] = 0
        _ = ccurl_setopt_ptr(easy, CURLOPT_URL, req.url)
        // The body stays in the handle until the transfer ends: curl reads it from there, no copy of its own.
        _ = ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.count))
        _ = ccurl_setopt_ptr(easy, CURLOPT_POSTFIELDS, handle.bodyBuffer(req.body))
        _ = ccurl_setopt_ptr(easy, CURLOPT_HEADERDATA, me)
        _ = ccurl_setopt_ptr(easy, CURLOPT_WRITEDATA, me)
    }

    /// Equal header lists, in order (the tuples are not Equatable).
    private static func same(_ a: [(String, String)], _ b: [(String, String)]) -> Bool {
        guard a.count == b.count else { return false }
        for i in a.indices where a[i].0 != b[i].0 || a[i].1 != b[i].1 { return false }
        return true
    }

    /// Ends the transfer exactly once (the engine may race a cancel with curl's own completion).
    func complete(_ r: Result<HTTPResponseHead, TransferFailure>) {
        guard !completed else { return }
        completed = true
        receiver.ended(r)
    }

    /// The response headers the library reads; others are skipped without making strings
    /// (header parsing was 19 % of a non-streamed call's instructions when every line was kept).
    /// Their names as kept (lowercase), and as bytes for the comparison.
    static let keptHeaderNames = ["content-type", "retry-after", "retry-after-ms", "x-request-id", "request-id",
                                  "x-amzn-errortype", "x-amzn-requestid"]
    static let keptHeaders: [[UInt8]] = keptHeaderNames.map { Array($0.utf8) }

    fileprivate func header(_ line: UnsafeRawBufferPointer) {
        lastActivity = monotonicNow()
        let n = line.count
        if n >= 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
           line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/") {
            // A new response begins (after 100 Continue or a proxy's CONNECT answer): start over.
            head.headers.removeAll()
            var i = 5
            while i < n && line[i] != 0x20 { i += 1 }
            var code = 0
            i += 1
            // At most 3 digits: a longer "status" from a hostile server must not overflow.
            var digits = 0
            while i < n, digits < 3, line[i] >= 0x30, line[i] <= 0x39 {
                code = code * 10 + Int(line[i] - 0x30)
                i += 1
                digits += 1
            }
            head.status = code
            return
        }
        var colon = 0
        while colon < n && line[colon] != UInt8(ascii: ":") { colon += 1 }
        guard colon < n else { return }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        guard let kept = Self.keptHeaders.firstIndex(where: { k in
            k.count == name.count && zip(k, name).allSatisfy { $0 == ($1 | 0x20) }
        }) else { return }
        var vs = colon + 1, ve = n
        while vs < ve && (line[vs] == 0x20 || line[vs] == 0x09) { vs += 1 }
        while ve > vs && (line[ve - 1] == 0x20 || line[ve - 1] == 0x09 || line[ve - 1] == 0x0D || line[ve - 1] == 0x0A) { ve -= 1 }
        head.headers.append((Self.keptHeaderNames[kept],
                             String(decoding: UnsafeRawBufferPointer(rebasing: line[vs..<ve]), as: UTF8.self)))
    }

    fileprivate func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        lastActivity = monotonicNow()
        if let err = receiver.received(head, bytes) {
            sinkError = err
            return false
        }
        return true
    }

    /// Maps curl's result code to our failure kinds, with curl's own detail when it gave one.
    func failure(_ code: CURLcode) -> TransferFailure {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        // A proxy that answered CONNECT with an error (curl 7.x reports CURLE_RECV_ERROR, 8.x CURLE_PROXY).
        var connectCode = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_HTTP_CONNECTCODE, &connectCode)
        if connectCode >= 300 { return .connection(ProxyText.tunnelRefused(connectCode), permanent: connectCode == 407) }
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            // Still connecting (TCP, TLS or a proxy's tunnel) if the request never started going out.
            // Not CURLINFO_CONNECT_TIME: it is 0 on a reused connection too, where a total timeout
            // was reported as a connect timeout.
            var pretransfer = 0.0
            _ = ccurl_getinfo_double(easy, CURLINFO_PRETRANSFER_TIME, &pretransfer)
            return pretransfer == 0 ? .timeout(kind: "connect", seconds: options.connectTimeout)
                                    : .timeout(kind: "total", seconds: options.timeout)
        case CURLE_COULDNT_CONNECT: return .connection("connection refused or unreachable (\(detail))")
        case CURLE_COULDNT_RESOLVE_HOST: return .connection("could not resolve host (\(detail))")
        case CURLE_COULDNT_RESOLVE_PROXY: return .connection("could not resolve the proxy's host (\(detail))")
        // The certificate chain or the host name did not check out: the same on every retry.
        case CURLE_PEER_FAILED_VERIFICATION:
            return .connection("TLS: the server's certificate could not be verified (\(detail)); if the server uses a "
                               + "private CA, pass its PEM file as client_args.ca_bundle", permanent: true)
        case CURLE_SSL_CACERT_BADFILE:
            return .connection("TLS: could not read the CA bundle \(options.caBundle.map { "\"\($0)\"" } ?? "")"
                               + " (\(detail))", permanent: true)
        case CURLE_SSL_CONNECT_ERROR: return .connection("TLS handshake failed (\(detail))")
        case CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR:
            return .connection("TLS failure (\(detail))")
        case CURLE_GOT_NOTHING: return .connection("the server closed the connection without answering")
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            return .connection("the connection was closed or reset before the response was complete (\(detail))")
        default: return .connection(detail)
        }
    }
}

private let easyHeaderCallback: ccurl_data_fn = { ptr, size, nmemb, ud in
    let n = size * nmemb
    guard let ptr, let ud else { return n }
    let t = Unmanaged<EasyTransfer>.fromOpaque(ud).takeUnretainedValue()
    t.header(UnsafeRawBufferPointer(start: ptr, count: n))
    return n
}

private let easyWriteCallback: ccurl_data_fn = { ptr, size, nmemb, ud in
    let n = size * nmemb
    guard let ud else { return 0 }
    let t = Unmanaged<EasyTransfer>.fromOpaque(ud).takeUnretainedValue()
    return t.write(UnsafeRawBufferPointer(start: ptr, count: n)) ? n : 0  // != n aborts the transfer
}
