/*
 * engine_bench — throughput and memory of libanyllm's engine against a fast local server.
 *
 *   engine_bench BASE_URL nonstream REQUESTS CONCURRENCY   → requests/s through one client
 *   engine_bench BASE_URL streams   CALLS                  → all streamed at once; peak RSS
 *
 * Non-blocking API, one client, CONCURRENCY calls kept in flight. Not a test: it prints figures.
 */
#include <anyllm.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <stdint.h>
#include <time.h>

static sem_t slots;
static atomic_char *done_flags;
static atomic_int ok, failed, chunks;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int on_chunk(const char *j, size_t n, void *u) { (void)j; (void)n; (void)u; atomic_fetch_add(&chunks, 1); return 0; }

static void on_done(anyllm_status st, const char *j, size_t n, void *u) {
    (void)n;
    if (st == ANYLLM_OK) atomic_fetch_add(&ok, 1);
    else if (atomic_fetch_add(&failed, 1) < 3) fprintf(stderr, "error %d: %.200s\n", st, j);
    atomic_store(&done_flags[(intptr_t)u], 1);
    sem_post(&slots);
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: see the header comment\n"); return 2; }
    const char *base = argv[1];
    int stream = strcmp(argv[2], "streams") == 0;
    int n = atoi(argv[3]);
    int conc = stream ? n : atoi(argv[4]);
    char req[512];
    snprintf(req, sizeof req,
             "{\"model\":\"openai:gpt-4.1-mini\",\"messages\":\"hi\",\"api_key\":\"sk-bench\",\"api_base\":\"%s\","
             "\"stream\":%s,\"client_args\":{\"max_retries\":0}}", base, stream ? "true" : "false");
    anyllm_client *client = anyllm_client_new(NULL, NULL);
    /* warm-up: connections and the engine thread */
    for (int i = 0; i < 8; i++) { char *o = NULL; anyllm_completion(client, req, NULL, NULL, &o); anyllm_string_free(o); }
    sem_init(&slots, 0, (unsigned)conc);
    anyllm_call **calls = calloc((size_t)n, sizeof *calls);
    done_flags = calloc((size_t)n, 1);
    int freed = 0; /* handles are freed in order as their calls end, so memory stays bounded */
    double t0 = now();
    for (int i = 0; i < n; i++) {
        sem_wait(&slots);
        while (freed < i && atomic_load(&done_flags[freed])) anyllm_call_free(calls[freed++]);
        calls[i] = anyllm_completion_start(client, req, stream ? on_chunk : NULL, on_done, (void *)(intptr_t)i);
    }
    for (int i = 0; i < conc; i++) sem_wait(&slots);
    double secs = now() - t0;
    while (freed < n) anyllm_call_free(calls[freed++]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (stream)
        printf("streams %d: %d ok, %d failed, %d chunks, %.3f s, peak RSS %.1f MB\n", n, ok, failed, chunks, secs,
               ru.ru_maxrss / 1024.0);
    else
        printf("nonstream %d requests, %d in flight: %d ok, %d failed, %.3f s, %.0f requests/s, peak RSS %.1f MB\n", n, conc,
               ok, failed, secs, n / secs, ru.ru_maxrss / 1024.0);
    anyllm_client_free(client);
    free(calls);
    free(done_flags);
    return failed != 0;
}
