/*
 * test_fault_matrix — every transport and content fault, through libanyllm.so, on every wire protocol, streamed
 * and not: protocol x fault x mode, table-driven. Each case asserts the documented anyllm_status (util.h's
 * check_output adds: valid JSON, error.type names the status, a non-empty message, no API key), that the message
 * says what happened, and for streams that the chunks delivered before the fault arrived exactly once (their
 * content is a prefix of the answer — a repeated or lost piece breaks that) and are what the error's "partial"
 * holds. The valgrind variant (valgrind_test_fault_matrix) adds: no leaks on any of these paths.
 *
 * A new wire protocol is one row of PROTOS; a new fault is one row of FAULTS (the scripted model names are the
 * emulator's, see Tests/emulator/README.md).
 */
#include "util.h"

#include <strings.h>

/* Bedrock SigV4 credentials the emulator knows (Tests/emulator/bedrock_sigv4.py); the secret must never appear in
 * an error (registered with util.h's add_secret). */
#define AWS_AKID "AKIDANYLLMTEST0000001"
#define AWS_SECRET "anyllm/test/SECRETKEY+bPxRfiCYEXAMPLEKEY"

enum { KEY, VERTEX, AWS }; /* how a protocol's request is authenticated */

typedef struct proto {
    const char *label;    /* printed */
    const char *provider; /* the provider prefix of the model string */
    const char *suffix;   /* appended to the emulator's URL for api_base */
    int auth;             /* KEY: api_key; VERTEX: plus vertex_project / vertex_location; AWS: SigV4 credentials */
} proto;

static const proto PROTOS[] = {
    {"openai", "openai", "/v1", KEY},
    {"azureopenai", "azureopenai", "", KEY},
    {"azure-ai-inference", "azure", "/models", KEY},
    {"mistral", "mistral", "/mistral/v1", KEY},
    {"anthropic", "anthropic", "", KEY},
    {"gemini", "gemini", "", KEY},
    {"vertex", "vertexai", "", VERTEX},
    {"ollama", "ollama", "", KEY},
    {"cohere", "cohere", "", KEY},
    {"bedrock", "bedrock", "", AWS},
};
#define NPROTOS (sizeof PROTOS / sizeof *PROTOS)

enum { PLAIN = 1, STREAM = 2, BOTH = 3 };

#define ECHO "You said: Hello there"
#define ANY_PREFIX "*" /* delivered: any prefix of the full answer */

typedef struct fault {
    const char *name;
    const char *model;       /* scripted model; "@refused" aims api_base at a closed port */
    unsigned modes;
    anyllm_status st;
    const char *msg[6];      /* the message contains one of these (case-insensitive); NULL entries end the list */
    const char *full;        /* the whole answer text: OK results equal it, streamed pieces are a prefix of it */
    const char *delivered;   /* streamed: exactly this content before the fault, ANY_PREFIX, or NULL = unchecked */
    double read_timeout;     /* client_args.read_timeout, 0 = the default */
    const char *timeout;     /* expected error.timeout */
} fault;

static const fault FAULTS[] = {
    {"connection refused", "@refused", BOTH, ANYLLM_E_CONNECTION, {"refused"}, NULL, "", 0, NULL},
    {"reset before headers", "reset-before-headers", BOTH, ANYLLM_E_CONNECTION, {"reset", "closed"}, NULL, "", 0, NULL},
    {"reset mid-body", "reset-after-3", BOTH, ANYLLM_E_CONNECTION, {"reset", "closed"},
     "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7", "tok0 tok1 tok2 ", 0, NULL},
    {"dropped mid-stream (no terminator)", "drop-after-3", BOTH, ANYLLM_E_CONNECTION, {"closed", "reset"},
     "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7", "tok0 tok1 tok2 ", 0, NULL},
    {"stall longer than read_timeout", "stall-3000", BOTH, ANYLLM_E_TIMEOUT, {"read timeout"}, ECHO, ANY_PREFIX, 0.5,
     "read"},
    /* read_timeout is documented as the longest silence between received bytes: 1 s of bytes 100 ms apart must
     * pass with read_timeout 0.4 */
    {"slow trickle (a byte per 100 ms)", "trickle-100-10", BOTH, ANYLLM_OK, {NULL}, ECHO, NULL, 0.4, NULL},
    {"truncated JSON", "truncated-json", BOTH, ANYLLM_E_PROVIDER, {"not valid JSON"}, ECHO, "You said: ", 0, NULL},
    /* (Bedrock's streamed garbage is not an event stream: its first "frame" fails the prelude CRC) */
    {"invalid JSON", "garbage", BOTH, ANYLLM_E_PROVIDER, {"not valid JSON", "stream is corrupt"}, NULL, "", 0, NULL},
    {"invalid UTF-8", "bad-utf8", BOTH, ANYLLM_E_PROVIDER, {"UTF-8"}, NULL, "tok0 tok1 ", 0, NULL},
    {"UTF-8 split at every byte", "split-utf8", BOTH, ANYLLM_OK, {NULL}, "héllo wörld — 你好 👋 ok", NULL, 0, NULL},
    /* the provider's own words (OpenAI, Anthropic, Ollama, Mistral, Cohere, Bedrock), or for a 200 body without the
     * answer (Bedrock's error shape) that it has none */
    {"HTTP 200 with an error body", "error-event", PLAIN, ANYLLM_E_PROVIDER,
     {"server had an error", "overloaded", "unexpected eof", "internal server error", "failed while generating",
      "answer has no"},
     NULL, NULL, 0, NULL},
    {"error event inside a 200 stream", "error-event", STREAM, ANYLLM_E_PROVIDER,
     {"server had an error", "overloaded", "unexpected eof", "internal server error", "internal error",
      "unexpected error"}, ECHO, "You said: ", 0, NULL},
};
#define NFAULTS (sizeof FAULTS / sizeof *FAULTS)

