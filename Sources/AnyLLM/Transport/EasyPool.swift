import CCurl
import CCurlShim
import Glibc

/// The options of a transfer that do not change from one call of a client to the next (timeouts,
/// TLS, proxy). A pooled handle remembers the settings its options were last set to, so that the
/// next transfer with the same settings sets only what is its own (URL, headers, body, callback
/// data). A transfer with other settings resets the handle first: nothing set for one call can
/// leak into a call that did not ask for it.
struct EasySettings: Equatable {
    var connectTimeoutMs: Int
    var timeoutMs: Int
    /// nil: libcurl reads the proxy variables of the environment itself; "": no proxy at all.
    var proxy: String?
    var caBundle: String?
    var verifyTLS: Bool

    init(_ o: ClientOptions) {
        connectTimeoutMs = Int(o.connectTimeout * 1000)
        timeoutMs = Int(o.timeout * 1000)
        proxy = o.proxy
        caBundle = o.caBundle
        verifyTLS = o.verifyTLS
    }
}

/// A curl easy handle kept between transfers, with what its options currently point to.
final class PooledEasy {
    let easy: UnsafeMutableRawPointer
    /// curl's own words for a failure (CURLOPT_ERRORBUFFER), cleared before each transfer.
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// What the constant options are set to (nil: a new or reset handle, nothing set).
    var settings: EasySettings?
    /// The request headers CURLOPT_HTTPHEADER points to (`slist`), compared with the next call's:
    /// the same key and headers call after call need no new list.
    var headers: [(String, String)]?
    var slist: UnsafeMutablePointer<curl_slist>?
    /// The request body CURLOPT_POSTFIELDS points to, reused while it is small (no copy kept by curl).
    var body: UnsafeMutableRawPointer?
    var bodyCapacity = 0

    /// A body larger than this is not kept in an idle handle.
    static let maxKeptBody = 64 << 10

    init?() {
        guard let e = curl_easy_init() else { return nil }
        easy = e
        errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(easy)  // before the list, the body and the buffer it points to
        curl_slist_free_all(slist)
        body?.deallocate()
        errorBuffer.deallocate()
    }

    /// Returns every option to its default (other settings, or a handle coming back from a failure).
    func reset() {
        curl_easy_reset(easy)
        settings = nil
        headers = nil
    }

    /// Copies `bytes` into the handle's body buffer (grown when too small) and returns it.
    func bodyBuffer(_ bytes: [UInt8]) -> UnsafeRawPointer {
        let n = max(bytes.count, 1)
        if n > bodyCapacity {
            body?.deallocate()
            body = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 1)
            bodyCapacity = n
        }
        bytes.withUnsafeBytes { b in if let p = b.baseAddress { body!.copyMemory(from: p, byteCount: b.count) } }
        return UnsafeRawPointer(body!)
    }

    /// Drops a large body before the handle goes idle.
    func trimBody() {
        if bodyCapacity > Self.maxKeptBody {
            // CURLOPT_POSTFIELDS still points to it: the next transfer sets it again before it runs.
            body?.deallocate()
            body = nil
            bodyCapacity = 0
        }
    }
}

/// Idle curl easy handles, kept for the next transfer instead of freed: a new handle is a large
/// zeroed allocation plus the initialisation of every option, and even a reset handle needs every
/// option set again. A handle holds no connection (those live in the engines' multi handles).
/// The pool is a stack, so a thread making one call after another gets back the handle of its
/// previous call, whose options are already those of its client. Process-wide and
/// lock-protected: engines on any thread share it.
enum EasyPool {
    private static let monitor = Monitor()
    nonisolated(unsafe) private static var idle: [PooledEasy] = []
    /// More idle handles than this are freed (enough for a burst of concurrent calls).
    static let maxIdle = 64

    static func take() -> PooledEasy? {
        if let e = monitor.locked({ idle.popLast() }) { return e }
        return PooledEasy()
    }

    /// Takes back a handle that is no longer in any multi handle.
    static func put(_ h: PooledEasy) {
        h.trimBody()
        monitor.locked {
            if idle.count < maxIdle { idle.append(h) }
        }  // otherwise released here: its deinit frees the handle
    }
}
