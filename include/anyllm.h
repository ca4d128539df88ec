/*
 * anyllm.h — libanyllm's C API: one OpenAI-compatible completion call for every LLM provider.
 *
 * GENERATED from the Swift @c declarations in Sources/AnyLLM/CABI by tools/gen_header.py: do not
 * edit; change the Swift doc comments and rebuild. Types, status codes and callbacks are in
 * anyllm_types.h.
 *
 * Requests and results are JSON (UTF-8, NUL-terminated):
 *   request   any-llm's completion() parameters as one object:
 *             {"model": "openai:gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}],
 *              "stream": true, "temperature": 0.2, "tools": [...], "api_key": "...", ...}
 *             Keys that are not completion() parameters go to the provider's body unchanged.
 *   result    an OpenAI ChatCompletion; a stream delivers ChatCompletionChunks to on_chunk and
 *             its result is the ChatCompletion aggregated from them.
 *   error     {"error": {"type": "rate_limit", "message": "...", "status": 429, "provider": "openai",
 *             "retry_after": 2.0, "attempts": 3, "provider_error": {...}, "partial": {...}}}
 *             "type" names the anyllm_status; "partial" holds what a broken stream had delivered.
 *             No API key ever appears in an error.
 *
 * Ownership: every `char *` the library returns through an out-parameter or as a return value is
 * a new string that the caller frees with anyllm_string_free (anyllm_version's is static). Strings
 * passed to callbacks are valid only during the callback. The library never keeps a pointer to a
 * caller's string after the function returns.
 *
 * Threads: every function may be called from any thread. A client is shared safely by many
 * threads. Callbacks of anyllm_completion run on the calling thread; those of
 * anyllm_completion_start on a thread of the library, one at a time per call.
 */
#ifndef ANYLLM_H
#define ANYLLM_H

#include "anyllm_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The library version, "MAJOR.MINOR.PATCH".
 * Returns a static string owned by the library: do not free it.
 */
const char *anyllm_version(void);

/*
 * The provider registry as JSON: {"providers": [{"name", "protocol", "base_url", "base_url_env",
 * "api_key_env", "api_key_required", "api_key_set"}, ...]}. api_key_set: the environment holds
 * credentials the provider would use (its key variable or alternative one; for bedrock, also an
 * AWS access key pair).
 * Returns a new string: the caller frees it with anyllm_string_free. NULL only when out of memory.
 */
char *anyllm_providers(void);

/*
 * Creates a client: a set of default transport options for the calls made through it.
 * options_json: NULL for the defaults, or a JSON object with any of "timeout" (total seconds per
 * attempt, default 600), "connect_timeout" (10), "read_timeout" (longest silence between received
 * bytes, 120), "max_retries" (2), "headers" (object of extra HTTP headers), "proxy",
 * "ca_bundle", "verify_tls" (true), "max_connections_per_host" (0 = no limit; more calls to one
 * host wait for a free connection). A call's "client_args" override these per call, except
 * max_connections_per_host, which belongs to the client's connection pool.
 * TLS: certificates are verified against the system CA store, or against "ca_bundle" (a PEM file)
 * when given; a failure is ANYLLM_E_CONNECTION ("the server's certificate could not be verified").
 * "verify_tls": false TURNS VERIFICATION OFF: anyone on the network path can then read and alter
 * the traffic, API keys included. Only for local test servers; never in production.
 * "proxy": "http://[user:password@]host:port"; without it libcurl reads https_proxy/HTTPS_PROXY,
 * http_proxy (lower case only), all_proxy and no_proxy/NO_PROXY; "" turns proxies off. Proxy
 * credentials are redacted from errors like API keys.
 * error_json: may be NULL; on failure *error_json receives an error JSON object that the caller
 * frees with anyllm_string_free (it is set to NULL on success).
 * Returns the client (free it with anyllm_client_free), or NULL when the options are invalid.
 */
anyllm_client *anyllm_client_new(const char *options_json, char **error_json);

/*
 * Frees a client: cancels its calls in flight and waits until they have ended (their on_done
 * callbacks included). NULL is a no-op (the default client is never freed). From inside a
 * callback of one of the client's own calls it cannot wait for that call: it cancels the calls
 * and returns at once, and the client is released when its last call has ended (handles of
 * started calls stay valid until anyllm_call_free). The client must not be used afterwards.
 */
void anyllm_client_free(anyllm_client *client);

/*
 * Runs one completion and blocks until it ends.
 * client: NULL for the process-wide default client.
 * request_json: the request, a NUL-terminated UTF-8 JSON object (any-llm's completion()
 * parameters); only read during the call.
 * on_chunk: may be NULL; when the request has "stream": true it is called on the calling thread
 * once per ChatCompletionChunk (see anyllm_chunk_fn), with user_data. The request itself also
 * runs on the calling thread (on an engine the client lends it, which keeps its connections for
 * the next call), or, with max_connections_per_host set, on the client's engine thread while
 * the calling thread waits and runs the callbacks.
 * out_json: may be NULL; receives a new string that the caller frees with anyllm_string_free:
 * the ChatCompletion on ANYLLM_OK (for a stream, the completion aggregated from its chunks), else
 * the error object {"error": {"type", "message", ...}}.
 * Returns ANYLLM_OK or the error's status.
 */
anyllm_status anyllm_completion(anyllm_client *client, const char *request_json, anyllm_chunk_fn on_chunk, void *user_data, char **out_json);

