/*
 * test_errors — every error the foundation can produce from a provider or the network, asserted by status
 * code, error.type and (where there is one) the HTTP status; retries and Retry-After; partial results of
 * broken streams; timeouts and connection failures. util.h's check_output also verifies on every error
 * that no API key appears in the JSON.
 */
#include "util.h"

static anyllm_client *g_client;

/* A request for model with client_args.max_retries = retries (-1: leave the default). */
static json_t *err_req(const char *model, int retries, bool stream) {
    json_t *req = req_new(model);
    if (retries >= 0) req_client_arg(req, "max_retries", json_integer(retries));
    if (stream) json_object_set_new(req, "stream", json_true());
    return req;
}

/* Expects status st with http status `http` (0: no "status" field expected) and provider "openai". */
static void expect_http_error(const char *model, int retries, bool stream, anyllm_status st, int http, result *r) {
    json_t *req = err_req(model, retries, stream);
    char what[96];
    snprintf(what, sizeof what, "%s%s", model, stream ? " (stream)" : "");
    expect_error(g_client, req, st, r, what);
    if (http) CHECK(jint(r->j, "error.status", -1) == http, "%s: error.status %lld, want %d", what, jint(r->j, "error.status", -1), http);
    CHECK(str_eq(jstr(r->j, "error.provider"), "openai"), "%s: error.provider %s", what, or_null(jstr(r->j, "error.provider")));
    CHECK(jpath(r->j, "error.partial") == NULL, "%s: a partial result although nothing was delivered", what);
    json_decref(req);
}

