/*
 * test_secrets — a known key must never come back out of the library, whatever goes wrong. For every protocol, and
 * for each way a credential can be given (the request's "api_key"; a bearer token in the call's
 * client_args.headers; an Authorization / x-api-key header in the client's options; for Bedrock: its API key (a
 * bearer token), SigV4 temporary credentials in the request (secret key + session token) and the same from the
 * AWS_* environment variables), every error path is taken:
 * 400, 401, 403, 404, 429, 500, a provider that echoes the credential it received (emulator model echo-key), a
 * refused connection, a read timeout, a cut stream, a bad-JSON answer, invalid UTF-8, an error event, and a request
 * refused before sending. Searched: the result/error JSON (partial and provider_error included), every chunk, the
 * on_done JSON of started calls, and everything the process wrote to stdout and stderr meanwhile (both are
 * redirected to a file for the duration). Then: a proxy URL's password on a refused proxy, and Gemini's key never
 * in the URL.
 */
#include "util.h"

#include <fcntl.h>

enum { KEY, VERTEX, AWS };

typedef struct proto {
    const char *label, *provider, *suffix;
    int auth;
} proto;

static const proto PROTOS[] = {
    {"openai", "openai", "/v1", KEY},
    {"azureopenai (api-key header)", "azureopenai", "", KEY},
    {"azure-ai-inference (api-key header)", "azure", "/models", KEY},
    {"mistral", "mistral", "/mistral/v1", KEY},
    {"anthropic", "anthropic", "", KEY},
    {"gemini", "gemini", "", KEY},
    {"vertex", "vertexai", "", VERTEX},
    {"ollama", "ollama", "", KEY},
    {"cohere", "cohere", "", KEY},
    {"bedrock", "bedrock", "", AWS},
};
#define NPROTOS (sizeof PROTOS / sizeof *PROTOS)

/* Three credentials, each long and unique so any copy of them is found. */
#define KEY_API "sk-apikey-5fd1c0a9e8b7d6c5b4a3"
#define KEY_CALL_BEARER "tok-call-bearer-77c1a2b3c4d5e6f7"
#define KEY_CLIENT_HDR "tok-client-header-31a4b5c6d7e8f9"
/* Bedrock's: an API key (the emulator takes any with this prefix), and temporary SigV4 credentials it knows
 * (Tests/emulator/bedrock_sigv4.py): the access key id is not a secret, the secret key and session token are. */
#define KEY_BEDROCK "bedrock-api-key-secret-71f0c2d4e6a8b9"
#define AWS_TEMP_AKID "ASIAANYLLMTEST0000002"
#define AWS_TEMP_SECRET "anyllm/temp/SECRETKEY+zPxRfiCYEXAMPLEKEY"
#define AWS_SESSION_TOKEN "anyllm-session-token-EXAMPLE/Zm9vYmFy=="
#define KEY_PROXY "proxy-pa55word-9c8b7a6f5e4d"
static const char *SECRETS[] = {KEY_API, KEY_CALL_BEARER, KEY_CLIENT_HDR, KEY_BEDROCK, AWS_TEMP_SECRET, AWS_SESSION_TOKEN,
                                KEY_PROXY};
#define NSECRETS (sizeof SECRETS / sizeof *SECRETS)

typedef struct path {
    const char *name;
    const char *model;   /* "@refused": a closed port; "@invalid": refused before sending */
    bool stream;
    double read_timeout;
} path;

static const path PATHS[] = {
    {"400", "status-400", false, 0},          {"401", "status-401", false, 0},
    {"403", "status-403", false, 0},          {"404", "status-404", false, 0},
    {"429", "status-429", true, 0},           {"500", "status-500", false, 0},
    {"provider echoes the credential", "echo-key", false, 0},
    {"provider echoes the credential (stream)", "echo-key", true, 0},
    {"connection refused", "@refused", true, 0},
    {"read timeout", "stall-2000", true, 0.3},
    {"cut stream", "drop-after-2", true, 0},  {"reset stream", "reset-after-2", true, 0},
    {"bad JSON", "garbage", false, 0},        {"invalid UTF-8", "bad-utf8", true, 0},
    {"error event", "error-event", true, 0},  {"invalid request", "@invalid", false, 0},
    {"success", "gpt-4o-mini", true, 0},
};
#define NPATHS (sizeof PATHS / sizeof *PATHS)

static int g_leaks, g_cases;

