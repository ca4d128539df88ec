/*
 * test_mistral_azure — two OpenAI-shaped providers with differences, end to end through libanyllm.so against the
 * emulator's Mistral route (/mistral/v1/chat/completions: forbids unknown keys with a 422, wants random_seed and
 * tool_choice "any", answers reasoning as typed content chunks) and its Azure AI model inference routes
 * (/models/chat/completions and /azureai/chat/completions with ?api-version= and an api-key header); also
 * azureopenai's api-version from the environment.
 */
#include "native_util.h"

static anyllm_client *g_client;
static const nproto M = {"mistral", true, false};

/* A Mistral request aimed at the emulator's /mistral/v1. */
static json_t *mreq(const char *model, bool stream) {
    json_t *req = nreq(&M, model, stream);
    char base[320];
    snprintf(base, sizeof base, "%s/mistral/v1", g_emu.url);
    json_object_set_new(req, "api_base", json_string(base));
    return req;
}

/* An Azure AI inference request; form "/models" (Foundry resource) or "/azureai" (serverless endpoint root). */
static json_t *areq(const char *model, bool stream, const char *form) {
    nproto a = {"azure", true, false};
    json_t *req = nreq(&a, model, stream);
    char base[320];
    snprintf(base, sizeof base, "%s%s", g_emu.url, form);
    json_object_set_new(req, "api_base", json_string(base));
    return req;
}

static json_t *last_sent(void) { return emu_last_request(); }

/* No chunk may carry content as a list (the typed chunks must have been flattened). */
static void expect_flat_chunks(nres *o) {
    size_t i;
    json_t *ch;
    int lists = 0;
    json_array_foreach(o->c.chunks, i, ch) if (json_is_array(jpath(ch, "choices[0].delta.content"))) lists++;
    CHECK(lists == 0, "%s: %d chunks passed content on as a list", o->where, lists);
}