static void test_http_statuses(void) {
    TEST("HTTP error statuses");
    result r;
    expect_http_error("openai:status-400", 0, false, ANYLLM_E_INVALID_REQUEST, 400, &r);
    CHECK(json_is_object(jpath(r.j, "error.provider_error")), "status-400: provider_error is not the provider's JSON body");
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "scripted HTTP 400") != NULL, "status-400: message is not the provider's: %s",
          or_null(jstr(r.j, "error.message")));
    CHECK(jint(r.j, "error.attempts", 1) == 1, "status-400 was retried");
    res_free(&r);
    expect_http_error("openai:status-400", -1, true, ANYLLM_E_INVALID_REQUEST, 400, &r);
    res_free(&r);
    expect_http_error("openai:status-401", -1, false, ANYLLM_E_AUTHENTICATION, 401, &r);
    CHECK(jint(r.j, "error.attempts", 1) == 1, "401 was retried");
    res_free(&r);
    expect_http_error("openai:status-403", -1, false, ANYLLM_E_PERMISSION, 403, &r);
    res_free(&r);
    expect_http_error("openai:status-404", -1, false, ANYLLM_E_NOT_FOUND, 404, &r);
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "does not exist") != NULL, "404 message %s", or_null(jstr(r.j, "error.message")));
    CHECK(str_eq(jstr(r.j, "error.provider_error.error.code"), "model_not_found"), "404 provider_error");
    res_free(&r);
    expect_http_error("openai:html-404", -1, false, ANYLLM_E_NOT_FOUND, 404, &r);
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "<") == NULL, "html-404 message keeps HTML tags: %s", or_null(jstr(r.j, "error.message")));
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "404") != NULL, "html-404 message %s", or_null(jstr(r.j, "error.message")));
    res_free(&r);
    expect_http_error("openai:html-404", -1, true, ANYLLM_E_NOT_FOUND, 404, &r);
    res_free(&r);
    expect_http_error("openai:status-409", 0, false, ANYLLM_E_INVALID_REQUEST, 409, &r);
    res_free(&r);
    expect_http_error("openai:status-422", 0, false, ANYLLM_E_INVALID_REQUEST, 422, &r);
    res_free(&r);
    expect_http_error("openai:status-402", -1, false, ANYLLM_E_INSUFFICIENT_FUNDS, 402, &r);
    res_free(&r);
    expect_http_error("openai:quota", -1, false, ANYLLM_E_INSUFFICIENT_FUNDS, 429, &r);
    CHECK(jint(r.j, "error.attempts", 1) == 1, "quota was retried (attempts %lld)", jint(r.j, "error.attempts", 1));
    CHECK(r.secs < 1.0, "quota took %.2f s (retried?)", r.secs);
    res_free(&r);
    expect_http_error("openai:quota", -1, true, ANYLLM_E_INSUFFICIENT_FUNDS, 429, &r);
    res_free(&r);
    expect_http_error("openai:context-length", -1, false, ANYLLM_E_CONTEXT_LENGTH, 400, &r);
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "maximum context length") != NULL, "context-length message %s",
          or_null(jstr(r.j, "error.message")));
    res_free(&r);
    expect_http_error("openai:context-length", -1, true, ANYLLM_E_CONTEXT_LENGTH, 400, &r);
    res_free(&r);
    expect_http_error("openai:content-filter", -1, false, ANYLLM_E_CONTENT_FILTER, 400, &r);
    res_free(&r);
    expect_http_error("openai:status-429", 0, false, ANYLLM_E_RATE_LIMIT, 429, &r);
    CHECK(jnum(r.j, "error.retry_after", -1) == 1.5, "status-429: retry_after %g, want 1.5 (retry-after-ms)", jnum(r.j, "error.retry_after", -1));
    CHECK(jint(r.j, "error.attempts", -1) == 1, "status-429 max_retries 0: attempts %lld", jint(r.j, "error.attempts", -1));
    res_free(&r);
    expect_http_error("openai:retry-after-date", 0, false, ANYLLM_E_RATE_LIMIT, 429, &r);
    double ra = jnum(r.j, "error.retry_after", -1);
    CHECK(ra >= 1.0 && ra <= 3.5, "retry-after-date: retry_after %g, want about 3 (an HTTP date 3 s ahead)", ra);
    res_free(&r);
    expect_http_error("openai:status-500", 0, false, ANYLLM_E_PROVIDER, 500, &r);
    CHECK(jint(r.j, "error.attempts", -1) == 1, "status-500 max_retries 0: attempts %lld", jint(r.j, "error.attempts", -1));
    res_free(&r);
    expect_http_error("openai:status-500", 0, true, ANYLLM_E_PROVIDER, 500, &r);
    res_free(&r);
    expect_http_error("openai:status-502", 0, false, ANYLLM_E_PROVIDER, 502, &r);
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "<") == NULL, "502 message keeps HTML: %s", or_null(jstr(r.j, "error.message")));
    res_free(&r);
    expect_http_error("openai:status-503", 0, false, ANYLLM_E_PROVIDER, 503, &r);
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "overloaded") != NULL, "503 message %s", or_null(jstr(r.j, "error.message")));
    res_free(&r);
    expect_http_error("openai:status-504", 0, false, ANYLLM_E_PROVIDER, 504, &r);
    res_free(&r);
}

static void test_keys(void) {
    TEST("authentication and permission by key");
    const char *bad = "sk-bad-0123456789abcdefSECRET";
    const char *noperm = "sk-noperm-0123456789abcdefSECRET";
    add_secret(bad);
    add_secret(noperm);
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = err_req("openai:gpt-4o-mini", -1, stream);
        json_object_set_new(req, "api_key", json_string(bad));
        result r;
        expect_error(g_client, req, ANYLLM_E_AUTHENTICATION, &r, "sk-bad key");
        CHECK(jint(r.j, "error.status", -1) == 401, "sk-bad: status %lld", jint(r.j, "error.status", -1));
        res_free(&r);
        json_object_set_new(req, "api_key", json_string(noperm));
        expect_error(g_client, req, ANYLLM_E_PERMISSION, &r, "sk-noperm key");
        CHECK(jint(r.j, "error.status", -1) == 403, "sk-noperm: status %lld", jint(r.j, "error.status", -1));
        res_free(&r);
        json_decref(req);
    }
    /* Azure's key header: the same mapping */
    json_t *req = req_new("azureopenai:dep");
    json_object_set_new(req, "api_base", json_string(g_emu.url));
    json_object_set_new(req, "api_key", json_string(bad));
    result r;
    expect_error(g_client, req, ANYLLM_E_AUTHENTICATION, &r, "azure sk-bad");
    res_free(&r);
    json_decref(req);
}

