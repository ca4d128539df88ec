/*
 * test_tls_proxy — TLS verification and proxies, end to end against local servers:
 *   - the emulator serving HTTPS (--tls-cert/--tls-key) with self-signed certificates made here with the openssl
 *     command: one for 127.0.0.1, one for "localhost" only (a host-name mismatch);
 *   - Tests/emulator/proxy.py, a CONNECT + plain-HTTP forward proxy that logs what went through it (GET
 *     /_proxy/log), once open and once requiring Basic credentials.
 * Verification is on by default (typed CONNECTION error naming the certificate, not retried); ca_bundle trusts a
 * server; verify_tls false turns checking off; client_args.proxy and the environment variables libcurl reads
 * (https_proxy, HTTPS_PROXY, http_proxy, all_proxy, no_proxy, NO_PROXY) route the call through the proxy or
 * around it, which the proxy's log proves; proxy credentials never appear in an error.
 * Blocking calls only: they run curl on this thread, so setenv between calls races with no other thread.
 */
#include "util.h"

#include <sys/stat.h>

static anyllm_client *g_client;
static emulator g_tls, g_mismatch, g_proxy, g_auth_proxy;
static char g_dir[64];
static char g_cert[128], g_key[128], g_other_cert[128], g_other_key[128], g_garbage[128];
static char g_tls_base[300], g_mismatch_base[300];

#define PROXY_USER "alice"
#define PROXY_PASSWORD "pr0xy-S3cret-pw"
#define WRONG_PASSWORD "wr0ng-Passw0rd-xyz"

static const char *const PROXY_VARS[] = {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                                         "ALL_PROXY",   "no_proxy",    "NO_PROXY",   NULL};

static void clear_proxy_env(void) {
    for (int i = 0; PROXY_VARS[i]; i++) unsetenv(PROXY_VARS[i]);
}

/* Runs a shell command quietly; 0 when it exited 0. */
static int run_quiet(const char *cmd) {
    char full[2048];
    snprintf(full, sizeof full, "%s >/dev/null 2>&1", cmd);
    int rc = system(full);
    return WIFEXITED(rc) && WEXITSTATUS(rc) == 0 ? 0 : -1;
}

/* A self-signed certificate + key (P-256, valid 2 days) whose subjectAltName is `san`. */
static int make_cert(const char *cert, const char *key, const char *cn, const char *san) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=%s "
             "-addext subjectAltName=%s -keyout %s -out %s",
             cn, san, key, cert);
    return run_quiet(cmd);
}

/* Tests/emulator/proxy.py, next to the emulator script. */
static void proxy_script(char *buf, size_t n) {
    const char *emu = getenv("ANYLLM_EMULATOR");
    if (!emu || !*emu) emu = "Tests/emulator/emulator.py";
    const char *slash = strrchr(emu, '/');
    if (slash) snprintf(buf, n, "%.*s/proxy.py", (int)(slash - emu), emu);
    else snprintf(buf, n, "proxy.py");
}

static void start_or_die(emulator *e, const char *script, const char *const *extra, const char *prefix, const char *what) {
    if (test_server_start(e, script, extra, prefix) != 0) {
        CHECK(0, "%s did not start", what);
        check_summary();
        exit(1);
    }
    fprintf(stderr, "%s at %s\n", what, e->url);
}