static anyllm_client *g_client;
static int g_cases;

/* ---- requests ---------------------------------------------------------------------------------------------------- */

static json_t *preq(const proto *p, const char *model, bool stream) {
    char full[256], base[320];
    snprintf(full, sizeof full, "%s:%s", p->provider, model);
    snprintf(base, sizeof base, "%s%s", g_emu.url, p->suffix);
    json_t *req = json_pack("{s:s, s:[{s:s, s:s}], s:s, s:i}", "model", full, "messages", "role", "user",
                            "content", "Hello there", "api_base", base,
                            /* so that no protocol cuts a long answer at its default output limit */
                            "max_tokens", 200000);
    if (p->auth == AWS) {
        json_object_set_new(req, "aws_access_key_id", json_string(AWS_AKID));
        json_object_set_new(req, "aws_secret_access_key", json_string(AWS_SECRET));
        json_object_set_new(req, "aws_region", json_string("eu-central-1"));
    } else {
        json_object_set_new(req, "api_key", json_string(TEST_KEY));
    }
    if (p->auth == VERTEX) {
        json_object_set_new(req, "vertex_project", json_string("anyllm-test-project"));
        json_object_set_new(req, "vertex_location", json_string("europe-west4"));
    }
    if (stream) json_object_set_new(req, "stream", json_true());
    req_client_arg(req, "max_retries", json_integer(0));
    return req;
}

static bool contains_ci(const char *hay, const char *needle) {
    if (!hay || !needle) return false;
    size_t n = strlen(needle);
    for (const char *h = hay; *h; h++)
        if (strncasecmp(h, needle, n) == 0) return true;
    return false;
}

/* ---- what a streamed failure must satisfy -------------------------------------------------------------------------- */

/* Chunks delivered before the fault: each piece once (the content is a prefix of the answer), the expected ones
 * when known, and exactly them in error.partial. */
static void check_delivered(const char *w, collector *c, result *r, const char *full, const char *delivered) {
    CHECK(c->bad == 0, "%s: %d malformed chunks", w, c->bad);
    if (full) CHECK(strncmp(full, c->content, c->content_len) == 0 && c->content_len <= strlen(full),
                    "%s: delivered content \"%.200s\" is not a prefix of \"%s\" (a piece lost or repeated)", w, c->content,
                    full);
    if (delivered && strcmp(delivered, ANY_PREFIX) != 0)
        CHECK(str_eq(c->content, delivered), "%s: delivered \"%.200s\" before the fault, want \"%s\"", w, c->content,
              delivered);
    if (r->st == ANYLLM_OK) return;
    json_t *partial = jpath(r->j, "error.partial");
    if (c->count == 0) {
        CHECK(partial == NULL, "%s: a partial result although no chunk was delivered", w);
        return;
    }
    if (!CHECK(json_is_object(partial), "%s: %d chunks delivered but no error.partial", w, c->count)) return;
    const char *pc = jstr(partial, "choices[0].message.content");
    CHECK(str_eq(pc ? pc : "", c->content), "%s: partial content \"%.200s\" != delivered \"%.200s\"", w, or_null(pc),
          c->content);
    CHECK(json_is_null(jpath(partial, "choices[0].finish_reason")), "%s: the partial result claims a finish_reason", w);
    CHECK(str_eq(jstr(partial, "id"), c->first_id), "%s: partial id %s != chunk id %s", w, or_null(jstr(partial, "id")),
          c->first_id);
}