static void test_bad_answers(void) {
    TEST("unreadable answers and error events");
    result r;
    expect_http_error("openai:garbage", 0, false, ANYLLM_E_PROVIDER, 0, &r);
    res_free(&r);
    expect_http_error("openai:garbage", 0, true, ANYLLM_E_PROVIDER, 0, &r);
    res_free(&r);
    expect_http_error("openai:error-event", 0, false, ANYLLM_E_PROVIDER, 0, &r);
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "The server had an error") != NULL, "error-event message %s",
          or_null(jstr(r.j, "error.message")));
    res_free(&r);

    /* an error event mid-stream: the chunks delivered stand, and the error carries them as partial */
    json_t *req = err_req("openai:error-event", 0, true);
    collector c;
    collector_init(&c);
    run_req(g_client, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_E_PROVIDER, "error-event stream: status %d: %s", r.st, or_null(r.raw));
    CHECK(c.count == 3 && str_eq(c.content, "You said: "), "error-event stream: %d chunks, \"%s\"", c.count, c.content);
    CHECK(str_eq(jstr(r.j, "error.partial.choices[0].message.content"), "You said: "), "error-event partial content %s",
          or_null(jstr(r.j, "error.partial.choices[0].message.content")));
    CHECK(strstr(or_null(jstr(r.j, "error.message")), "The server had an error") != NULL, "error-event stream message %s",
          or_null(jstr(r.j, "error.message")));
    CHECK(json_is_object(jpath(r.j, "error.provider_error")), "error-event: provider_error missing");
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