static void scan(const char *where, const char *text, size_t len) {
    for (size_t i = 0; i < NSECRETS; i++) {
        size_t n = strlen(SECRETS[i]);
        for (size_t k = 0; k + n <= len; k++) {
            if (memcmp(text + k, SECRETS[i], n) == 0) {
                g_leaks++;
                CHECK(0, "%s: the secret %s appears: ...%.160s", where, SECRETS[i], text + (k > 80 ? k - 80 : 0));
                break;
            }
        }
    }
}

typedef struct chunks {
    char where[200];
} chunks;

static int scan_chunk(const char *c, size_t n, void *ud) {
    scan(((chunks *)ud)->where, c, n);
    return 0;
}

static atomic_int g_done;
static void scan_done(anyllm_status st, const char *j, size_t n, void *ud) {
    (void)st;
    scan(((chunks *)ud)->where, j, n);
    atomic_fetch_add(&g_done, 1);
}

static json_t *make_req(const proto *p, const path *pa, int cred, const char *refused) {
    char model[160], base[400];
    snprintf(model, sizeof model, "%s:%s", p->provider, pa->model[0] == '@' ? "gpt-4o-mini" : pa->model);
    snprintf(base, sizeof base, "%s%s", strcmp(pa->model, "@refused") == 0 ? refused : g_emu.url, p->suffix);
    json_t *req = json_pack("{s:s, s:[{s:s, s:s}], s:s}", "model", model, "messages", "role", "user", "content",
                            "Hello there", "api_base", base);
    if (p->auth == VERTEX) {
        json_object_set_new(req, "vertex_project", json_string("anyllm-test-project"));
        json_object_set_new(req, "vertex_location", json_string("europe-west4"));
    }
    if (p->auth == AWS) {
        /* cred 0: the API key; 1: temporary credentials in the request; 2: the same from the environment (set by
         * the caller) */
        if (cred == 0) json_object_set_new(req, "api_key", json_string(KEY_BEDROCK));
        if (cred == 1) {
            json_object_set_new(req, "aws_access_key_id", json_string(AWS_TEMP_AKID));
            json_object_set_new(req, "aws_secret_access_key", json_string(AWS_TEMP_SECRET));
            json_object_set_new(req, "aws_session_token", json_string(AWS_SESSION_TOKEN));
        }
        json_object_set_new(req, "aws_region", json_string("eu-central-1"));
    } else {
        /* every form carries a key the emulator accepts; cred 0 puts it in api_key, 1 and 2 in headers (with a
         * plain api_key too, since most providers require one) */
        json_object_set_new(req, "api_key", json_string(cred == 0 ? KEY_API : "sk-plain-0000000000"));
        if (cred == 1) req_client_arg(req, "headers", json_pack("{s:s}", "Authorization", "Bearer " KEY_CALL_BEARER));
    }
    req_client_arg(req, "max_retries", json_integer(0));
    if (pa->read_timeout > 0) req_client_arg(req, "read_timeout", json_real(pa->read_timeout));
    if (pa->stream) json_object_set_new(req, "stream", json_true());
    /* an invalid value that is the credential itself: a message quoting the bad value must not show it */
    if (strcmp(pa->model, "@invalid") == 0)
        json_object_set_new(req, "temperature", json_string(p->auth == AWS ? (cred == 0 ? KEY_BEDROCK : AWS_TEMP_SECRET)
                                                                           : KEY_API));
    return req;
}