static void test_mistral_text(void) {
    TEST("mistral: text, streamed and not; what was sent");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = mreq("mistral-small-latest", stream);
        json_object_set_new(req, "max_completion_tokens", json_integer(50));
        nres o;
        nrun(g_client, req, &o, stream ? "text stream" : "text");
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        CHECK(str_eq(jstr(o.r.j, "object"), "chat.completion"), "%s: object %s", o.where, or_null(jstr(o.r.j, "object")));
        json_t *sent = last_sent();
        CHECK(str_eq(jstr(sent, "path"), "/mistral/v1/chat/completions"), "%s: path %s", o.where, or_null(jstr(sent, "path")));
        CHECK(starts_with(jstr(sent, "headers.authorization"), "<redacted"), "%s: no Authorization header", o.where);
        CHECK(jpath(sent, "body.stream_options") == NULL, "%s: stream_options sent to Mistral", o.where);
        CHECK(jint(sent, "body.max_tokens", -1) == 50 && jpath(sent, "body.max_completion_tokens") == NULL,
              "%s: max_completion_tokens not sent as max_tokens", o.where);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_mistral_params(void) {
    TEST("mistral: seed -> random_seed, developer -> system, safe_prompt and prompt_mode passed through");
    json_t *req = mreq("mistral-small-latest", false);
    json_object_set_new(req, "seed", json_integer(1234));
    json_object_set_new(req, "safe_prompt", json_true());
    json_object_set_new(req, "prompt_mode", json_string("reasoning"));
    nreq_messages(req, multi_turn_messages());
    nres o;
    nrun(g_client, req, &o, "renamed params");
    expect_text(&o, "You said: What is up", "stop");
    json_t *sent = last_sent();
    CHECK(jint(sent, "body.random_seed", -1) == 1234, "random_seed %lld, want 1234", jint(sent, "body.random_seed", -1));
    CHECK(jpath(sent, "body.seed") == NULL, "seed was sent as it is");
    CHECK(json_is_true(jpath(sent, "body.safe_prompt")), "safe_prompt not passed through");
    CHECK(str_eq(jstr(sent, "body.prompt_mode"), "reasoning"), "prompt_mode %s", or_null(jstr(sent, "body.prompt_mode")));
    CHECK(str_eq(jstr(sent, "body.messages[1].role"), "system"), "developer role sent as %s",
          or_null(jstr(sent, "body.messages[1].role")));
    json_decref(sent);
    nres_free(&o);
    json_decref(req);
}

static void test_mistral_tools(void) {
    TEST("mistral: tools (required -> any, named, auto), streamed and not, and the tool-result turn");
    const char *weather[] = {"get_weather"}, *wargs[] = {WEATHER_ARGS}, *tname[] = {"get_time"}, *targs[] = {TIME_ARGS};
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = mreq("mistral-large-latest", stream);
        json_object_set_new(req, "messages", json_string("What is the weather in Paris?"));
        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "tool_choice", json_string("required"));
        nres o;
        nrun(g_client, req, &o, stream ? "required stream" : "required");
        expect_calls(&o, 1, weather, wargs);
        json_t *sent = last_sent();
        CHECK(str_eq(jstr(sent, "body.tool_choice"), "any"), "%s: tool_choice %s, want any", o.where,
              or_null(jstr(sent, "body.tool_choice")));
        json_decref(sent);

        /* the answer goes back as the next turn */
        json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", "What is the weather in Paris?");
        json_array_append_new(msgs, assistant_of(&o));
        json_array_append_new(msgs, tool_answer(&o, 0, "18C"));
        nres_free(&o);
        json_t *next = mreq("mistral-large-latest", stream);
        nreq_messages(next, msgs);
        json_object_set_new(next, "tools", tools_two());
        nrun(g_client, next, &o, stream ? "tool result stream" : "tool result");
        expect_text(&o, "Tool results: 18C", "stop");
        nres_free(&o);
        json_decref(next);

        json_object_set_new(req, "tool_choice", named_choice("get_time"));
        nrun(g_client, req, &o, stream ? "named stream" : "named");
        expect_calls(&o, 1, tname, targs);
        nres_free(&o);
        json_object_set_new(req, "tool_choice", json_string("auto"));
        nrun(g_client, req, &o, stream ? "auto stream" : "auto");
        expect_calls(&o, 1, weather, wargs);
        sent = last_sent();
        CHECK(str_eq(jstr(sent, "body.tool_choice"), "auto"), "%s: tool_choice %s", o.where, or_null(jstr(sent, "body.tool_choice")));
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_magistral(void) {
    TEST("mistral: magistral thinking chunks -> reasoning.content + string content, streamed and not");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = mreq("magistral-medium-2509", stream);
        nres o;
        nrun(g_client, req, &o, stream ? "magistral stream" : "magistral");
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        if (stream) {
            int pieces = 0;
            free(chunks_reasoning(&o.c, &pieces));
            CHECK(pieces >= 5, "%s: reasoning came in %d chunks (the emulator sends one per word)", o.where, pieces);
            expect_flat_chunks(&o);
        }
        nres_free(&o);

        /* reasoning_effort none on a reasoning model: no thinking */
        json_object_set_new(req, "reasoning_effort", json_string("none"));
        nrun(g_client, req, &o, stream ? "reasoning_effort none stream" : "reasoning_effort none");
        json_t *sent = last_sent();
        CHECK(str_eq(jstr(sent, "body.reasoning_effort"), "none"), "%s: reasoning_effort %s", o.where,
              or_null(jstr(sent, "body.reasoning_effort")));
        json_decref(sent);
        nres_free(&o);
        json_decref(req);

        /* adjustable reasoning with a tool call: thinking, then the call (content null) */
        req = mreq("mistral-small-latest", stream);
        json_object_set_new(req, "reasoning_effort", json_string("high"));
        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "tool_choice", json_string("required"));
        nrun(g_client, req, &o, stream ? "reasoning + tool stream" : "reasoning + tool");
        const char *weather[] = {"get_weather"}, *wargs[] = {WEATHER_ARGS};
        expect_calls(&o, 1, weather, wargs);
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        if (stream) expect_flat_chunks(&o);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_mistral_errors(void) {
    TEST("mistral: unsupported parameters, the 422 body, typed errors");
    const char *refused[] = {"logprobs", "top_logprobs", "logit_bias", "user"};
    json_t *vals[] = {json_true(), json_integer(2), jparse("{\"42\": 1}"), json_string("u-1")};
    for (int i = 0; i < 4; i++) {
        json_t *req = mreq("mistral-small-latest", false);
        json_object_set_new(req, refused[i], vals[i]);
        if (i == 1) json_object_set_new(req, "logprobs", json_true());
        nres o;
        nrun(g_client, req, &o, refused[i]);
        const char *want = refused[i];  /* the first refused parameter in request order */
        if (CHECK(o.r.st == ANYLLM_E_UNSUPPORTED_PARAMETER, "%s: status %d: %.300s", refused[i], o.r.st, or_null(o.r.raw))) {
            CHECK(str_eq(jstr(o.r.j, "error.param"), want), "%s: error.param %s", refused[i], or_null(jstr(o.r.j, "error.param")));
            CHECK(str_eq(jstr(o.r.j, "error.provider"), "mistral"), "%s: provider %s", refused[i], or_null(jstr(o.r.j, "error.provider")));
        }
        nres_free(&o);
        json_decref(req);
    }

    /* an extra key Mistral does not know: its 422, readable, naming the field */
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = mreq("mistral-small-latest", stream);
        req_client_arg(req, "max_retries", json_integer(0));
        json_object_set_new(req, "frobnicate", json_integer(3));
        nres o;
        nrun(g_client, req, &o, stream ? "422 stream" : "422");
        expect_http_error(&o, ANYLLM_E_INVALID_REQUEST, 422, "mistral");
        const char *msg = jstr(o.r.j, "error.message");
        CHECK(str_eq(msg, "frobnicate: Extra inputs are not permitted"), "%s: message %s", o.where, or_null(msg));
        CHECK(str_eq(jstr(o.r.j, "error.param"), "frobnicate"), "%s: param %s", o.where, or_null(jstr(o.r.j, "error.param")));
        CHECK(str_eq(jstr(o.r.j, "error.provider_error.message.detail[0].type"), "extra_forbidden"),
              "%s: provider_error not Mistral's body: %.300s", o.where, or_null(o.r.raw));
        nres_free(&o);
        json_decref(req);
    }

    add_secret("sk-bad-mistral-1f2e3d4c5b");
    struct { const char *model, *key; anyllm_status st; int http; } cases[] = {
        {"mistral-small-latest", "sk-bad-mistral-1f2e3d4c5b", ANYLLM_E_AUTHENTICATION, 401},
        {"status-429", NULL, ANYLLM_E_RATE_LIMIT, 429},
        {"invalid-model", NULL, ANYLLM_E_NOT_FOUND, 400},
        {"context-length", NULL, ANYLLM_E_CONTEXT_LENGTH, 400},
        {"status-500", NULL, ANYLLM_E_PROVIDER, 500},
        {"status-404", NULL, ANYLLM_E_NOT_FOUND, 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int stream = 0; stream < 2; stream++) {
            json_t *req = mreq(cases[i].model, stream);
            req_client_arg(req, "max_retries", json_integer(0));
            if (cases[i].key) json_object_set_new(req, "api_key", json_string(cases[i].key));
            char what[128];
            snprintf(what, sizeof what, "%s%s", cases[i].model, stream ? " stream" : "");
            nres o;
            nrun(g_client, req, &o, what);
            expect_http_error(&o, cases[i].st, cases[i].http, "mistral");
            const char *msg = jstr(o.r.j, "error.message");
            CHECK(msg && *msg && msg[0] != '{', "%s: message not readable: %s", what, or_null(msg));
            if (cases[i].http == 401) CHECK(str_eq(msg, "Unauthorized"), "%s: message %s", what, or_null(msg));
            nres_free(&o);
            json_decref(req);
        }
    }

    /* the connection cut mid-stream / mid-body, and bodies that are not JSON, on Mistral's route */
    for (int stream = 1; stream >= 0; stream--) {
        json_t *req = mreq("drop-after-3", stream);
        req_client_arg(req, "max_retries", json_integer(0));
        nres o;
        nrun(g_client, req, &o, stream ? "drop-after-3 stream" : "drop-after-3");
        expect_error_full(&o, ANYLLM_E_CONNECTION, 0, "mistral", false, -1, -1, stream ? "tok0 tok1 tok2 " : NULL);
        nres_free(&o);
        json_decref(req);
        req = mreq("garbage", stream);
        req_client_arg(req, "max_retries", json_integer(0));
        nrun(g_client, req, &o, stream ? "garbage stream" : "garbage");
        expect_error_full(&o, ANYLLM_E_PROVIDER, 0, "mistral", true, -1, -1, NULL);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_azure(void) {
    TEST("azure: Azure AI model inference, both endpoint forms, streamed and not");
    const char *forms[] = {"/models", "/azureai"};
    for (int f = 0; f < 2; f++) {
        for (int stream = 0; stream < 2; stream++) {
            json_t *req = areq("gpt-4o-mini", stream, forms[f]);
            char what[96];
            snprintf(what, sizeof what, "azure %s%s", forms[f], stream ? " stream" : "");
            nres o;
            nrun(g_client, req, &o, what);
            expect_text(&o, "You said: Hello there", "stop");
            expect_usage(o.r.j, o.where, 2, 4);
            json_t *sent = last_sent();
            char path[96];
            snprintf(path, sizeof path, "%s/chat/completions", forms[f]);
            CHECK(str_eq(jstr(sent, "path"), path), "%s: path %s", what, or_null(jstr(sent, "path")));
            CHECK(str_eq(jstr(sent, "query.api-version"), "2024-05-01-preview"), "%s: api-version %s", what,
                  or_null(jstr(sent, "query.api-version")));
            CHECK(starts_with(jstr(sent, "headers.api-key"), "<redacted"), "%s: no api-key header", what);
            CHECK(jpath(sent, "headers.authorization") == NULL, "%s: a bearer token was sent", what);
            CHECK(jpath(sent, "headers.extra-parameters") == NULL, "%s: extra-parameters sent with no extras", what);
            CHECK(str_eq(jstr(sent, "body.model"), "gpt-4o-mini"), "%s: body.model %s", what, or_null(jstr(sent, "body.model")));
            CHECK(jpath(sent, "body.stream_options") == NULL, "%s: stream_options sent", what);
            json_decref(sent);
            nres_free(&o);
            json_decref(req);
        }
    }

    TEST("azure: api_version from the request (consumed) and OPENAI_API_VERSION; extras pass through");
    json_t *req = areq("gpt-4o-mini", false, "/models");
    json_object_set_new(req, "api_version", json_string("2024-08-01-preview"));
    json_object_set_new(req, "user", json_string("u-7"));
    nres o;
    nrun(g_client, req, &o, "api_version + user");
    expect_text(&o, "You said: Hello there", "stop");
    json_t *sent = last_sent();
    CHECK(str_eq(jstr(sent, "query.api-version"), "2024-08-01-preview"), "api-version %s", or_null(jstr(sent, "query.api-version")));
    CHECK(jpath(sent, "body.api_version") == NULL, "api_version was sent in the body");
    CHECK(str_eq(jstr(sent, "headers.extra-parameters"), "pass-through"), "extra-parameters %s",
          or_null(jstr(sent, "headers.extra-parameters")));
    CHECK(str_eq(jstr(sent, "body.user"), "u-7"), "user not passed on");
    json_decref(sent);
    nres_free(&o);
    json_decref(req);

    char *saved = getenv("OPENAI_API_VERSION") ? strdup(getenv("OPENAI_API_VERSION")) : NULL;
    setenv("OPENAI_API_VERSION", "2025-01-01-preview", 1);
    req = areq("gpt-4o-mini", true, "/azureai");
    nrun(g_client, req, &o, "OPENAI_API_VERSION");
    expect_text(&o, "You said: Hello there", "stop");
    sent = last_sent();
    CHECK(str_eq(jstr(sent, "query.api-version"), "2025-01-01-preview"), "api-version from the environment: %s",
          or_null(jstr(sent, "query.api-version")));
    json_decref(sent);
    nres_free(&o);
    json_decref(req);
    if (saved) setenv("OPENAI_API_VERSION", saved, 1); else unsetenv("OPENAI_API_VERSION");
    free(saved);

    TEST("azure: endpoint from AZURE_AI_CHAT_ENDPOINT, none at all, missing and bad keys");
    char base[320];
    snprintf(base, sizeof base, "%s/models", g_emu.url);
    setenv("AZURE_AI_CHAT_ENDPOINT", base, 1);
    req = areq("gpt-4o-mini", false, "/models");
    json_object_del(req, "api_base");
    nrun(g_client, req, &o, "endpoint from the environment");
    expect_text(&o, "You said: Hello there", "stop");
    nres_free(&o);
    unsetenv("AZURE_AI_CHAT_ENDPOINT");
    nrun(g_client, req, &o, "no endpoint");
    if (CHECK(o.r.st == ANYLLM_E_INVALID_REQUEST, "no endpoint: status %d: %.300s", o.r.st, or_null(o.r.raw)))
        CHECK(strstr(or_null(jstr(o.r.j, "error.message")), "AZURE_AI_CHAT_ENDPOINT") != NULL,
              "no endpoint: the error does not name AZURE_AI_CHAT_ENDPOINT: %s", or_null(jstr(o.r.j, "error.message")));
    nres_free(&o);
    json_decref(req);

    if (!getenv("AZURE_API_KEY")) {
        req = areq("gpt-4o-mini", false, "/models");
        json_object_del(req, "api_key");
        nrun(g_client, req, &o, "no key");
        expect_error_full(&o, ANYLLM_E_MISSING_API_KEY, 0, "azure", false, -1, -1, NULL);
        CHECK(strstr(or_null(jstr(o.r.j, "error.message")), "AZURE_API_KEY") != NULL, "no key: message %s",
              or_null(jstr(o.r.j, "error.message")));
        nres_free(&o);
        json_decref(req);
    }
    add_secret("sk-bad-azure-8a7b6c5d4e");
    for (int stream = 0; stream < 2; stream++) {
        req = areq("gpt-4o-mini", stream, "/models");
        req_client_arg(req, "max_retries", json_integer(0));
        json_object_set_new(req, "api_key", json_string("sk-bad-azure-8a7b6c5d4e"));
        nrun(g_client, req, &o, stream ? "bad key stream" : "bad key");
        expect_http_error(&o, ANYLLM_E_AUTHENTICATION, 401, "azure");
        CHECK(strstr(or_null(jstr(o.r.j, "error.message")), "Access denied") != NULL, "%s: message %s", o.where,
              or_null(jstr(o.r.j, "error.message")));
        nres_free(&o);
        json_decref(req);
    }
    /* the emulator's scripted errors through this route */
    req = areq("status-429", false, "/models");
    req_client_arg(req, "max_retries", json_integer(0));
    nrun(g_client, req, &o, "azure 429");
    expect_error_full(&o, ANYLLM_E_RATE_LIMIT, 429, "azure", true, 1.0, 2.0, NULL);
    nres_free(&o);
    json_decref(req);
}

static void test_azureopenai_version(void) {
    TEST("azureopenai: api-version from the request, OPENAI_API_VERSION, AZURE_OPENAI_API_VERSION, default");
    nproto a = {"azureopenai", true, false};
    char *s1 = getenv("OPENAI_API_VERSION") ? strdup(getenv("OPENAI_API_VERSION")) : NULL;
    char *s2 = getenv("AZURE_OPENAI_API_VERSION") ? strdup(getenv("AZURE_OPENAI_API_VERSION")) : NULL;
    unsetenv("OPENAI_API_VERSION");
    unsetenv("AZURE_OPENAI_API_VERSION");
    struct { const char *openai, *azure, *request, *want; } cases[] = {
        {NULL, NULL, NULL, "2024-10-21"},
        {NULL, "2024-06-01", NULL, "2024-06-01"},
        {"2025-03-01-preview", "2024-06-01", NULL, "2025-03-01-preview"},
        {"2025-03-01-preview", NULL, "2024-02-01", "2024-02-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].openai) setenv("OPENAI_API_VERSION", cases[i].openai, 1); else unsetenv("OPENAI_API_VERSION");
        if (cases[i].azure) setenv("AZURE_OPENAI_API_VERSION", cases[i].azure, 1); else unsetenv("AZURE_OPENAI_API_VERSION");
        json_t *req = nreq(&a, "gpt-4o", false);
        if (cases[i].request) json_object_set_new(req, "api_version", json_string(cases[i].request));
        nres o;
        nrun(g_client, req, &o, cases[i].want);
        expect_text(&o, "You said: Hello there", "stop");
        json_t *sent = last_sent();
        CHECK(str_eq(jstr(sent, "path"), "/openai/deployments/gpt-4o/chat/completions"), "%s: path %s", o.where,
              or_null(jstr(sent, "path")));
        CHECK(str_eq(jstr(sent, "query.api-version"), cases[i].want), "case %zu: api-version %s, want %s", i,
              or_null(jstr(sent, "query.api-version")), cases[i].want);
        CHECK(jpath(sent, "body.api_version") == NULL, "case %zu: api_version sent in the body", i);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
    if (s1) setenv("OPENAI_API_VERSION", s1, 1); else unsetenv("OPENAI_API_VERSION");
    if (s2) setenv("AZURE_OPENAI_API_VERSION", s2, 1); else unsetenv("AZURE_OPENAI_API_VERSION");
    free(s1);
    free(s2);
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    double t0 = now_s();
    test_mistral_text();
    test_mistral_params();
    test_mistral_tools();
    test_magistral();
    test_mistral_errors();
    test_azure();
    test_azureopenai_version();
    fprintf(stderr, "test_mistral_azure: %.1f s\n", now_s() - t0);
    anyllm_client_free(g_client);
    return test_teardown();
}
