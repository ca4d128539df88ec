/*
 * test_request_validation — requests the library must refuse itself, before any HTTP: invalid JSON and
 * invalid fields (ANYLLM_E_INVALID_REQUEST), unknown providers (ANYLLM_E_UNSUPPORTED_PROVIDER) and missing
 * keys (ANYLLM_E_MISSING_API_KEY). Each error must be typed and name the field, and nothing may reach the
 * emulator (its last request stays the marker request sent first).
 */
#include "util.h"

static anyllm_client *g_client;
static const char *MARKER = "validation-marker";

/* Sends one valid request whose model is the marker, so that we can tell whether later ones went out. */
static void send_marker(void) {
    json_t *req = req_new("openai:validation-marker");
    result r;
    run_req(g_client, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK, "marker request failed: %d %s", r.st, or_null(r.raw));
    res_free(&r);
    json_decref(req);
}

static void check_nothing_sent(const char *what) {
    json_t *last = emu_last_request();
    CHECK(str_eq(jstr(last, "body.model"), MARKER), "%s: a request reached the provider (model %s)", what,
          or_null(jstr(last, "body.model")));
    json_decref(last);
}

/* Runs raw request text; expects `st`, an error mentioning `mention` (if not NULL), and no HTTP. */
static void expect_raw(const char *text, anyllm_status st, const char *mention, const char *what) {
    char *out = NULL;
    anyllm_status got = anyllm_completion(g_client, text, NULL, NULL, &out);
    CHECK(got == st, "%s: status %d (%s), want %d (%s): %.300s", what, got, status_type(got), st, status_type(st), or_null(out));
    check_output(got, out, out ? strlen(out) : 0, NULL, what);
    if (mention) CHECK(out && strstr(out, mention), "%s: error does not mention \"%s\": %.300s", what, mention, or_null(out));
    anyllm_string_free(out);
    check_nothing_sent(what);
}

/* Applies `patch` (stolen) on a valid request; NULL values delete the key. */
static void expect_invalid(const char *key, json_t *value, const char *mention, const char *what) {
    json_t *req = req_new("openai:gpt-4o-mini");
    if (value) json_object_set_new(req, key, value); else json_object_del(req, key);
    char *text = jdump(req);
    expect_raw(text, ANYLLM_E_INVALID_REQUEST, mention, what);
    free(text);
    json_decref(req);
}

static void expect_invalid_stream(const char *key, json_t *value, const char *mention, const char *what) {
    json_t *req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "stream", json_true());
    json_object_set_new(req, key, value);
    char *text = jdump(req);
    expect_raw(text, ANYLLM_E_INVALID_REQUEST, mention, what);
    free(text);
    json_decref(req);
}

static json_t *one_tool(const char *name) {
    return json_pack("[{s:s, s:{s:s, s:{s:s, s:{}}}}]", "type", "function", "function", "name", name, "parameters",
                     "type", "object", "properties");
}

static void test_bad_json(void) {
    TEST("malformed request JSON");
    expect_raw("", ANYLLM_E_INVALID_REQUEST, NULL, "empty text");
    expect_raw("{", ANYLLM_E_INVALID_REQUEST, NULL, "truncated object");
    expect_raw("{\"model\": \"openai:gpt-4o\", \"messages\": \"hi\",}", ANYLLM_E_INVALID_REQUEST, NULL, "trailing comma");
    expect_raw("{\"model\": \"openai:gpt-4o\" \"messages\": \"hi\"}", ANYLLM_E_INVALID_REQUEST, NULL, "missing comma");
    expect_raw("{'model': 'openai:gpt-4o'}", ANYLLM_E_INVALID_REQUEST, NULL, "single quotes");
    expect_raw("[]", ANYLLM_E_INVALID_REQUEST, NULL, "an array");
    expect_raw("null", ANYLLM_E_INVALID_REQUEST, NULL, "null");
    expect_raw("42", ANYLLM_E_INVALID_REQUEST, NULL, "a number");
    expect_raw("\"openai:gpt-4o\"", ANYLLM_E_INVALID_REQUEST, NULL, "a string");
    expect_raw("{\"model\": \"openai:gpt-4o\", \"messages\": \"hi\"} trailing", ANYLLM_E_INVALID_REQUEST, NULL, "trailing garbage");
    expect_raw("{\"model\": \"openai:gpt-4o\", \"messages\": \"bad \\q escape\"}", ANYLLM_E_INVALID_REQUEST, NULL, "bad escape");
    /* deep nesting must not crash the parser */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 64);
    size_t n = (size_t)sprintf(deep, "{\"model\": \"openai:x\", \"messages\": \"hi\", \"foo\": ");
    for (size_t i = 0; i < depth; i++) deep[n++] = '[';
    for (size_t i = 0; i < depth; i++) deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    char *out = NULL;
    anyllm_status st = anyllm_completion(g_client, deep, NULL, NULL, &out);
    CHECK(st == ANYLLM_E_INVALID_REQUEST || st == ANYLLM_OK, "100000 nested arrays: status %d", st);
    check_output(st, out, out ? strlen(out) : 0, NULL, "deep nesting");
    anyllm_string_free(out);
    free(deep);
    send_marker();
}