static void setup(void) {
    clear_proxy_env();
    test_setup(); /* the plain-HTTP emulator: g_emu, g_api_base */
    snprintf(g_dir, sizeof g_dir, "/tmp/anyllm-tls-XXXXXX");
    if (!mkdtemp(g_dir)) {
        CHECK(0, "mkdtemp failed");
        exit(check_summary());
    }
    snprintf(g_cert, sizeof g_cert, "%s/server.pem", g_dir);
    snprintf(g_key, sizeof g_key, "%s/server-key.pem", g_dir);
    snprintf(g_other_cert, sizeof g_other_cert, "%s/localhost.pem", g_dir);
    snprintf(g_other_key, sizeof g_other_key, "%s/localhost-key.pem", g_dir);
    snprintf(g_garbage, sizeof g_garbage, "%s/garbage.pem", g_dir);
    if (!CHECK(make_cert(g_cert, g_key, "127.0.0.1", "IP:127.0.0.1") == 0, "openssl could not make a certificate") ||
        !CHECK(make_cert(g_other_cert, g_other_key, "localhost", "DNS:localhost") == 0, "openssl: second certificate")) {
        exit(check_summary());
    }
    FILE *f = fopen(g_garbage, "w");
    if (f) {
        fputs("-----BEGIN CERTIFICATE-----\nthis is not base64 DER\n-----END CERTIFICATE-----\n", f);
        fclose(f);
    }
    const char *fixtures = getenv("ANYLLM_FIXTURES");
    const char *tls_args[] = {"--tls-cert", g_cert, "--tls-key", g_key, fixtures ? "--fixtures" : NULL, fixtures, NULL};
    start_or_die(&g_tls, NULL, tls_args, "ANYLLM_EMULATOR ", "TLS emulator");
    const char *mismatch_args[] = {"--tls-cert", g_other_cert, "--tls-key", g_other_key, NULL};
    start_or_die(&g_mismatch, NULL, mismatch_args, "ANYLLM_EMULATOR ", "TLS emulator (localhost certificate)");
    CHECK(starts_with(g_tls.url, "https://127.0.0.1:"), "the TLS emulator announced %s", g_tls.url);
    snprintf(g_tls_base, sizeof g_tls_base, "%s/v1", g_tls.url);
    snprintf(g_mismatch_base, sizeof g_mismatch_base, "%s/v1", g_mismatch.url);

    char script[4096];
    proxy_script(script, sizeof script);
    start_or_die(&g_proxy, script, NULL, "ANYLLM_PROXY ", "proxy");
    const char *auth_args[] = {"--auth", PROXY_USER ":" PROXY_PASSWORD, NULL};
    start_or_die(&g_auth_proxy, script, auth_args, "ANYLLM_PROXY ", "proxy with Basic auth");
    add_secret(PROXY_PASSWORD);
    add_secret(WRONG_PASSWORD);
}

static void teardown_files(void) {
    const char *files[] = {g_cert, g_key, g_other_cert, g_other_key, g_garbage};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) unlink(files[i]);
    rmdir(g_dir);
}

/* A request to the emulator at api_base (NULL: the plain one). */
static json_t *req_at(const char *api_base, bool stream) {
    json_t *req = req_new("openai:gpt-4o-mini");
    if (api_base) json_object_set_new(req, "api_base", json_string(api_base));
    if (stream) json_object_set_new(req, "stream", json_true());
    return req;
}

/* Runs req and expects a normal answer ("You said: Hello there"), streamed or not. */
static bool expect_ok(json_t *req, const char *what) {
    bool stream = json_is_true(json_object_get(req, "stream"));
    collector c;
    collector_init(&c);
    result r;
    run_req(g_client, req, stream ? collect_chunk : NULL, stream ? &c : NULL, &r);
    bool ok = CHECK(r.st == ANYLLM_OK, "%s: status %d: %.400s", what, r.st, or_null(r.raw));
    if (ok) {
        CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: Hello there"), "%s: content %s", what,
              or_null(jstr(r.j, "choices[0].message.content")));
        if (stream) CHECK(c.count >= 2 && c.bad == 0 && str_eq(c.content, "You said: Hello there"),
                          "%s: %d chunks (%d bad), content \"%s\"", what, c.count, c.bad, c.content);
    }
    collector_free(&c);
    res_free(&r);
    return ok;
}

static bool contains(const char *s, const char *part) { return s && strstr(s, part) != NULL; }

/* ---- the proxy's log ---------------------------------------------------------------------------------------- */

static json_t *proxy_log(emulator *p) {
    char *body = http_get_port(p->port, "/_proxy/log");
    json_t *j = jparse(body);
    free(body);
    CHECK(json_is_array(j), "GET /_proxy/log on %s did not answer a JSON array", p->url);
    return j ? j : json_array();
}