/* Runs one request and checks status, message, HTTP status and delivered chunks; returns the result (owned). */
static void run_case(const char *w, json_t *req, bool stream, anyllm_status st, const char *const *msg, int http,
                     const char *full, const char *delivered, collector *c, result *r) {
    g_cases++;
    collector_init(c);
    run_req(g_client, req, stream ? collect_chunk : NULL, stream ? c : NULL, r);
    CHECK(r->st == st, "%s: status %d (%s), want %d (%s): %.300s", w, r->st, status_type(r->st), st, status_type(st),
          or_null(r->raw));
    if (r->st != ANYLLM_OK) {
        const char *m = jstr(r->j, "error.message");
        bool said = !msg || !msg[0];
        for (int i = 0; msg && i < 6 && msg[i]; i++) said = said || contains_ci(m, msg[i]);
        CHECK(said, "%s: the message does not say what happened (want \"%s\"): %s", w, msg && msg[0] ? msg[0] : "",
              or_null(m));
        if (http) CHECK(jint(r->j, "error.status", -1) == http, "%s: error.status %lld, want %d", w,
                        jint(r->j, "error.status", -1), http);
        else CHECK(jpath(r->j, "error.status") == NULL || r->st != ANYLLM_E_CONNECTION,
                   "%s: a transport failure with an HTTP status", w);
    } else if (full && !stream) {
        CHECK(str_eq(jstr(r->j, "choices[0].message.content"), full), "%s: content \"%.200s\", want \"%.200s\"", w,
              or_null(jstr(r->j, "choices[0].message.content")), full);
    }
    if (stream) {
        check_delivered(w, c, r, full, delivered);
        if (r->st == ANYLLM_OK && full)
            CHECK(str_eq(c->content, full) && str_eq(jstr(r->j, "choices[0].message.content"), full),
                  "%s: streamed \"%.200s\", want \"%.200s\"", w, c->content, full);
    } else {
        CHECK(c->count == 0, "%s: on_chunk was called for a non-streamed call", w);
    }
}

/* ---- the fault table ------------------------------------------------------------------------------------------------ */

static void test_faults(void) {
    TEST("fault matrix: protocol x fault x streamed/not");
    char refused[96];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d", closed_port());
    for (size_t f = 0; f < NFAULTS; f++) {
        const fault *fa = &FAULTS[f];
        for (size_t i = 0; i < NPROTOS; i++) {
            const proto *p = &PROTOS[i];
            for (int stream = 0; stream < 2; stream++) {
                if (!(fa->modes & (stream ? STREAM : PLAIN))) continue;
                char w[192];
                snprintf(w, sizeof w, "%s / %s / %s", p->label, fa->name, stream ? "stream" : "plain");
                bool is_refused = strcmp(fa->model, "@refused") == 0;
                const char *model = is_refused ? "gpt-4o-mini" : fa->model;
                /* Bedrock answers a failed Converse with an error status, never 200 + error body (error-event is
                 * its 424): its emulator scripts that shape separately */
                if (p->auth == AWS && !stream && strcmp(model, "error-event") == 0) model = "error-body-200";
                json_t *req = preq(p, model, stream);
                if (is_refused) {
                    char base[160];
                    snprintf(base, sizeof base, "%s%s", refused, p->suffix);
                    json_object_set_new(req, "api_base", json_string(base));
                }
                if (fa->read_timeout > 0) req_client_arg(req, "read_timeout", json_real(fa->read_timeout));
                collector c;
                result r;
                run_case(w, req, stream, fa->st, fa->msg, 0, fa->full, fa->delivered, &c, &r);
                if (fa->timeout)
                    CHECK(str_eq(jstr(r.j, "error.timeout"), fa->timeout) && r.secs < fa->read_timeout + 2.0,
                          "%s: error.timeout %s after %.2f s", w, or_null(jstr(r.j, "error.timeout")), r.secs);
                if (fa->st != ANYLLM_E_CONNECTION || !is_refused)
                    CHECK(str_eq(jstr(r.j, "error.provider"), p->provider) || r.st == ANYLLM_OK, "%s: error.provider %s", w,
                          or_null(jstr(r.j, "error.provider")));
                collector_free(&c);
                res_free(&r);
                json_decref(req);
            }
        }
    }
}

