import CAnyLLMTypes
import Glibc

/// HTTP status + error body → typed error, shared by every protocol (each may refine it first).
enum ErrorMapping {
    /// How much of a non-JSON error body is kept (an HTML error page can be large).
    static let maxTextBody = 2048

    static func map(status: Int, head: HTTPResponseHead, body: [UInt8], provider: String) -> AnyLLMError {
        let parsed = try? JSONReader.parse(body)
        let message = parsed.flatMap(extractMessage) ?? textSummary(status: status, body: body)
        let code = parsed.flatMap { $0["error"]?["code"]?.string ?? $0["code"]?.string } ?? ""
        let type = parsed.flatMap { $0["error"]?["type"]?.string ?? $0["type"]?.string } ?? ""
        let param = parsed.flatMap { $0["error"]?["param"]?.string ?? validationParam($0) }
        let lower = (message + " " + code + " " + type).lowercased()

        var st: anyllm_status
        switch status {
        case 401: st = ANYLLM_E_AUTHENTICATION
        case 403: st = ANYLLM_E_PERMISSION
        case 404: st = ANYLLM_E_NOT_FOUND
        case 402: st = ANYLLM_E_INSUFFICIENT_FUNDS
        case 408: st = ANYLLM_E_TIMEOUT
        case 429: st = isQuota(lower) ? ANYLLM_E_INSUFFICIENT_FUNDS : ANYLLM_E_RATE_LIMIT
        case 400..<500:
            if isContextLength(lower) { st = ANYLLM_E_CONTEXT_LENGTH }
            else if isContentFilter(lower) { st = ANYLLM_E_CONTENT_FILTER }
            else if isQuota(lower) { st = ANYLLM_E_INSUFFICIENT_FUNDS }
            else if type == "invalid_model" { st = ANYLLM_E_NOT_FOUND }  // Mistral: 400 "Invalid model: x"
            else { st = ANYLLM_E_INVALID_REQUEST }
        default: st = ANYLLM_E_PROVIDER
        }
        var e = AnyLLMError(st, message, httpStatus: status, provider: provider, param: param)
        e.retryAfter = retryAfter(head)
        if let p = parsed { e.providerError = p } else if !body.isEmpty { e.providerError = .string(truncatedText(body)) }
        return e
    }

    /// An error object inside a 200 body or a stream event.
    static func fromErrorObject(_ err: JSON, provider: String) -> AnyLLMError {
        let message = extractMessage(err) ?? "the provider reported an error"
        let code = err["error"]?["code"].flatMap { $0.string ?? ($0.int.map(String.init)) } ?? ""
        let type = err["error"]?["type"]?.string ?? ""
        let lower = (message + " " + code + " " + type).lowercased()
        var st = ANYLLM_E_PROVIDER
        if isContextLength(lower) { st = ANYLLM_E_CONTEXT_LENGTH }
        else if isContentFilter(lower) { st = ANYLLM_E_CONTENT_FILTER }
        else if lower.contains("rate_limit") || lower.contains("rate limit") { st = ANYLLM_E_RATE_LIMIT }
        else if isQuota(lower) { st = ANYLLM_E_INSUFFICIENT_FUNDS }
        var e = AnyLLMError(st, message, provider: provider)
        e.providerError = err
        return e
    }

    /// Parses what a provider sent (a body or a stream event); anything unreadable is a provider
    /// error that carries the bytes. `what` names it in the message ("answer", "stream event").
    static func parseProviderJSON(_ bytes: [UInt8], _ what: String, provider: String,
                                  objectOnly: Bool = true) throws(AnyLLMError) -> JSON {
        let v: JSON
        do { v = try JSONReader.parse(bytes) } catch {
            var e = AnyLLMError(ANYLLM_E_PROVIDER, "the provider's \(what) is not valid JSON (\(error))", provider: provider)
            e.providerError = .string(truncatedText(bytes))
            throw e
        }
        if objectOnly && v.object == nil {
            var e = AnyLLMError(ANYLLM_E_PROVIDER, "the provider's \(what) is not a JSON object", provider: provider)
            e.providerError = .string(truncatedText(bytes))
            throw e
        }
        return v
    }

    static func extractMessage(_ v: JSON) -> String? {
        if let e = v["error"] {
            if let s = e.string { return s }
            if let m = e["message"]?.string { return m }
        }
        if let m = v["message"] {
            if let s = m.string { return validationText(embeddedIn: s) ?? s }
            // Mistral's 422: `message` is pydantic's `{"detail": [...]}`, or the list itself.
            if let t = validationText(m["detail"] ?? m) { return t }
        }
        if let d = v["detail"] {
            if let s = d.string { return s }
            if let t = validationText(d) { return t }
        }
        return nil
    }