/* What went through a proxy: its log (snapshot before a call, compared after). */
typedef json_t *proxy_snapshot;

/* The records that are new since `before`, or whose tunnel carried more bytes since (a reused tunnel). */
static json_t *proxy_activity(emulator *p, proxy_snapshot before) {
    json_t *log = proxy_log(p), *out = json_array();
    size_t i;
    json_t *rec;
    json_array_foreach(log, i, rec) {
        json_t *old = json_array_get(before, i);
        if (!old || jint(rec, "bytes_up", 0) > jint(old, "bytes_up", 0)) json_array_append(out, rec);
    }
    json_decref(log);
    return out;
}

/* Expects the call since `before` to have gone through the proxy: exactly one record new or grown, with this
 * method and target (and user, unless NULL). Consumes `before`. */
static void expect_traversed(emulator *p, proxy_snapshot before, const char *method, const char *target,
                             const char *user, const char *what) {
    json_t *act = proxy_activity(p, before);
    size_t n = json_array_size(act);
    if (CHECK(n == 1, "%s: the proxy carried %zu request(s)/tunnel(s), want 1", what, n)) {
        json_t *rec = json_array_get(act, 0);
        CHECK(str_eq(jstr(rec, "method"), method), "%s: proxy saw method %s, want %s", what, or_null(jstr(rec, "method")), method);
        CHECK(str_eq(jstr(rec, "target"), target), "%s: proxy saw target %s, want %s", what, or_null(jstr(rec, "target")), target);
        if (user) CHECK(str_eq(jstr(rec, "user"), user), "%s: proxy saw user %s", what, or_null(jstr(rec, "user")));
    }
    json_decref(act);
    json_decref(before);
}

/* Expects nothing to have gone through the proxy since `before` (no record, no tunnel traffic). Consumes it. */
static void expect_bypassed(emulator *p, proxy_snapshot before, const char *what) {
    json_t *act = proxy_activity(p, before);
    CHECK(json_array_size(act) == 0, "%s: the proxy carried %zu request(s)/tunnel(s), want none", what,
          json_array_size(act));
    json_decref(act);
    json_decref(before);
}

/* "127.0.0.1:PORT" of an emulator, CONNECT's target. */
static const char *authority(emulator *e, char *buf, size_t n) {
    snprintf(buf, n, "127.0.0.1:%d", e->port);
    return buf;
}

/* The absolute-form target a plain-HTTP call through a proxy uses. */
static const char *completions_url(char *buf, size_t n) {
    snprintf(buf, n, "%s/chat/completions", g_api_base);
    return buf;
}

/* "http://[userinfo@]127.0.0.1:PORT" of a proxy. */
static const char *proxy_url(emulator *p, const char *userinfo, char *buf, size_t n) {
    snprintf(buf, n, "http://%s%s127.0.0.1:%d", userinfo ? userinfo : "", userinfo ? "@" : "", p->port);
    return buf;
}

/* ---- TLS ---------------------------------------------------------------------------------------------------- */

static void test_verification_default(void) {
    TEST("TLS: verification is on by default");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = req_at(g_tls_base, stream); /* default max_retries (2): a verification failure is not retried */
        result r;
        if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "self-signed certificate, no ca_bundle")) {
            const char *m = jstr(r.j, "error.message");
            CHECK(contains(m, "certificate could not be verified"), "message does not say the certificate failed: %s", or_null(m));
            CHECK(contains(m, "self-signed"), "message lacks curl's reason (self-signed): %s", or_null(m));
            CHECK(contains(m, "ca_bundle"), "message does not point at ca_bundle: %s", or_null(m));
            CHECK(jint(r.j, "error.attempts", -1) == 1, "a certificate failure was retried: attempts %lld",
                  jint(r.j, "error.attempts", -1));
            CHECK(jpath(r.j, "error.status") == NULL, "a TLS failure has no HTTP status");
            CHECK(str_eq(jstr(r.j, "error.provider"), "openai"), "provider %s", or_null(jstr(r.j, "error.provider")));
        }
        res_free(&r);
        json_decref(req);
    }
    /* verify_tls true spelled out is the same */
    json_t *req = req_at(g_tls_base, false);
    req_client_arg(req, "verify_tls", json_true());
    result r;
    expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "verify_tls true, no ca_bundle");
    res_free(&r);
    json_decref(req);
}

