/*
 * event_loop — several streamed completions at once, driven from one poll() loop, with no thread of your own
 * and no callbacks: anyllm_completion_open_notify + anyllm_call_next(call, 0, ...).
 *
 *   event_loop MODEL [QUESTION...]     MODEL as "provider:model" (its key in the provider's usual variable);
 *                                      set ANYLLM_API_BASE to send the calls to another server.
 *
 * The library's engine thread runs the calls. When one has chunks (or its end) for a pull, the library writes
 * that call's token to a pipe; the loop reads the tokens and pulls those calls without waiting. The same pattern
 * fits epoll, libuv (uv_poll_t on the pipe) or any loop that can watch a descriptor.
 */
#define _GNU_SOURCE /* pipe2 */
#include <anyllm.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_CALLS 16

/* Prints the text of each chunk in a pulled JSON array, prefixed with the call's number. */
static void print_chunks(int n, const char *array) {
    json_t *chunks = json_loads(array, 0, NULL);
    size_t i;
    json_t *c;
    json_array_foreach(chunks, i, c) {
        const char *text = json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(c, "choices"), 0), "delta"), "content"));
        if (text && *text) printf("[%d] %s\n", n, text);
    }
    json_decref(chunks);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s provider:model [question...]\n", argv[0]);
        return 2;
    }
    const char *fallback[] = {"Name a prime number.", "Name a colour.", "Name a river."};
    int n = argc > 2 ? argc - 2 : 3;
    if (n > MAX_CALLS) n = MAX_CALLS;

    /* One pipe for every call: non-blocking, so a full pipe never stalls the library's engine thread. */
    int pipefd[2];
    if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) != 0) return 1;

    anyllm_call *calls[MAX_CALLS];
    int running = 0;
    for (int i = 0; i < n; i++) {
        json_t *req = json_pack("{s:s, s:s, s:b}", "model", argv[1], "messages", argc > 2 ? argv[i + 2] : fallback[i],
                                "stream", 1);
        if (getenv("ANYLLM_API_BASE")) json_object_set_new(req, "api_base", json_string(getenv("ANYLLM_API_BASE")));
        char *text = json_dumps(req, JSON_COMPACT);
        calls[i] = anyllm_completion_open_notify(NULL, text, pipefd[1], (uint64_t)i); /* the token: our index */
        free(text);
        json_decref(req);
        running += calls[i] != NULL;
    }

    int ended[MAX_CALLS] = {0};
    while (running > 0) {
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        if (poll(&p, 1, -1) < 0) break;
        uint64_t tokens[64];
        ssize_t got = read(pipefd[0], tokens, sizeof tokens);
        for (ssize_t t = 0; t < got / 8; t++) {
            int i = (int)tokens[t];
            if (i < 0 || i >= n || ended[i]) continue; /* a late token of an ended call */
            for (;;) {                                 /* take everything there is now */
                const char *array;
                size_t len;
                anyllm_status st = anyllm_call_next(calls[i], 0, &array, &len);
                if (st != ANYLLM_OK) break;            /* ANYLLM_E_TIMEOUT: nothing more for now */
                if (array == NULL) {                   /* the end: its outcome is ready */
                    char *out = NULL;
                    if (anyllm_call_wait(calls[i], &out) != ANYLLM_OK) printf("[%d] failed: %s\n", i, out);
                    anyllm_string_free(out);
                    ended[i] = 1;
                    running--;
                    break;
                }
                print_chunks(i, array);
            }
        }
    }
    for (int i = 0; i < n; i++) anyllm_call_free(calls[i]); /* before the pipe closes: the library writes to it */
    close(pipefd[0]);
    close(pipefd[1]);
    return 0;
}
