/*
 * test_completion — non-streamed completions against the emulator, and what the library puts on the wire
 * (checked with the emulator's GET /_emulator/last_request): model spellings, parameter mapping per
 * provider, pass-through of unknown keys, headers, reasoning_effort, tools, Azure deployments.
 */
#include "util.h"

static anyllm_client *g_client;

/* Runs req (expects OK) and returns what the emulator received (new reference) in *sent. */
static bool run_ok(json_t *req, result *r, json_t **sent, const char *what) {
    run_req(g_client, req, NULL, NULL, r);
    bool ok = CHECK(r->st == ANYLLM_OK, "%s: status %d: %.400s", what, r->st, or_null(r->raw));
    if (sent) *sent = emu_last_request();
    return ok;
}

static void test_basic(void) {
    TEST("basic completion");
    json_t *req = req_new("openai:gpt-4o-mini");
    result r;
    json_t *sent;
    run_ok(req, &r, &sent, "basic");
    json_t *j = r.j;
    CHECK(str_eq(jstr(j, "object"), "chat.completion"), "object %s", or_null(jstr(j, "object")));
    CHECK(starts_with(jstr(j, "id"), "chatcmpl-"), "id %s", or_null(jstr(j, "id")));
    CHECK(json_is_integer(jpath(j, "created")) && jint(j, "created", 0) > 1600000000, "created %lld", jint(j, "created", 0));
    CHECK(str_eq(jstr(j, "model"), "gpt-4o-mini"), "model %s", or_null(jstr(j, "model")));
    CHECK(json_array_size(jpath(j, "choices")) == 1, "%zu choices", json_array_size(jpath(j, "choices")));
    CHECK(jint(j, "choices[0].index", -1) == 0, "choices[0].index");
    CHECK(str_eq(jstr(j, "choices[0].message.role"), "assistant"), "role %s", or_null(jstr(j, "choices[0].message.role")));
    CHECK(str_eq(jstr(j, "choices[0].message.content"), "You said: Hello there"), "content %s",
          or_null(jstr(j, "choices[0].message.content")));
    CHECK(str_eq(jstr(j, "choices[0].finish_reason"), "stop"), "finish_reason %s", or_null(jstr(j, "choices[0].finish_reason")));
    CHECK(jpath(j, "choices[0].message.tool_calls") == NULL || json_is_null(jpath(j, "choices[0].message.tool_calls")),
          "unexpected tool_calls");
    CHECK(jint(j, "usage.prompt_tokens", -1) == 2, "prompt_tokens %lld", jint(j, "usage.prompt_tokens", -1));
    CHECK(jint(j, "usage.completion_tokens", -1) == 4, "completion_tokens %lld", jint(j, "usage.completion_tokens", -1));
    CHECK(jint(j, "usage.total_tokens", -1) == 6, "total_tokens %lld", jint(j, "usage.total_tokens", -1));

    /* what went on the wire */
    CHECK(str_eq(jstr(sent, "method"), "POST"), "method %s", or_null(jstr(sent, "method")));
    CHECK(str_eq(jstr(sent, "path"), "/v1/chat/completions"), "path %s", or_null(jstr(sent, "path")));
    CHECK(starts_with(jstr(sent, "headers.content-type"), "application/json"), "content-type %s",
          or_null(jstr(sent, "headers.content-type")));
    char expect_auth[64];
    snprintf(expect_auth, sizeof expect_auth, "<redacted:%zu chars>", strlen("Bearer " TEST_KEY));
    CHECK(str_eq(jstr(sent, "headers.authorization"), expect_auth), "authorization header %s (want %s)",
          or_null(jstr(sent, "headers.authorization")), expect_auth);
    CHECK(str_eq(jstr(sent, "body.model"), "gpt-4o-mini"), "sent model %s", or_null(jstr(sent, "body.model")));
    json_t *want_msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", "Hello there");
    CHECK(json_equal(jpath(sent, "body.messages"), want_msgs), "sent messages differ");
    json_decref(want_msgs);
    static const char *never[] = {"api_key", "api_base", "client_args", "provider", "reasoning_effort", "stream_options"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        CHECK(jpath(sent, "body") && json_object_get(jpath(sent, "body"), never[i]) == NULL, "body contains \"%s\"", never[i]);
    CHECK(!json_is_true(jpath(sent, "body.stream")), "a non-streamed request sent stream: true");
    json_decref(sent);
    res_free(&r);
    json_decref(req);
}

static void test_model_spellings(void) {
    TEST("model spellings and messages as a string");
    struct { const char *model; const char *provider; const char *sent; } cases[] = {
        {"openai:gpt-4.1-mini", NULL, "gpt-4.1-mini"},
        {"openai/gpt-4.1-nano", NULL, "gpt-4.1-nano"},                   /* legacy slash form */
        {"echo-model", "openai", "echo-model"},                          /* provider field + bare model */
        {"openai:ft:gpt-4o-mini:acme:abc123", NULL, "ft:gpt-4o-mini:acme:abc123"},  /* only the first colon splits */
        {"meta-llama/Llama-3-8b", "openai", "meta-llama/Llama-3-8b"},    /* with "provider", the model is taken whole */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *req = req_new(cases[i].model);
        if (cases[i].provider) json_object_set_new(req, "provider", json_string(cases[i].provider));
        result r;
        json_t *sent;
        run_ok(req, &r, &sent, cases[i].model);
        CHECK(str_eq(jstr(sent, "body.model"), cases[i].sent), "model %s (provider %s) sent as %s, want %s",
              cases[i].model, or_null(cases[i].provider), or_null(jstr(sent, "body.model")), cases[i].sent);
        CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: Hello there"), "%s: content %s", cases[i].model,
              or_null(jstr(r.j, "choices[0].message.content")));
        json_decref(sent);
        res_free(&r);
        json_decref(req);
    }

    json_t *req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "messages", json_string("Hi friend"));
    result r;
    json_t *sent;
    run_ok(req, &r, &sent, "messages as a string");
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: Hi friend"), "content %s",
          or_null(jstr(r.j, "choices[0].message.content")));
    json_t *want = json_pack("[{s:s, s:s}]", "role", "user", "content", "Hi friend");
    CHECK(json_equal(jpath(sent, "body.messages"), want), "a string message was not sent as one user message");
    json_decref(want);
    json_decref(sent);
    res_free(&r);
    json_decref(req);

    /* Conversation with system prompt, content parts, unicode. */
    req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "messages",
                        json_pack("[{s:s, s:s}, {s:s, s:[{s:s, s:s}, {s:s, s:s}]}]", "role", "system", "content",
                                  "Be terse.", "role", "user", "content", "type", "text", "text", "héllo wörld",
                                  "type", "text", "text", "👋 你好"));
    run_ok(req, &r, &sent, "content parts");
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: héllo wörld 👋 你好"), "content %s",
          or_null(jstr(r.j, "choices[0].message.content")));
    CHECK(json_equal(jpath(sent, "body.messages"), json_object_get(req, "messages")), "messages were altered on the way");
    json_decref(sent);
    res_free(&r);
    json_decref(req);
}