static void test_ca_bundle(void) {
    TEST("TLS: ca_bundle trusts the server's certificate");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = req_at(g_tls_base, stream);
        req_client_arg(req, "ca_bundle", json_string(g_cert));
        expect_ok(req, stream ? "ca_bundle (stream)" : "ca_bundle");
        json_decref(req);
    }
    /* the same from the client's options (defaults for every call) */
    char opts[512], *err = NULL;
    snprintf(opts, sizeof opts, "{\"ca_bundle\": \"%s\"}", g_cert);
    anyllm_client *saved = g_client;
    g_client = anyllm_client_new(opts, &err);
    if (CHECK(g_client != NULL, "client_new with ca_bundle: %s", or_null(err))) {
        json_t *req = req_at(g_tls_base, false);
        expect_ok(req, "ca_bundle in the client's options");
        json_decref(req);
        anyllm_client_free(g_client);
    }
    anyllm_string_free(err);
    g_client = saved;

    /* a bundle with another certificate does not vouch for this server */
    json_t *req = req_at(g_tls_base, false);
    req_client_arg(req, "ca_bundle", json_string(g_other_cert));
    result r;
    if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "ca_bundle of another certificate"))
        CHECK(contains(jstr(r.j, "error.message"), "certificate could not be verified"), "message %s",
              or_null(jstr(r.j, "error.message")));
    res_free(&r);
    json_decref(req);
}

static void test_host_name(void) {
    TEST("TLS: the certificate must name the host");
    json_t *req = req_at(g_mismatch_base, false);
    req_client_arg(req, "ca_bundle", json_string(g_other_cert)); /* trusted, but issued to localhost, not 127.0.0.1 */
    result r;
    if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "certificate for localhost at 127.0.0.1")) {
        const char *m = jstr(r.j, "error.message");
        CHECK(contains(m, "certificate could not be verified"), "message %s", or_null(m));
        CHECK(contains(m, "127.0.0.1"), "message does not name the host that did not match: %s", or_null(m));
        CHECK(jint(r.j, "error.attempts", -1) == 1, "a host-name mismatch was retried: attempts %lld", jint(r.j, "error.attempts", -1));
    }
    res_free(&r);
    json_decref(req);
}

static void test_verify_off(void) {
    TEST("TLS: verify_tls false skips verification");
    const char *bases[] = {g_tls_base, g_mismatch_base};
    for (int i = 0; i < 2; i++) {
        for (int stream = 0; stream < 2; stream++) {
            json_t *req = req_at(bases[i], stream);
            req_client_arg(req, "verify_tls", json_false());
            expect_ok(req, i == 0 ? "verify_tls false, self-signed" : "verify_tls false, wrong host name");
            json_decref(req);
        }
    }
}

static void test_bad_bundle(void) {
    TEST("TLS: an unreadable ca_bundle is a typed error");
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-bundle.pem", g_dir);
    const char *paths[] = {missing, g_garbage};
    for (int i = 0; i < 2; i++) {
        json_t *req = req_at(g_tls_base, false);
        req_client_arg(req, "ca_bundle", json_string(paths[i]));
        result r;
        if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, i ? "ca_bundle not a certificate" : "ca_bundle missing")) {
            const char *m = jstr(r.j, "error.message");
            CHECK(contains(m, "CA bundle") && contains(m, paths[i]), "message does not name the bundle: %s", or_null(m));
            CHECK(jint(r.j, "error.attempts", -1) == 1, "a bad bundle was retried: attempts %lld", jint(r.j, "error.attempts", -1));
        }
        res_free(&r);
        json_decref(req);
    }
    /* a plain-http call never reads the bundle */
    json_t *req = req_at(NULL, false);
    req_client_arg(req, "ca_bundle", json_string(missing));
    expect_ok(req, "ca_bundle missing, http:// server");
    json_decref(req);
}

