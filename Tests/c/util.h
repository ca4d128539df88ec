/*
 * util.h — shared helpers of the C tests (header-only: every test_*.c is its own executable).
 *
 * Requests are built with jansson and serialised with json_dumps (never hand-formatted); results are
 * parsed with jansson and read with jpath("choices[0].message.content").
 *
 *   test_setup()                 starts the emulator (g_emu), sets g_api_base = URL + "/v1"
 *   req_new("openai:gpt-4o-mini") a request {model, messages:[user "Hello there"], api_base, api_key}
 *   run_req(client, req, on_chunk, ud, &res)   anyllm_completion + every invariant of its output
 *   emu_last_request()           GET /_emulator/last_request: what the library sent
 *   collector                    an anyllm_chunk_fn that validates and keeps the chunks
 */
#ifndef ANYLLM_TEST_UTIL_H
#define ANYLLM_TEST_UTIL_H

#include "check.h"
#include "emulator.h"

#include <anyllm.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* An API key that the emulator accepts. Error JSON must never contain it. */
#define TEST_KEY "sk-test-9f8e7d6c5b4a39281706"

static emulator g_emu;
static char g_api_base[300];

static inline double now_s(void) { return emulator_now_(); }

static inline void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

static inline bool under_valgrind(void) {
    const char *v = getenv("ANYLLM_UNDER_VALGRIND");
    return v && *v && strcmp(v, "0") != 0;
}

/* n normally, vg under valgrind. */
static inline int scaled(int n, int vg) { return under_valgrind() ? vg : n; }

/* Starts the emulator or exits the test binary with a failure line. */
static inline void test_setup(void) {
    if (emulator_start(&g_emu, NULL) != 0) {
        CHECK(0, "the emulator did not start");
        check_summary();
        exit(1);
    }
    snprintf(g_api_base, sizeof g_api_base, "%s/v1", g_emu.url);
    fprintf(stderr, "emulator at %s\n", g_emu.url);
}

static inline int test_teardown(void) {
    emulator_stop(&g_emu);
    return check_summary();
}

static inline bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static inline const char *or_null(const char *s) { return s ? s : "(null)"; }
static inline bool starts_with(const char *s, const char *p) { return s && strncmp(s, p, strlen(p)) == 0; }

/* ---- JSON ------------------------------------------------------------------------------------------------ */

/* The value at a path like "choices[0].message.tool_calls[1].function.name" (borrowed), or NULL. */
static inline json_t *jpath(json_t *root, const char *path) {
    json_t *cur = root;
    const char *p = path;
    char key[256];
    while (cur && *p) {
        if (*p == '.') { p++; continue; }
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']') return NULL;
            cur = json_is_array(cur) ? json_array_get(cur, (size_t)i) : NULL;
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        p += n;
    }
    return cur;
}
static inline const char *jstr(json_t *root, const char *path) { return json_string_value(jpath(root, path)); }
static inline long long jint(json_t *root, const char *path, long long def) {
    json_t *v = jpath(root, path);
    return json_is_integer(v) ? json_integer_value(v) : def;
}
static inline double jnum(json_t *root, const char *path, double def) {
    json_t *v = jpath(root, path);
    return json_is_number(v) ? json_number_value(v) : def;
}

/* Compact serialisation; free() the result. */
static inline char *jdump(json_t *j) { return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY); }

/* Parses a JSON text; NULL when invalid. */
static inline json_t *jparse(const char *s) {
    if (!s) return NULL;
    json_error_t err;
    return json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
}

/* A request for `model` with one user message "Hello there", aimed at the emulator. */
static inline json_t *req_new(const char *model) {
    return json_pack("{s:s, s:[{s:s, s:s}], s:s, s:s}", "model", model, "messages", "role", "user", "content",
                     "Hello there", "api_base", g_api_base, "api_key", TEST_KEY);
}

/* Sets req.client_args.key = value (stealing value). */
static inline void req_client_arg(json_t *req, const char *key, json_t *value) {
    json_t *ca = json_object_get(req, "client_args");
    if (!ca) {
        ca = json_object();
        json_object_set_new(req, "client_args", ca);
    }
    json_object_set_new(ca, key, value);
}

/* ---- status names ------------------------------------------------------------------------------------------ */

static inline const char *status_type(anyllm_status st) {
    switch (st) {
    case ANYLLM_OK: return "ok";
    case ANYLLM_E_INVALID_REQUEST: return "invalid_request";
    case ANYLLM_E_UNSUPPORTED_PROVIDER: return "unsupported_provider";
    case ANYLLM_E_UNSUPPORTED_PARAMETER: return "unsupported_parameter";
    case ANYLLM_E_MISSING_API_KEY: return "missing_api_key";
    case ANYLLM_E_AUTHENTICATION: return "authentication";
    case ANYLLM_E_PERMISSION: return "permission";
    case ANYLLM_E_NOT_FOUND: return "not_found";
    case ANYLLM_E_RATE_LIMIT: return "rate_limit";
    case ANYLLM_E_CONTEXT_LENGTH: return "context_length";
    case ANYLLM_E_CONTENT_FILTER: return "content_filter";
    case ANYLLM_E_INSUFFICIENT_FUNDS: return "insufficient_funds";
    case ANYLLM_E_PROVIDER: return "provider";
    case ANYLLM_E_TIMEOUT: return "timeout";
    case ANYLLM_E_CONNECTION: return "connection";
    case ANYLLM_E_CANCELLED: return "cancelled";
    case ANYLLM_E_INTERNAL: return "internal";
    }
    return "?";
}