static void test_timeouts(void) {
    TEST("timeouts");
    /* streamed: the role chunk, then 3 s of silence; read_timeout 0.5 */
    json_t *req = err_req("openai:stall-3000", 0, true);
    req_client_arg(req, "read_timeout", json_real(0.5));
    collector c;
    collector_init(&c);
    result r;
    run_req(g_client, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_E_TIMEOUT, "stream stall: status %d: %s", r.st, or_null(r.raw));
    CHECK(str_eq(jstr(r.j, "error.timeout"), "read"), "stream stall: error.timeout %s", or_null(jstr(r.j, "error.timeout")));
    CHECK(r.secs >= 0.45 && r.secs < 2.5, "stream stall: took %.2f s with read_timeout 0.5", r.secs);
    CHECK(c.count == 1, "stream stall: %d chunks before the stall, want 1", c.count);
    CHECK(json_is_object(jpath(r.j, "error.partial")), "stream stall: no partial although a chunk was delivered");
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* non-streamed: 3 s before the headers */
    req = err_req("openai:stall-3000", 0, false);
    req_client_arg(req, "read_timeout", json_real(0.5));
    run_req(g_client, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_E_TIMEOUT, "stall: status %d: %s", r.st, or_null(r.raw));
    CHECK(str_eq(jstr(r.j, "error.timeout"), "read"), "stall: error.timeout %s", or_null(jstr(r.j, "error.timeout")));
    CHECK(r.secs < 2.5, "stall: took %.2f s", r.secs);
    res_free(&r);
    json_decref(req);

    /* the client's read_timeout applies when the call gives none */
    anyllm_client *c2 = anyllm_client_new("{\"read_timeout\": 0.4, \"max_retries\": 0}", NULL);
    req = req_new("openai:stall-3000");
    run_req(c2, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_E_TIMEOUT && str_eq(jstr(r.j, "error.timeout"), "read") && r.secs < 2.5,
          "client read_timeout: status %d, %.2f s: %s", r.st, r.secs, or_null(r.raw));
    res_free(&r);
    /* and client_args override it */
    req_client_arg(req, "read_timeout", json_real(10.0));
    json_object_set_new(req, "model", json_string("openai:stall-700"));
    run_req(c2, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK, "client_args read_timeout 10 over the client's 0.4: status %d: %s", r.st, or_null(r.raw));
    res_free(&r);
    json_decref(req);
    anyllm_client_free(c2);

    /* total timeout: a slow stream that never goes silent for long */
    req = err_req("openai:slow-30-100", 0, true);
    req_client_arg(req, "timeout", json_real(0.8));
    req_client_arg(req, "read_timeout", json_real(10.0));
    collector_init(&c);
    run_req(g_client, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_E_TIMEOUT, "total timeout: status %d: %s", r.st, or_null(r.raw));
    CHECK(str_eq(jstr(r.j, "error.timeout"), "total"), "total timeout: error.timeout %s", or_null(jstr(r.j, "error.timeout")));
    CHECK(r.secs >= 0.7 && r.secs < 2.5, "total timeout 0.8: took %.2f s", r.secs);
    CHECK(c.count >= 2, "total timeout: only %d chunks before it", c.count);
    CHECK(str_eq(jstr(r.j, "error.partial.choices[0].message.content"), c.content), "total timeout: partial %s != delivered \"%s\"",
          or_null(jstr(r.j, "error.partial.choices[0].message.content")), c.content);
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

static void test_connection(void) {
    TEST("connection failures");
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", closed_port());
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = err_req("openai:gpt-4o-mini", 0, stream);
        json_object_set_new(req, "api_base", json_string(base));
        result r;
        expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "connection refused");
        CHECK(r.secs < 2.0, "connection refused took %.2f s", r.secs);
        CHECK(jint(r.j, "error.attempts", -1) == 1, "refused, max_retries 0: attempts %lld", jint(r.j, "error.attempts", -1));
        CHECK(jpath(r.j, "error.status") == NULL, "a refused connection has no HTTP status");
        res_free(&r);
        json_decref(req);
    }
    /* connection errors are retried */
    json_t *req = err_req("openai:gpt-4o-mini", 1, false);
    json_object_set_new(req, "api_base", json_string(base));
    result r;
    expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "connection refused, one retry");
    CHECK(jint(r.j, "error.attempts", -1) == 2, "refused, max_retries 1: attempts %lld", jint(r.j, "error.attempts", -1));
    res_free(&r);
    json_decref(req);

    /* the proxy option is honoured: a proxy that refuses connections */
    req = err_req("openai:gpt-4o-mini", 0, false);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", closed_port());
    req_client_arg(req, "proxy", json_string(proxy));
    expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "proxy refusing connections");
    res_free(&r);
    json_decref(req);

    /* a stream cut after 3 content chunks: CONNECTION, the 3 chunks stand, partial has them */
    req = err_req("openai:drop-after-3", -1, true);
    collector c;
    collector_init(&c);
    run_req(g_client, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_E_CONNECTION, "drop-after-3: status %d: %s", r.st, or_null(r.raw));
    CHECK(c.count == 4 && str_eq(c.content, "tok0 tok1 tok2 "), "drop-after-3: %d chunks, \"%s\"", c.count, c.content);
    CHECK(str_eq(jstr(r.j, "error.partial.choices[0].message.content"), "tok0 tok1 tok2 "), "drop-after-3 partial %s",
          or_null(jstr(r.j, "error.partial.choices[0].message.content")));
    CHECK(json_is_null(jpath(r.j, "error.partial.choices[0].finish_reason")), "drop-after-3: partial claims a finish_reason %s",
          or_null(jstr(r.j, "error.partial.choices[0].finish_reason")));
    CHECK(jint(r.j, "error.attempts", -1) == 1, "a stream that delivered chunks must not be retried (attempts %lld)",
          jint(r.j, "error.attempts", -1));
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* non-streamed: Content-Length promised more than was sent */
    req = err_req("openai:drop-after-3", 0, false);
    expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "truncated body");
    res_free(&r);
    json_decref(req);
}