/* ---- proxies ------------------------------------------------------------------------------------------------ */

static void test_proxy_option(void) {
    TEST("proxy: client_args.proxy carries plain HTTP and CONNECT");
    char purl[96], target[400];
    proxy_url(&g_proxy, NULL, purl, sizeof purl);
    for (int stream = 0; stream < 2; stream++) {
        proxy_snapshot before = proxy_log(&g_proxy);
        json_t *req = req_at(NULL, stream);
        req_client_arg(req, "proxy", json_string(purl));
        expect_ok(req, "http:// through client_args.proxy");
        expect_traversed(&g_proxy, before, "POST", completions_url(target, sizeof target), NULL, "http:// via proxy option");
        json_decref(req);
        json_t *last = emu_last_request();
        CHECK(str_eq(jstr(last, "path"), "/v1/chat/completions"), "the forwarded request reached %s", or_null(jstr(last, "path")));
        CHECK(jpath(last, "headers.proxy-authorization") == NULL, "a proxy header reached the provider");
        json_decref(last);

        before = proxy_log(&g_proxy);
        req = req_at(g_tls_base, stream);
        req_client_arg(req, "proxy", json_string(purl));
        req_client_arg(req, "ca_bundle", json_string(g_cert));
        expect_ok(req, "https:// through client_args.proxy");
        expect_traversed(&g_proxy, before, "CONNECT", authority(&g_tls, target, sizeof target), NULL, "https:// via proxy option");
        json_decref(req);
    }
    /* TLS is verified end to end through the tunnel: the proxy does not vouch for the server */
    proxy_snapshot before = proxy_log(&g_proxy);
    json_t *req = req_at(g_tls_base, false);
    req_client_arg(req, "proxy", json_string(purl));
    result r;
    if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "self-signed server through a proxy"))
        CHECK(contains(jstr(r.j, "error.message"), "certificate could not be verified"), "message %s",
              or_null(jstr(r.j, "error.message")));
    expect_traversed(&g_proxy, before, "CONNECT", authority(&g_tls, purl, sizeof purl), NULL, "self-signed through proxy");
    res_free(&r);
    json_decref(req);
}

/* One call to the TLS emulator (ca_bundle set) or the plain one, with the environment as it is. */
static void env_call(bool tls, const char *what) {
    json_t *req = req_at(tls ? g_tls_base : NULL, false);
    if (tls) req_client_arg(req, "ca_bundle", json_string(g_cert));
    expect_ok(req, what);
    json_decref(req);
}

static void test_proxy_env(void) {
    TEST("proxy: environment variables (read by libcurl)");
    char purl[96], target[400];
    proxy_url(&g_proxy, NULL, purl, sizeof purl);
    const char *https_vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (int i = 0; i < 4; i++) {
        clear_proxy_env();
        setenv(https_vars[i], purl, 1);
        proxy_snapshot before = proxy_log(&g_proxy);
        char what[64];
        snprintf(what, sizeof what, "https:// with %s", https_vars[i]);
        env_call(true, what);
        expect_traversed(&g_proxy, before, "CONNECT", authority(&g_tls, target, sizeof target), NULL, what);
    }
    /* plain http: lower-case http_proxy only; curl ignores upper-case HTTP_PROXY (a CGI program's environment
     * gets HTTP_PROXY from a request's "Proxy:" header, "httpoxy") */
    clear_proxy_env();
    setenv("http_proxy", purl, 1);
    proxy_snapshot before = proxy_log(&g_proxy);
    env_call(false, "http:// with http_proxy");
    expect_traversed(&g_proxy, before, "POST", completions_url(target, sizeof target), NULL, "http:// with http_proxy");
    clear_proxy_env();
    setenv("HTTP_PROXY", purl, 1);
    before = proxy_log(&g_proxy);
    env_call(false, "http:// with HTTP_PROXY");
    expect_bypassed(&g_proxy, before, "http:// with only HTTP_PROXY (ignored by design)");
    /* https_proxy does not apply to http:// URLs */
    clear_proxy_env();
    setenv("HTTPS_PROXY", purl, 1);
    before = proxy_log(&g_proxy);
    env_call(false, "http:// with HTTPS_PROXY");
    expect_bypassed(&g_proxy, before, "http:// with HTTPS_PROXY");
    clear_proxy_env();
}