/* ---- output invariants ------------------------------------------------------------------------------------- */

/* Secrets that must never appear in an error: TEST_KEY plus up to 7 others registered by the test. */
static const char *g_secrets[8] = {TEST_KEY};
static inline void add_secret(const char *s) {
    for (int i = 0; i < 8; i++)
        if (!g_secrets[i]) { g_secrets[i] = s; return; }
}

/* Checks what every output of the library must satisfy: valid JSON; an {"error": {...}} object whose type
 * names the status when st != OK (a ChatCompletion otherwise); no API key anywhere in an error. */
static inline void check_output(anyllm_status st, const char *raw, size_t len, json_t **parsed_out, const char *where) {
    if (parsed_out) *parsed_out = NULL;
    if (!CHECK(raw != NULL, "%s: output is NULL (status %d)", where, st)) return;
    CHECK(strlen(raw) == len, "%s: strlen %zu != len %zu", where, strlen(raw), len);
    json_error_t jerr;
    json_t *j = json_loadb(raw, len, 0, &jerr);
    if (!CHECK(json_is_object(j), "%s: output is not a JSON object: %s (%.200s)", where, jerr.text, raw)) {
        json_decref(j);
        return;
    }
    if (st == ANYLLM_OK) {
        CHECK(json_object_get(j, "error") == NULL, "%s: status OK but output has an error: %.300s", where, raw);
        CHECK(str_eq(jstr(j, "object"), "chat.completion"), "%s: object is %s", where, or_null(jstr(j, "object")));
        CHECK(json_is_array(jpath(j, "choices")), "%s: no choices array: %.300s", where, raw);
    } else {
        CHECK(json_is_object(jpath(j, "error")), "%s: status %d but no error object: %.300s", where, st, raw);
        CHECK(str_eq(jstr(j, "error.type"), status_type(st)), "%s: error.type %s does not name status %d (%s)",
              where, or_null(jstr(j, "error.type")), st, status_type(st));
        const char *msg = jstr(j, "error.message");
        CHECK(msg && *msg, "%s: error.message missing or empty: %.300s", where, raw);
        for (int i = 0; i < 8; i++) {
            if (g_secrets[i])
                CHECK(strstr(raw, g_secrets[i]) == NULL, "%s: the API key %s appears in the error: %.400s", where,
                      g_secrets[i], raw);
        }
    }
    if (parsed_out) *parsed_out = j; else json_decref(j);
}

typedef struct result {
    anyllm_status st;
    char *raw;   /* out_json as returned (owned: freed by res_free with anyllm_string_free) */
    json_t *j;   /* parsed */
    double secs; /* wall time of the call */
} result;

static inline void res_free(result *r) {
    anyllm_string_free(r->raw);
    json_decref(r->j);
    memset(r, 0, sizeof *r);
}

/* Runs anyllm_completion(client, json_dumps(req)) and checks the output invariants. */
static inline anyllm_status run_req(anyllm_client *client, json_t *req, anyllm_chunk_fn fn, void *ud, result *r) {
    memset(r, 0, sizeof *r);
    char *text = jdump(req);
    char *out = (char *)(uintptr_t)1; /* the library must overwrite it */
    double t0 = now_s();
    r->st = anyllm_completion(client, text, fn, ud, &out);
    r->secs = now_s() - t0;
    free(text);
    r->raw = out;
    char where[160];
    snprintf(where, sizeof where, "completion(%s)", or_null(json_string_value(json_object_get(req, "model"))));
    check_output(r->st, out, out ? strlen(out) : 0, &r->j, where);
    return r->st;
}

/* Runs a request and expects an error of status `st`; returns the parsed output (owned by r). */
static inline bool expect_error(anyllm_client *client, json_t *req, anyllm_status st, result *r, const char *what) {
    run_req(client, req, NULL, NULL, r);
    return CHECK(r->st == st, "%s: expected status %d (%s), got %d: %.400s", what, st, status_type(st), r->st,
                 or_null(r->raw));
}

/* ---- raw HTTP to the emulator -------------------------------------------------------------------------------- */

/* GET path from a plain-HTTP test server on 127.0.0.1:port (the emulator, the test proxy); returns the body
 * of a 200 answer (malloc'd) or NULL. */
