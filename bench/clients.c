/*
 * clients — the C clients of the benchmark, driven by bench/bench.py: raw libcurl (the floor),
 * libanyllm's blocking C API and its non-blocking C API, all against the same loopback nginx.
 *
 *   clients worker BASE                 persistent; reads commands on stdin, answers one JSON line each:
 *       seq  CLIENT KIND MAXCALLS BUDGET_MS   sequential calls → {"us": [per-call µs, ...]}
 *       conc CLIENT SECONDS CONCURRENCY       non-streamed calls kept in flight → {"requests", "secs", "failed"}
 *       quit
 *   clients rss BASE CLIENT KIND CALLS  all CALLS streamed at once, fresh process → {"rss_base_kb", "rss_peak_kb", ...}
 *   clients profile BASE CLIENT KIND N  5 warm-up calls, then N sequential calls → {"us": [...]} (run under
 *                                       callgrind twice with different N, the difference is the cost of the calls)
 *
 * CLIENT: curl (one easy handle, keep-alive; body read and dropped; for concurrency one multi
 * handle), capi (anyllm_completion; for concurrency CONCURRENCY threads), capi_async
 * (anyllm_completion_start + anyllm_call_wait; for concurrency one thread keeping CONCURRENCY
 * calls in flight), capi_pull (anyllm_completion_open + anyllm_call_next + anyllm_call_wait; the
 * chunks counted in each pulled array). KIND: nonstream, sse20, sse1000 (nginx's fixed bodies).
 *
 * Built twice: `clients` (both libraries) and, with -DRAW_ONLY, `clients_raw` (libcurl only), so
 * that the raw client's memory and load figures carry nothing of libanyllm.
 *
 * Not a test: it prints figures. Every call is checked (HTTP 200 / ANYLLM_OK and, for streams,
 * the number of chunks) so that a broken client cannot report a fast failure as a result.
 */
#define _GNU_SOURCE
#ifndef RAW_ONLY
#include <anyllm.h>
#endif
#include <curl/curl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *base;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Peak resident set size of this process image, kB. (Not getrusage's ru_maxrss: after fork + exec
 * that keeps the parent's peak, here the benchmark driver's.) */
static long peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

static void die(const char *what) {
    fprintf(stderr, "clients: %s\n", what);
    exit(1);
}

/* KIND → the path prefix nginx serves it under, and the chunks libanyllm delivers for it
 * (role chunk + content chunks + finish chunk + usage chunk). */
static const char *kind_prefix(const char *kind, int *chunks, int *stream) {
    if (!strcmp(kind, "nonstream")) { *chunks = 0; *stream = 0; return ""; }
    if (!strcmp(kind, "sse20")) { *chunks = 23; *stream = 1; return "/sse20"; }
    if (!strcmp(kind, "sse1000")) { *chunks = 1003; *stream = 1; return "/sse1000"; }
    die("unknown KIND");
    return NULL;
}

/* ---------------------------------------------------------------- raw libcurl ---------- */

/* The body libanyllm sends for the same request (so both put the same bytes on the wire). */
static const char *body_plain = "{\"model\":\"gpt-4.1-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char *body_stream =
    "{\"model\":\"gpt-4.1-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
    "\"stream_options\":{\"include_usage\":true}}";

typedef struct {
    CURL *easy;
    struct curl_slist *hdr_plain, *hdr_stream;
    char url[3][512];
    size_t bytes;
} raw_client;

static size_t raw_write(char *p, size_t s, size_t n, void *ud) {
    (void)p;
    ((raw_client *)ud)->bytes += s * n;
    return s * n;  /* read and dropped */
}

static struct curl_slist *raw_headers(int stream) {
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, stream ? "Accept: text/event-stream" : "Accept: application/json");
    h = curl_slist_append(h, "Authorization: Bearer sk-bench");
    h = curl_slist_append(h, "Expect:");
    return h;
}

static void raw_setup(raw_client *c, CURL *easy, int stream, const char *url) {
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, stream ? c->hdr_stream : c->hdr_plain);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, stream ? body_stream : body_plain);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(stream ? body_stream : body_plain));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, raw_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, c);
}

static void raw_init(raw_client *c) {
    memset(c, 0, sizeof *c);
    c->easy = curl_easy_init();
    if (!c->easy) die("curl_easy_init");
    c->hdr_plain = raw_headers(0);
    c->hdr_stream = raw_headers(1);
    snprintf(c->url[0], sizeof c->url[0], "%s/v1/chat/completions", base);
    snprintf(c->url[1], sizeof c->url[1], "%s/sse20/v1/chat/completions", base);
    snprintf(c->url[2], sizeof c->url[2], "%s/sse1000/v1/chat/completions", base);
}