/* ---- big answers: a 20 MB body, a 10,000-chunk stream ------------------------------------------------------------- */

/* huge-N's text: 16-byte words "w%014d " numbered from 0. */
static bool huge_text_ok(const char *s, size_t want_len, char *why, size_t whylen) {
    if (!s) return snprintf(why, whylen, "no content"), false;
    size_t n = strlen(s);
    if (n != want_len) return snprintf(why, whylen, "%zu bytes, want %zu", n, want_len), false;
    char word[17];
    for (size_t i = 0; i < n / 16; i++) {
        snprintf(word, sizeof word, "w%014zu ", i);
        if (memcmp(s + i * 16, word, 16) != 0) return snprintf(why, whylen, "word %zu is \"%.16s\"", i, s + i * 16), false;
    }
    return true;
}

static void test_big(void) {
    TEST("a 20 MB body and a 10,000-chunk stream on every protocol");
    int mib = scaled(20, 2), n = scaled(10000, 400);
    char huge[32], lng[32], why[128];
    snprintf(huge, sizeof huge, "huge-%d", mib);
    snprintf(lng, sizeof lng, "long-%d", n);
    char *tokens = tokens_text(n);
    for (size_t i = 0; i < NPROTOS; i++) {
        const proto *p = &PROTOS[i];
        for (int stream = 0; stream < 2; stream++) {
            char w[160];
            snprintf(w, sizeof w, "%s / %d MiB body / %s", p->label, mib, stream ? "stream" : "plain");
            json_t *req = preq(p, huge, stream);
            collector c;
            result r;
            run_case(w, req, stream, ANYLLM_OK, NULL, 0, NULL, NULL, &c, &r);
            CHECK(huge_text_ok(jstr(r.j, "choices[0].message.content"), (size_t)mib << 20, why, sizeof why), "%s: result: %s",
                  w, why);
            if (stream) CHECK(huge_text_ok(c.content, (size_t)mib << 20, why, sizeof why), "%s: chunks: %s", w, why);
            collector_free(&c);
            res_free(&r);
            json_decref(req);

            snprintf(w, sizeof w, "%s / %d chunks / %s", p->label, n, stream ? "stream" : "plain");
            req = preq(p, lng, stream);
            run_case(w, req, stream, ANYLLM_OK, NULL, 0, tokens, NULL, &c, &r);
            CHECK(str_eq(jstr(r.j, "choices[0].message.content"), tokens), "%s: content differs (%zu bytes)", w,
                  strlen(or_null(jstr(r.j, "choices[0].message.content"))));
            if (stream) CHECK(c.count >= n, "%s: %d chunks, want at least %d", w, c.count, n);
            collector_free(&c);
            res_free(&r);
            json_decref(req);
        }
    }
    free(tokens);
}

/* ---- HTTP statuses ------------------------------------------------------------------------------------------------ */

/* The documented mapping (anyllm_types.h, README "Errors") for a body that names no special error, with the
 * protocols' documented exceptions (docs/providers.md): Cohere's 498 "invalid token" is authentication and its
 * 499 "request cancelled" (on Cohere's side) a provider failure; Bedrock's 424 is ModelErrorException, a provider
 * failure when its type says so (typed: a JSON body and x-amzn-ErrorType). */
static anyllm_status mapped(const proto *p, int status, bool typed) {
    if (strcmp(p->provider, "cohere") == 0 && status == 498) return ANYLLM_E_AUTHENTICATION;
    if (strcmp(p->provider, "cohere") == 0 && status == 499) return ANYLLM_E_PROVIDER;
    if (p->auth == AWS && status == 424 && typed) return ANYLLM_E_PROVIDER;
    switch (status) {
    case 407: return ANYLLM_E_CONNECTION; /* only a proxy sends it (docs/reliability-tls.md) */
    case 401: return ANYLLM_E_AUTHENTICATION;
    case 402: return ANYLLM_E_INSUFFICIENT_FUNDS;
    case 403: return ANYLLM_E_PERMISSION;
    case 404: return ANYLLM_E_NOT_FOUND;
    case 408: return ANYLLM_E_TIMEOUT;
    case 429: return ANYLLM_E_RATE_LIMIT;
    }
    return status < 500 ? ANYLLM_E_INVALID_REQUEST : ANYLLM_E_PROVIDER;
}

