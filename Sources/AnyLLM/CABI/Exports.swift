import CAnyLLMTypes
import Glibc

// The exported C functions. Their doc comments are the API documentation: tools/gen_header.py
// copies them into include/anyllm.h. Ownership rules are stated on every pointer.

/// The library version, "MAJOR.MINOR.PATCH".
/// Returns a static string owned by the library: do not free it.
@c public func anyllm_version() -> UnsafePointer<CChar> {
    UnsafePointer(CABI.versionCString)
}

/// The provider registry as JSON: {"providers": [{"name", "protocol", "base_url", "base_url_env",
/// "api_key_env", "api_key_required", "api_key_set"}, ...]}. api_key_set: the environment holds
/// credentials the provider would use (its key variable or alternative one; for bedrock, also an
/// AWS access key pair).
/// Returns a new string: the caller frees it with anyllm_string_free. NULL only when out of memory.
@c public func anyllm_providers() -> UnsafeMutablePointer<CChar>? {
    CABI.cString(Registry.json(environment: env).serialized)
}

/// Creates a client: a set of default transport options for the calls made through it.
/// options_json: NULL for the defaults, or a JSON object with any of "timeout" (total seconds per
/// attempt, default 600), "connect_timeout" (10), "read_timeout" (longest silence between received
/// bytes, 120), "max_retries" (2), "headers" (object of extra HTTP headers), "proxy",
/// "ca_bundle", "verify_tls" (true), "max_connections_per_host" (0 = no limit; more calls to one
/// host wait for a free connection). A call's "client_args" override these per call, except
/// max_connections_per_host, which belongs to the client's connection pool.
/// TLS: certificates are verified against the system CA store, or against "ca_bundle" (a PEM file)
/// when given; a failure is ANYLLM_E_CONNECTION ("the server's certificate could not be verified").
/// "verify_tls": false TURNS VERIFICATION OFF: anyone on the network path can then read and alter
/// the traffic, API keys included. Only for local test servers; never in production.
/// "proxy": "http://[user:password@]host:port"; without it libcurl reads https_proxy/HTTPS_PROXY,
/// http_proxy (lower case only), all_proxy and no_proxy/NO_PROXY; "" turns proxies off. Proxy
/// credentials are redacted from errors like API keys.
/// error_json: may be NULL; on failure *error_json receives an error JSON object that the caller
/// frees with anyllm_string_free (it is set to NULL on success).
/// Returns the client (free it with anyllm_client_free), or NULL when the options are invalid.
@c public func anyllm_client_new(_ options_json: UnsafePointer<CChar>?,
                                 _ error_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> anyllm_client_handle? {
    error_json?.pointee = nil
    var opts = ClientOptions()
    if let o = options_json {
        do {
            let v = try JSONReader.parse(CABI.bytes(o))
            opts = try ClientOptions().merged(with: v, field: "options")
        } catch let e as AnyLLMError {
            CABI.store(e.json(redactor: Redactor(secrets: [])).serialized, error_json)
            return nil
        } catch {
            CABI.store(CABI.errorJSON(ANYLLM_E_INVALID_REQUEST, "invalid request: options: not valid JSON: \(error)",
                                      param: "options"), error_json)
            return nil
        }
    }
    return OpaquePointer(Unmanaged.passRetained(Client(options: opts)).toOpaque())
}

/// Frees a client: cancels its calls in flight and waits until they have ended (their on_done
/// callbacks included). NULL is a no-op (the default client is never freed). From inside a
/// callback of one of the client's own calls it cannot wait for that call: it cancels the calls
/// and returns at once, and the client is released when its last call has ended (handles of
/// started calls stay valid until anyllm_call_free). The client must not be used afterwards.
@c public func anyllm_client_free(_ client: anyllm_client_handle?) {
    guard let client else { return }
    let c = Unmanaged<Client>.fromOpaque(UnsafeRawPointer(client))
    c.takeUnretainedValue().close()
    c.release()
}

/// Runs one completion and blocks until it ends.
/// client: NULL for the process-wide default client.
/// request_json: the request, a NUL-terminated UTF-8 JSON object (any-llm's completion()
/// parameters); only read during the call.
/// on_chunk: may be NULL; when the request has "stream": true it is called on the calling thread
/// once per ChatCompletionChunk (see anyllm_chunk_fn), with user_data. The request itself also
/// runs on the calling thread (on an engine the client lends it, which keeps its connections for
/// the next call), or, with max_connections_per_host set, on the client's engine thread while
/// the calling thread waits and runs the callbacks.
/// out_json: may be NULL; receives a new string that the caller frees with anyllm_string_free:
/// the ChatCompletion on ANYLLM_OK (for a stream, the completion aggregated from its chunks), else
/// the error object {"error": {"type", "message", ...}}.
/// Returns ANYLLM_OK or the error's status.
@c public func anyllm_completion(_ client: anyllm_client_handle?, _ request_json: UnsafePointer<CChar>?,
                                 _ on_chunk: anyllm_chunk_fn?, _ user_data: UnsafeMutableRawPointer?,
                                 _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> anyllm_status {
    out_json?.pointee = nil
    guard let request_json else {
        CABI.store(CABI.errorJSON(ANYLLM_E_INVALID_REQUEST, "invalid request: request_json is NULL", param: ""), out_json)
        return ANYLLM_E_INVALID_REQUEST
    }
    let (status, json) = CABI.client(client).runBlocking(CABI.bytes(request_json), onChunk: on_chunk,
                                                          userData: user_data)
    CABI.store(json, out_json)
    return status
}

/// Starts one completion and returns at once. The request is sent by the client's engine thread.
/// client: NULL for the default client. request_json: read before this returns.
/// on_chunk: may be NULL; called once per streamed chunk, on a delivery thread of the library
/// (never the engine's I/O thread, so a slow callback delays only its own call).
/// on_done: may be NULL; called exactly once when the call ends (success, error or cancel), after
/// its last on_chunk, on a delivery thread, with the final status and JSON (as
/// anyllm_completion's out_json). One call's callbacks never run concurrently.
/// Returns the call handle, which the caller frees with anyllm_call_free (also after it ended),
/// or NULL when request_json is NULL.
@c public func anyllm_completion_start(_ client: anyllm_client_handle?, _ request_json: UnsafePointer<CChar>?,
                                       _ on_chunk: anyllm_chunk_fn?, _ on_done: anyllm_done_fn?,
                                       _ user_data: UnsafeMutableRawPointer?) -> anyllm_call_handle? {
    guard let request_json else { return nil }
    let call = CABI.client(client).start(CABI.bytes(request_json), blocking: false, onChunk: on_chunk, onDone: on_done,
                                         userData: user_data)
    return OpaquePointer(Unmanaged.passRetained(call).toOpaque())
}

/// Starts one completion that the calling thread drives itself, pulling its chunks with
/// anyllm_call_next: the request is sent, and the answer received and decoded, inside
/// anyllm_call_next on the thread that calls it (no hand-over between threads; with a client
/// whose max_connections_per_host is set, the client's engine thread does the I/O instead).
/// No callbacks. For a request without "stream": true, anyllm_call_next hands out no chunks and
/// reports the end once the answer is in. client: NULL for the default client. request_json:
/// read before this returns.
/// Returns the call handle (free it with anyllm_call_free; anyllm_call_wait gives the outcome,
/// as for anyllm_completion_start), or NULL when request_json is NULL.
@c public func anyllm_completion_open(_ client: anyllm_client_handle?,
                                      _ request_json: UnsafePointer<CChar>?) -> anyllm_call_handle? {
    guard let request_json else { return nil }
    let call = CABI.client(client).open(CABI.bytes(request_json))
    return OpaquePointer(Unmanaged.passRetained(call).toOpaque())
}

/// Starts one completion for an event loop (asyncio, epoll, libuv, tokio): the call runs on the
/// client's engine thread, and whenever it has something for anyllm_call_next(call, 0, ...) to
/// hand out (chunks, or the end), the library writes `token` (8 bytes, in the machine's byte
/// order, in one write) to notify_fd, usually the write end of a pipe whose read end the loop
/// watches; many calls share one pipe and tell themselves apart by their tokens. On a token, pull
/// with timeout_ms 0: once is enough (a pull that leaves something behind is followed by another
/// token), or until ANYLLM_E_TIMEOUT (nothing more for now: the next token will say when) or the
/// end. None is written while one is unanswered (no pull since), so the pipe needs room for one
/// token per call in flight (8 bytes each); a token may still find nothing to pull (chunks pulled
/// before it was read), which only costs a pull.
/// No callbacks: no thread of the library runs the caller's code.
/// notify_fd stays the caller's: keep it open until anyllm_call_free of every call using it
/// (the library writes to it until the call has ended), and make it non-blocking (a full pipe
/// then drops the token rather than stalling the engine). client: NULL for the default client.
/// request_json: read before this returns.
/// Returns the call handle (anyllm_call_wait gives the outcome once the end has been pulled; free
/// it with anyllm_call_free), or NULL when request_json is NULL or notify_fd is negative.
@c public func anyllm_completion_open_notify(_ client: anyllm_client_handle?, _ request_json: UnsafePointer<CChar>?,
                                             _ notify_fd: Int32, _ token: UInt64) -> anyllm_call_handle? {
    guard let request_json, notify_fd >= 0 else { return nil }
    let call = CABI.client(client).openWatched(CABI.bytes(request_json), notifyFD: notify_fd, token: token)
    return OpaquePointer(Unmanaged.passRetained(call).toOpaque())
}

/// Pulls the next chunks of a call started with anyllm_completion_open, driving its I/O on the
/// calling thread until chunks are ready, the call has ended, or timeout_ms milliseconds have
/// passed (timeout_ms < 0: no limit; 0: only what is ready now). For a call started with
/// anyllm_completion_open_notify, the engine thread does the I/O and this only takes what it has read.
/// chunks_json, len: on ANYLLM_OK, *chunks_json points to a JSON array of one or more
/// ChatCompletionChunk objects in stream order (NUL-terminated; *len bytes without the NUL; what
/// has been read, up to about 32 KiB of chunks per array: the rest comes with the next pulls), or
/// is NULL with *len 0 when the call has ended: anyllm_call_wait then returns its outcome at
/// once. The array is owned by the call and valid until the next anyllm_call_next or
/// anyllm_call_free of this call; do not free it. Either pointer may be NULL.
/// Returns ANYLLM_OK; ANYLLM_E_TIMEOUT when timeout_ms passed with nothing new (the call goes on:
/// pull again, or cancel it; the call's own timeouts are reported in its outcome, not here); or
/// ANYLLM_E_INVALID_REQUEST when call is NULL or was not started with anyllm_completion_open or
/// anyllm_completion_open_notify.
/// Calls on one handle from several threads take turns; anyllm_call_cancel may come from any
/// thread and makes a waiting anyllm_call_next return promptly.
@c public func anyllm_call_next(_ call: anyllm_call_handle?, _ timeout_ms: Int32,
                                _ chunks_json: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                _ len: UnsafeMutablePointer<UInt>?) -> anyllm_status {
    chunks_json?.pointee = nil
    len?.pointee = 0
    guard let call else { return ANYLLM_E_INVALID_REQUEST }
    let c = CABI.call(call)
    guard c.pulled else { return ANYLLM_E_INVALID_REQUEST }
    switch c.next(timeout: timeout_ms < 0 ? -1 : Double(timeout_ms) / 1000) {
    case .chunks:
        let b = c.pulledJSON
        chunks_json?.pointee = UnsafeRawPointer(b.base!).assumingMemoryBound(to: CChar.self)
        len?.pointee = UInt(b.count - 1)
        return ANYLLM_OK
    case .ended: return ANYLLM_OK
    case .timedOut: return ANYLLM_E_TIMEOUT
    }
}

/// Asks a call to stop. Safe from any thread, inside its own callbacks included; returns at once.
/// The call then ends with ANYLLM_E_CANCELLED (unless it had already ended). NULL is a no-op.
@c public func anyllm_call_cancel(_ call: anyllm_call_handle?) {
    guard let call else { return }
    CABI.call(call).cancel()
}

/// Waits until a call has ended (its on_done included) and returns its status.
/// out_json: may be NULL; receives a new string (free with anyllm_string_free): the result or error
/// JSON, as anyllm_completion's out_json. May be called more than once.
/// Called from inside the call's own on_done it returns at once; from inside its on_chunk it
/// cannot wait and returns ANYLLM_E_INVALID_REQUEST.
@c public func anyllm_call_wait(_ call: anyllm_call_handle?,
                                _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> anyllm_status {
    out_json?.pointee = nil
    guard let call else {
        CABI.store(CABI.errorJSON(ANYLLM_E_INVALID_REQUEST, "invalid request: call is NULL", param: "call"), out_json)
        return ANYLLM_E_INVALID_REQUEST
    }
    let c = CABI.call(call)
    if c.isOnOwnThread {
        guard let (st, json) = c.outcomeIfKnown() else {
            CABI.store(CABI.errorJSON(ANYLLM_E_INVALID_REQUEST,
                                      "anyllm_call_wait was called from the call's own chunk callback, where it cannot wait"), out_json)
            return ANYLLM_E_INVALID_REQUEST
        }
        CABI.store(json, out_json)
        return st
    }
    let (st, json) = c.wait()
    CABI.store(json, out_json)
    return st
}

/// Frees a call handle. A call still running is cancelled first, and this waits until it has
/// ended — except from inside the call's own callbacks, where it cancels, returns at once, and the
/// call is released when it ends. NULL is a no-op.
@c public func anyllm_call_free(_ call: anyllm_call_handle?) {
    guard let call else { return }
    let u = Unmanaged<Call>.fromOpaque(UnsafeRawPointer(call))
    let c = u.takeUnretainedValue()
    c.cancel()
    if !c.isOnOwnThread { _ = c.wait() }
    u.release()
}

/// Frees a string returned by the library (out_json, error_json, anyllm_providers). NULL is a no-op.
@c public func anyllm_string_free(_ s: UnsafeMutablePointer<CChar>?) {
    free(s)
}
