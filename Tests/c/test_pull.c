/*
 * test_pull — the pull API: anyllm_completion_open + anyllm_call_next + anyllm_call_wait. Chunks arrive as JSON
 * arrays, in order, each once, and are the ones the aggregate is built from; a non-streamed call pulls no chunk;
 * timeouts return without ending the call; cancel from another thread ends a blocked pull; freeing an unpulled
 * call or its client neither hangs nor leaks; errors (before and after chunks) end the pull and carry the partial;
 * several native protocols; a client with max_connections_per_host (the threaded engine) pulls too.
 */
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

/* What pulling one call to its end gave. */
typedef struct pulled {
    int batches;
    int chunks;
    int bad;              /* batches that were not a JSON array of chunk objects, or len != strlen */
    int timeouts;
    size_t max_len;       /* the longest array handed out */
    size_t total_len;
    char content[65536];  /* the concatenated content deltas */
    anyllm_status status; /* anyllm_call_wait's */
    json_t *outcome;      /* its JSON */
    int finish_reasons;
} pulled;

static void take_batch(pulled *p, const char *data, size_t len) {
    p->batches++;
    if (strlen(data) != len) p->bad++;
    if (len > p->max_len) p->max_len = len;
    p->total_len += len;
    json_t *arr = jparse(data);
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        p->bad++;
        json_decref(arr);
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        p->chunks++;
        if (!str_eq(jstr(c, "object"), "chat.completion.chunk")) p->bad++;
        const char *d = jstr(c, "choices[0].delta.content");
        if (d) strncat(p->content, d, sizeof p->content - strlen(p->content) - 1);
        if (jstr(c, "choices[0].finish_reason")) p->finish_reasons++;
    }
    json_decref(arr);
}

/* Pulls until the end with the given per-pull timeout; then waits for the outcome and frees the handle. */
static void pull_all(anyllm_call *h, int timeout_ms, pulled *p) {
    memset(p, 0, sizeof *p);
    for (int guard = 0; guard < 100000; guard++) {
        const char *data = (const char *)1;
        size_t len = 7;
        anyllm_status st = anyllm_call_next(h, timeout_ms, &data, &len);
        if (st == ANYLLM_E_TIMEOUT) {
            CHECK(data == NULL && len == 0, "timeout left data %p len %zu", (void *)data, len);
            p->timeouts++;
            continue;
        }
        if (!CHECK(st == ANYLLM_OK, "call_next returned %d", st)) break;
        if (data == NULL) {
            CHECK(len == 0, "end with len %zu", len);
            break;
        }
        take_batch(p, data, len);
    }
    /* After the end, call_next keeps saying so. */
    const char *data = (const char *)1;
    size_t len = 7;
    CHECK(anyllm_call_next(h, 0, &data, &len) == ANYLLM_OK && data == NULL && len == 0, "call_next after the end");
    char *out = NULL;
    p->status = anyllm_call_wait(h, &out);
    check_output(p->status, out, out ? strlen(out) : 0, &p->outcome, "pull outcome");
    anyllm_string_free(out);
    anyllm_call_free(h);
}

static anyllm_call *open_req(anyllm_client *client, json_t *req) {
    char *body = jdump(req);
    anyllm_call *h = anyllm_completion_open(client, body);
    free(body);
    json_decref(req);
    CHECK(h != NULL, "completion_open returned NULL");
    return h;
}

static json_t *stream_req(const char *model) {
    json_t *r = req_new(model);
    json_object_set_new(r, "stream", json_true());
    return r;
}

