import CAnyLLMTypes

/// Transport settings shared by a client's `options_json` (defaults for its calls) and a call's
/// `client_args` (overrides for that call): design.md's one set of keys.
struct ClientOptions: Sendable {
    /// Total seconds for one attempt, headers and body (streams included). OpenAI's SDK default.
    var timeout: Double = 600
    var connectTimeout: Double = 10
    /// Longest silence between received bytes, streams included.
    var readTimeout: Double = 120
    var maxRetries: Int = 2
    var headers: [(String, String)] = []
    var proxy: String?
    var caBundle: String?
    var verifyTLS: Bool = true
    /// Connections to one host at most (0: no limit); further calls queue for a free connection.
    var maxConnectionsPerHost: Int = 0

    init() {}

    static let keys = ["timeout", "connect_timeout", "read_timeout", "max_retries", "headers", "proxy",
                       "ca_bundle", "verify_tls", "max_connections_per_host"]

    /// Applies the keys of `obj` on top of `self`. `field` names the JSON location in errors.
    func merged(with obj: JSON?, field: String) throws(AnyLLMError) -> ClientOptions {
        guard let obj, !obj.isNull else { return self }
        guard let o = obj.object else { throw .invalid(field, "expected an object, got \(obj.typeName)") }
        var r = self
        for (k, v) in o.members {
            let name = "\(field).\(k)"
            switch k {
            case "timeout": r.timeout = try Self.seconds(v, name)
            case "connect_timeout": r.connectTimeout = try Self.seconds(v, name)
            case "read_timeout": r.readTimeout = try Self.seconds(v, name)
            case "max_retries":
                guard let n = v.int, n >= 0, n <= 100 else { throw .invalid(name, "expected an integer from 0 to 100") }
                r.maxRetries = n
            case "headers":
                guard let h = v.object else { throw .invalid(name, "expected an object of header names to strings") }
                for (hk, hv) in h.members {
                    guard let s = hv.string else { throw .invalid("\(name).\(hk)", "header values must be strings") }
                    guard Self.isHeaderSafe(hk), !hk.isEmpty, Self.isHeaderSafe(s) else {
                        throw .invalid("\(name).\(hk)", "header names and values may not contain CR, LF or NUL")
                    }
                    r.headers.removeAll { $0.0.lowercased() == hk.lowercased() }
                    r.headers.append((hk, s))
                }
            case "proxy":
                guard let s = v.string else { throw .invalid(name, "expected a string URL") }
                r.proxy = s
            case "ca_bundle":
                guard let s = v.string else { throw .invalid(name, "expected a file path") }
                r.caBundle = s
            case "verify_tls":
                guard let b = v.bool else { throw .invalid(name, "expected true or false") }
                r.verifyTLS = b
            case "max_connections_per_host":
                guard let n = v.int, n >= 0, n <= 100_000 else { throw .invalid(name, "expected an integer from 0 (no limit) up") }
                r.maxConnectionsPerHost = n
            default:
                throw .invalid(name, "unknown option; known: \(Self.keys.joined(separator: ", "))")
            }
        }
        return r
    }

    static func seconds(_ v: JSON, _ name: String) throws(AnyLLMError) -> Double {
        guard let d = v.double, d > 0, d <= 86_400 else {
            throw .invalid(name, "expected a number of seconds greater than 0 (at most 86400)")
        }
        return d
    }

    static func isHeaderSafe(_ s: String) -> Bool {
        !s.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }
}
