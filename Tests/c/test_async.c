/*
 * test_async — the non-blocking API: anyllm_completion_start, on_done exactly once, anyllm_call_wait
 * (repeatable, also from on_done, refused from on_chunk), cancel from another thread and from inside a
 * callback, call_free on a running call and from inside its callbacks, many concurrent calls through one
 * client, and client_free with calls in flight.
 */
#include "util.h"

#include <stdatomic.h>

static anyllm_client *g_client;

/* What one started call saw. */
typedef struct call_state {
    collector chunks;
    atomic_int done_count;
    atomic_int chunk_count;
    anyllm_status done_status;
    char *done_json;           /* copy of on_done's JSON */
    size_t done_len;
    pthread_t done_thread;
    pthread_t chunk_thread;
    bool chunk_thread_set;
    double done_at;            /* now_s() in on_done */
    _Atomic(anyllm_call *) handle;
    /* behaviours */
    int cancel_in_chunk;       /* call anyllm_call_cancel(handle) from the n-th chunk (1-based) */
    int free_in_chunk;         /* call anyllm_call_free(handle) from the n-th chunk */
    int stop_at_chunk;         /* return non-zero from the n-th chunk */
    bool free_in_done;         /* call anyllm_call_free(handle) from on_done */
    bool wait_in_chunk;        /* call anyllm_call_wait from the first chunk */
    bool wait_in_done;         /* call anyllm_call_wait from on_done */
    int done_delay_ms;         /* on_done takes this long (a callback that does real work) */
    int chunk_delay_ms;        /* every on_chunk takes this long */
    anyllm_status wait_in_chunk_status;
    anyllm_status wait_in_done_status;
    char *wait_in_done_json;
    atomic_int chunks_after_cancel;
    atomic_int in_callback;    /* callbacks currently running (must never exceed 1) */
    atomic_int overlaps;       /* times a callback started while another of the same call ran */
    atomic_int chunks_after_done;
    bool cancelled_in_chunk;
} call_state;

static void state_init(call_state *s) {
    memset(s, 0, sizeof *s);
    collector_init(&s->chunks);
    s->wait_in_chunk_status = (anyllm_status)-1;
    s->wait_in_done_status = (anyllm_status)-1;
}

static void state_free(call_state *s) {
    collector_free(&s->chunks);
    free(s->done_json);
    anyllm_string_free(s->wait_in_done_json);
}

/* Waits until the call's handle is published (callbacks may run before completion_start returns). */
static anyllm_call *state_handle(call_state *s) {
    anyllm_call *h;
    while ((h = atomic_load(&s->handle)) == NULL) sleep_ms(1);
    return h;
}

static int on_chunk_(const char *chunk, size_t len, void *ud);

/* Wraps the callbacks: one call's callbacks must never run concurrently, and none after on_done. */
static int on_chunk(const char *chunk, size_t len, void *ud) {
    call_state *s = ud;
    if (atomic_fetch_add(&s->in_callback, 1) != 0) atomic_fetch_add(&s->overlaps, 1);
    if (atomic_load(&s->done_count) > 0) atomic_fetch_add(&s->chunks_after_done, 1);
    int rc = on_chunk_(chunk, len, ud);
    if (s->chunk_delay_ms) sleep_ms(s->chunk_delay_ms);
    atomic_fetch_sub(&s->in_callback, 1);
    return rc;
}

static int on_chunk_(const char *chunk, size_t len, void *ud) {
    call_state *s = ud;
    if (!s->chunk_thread_set) {
        s->chunk_thread = pthread_self();
        s->chunk_thread_set = true;
    }
    if (s->cancelled_in_chunk) atomic_fetch_add(&s->chunks_after_cancel, 1);
    int n = atomic_fetch_add(&s->chunk_count, 1) + 1;
    collect_chunk(chunk, len, &s->chunks);
    if (s->wait_in_chunk && n == 1) {
        char *out = NULL;
        s->wait_in_chunk_status = anyllm_call_wait(state_handle(s), &out);
        anyllm_string_free(out);
    }
    if (s->cancel_in_chunk && n == s->cancel_in_chunk) {
        anyllm_call_cancel(state_handle(s));
        s->cancelled_in_chunk = true;
    }
    if (s->free_in_chunk && n == s->free_in_chunk) {
        anyllm_call_free(state_handle(s));
        s->cancelled_in_chunk = true;
    }
    if (s->stop_at_chunk && n >= s->stop_at_chunk) {
        s->cancelled_in_chunk = true;
        return 1;
    }
    return 0;
}

