import Glibc

/// Proxy URLs may carry credentials (`http://user:password@proxy:3128`), in `client_args.proxy` or in
/// the environment variables libcurl reads by itself. They are registered with the error Redactor like
/// API keys: a proxy's error page, or any message that quotes a URL, must never hand them back.
enum ProxyCredentials {
    /// The variables libcurl consults (it ignores upper-case HTTP_PROXY on purpose, see
    /// docs/reliability-tls.md; redacting it too costs nothing).
    static let environment = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]

    /// The secret parts of the explicit proxy and of the environment's proxies: each URL's
    /// `user:password` and its password, raw and percent-decoded.
    static func secrets(explicit: String?) -> [String] {
        var urls = environmentURLs()
        if let p = explicit { urls.append(p) }
        var out: [String] = []
        for u in urls {
            guard let info = userinfo(u) else { continue }
            for s in [info, percentDecoded(info)] where !out.contains(s) { out.append(s) }
            if let colon = info.firstIndex(of: ":") {
                let pw = String(info[info.index(after: colon)...])
                for s in [pw, percentDecoded(pw)] where !s.isEmpty && !out.contains(s) { out.append(s) }
            }
        }
        return out
    }

    private static let environmentNames: [[UInt8]] = environment.map { Array($0.utf8) }

    /// The values of the `environment` variables that are set, read in one pass over the
    /// environment: six getenv calls walked all of it six times on every call.
    /// `env`: a NULL-terminated "NAME=value" list (tests pass their own); NULL after clearenv().
    static func environmentURLs(_ env: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ) -> [String] {
        var out: [String] = []
        guard var entry = env else { return out }
        while let e = entry.pointee {
            entry += 1
            // Every name starts with h, H, a or A: other entries cost one comparison.
            let c = UInt8(bitPattern: e[0]) | 0x20
            guard c == UInt8(ascii: "h") || c == UInt8(ascii: "a") else { continue }
            for name in environmentNames {
                var i = 0
                while i < name.count && UInt8(bitPattern: e[i]) == name[i] { i += 1 }
                if i == name.count && e[i] == 0x3D {  // "NAME=value"
                    out.append(String(cString: e + i + 1))
                    break
                }
            }
        }
        return out
    }

    /// "user:password" of "scheme://user:password@host:port/path" (no scheme is fine too).
    static func userinfo(_ url: String) -> String? {
        // No Foundation: find "://" by bytes.
        let b = Array(url.utf8)
        var start = 0
        if b.count >= 3 {
            for i in 0...(b.count - 3) where b[i] == 0x3A && b[i + 1] == 0x2F && b[i + 2] == 0x2F {
                start = i + 3
                break
            }
        }
        var end = start
        while end < b.count && b[end] != UInt8(ascii: "/") && b[end] != UInt8(ascii: "?") && b[end] != UInt8(ascii: "#") {
            end += 1
        }
        guard let at = b[start..<end].lastIndex(of: UInt8(ascii: "@")), at > start else { return nil }
        return String(decoding: b[start..<at], as: UTF8.self)
    }

    static func percentDecoded(_ s: String) -> String {
        let b = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The messages of proxy failures, shared by the transport (CONNECT refused) and the attempt (a 407
/// answer to a forwarded plain-http request).
enum ProxyText {
    static let authenticationRequired =
        "the proxy requires authentication (HTTP 407 Proxy Authentication Required): check the user and "
        + "password in the proxy URL (client_args.proxy, or the https_proxy / http_proxy environment variables)"

    static func tunnelRefused(_ code: Int) -> String {
        code == 407 ? authenticationRequired
                    : "the proxy refused to open a tunnel to the server (CONNECT answered HTTP \(code))"
    }
}
