/*
 * loadtime — time to load a library and make the first call, in a fresh process.
 *
 *   loadtime curl   BASE                  dlopen("libcurl.so.4") + one non-streamed POST
 *   loadtime anyllm BASE /path/libanyllm.so  dlopen(libanyllm.so) + anyllm_completion (non-streamed)
 *
 * Prints {"dlopen_us", "first_call_us", "total_us"}. Linked with nothing but libc (and -ldl), so
 * the dynamic loader's work for the library is inside the measurement.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *sym(void *h, const char *name) {
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "loadtime: %s: %s\n", name, dlerror());
        exit(1);
    }
    return p;
}

static size_t drop(char *p, size_t s, size_t n, void *ud) {
    (void)p; (void)ud;
    return s * n;
}

/* The libcurl option numbers used (stable ABI values from curl.h). */
enum { OPT_URL = 10002, OPT_POSTFIELDS = 10015, OPT_HTTPHEADER = 10023, OPT_WRITEFUNCTION = 20011 };

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    char url[512];
    double t0 = now(), t1, t2;
    if (!strcmp(argv[1], "curl")) {
        void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
        void *(*easy_init)(void) = sym(h, "curl_easy_init");
        int (*setopt)(void *, int, ...) = sym(h, "curl_easy_setopt");
        int (*perform)(void *) = sym(h, "curl_easy_perform");
        void *(*slist_append)(void *, const char *) = sym(h, "curl_slist_append");
        t1 = now();
        snprintf(url, sizeof url, "%s/v1/chat/completions", argv[2]);
        void *e = easy_init();
        void *hdr = slist_append(NULL, "Content-Type: application/json");
        hdr = slist_append(hdr, "Authorization: Bearer sk-bench");
        setopt(e, OPT_URL, url);
        setopt(e, OPT_HTTPHEADER, hdr);
        setopt(e, OPT_POSTFIELDS, "{\"model\":\"gpt-4.1-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        setopt(e, OPT_WRITEFUNCTION, drop);
        if (perform(e) != 0) { fprintf(stderr, "loadtime: curl failed\n"); return 1; }
        t2 = now();
    } else if (!strcmp(argv[1], "anyllm") && argc == 4) {
        void *h = dlopen(argv[3], RTLD_NOW | RTLD_LOCAL);
        if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
        int (*completion)(void *, const char *, void *, void *, char **) = sym(h, "anyllm_completion");
        void (*string_free)(char *) = sym(h, "anyllm_string_free");
        t1 = now();
        char req[1024];
        snprintf(req, sizeof req,
                 "{\"model\":\"openai:gpt-4.1-mini\",\"messages\":\"hi\",\"api_key\":\"sk-bench\",\"api_base\":\"%s/v1\"}",
                 argv[2]);
        char *out = NULL;
        int st = completion(NULL, req, NULL, NULL, &out);
        if (st != 0) { fprintf(stderr, "loadtime: anyllm status %d: %s\n", st, out); return 1; }
        string_free(out);
        t2 = now();
    } else {
        return 2;
    }
    printf("{\"dlopen_us\":%.1f,\"first_call_us\":%.1f,\"total_us\":%.1f}\n", (t1 - t0) * 1e6, (t2 - t1) * 1e6,
           (t2 - t0) * 1e6);
    /* _exit: the measurement is done; library teardown is not part of it */
    fflush(stdout);
    _Exit(0);
}
