// AWS Signature Version 4 for one HTTP request (header form), as documented in the IAM user guide
// "Create a signed AWS API request". Pure: the caller passes the time, so tests sign with the
// fixed dates of AWS's published test suite.

/// Long-term or temporary AWS credentials. The secret and the session token are secrets: they are
/// registered with the error Redactor (Endpoint.secrets) and never put into a message.
struct AWSCredentials: Sendable {
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?
}

enum SigV4 {
    struct Signed {
        var canonicalRequest: String
        var stringToSign: String
        var signature: String
        /// The headers to add to the request: x-amz-date, x-amz-security-token (when there is a
        /// session token) and Authorization.
        var headers: [(String, String)]
    }

    /// Signs `method path?query` with `headers` (which must include `host`; every header given is
    /// signed) and `body`. `path` is the path as sent on the wire; non-S3 services canonicalise it
    /// by URI-encoding each segment once more (so `%3A` on the wire is `%253A` in the canonical URI).
    static func sign(method: String, path: String, query: String = "", headers: [(String, String)], body: [UInt8],
                     credentials c: AWSCredentials, region: String, service: String, unixTime: Int) -> Signed {
        let amzDate = Self.amzDate(unixTime)
        let day = String(amzDate.prefix(8))
        var all = headers.map { (name: $0.0.lowercased(), value: canonicalValue($0.1)) }
        all.append(("x-amz-date", amzDate))
        if let t = c.sessionToken { all.append(("x-amz-security-token", t)) }
        // Stable sort by name; repeated names are joined with commas in their given order.
        var names: [String] = []
        var values: [String: [String]] = [:]
        for h in all {
            if values[h.name] == nil { names.append(h.name) }
            values[h.name, default: []].append(h.value)
        }
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonicalHeaders = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let payloadHash = SHA256.hex(SHA256.hash(body))
        let canonicalRequest = [method, canonicalURI(path), canonicalQuery(query), canonicalHeaders, signedHeaders,
                                payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, SHA256.hex(SHA256.hash(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = SHA256.hmac(key: Array("AWS4\(c.secretAccessKey)".utf8), Array(day.utf8))
        for part in [region, service, "aws4_request"] { key = SHA256.hmac(key: key, Array(part.utf8)) }
        let signature = SHA256.hex(SHA256.hmac(key: key, Array(stringToSign.utf8)))
        var out: [(String, String)] = [("X-Amz-Date", amzDate)]
        if let t = c.sessionToken { out.append(("X-Amz-Security-Token", t)) }
        out.append(("Authorization",
                    "AWS4-HMAC-SHA256 Credential=\(c.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return Signed(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, headers: out)
    }

    /// Each segment of the wire path URI-encoded again (AWS's rule for every service but S3).
    static func canonicalURI(_ path: String) -> String {
        if path.isEmpty { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }
            .joined(separator: "/")
    }

    /// `a=1&b=2` sorted by name, then value (the names and values are taken as already encoded).
    static func canonicalQuery(_ q: String) -> String {
        guard !q.isEmpty else { return "" }
        let pairs = q.split(separator: "&").map { p -> (String, String) in
            let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
        return pairs.sorted { a, b in
            a.0 != b.0 ? Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
                       : Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
        }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// AWS's URI encoding: unreserved characters as they are, every other byte as %XX (upper case).
    static func uriEncode(_ s: String) -> String { percentEncodePath(s) }

    /// Header value: trimmed, runs of spaces collapsed to one.
    static func canonicalValue(_ v: String) -> String {
        var out: [UInt8] = []
        var space = false
        for b in v.trimmingSpaces().utf8 {
            if b == 0x20 || b == 0x09 {
                space = true
                continue
            }
            if space && !out.isEmpty { out.append(0x20) }
            space = false
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Unix seconds → `YYYYMMDD'T'HHMMSS'Z'` (UTC).
    static func amzDate(_ t: Int) -> String {
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = t - days * 86400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)\(two(m))\(two(d))T\(two(secs / 3600))\(two(secs % 3600 / 60))\(two(secs % 60))Z"
    }
}