/*
 * Starts one completion and returns at once. The request is sent by the client's engine thread.
 * client: NULL for the default client. request_json: read before this returns.
 * on_chunk: may be NULL; called once per streamed chunk, on a delivery thread of the library
 * (never the engine's I/O thread, so a slow callback delays only its own call).
 * on_done: may be NULL; called exactly once when the call ends (success, error or cancel), after
 * its last on_chunk, on a delivery thread, with the final status and JSON (as
 * anyllm_completion's out_json). One call's callbacks never run concurrently.
 * Returns the call handle, which the caller frees with anyllm_call_free (also after it ended),
 * or NULL when request_json is NULL.
 */
anyllm_call *anyllm_completion_start(anyllm_client *client, const char *request_json, anyllm_chunk_fn on_chunk, anyllm_done_fn on_done, void *user_data);

/*
 * Starts one completion that the calling thread drives itself, pulling its chunks with
 * anyllm_call_next: the request is sent, and the answer received and decoded, inside
 * anyllm_call_next on the thread that calls it (no hand-over between threads; with a client
 * whose max_connections_per_host is set, the client's engine thread does the I/O instead).
 * No callbacks. For a request without "stream": true, anyllm_call_next hands out no chunks and
 * reports the end once the answer is in. client: NULL for the default client. request_json:
 * read before this returns.
 * Returns the call handle (free it with anyllm_call_free; anyllm_call_wait gives the outcome,
 * as for anyllm_completion_start), or NULL when request_json is NULL.
 */
anyllm_call *anyllm_completion_open(anyllm_client *client, const char *request_json);

/*
 * Starts one completion for an event loop (asyncio, epoll, libuv, tokio): the call runs on the
 * client's engine thread, and whenever it has something for anyllm_call_next(call, 0, ...) to
 * hand out (chunks, or the end), the library writes token (8 bytes, in the machine's byte
 * order, in one write) to notify_fd, usually the write end of a pipe whose read end the loop
 * watches; many calls share one pipe and tell themselves apart by their tokens. On a token, pull
 * with timeout_ms 0: once is enough (a pull that leaves something behind is followed by another
 * token), or until ANYLLM_E_TIMEOUT (nothing more for now: the next token will say when) or the
 * end. None is written while one is unanswered (no pull since), so the pipe needs room for one
 * token per call in flight (8 bytes each); a token may still find nothing to pull (chunks pulled
 * before it was read), which only costs a pull.
 * No callbacks: no thread of the library runs the caller's code.
 * notify_fd stays the caller's: keep it open until anyllm_call_free of every call using it
 * (the library writes to it until the call has ended), and make it non-blocking (a full pipe
 * then drops the token rather than stalling the engine). client: NULL for the default client.
 * request_json: read before this returns.
 * Returns the call handle (anyllm_call_wait gives the outcome once the end has been pulled; free
 * it with anyllm_call_free), or NULL when request_json is NULL or notify_fd is negative.
 */
anyllm_call *anyllm_completion_open_notify(anyllm_client *client, const char *request_json, int32_t notify_fd, uint64_t token);

/*
 * Pulls the next chunks of a call started with anyllm_completion_open, driving its I/O on the
 * calling thread until chunks are ready, the call has ended, or timeout_ms milliseconds have
 * passed (timeout_ms < 0: no limit; 0: only what is ready now). For a call started with
 * anyllm_completion_open_notify, the engine thread does the I/O and this only takes what it has read.
 * chunks_json, len: on ANYLLM_OK, *chunks_json points to a JSON array of one or more
 * ChatCompletionChunk objects in stream order (NUL-terminated; *len bytes without the NUL; what
 * has been read, up to about 32 KiB of chunks per array: the rest comes with the next pulls), or
 * is NULL with *len 0 when the call has ended: anyllm_call_wait then returns its outcome at
 * once. The array is owned by the call and valid until the next anyllm_call_next or
 * anyllm_call_free of this call; do not free it. Either pointer may be NULL.
 * Returns ANYLLM_OK; ANYLLM_E_TIMEOUT when timeout_ms passed with nothing new (the call goes on:
 * pull again, or cancel it; the call's own timeouts are reported in its outcome, not here); or
 * ANYLLM_E_INVALID_REQUEST when call is NULL or was not started with anyllm_completion_open or
 * anyllm_completion_open_notify.
 * Calls on one handle from several threads take turns; anyllm_call_cancel may come from any
 * thread and makes a waiting anyllm_call_next return promptly.
 */
anyllm_status anyllm_call_next(anyllm_call *call, int32_t timeout_ms, const char **chunks_json, size_t *len);

/*
 * Asks a call to stop. Safe from any thread, inside its own callbacks included; returns at once.
 * The call then ends with ANYLLM_E_CANCELLED (unless it had already ended). NULL is a no-op.
 */
void anyllm_call_cancel(anyllm_call *call);

/*
 * Waits until a call has ended (its on_done included) and returns its status.
 * out_json: may be NULL; receives a new string (free with anyllm_string_free): the result or error
 * JSON, as anyllm_completion's out_json. May be called more than once.
 * Called from inside the call's own on_done it returns at once; from inside its on_chunk it
 * cannot wait and returns ANYLLM_E_INVALID_REQUEST.
 */
anyllm_status anyllm_call_wait(anyllm_call *call, char **out_json);

/*
 * Frees a call handle. A call still running is cancelled first, and this waits until it has
 * ended - except from inside the call's own callbacks, where it cancels, returns at once, and the
 * call is released when it ends. NULL is a no-op.
 */
void anyllm_call_free(anyllm_call *call);

/*
 * Frees a string returned by the library (out_json, error_json, anyllm_providers). NULL is a no-op.
 */
void anyllm_string_free(char *s);

#ifdef __cplusplus
}
#endif

#endif /* ANYLLM_H */