static void test_stream_and_plain(void) {
    TEST("a streamed call pulled to its end");
    pulled p;
    pull_all(open_req(NULL, stream_req("openai:gpt-4o-mini")), -1, &p);
    CHECK(p.bad == 0 && p.chunks >= 4, "%d chunks in %d batches, %d bad", p.chunks, p.batches, p.bad);
    CHECK(str_eq(p.content, "You said: Hello there"), "content \"%s\"", p.content);
    CHECK(p.finish_reasons == 1, "%d finish reasons", p.finish_reasons);
    CHECK(p.status == ANYLLM_OK, "status %d", p.status);
    CHECK(str_eq(jstr(p.outcome, "choices[0].message.content"), "You said: Hello there"), "aggregate content %s",
          or_null(jstr(p.outcome, "choices[0].message.content")));
    json_decref(p.outcome);

    TEST("a long stream: every chunk once, in order");
    pull_all(open_req(NULL, stream_req("openai:long-500")), -1, &p);
    CHECK(p.bad == 0 && p.chunks >= 500, "%d chunks, %d bad", p.chunks, p.bad);
    CHECK(p.batches < p.chunks, "%d batches for %d chunks: no batching", p.batches, p.chunks);
    const char *agg = jstr(p.outcome, "choices[0].message.content");
    CHECK(agg && str_eq(agg, p.content), "pulled content and aggregate differ (%zu vs %zu bytes)", strlen(p.content),
          agg ? strlen(agg) : 0);
    json_decref(p.outcome);

    TEST("a stream read at once is handed out in arrays of at most 32 KiB (and a chunk)");
    pull_all(open_req(NULL, stream_req("openai:long-3000")), -1, &p);
    CHECK(p.bad == 0 && p.chunks >= 3000, "%d chunks, %d bad", p.chunks, p.bad);
    CHECK(p.max_len <= 32768 + 1024, "an array of %zu bytes", p.max_len);
    CHECK(p.total_len > 3 * 32768 && (size_t)p.batches * (32768 + 1024) >= p.total_len, "%d arrays for %zu bytes",
          p.batches, p.total_len);
    agg = jstr(p.outcome, "choices[0].message.content");
    CHECK(agg && str_eq(agg, p.content), "pulled content and aggregate differ (%zu vs %zu bytes)", strlen(p.content),
          agg ? strlen(agg) : 0);
    json_decref(p.outcome);

    TEST("a non-streamed call pulls no chunk");
    pull_all(open_req(NULL, req_new("openai:gpt-4o-mini")), -1, &p);
    CHECK(p.batches == 0, "%d batches", p.batches);
    CHECK(p.status == ANYLLM_OK && str_eq(jstr(p.outcome, "choices[0].message.content"), "You said: Hello there"),
          "status %d", p.status);
    json_decref(p.outcome);

    TEST("native protocols pull too");
    const char *models[] = {"anthropic:claude-3-5-haiku", "gemini:gemini-2.0-flash", "ollama:llama3.2"};
    const char *bases[] = {"", "/v1beta", ""};
    for (int i = 0; i < 3; i++) {
        json_t *r = stream_req(models[i]);
        char base[400];
        snprintf(base, sizeof base, "%s%s", g_emu.url, bases[i]);
        json_object_set_new(r, "api_base", json_string(base));
        pull_all(open_req(NULL, r), -1, &p);
        CHECK(p.status == ANYLLM_OK && p.bad == 0 && str_eq(p.content, "You said: Hello there"),
              "%s: status %d, %d bad, content \"%s\"", models[i], p.status, p.bad, p.content);
        json_decref(p.outcome);
    }
}

static void test_timeouts(void) {
    TEST("timeout_ms: returns without ending the call");
    pulled p;
    double t0 = now_s();
    anyllm_call *h = open_req(NULL, stream_req("openai:slow-5-150"));
    pull_all(h, 20, &p);
    double took = now_s() - t0;
    CHECK(p.timeouts >= 5, "%d timeouts over a %.2f s stream pulled with 20 ms limits", p.timeouts, took);
    CHECK(p.status == ANYLLM_OK && p.chunks >= 5 && p.bad == 0, "status %d, %d chunks", p.status, p.chunks);
    json_decref(p.outcome);

    TEST("timeout 0: only what is ready");
    h = open_req(NULL, stream_req("openai:stall-400"));
    const char *data;
    size_t len;
    int zero_timeouts = 0;
    t0 = now_s();
    for (int i = 0; i < 5; i++) {
        if (anyllm_call_next(h, 0, &data, &len) == ANYLLM_E_TIMEOUT) zero_timeouts++;
    }
    CHECK(zero_timeouts >= 3 && now_s() - t0 < 0.3, "%d of 5 immediate pulls timed out in %.3f s", zero_timeouts,
          now_s() - t0);
    pull_all(h, -1, &p);
    CHECK(p.status == ANYLLM_OK, "status %d", p.status);
    json_decref(p.outcome);
}