int main(void) {
    test_setup();
    TEST("no credential in any output, on any error path of any protocol");
    /* stdout and stderr go to a file while the calls run (the emulator's output included: it inherited them) */
    char tmpl[] = "/tmp/anyllm-secrets-XXXXXX";
    int fd = mkstemp(tmpl);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);

    anyllm_client *plain = anyllm_client_new(NULL, NULL);
    anyllm_client *with_hdr = anyllm_client_new(
        "{\"headers\": {\"Authorization\": \"Bearer " KEY_CLIENT_HDR "\", \"x-api-key\": \"" KEY_CLIENT_HDR "\"}}", NULL);
    char refused[96];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d", closed_port());
    int fails_before = atomic_load(&check_failed_);
    for (size_t i = 0; i < NPROTOS; i++) {
        for (size_t k = 0; k < NPATHS; k++) {
            for (int cred = 0; cred < 3; cred++) {
                for (int async = 0; async < 2; async++) {
                    const proto *p = &PROTOS[i];
                    const path *pa = &PATHS[k];
                    chunks ch;
                    snprintf(ch.where, sizeof ch.where, "%s / %s / credential %d / %s", p->label, pa->name, cred,
                             async ? "started" : "blocking");
                    json_t *req = make_req(p, pa, cred, refused);
                    char *text = jdump(req);
                    bool env = p->auth == AWS && cred == 2;
                    if (env) {
                        setenv("AWS_ACCESS_KEY_ID", AWS_TEMP_AKID, 1);
                        setenv("AWS_SECRET_ACCESS_KEY", AWS_TEMP_SECRET, 1);
                        setenv("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN, 1);
                    }
                    anyllm_client *c = cred == 2 && p->auth != AWS ? with_hdr : plain;
                    g_cases++;
                    if (async) {
                        atomic_store(&g_done, 0);
                        anyllm_call *h = anyllm_completion_start(c, text, scan_chunk, scan_done, &ch);
                        char *out = NULL;
                        anyllm_status st = anyllm_call_wait(h, &out);
                        CHECK(atomic_load(&g_done) == 1, "%s: on_done %d", ch.where, atomic_load(&g_done));
                        CHECK(st != ANYLLM_E_INTERNAL, "%s: internal error", ch.where);
                        if (out) scan(ch.where, out, strlen(out));
                        anyllm_string_free(out);
                        anyllm_call_free(h);
                    } else {
                        char *out = NULL;
                        anyllm_status st = anyllm_completion(c, text, scan_chunk, &ch, &out);
                        CHECK(st != ANYLLM_E_INTERNAL && out, "%s: status %d", ch.where, st);
                        if (strcmp(pa->model, "gpt-4o-mini") != 0)
                            CHECK(st != ANYLLM_OK, "%s: an error path that succeeded", ch.where);
                        if (out) scan(ch.where, out, strlen(out));
                        /* the emulator did echo a credential: the test is only worth something if it was removed */
                        if (strcmp(pa->model, "echo-key") == 0)
                            CHECK(out && strstr(out, "[redacted]"), "%s: no [redacted] in %.300s", ch.where, or_null(out));
                        anyllm_string_free(out);
                    }
                    if (env) {
                        unsetenv("AWS_ACCESS_KEY_ID");
                        unsetenv("AWS_SECRET_ACCESS_KEY");
                        unsetenv("AWS_SESSION_TOKEN");
                    }
                    free(text);
                    json_decref(req);
                }
            }
        }
    }
    /* a proxy URL's password: the proxy refuses the connection (streamed and not, every protocol) */
    for (size_t i = 0; i < NPROTOS; i++) {
        for (int stream = 0; stream < 2; stream++) {
            chunks ch;
            snprintf(ch.where, sizeof ch.where, "%s / refused proxy with a password / %s", PROTOS[i].label,
                     stream ? "stream" : "plain");
            path pa = {"proxy", "gpt-4o-mini", stream, 0};
            json_t *req = make_req(&PROTOS[i], &pa, 0, refused);
            char proxy[160];
            snprintf(proxy, sizeof proxy, "http://anyllm:" KEY_PROXY "@127.0.0.1:%d", closed_port());
            req_client_arg(req, "proxy", json_string(proxy));
            char *text = jdump(req), *out = NULL;
            anyllm_status st = anyllm_completion(plain, text, scan_chunk, &ch, &out);
            g_cases++;
            CHECK(st == ANYLLM_E_CONNECTION, "%s: status %d: %s", ch.where, st, or_null(out));
            if (out) scan(ch.where, out, strlen(out));
            anyllm_string_free(out);
            free(text);
            json_decref(req);
        }
    }
    /* the key in the URL: Gemini takes it in x-goog-api-key, never in ?key= (URLs end up in logs and proxies) */
    json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "model", "gemini:gemini-2.5-flash", "messages", "Hi", "api_base",
                            g_emu.url, "api_key", KEY_API);
    result r;
    run_req(plain, req, NULL, NULL, &r);
    json_t *last = emu_last_request();
    CHECK(r.st == ANYLLM_OK && jpath(last, "query.key") == NULL, "gemini: the key was sent in the URL");
    res_free(&r);
    json_decref(last);
    json_decref(req);
    anyllm_client_free(with_hdr);
    anyllm_client_free(plain);

    /* the captured output */
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    off_t size = lseek(fd, 0, SEEK_END);
    char *all = malloc((size_t)size + 1);
    ssize_t got = pread(fd, all, (size_t)size, 0);
    all[got > 0 ? got : 0] = 0;
    close(fd);
    unlink(tmpl);
    /* a failed CHECK above printed the leaked text itself: only scan when none failed */
    if (atomic_load(&check_failed_) == fails_before) scan("stdout/stderr of the process", all, got > 0 ? (size_t)got : 0);
    else fputs(all, stderr);
    CHECK(g_leaks == 0, "%d leaks", g_leaks);
    free(all);
    fprintf(stderr, "%d cases, %zu bytes of process output searched\n", g_cases, (size_t)size);
    return test_teardown();
}