static void test_retries(void) {
    TEST("retries");
    char model[96];
    /* flaky-2: two 500s, then success, within the default max_retries (2) */
    snprintf(model, sizeof model, "openai:flaky-2-%d-a", (int)getpid());
    json_t *req = req_new(model);
    result r;
    run_req(g_client, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK, "flaky-2 with default retries: status %d: %s", r.st, or_null(r.raw));
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: Hello there"), "flaky-2 content %s",
          or_null(jstr(r.j, "choices[0].message.content")));
    res_free(&r);
    json_decref(req);

    /* flaky-2 streamed */
    snprintf(model, sizeof model, "openai:flaky-2-%d-s", (int)getpid());
    req = err_req(model, -1, true);
    collector c;
    collector_init(&c);
    run_req(g_client, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_OK && c.count == 7 && str_eq(c.content, "You said: Hello there"),
          "flaky-2 stream: status %d, %d chunks, \"%s\"", r.st, c.count, c.content);
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* flaky-3 with max_retries 1: two attempts, both 500 */
    snprintf(model, sizeof model, "openai:flaky-3-%d-b", (int)getpid());
    req = err_req(model, 1, false);
    expect_error(g_client, req, ANYLLM_E_PROVIDER, &r, "flaky-3 max_retries 1");
    CHECK(jint(r.j, "error.attempts", -1) == 2, "flaky-3 max_retries 1: attempts %lld, want 2", jint(r.j, "error.attempts", -1));
    CHECK(jint(r.j, "error.status", -1) == 500, "flaky-3: status %lld", jint(r.j, "error.status", -1));
    res_free(&r);
    json_decref(req);

    /* max_retries from the client's options, overridden per call */
    anyllm_client *c0 = anyllm_client_new("{\"max_retries\": 0}", NULL);
    snprintf(model, sizeof model, "openai:flaky-1-%d-c", (int)getpid());
    req = req_new(model);
    run_req(c0, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_E_PROVIDER && jint(r.j, "error.attempts", -1) == 1, "client max_retries 0: status %d: %s", r.st, or_null(r.raw));
    res_free(&r);
    snprintf(model, sizeof model, "openai:flaky-1-%d-d", (int)getpid());
    json_object_set_new(req, "model", json_string(model));
    req_client_arg(req, "max_retries", json_integer(1));
    run_req(c0, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK, "client_args max_retries 1 over the client's 0: status %d: %s", r.st, or_null(r.raw));
    res_free(&r);
    json_decref(req);
    anyllm_client_free(c0);

    /* 429 with retry-after-ms 1500: one retry waits >= 1.5 s */
    req = err_req("openai:status-429", 1, false);
    expect_error(g_client, req, ANYLLM_E_RATE_LIMIT, &r, "status-429 max_retries 1");
    CHECK(r.secs >= 1.4, "status-429 with one retry took %.2f s: Retry-After (1.5 s) not honoured", r.secs);
    CHECK(r.secs < 4.0, "status-429 with one retry took %.2f s", r.secs);
    CHECK(jint(r.j, "error.attempts", -1) == 2, "status-429 max_retries 1: attempts %lld", jint(r.j, "error.attempts", -1));
    CHECK(jnum(r.j, "error.retry_after", -1) == 1.5, "retry_after %g", jnum(r.j, "error.retry_after", -1));
    res_free(&r);
    json_decref(req);

    /* 500s without Retry-After back off too, but briefly */
    req = err_req("openai:status-500", 2, false);
    expect_error(g_client, req, ANYLLM_E_PROVIDER, &r, "status-500 max_retries 2");
    CHECK(jint(r.j, "error.attempts", -1) == 3, "status-500 max_retries 2: attempts %lld", jint(r.j, "error.attempts", -1));
    CHECK(r.secs >= 0.3 && r.secs < 5.0, "status-500 with 2 retries took %.2f s", r.secs);
    res_free(&r);
    json_decref(req);
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    test_http_statuses();
    test_keys();
    test_bad_answers();
    test_timeouts();
    test_connection();
    test_retries();
    anyllm_client_free(g_client);
    return test_teardown();
}