static void on_done(anyllm_status st, const char *json, size_t len, void *ud) {
    call_state *s = ud;
    if (atomic_fetch_add(&s->in_callback, 1) != 0) atomic_fetch_add(&s->overlaps, 1);
    s->done_at = now_s();
    s->done_thread = pthread_self();
    s->done_status = st;
    if (json) {
        s->done_json = malloc(len + 1);
        memcpy(s->done_json, json, len + 1);
        s->done_len = len;
    }
    if (s->wait_in_done) s->wait_in_done_status = anyllm_call_wait(state_handle(s), &s->wait_in_done_json);
    if (s->free_in_done) anyllm_call_free(state_handle(s));
    if (s->done_delay_ms) sleep_ms(s->done_delay_ms);
    atomic_fetch_sub(&s->in_callback, 1);
    atomic_fetch_add(&s->done_count, 1);
}

static anyllm_call *start(anyllm_client *c, json_t *req, call_state *s) {
    char *text = jdump(req);
    anyllm_call *h = anyllm_completion_start(c, text, on_chunk, on_done, s);
    free(text);
    atomic_store(&s->handle, h);
    CHECK(h != NULL, "completion_start returned NULL");
    return h;
}

static json_t *stream_req(const char *model) {
    json_t *req = req_new(model);
    json_object_set_new(req, "stream", json_true());
    return req;
}

/* Waits (polling) until s has seen n chunks or timeout_s passed. */
static bool wait_chunks(call_state *s, int n, double timeout_s) {
    double end = now_s() + timeout_s;
    while (atomic_load(&s->chunk_count) < n && atomic_load(&s->done_count) == 0 && now_s() < end) sleep_ms(2);
    return atomic_load(&s->chunk_count) >= n;
}