static inline char *http_get_port(int port, const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return NULL;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    char reqbuf[512];
    int n = snprintf(reqbuf, sizeof reqbuf, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (send(fd, reqbuf, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t got = recv(fd, buf + len, cap - len - 1, 0);
        if (got <= 0) break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = 0;
    char *body = strstr(buf, "\r\n\r\n");
    if (!body || strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 9, "200", 3) != 0) {
        free(buf);
        return NULL;
    }
    char *copy = strdup(body + 4);
    free(buf);
    return copy;
}

/* GET path from the emulator; returns the body (malloc'd) or NULL. */
static inline char *http_get(const char *path) { return http_get_port(g_emu.port, path); }

/* The last request the emulator received: {"method","path","query","headers","body"} (new reference). */
static inline json_t *emu_last_request(void) {
    char *body = http_get("/_emulator/last_request");
    json_t *j = jparse(body);
    free(body);
    CHECK(json_is_object(j), "GET /_emulator/last_request did not answer a JSON object");
    return j;
}

/* A TCP port on 127.0.0.1 where nothing listens (bound then closed). */
static inline int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return 9; /* discard: closed on any test machine */
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- chunk collector --------------------------------------------------------------------------------------- */

typedef struct collector {
    int count;           /* chunks received */
    int bad;             /* chunks that broke an invariant (details on stderr) */
    int cancel_at;       /* return non-zero from the cancel_at-th chunk (1-based); 0 = never */
    json_t *chunks;      /* every chunk, parsed */
    char *content;       /* concatenated choices[*].delta.content */
    size_t content_len;
    char first_id[128];
    int after_cancel;    /* chunks delivered after the callback asked to cancel */
    pthread_t thread;    /* the thread of the last callback */
} collector;

static inline void collector_init(collector *c) {
    memset(c, 0, sizeof *c);
    c->chunks = json_array();
    c->content = calloc(1, 1);
}

static inline void collector_free(collector *c) {
    json_decref(c->chunks);
    free(c->content);
    memset(c, 0, sizeof *c);
}

static inline void collector_bad_(collector *c, const char *why, const char *chunk) {
    c->bad++;
    fprintf(stderr, "     bad chunk #%d (%s): %.300s\n", c->count, why, chunk ? chunk : "(null)");
}

/* The anyllm_chunk_fn: user_data is a collector. */
static inline int collect_chunk(const char *chunk, size_t len, void *ud) {
    collector *c = ud;
    c->thread = pthread_self();
    if (c->cancel_at && c->count >= c->cancel_at) c->after_cancel++;
    c->count++;
    if (!chunk) {
        collector_bad_(c, "NULL", NULL);
        return 0;
    }
    if (strlen(chunk) != len) collector_bad_(c, "strlen != len", chunk);
    json_error_t err;
    json_t *j = json_loadb(chunk, len, 0, &err);
    if (!json_is_object(j)) {
        collector_bad_(c, "not a JSON object", chunk);
        json_decref(j);
        return 0;
    }
    if (!str_eq(jstr(j, "object"), "chat.completion.chunk")) collector_bad_(c, "object != chat.completion.chunk", chunk);
    if (!json_is_array(json_object_get(j, "choices"))) collector_bad_(c, "no choices array", chunk);
    const char *id = jstr(j, "id");
    if (id && c->count == 1) snprintf(c->first_id, sizeof c->first_id, "%s", id);
    if (id && c->first_id[0] && strcmp(id, c->first_id) != 0) collector_bad_(c, "id changed within the stream", chunk);
    size_t i;
    json_t *choice;
    json_array_foreach(json_object_get(j, "choices"), i, choice) {
        const char *s = jstr(choice, "delta.content");
        if (s) {
            size_t n = strlen(s);
            c->content = realloc(c->content, c->content_len + n + 1);
            memcpy(c->content + c->content_len, s, n + 1);
            c->content_len += n;
        }
    }
    json_array_append_new(c->chunks, j);
    return c->cancel_at && c->count >= c->cancel_at ? 1 : 0;
}

/* The arguments of tool call `index` concatenated from the collected chunks' deltas (malloc'd). */
static inline char *collector_tool_args(collector *c, int index, const char **name_out) {
    char *out = calloc(1, 1);
    size_t len = 0, i, k;
    json_t *ch, *tc;
    if (name_out) *name_out = NULL;
    json_array_foreach(c->chunks, i, ch) {
        json_array_foreach(jpath(ch, "choices[0].delta.tool_calls"), k, tc) {
            if (jint(tc, "index", -1) != index) continue;
            const char *n = jstr(tc, "function.name");
            if (n && name_out && !*name_out) *name_out = n;
            const char *a = jstr(tc, "function.arguments");
            if (a) {
                out = realloc(out, len + strlen(a) + 1);
                memcpy(out + len, a, strlen(a) + 1);
                len += strlen(a);
            }
        }
    }
    return out;
}

/* "tok0 tok1 ... tok{n-1}" (malloc'd), the emulator's long-N / slow-N text. */
static inline char *tokens_text(int n) {
    size_t cap = (size_t)n * 12 + 1, len = 0;
    char *s = malloc(cap);
    s[0] = 0;
    for (int i = 0; i < n; i++) len += (size_t)snprintf(s + len, cap - len, i ? " tok%d" : "tok%d", i);
    return s;
}

#endif /* ANYLLM_TEST_UTIL_H */