typedef struct canceller {
    anyllm_call *h;
    int after_ms;
} canceller;

static void *cancel_later(void *arg) {
    canceller *c = arg;
    sleep_ms(c->after_ms);
    anyllm_call_cancel(c->h);
    return NULL;
}

static void test_cancel_and_free(void) {
    TEST("cancel from another thread ends a blocked pull");
    anyllm_call *h = open_req(NULL, stream_req("openai:stall-30000"));
    canceller c = {h, 300};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    double t0 = now_s();
    pulled p;
    pull_all(h, -1, &p);
    double took = now_s() - t0;
    pthread_join(t, NULL);
    CHECK(took < 5.0, "the pull returned %.2f s after the start (cancel at 0.3 s)", took);
    CHECK(p.status == ANYLLM_E_CANCELLED, "status %d", p.status);
    CHECK(p.chunks >= 1 && str_eq(jstr(p.outcome, "error.partial.object"), "chat.completion"),
          "%d chunks; partial %s", p.chunks, or_null(jstr(p.outcome, "error.partial.object")));
    json_decref(p.outcome);

    TEST("freeing a call that was never pulled, or pulled halfway");
    t0 = now_s();
    anyllm_call_free(open_req(NULL, stream_req("openai:stall-30000")));
    h = open_req(NULL, stream_req("openai:long-300"));
    const char *data;
    size_t len;
    CHECK(anyllm_call_next(h, -1, &data, &len) == ANYLLM_OK && data != NULL, "first pull");
    anyllm_call_free(h);
    CHECK(now_s() - t0 < 5.0, "frees took %.2f s", now_s() - t0);

    TEST("call_wait on an unpulled call runs it: the aggregate has everything");
    h = open_req(NULL, stream_req("openai:long-50"));
    char *out = NULL;
    anyllm_status st = anyllm_call_wait(h, &out);
    json_t *j = NULL;
    check_output(st, out, out ? strlen(out) : 0, &j, "wait unpulled");
    const char *content = jstr(j, "choices[0].message.content");
    CHECK(st == ANYLLM_OK && content && strstr(content, "tok49"), "status %d, content %.60s", st, or_null(content));
    json_decref(j);
    anyllm_string_free(out);
    anyllm_call_free(h);

    TEST("client_free with a pulled call open: cancelled, no hang");
    anyllm_client *cl = anyllm_client_new(NULL, NULL);
    h = open_req(cl, stream_req("openai:stall-30000"));
    CHECK(anyllm_call_next(h, -1, &data, &len) == ANYLLM_OK && data != NULL, "first pull");
    t0 = now_s();
    anyllm_client_free(cl);
    CHECK(now_s() - t0 < 5.0, "client_free took %.2f s", now_s() - t0);
    pull_all(h, -1, &p);
    CHECK(p.status == ANYLLM_E_CANCELLED, "status after client_free %d", p.status);
    json_decref(p.outcome);
}

static void test_errors(void) {
    TEST("an error before any chunk");
    json_t *r = stream_req("openai:status-429");
    req_client_arg(r, "max_retries", json_integer(0));
    pulled p;
    pull_all(open_req(NULL, r), -1, &p);
    CHECK(p.chunks == 0 && p.status == ANYLLM_E_RATE_LIMIT, "%d chunks, status %d", p.chunks, p.status);
    json_decref(p.outcome);

    TEST("a stream cut after chunks: the error carries what was pulled");
    pull_all(open_req(NULL, stream_req("openai:drop-after-3")), -1, &p);
    CHECK(p.status != ANYLLM_OK && p.chunks >= 3, "status %d, %d chunks", p.status, p.chunks);
    const char *partial = jstr(p.outcome, "error.partial.choices[0].message.content");
    CHECK(partial && str_eq(partial, p.content), "partial \"%s\" vs pulled \"%s\"", or_null(partial), p.content);
    json_decref(p.outcome);

    TEST("an invalid request ends at the first pull");
    anyllm_call *h = anyllm_completion_open(NULL, "{\"model\": 3}");
    pull_all(h, -1, &p);
    CHECK(p.status == ANYLLM_E_INVALID_REQUEST, "status %d", p.status);
    json_decref(p.outcome);

    TEST("misuse: NULL, and a call started with callbacks");
    const char *data = (const char *)1;
    size_t len = 3;
    CHECK(anyllm_call_next(NULL, 0, &data, &len) == ANYLLM_E_INVALID_REQUEST && data == NULL && len == 0,
          "call_next(NULL)");
    CHECK(anyllm_call_next(NULL, 0, NULL, NULL) == ANYLLM_E_INVALID_REQUEST, "call_next(NULL, NULL, NULL)");
    CHECK(anyllm_completion_open(NULL, NULL) == NULL, "completion_open(NULL request)");
    char *body = jdump(r = req_new("openai:gpt-4o-mini"));
    json_decref(r);
    h = anyllm_completion_start(NULL, body, NULL, NULL, NULL);
    free(body);
    CHECK(anyllm_call_next(h, 0, &data, &len) == ANYLLM_E_INVALID_REQUEST, "call_next on a started call");
    anyllm_call_free(h);
}