static void test_no_proxy(void) {
    TEST("proxy: NO_PROXY / no_proxy bypass, \"\" turns proxies off");
    char purl[96], dead[96], target[400];
    proxy_url(&g_proxy, NULL, purl, sizeof purl);
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", closed_port());
    const char *names[] = {"NO_PROXY", "no_proxy"};
    const char *values[] = {"127.0.0.1", "example.com,127.0.0.1", "*"};
    for (int i = 0; i < 2; i++) {
        for (int v = 0; v < 3; v++) {
            clear_proxy_env();
            setenv("HTTPS_PROXY", purl, 1);
            setenv("http_proxy", purl, 1);
            setenv(names[i], values[v], 1);
            char what[96];
            snprintf(what, sizeof what, "%s=%s", names[i], values[v]);
            proxy_snapshot before = proxy_log(&g_proxy);
            env_call(true, what);
            env_call(false, what);
            expect_bypassed(&g_proxy, before, what);
        }
    }
    /* a NO_PROXY for other hosts does not bypass */
    clear_proxy_env();
    setenv("HTTPS_PROXY", purl, 1);
    setenv("NO_PROXY", "example.com,10.0.0.0/8", 1);
    proxy_snapshot before = proxy_log(&g_proxy);
    env_call(true, "NO_PROXY for other hosts");
    expect_traversed(&g_proxy, before, "CONNECT", authority(&g_tls, target, sizeof target), NULL, "NO_PROXY for other hosts");
    /* NO_PROXY applies to client_args.proxy as well (libcurl's rule) */
    clear_proxy_env();
    setenv("NO_PROXY", "127.0.0.1", 1);
    json_t *req = req_at(NULL, false);
    req_client_arg(req, "proxy", json_string(dead));
    expect_ok(req, "client_args.proxy with NO_PROXY=127.0.0.1");
    json_decref(req);
    /* the environment's proxy is really used: a dead one fails the call... */
    clear_proxy_env();
    setenv("HTTPS_PROXY", dead, 1);
    req = req_at(g_tls_base, false);
    req_client_arg(req, "ca_bundle", json_string(g_cert));
    req_client_arg(req, "max_retries", json_integer(0));
    result r;
    expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "HTTPS_PROXY pointing at a closed port");
    res_free(&r);
    /* ...and client_args.proxy "" turns it off */
    req_client_arg(req, "proxy", json_string(""));
    expect_ok(req, "client_args.proxy \"\" ignores HTTPS_PROXY");
    json_decref(req);
    clear_proxy_env();
}