static int kind_index(const char *kind) { return !strcmp(kind, "nonstream") ? 0 : !strcmp(kind, "sse20") ? 1 : 2; }

static void raw_call(raw_client *c, const char *kind) {
    int chunks, stream;
    kind_prefix(kind, &chunks, &stream);
    raw_setup(c, c->easy, stream, c->url[kind_index(kind)]);
    c->bytes = 0;
    CURLcode rc = curl_easy_perform(c->easy);
    long code = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK || code != 200 || c->bytes == 0) {
        fprintf(stderr, "curl: %s, HTTP %ld\n", curl_easy_strerror(rc), code);
        exit(1);
    }
}

#ifndef RAW_ONLY
/* ---------------------------------------------------------------- libanyllm ------------ */

static anyllm_client *client;
static char requests[3][1024];

static int count_chunk(const char *j, size_t n, void *ud) {
    (void)j; (void)n;
    atomic_fetch_add((atomic_int *)ud, 1);
    return 0;
}

static void capi_init(void) {
    client = anyllm_client_new(NULL, NULL);
    if (!client) die("anyllm_client_new");
    const char *kinds[3] = {"nonstream", "sse20", "sse1000"};
    for (int i = 0; i < 3; i++) {
        int chunks, stream;
        const char *prefix = kind_prefix(kinds[i], &chunks, &stream);
        snprintf(requests[i], sizeof requests[i],
                 "{\"model\":\"openai:gpt-4.1-mini\",\"messages\":\"hi\",\"api_key\":\"sk-bench\","
                 "\"api_base\":\"%s%s/v1\",\"stream\":%s}", base, prefix, stream ? "true" : "false");
    }
}

static void check(anyllm_status st, const char *out, int got, int want) {
    if (st != ANYLLM_OK || got != want) {
        fprintf(stderr, "anyllm: status %d, %d chunks (want %d): %.300s\n", st, got, want, out ? out : "");
        exit(1);
    }
}

static void capi_call(const char *kind) {
    int chunks, stream;
    kind_prefix(kind, &chunks, &stream);
    atomic_int got = 0;
    char *out = NULL;
    anyllm_status st = anyllm_completion(client, requests[kind_index(kind)], stream ? count_chunk : NULL, &got, &out);
    check(st, out, got, chunks);
    anyllm_string_free(out);
}

static void capi_async_call(const char *kind) {
    int chunks, stream;
    kind_prefix(kind, &chunks, &stream);
    atomic_int got = 0;
    char *out = NULL;
    anyllm_call *call = anyllm_completion_start(client, requests[kind_index(kind)], stream ? count_chunk : NULL, NULL, &got);
    anyllm_status st = anyllm_call_wait(call, &out);
    check(st, out, got, chunks);
    anyllm_string_free(out);
    anyllm_call_free(call);
}

/* Chunks in one array from anyllm_call_next: every chunk object says "chat.completion.chunk" once. */
static int count_in_array(const char *j, size_t n) {
    static const char tag[] = "\"chat.completion.chunk\"";
    int count = 0;
    const char *end = j + n, *p = j;
    while ((p = memmem(p, (size_t)(end - p), tag, sizeof tag - 1)) != NULL) {
        count++;
        p += sizeof tag - 1;
    }
    return count;
}

static void capi_pull_call(const char *kind) {
    int chunks, stream;
    kind_prefix(kind, &chunks, &stream);
    int got = 0;
    char *out = NULL;
    anyllm_call *call = anyllm_completion_open(client, requests[kind_index(kind)]);
    const char *arr;
    size_t len;
    while (anyllm_call_next(call, -1, &arr, &len) == ANYLLM_OK && arr) got += count_in_array(arr, len);
    anyllm_status st = anyllm_call_wait(call, &out);
    check(st, out, got, chunks);
    anyllm_string_free(out);
    anyllm_call_free(call);
}

#endif

/* ---------------------------------------------------------------- sequential ----------- */

static raw_client raw;

static void one_call(const char *cl, const char *kind) {
    if (!strcmp(cl, "curl")) raw_call(&raw, kind);
#ifndef RAW_ONLY
    else if (!strcmp(cl, "capi")) capi_call(kind);
    else if (!strcmp(cl, "capi_async")) capi_async_call(kind);
    else if (!strcmp(cl, "capi_pull")) capi_pull_call(kind);
#endif
    else die("unknown CLIENT");
}

static void seq(const char *cl, const char *kind, int maxcalls, double budget_ms, int profile) {
    double *us = malloc(sizeof(double) * (size_t)maxcalls);
    int n = 0;
    double start = now();
    while (n < maxcalls) {
        double t0 = now();
        one_call(cl, kind);
        double t1 = now();
        us[n++] = (t1 - t0) * 1e6;
        if (!profile && (t1 - start) * 1e3 >= budget_ms) break;
    }
    printf("{\"us\":[");
    for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", us[i]);
    printf("]}\n");
    fflush(stdout);
    free(us);
}

