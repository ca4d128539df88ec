/*
 * The engine (one curl-multi event loop per client): scale, isolation of slow callbacks, retries
 * and Retry-After, each timeout kind, cancel latency, client_free with calls in flight, and many
 * threads sharing one client. Timings are asserted only as generous behavioural bounds (a slow
 * callback must not stall other calls); the measured figures are printed.
 */
#include "check.h"
#include "emulator.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

typedef struct stream_call {
    atomic_int chunks;
    atomic_int done;
    anyllm_status status;
    double done_at;
    int sleep_ms_per_chunk;
    int cancel_after;           /* cancel (from on_chunk's thread via a flag) after this many chunks */
    atomic_int cancel_flag;
    double cancelled_at;
} stream_call;

static int sc_chunk(const char *json, size_t len, void *ud) {
    (void)json;
    (void)len;
    stream_call *c = ud;
    int n = atomic_fetch_add(&c->chunks, 1) + 1;
    if (c->sleep_ms_per_chunk) sleep_ms(c->sleep_ms_per_chunk);
    if (c->cancel_after && n == c->cancel_after) atomic_store(&c->cancel_flag, 1);
    return 0;
}

static void sc_done(anyllm_status st, const char *json, size_t len, void *ud) {
    (void)json;
    (void)len;
    stream_call *c = ud;
    c->status = st;
    c->done_at = now_s();
    atomic_store(&c->done, 1);
}

static char *stream_text(const char *model, json_t *client_args) {
    json_t *req = req_new(model);
    json_object_set_new(req, "stream", json_true());
    if (client_args) json_object_set_new(req, "client_args", client_args);
    char *s = jdump(req);
    json_decref(req);
    return s;
}

static void test_many_concurrent_streams(void) {
    TEST("many concurrent streamed calls through one client");
    int n = scaled(1000, 40);
    anyllm_client *client = anyllm_client_new("{\"max_retries\": 0}", NULL);
    char *text = stream_text("openai:long-20", NULL);
    stream_call *calls = calloc((size_t)n, sizeof *calls);
    anyllm_call **h = calloc((size_t)n, sizeof *h);
    double t0 = now_s();
    for (int i = 0; i < n; i++) h[i] = anyllm_completion_start(client, text, sc_chunk, sc_done, &calls[i]);
    int ok = 0, complete = 0;
    for (int i = 0; i < n; i++) {
        if (anyllm_call_wait(h[i], NULL) == ANYLLM_OK) ok++;
        /* role chunk + 20 words + finish chunk + usage chunk */
        if (atomic_load(&calls[i].chunks) == 23) complete++;
        anyllm_call_free(h[i]);
    }
    double secs = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "  %d streams: %.2f s, peak RSS %ld MB\n", n, secs, ru.ru_maxrss / 1024);
    CHECK(ok == n, "%d of %d calls succeeded", ok, n);
    CHECK(complete == n, "%d of %d calls received all 23 chunks", complete, n);
    free(h);
    free(calls);
    free(text);
    anyllm_client_free(client);
}

static void test_slow_callback_isolation(void) {
    TEST("a slow on_chunk delays only its own call");
    anyllm_client *client = anyllm_client_new(NULL, NULL);
    char *slow_text = stream_text("openai:long-10", NULL);
    stream_call slow = {0};
    slow.sleep_ms_per_chunk = 200; /* 13 chunks: about 2.6 s */
    double t0 = now_s();
    anyllm_call *hs = anyllm_completion_start(client, slow_text, sc_chunk, sc_done, &slow);
    sleep_ms(50); /* the slow call is inside its first callbacks */
    int n = 20;
    stream_call fast[20] = {0};
    anyllm_call *hf[20];
    char *fast_text = stream_text("openai:long-10", NULL);
    for (int i = 0; i < n; i++) hf[i] = anyllm_completion_start(client, fast_text, sc_chunk, sc_done, &fast[i]);
    double last_fast = 0;
    for (int i = 0; i < n; i++) {
        CHECK(anyllm_call_wait(hf[i], NULL) == ANYLLM_OK, "fast call %d: %d", i, fast[i].status);
        if (fast[i].done_at > last_fast) last_fast = fast[i].done_at;
        anyllm_call_free(hf[i]);
    }
    anyllm_call_wait(hs, NULL);
    fprintf(stderr, "  20 fast calls done after %.3f s; the slow call after %.3f s\n", last_fast - t0, slow.done_at - t0);
    CHECK(slow.status == ANYLLM_OK && atomic_load(&slow.chunks) == 13, "slow call: status %d, %d chunks", slow.status,
          atomic_load(&slow.chunks));
    CHECK(last_fast < slow.done_at - 1.0, "the fast calls finished at %.2f s, not well before the slow one (%.2f s)",
          last_fast - t0, slow.done_at - t0);
    anyllm_call_free(hs);
    free(slow_text);
    free(fast_text);
    anyllm_client_free(client);
}