static void test_parameters(void) {
    TEST("parameter mapping");
    /* openai: max_tokens goes out as max_completion_tokens */
    json_t *req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "max_tokens", json_integer(50));
    result r;
    json_t *sent;
    run_ok(req, &r, &sent, "openai max_tokens");
    CHECK(jint(sent, "body.max_completion_tokens", -1) == 50, "openai: max_completion_tokens %lld",
          jint(sent, "body.max_completion_tokens", -1));
    CHECK(jpath(sent, "body.max_tokens") == NULL, "openai: max_tokens was sent as well");
    json_decref(sent);
    res_free(&r);
    json_decref(req);

    /* groq: max_tokens stays max_tokens */
    req = req_new("groq:llama-3.1-8b-instant");
    json_object_set_new(req, "max_tokens", json_integer(50));
    run_ok(req, &r, &sent, "groq max_tokens");
    CHECK(jint(sent, "body.max_tokens", -1) == 50, "groq: max_tokens %lld", jint(sent, "body.max_tokens", -1));
    CHECK(jpath(sent, "body.max_completion_tokens") == NULL, "groq: max_completion_tokens was sent");
    CHECK(str_eq(jstr(sent, "body.model"), "llama-3.1-8b-instant"), "groq model %s", or_null(jstr(sent, "body.model")));
    json_decref(sent);
    res_free(&r);
    json_decref(req);

    /* standard parameters travel unchanged; null ones are not sent */
    req = req_new("openai:gpt-4o-mini");
    json_t *params = json_pack("{s:f, s:f, s:[s,s], s:i, s:s, s:i, s:f, s:f, s:{s:s}, s:b, s:{s:i}}", "temperature", 0.25,
                               "top_p", 0.5, "stop", "END", "STOP", "seed", 7, "user", "user-42", "n", 1,
                               "presence_penalty", 0.5, "frequency_penalty", -0.5, "response_format", "type",
                               "json_object", "logprobs", 0, "logit_bias", "50256", -100);
    json_object_update(req, params);
    json_object_set_new(req, "top_logprobs", json_null());
    json_object_set_new(req, "max_completion_tokens", json_null());
    run_ok(req, &r, &sent, "standard parameters");
    const char *key;
    json_t *value;
    json_object_foreach(params, key, value) {
        json_t *got = json_object_get(jpath(sent, "body"), key);
        char *g = got ? jdump(got) : NULL, *w = jdump(value);
        CHECK(got && json_equal(got, value), "parameter %s sent as %s, want %s", key, or_null(g), w);
        free(g);
        free(w);
    }
    CHECK(jpath(sent, "body.top_logprobs") == NULL, "a null parameter (top_logprobs) was sent");
    CHECK(jpath(sent, "body.max_completion_tokens") == NULL, "a null parameter (max_completion_tokens) was sent");
    json_decref(params);
    json_decref(sent);
    res_free(&r);
    json_decref(req);

    /* unknown keys are passed through unchanged (any-llm's **kwargs) */
    req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "foo", json_pack("{s:i}", "bar", 1));
    json_object_set_new(req, "metadata", json_pack("{s:s}", "trace", "abc"));
    json_object_set_new(req, "service_tier", json_string("flex"));
    run_ok(req, &r, &sent, "pass-through keys");
    json_t *want = json_pack("{s:i}", "bar", 1);
    CHECK(json_equal(jpath(sent, "body.foo"), want), "foo was not passed through as {\"bar\": 1}");
    json_decref(want);
    CHECK(str_eq(jstr(sent, "body.metadata.trace"), "abc"), "metadata was not passed through");
    CHECK(str_eq(jstr(sent, "body.service_tier"), "flex"), "service_tier was not passed through");
    json_decref(sent);
    res_free(&r);
    json_decref(req);

    /* numbers and strings keep their exact value on the way through */
    req = req_new("openai:gpt-4o-mini");
    json_t *numbers = json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:i, s:f}", "big", (json_int_t)9007199254740993LL, "neg",
                                (json_int_t)-1234567890123456789LL, "max", (json_int_t)9223372036854775807LL, "tenth", 0.1, "huge",
                                1e300, "tiny", 5e-324, "third", 1.0 / 3.0, "zero", 0, "half", -0.5);
    json_object_set(req, "x_numbers", numbers);
    const char nul_text[] = "nul\0inside \xe2\x80\xa8 \xf0\x9f\x98\x80 \x7f";
    json_t *str = json_stringn(nul_text, sizeof nul_text - 1);
    json_object_set(req, "x_string", str);
    run_ok(req, &r, &sent, "number and string fidelity");
    json_object_foreach(numbers, key, value) {
        json_t *got = jpath(sent, "body.x_numbers") ? json_object_get(jpath(sent, "body.x_numbers"), key) : NULL;
        char *g = got ? jdump(got) : NULL, *w = jdump(value);
        CHECK(got && json_equal(got, value), "x_numbers.%s arrived as %s, sent %s", key, or_null(g), w);
        free(g);
        free(w);
    }
    CHECK(json_equal(jpath(sent, "body.x_string"), str), "a string with NUL, U+2028, an emoji and DEL arrived altered");
    json_decref(numbers);
    json_decref(str);
    json_decref(sent);
    res_free(&r);
    json_decref(req);

    /* reasoning_effort: "auto" (the default) sends nothing, others are sent */
    const char *efforts[] = {"auto", NULL, "low", "high", "minimal", "none"};
    for (size_t i = 0; i < sizeof efforts / sizeof *efforts; i++) {
        req = req_new("openai:gpt-4o-mini");
        if (efforts[i]) json_object_set_new(req, "reasoning_effort", json_string(efforts[i]));
        run_ok(req, &r, &sent, "reasoning_effort");
        const char *got = jstr(sent, "body.reasoning_effort");
        if (!efforts[i] || strcmp(efforts[i], "auto") == 0)
            CHECK(jpath(sent, "body.reasoning_effort") == NULL, "reasoning_effort %s sent %s", or_null(efforts[i]), or_null(got));
        else
            CHECK(str_eq(got, efforts[i]), "reasoning_effort %s sent %s", efforts[i], or_null(got));
        json_decref(sent);
        res_free(&r);
        json_decref(req);
    }
    req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "reasoning_effort", json_null());
    run_ok(req, &r, &sent, "reasoning_effort null");
    CHECK(jpath(sent, "body.reasoning_effort") == NULL, "reasoning_effort null was sent");
    json_decref(sent);
    res_free(&r);
    json_decref(req);
}