/* ---------------------------------------------------------------- concurrency ---------- */

/* Raw libcurl: one multi handle with CONC easy handles; each is re-added as soon as it ends (its
 * connection stays in the multi handle's pool). */
static void raw_multi(double seconds, int conc, const char *kind, int once, long *requests_done, long *failed,
                      double *secs, size_t *rss_base_kb) {
    int chunks, stream;
    kind_prefix(kind, &chunks, &stream);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    if (rss_base_kb) *rss_base_kb = (size_t)peak_rss_kb();
    raw_client *cs = calloc((size_t)conc, sizeof *cs);
    for (int i = 0; i < conc; i++) {
        raw_init(&cs[i]);
        raw_setup(&cs[i], cs[i].easy, stream, cs[i].url[kind_index(kind)]);
        curl_easy_setopt(cs[i].easy, CURLOPT_PRIVATE, &cs[i]);
    }
    for (int i = 0; i < conc; i++) curl_multi_add_handle(m, cs[i].easy);
    long done = 0, bad = 0;
    int running = conc;
    double t0 = now(), end = t0 + seconds;
    int stopping = 0;
    while (running > 0) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *e = msg->easy_handle;
            long code = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result == CURLE_OK && code == 200) done++;
            else if (bad++ < 3) fprintf(stderr, "curl: %s, HTTP %ld\n", curl_easy_strerror(msg->data.result), code);
            curl_multi_remove_handle(m, e);
            if (!once && !stopping) {
                if (now() >= end) stopping = 1;
                else { curl_multi_add_handle(m, e); running++; }
            }
        }
        if (running > 0) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    *secs = now() - t0;
    *requests_done = done;
    *failed = bad;
    for (int i = 0; i < conc; i++) {
        curl_easy_cleanup(cs[i].easy);
        curl_slist_free_all(cs[i].hdr_plain);
        curl_slist_free_all(cs[i].hdr_stream);
    }
    free(cs);
    curl_multi_cleanup(m);
}

#ifndef RAW_ONLY
/* libanyllm, non-blocking: one thread keeps CONC calls in flight (as bench/engine_bench.c). Each
 * call has a slot; handles are freed in start order as soon as their calls have ended, so memory
 * stays bounded and no running call is ever freed (which would cancel it). */
typedef struct {
    anyllm_call *call;
    atomic_int done;
    atomic_int chunks;
} slot;

static sem_t slots;
static atomic_long a_ok, a_failed;
static int a_want_chunks;

static int slot_chunk(const char *j, size_t n, void *ud) {
    (void)j; (void)n;
    atomic_fetch_add(&((slot *)ud)->chunks, 1);
    return 0;
}

static void on_done(anyllm_status st, const char *j, size_t n, void *u) {
    (void)n;
    slot *s = u;
    if (st == ANYLLM_OK && (a_want_chunks == 0 || atomic_load(&s->chunks) == a_want_chunks)) atomic_fetch_add(&a_ok, 1);
    else if (atomic_fetch_add(&a_failed, 1) < 3) fprintf(stderr, "anyllm: status %d, %d chunks: %.200s\n", st, atomic_load(&s->chunks), j);
    atomic_store(&s->done, 1);
    sem_post(&slots);
}

static void capi_async_conc(double seconds, int conc, const char *kind, int once, long *requests_done, long *failed,
                            double *secs, size_t *rss_base_kb) {
    int chunks, stream;
    kind_prefix(kind, &chunks, &stream);
    const char *req = requests[kind_index(kind)];
    atomic_store(&a_ok, 0);
    atomic_store(&a_failed, 0);
    a_want_chunks = chunks;
    sem_init(&slots, 0, (unsigned)conc);
    size_t cap = 65536, head = 0, tail = 0, started = 0; /* ring of slots in start order */
    slot **ring = calloc(cap, sizeof *ring);
    if (rss_base_kb) *rss_base_kb = (size_t)peak_rss_kb();
    double t0 = now(), end = t0 + seconds;
    while (once ? started < (size_t)conc : now() < end) {
        sem_wait(&slots);
        while (head != tail && atomic_load(&ring[head % cap]->done)) {
            slot *s = ring[head % cap];
            anyllm_call_free(s->call);
            free(s);
            head++;
        }
        if (tail - head == cap) die("too many calls in flight");
        slot *s = calloc(1, sizeof *s);
        ring[tail % cap] = s;
        tail++;
        started++;
        s->call = anyllm_completion_start(client, req, stream ? slot_chunk : NULL, on_done, s);
    }
    for (int i = 0; i < conc; i++) sem_wait(&slots);
    *secs = now() - t0;
    while (head != tail) {
        slot *s = ring[head % cap];
        anyllm_call_free(s->call);
        free(s);
        head++;
    }
    free(ring);
    *requests_done = atomic_load(&a_ok);
    *failed = atomic_load(&a_failed);
}