static void test_retries(void) {
    TEST("retries: transient failures, Retry-After, never after the first chunk");
    result r;
    char model[96];
    snprintf(model, sizeof model, "openai:flaky-2-engine%d", (int)getpid());
    json_t *req = req_new(model);
    req_client_arg(req, "max_retries", json_integer(2));
    run_req(NULL, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK, "flaky-2 with 2 retries: %d %.300s", r.st, or_null(r.raw));
    res_free(&r);
    json_decref(req);

    req = req_new("openai:status-429"); /* retry-after-ms: 1500 */
    req_client_arg(req, "max_retries", json_integer(1));
    run_req(NULL, req, NULL, NULL, &r);
    fprintf(stderr, "  429 + retry-after-ms 1500, one retry: %.3f s\n", r.secs);
    CHECK(r.st == ANYLLM_E_RATE_LIMIT, "status %d", r.st);
    CHECK(jint(r.j, "error.attempts", 0) == 2, "attempts %lld", jint(r.j, "error.attempts", 0));
    CHECK(r.secs >= 1.4 && r.secs < 6.0, "took %.3f s, want the 1.5 s Retry-After waited once", r.secs);
    res_free(&r);
    json_decref(req);

    req = req_new("openai:drop-after-3");
    json_object_set_new(req, "stream", json_true());
    req_client_arg(req, "max_retries", json_integer(2));
    collector c;
    collector_init(&c);
    run_req(NULL, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_E_CONNECTION, "status %d", r.st);
    CHECK(jint(r.j, "error.attempts", 0) == 1, "a stream that delivered chunks was retried: attempts %lld",
          jint(r.j, "error.attempts", 0));
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

/* A listener whose accept queue is full: further connection attempts get no answer. */
static int full_listener(int *port_out, int *extra, int nextra) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 0) != 0) return -1;
    getsockname(s, (struct sockaddr *)&a, &len);
    *port_out = ntohs(a.sin_port);
    for (int i = 0; i < nextra; i++) {
        extra[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(extra[i], (struct sockaddr *)&a, sizeof a);
    }
    sleep_ms(50);
    return s;
}

static void test_timeouts(void) {
    TEST("each timeout kind ends the call with ANYLLM_E_TIMEOUT and says which");
    result r;
    json_t *req = req_new("openai:stall-3000");
    json_object_set_new(req, "stream", json_true());
    req_client_arg(req, "read_timeout", json_real(0.5));
    req_client_arg(req, "max_retries", json_integer(0));
    run_req(NULL, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_E_TIMEOUT && str_eq(jstr(r.j, "error.timeout"), "read"), "read: %d %.300s", r.st, or_null(r.raw));
    CHECK(r.secs < 2.5, "read timeout of 0.5 s took %.2f s", r.secs);
    res_free(&r);
    json_decref(req);

    req = req_new("openai:slow-30-100"); /* 3 s of steady chunks: never silent, but too long */
    json_object_set_new(req, "stream", json_true());
    req_client_arg(req, "timeout", json_real(0.6));
    req_client_arg(req, "max_retries", json_integer(0));
    run_req(NULL, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_E_TIMEOUT && str_eq(jstr(r.j, "error.timeout"), "total"), "total: %d %.300s", r.st, or_null(r.raw));
    res_free(&r);
    json_decref(req);

    int port = 0, extra[8];
    int s = full_listener(&port, extra, 8);
    if (CHECK(s >= 0, "could not make a full listener")) {
        char base[64];
        snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);
        req = req_new("openai:gpt-4o");
        json_object_set_new(req, "api_base", json_string(base));
        req_client_arg(req, "connect_timeout", json_real(0.3));
        req_client_arg(req, "timeout", json_real(3));
        req_client_arg(req, "max_retries", json_integer(0));
        run_req(NULL, req, NULL, NULL, &r);
        /* Most kernels drop the SYN (connect timeout); some accept into the full queue and then the
         * server never answers, which the read timeout (default 120 s) would catch much later — so
         * the request also gets a short total timeout. Either way: a typed TIMEOUT. */
        CHECK(r.st == ANYLLM_E_TIMEOUT, "connect: %d %.300s", r.st, or_null(r.raw));
        fprintf(stderr, "  full listener: timeout kind %s after %.2f s\n", or_null(jstr(r.j, "error.timeout")), r.secs);
        res_free(&r);
        json_decref(req);
        for (int i = 0; i < 8; i++) close(extra[i]);
        close(s);
    }
}