    /// A FastAPI/pydantic validation list (`[{"type","loc":["body","seed"],"msg":"Extra inputs are not
    /// permitted",...}]`, Mistral's 422s) as one readable line naming each field:
    /// `seed: Extra inputs are not permitted; messages[0].name: ...`.
    static func validationText(_ v: JSON) -> String? {
        guard let items = v.array, !items.isEmpty else { return nil }
        let lines: [String] = items.compactMap { item in
            guard let msg = item["msg"]?.string else { return nil }
            let at = validationField(item)
            return at.isEmpty ? msg : "\(at): \(msg)"
        }
        return lines.isEmpty ? nil : lines.joined(separator: "; ")
    }

    /// The field a validation item names: its `loc` without the leading "body", list indexes as `[i]`.
    static func validationField(_ item: JSON) -> String {
        var out = ""
        for (i, part) in (item["loc"]?.array ?? []).enumerated() {
            if let n = part.int { out += "[\(n)]"; continue }
            guard let s = part.string else { continue }
            if i == 0 && s == "body" { continue }
            out += out.isEmpty ? s : ".\(s)"
        }
        return out
    }

    /// An older Mistral form: `message` is the validation body as JSON text.
    static func validationText(embeddedIn s: String) -> String? {
        guard s.hasPrefix("{\"detail\""), let v = try? JSONReader.parse(Array(s.utf8)) else { return nil }
        return validationText(v["detail"] ?? .null)
    }

    /// The field named by a validation error body (Mistral's 422), for `error.param`.
    static func validationParam(_ v: JSON) -> String? {
        let list = v["message"]?["detail"] ?? v["message"] ?? v["detail"]
        guard let first = list?.array?.first, first["loc"] != nil else { return nil }
        let f = validationField(first)
        return f.isEmpty ? nil : f
    }

    static func isContextLength(_ s: String) -> Bool {
        ["context_length_exceeded", "maximum context length", "context length", "context window",
         "too many tokens", "prompt is too long", "exceeds the maximum number of tokens",
         "exceed_context_size", "exceeds the available context size", "reduce the length", "input is too long", "string_above_max_length"]
            .contains { s.contains($0) }
    }

    static func isContentFilter(_ s: String) -> Bool {
        ["content_filter", "content management policy", "content policy", "safety system", "responsible ai"]
            .contains { s.contains($0) }
    }

    static func isQuota(_ s: String) -> Bool {
        ["insufficient_quota", "exceeded your current quota", "billing", "insufficient balance", "credit balance"]
            .contains { s.contains($0) }
    }

    static func truncatedText(_ body: [UInt8]) -> String {
        let cut = Array(body.prefix(maxTextBody))
        var s = String(decoding: cut, as: UTF8.self)
        if body.count > maxTextBody { s += "…" }
        return s
    }

    /// A readable message for a body that is not JSON (an HTML page from a proxy or a 404).
    static func textSummary(status: Int, body: [UInt8]) -> String {
        var text = ""
        var inTag = false
        for ch in truncatedText(body) {
            if ch == "<" { inTag = true; text.append(" "); continue }
            if ch == ">" { inTag = false; continue }
            if !inTag { text.append(ch) }
        }
        // Character.isWhitespace, not a list of characters: "\r\n" is a single Character in Swift.
        let words = text.split(whereSeparator: { $0.isWhitespace })
        let summary = words.prefix(40).joined(separator: " ")
        return summary.isEmpty ? "HTTP \(status) with an empty body" : "HTTP \(status): \(summary)"
    }

    /// Seconds to wait: `retry-after-ms` (OpenAI, Anthropic) first, then `Retry-After` as seconds
    /// or an HTTP date.
    static func retryAfter(_ head: HTTPResponseHead) -> Double? {
        if let ms = head.header("retry-after-ms").flatMap({ Double($0.trimmingSpaces()) }), ms >= 0 { return ms / 1000 }
        guard let ra = head.header("retry-after")?.trimmingSpaces() else { return nil }
        if let s = Double(ra), s >= 0 { return s }
        return httpDate(ra).map { max(0, $0 - wallClockNow()) }
    }

    /// Seconds since the epoch, with their fraction. Not time(nil): glibc reads that from the
    /// kernel's coarse clock, which can lag the precise one by a tick, so a date written by a
    /// server just after a second turned read as a whole second further away.
    static func wallClockNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Parses an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") to Unix seconds.
    static func httpDate(_ s: String) -> Double? {
        let f = s.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard f.count == 6, f[5] == "GMT", let day = Int(f[1]), let m = months.firstIndex(of: String(f[2])),
              let year = Int(f[3]) else { return nil }
        let hms = f[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        return Double(daysFromCivil(year, m + 1, day) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