static void test_bad_fields(void) {
    TEST("invalid fields");
    expect_invalid("model", NULL, "model", "missing model");
    expect_invalid("model", json_string(""), "model", "empty model");
    expect_invalid("model", json_integer(5), "model", "model not a string");
    expect_invalid("model", json_string("openai:"), "model", "provider without a model");
    expect_invalid("messages", NULL, "messages", "missing messages");
    expect_invalid("messages", json_array(), "messages", "empty messages");
    expect_invalid("messages", json_string(""), "messages", "empty message string");
    expect_invalid("messages", json_integer(5), "messages", "messages not a list");
    expect_invalid("messages", json_pack("[i]", 1), "messages[0]", "message not an object");
    expect_invalid("messages", json_pack("[{s:s}]", "content", "hi"), "role", "message without role");
    expect_invalid("messages", json_pack("[{s:s, s:s}]", "role", "robot", "content", "hi"), "role", "bad role");
    expect_invalid("messages", json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "user", "content", "a", "role", "wizard", "content", "b"),
                   "messages[1]", "bad role in the second message");
    expect_invalid("messages", json_pack("[{s:s}]", "role", "user"), "content", "user message without content");
    expect_invalid("messages", json_pack("[{s:s, s:i}]", "role", "user", "content", 7), "content", "content not text");
    expect_invalid("messages", json_pack("[{s:s, s:[{s:s}]}]", "role", "user", "content", "type", "text"), "text",
                   "text part without text");
    expect_invalid("messages", json_pack("[{s:s, s:s}, {s:s}]", "role", "user", "content", "hi", "role", "assistant"),
                   "messages[1]", "assistant without content or tool_calls");
    expect_invalid("messages", json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "user", "content", "hi", "role", "tool", "content", "42"),
                   "tool_call_id", "tool message without tool_call_id");
    expect_invalid("temperature", json_real(5.0), "temperature", "temperature 5");
    expect_invalid("temperature", json_real(-0.1), "temperature", "temperature -0.1");
    expect_invalid("temperature", json_string("hot"), "temperature", "temperature a string");
    expect_invalid("top_p", json_real(1.5), "top_p", "top_p 1.5");
    expect_invalid("presence_penalty", json_real(3.0), "presence_penalty", "presence_penalty 3");
    expect_invalid("frequency_penalty", json_real(-2.5), "frequency_penalty", "frequency_penalty -2.5");
    expect_invalid("n", json_integer(0), "n", "n 0");
    expect_invalid("max_tokens", json_integer(0), "max_tokens", "max_tokens 0");
    expect_invalid("max_tokens", json_real(10.5), "max_tokens", "max_tokens 10.5");
    expect_invalid("max_tokens", json_string("10"), "max_tokens", "max_tokens a string");
    expect_invalid("max_completion_tokens", json_integer(-3), "max_completion_tokens", "max_completion_tokens -3");
    expect_invalid("seed", json_real(1.5), "seed", "seed 1.5");
    expect_invalid("top_logprobs", json_integer(21), "top_logprobs", "top_logprobs 21");
    expect_invalid("logprobs", json_string("yes"), "logprobs", "logprobs a string");
    expect_invalid("parallel_tool_calls", json_string("yes"), "parallel_tool_calls", "parallel_tool_calls a string");
    expect_invalid("user", json_integer(5), "user", "user a number");
    expect_invalid("stop", json_integer(5), "stop", "stop a number");
    expect_invalid("stop", json_pack("[i]", 1), "stop", "stop a list of numbers");
    expect_invalid("logit_bias", json_pack("{s:s}", "50256", "a lot"), "logit_bias", "logit_bias value a string");
    expect_invalid("stream", json_string("yes"), "stream", "stream a string");
    expect_invalid("stream_options", json_pack("{s:b}", "include_usage", 1), "stream_options", "stream_options without stream");
    {
        json_t *req = req_new("openai:gpt-4o-mini");
        json_object_set_new(req, "stream", json_false());
        json_object_set_new(req, "stream_options", json_pack("{s:b}", "include_usage", 1));
        char *text = jdump(req);
        expect_raw(text, ANYLLM_E_INVALID_REQUEST, "stream_options", "stream_options with stream false");
        free(text);
        json_decref(req);
    }
    expect_invalid_stream("stream_options", json_string("usage"), "stream_options", "stream_options a string");
    expect_invalid("response_format", json_pack("{s:s}", "type", "xml"), "response_format", "response_format xml");
    expect_invalid("response_format", json_pack("{s:s, s:{s:{}}}", "type", "json_schema", "json_schema", "schema"),
                   "name", "json_schema without a name");
    expect_invalid("response_format", json_string("json"), "response_format", "response_format a string");
    expect_invalid("reasoning_effort", json_string("extreme"), "reasoning_effort", "reasoning_effort extreme");
    expect_invalid("api_base", json_string("ftp://example.com"), "api_base", "api_base not http(s)");
    expect_invalid("api_key", json_integer(5), "api_key", "api_key a number");
    expect_invalid("provider", json_string(""), "provider", "empty provider");
    expect_invalid("client_args", json_string("fast"), "client_args", "client_args a string");
    expect_invalid("client_args", json_pack("{s:i}", "bogus", 1), "bogus", "unknown client_args key");
    expect_invalid("client_args", json_pack("{s:f}", "timeout", -1.0), "timeout", "client_args timeout -1");
    expect_invalid("client_args", json_pack("{s:i}", "max_retries", -1), "max_retries", "client_args max_retries -1");
    expect_invalid("client_args", json_pack("{s:{s:s}}", "headers", "X-A", "a\nb"), "X-A", "header with a newline");
}