static void test_start_and_wait(void) {
    TEST("completion_start, on_done once, call_wait twice");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = stream ? stream_req("openai:gpt-4o-mini") : req_new("openai:gpt-4o-mini");
        call_state s;
        state_init(&s);
        anyllm_call *h = start(g_client, req, &s);
        char *out1 = NULL, *out2 = NULL;
        anyllm_status st1 = anyllm_call_wait(h, &out1);
        /* after call_wait returns, on_done has finished */
        CHECK(atomic_load(&s.done_count) == 1, "on_done ran %d times before call_wait returned", atomic_load(&s.done_count));
        anyllm_status st2 = anyllm_call_wait(h, &out2);
        CHECK(st1 == ANYLLM_OK && st2 == ANYLLM_OK, "call_wait: %d then %d", st1, st2);
        CHECK(str_eq(out1, out2), "two call_waits returned different JSON");
        CHECK(out1 != out2, "call_wait returned the same buffer twice (each is a new string)");
        check_output(st1, out1, out1 ? strlen(out1) : 0, NULL, "call_wait");
        CHECK(s.done_status == ANYLLM_OK && str_eq(s.done_json, out1), "on_done status %d / JSON differs from call_wait's",
              s.done_status);
        CHECK(s.done_json && strlen(s.done_json) == s.done_len, "on_done len %zu != strlen", s.done_len);
        CHECK(!pthread_equal(s.done_thread, pthread_self()), "on_done ran on the caller's thread");
        if (stream) {
            CHECK(s.chunks.count == 7 && s.chunks.bad == 0, "stream: %d chunks, %d bad", s.chunks.count, s.chunks.bad);
            CHECK(!pthread_equal(s.chunk_thread, pthread_self()), "on_chunk of a started call ran on the caller's thread");
            CHECK(atomic_load(&s.overlaps) == 0, "on_chunk/on_done of one call overlapped %d times", atomic_load(&s.overlaps));
            CHECK(atomic_load(&s.chunks_after_done) == 0, "%d chunks after on_done", atomic_load(&s.chunks_after_done));
            CHECK(str_eq(s.chunks.content, "You said: Hello there"), "deltas \"%s\"", s.chunks.content);
        } else {
            CHECK(s.chunks.count == 0, "non-streamed call got %d chunks", s.chunks.count);
        }
        json_t *j = jparse(out1);
        CHECK(str_eq(jstr(j, "choices[0].message.content"), "You said: Hello there"), "content %s", or_null(out1));
        json_decref(j);
        anyllm_status st3 = anyllm_call_wait(h, NULL);
        CHECK(st3 == ANYLLM_OK, "call_wait(NULL out): %d", st3);
        anyllm_string_free(out1);
        anyllm_string_free(out2);
        anyllm_call_free(h);
        CHECK(atomic_load(&s.done_count) == 1, "on_done ran %d times", atomic_load(&s.done_count));
        state_free(&s);
        json_decref(req);
    }

    /* errors come through on_done and call_wait alike */
    json_t *req = req_new("openai:status-404");
    call_state s;
    state_init(&s);
    anyllm_call *h = start(NULL, req, &s); /* the default client */
    char *out = NULL;
    anyllm_status st = anyllm_call_wait(h, &out);
    CHECK(st == ANYLLM_E_NOT_FOUND && s.done_status == st, "error: call_wait %d, on_done %d", st, s.done_status);
    check_output(st, out, out ? strlen(out) : 0, NULL, "async error");
    CHECK(str_eq(out, s.done_json), "error JSON differs between on_done and call_wait");
    anyllm_string_free(out);
    anyllm_call_free(h);
    CHECK(atomic_load(&s.done_count) == 1, "on_done ran %d times", atomic_load(&s.done_count));
    state_free(&s);
    json_decref(req);

    /* an invalid request: still a call, ending at once through on_done */
    state_init(&s);
    h = anyllm_completion_start(g_client, "{not json", on_chunk, on_done, &s);
    atomic_store(&s.handle, h);
    CHECK(h != NULL, "completion_start of an invalid request returned NULL (on_done must report it)");
    st = anyllm_call_wait(h, NULL);
    CHECK(st == ANYLLM_E_INVALID_REQUEST && atomic_load(&s.done_count) == 1, "invalid request: %d, on_done %d times", st,
          atomic_load(&s.done_count));
    anyllm_call_free(h);
    state_free(&s);

    /* NULL callbacks and free without wait (the call runs to its end, then is released) */
    req = req_new("openai:gpt-4o-mini");
    char *text = jdump(req);
    h = anyllm_completion_start(g_client, text, NULL, NULL, NULL);
    CHECK(h != NULL, "start with NULL callbacks");
    CHECK(anyllm_call_wait(h, NULL) == ANYLLM_OK, "NULL callbacks: not OK");
    anyllm_call_free(h);
    h = anyllm_completion_start(g_client, text, NULL, NULL, NULL);
    anyllm_call_free(h); /* still running, probably: cancels and waits */
    free(text);
    json_decref(req);
}

typedef struct canceller {
    anyllm_call *call;
    int delay_ms;
    double cancelled_at;
} canceller;

static void *cancel_thread(void *arg) {
    canceller *c = arg;
    sleep_ms(c->delay_ms);
    c->cancelled_at = now_s();
    anyllm_call_cancel(c->call);
    return NULL;
}