/* libanyllm, blocking: CONC threads, each calling anyllm_completion in a loop. */
typedef struct {
    double end;
    long ok;
} worker_arg;

static void *blocking_worker(void *p) {
    worker_arg *a = p;
    while (now() < a->end) {
        char *out = NULL;
        anyllm_status st = anyllm_completion(client, requests[0], NULL, NULL, &out);
        if (st != ANYLLM_OK) {
            fprintf(stderr, "anyllm: status %d: %.200s\n", st, out);
            anyllm_string_free(out);
            break;
        }
        anyllm_string_free(out);
        a->ok++;
    }
    return NULL;
}

static void capi_threads(double seconds, int conc, long *requests_done, double *secs) {
    pthread_t *t = calloc((size_t)conc, sizeof *t);
    worker_arg *a = calloc((size_t)conc, sizeof *a);
    double t0 = now();
    for (int i = 0; i < conc; i++) {
        a[i].end = t0 + seconds;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 << 10);
        pthread_create(&t[i], &attr, blocking_worker, &a[i]);
        pthread_attr_destroy(&attr);
    }
    long total = 0;
    for (int i = 0; i < conc; i++) {
        pthread_join(t[i], NULL);
        total += a[i].ok;
    }
    *secs = now() - t0;
    *requests_done = total;
    free(t);
    free(a);
}

#endif

static void conc(const char *cl, double seconds, int n) {
    long done = 0, failed = 0;
    double secs = 0;
    if (!strcmp(cl, "curl")) raw_multi(seconds, n, "nonstream", 0, &done, &failed, &secs, NULL);
#ifndef RAW_ONLY
    else if (!strcmp(cl, "capi_async")) capi_async_conc(seconds, n, "nonstream", 0, &done, &failed, &secs, NULL);
    else if (!strcmp(cl, "capi")) capi_threads(seconds, n, &done, &secs);
#endif
    else die("unknown CLIENT");
    printf("{\"requests\":%ld,\"secs\":%.4f,\"failed\":%ld}\n", done, secs, failed);
    fflush(stdout);
}

/* ---------------------------------------------------------------- main ----------------- */

int main(int argc, char **argv) {
    if (argc < 3) die("usage: see the header comment");
    base = argv[2];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    raw_init(&raw);
#ifndef RAW_ONLY
    capi_init();
#endif
    if (!strcmp(argv[1], "worker")) {
        printf("{\"ready\":true}\n");
        fflush(stdout);
        char line[512];
        while (fgets(line, sizeof line, stdin)) {
            char cmd[32], a[64], b[64];
            double x = 0, y = 0;
            int k = sscanf(line, "%31s %63s %63s %lf %lf", cmd, a, b, &x, &y);
            if (k >= 1 && !strcmp(cmd, "quit")) break;
            if (k == 5 && !strcmp(cmd, "seq")) seq(a, b, (int)x, y, 0);
            else if (k >= 4 && !strcmp(cmd, "conc")) conc(a, atof(b), (int)x);
            else { printf("{\"error\":\"bad command\"}\n"); fflush(stdout); }
        }
    } else if (!strcmp(argv[1], "rss") && argc == 6) {
        const char *cl = argv[3], *kind = argv[4];
        int n = atoi(argv[5]);
        for (int i = 0; i < 8; i++) one_call(cl, "nonstream");  /* warm-up: connection, engine thread */
        long done = 0, failed = 0;
        double secs = 0;
        size_t rss_base = 0;
        if (!strcmp(cl, "curl")) raw_multi(0, n, kind, 1, &done, &failed, &secs, &rss_base);
#ifndef RAW_ONLY
        else if (!strcmp(cl, "capi_async")) capi_async_conc(0, n, kind, 1, &done, &failed, &secs, &rss_base);
#endif
        else die("rss: CLIENT is curl or capi_async");
        printf("{\"calls\":%d,\"ok\":%ld,\"failed\":%ld,\"secs\":%.3f,\"rss_base_kb\":%zu,\"rss_peak_kb\":%ld}\n", n, done,
               failed, secs, rss_base, peak_rss_kb());
    } else if (!strcmp(argv[1], "profile") && argc == 6) {
        const char *cl = argv[3], *kind = argv[4];
        for (int i = 0; i < 5; i++) one_call(cl, kind);  /* warm-up: library init, connection, engine thread */
        seq(cl, kind, atoi(argv[5]), 0, 1);
    } else {
        die("usage: see the header comment");
    }
#ifndef RAW_ONLY
    anyllm_client_free(client);
#endif
    curl_easy_cleanup(raw.easy);
    return 0;
}
