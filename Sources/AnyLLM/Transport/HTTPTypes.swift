

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

    /// The first header of that name (case-insensitive; names are stored lower-cased).
    func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n || $0.name.lowercased() == n }?.value
    }
}

/// Why a transfer ended without a complete response.
enum TransferFailure: Error {
    case cancelled
    case timeout(kind: String, seconds: Double)
    /// `permanent`: the same request would fail the same way again (a certificate we do not trust, a
    /// proxy refusing our credentials), so it is not retried.
    case connection(String, permanent: Bool = false)
    /// The body sink refused the data (a decode error, or the caller cancelled from a callback).
    case sink(AnyLLMError)
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