static void test_cancel(void) {
    TEST("cancel from another thread");
    json_t *req = stream_req("openai:slow-50-100"); /* 50 chunks, 100 ms apart: 5 s */
    call_state s;
    state_init(&s);
    anyllm_call *h = start(g_client, req, &s);
    CHECK(wait_chunks(&s, 3, 10), "slow stream: only %d chunks after 10 s", atomic_load(&s.chunk_count));
    canceller cc = {.call = h, .delay_ms = 0};
    pthread_t t;
    pthread_create(&t, NULL, cancel_thread, &cc);
    pthread_join(t, NULL);
    char *out = NULL;
    anyllm_status st = anyllm_call_wait(h, &out);
    double latency = s.done_at - cc.cancelled_at;
    CHECK(st == ANYLLM_E_CANCELLED, "cancelled call: status %d: %s", st, or_null(out));
    CHECK(latency < 0.5, "on_done came %.3f s after cancel (want < 0.5 s)", latency);
    fprintf(stderr, "     cancel → on_done: %.1f ms\n", latency * 1000);
    check_output(st, out, out ? strlen(out) : 0, NULL, "cancelled");
    json_t *j = jparse(out);
    const char *partial = jstr(j, "error.partial.choices[0].message.content");
    CHECK(partial && starts_with(partial, "tok0 tok1 "), "partial content of the cancelled stream: %s", or_null(partial));
    CHECK(s.chunks.count < 50, "cancelled stream still delivered %d chunks", s.chunks.count);
    json_decref(j);
    anyllm_string_free(out);
    anyllm_call_cancel(h); /* again, after the end: no effect */
    CHECK(anyllm_call_wait(h, NULL) == ANYLLM_E_CANCELLED, "status changed after a second cancel");
    anyllm_call_free(h);
    CHECK(atomic_load(&s.done_count) == 1, "on_done ran %d times", atomic_load(&s.done_count));
    state_free(&s);

    /* cancel before any byte arrived (the non-streamed slow answer waits 5 s before its headers) */
    json_t *req2 = req_new("openai:slow-50-100");
    state_init(&s);
    h = start(g_client, req2, &s);
    sleep_ms(50);
    double t0 = now_s();
    anyllm_call_cancel(h);
    st = anyllm_call_wait(h, NULL);
    CHECK(st == ANYLLM_E_CANCELLED && now_s() - t0 < 0.5, "cancel while waiting for headers: %d after %.3f s", st, now_s() - t0);
    anyllm_call_free(h);
    state_free(&s);
    json_decref(req2);

    /* cancel immediately after start */
    state_init(&s);
    h = start(g_client, req, &s);
    anyllm_call_cancel(h);
    st = anyllm_call_wait(h, NULL);
    CHECK(st == ANYLLM_E_CANCELLED, "immediate cancel of a 5 s stream did not cancel: %d", st);
    anyllm_call_free(h);
    CHECK(atomic_load(&s.done_count) == 1, "immediate cancel: on_done ran %d times", atomic_load(&s.done_count));
    state_free(&s);

    /* cancel during a retry back-off (429: 1.5 s wait) */
    json_t *req3 = req_new("openai:status-429");
    req_client_arg(req3, "max_retries", json_integer(3));
    state_init(&s);
    h = start(g_client, req3, &s);
    sleep_ms(300);
    t0 = now_s();
    anyllm_call_cancel(h);
    st = anyllm_call_wait(h, NULL);
    CHECK(st == ANYLLM_E_CANCELLED && now_s() - t0 < 0.5, "cancel during back-off: %d after %.3f s", st, now_s() - t0);
    anyllm_call_free(h);
    state_free(&s);
    json_decref(req3);
    json_decref(req);
}

