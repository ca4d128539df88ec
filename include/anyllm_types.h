/*
 * anyllm_types.h — the hand-written part of libanyllm's public C API: the status codes, the
 * callback types and the opaque handles. The functions are declared in anyllm.h, which the
 * build generates from the Swift sources and which includes this file.
 *
 * Kept as plain C (no Swift macros) so that it compiles as C89..C23 and C++, and so that the
 * Swift core imports the very same types (module CAnyLLMTypes) — one definition, no drift.
 */
#ifndef ANYLLM_TYPES_H
#define ANYLLM_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An anyllm_client owns connection settings (options_json of anyllm_client_new) and the calls
 * started through it. Thread-safe: any number of threads may use one client at once.
 * NULL, wherever a client is expected, means the process-wide default client. */
typedef struct anyllm_client anyllm_client;

/* One request in flight, returned by anyllm_completion_start. Owned by the caller until
 * anyllm_call_free. */
typedef struct anyllm_call anyllm_call;

/* Every function that can fail returns one of these. The JSON error object that comes with a
 * failure (see anyllm.h) carries the same information as a string in "error.type". */
typedef enum anyllm_status {
    ANYLLM_OK = 0,
    ANYLLM_E_INVALID_REQUEST = 1,       /* the request JSON is malformed or a field is invalid; also 4xx not listed below */
    ANYLLM_E_UNSUPPORTED_PROVIDER = 2,  /* unknown provider name */
    ANYLLM_E_UNSUPPORTED_PARAMETER = 3, /* a parameter the chosen provider cannot honour */
    ANYLLM_E_MISSING_API_KEY = 4,       /* no api_key in the request and the provider's env var is unset */
    ANYLLM_E_AUTHENTICATION = 5,        /* HTTP 401 */
    ANYLLM_E_PERMISSION = 6,            /* HTTP 403 */
    ANYLLM_E_NOT_FOUND = 7,             /* HTTP 404: unknown model or wrong URL */
    ANYLLM_E_RATE_LIMIT = 8,            /* HTTP 429; "retry_after" in the error when the server said */
    ANYLLM_E_CONTEXT_LENGTH = 9,        /* the prompt does not fit the model's context window */
    ANYLLM_E_CONTENT_FILTER = 10,       /* the provider refused the content */
    ANYLLM_E_INSUFFICIENT_FUNDS = 11,   /* HTTP 402 or a quota/billing error */
    ANYLLM_E_PROVIDER = 12,             /* HTTP 5xx, an error event in a stream, or an unreadable answer */
    ANYLLM_E_TIMEOUT = 13,              /* connect, read (silence) or total timeout */
    ANYLLM_E_CONNECTION = 14,           /* refused, reset, DNS or TLS failure */
    ANYLLM_E_CANCELLED = 15,            /* anyllm_call_cancel, or a chunk callback returned non-zero */
    ANYLLM_E_INTERNAL = 16              /* a bug in libanyllm: please report it */
} anyllm_status;

/* Called once per streamed ChatCompletionChunk, with the chunk as UTF-8 JSON of `len` bytes
 * (NUL-terminated as well). The buffer is valid only during the call: copy what you keep.
 * Return 0 to continue, non-zero to cancel the call (it then ends with ANYLLM_E_CANCELLED).
 * Runs on the thread that performs the transfer (see anyllm.h for which one). */
typedef int (*anyllm_chunk_fn)(const char *chunk_json, size_t len, void *user_data);

/* Called exactly once per call started with anyllm_completion_start, when it ends, with the
 * final status and the result JSON (a ChatCompletion, or an {"error": ...} object when
 * status != ANYLLM_OK). The buffer is valid only during the call. */
typedef void (*anyllm_done_fn)(anyllm_status status, const char *json, size_t len, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* ANYLLM_TYPES_H */
