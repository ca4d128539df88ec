// ClientOptions.merged (Core/ClientOptions.swift): anyllm_client_new's options_json and a call's
// client_args. Bad options are typed invalid_request errors; good ones are within their ranges.
import CAnyLLMTypes

func fuzzClientOptions(_ buf: UnsafeRawBufferPointer) {
    guard let v = try? JSONReader.parse(buf) else { return }
    let o: ClientOptions
    do { o = try ClientOptions().merged(with: v, field: "options") } catch {
        require(error.status == ANYLLM_E_INVALID_REQUEST, "options: status \(error.status.typeName)")
        checkError(error, "options")
        return
    }
    for t in [o.timeout, o.connectTimeout, o.readTimeout] { require(t.isFinite && t > 0 && t <= 86_400, "options: timeout \(t)") }
    require((0...100).contains(o.maxRetries), "options: max_retries \(o.maxRetries)")
    require(o.maxConnectionsPerHost >= 0, "options: max_connections_per_host \(o.maxConnectionsPerHost)")
    for (k, val) in o.headers {
        require(!k.isEmpty && ClientOptions.isHeaderSafe(k) && ClientOptions.isHeaderSafe(val), "options: unsafe header \(k)")
    }
    let names = o.headers.map { $0.0.lowercased() }
    require(Set(names).count == names.count, "options: a header name appears twice")
}