static void test_callbacks_reentry(void) {
    TEST("cancel, wait and free from inside callbacks");
    json_t *req = stream_req("openai:slow-50-20");
    call_state s;
    state_init(&s);
    s.cancel_in_chunk = 3;
    anyllm_call *h = start(g_client, req, &s);
    anyllm_status st = anyllm_call_wait(h, NULL);
    CHECK(st == ANYLLM_E_CANCELLED, "cancel from on_chunk: %d", st);
    CHECK(atomic_load(&s.chunks_after_cancel) <= 1, "%d chunks after cancel from on_chunk", atomic_load(&s.chunks_after_cancel));
    anyllm_call_free(h);
    state_free(&s);

    /* on_chunk returning non-zero cancels a started call too */
    state_init(&s);
    s.stop_at_chunk = 2;
    h = start(g_client, req, &s);
    char *out = NULL;
    st = anyllm_call_wait(h, &out);
    CHECK(st == ANYLLM_E_CANCELLED, "non-zero from on_chunk of a started call: %d", st);
    CHECK(s.chunks.count == 2, "on_chunk called %d times after returning non-zero at 2", s.chunks.count);
    json_t *j = jparse(out);
    CHECK(str_eq(jstr(j, "error.partial.choices[0].message.content"), "tok0 "), "partial %s",
          or_null(jstr(j, "error.partial.choices[0].message.content")));
    json_decref(j);
    anyllm_string_free(out);
    anyllm_call_free(h);
    state_free(&s);

    /* call_wait from on_chunk cannot wait: INVALID_REQUEST; from on_done it returns the outcome */
    state_init(&s);
    s.wait_in_chunk = true;
    s.wait_in_done = true;
    json_object_set_new(req, "model", json_string("openai:gpt-4o-mini"));
    h = start(g_client, req, &s);
    st = anyllm_call_wait(h, NULL);
    CHECK(st == ANYLLM_OK, "wait-in-callbacks call: %d", st);
    CHECK(s.wait_in_chunk_status == ANYLLM_E_INVALID_REQUEST, "call_wait inside on_chunk returned %d, want INVALID_REQUEST",
          s.wait_in_chunk_status);
    CHECK(s.wait_in_done_status == ANYLLM_OK, "call_wait inside on_done returned %d, want OK", s.wait_in_done_status);
    CHECK(str_eq(s.wait_in_done_json, s.done_json), "call_wait inside on_done: JSON differs from on_done's");
    anyllm_call_free(h);
    state_free(&s);

    /* call_free from inside on_done: returns at once, the call is released when it ends */
    state_init(&s);
    s.free_in_done = true;
    h = start(g_client, req, &s);
    double end = now_s() + 10;
    while (atomic_load(&s.done_count) == 0 && now_s() < end) sleep_ms(2);
    CHECK(atomic_load(&s.done_count) == 1 && s.done_status == ANYLLM_OK, "free in on_done: done %d, status %d",
          atomic_load(&s.done_count), s.done_status);
    sleep_ms(50); /* let the call's thread finish releasing */
    state_free(&s);

    /* call_free from inside on_chunk: the call is cancelled and released when it ends */
    state_init(&s);
    s.free_in_chunk = 2;
    json_object_set_new(req, "model", json_string("openai:slow-50-20"));
    h = start(g_client, req, &s);
    end = now_s() + 10;
    while (atomic_load(&s.done_count) == 0 && now_s() < end) sleep_ms(2);
    CHECK(atomic_load(&s.done_count) == 1, "free in on_chunk: on_done ran %d times", atomic_load(&s.done_count));
    /* anyllm.h: "A call still running is cancelled first, and this waits until it has ended - except from
     * inside the call's own callbacks, where it returns at once and the call is released when it ends." */
    CHECK(s.done_status == ANYLLM_E_CANCELLED, "call_free from on_chunk did not cancel the call: it ended with status %d", s.done_status);
    CHECK(atomic_load(&s.chunks_after_cancel) <= 1, "on_chunk was called %d more times after call_free from on_chunk",
          atomic_load(&s.chunks_after_cancel));
    sleep_ms(50);
    state_free(&s);
    json_decref(req);
}

static void test_free_running(void) {
    TEST("call_free on a running call");
    json_t *req = stream_req("openai:slow-50-100");
    call_state s;
    state_init(&s);
    anyllm_call *h = start(g_client, req, &s);
    CHECK(wait_chunks(&s, 2, 10), "no chunks");
    double t0 = now_s();
    anyllm_call_free(h);
    double took = now_s() - t0;
    CHECK(took < 0.5, "call_free on a running call took %.3f s", took);
    CHECK(atomic_load(&s.done_count) == 1, "call_free returned before on_done ran (%d)", atomic_load(&s.done_count));
    CHECK(s.done_status == ANYLLM_E_CANCELLED, "freed running call ended with %d", s.done_status);
    state_free(&s);
    json_decref(req);
}