static void test_headers_and_env(void) {
    TEST("headers, env vars, clients");
    /* client_args headers go out; the client's default headers too; the call's override the client's */
    anyllm_client *c = anyllm_client_new("{\"headers\": {\"X-Client\": \"from-client\", \"X-Both\": \"client\"}}", NULL);
    json_t *req = req_new("openai:gpt-4o-mini");
    req_client_arg(req, "headers", json_pack("{s:s, s:s}", "X-Call", "from-call", "X-Both", "call"));
    result r;
    run_req(c, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK, "headers: status %d: %s", r.st, or_null(r.raw));
    json_t *sent = emu_last_request();
    CHECK(str_eq(jstr(sent, "headers.x-client"), "from-client"), "client header: %s", or_null(jstr(sent, "headers.x-client")));
    CHECK(str_eq(jstr(sent, "headers.x-call"), "from-call"), "call header: %s", or_null(jstr(sent, "headers.x-call")));
    CHECK(str_eq(jstr(sent, "headers.x-both"), "call"), "client_args must override the client's header: %s",
          or_null(jstr(sent, "headers.x-both")));
    CHECK(jpath(sent, "body.client_args") == NULL, "client_args was sent in the body");
    json_decref(sent);
    res_free(&r);
    json_decref(req);
    anyllm_client_free(c);

    /* the key from the provider's environment variable */
    const char *env_key = "sk-from-env-5a4b3c2d1e0f";
    add_secret(env_key);
    setenv("OPENAI_API_KEY", env_key, 1);
    req = req_new("openai:gpt-4o-mini");
    json_object_del(req, "api_key");
    run_ok(req, &r, &sent, "key from OPENAI_API_KEY");
    char expect_auth[64];
    snprintf(expect_auth, sizeof expect_auth, "<redacted:%zu chars>", strlen("Bearer ") + strlen(env_key));
    CHECK(str_eq(jstr(sent, "headers.authorization"), expect_auth), "authorization %s (want %s)",
          or_null(jstr(sent, "headers.authorization")), expect_auth);
    json_decref(sent);
    res_free(&r);
    /* the request's api_key wins over the environment */
    json_object_set_new(req, "api_key", json_string("sk-bad-request-key-1234"));
    add_secret("sk-bad-request-key-1234");
    expect_error(g_client, req, ANYLLM_E_AUTHENTICATION, &r, "api_key over env");
    res_free(&r);
    unsetenv("OPENAI_API_KEY");
    json_decref(req);

    /* the base URL from OPENAI_BASE_URL when api_base is absent */
    setenv("OPENAI_BASE_URL", g_api_base, 1);
    req = req_new("openai:base-from-env");
    json_object_del(req, "api_base");
    run_ok(req, &r, &sent, "base from OPENAI_BASE_URL");
    CHECK(str_eq(jstr(sent, "body.model"), "base-from-env"), "OPENAI_BASE_URL not used (last model %s)",
          or_null(jstr(sent, "body.model")));
    json_decref(sent);
    res_free(&r);
    unsetenv("OPENAI_BASE_URL");
    json_decref(req);

    /* api_base with a trailing slash */
    req = req_new("openai:trailing-slash");
    char base[320];
    snprintf(base, sizeof base, "%s/", g_api_base);
    json_object_set_new(req, "api_base", json_string(base));
    run_ok(req, &r, &sent, "api_base with a trailing slash");
    CHECK(str_eq(jstr(sent, "path"), "/v1/chat/completions"), "path %s", or_null(jstr(sent, "path")));
    json_decref(sent);
    res_free(&r);
    json_decref(req);

    /* a local server without a key: no Authorization header at all (the emulator then answers 401) */
    const char *old = getenv("LM_STUDIO_API_KEY");
    char *saved = old ? strdup(old) : NULL;
    unsetenv("LM_STUDIO_API_KEY");
    req = req_new("lmstudio:local-model");
    json_object_del(req, "api_key");
    expect_error(g_client, req, ANYLLM_E_AUTHENTICATION, &r, "lmstudio without a key");
    sent = emu_last_request();
    CHECK(str_eq(jstr(sent, "body.model"), "local-model"), "lmstudio request not sent (last model %s)", or_null(jstr(sent, "body.model")));
    CHECK(jpath(sent, "headers.authorization") == NULL, "an Authorization header was sent without a key: %s",
          or_null(jstr(sent, "headers.authorization")));
    json_decref(sent);
    res_free(&r);
    json_decref(req);
    if (saved) {
        setenv("LM_STUDIO_API_KEY", saved, 1);
        free(saved);
    }
}