static void test_proxy_credentials(void) {
    TEST("proxy: credentials in the proxy URL, never in errors");
    char good[160], bad[160], target[400];
    proxy_url(&g_auth_proxy, PROXY_USER ":" PROXY_PASSWORD, good, sizeof good);
    proxy_url(&g_auth_proxy, PROXY_USER ":" WRONG_PASSWORD, bad, sizeof bad);
    for (int tls = 0; tls < 2; tls++) {
        proxy_snapshot before = proxy_log(&g_auth_proxy);
        json_t *req = req_at(tls ? g_tls_base : NULL, false);
        if (tls) req_client_arg(req, "ca_bundle", json_string(g_cert));
        req_client_arg(req, "proxy", json_string(good));
        expect_ok(req, tls ? "https:// through an authenticating proxy" : "http:// through an authenticating proxy");
        if (tls) expect_traversed(&g_auth_proxy, before, "CONNECT", authority(&g_tls, target, sizeof target), PROXY_USER, "auth CONNECT");
        else expect_traversed(&g_auth_proxy, before, "POST", completions_url(target, sizeof target), PROXY_USER, "auth forward");
        if (!tls) {
            json_t *last = emu_last_request();
            CHECK(jpath(last, "headers.proxy-authorization") == NULL, "the proxy credentials were forwarded to the provider");
            json_decref(last);
        }

        /* the wrong password: a typed, unretried CONNECTION error; the proxy's page repeats the credentials,
         * the library redacts them (check_output fails on any registered secret) */
        req_client_arg(req, "proxy", json_string(bad));
        result r;
        if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, tls ? "CONNECT refused (407)" : "forward refused (407)")) {
            const char *m = jstr(r.j, "error.message");
            CHECK(contains(m, "407") && contains(m, "proxy requires authentication"), "message %s", or_null(m));
            CHECK(jint(r.j, "error.attempts", -1) == 1, "a 407 was retried: attempts %lld", jint(r.j, "error.attempts", -1));
            if (!tls) {
                CHECK(jint(r.j, "error.status", -1) == 407, "error.status %lld", jint(r.j, "error.status", -1));
                CHECK(contains(jstr(r.j, "error.provider_error"), "[redacted]"), "the proxy's page was not redacted: %s",
                      or_null(jstr(r.j, "error.provider_error")));
            }
        }
        res_free(&r);
        json_decref(req);
    }
    /* credentials from the environment are redacted the same way */
    clear_proxy_env();
    setenv("http_proxy", bad, 1);
    json_t *req = req_at(NULL, false);
    result r;
    if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "http_proxy with a wrong password"))
        CHECK(contains(jstr(r.j, "error.provider_error"), "[redacted]"), "the proxy's page was not redacted: %s",
              or_null(jstr(r.j, "error.provider_error")));
    res_free(&r);
    json_decref(req);
    clear_proxy_env();
    /* a proxy that cannot be reached: the URL with its credentials stays out of the message */
    char dead[160];
    snprintf(dead, sizeof dead, "http://" PROXY_USER ":" PROXY_PASSWORD "@127.0.0.1:%d", closed_port());
    req = req_at(g_tls_base, false);
    req_client_arg(req, "proxy", json_string(dead));
    req_client_arg(req, "max_retries", json_integer(0));
    if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "unreachable proxy with credentials"))
        CHECK(!contains(r.raw, PROXY_USER ":"), "the proxy's userinfo appears in the error: %s", r.raw);
    res_free(&r);
    json_decref(req);
}

/* ---- options of one call do not reach the next ------------------------------------------------------------ */

/* Blocking calls one after another on one thread reuse one pooled curl handle, whose options stay set between
 * calls when they are the same: a call's proxy, ca_bundle, verify_tls or timeout must not stay on it for the
 * next call that does not ask for them (each pair below: first with the option, then without). */