/* ---- concurrency ------------------------------------------------------------------------------------------ */

typedef struct blocking_job {
    anyllm_client *client;
    int i;
    bool stream;
    anyllm_status st;
    bool content_ok;
    int chunks;
} blocking_job;

static int count_only(const char *chunk, size_t len, void *ud) {
    (void)chunk;
    (void)len;
    (*(int *)ud)++;
    return 0;
}

static void *blocking_thread(void *arg) {
    blocking_job *job = arg;
    json_t *req = req_new("openai:gpt-4o-mini");
    char msg[32], want[48];
    snprintf(msg, sizeof msg, "thread %d", job->i);
    snprintf(want, sizeof want, "You said: thread %d", job->i);
    json_object_set_new(req, "messages", json_string(msg));
    if (job->stream) json_object_set_new(req, "stream", json_true());
    char *text = jdump(req);
    char *out = NULL;
    job->st = anyllm_completion(job->client, text, job->stream ? count_only : NULL, &job->chunks, &out);
    json_t *j = jparse(out);
    job->content_ok = str_eq(jstr(j, "choices[0].message.content"), want);
    json_decref(j);
    anyllm_string_free(out);
    free(text);
    json_decref(req);
    return NULL;
}

static void test_concurrency(void) {
    TEST("many concurrent calls through one client");
    int n = scaled(50, 8);
    call_state *states = calloc((size_t)n, sizeof *states);
    anyllm_call **handles = calloc((size_t)n, sizeof *handles);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        state_init(&states[i]);
        json_t *req = stream_req("openai:gpt-4o-mini");
        char msg[32];
        snprintf(msg, sizeof msg, "call %d", i);
        json_object_set_new(req, "messages", json_string(msg));
        handles[i] = start(g_client, req, &states[i]);
        json_decref(req);
    }
    int ok = 0, once = 0;
    for (int i = 0; i < n; i++) {
        anyllm_status st = anyllm_call_wait(handles[i], NULL);
        char want[48];
        snprintf(want, sizeof want, "You said: call %d", i);
        json_t *j = jparse(states[i].done_json);
        if (st == ANYLLM_OK && str_eq(jstr(j, "choices[0].message.content"), want) && str_eq(states[i].chunks.content, want) &&
            states[i].chunks.bad == 0)
            ok++;
        else
            fprintf(stderr, "     call %d: status %d, %.200s\n", i, st, or_null(states[i].done_json));
        json_decref(j);
        anyllm_call_free(handles[i]);
        if (atomic_load(&states[i].done_count) == 1 && atomic_load(&states[i].overlaps) == 0 &&
            atomic_load(&states[i].chunks_after_done) == 0)
            once++;
        state_free(&states[i]);
    }
    CHECK(ok == n, "%d of %d concurrent streamed calls succeeded with their own content", ok, n);
    CHECK(once == n, "%d of %d calls ran on_done exactly once, after their last chunk, never concurrently with on_chunk", once, n);
    fprintf(stderr, "     %d concurrent calls in %.3f s\n", n, now_s() - t0);
    free(states);
    free(handles);

    /* many threads blocking in anyllm_completion at once, on one client and on the default client */
    for (int pass = 0; pass < 2; pass++) {
        int m = scaled(32, 6);
        blocking_job *jobs = calloc((size_t)m, sizeof *jobs);
        pthread_t *threads = calloc((size_t)m, sizeof *threads);
        for (int i = 0; i < m; i++) {
            jobs[i] = (blocking_job){.client = pass == 0 ? g_client : NULL, .i = i, .stream = i % 2 == 0};
            pthread_create(&threads[i], NULL, blocking_thread, &jobs[i]);
        }
        int good = 0;
        for (int i = 0; i < m; i++) {
            pthread_join(threads[i], NULL);
            if (jobs[i].st == ANYLLM_OK && jobs[i].content_ok && (!jobs[i].stream || jobs[i].chunks == 7)) good++;
        }
        CHECK(good == m, "%s: %d of %d threads got their answer", pass == 0 ? "one client" : "default client", good, m);
        free(jobs);
        free(threads);
    }
}