static void test_azure(void) {
    TEST("Azure OpenAI deployment");
    json_t *req = req_new("azureopenai:my-deployment");
    json_object_set_new(req, "api_base", json_string(g_emu.url));
    json_object_set_new(req, "max_tokens", json_integer(20));
    result r;
    json_t *sent;
    run_ok(req, &r, &sent, "azure");
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: Hello there"), "content %s",
          or_null(jstr(r.j, "choices[0].message.content")));
    CHECK(str_eq(jstr(sent, "path"), "/openai/deployments/my-deployment/chat/completions"), "path %s", or_null(jstr(sent, "path")));
    CHECK(jstr(sent, "query.api-version") != NULL, "no api-version query parameter");
    char expect[64];
    snprintf(expect, sizeof expect, "<redacted:%zu chars>", strlen(TEST_KEY));
    CHECK(str_eq(jstr(sent, "headers.api-key"), expect), "api-key header %s (want %s)", or_null(jstr(sent, "headers.api-key")), expect);
    CHECK(jpath(sent, "headers.authorization") == NULL, "Azure got an Authorization header");
    CHECK(jint(sent, "body.max_completion_tokens", -1) == 20, "azure max_completion_tokens %lld", jint(sent, "body.max_completion_tokens", -1));
    json_decref(sent);
    res_free(&r);

    json_object_set_new(req, "api_version", json_string("2025-01-01-preview"));
    run_ok(req, &r, &sent, "azure api_version");
    CHECK(str_eq(jstr(sent, "query.api-version"), "2025-01-01-preview"), "api-version %s", or_null(jstr(sent, "query.api-version")));
    CHECK(jpath(sent, "body.api_version") == NULL, "api_version was sent in the body");
    json_decref(sent);
    res_free(&r);
    json_decref(req);
}