static void test_threaded_engine(void) {
    TEST("a client with max_connections_per_host pulls through its engine thread");
    anyllm_client *cl = anyllm_client_new("{\"max_connections_per_host\": 2}", NULL);
    pulled p;
    pull_all(open_req(cl, stream_req("openai:long-100")), 50, &p);
    CHECK(p.status == ANYLLM_OK && p.chunks >= 100 && p.bad == 0, "status %d, %d chunks", p.status, p.chunks);
    json_decref(p.outcome);
    pull_all(open_req(cl, req_new("openai:gpt-4o-mini")), -1, &p);
    CHECK(p.status == ANYLLM_OK && p.batches == 0, "non-streamed: status %d", p.status);
    json_decref(p.outcome);
    anyllm_client_free(cl);
}

/* ---- anyllm_completion_open_notify: calls driven from one poll() loop on one pipe --------------------------- */

typedef struct watched {
    anyllm_call *h;
    int ended;
    int wakes;     /* tokens received */
    int spurious;  /* ... after which the pulls handed out nothing */
    pulled p;
} watched;

static int g_pipe[2] = {-1, -1};

static int open_watched(watched *w, anyllm_client *client, json_t *req, uint64_t token) {
    memset(w, 0, sizeof *w);
    char *body = jdump(req);
    w->h = anyllm_completion_open_notify(client, body, g_pipe[1], token);
    free(body);
    json_decref(req);
    return CHECK(w->h != NULL, "completion_open_notify returned NULL");
}

static int g_one_pull_per_token = 0; /* drain_watched pulls once, relying on the token that follows a partial pull */

/* One token: pulls with timeout 0 until nothing is left for now, or the end. */
static void drain_watched(watched *w) {
    int got = 0;
    for (int pulls = 0; !g_one_pull_per_token || pulls < 1; pulls++) {
        const char *data = NULL;
        size_t len = 0;
        anyllm_status st = anyllm_call_next(w->h, 0, &data, &len);
        if (st == ANYLLM_E_TIMEOUT) break;
        if (!CHECK(st == ANYLLM_OK, "call_next(0) returned %d", st)) {
            w->ended = 1;
            break;
        }
        got = 1;
        if (data == NULL) {
            w->ended = 1;
            break;
        }
        take_batch(&w->p, data, len);
    }
    if (!got) w->spurious++;
}

/* Tokens waiting in the pipe (0 = none within wait_ms); each is 1 + the call's index. */
static int read_tokens(uint64_t *toks, int cap, int wait_ms) {
    struct pollfd pfd = {.fd = g_pipe[0], .events = POLLIN};
    if (poll(&pfd, 1, wait_ms) != 1) return 0;
    ssize_t n = read(g_pipe[0], toks, (size_t)cap * sizeof *toks);
    CHECK(n > 0 && n % 8 == 0, "read %zd bytes of tokens", n);
    return n > 0 ? (int)(n / 8) : 0;
}