typedef struct blocking_slow {
    anyllm_client *client;
    anyllm_status st;
    atomic_int chunks;
} blocking_slow;

static int count_atomic(const char *chunk, size_t len, void *ud) {
    (void)chunk;
    (void)len;
    atomic_fetch_add((atomic_int *)ud, 1);
    return 0;
}

static void *blocking_slow_thread(void *arg) {
    blocking_slow *b = arg;
    json_t *req = stream_req("openai:slow-100-100");
    char *text = jdump(req);
    b->st = anyllm_completion(b->client, text, count_atomic, &b->chunks, NULL);
    free(text);
    json_decref(req);
    return NULL;
}

static void test_client_free_in_flight(void) {
    TEST("client_free with calls in flight");
    anyllm_client *c = anyllm_client_new(NULL, NULL);
    int n = scaled(5, 3);
    call_state *states = calloc((size_t)n, sizeof *states);
    anyllm_call **handles = calloc((size_t)n, sizeof *handles);
    json_t *req = stream_req("openai:slow-100-100"); /* 10 s each */
    for (int i = 0; i < n; i++) {
        state_init(&states[i]);
        states[i].done_delay_ms = 100;
        handles[i] = start(c, req, &states[i]);
    }
    /* and one blocking call on another thread */
    blocking_slow b = {.client = c};
    pthread_t t;
    pthread_create(&t, NULL, blocking_slow_thread, &b);
    for (int i = 0; i < n; i++) CHECK(wait_chunks(&states[i], 1, 10), "call %d: no chunk", i);
    double end = now_s() + 10;
    while (atomic_load(&b.chunks) == 0 && now_s() < end) sleep_ms(2);
    double t0 = now_s();
    anyllm_client_free(c);
    double took = now_s() - t0;
    CHECK(took < 1.5, "client_free with %d calls in flight took %.3f s", n + 1, took);
    int cancelled = 0, done_once = 0;
    for (int i = 0; i < n; i++) {
        /* client_free waited for the calls, on_done included */
        if (atomic_load(&states[i].done_count) == 1) done_once++;
        if (states[i].done_status == ANYLLM_E_CANCELLED) cancelled++;
    }
    /* anyllm.h: client_free "cancels its calls in flight and waits until they have ended (their on_done
     * callbacks included)": after it returns, user_data may be freed. */
    CHECK(done_once == n, "%d of %d on_done callbacks had finished when client_free returned", done_once, n);
    CHECK(cancelled == n, "%d of %d calls ended CANCELLED", cancelled, n);
    for (int i = 0; i < n; i++) {
        CHECK(anyllm_call_wait(handles[i], NULL) == ANYLLM_E_CANCELLED, "call_wait after client_free");
        anyllm_call_free(handles[i]);
        state_free(&states[i]);
    }
    pthread_join(t, NULL);
    CHECK(b.st == ANYLLM_E_CANCELLED, "the blocking call on the freed client ended with %d", b.st);
    free(states);
    free(handles);
    json_decref(req);

    /* a client freed while idle, after use */
    c = anyllm_client_new(NULL, NULL);
    json_t *r2 = req_new("openai:gpt-4o-mini");
    call_state s;
    state_init(&s);
    anyllm_call *h = start(c, r2, &s);
    CHECK(anyllm_call_wait(h, NULL) == ANYLLM_OK, "idle client call");
    anyllm_client_free(c);
    CHECK(anyllm_call_wait(h, NULL) == ANYLLM_OK, "a finished call's status survives client_free");
    anyllm_call_free(h);
    state_free(&s);
    json_decref(r2);
}