static json_t *weather_tools(void) {
    return json_pack("[{s:s, s:{s:s, s:s, s:{s:s, s:{s:{s:s}, s:{s:s, s:[s,s]}}, s:[s]}}},"
                     " {s:s, s:{s:s, s:{s:s, s:{s:{s:s}}}}}]",
                     "type", "function", "function", "name", "get_weather", "description", "Weather in a city",
                     "parameters", "type", "object", "properties", "city", "type", "string", "unit", "type", "string",
                     "enum", "celsius", "fahrenheit", "required", "city",
                     "type", "function", "function", "name", "get_time", "parameters", "type", "object",
                     "properties", "tz", "type", "string");
}

static void test_tools(void) {
    TEST("tool calls (non-streamed)");
    json_t *req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "messages", json_string("What is the weather in Paris?"));
    json_object_set_new(req, "tools", weather_tools());
    result r;
    json_t *sent;
    run_ok(req, &r, &sent, "tools");
    json_t *j = r.j;
    CHECK(str_eq(jstr(j, "choices[0].finish_reason"), "tool_calls"), "finish_reason %s", or_null(jstr(j, "choices[0].finish_reason")));
    CHECK(json_is_null(jpath(j, "choices[0].message.content")), "content should be null with tool calls");
    CHECK(json_array_size(jpath(j, "choices[0].message.tool_calls")) == 1, "%zu tool calls",
          json_array_size(jpath(j, "choices[0].message.tool_calls")));
    CHECK(starts_with(jstr(j, "choices[0].message.tool_calls[0].id"), "call_"), "tool call id %s",
          or_null(jstr(j, "choices[0].message.tool_calls[0].id")));
    CHECK(str_eq(jstr(j, "choices[0].message.tool_calls[0].type"), "function"), "tool call type");
    CHECK(str_eq(jstr(j, "choices[0].message.tool_calls[0].function.name"), "get_weather"), "tool name %s",
          or_null(jstr(j, "choices[0].message.tool_calls[0].function.name")));
    json_t *args = jparse(jstr(j, "choices[0].message.tool_calls[0].function.arguments"));
    json_t *want = json_pack("{s:s, s:s}", "city", "Paris", "unit", "celsius");
    CHECK(json_equal(args, want), "arguments %s", or_null(jstr(j, "choices[0].message.tool_calls[0].function.arguments")));
    json_decref(want);
    json_decref(args);
    CHECK(json_equal(jpath(sent, "body.tools"), json_object_get(req, "tools")), "tools were altered on the way");
    json_decref(sent);

    /* tool_choice naming the second tool, parallel_tool_calls false */
    json_object_set_new(req, "tool_choice", json_pack("{s:s, s:{s:s}}", "type", "function", "function", "name", "get_time"));
    json_object_set_new(req, "parallel_tool_calls", json_false());
    res_free(&r);
    run_ok(req, &r, &sent, "tool_choice");
    CHECK(str_eq(jstr(r.j, "choices[0].message.tool_calls[0].function.name"), "get_time"), "named tool_choice: %s",
          or_null(jstr(r.j, "choices[0].message.tool_calls[0].function.name")));
    CHECK(json_equal(jpath(sent, "body.tool_choice"), json_object_get(req, "tool_choice")), "tool_choice altered");
    CHECK(json_is_false(jpath(sent, "body.parallel_tool_calls")), "parallel_tool_calls not sent as false");
    json_decref(sent);

    /* the tool result round trip: assistant tool_calls + tool message → the answer */
    const char *call_id = "call_abc123";
    json_object_del(req, "tool_choice");
    json_object_del(req, "parallel_tool_calls");
    json_object_set_new(req, "messages",
                        json_pack("[{s:s, s:s}, {s:s, s:n, s:[{s:s, s:s, s:{s:s, s:s}}]}, {s:s, s:s, s:s}]",
                                  "role", "user", "content", "Weather in Paris?",
                                  "role", "assistant", "content", "tool_calls", "id", call_id, "type", "function",
                                  "function", "name", "get_weather", "arguments", "{\"city\":\"Paris\"}",
                                  "role", "tool", "tool_call_id", call_id, "content", "18C and sunny"));
    res_free(&r);
    run_ok(req, &r, &sent, "tool result");
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "Tool results: 18C and sunny"), "content %s",
          or_null(jstr(r.j, "choices[0].message.content")));
    CHECK(str_eq(jstr(r.j, "choices[0].finish_reason"), "stop"), "finish_reason %s", or_null(jstr(r.j, "choices[0].finish_reason")));
    CHECK(str_eq(jstr(sent, "body.messages[2].tool_call_id"), call_id), "tool message altered");
    json_decref(sent);
    res_free(&r);
    json_decref(req);
}