/* Runs the calls from one poll() loop until all have ended (or 20 s), then takes their outcomes and frees them. */
static void run_loop(watched *ws, int n) {
    double end = now_s() + 20;
    for (;;) {
        int running = 0;
        for (int i = 0; i < n; i++) running += !ws[i].ended;
        if (running == 0 || now_s() > end) break;
        uint64_t toks[256];
        int k = read_tokens(toks, 256, 5000);
        if (!CHECK(k > 0, "no token within 5 s with %d calls running", running)) break;
        for (int j = 0; j < k; j++) {
            if (!CHECK(toks[j] >= 1 && toks[j] <= (uint64_t)n, "token %llu", (unsigned long long)toks[j])) continue;
            watched *w = &ws[toks[j] - 1];
            w->wakes++;
            if (!w->ended) drain_watched(w);
        }
    }
    for (int i = 0; i < n; i++) {
        CHECK(ws[i].ended, "call %d never ended", i);
        char *out = NULL;
        ws[i].p.status = anyllm_call_wait(ws[i].h, &out);
        check_output(ws[i].p.status, out, out ? strlen(out) : 0, &ws[i].p.outcome, "watched outcome");
        anyllm_string_free(out);
        anyllm_call_free(ws[i].h);
    }
    uint64_t left[256];
    while (read_tokens(left, 256, 0) > 0) {}  /* tokens for calls that had ended: nothing to do */
}

