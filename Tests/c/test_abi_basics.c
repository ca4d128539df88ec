/*
 * test_abi_basics — the C ABI itself: version, provider registry, client options, NULL arguments and
 * ownership of returned strings.
 */
#include "util.h"

#include <regex.h>

static void test_version(void) {
    TEST("anyllm_version");
    const char *v = anyllm_version();
    if (!CHECK(v != NULL, "anyllm_version returned NULL")) return;
    regex_t re;
    regcomp(&re, "^[0-9]+\\.[0-9]+\\.[0-9]+$", REG_EXTENDED | REG_NOSUB);
    CHECK(regexec(&re, v, 0, NULL, 0) == 0, "version \"%s\" is not MAJOR.MINOR.PATCH", v);
    regfree(&re);
    CHECK(anyllm_version() == v, "anyllm_version is not a static string (pointer changed)");
    CHECK(strcmp(anyllm_version(), v) == 0, "version changed between calls");
}

static json_t *find_provider(json_t *list, const char *name) {
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        if (str_eq(jstr(p, "name"), name)) return p;
    }
    return NULL;
}

static void test_providers(void) {
    TEST("anyllm_providers");
    char *s = anyllm_providers();
    if (!CHECK(s != NULL, "anyllm_providers returned NULL")) return;
    json_t *j = jparse(s);
    CHECK(json_is_object(j), "providers output is not a JSON object: %.200s", s);
    json_t *list = json_object_get(j, "providers");
    CHECK(json_is_array(list), "no \"providers\" array");
    CHECK(json_array_size(list) >= 20, "only %zu providers (want >= 20)", json_array_size(list));
    static const char *required[] = {"openai", "azureopenai", "mistral", "groq", "deepseek", "xai", "together",
                                     "fireworks", "openrouter", "perplexity", "cerebras", "nebius", "sambanova",
                                     "moonshot", "huggingface", "databricks", "lmstudio", "llamacpp", "llamafile",
                                     "vllm"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        CHECK(find_provider(list, required[i]) != NULL, "provider %s is missing", required[i]);

    size_t i;
    json_t *p;
    int bad = 0, dup = 0;
    json_array_foreach(list, i, p) {
        const char *name = jstr(p, "name");
        bool ok = json_is_object(p) && name && *name && json_is_string(json_object_get(p, "protocol")) &&
                  json_object_get(p, "base_url") && (json_is_string(json_object_get(p, "base_url")) || json_is_null(json_object_get(p, "base_url"))) &&
                  json_object_get(p, "base_url_env") && (json_is_string(json_object_get(p, "base_url_env")) || json_is_null(json_object_get(p, "base_url_env"))) &&
                  json_object_get(p, "api_key_env") && (json_is_string(json_object_get(p, "api_key_env")) || json_is_null(json_object_get(p, "api_key_env"))) &&
                  json_is_boolean(json_object_get(p, "api_key_required")) && json_is_boolean(json_object_get(p, "api_key_set"));
        if (!ok) {
            bad++;
            char *d = jdump(p);
            fprintf(stderr, "     malformed provider entry: %s\n", d);
            free(d);
        }
        size_t k;
        json_t *q;
        json_array_foreach(list, k, q) {
            if (k > i && str_eq(jstr(q, "name"), name)) dup++;
        }
    }
    CHECK(bad == 0, "%d provider entries lack name/protocol/base_url/base_url_env/api_key_env/api_key_required/api_key_set", bad);
    CHECK(dup == 0, "%d duplicated provider names", dup);

    json_t *openai = find_provider(list, "openai");
    CHECK(str_eq(jstr(openai, "api_key_env"), "OPENAI_API_KEY"), "openai api_key_env is %s", or_null(jstr(openai, "api_key_env")));
    CHECK(str_eq(jstr(openai, "protocol"), "openai_chat"), "openai protocol is %s", or_null(jstr(openai, "protocol")));
    CHECK(json_is_true(json_object_get(openai, "api_key_required")), "openai must require a key");
    CHECK(starts_with(jstr(openai, "base_url"), "https://"), "openai base_url is %s", or_null(jstr(openai, "base_url")));
    json_t *groq = find_provider(list, "groq");
    CHECK(str_eq(jstr(groq, "api_key_env"), "GROQ_API_KEY"), "groq api_key_env is %s", or_null(jstr(groq, "api_key_env")));
    json_t *mistral = find_provider(list, "mistral");
    CHECK(str_eq(jstr(mistral, "api_key_env"), "MISTRAL_API_KEY"), "mistral api_key_env is %s", or_null(jstr(mistral, "api_key_env")));
    json_t *lmstudio = find_provider(list, "lmstudio");
    CHECK(json_is_false(json_object_get(lmstudio, "api_key_required")), "lmstudio (a local server) must not require a key");
    json_t *vllm = find_provider(list, "vllm");
    CHECK(json_is_false(json_object_get(vllm, "api_key_required")), "vllm (a local server) must not require a key");
    json_decref(j);
    anyllm_string_free(s);

    /* api_key_set follows the environment at call time. */
    const char *old = getenv("GROQ_API_KEY");
    char *saved = old ? strdup(old) : NULL;
    setenv("GROQ_API_KEY", "gsk-from-the-environment", 1);
    s = anyllm_providers();
    j = jparse(s);
    CHECK(json_is_true(json_object_get(find_provider(json_object_get(j, "providers"), "groq"), "api_key_set")),
          "groq api_key_set false although GROQ_API_KEY is set");
    CHECK(strstr(s, "gsk-from-the-environment") == NULL, "anyllm_providers shows the key's value");
    json_decref(j);
    anyllm_string_free(s);
    unsetenv("GROQ_API_KEY");
    s = anyllm_providers();
    j = jparse(s);
    CHECK(json_is_false(json_object_get(find_provider(json_object_get(j, "providers"), "groq"), "api_key_set")),
          "groq api_key_set true although GROQ_API_KEY is unset");
    json_decref(j);
    anyllm_string_free(s);
    if (saved) {
        setenv("GROQ_API_KEY", saved, 1);
        free(saved);
    }
}

static void client_new_ok(const char *options, const char *what) {
    char *err = (char *)(uintptr_t)1;
    anyllm_client *c = anyllm_client_new(options, &err);
    CHECK(c != NULL, "client_new(%s) failed: %s", what, c ? "" : (err && err != (char *)(uintptr_t)1 ? err : "(no error)"));
    CHECK(err == NULL, "client_new(%s) succeeded but did not set *error_json to NULL", what);
    if (err && err != (char *)(uintptr_t)1) anyllm_string_free(err);
    anyllm_client_free(c);
}

static void client_new_bad(const char *options, const char *what, const char *mention) {
    char *err = NULL;
    anyllm_client *c = anyllm_client_new(options, &err);
    CHECK(c == NULL, "client_new(%s) accepted invalid options", what);
    if (c) anyllm_client_free(c);
    check_output(ANYLLM_E_INVALID_REQUEST, err, err ? strlen(err) : 0, NULL, what);
    if (mention) CHECK(err && strstr(err, mention), "client_new(%s): error does not mention %s: %s", what, mention, or_null(err));
    anyllm_string_free(err);
    /* error_json may be NULL */
    c = anyllm_client_new(options, NULL);
    CHECK(c == NULL, "client_new(%s, NULL) accepted invalid options", what);
    if (c) anyllm_client_free(c);
}

static void test_client_new(void) {
    TEST("anyllm_client_new: valid options");
    client_new_ok(NULL, "NULL");
    client_new_ok("{}", "{}");
    json_t *o = json_pack("{s:f, s:f, s:f, s:i, s:{s:s, s:s}, s:b}", "timeout", 30.0, "connect_timeout", 5.0,
                          "read_timeout", 10.5, "max_retries", 0, "headers", "X-Test", "yes", "X-Other", "2",
                          "verify_tls", 1);
    char *s = jdump(o);
    client_new_ok(s, "all options");
    free(s);
    json_decref(o);
    client_new_ok("{\"timeout\": 1, \"max_retries\": 100}", "integer seconds, max_retries 100");
    anyllm_client *c = anyllm_client_new(NULL, NULL);
    CHECK(c != NULL, "client_new(NULL, NULL) failed");
    anyllm_client_free(c);

    TEST("anyllm_client_new: invalid options");
    client_new_bad("not json", "not JSON", NULL);
    client_new_bad("", "empty string", NULL);
    client_new_bad("[1, 2]", "an array", NULL);
    client_new_bad("{\"timeout\": -1}", "negative timeout", "timeout");
    client_new_bad("{\"timeout\": 0}", "zero timeout", "timeout");
    client_new_bad("{\"timeout\": \"10\"}", "timeout as a string", "timeout");
    client_new_bad("{\"read_timeout\": -0.5}", "negative read_timeout", "read_timeout");
    client_new_bad("{\"max_retries\": -1}", "negative max_retries", "max_retries");
    client_new_bad("{\"max_retries\": 1.5}", "fractional max_retries", "max_retries");
    client_new_bad("{\"max_retries\": \"3\"}", "max_retries as a string", "max_retries");
    client_new_bad("{\"bogus_option\": 1}", "unknown option", "bogus_option");
    client_new_bad("{\"headers\": [\"X-A: b\"]}", "headers as a list", "headers");
    client_new_bad("{\"headers\": {\"X-A\": 1}}", "non-string header value", "X-A");
    client_new_bad("{\"headers\": {\"X-A\": \"a\\r\\nInjected: yes\"}}", "CRLF in a header value", "X-A");
    client_new_bad("{\"verify_tls\": \"no\"}", "verify_tls as a string", "verify_tls");
}

static int count_chunk(const char *chunk, size_t len, void *ud) {
    (void)chunk;
    (void)len;
    (*(int *)ud)++;
    return 0;
}

static void test_null_arguments(void) {
    TEST("NULL arguments");
    char *out = (char *)(uintptr_t)1;
    anyllm_status st = anyllm_completion(NULL, NULL, NULL, NULL, &out);
    CHECK(st == ANYLLM_E_INVALID_REQUEST, "NULL request: status %d", st);
    check_output(st, out, out ? strlen(out) : 0, NULL, "NULL request");
    anyllm_string_free(out);
    st = anyllm_completion(NULL, NULL, NULL, NULL, NULL);
    CHECK(st == ANYLLM_E_INVALID_REQUEST, "NULL request, NULL out_json: status %d", st);

    anyllm_client *c = anyllm_client_new(NULL, NULL);
    out = NULL;
    st = anyllm_completion(c, NULL, count_chunk, NULL, &out);
    CHECK(st == ANYLLM_E_INVALID_REQUEST, "NULL request on a client: status %d", st);
    check_output(st, out, out ? strlen(out) : 0, NULL, "NULL request on a client");
    anyllm_string_free(out);

    CHECK(anyllm_completion_start(NULL, NULL, NULL, NULL, NULL) == NULL, "completion_start(NULL request) returned a call");
    CHECK(anyllm_completion_start(c, NULL, NULL, NULL, NULL) == NULL, "completion_start(client, NULL request) returned a call");

    out = NULL;
    st = anyllm_call_wait(NULL, &out);
    CHECK(st != ANYLLM_OK, "call_wait(NULL) returned OK");
    anyllm_string_free(out);

    /* no-ops */
    anyllm_string_free(NULL);
    anyllm_call_free(NULL);
    anyllm_call_cancel(NULL);
    anyllm_client_free(NULL);
    CHECK(1, "NULL no-ops returned");

    /* NULL client = the default client; NULL out_json allowed on success and on error. */
    json_t *req = req_new("openai:gpt-4o-mini");
    char *text = jdump(req);
    out = NULL;
    st = anyllm_completion(NULL, text, NULL, NULL, &out);
    CHECK(st == ANYLLM_OK, "default client: status %d: %s", st, or_null(out));
    json_t *j = jparse(out);
    CHECK(str_eq(jstr(j, "choices[0].message.content"), "You said: Hello there"), "default client content: %s", or_null(out));
    json_decref(j);
    anyllm_string_free(out);
    st = anyllm_completion(NULL, text, NULL, NULL, NULL);
    CHECK(st == ANYLLM_OK, "default client with NULL out_json: status %d", st);
    st = anyllm_completion(c, text, NULL, NULL, NULL);
    CHECK(st == ANYLLM_OK, "client with NULL out_json: status %d", st);
    free(text);

    /* A non-streamed request never calls on_chunk. */
    int chunks = 0;
    result r;
    run_req(c, req, count_chunk, &chunks, &r);
    CHECK(r.st == ANYLLM_OK && chunks == 0, "non-streamed request: status %d, on_chunk called %d times", r.st, chunks);
    res_free(&r);
    json_decref(req);

    req = req_new("openai:status-401");
    text = jdump(req);
    st = anyllm_completion(c, text, NULL, NULL, NULL);
    CHECK(st == ANYLLM_E_AUTHENTICATION, "error with NULL out_json: status %d", st);
    free(text);
    json_decref(req);

    /* Empty and non-UTF-8 request texts are invalid requests, not crashes. */
    out = NULL;
    st = anyllm_completion(c, "", NULL, NULL, &out);
    CHECK(st == ANYLLM_E_INVALID_REQUEST, "empty request text: status %d", st);
    check_output(st, out, out ? strlen(out) : 0, NULL, "empty request text");
    anyllm_string_free(out);
    out = NULL;
    st = anyllm_completion(c, "{\"model\": \"openai:x\xff\xfe\", \"messages\": \"hi\"}", NULL, NULL, &out);
    CHECK(st == ANYLLM_E_INVALID_REQUEST, "request with invalid UTF-8: status %d: %s", st, or_null(out));
    if (out) check_output(st, out, strlen(out), NULL, "invalid UTF-8 request");
    anyllm_string_free(out);
    anyllm_client_free(c);
}

static void test_request_not_kept(void) {
    TEST("request buffer only read during the call");
    /* completion_start copies the request: overwrite and free it at once. */
    json_t *req = req_new("openai:slow-3-50");
    char *text = jdump(req);
    anyllm_call *call = anyllm_completion_start(NULL, text, NULL, NULL, NULL);
    memset(text, 'x', strlen(text));
    free(text);
    char *out = NULL;
    anyllm_status st = anyllm_call_wait(call, &out);
    CHECK(st == ANYLLM_OK, "completion_start with a freed request buffer: status %d: %s", st, or_null(out));
    json_t *j = jparse(out);
    CHECK(str_eq(jstr(j, "choices[0].message.content"), "tok0 tok1 tok2"), "content %s", or_null(out));
    json_decref(j);
    anyllm_string_free(out);
    anyllm_call_free(call);
    json_decref(req);
}

static void test_many_clients(void) {
    TEST("many clients created and freed");
    int n = scaled(200, 20);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        anyllm_client *c = anyllm_client_new("{\"max_retries\": 1}", NULL);
        if (c) ok++;
        anyllm_client_free(c);
    }
    CHECK(ok == n, "%d of %d clients created", ok, n);
    /* strings from the library are freed with anyllm_string_free, many times over */
    int good = 0;
    for (int i = 0; i < n; i++) {
        char *s = anyllm_providers();
        if (s && s[0] == '{') good++;
        anyllm_string_free(s);
    }
    CHECK(good == n, "%d of %d anyllm_providers results", good, n);
}

int main(void) {
    test_setup();
    test_version();
    test_providers();
    test_client_new();
    test_null_arguments();
    test_request_not_kept();
    test_many_clients();
    return test_teardown();
}