static void test_special_models(void) {
    TEST("reasoning, length, big and unicode bodies");
    json_t *req = req_new("openai:reasoning");
    result r;
    run_ok(req, &r, NULL, "reasoning");
    CHECK(str_eq(jstr(r.j, "choices[0].message.reasoning.content"), "Let me think about what the user said: Hello there"),
          "reasoning %s", or_null(jstr(r.j, "choices[0].message.reasoning.content")));
    CHECK(jpath(r.j, "choices[0].message.reasoning_content") == NULL, "reasoning_content was not normalised to reasoning");
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: Hello there"), "content %s",
          or_null(jstr(r.j, "choices[0].message.content")));
    res_free(&r);
    json_decref(req);

    req = req_new("openai:length");
    run_ok(req, &r, NULL, "length");
    CHECK(str_eq(jstr(r.j, "choices[0].finish_reason"), "length"), "finish_reason %s", or_null(jstr(r.j, "choices[0].finish_reason")));
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "truncated"), "content %s", or_null(jstr(r.j, "choices[0].message.content")));
    res_free(&r);
    json_decref(req);

    int n = scaled(2000, 300);
    req = req_new("openai:long-2000");
    char model[32];
    snprintf(model, sizeof model, "openai:long-%d", n);
    json_object_set_new(req, "model", json_string(model));
    run_ok(req, &r, NULL, "long non-streamed");
    char *want = tokens_text(n);
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), want), "long-%d content differs (%zu bytes)", n,
          strlen(or_null(jstr(r.j, "choices[0].message.content"))));
    free(want);
    res_free(&r);
    json_decref(req);

    /* a large prompt (~600 KB) with JSON-escaped characters */
    size_t big = 600 * 1024;
    char *text = malloc(big + 1);
    for (size_t i = 0; i < big; i++) text[i] = "ab \"\\\n\tx"[i % 8];
    text[big] = 0;
    req = req_new("openai:big-prompt");
    json_object_set_new(req, "messages", json_pack("[{s:s, s:s}]", "role", "user", "content", text));
    json_t *sent;
    run_ok(req, &r, &sent, "big prompt");
    CHECK(str_eq(jstr(sent, "body.messages[0].content"), text), "the big prompt arrived altered");
    json_decref(sent);
    res_free(&r);
    json_decref(req);
    free(text);

    /* characters that need escaping, and unicode beyond the BMP, survive the round trip */
    const char *tricky = "quote \" backslash \\ tab \t newline \n nul-free \x01 control, emoji 😀, 中文";
    req = req_new("openai:gpt-4o-mini");
    json_object_set_new(req, "messages", json_pack("[{s:s, s:s}]", "role", "user", "content", tricky));
    run_ok(req, &r, &sent, "escapes");
    char expect[256];
    snprintf(expect, sizeof expect, "You said: %s", tricky);
    CHECK(str_eq(jstr(sent, "body.messages[0].content"), tricky), "escaped prompt altered: %s",
          or_null(jstr(sent, "body.messages[0].content")));
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), expect), "content %s", or_null(jstr(r.j, "choices[0].message.content")));
    json_decref(sent);
    res_free(&r);
    json_decref(req);
}

static void test_sequential_reuse(void) {
    TEST("one client, many sequential calls");
    int n = scaled(100, 10), ok = 0;
    for (int i = 0; i < n; i++) {
        json_t *req = req_new("openai:gpt-4o-mini");
        char msg[32];
        snprintf(msg, sizeof msg, "message %d", i);
        json_object_set_new(req, "messages", json_string(msg));
        result r;
        run_req(g_client, req, NULL, NULL, &r);
        char want[48];
        snprintf(want, sizeof want, "You said: message %d", i);
        if (r.st == ANYLLM_OK && str_eq(jstr(r.j, "choices[0].message.content"), want)) ok++;
        res_free(&r);
        json_decref(req);
    }
    CHECK(ok == n, "%d of %d sequential calls answered correctly", ok, n);
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    test_basic();
    test_model_spellings();
    test_parameters();
    test_headers_and_env();
    test_azure();
    test_tools();
    test_special_models();
    test_sequential_reuse();
    anyllm_client_free(g_client);
    return test_teardown();
}