static void test_cancel_latency(void) {
    TEST("cancel ends a call at once");
    anyllm_client *client = anyllm_client_new(NULL, NULL);
    char *text = stream_text("openai:slow-50-100", NULL);
    stream_call c = {0};
    anyllm_call *h = anyllm_completion_start(client, text, sc_chunk, sc_done, &c);
    double end = now_s() + 10;
    while (atomic_load(&c.chunks) < 2 && now_s() < end) sleep_ms(1);
    double t0 = now_s();
    anyllm_call_cancel(h);
    anyllm_status st = anyllm_call_wait(h, NULL);
    double latency = now_s() - t0;
    fprintf(stderr, "  cancel → call ended: %.2f ms\n", latency * 1000);
    CHECK(st == ANYLLM_E_CANCELLED, "status %d", st);
    CHECK(latency < (under_valgrind() ? 1.0 : 0.1), "cancel took %.1f ms", latency * 1000);
    anyllm_call_free(h);

    /* a call waiting in a retry back-off is cancelled at once too */
    json_t *req = req_new("openai:status-429");
    req_client_arg(req, "max_retries", json_integer(3));
    char *t2 = jdump(req);
    stream_call c2 = {0};
    h = anyllm_completion_start(client, t2, NULL, sc_done, &c2);
    sleep_ms(300); /* first attempt answered 429; now waiting 1.5 s */
    t0 = now_s();
    anyllm_call_cancel(h);
    st = anyllm_call_wait(h, NULL);
    latency = now_s() - t0;
    CHECK(st == ANYLLM_E_CANCELLED, "status %d", st);
    CHECK(latency < (under_valgrind() ? 1.0 : 0.1), "cancel during back-off took %.1f ms", latency * 1000);
    anyllm_call_free(h);
    free(t2);
    json_decref(req);
    free(text);
    anyllm_client_free(client);
}

static void test_client_free_in_flight(void) {
    TEST("client_free cancels and waits for the calls in flight");
    anyllm_client *client = anyllm_client_new(NULL, NULL);
    char *text = stream_text("openai:slow-50-100", NULL);
    enum { N = 10 };
    stream_call c[N] = {0};
    anyllm_call *h[N];
    for (int i = 0; i < N; i++) h[i] = anyllm_completion_start(client, text, sc_chunk, sc_done, &c[i]);
    sleep_ms(300);
    double t0 = now_s();
    anyllm_client_free(client);
    double secs = now_s() - t0;
    int done = 0, cancelled = 0;
    for (int i = 0; i < N; i++) {
        done += atomic_load(&c[i].done);
        cancelled += c[i].status == ANYLLM_E_CANCELLED;
    }
    CHECK(done == N, "%d of %d on_done ran before client_free returned", done, N);
    CHECK(cancelled == N, "%d of %d calls ended CANCELLED", cancelled, N);
    CHECK(secs < 2.0, "client_free took %.2f s", secs);
    for (int i = 0; i < N; i++) {
        CHECK(anyllm_call_wait(h[i], NULL) == ANYLLM_E_CANCELLED, "wait after client_free");
        anyllm_call_free(h[i]);
    }
    free(text);
}

typedef struct thread_arg {
    anyllm_client *client;
    int calls;
    int ok;
} thread_arg;

static void *thread_main(void *p) {
    thread_arg *a = p;
    json_t *req = req_new("openai:long-5");
    json_object_set_new(req, "stream", json_true());
    char *text = jdump(req);
    for (int i = 0; i < a->calls; i++) {
        char *out = NULL;
        collector c;
        collector_init(&c);
        if (anyllm_completion(a->client, text, collect_chunk, &c, &out) == ANYLLM_OK && c.count == 8) a->ok++;
        collector_free(&c);
        anyllm_string_free(out);
    }
    free(text);
    json_decref(req);
    return NULL;
}

static void test_threads_share_a_client(void) {
    TEST("many threads share one client");
    anyllm_client *client = anyllm_client_new(NULL, NULL);
    enum { T = 8 };
    pthread_t th[T];
    thread_arg a[T];
    for (int i = 0; i < T; i++) {
        a[i] = (thread_arg){client, scaled(25, 3), 0};
        pthread_create(&th[i], NULL, thread_main, &a[i]);
    }
    int ok = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        ok += a[i].ok;
    }
    CHECK(ok == T * a[0].calls, "%d of %d blocking streamed calls complete", ok, T * a[0].calls);
    anyllm_client_free(client);
}

int main(void) {
    test_setup();
    test_many_concurrent_streams();
    test_slow_callback_isolation();
    test_retries();
    test_timeouts();
    test_cancel_latency();
    test_client_free_in_flight();
    test_threads_share_a_client();
    return test_teardown();
}