static void test_options_do_not_carry_over(void) {
    TEST("client_args of one call do not carry over to the next (reused curl handles)");
    char purl[96], target[400];
    proxy_url(&g_proxy, NULL, purl, sizeof purl);
    for (int round = 0; round < 2; round++) {
        proxy_snapshot before = proxy_log(&g_proxy);
        json_t *req = req_at(NULL, false);
        req_client_arg(req, "proxy", json_string(purl));
        expect_ok(req, "call with client_args.proxy");
        expect_traversed(&g_proxy, before, "POST", completions_url(target, sizeof target), NULL, "call with proxy");
        json_decref(req);
        before = proxy_log(&g_proxy);
        req = req_at(NULL, false);
        expect_ok(req, "next call, no proxy");
        expect_bypassed(&g_proxy, before, "the call after a proxied one");
        json_decref(req);
    }

    json_t *req = req_at(g_tls_base, false);
    req_client_arg(req, "ca_bundle", json_string(g_cert));
    expect_ok(req, "call with ca_bundle");
    json_decref(req);
    req = req_at(g_tls_base, false);
    result r;
    if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "the call after one with ca_bundle, without it"))
        CHECK(contains(jstr(r.j, "error.message"), "certificate could not be verified"), "message %s",
              or_null(jstr(r.j, "error.message")));
    res_free(&r);
    json_decref(req);

    req = req_at(g_tls_base, false);
    req_client_arg(req, "verify_tls", json_false());
    expect_ok(req, "call with verify_tls false");
    json_decref(req);
    req = req_at(g_tls_base, false);
    if (expect_error(g_client, req, ANYLLM_E_CONNECTION, &r, "the call after one with verify_tls false, without it"))
        CHECK(contains(jstr(r.j, "error.message"), "certificate could not be verified"), "message %s",
              or_null(jstr(r.j, "error.message")));
    res_free(&r);
    json_decref(req);

    /* a short total timeout, then a call of 1.2 s without it (the default is 600 s) */
    req = req_new("openai:slow-3-400");
    req_client_arg(req, "timeout", json_real(0.5));
    req_client_arg(req, "max_retries", json_integer(0));
    if (expect_error(g_client, req, ANYLLM_E_TIMEOUT, &r, "call with timeout 0.5 on a 1.2 s answer"))
        CHECK(str_eq(jstr(r.j, "error.timeout"), "total"), "timeout kind %s", or_null(jstr(r.j, "error.timeout")));
    res_free(&r);
    json_decref(req);
    req = req_new("openai:slow-3-400");
    req_client_arg(req, "max_retries", json_integer(0));
    run_req(g_client, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK, "the 1.2 s call after one with timeout 0.5: status %d: %.300s", r.st, or_null(r.raw));
    res_free(&r);
    json_decref(req);

    /* and the other way round: options set on the handle by a plain call are replaced by the next call's */
    req = req_at(g_tls_base, false);
    req_client_arg(req, "ca_bundle", json_string(g_cert));
    expect_ok(req, "ca_bundle after plain calls");
    json_decref(req);
}

/* ---- compressed answers ----------------------------------------------------------------------------------- */

/* The library asks for gzip (Accept-Encoding) and decodes a gzip answer; a caller's own Accept-Encoding header
 * replaces ours (the emulator then answers uncompressed). */
static void test_gzip(void) {
    TEST("compression: Accept-Encoding gzip, and gzip answers decoded");
    emulator gz;
    const char *args[] = {"--gzip", NULL};
    start_or_die(&gz, NULL, args, "ANYLLM_EMULATOR ", "gzip emulator");
    char base[300];
    snprintf(base, sizeof base, "%s/v1", gz.url);
    for (int i = 0; i < 3; i++) { /* twice the same (a reused handle and header list), then the caller's header */
        json_t *req = req_at(base, false);
        if (i == 2) {
            json_t *h = json_object();
            json_object_set_new(h, "Accept-Encoding", json_string("identity"));
            req_client_arg(req, "headers", h);
        }
        expect_ok(req, i == 2 ? "Accept-Encoding identity from client_args.headers" : "gzip answer");
        json_decref(req);
        char *body = http_get_port(gz.port, "/_emulator/last_request");
        json_t *last = jparse(body);
        free(body);
        const char *ae = jstr(last, "headers.accept-encoding");
        if (i < 2) CHECK(contains(ae, "gzip"), "Accept-Encoding %s, want gzip", or_null(ae));
        else CHECK(str_eq(ae, "identity"), "Accept-Encoding %s, want only the caller's identity", or_null(ae));
        json_decref(last);
    }
    emulator_stop(&gz);
}

int main(void) {
    setup();
    g_client = anyllm_client_new(NULL, NULL);
    CHECK(g_client != NULL, "client_new");
    test_verification_default();
    test_ca_bundle();
    test_host_name();
    test_verify_off();
    test_bad_bundle();
    test_proxy_option();
    test_proxy_env();
    test_no_proxy();
    test_proxy_credentials();
    test_options_do_not_carry_over();
    test_gzip();
    anyllm_client_free(g_client);
    emulator_stop(&g_tls);
    emulator_stop(&g_mismatch);
    emulator_stop(&g_proxy);
    emulator_stop(&g_auth_proxy);
    teardown_files();
    return test_teardown();
}