static void test_event_loop(void) {
    if (!CHECK(pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) == 0, "pipe2")) return;

    TEST("open_notify: a stream driven from a poll() loop");
    watched w;
    if (open_watched(&w, NULL, stream_req("openai:long-500"), 1)) {
        run_loop(&w, 1);
        CHECK(w.p.status == ANYLLM_OK && w.p.bad == 0 && w.p.chunks >= 500, "status %d, %d chunks, %d bad",
              w.p.status, w.p.chunks, w.p.bad);
        const char *agg = jstr(w.p.outcome, "choices[0].message.content");
        CHECK(agg && str_eq(agg, w.p.content), "pulled content and aggregate differ");
        /* Tokens written while a drain was under way find nothing: allowed, they cost one pull each. */
        fprintf(stderr, "     %d tokens, %d of them with nothing left to pull, %d arrays\n", w.wakes, w.spurious,
                w.p.batches);
        json_decref(w.p.outcome);
    }

    TEST("open_notify: one pull per token is enough (a pull that leaves chunks behind is followed by a token)");
    if (open_watched(&w, NULL, stream_req("openai:long-3000"), 1)) {
        g_one_pull_per_token = 1;
        run_loop(&w, 1);
        g_one_pull_per_token = 0;
        CHECK(w.p.status == ANYLLM_OK && w.p.bad == 0 && w.p.chunks >= 3000, "status %d, %d chunks", w.p.status,
              w.p.chunks);
        CHECK(w.p.batches >= 3, "%d arrays: the stream did not need several pulls", w.p.batches);
        const char *agg = jstr(w.p.outcome, "choices[0].message.content");
        CHECK(agg && str_eq(agg, w.p.content), "pulled content and aggregate differ");
        json_decref(w.p.outcome);
    }

    TEST("open_notify: no token while the stream is stalled, one when it goes on");
    if (open_watched(&w, NULL, stream_req("openai:stall-600"), 1)) {
        uint64_t toks[8];
        CHECK(read_tokens(toks, 8, 5000) == 1 && toks[0] == 1, "the first chunk sent no token");
        drain_watched(&w);
        CHECK(w.p.chunks >= 1 && !w.ended, "%d chunks before the stall", w.p.chunks);
        CHECK(read_tokens(toks, 8, 150) == 0, "a token with nothing to pull (during the stall)");
        double t0 = now_s();
        CHECK(read_tokens(toks, 8, 5000) == 1 && now_s() - t0 > 0.2, "the next token after %.3f s", now_s() - t0);
        drain_watched(&w);
        run_loop(&w, 1);
        CHECK(w.p.status == ANYLLM_OK && str_eq(w.p.content, "You said: Hello there"), "status %d, content \"%s\"",
              w.p.status, w.p.content);
        json_decref(w.p.outcome);
    }

    TEST("open_notify: 24 calls at once on one pipe (streams and not, three protocols)");
    watched ws[24];
    int opened = 0;
    const char *models[] = {"openai:gpt-4o-mini", "anthropic:claude-3-5-haiku", "gemini:gemini-2.0-flash"};
    const char *bases[] = {"", "", "/v1beta"};
    for (int i = 0; i < 24; i++) {
        json_t *r = i % 2 ? stream_req(models[i % 3]) : req_new(models[i % 3]);
        char base[400];
        snprintf(base, sizeof base, "%s%s", g_emu.url, bases[i % 3]);
        json_object_set_new(r, "api_base", json_string(base));
        opened += open_watched(&ws[i], NULL, r, (uint64_t)i + 1);
    }
    if (opened == 24) {
        run_loop(ws, 24);
        for (int i = 0; i < 24; i++) {
            const char *content = jstr(ws[i].p.outcome, "choices[0].message.content");
            CHECK(ws[i].p.status == ANYLLM_OK && content && str_eq(content, "You said: Hello there"),
                  "call %d (%s): status %d, content %s", i, models[i % 3], ws[i].p.status, or_null(content));
            CHECK(i % 2 ? str_eq(ws[i].p.content, "You said: Hello there") : ws[i].p.batches == 0,
                  "call %d: pulled \"%s\" in %d batches", i, ws[i].p.content, ws[i].p.batches);
            json_decref(ws[i].p.outcome);
        }
    }

    TEST("open_notify: an invalid request sends its token at once and ends at the first pull");
    if (open_watched(&w, NULL, json_pack("{s:i}", "model", 3), 1)) {
        uint64_t toks[8];
        CHECK(read_tokens(toks, 8, 0) == 1, "no token after an invalid request");
        drain_watched(&w);
        CHECK(w.ended, "not ended at the first pull");
        run_loop(&w, 1);
        CHECK(w.p.status == ANYLLM_E_INVALID_REQUEST, "status %d", w.p.status);
        json_decref(w.p.outcome);
    }

    TEST("open_notify: cancel sends a token and the call ends");
    if (open_watched(&w, NULL, stream_req("openai:stall-30000"), 1)) {
        uint64_t toks[8];
        CHECK(read_tokens(toks, 8, 5000) == 1, "first chunk");
        drain_watched(&w);
        double t0 = now_s();
        anyllm_call_cancel(w.h);
        run_loop(&w, 1);
        CHECK(now_s() - t0 < 2.0 && w.p.status == ANYLLM_E_CANCELLED, "status %d after %.2f s", w.p.status,
              now_s() - t0);
        json_decref(w.p.outcome);
    }

    TEST("open_notify: freed unpulled; a client freed under its call sends the end's token; misuse");
    json_t *sr = stream_req("openai:stall-30000");
    char *body = jdump(sr);
    json_decref(sr);
    double t0 = now_s();
    anyllm_call_free(anyllm_completion_open_notify(NULL, body, g_pipe[1], 1));
    CHECK(now_s() - t0 < 5.0, "free of an unpulled call: %.2f s", now_s() - t0);
    uint64_t drop[256];
    while (read_tokens(drop, 256, 0) > 0) {}
    anyllm_client *cl = anyllm_client_new(NULL, NULL);
    if (open_watched(&w, cl, stream_req("openai:stall-30000"), 1)) {
        CHECK(read_tokens(drop, 8, 5000) == 1, "first chunk");
        drain_watched(&w);
        anyllm_client_free(cl);
        run_loop(&w, 1);
        CHECK(w.p.status == ANYLLM_E_CANCELLED, "status after client_free %d", w.p.status);
        json_decref(w.p.outcome);
    } else {
        anyllm_client_free(cl);
    }
    CHECK(anyllm_completion_open_notify(NULL, body, -1, 1) == NULL, "open_notify with fd -1");
    CHECK(anyllm_completion_open_notify(NULL, NULL, g_pipe[1], 1) == NULL, "open_notify with request NULL");
    free(body);
    close(g_pipe[0]);
    close(g_pipe[1]);
}

int main(void) {
    test_setup();
    test_stream_and_plain();
    test_timeouts();
    test_cancel_and_free();
    test_errors();
    test_threaded_engine();
    test_event_loop();
    return test_teardown();
}