static void test_slow_callbacks(void) {
    TEST("a slow callback delays only its own call");
    /* anyllm.h, anyllm_completion_start: on_chunk runs "on a delivery thread of the library (never the
     * engine's I/O thread, so a slow callback delays only its own call)". Calls whose on_chunk takes
     * 400 ms per chunk must not hold up the callbacks of an unrelated call. */
    int n = 8;
    anyllm_client *other = anyllm_client_new(NULL, NULL);
    json_t *req = stream_req("openai:long-10");
    for (int k = 0; k < 2; k++) {
        call_state *slow = calloc((size_t)n, sizeof *slow);
        anyllm_call **handles = calloc((size_t)n, sizeof *handles);
        for (int i = 0; i < n; i++) {
            state_init(&slow[i]);
            slow[i].chunk_delay_ms = 400; /* 13 chunks: more than 5 s of callbacks per call */
            handles[i] = start(g_client, req, &slow[i]);
        }
        sleep_ms(300); /* the slow calls are inside their callbacks now */
        /* an unrelated call: on the same client, then on another client */
        call_state fast;
        state_init(&fast);
        json_t *freq = stream_req("openai:gpt-4o-mini");
        double t0 = now_s();
        anyllm_call *h = start(k == 0 ? g_client : other, freq, &fast);
        double end = t0 + 8.0;
        while (atomic_load(&fast.done_count) == 0 && now_s() < end) sleep_ms(2);
        double took = now_s() - t0;
        const char *where = k == 0 ? "same client" : "another client";
        CHECK(atomic_load(&fast.done_count) == 1 && took < 1.5,
              "%s: a fast call beside %d calls with slow callbacks took %.2f s to deliver its callbacks (want < 1.5 s)", where, n, took);
        fprintf(stderr, "     fast call beside slow callbacks (%s): %.3f s\n", where, took);
        anyllm_call_free(h);
        state_free(&fast);
        json_decref(freq);
        double f0 = now_s();
        for (int i = 0; i < n; i++) {
            anyllm_call_free(handles[i]); /* cancels; waits for the callback in progress */
            state_free(&slow[i]);
        }
        CHECK(now_s() - f0 < 3.0, "freeing %d calls with slow callbacks took %.2f s", n, now_s() - f0);
        free(slow);
        free(handles);
    }
    anyllm_client_free(other);
    json_decref(req);
}

static void test_connection_limit(void) {
    TEST("max_connections_per_host queues calls");
    /* Not in anyllm.h's list of options, but accepted by anyllm_client_new (Engine.swift):
     * "further calls queue for a free connection". */
    anyllm_client *c = anyllm_client_new("{\"max_connections_per_host\": 1, \"read_timeout\": 0.7, \"max_retries\": 0}", NULL);
    if (!CHECK(c != NULL, "max_connections_per_host refused")) return;
    int n = 3;
    call_state st[3];
    anyllm_call *h[3];
    json_t *req = stream_req("openai:slow-10-100"); /* ~1 s of streaming each, never silent for 0.7 s */
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        state_init(&st[i]);
        h[i] = start(c, req, &st[i]);
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char *out = NULL;
        anyllm_status s = anyllm_call_wait(h[i], &out);
        if (s == ANYLLM_OK) ok++;
        else fprintf(stderr, "     queued call %d: status %d: %.200s\n", i, s, or_null(out));
        anyllm_string_free(out);
    }
    double took = now_s() - t0;
    /* one connection: the three streams ran one after the other */
    CHECK(took >= 2.2, "3 calls of ~1 s over 1 connection took only %.2f s", took);
    /* waiting for a connection is not silence on a connection: read_timeout must not fire */
    CHECK(ok == n, "%d of %d calls queued behind max_connections_per_host 1 succeeded (read_timeout 0.7 s)", ok, n);
    for (int i = 0; i < n; i++) {
        anyllm_call_free(h[i]);
        state_free(&st[i]);
    }
    anyllm_client_free(c);
    json_decref(req);
    char *err = NULL;
    c = anyllm_client_new("{\"max_connections_per_host\": -1}", &err);
    CHECK(c == NULL && err, "max_connections_per_host -1 accepted");
    anyllm_string_free(err);
    anyllm_client_free(c);
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    test_start_and_wait();
    test_cancel();
    test_callbacks_reentry();
    test_free_running();
    test_concurrency();
    test_client_free_in_flight();
    test_slow_callbacks();
    test_connection_limit();
    anyllm_client_free(g_client);
    return test_teardown();
}