static void test_statuses(void) {
    TEST("every status 400-599, with a JSON body, a text body and no body");
    static const int sample[] = {400, 401, 402, 403, 404, 405, 408, 409, 413, 418, 422, 429, 451, 499,
                                 500, 501, 502, 503, 504, 520, 529, 599};
    bool all = !under_valgrind();
    int count = all ? 200 : (int)(sizeof sample / sizeof *sample);
    const char *kinds[3] = {"", "-text", "-empty"};
    for (size_t i = 0; i < NPROTOS; i++) {
        const proto *p = &PROTOS[i];
        for (int k = 0; k < count; k++) {
            int status = all ? 400 + k : sample[k];
            for (int kind = 0; kind < 3; kind++) {
                /* the streamed variant of every status over the JSON body; of a sample for the others */
                for (int stream = 0; stream < (kind == 0 || status % 50 == 0 || status == 429 ? 2 : 1); stream++) {
                    char model[48], w[160];
                    snprintf(model, sizeof model, "status-%d%s", status, kinds[kind]);
                    snprintf(w, sizeof w, "%s / %s / %s", p->label, model, stream ? "stream" : "plain");
                    json_t *req = preq(p, model, stream);
                    collector c;
                    result r;
                    char num[16];
                    snprintf(num, sizeof num, "HTTP %d", status);
                    const char *msg[6] = {status == 407 ? "proxy requires authentication"
                                          : kind == 1   ? "upstream error"
                                          : kind == 2   ? num
                                                        : NULL};
                    run_case(w, req, stream, mapped(p, status, kind == 0), msg, status, NULL, "", &c, &r);
                    if (kind == 0 && status != 404 && status != 407)  /* the provider's own JSON body is kept */
                        CHECK(json_is_object(jpath(r.j, "error.provider_error")) || status == 502 || status == 504,
                              "%s: provider_error is not the provider's JSON body", w);
                    collector_free(&c);
                    res_free(&r);
                    json_decref(req);
                }
            }
        }
    }
}

/* ---- Retry-After ------------------------------------------------------------------------------------------------ */

static void test_retry_after(void) {
    TEST("Retry-After as seconds and as an HTTP date, on every protocol");
    for (size_t i = 0; i < NPROTOS; i++) {
        const proto *p = &PROTOS[i];
        for (int stream = 0; stream < 2; stream++) {
            char w[160];
            collector c;
            result r;
            const char *msg[6] = {NULL};

            snprintf(w, sizeof w, "%s / Retry-After: 2 / %s", p->label, stream ? "stream" : "plain");
            json_t *req = preq(p, "retry-after-2", stream);
            run_case(w, req, stream, ANYLLM_E_RATE_LIMIT, msg, 429, NULL, "", &c, &r);
            CHECK(jnum(r.j, "error.retry_after", -1) == 2.0, "%s: retry_after %g, want 2", w, jnum(r.j, "error.retry_after", -1));
            collector_free(&c);
            res_free(&r);
            json_decref(req);

            snprintf(w, sizeof w, "%s / Retry-After: <date 3 s ahead> / %s", p->label, stream ? "stream" : "plain");
            req = preq(p, "retry-after-date", stream);
            run_case(w, req, stream, ANYLLM_E_RATE_LIMIT, msg, 429, NULL, "", &c, &r);
            double ra = jnum(r.j, "error.retry_after", -1);
            CHECK(ra >= 1.0 && ra <= 3.5, "%s: retry_after %g, want about 3", w, ra);
            collector_free(&c);
            res_free(&r);
            json_decref(req);
        }
        /* and the wait is honoured by a retry */
        char w[160];
        snprintf(w, sizeof w, "%s / Retry-After: 1, one retry", p->label);
        json_t *req = preq(p, "retry-after-1", false);
        req_client_arg(req, "max_retries", json_integer(1));
        collector c;
        result r;
        run_case(w, req, false, ANYLLM_E_RATE_LIMIT, NULL, 429, NULL, "", &c, &r);
        CHECK(r.secs >= 0.95 && r.secs < 4.0, "%s: took %.2f s, want >= 1 (Retry-After honoured)", w, r.secs);
        CHECK(jint(r.j, "error.attempts", -1) == 2, "%s: attempts %lld, want 2", w, jint(r.j, "error.attempts", -1));
        collector_free(&c);
        res_free(&r);
        json_decref(req);
    }
}

int main(void) {
    test_setup();
    add_secret(AWS_SECRET);
    g_client = anyllm_client_new(NULL, NULL);
    test_faults();
    test_big();
    test_statuses();
    test_retry_after();
    anyllm_client_free(g_client);
    fprintf(stderr, "%d cases\n", g_cases);
    return test_teardown();
}