static void test_bad_tools(void) {
    TEST("invalid tools and tool_choice");
    expect_invalid("tools", json_string("get_weather"), "tools", "tools a string");
    expect_invalid("tools", json_pack("[i]", 1), "tools[0]", "tool not an object");
    expect_invalid("tools", one_tool("get weather"), "name", "tool name with a space");
    expect_invalid("tools", one_tool("a123456789b123456789c123456789d123456789e123456789f123456789g12345"), "name",
                   "tool name of 65 characters");
    expect_invalid("tools", one_tool(""), "name", "empty tool name");
    expect_invalid("tools", json_pack("[{s:s, s:{s:s, s:s}}]", "type", "function", "function", "name", "f", "parameters", "x"),
                   "parameters", "parameters not an object");
    expect_invalid("tools", json_pack("[{s:s, s:{}}]", "type", "function", "function"), "name", "tool function without a name");

    json_t *req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "tools", one_tool("get_weather"));
    json_object_set_new(req, "tool_choice", json_pack("{s:s, s:{s:s}}", "type", "function", "function", "name", "get_time"));
    char *text = jdump(req);
    expect_raw(text, ANYLLM_E_INVALID_REQUEST, "get_time", "tool_choice naming an unknown tool");
    free(text);
    json_object_set_new(req, "tool_choice", json_string("sometimes"));
    text = jdump(req);
    expect_raw(text, ANYLLM_E_INVALID_REQUEST, "tool_choice", "tool_choice sometimes");
    free(text);
    json_object_del(req, "tools");
    json_object_set_new(req, "tool_choice", json_pack("{s:s, s:{s:s}}", "type", "function", "function", "name", "get_time"));
    text = jdump(req);
    expect_raw(text, ANYLLM_E_INVALID_REQUEST, "tool_choice", "tool_choice naming a tool without tools");
    free(text);
    json_object_set_new(req, "tool_choice", json_string("required"));
    text = jdump(req);
    expect_raw(text, ANYLLM_E_INVALID_REQUEST, "tool_choice", "tool_choice required without tools");
    free(text);
    json_decref(req);

    /* assistant tool_calls in the history are validated too */
    expect_invalid("messages",
                   json_pack("[{s:s, s:s}, {s:s, s:[{s:s, s:{s:s, s:s}}]}]", "role", "user", "content", "hi", "role",
                             "assistant", "tool_calls", "type", "function", "function", "name", "f", "arguments", "{}"),
                   "id", "tool call without an id");
}

static void test_unsupported_provider(void) {
    TEST("unsupported provider");
    struct { const char *model; const char *provider; const char *mention; } cases[] = {
        {"nosuchprovider:gpt-4o", NULL, "nosuchprovider"},
        {"gpt-4o", "nosuchprovider", "nosuchprovider"},
        {"gpt-4o", NULL, NULL}, /* no provider at all */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *req = req_new(cases[i].model);
        if (cases[i].provider) json_object_set_new(req, "provider", json_string(cases[i].provider));
        result r;
        char what[96];
        snprintf(what, sizeof what, "model %s provider %s", cases[i].model, or_null(cases[i].provider));
        expect_error(g_client, req, ANYLLM_E_UNSUPPORTED_PROVIDER, &r, what);
        json_t *known = jpath(r.j, "error.known_providers");
        CHECK(json_array_size(known) >= 20, "%s: known_providers has %zu entries", what, json_array_size(known));
        bool has_openai = false;
        size_t k;
        json_t *v;
        json_array_foreach(known, k, v) has_openai |= str_eq(json_string_value(v), "openai");
        CHECK(has_openai, "%s: known_providers lacks openai", what);
        if (cases[i].mention) CHECK(strstr(or_null(jstr(r.j, "error.message")), cases[i].mention), "%s: message %s", what,
                                    or_null(jstr(r.j, "error.message")));
        res_free(&r);
        json_decref(req);
        check_nothing_sent(what);
    }
}

static void test_missing_key(void) {
    TEST("missing API key");
    struct { const char *model; const char *env; } cases[] = {
        {"openai:gpt-4o-mini", "OPENAI_API_KEY"},
        {"groq:llama-3.1-8b-instant", "GROQ_API_KEY"},
        {"mistral:mistral-small-latest", "MISTRAL_API_KEY"},
        {"deepseek:deepseek-chat", "DEEPSEEK_API_KEY"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *old = getenv(cases[i].env);
        char *saved = old ? strdup(old) : NULL;
        unsetenv(cases[i].env);
        json_t *req = req_new(cases[i].model);
        json_object_del(req, "api_key");
        result r;
        expect_error(g_client, req, ANYLLM_E_MISSING_API_KEY, &r, cases[i].model);
        CHECK(strstr(or_null(jstr(r.j, "error.message")), cases[i].env) != NULL, "%s: message does not name %s: %s",
              cases[i].model, cases[i].env, or_null(jstr(r.j, "error.message")));
        res_free(&r);
        check_nothing_sent(cases[i].model);
        /* an empty variable is no key either */
        setenv(cases[i].env, "", 1);
        expect_error(g_client, req, ANYLLM_E_MISSING_API_KEY, &r, "empty key variable");
        res_free(&r);
        unsetenv(cases[i].env);
        json_decref(req);
        if (saved) {
            setenv(cases[i].env, saved, 1);
            free(saved);
        }
    }
    check_nothing_sent("missing keys");
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    send_marker();
    test_bad_json();
    test_bad_fields();
    test_bad_tools();
    test_unsupported_provider();
    test_missing_key();
    anyllm_client_free(g_client);
    return test_teardown();
}
