/*
 * test_ollama — Ollama's native chat API (POST /api/chat, NDJSON streams) end to end through libanyllm.so against
 * the emulator, which decodes requests like the Go server: OpenAI-shaped results and chunks for text, system and
 * multi-turn conversations, tools (arguments as objects both ways, tool_name on results), structured output
 * (format), thinking (think levels), images (base64 only; a URL is an unsupported parameter), options (stop,
 * num_predict, sampling), and the typed errors.
 */
#include "native_util.h"

static anyllm_client *g_client;
static const nproto O = {"ollama", false, false};

static json_t *last_body(void) {
    json_t *sent = emu_last_request();
    json_t *body = json_incref(jpath(sent, "body"));
    json_decref(sent);
    return body;
}

static void test_echo(void) {
    TEST("ollama: text echo, streamed and not");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&O, "echo", stream);
        nres o;
        nrun(g_client, req, &o, stream ? "echo stream" : "echo");
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        CHECK(str_eq(jstr(o.r.j, "model"), "echo"), "%s: model %s", o.where, or_null(jstr(o.r.j, "model")));
        if (stream) CHECK(o.c.count >= 6, "%s: %d chunks for 4 words", o.where, o.c.count);
        json_t *sent = emu_last_request();
        CHECK(str_eq(jstr(sent, "path"), "/api/chat"), "%s: path %s", o.where, or_null(jstr(sent, "path")));
        CHECK(jpath(sent, "headers.authorization") == NULL, "%s: Authorization sent without a key", o.where);
        /* Ollama streams by default: stream is always sent */
        CHECK(stream ? json_is_true(jpath(sent, "body.stream")) : json_is_false(jpath(sent, "body.stream")),
              "%s: body.stream is not %s", o.where, stream ? "true" : "false");
        CHECK(str_eq(jstr(sent, "body.model"), "echo") && str_eq(jstr(sent, "body.messages[0].content"), "Hello there"),
              "%s: body not converted", o.where);
        CHECK(jpath(sent, "body.api_base") == NULL && jpath(sent, "body.max_tokens") == NULL, "%s: OpenAI keys leaked", o.where);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }

    /* a key (hosted Ollama) goes as a bearer token; OLLAMA_HOST-style bases (no scheme, /v1) work */
    json_t *req = nreq(&O, "echo", false);
    json_object_set_new(req, "api_key", json_string(TEST_KEY));
    nres o;
    nrun(g_client, req, &o, "with a key");
    expect_text(&o, "You said: Hello there", "stop");
    json_t *sent = emu_last_request();
    CHECK(starts_with(jstr(sent, "headers.authorization"), "<redacted"), "with a key: no Authorization header");
    json_decref(sent);
    nres_free(&o);
    char base[320];
    /* OLLAMA_HOST as Ollama users set it: host:port without a scheme */
    if (!getenv("OLLAMA_HOST")) {
        snprintf(base, sizeof base, "127.0.0.1:%d", g_emu.port);
        setenv("OLLAMA_HOST", base, 1);
        json_t *noapi = json_deep_copy(req);
        json_object_del(noapi, "api_base");
        nrun(g_client, noapi, &o, "OLLAMA_HOST host:port");
        expect_text(&o, "You said: Hello there", "stop");
        nres_free(&o);
        json_decref(noapi);
        unsetenv("OLLAMA_HOST");
    }
    snprintf(base, sizeof base, "%s/v1/", g_emu.url);
    json_object_set_new(req, "api_base", json_string(base));
    nrun(g_client, req, &o, "api_base .../v1/");
    expect_text(&o, "You said: Hello there", "stop");
    nres_free(&o);
    json_decref(req);
}

static void test_conversation(void) {
    TEST("ollama: system, developer, multi-turn and plain-string messages");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&O, "echo", stream);
        nreq_messages(req, multi_turn_messages());
        nres o;
        nrun(g_client, req, &o, stream ? "multi-turn stream" : "multi-turn");
        expect_text(&o, "You said: What is up", "stop");
        expect_usage(o.r.j, o.where, MULTI_TURN_PROMPT_TOKENS, 5);
        json_t *body = last_body();
        CHECK(json_array_size(jpath(body, "messages")) == 5 && str_eq(jstr(body, "messages[1].role"), "system") &&
                  str_eq(jstr(body, "messages[3].role"), "assistant") && str_eq(jstr(body, "messages[4].content"), "What is up"),
              "%s: messages not converted (developer → system, parts → string)", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&O, "echo", stream);
        json_object_set_new(req, "messages", json_string("Hello there"));
        nrun(g_client, req, &o, stream ? "plain-string messages stream" : "plain-string messages");
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_tools(void) {
    TEST("ollama: tool calls (auto, required, parallel, streamed)");
    const char *weather[] = {"get_weather"}, *rich[] = {WEATHER_RICH_ARGS}, *wargs[] = {WEATHER_ARGS};
    for (int stream = 0; stream < 2; stream++) {
        nres o;
        json_t *req = nreq(&O, "echo", stream);
        json_object_set_new(req, "messages", json_string("What is the weather in Paris?"));
        json_object_set_new(req, "tools", json_pack("[o]", tool_weather_rich()));
        nrun(g_client, req, &o, stream ? "auto stream" : "auto");
        expect_calls(&o, 1, weather, rich);
        CHECK(json_is_null(jpath(o.r.j, "choices[0].message.content")), "%s: content not null with a tool call", o.where);
        CHECK(starts_with(jstr(o.r.j, "choices[0].message.tool_calls[0].id"), "call_"), "%s: id %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.tool_calls[0].id")));
        expect_usage(o.r.j, o.where, 6, -1);
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "tools[0].function.name"), "get_weather") && str_eq(jstr(body, "tools[0].type"), "function"),
              "%s: tools not sent in the OpenAI form Ollama takes", o.where);
        json_decref(body);
        nres_free(&o);

        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "tool_choice", json_string("required"));
        nrun(g_client, req, &o, stream ? "required stream" : "required");
        expect_calls(&o, 1, weather, wargs);
        nres_free(&o);
        json_object_set_new(req, "tool_choice", named_choice("get_weather"));
        nrun(g_client, req, &o, stream ? "named (first tool) stream" : "named (first tool)");
        expect_calls(&o, 1, weather, wargs);
        nres_free(&o);
        json_decref(req);

        req = nreq(&O, "parallel-tools", stream);
        json_object_set_new(req, "messages", json_string("Weather in Paris and the time in UTC?"));
        json_object_set_new(req, "tools", tools_two());
        nrun(g_client, req, &o, stream ? "parallel stream" : "parallel");
        const char *both[] = {"get_weather", "get_time"}, *bargs[] = {WEATHER_ARGS, TIME_ARGS};
        expect_calls(&o, 2, both, bargs);
        nres_free(&o);
        json_decref(req);
    }
}

/* Ollama's API has no tool_choice. A named choice must still give a call to that function (or be refused as an
 * unsupported parameter), and "none" must not give tool calls: silently ignoring the choice is not an option. */
static void test_tool_choice_semantics(void) {
    TEST("ollama: tool_choice named (not the first tool) and none keep their OpenAI meaning");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&O, "echo", stream);
        json_object_set_new(req, "messages", json_string("What is the time in UTC?"));
        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "tool_choice", named_choice("get_time"));
        nres o;
        nrun(g_client, req, &o, stream ? "named get_time stream" : "named get_time");
        if (o.r.st != ANYLLM_E_UNSUPPORTED_PARAMETER) {
            const char *tname[] = {"get_time"}, *targs[] = {TIME_ARGS};
            expect_calls(&o, 1, tname, targs);
        }
        nres_free(&o);

        json_object_set_new(req, "tool_choice", json_string("none"));
        nrun(g_client, req, &o, stream ? "tool_choice none stream" : "tool_choice none");
        if (o.r.st != ANYLLM_E_UNSUPPORTED_PARAMETER) {
            expect_ok(&o);
            CHECK(jpath(o.r.j, "choices[0].message.tool_calls") == NULL, "%s: tool calls although tool_choice is none: %.300s",
                  o.where, or_null(o.r.raw));
        }
        nres_free(&o);
        json_decref(req);
    }
}

static void test_tool_results(void) {
    TEST("ollama: tool results (object arguments, tool_name)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&O, "echo", stream);
        json_object_set_new(req, "tools", tools_two());
        nreq_messages(req, tool_result_messages());
        nres o;
        nrun(g_client, req, &o, stream ? "tool results stream" : "tool results");
        expect_text(&o, "Tool results: 18C; {\"time\":\"12:00\"}", "stop");
        json_t *body = last_body();
        CHECK(json_is_object(jpath(body, "messages[1].tool_calls[0].function.arguments")) &&
                  str_eq(jstr(body, "messages[1].tool_calls[0].function.arguments.city"), "Paris") &&
                  str_eq(jstr(body, "messages[1].tool_calls[1].function.name"), "get_time") &&
                  json_is_string(jpath(body, "messages[1].content")),
              "%s: assistant tool calls not sent with object arguments (and string content)", o.where);
        CHECK(str_eq(jstr(body, "messages[2].role"), "tool") && str_eq(jstr(body, "messages[2].tool_name"), "get_weather") &&
                  str_eq(jstr(body, "messages[3].tool_name"), "get_time") && str_eq(jstr(body, "messages[2].content"), "18C"),
              "%s: tool messages without the tool_name of their calls", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }

    /* a real round trip */
    json_t *req = nreq(&O, "parallel-tools", false);
    json_object_set_new(req, "messages", json_string("Weather in Paris and the time?"));
    json_object_set_new(req, "tools", tools_two());
    nres o;
    nrun(g_client, req, &o, "round trip: calls");
    if (expect_ok(&o) && json_array_size(jpath(o.r.j, "choices[0].message.tool_calls")) == 2) {
        json_t *msgs = json_pack("[{s:s, s:s}, o, o, o]", "role", "user", "content", "Weather in Paris and the time?",
                                 assistant_of(&o), tool_answer(&o, 0, "sunny"), tool_answer(&o, 1, "noon"));
        nres_free(&o);
        nreq_messages(req, msgs);
        nrun(g_client, req, &o, "round trip: results");
        expect_text(&o, "Tool results: sunny; noon", "stop");
    }
    nres_free(&o);
    json_decref(req);
}

static void test_structured(void) {
    TEST("ollama: structured output (format schema, format json)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&O, "echo", stream);
        json_object_set_new(req, "response_format", person_format());
        nres o;
        nrun(g_client, req, &o, stream ? "json_schema stream" : "json_schema");
        if (expect_ok(&o))
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), PERSON_JSON), "%s: content %s, want %s", o.where,
                  or_null(jstr(o.r.j, "choices[0].message.content")), PERSON_JSON);
        json_t *body = last_body();
        CHECK(json_is_object(jpath(body, "format.properties.age")) && jpath(body, "response_format") == NULL,
              "%s: json_schema not sent as format: <schema>", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&O, "echo", stream);
        json_object_set_new(req, "response_format", json_pack("{s:s}", "type", "json_object"));
        nrun(g_client, req, &o, stream ? "json_object stream" : "json_object");
        if (expect_ok(&o))
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), "{\"text\":\"You said: Hello there\"}"),
                  "%s: content %s", o.where, or_null(jstr(o.r.j, "choices[0].message.content")));
        body = last_body();
        CHECK(str_eq(jstr(body, "format"), "json"), "%s: json_object not sent as format \"json\"", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_reasoning(void) {
    TEST("ollama: thinking (think levels, reasoning model, thinking sent back)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&O, "qwen3", stream);
        json_object_set_new(req, "reasoning_effort", json_string("low"));
        nres o;
        nrun(g_client, req, &o, stream ? "effort low stream" : "effort low");
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        expect_usage(o.r.j, o.where, 2, 14);
        if (stream) {
            int pieces = 0;
            free(chunks_reasoning(&o.c, &pieces));
            CHECK(pieces >= 5, "%s: reasoning came in %d delta.reasoning.content chunks", o.where, pieces);
        }
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "think"), "low") && jpath(body, "reasoning_effort") == NULL, "%s: think %s, want \"low\"", o.where,
              or_null(jstr(body, "think")));
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&O, "reasoning", stream);
        nrun(g_client, req, &o, stream ? "reasoning model stream" : "reasoning model");
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        nres_free(&o);
        json_object_set_new(req, "reasoning_effort", json_string("none"));
        nrun(g_client, req, &o, stream ? "reasoning model, effort none stream" : "reasoning model, effort none");
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(jpath(o.r.j, "choices[0].message.reasoning") == NULL, "%s: reasoning although think is false", o.where);
        body = last_body();
        CHECK(json_is_false(jpath(body, "think")), "%s: think not false", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
    const char *efforts[] = {"minimal", "medium", "high", "xhigh"}, *levels[] = {"low", "medium", "high", "high"};
    for (int i = 0; i < 4; i++) {
        json_t *req = nreq(&O, "echo", false);
        json_object_set_new(req, "reasoning_effort", json_string(efforts[i]));
        nres o;
        nrun(g_client, req, &o, efforts[i]);
        expect_ok(&o);
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "think"), levels[i]), "effort %s: think %s, want %s", efforts[i], or_null(jstr(body, "think")),
              levels[i]);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
    /* an assistant message's reasoning goes back as thinking */
    json_t *req = nreq(&O, "echo", false);
    nreq_messages(req, jparse("[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello!\","
                              "\"reasoning\":{\"content\":\"They greet me.\"}},{\"role\":\"user\",\"content\":\"Bye\"}]"));
    nres o;
    nrun(g_client, req, &o, "reasoning in the history");
    expect_text(&o, "You said: Bye", "stop");
    json_t *body = last_body();
    CHECK(str_eq(jstr(body, "messages[1].thinking"), "They greet me.") && jpath(body, "messages[1].reasoning") == NULL,
          "the assistant's reasoning not sent back as thinking");
    json_decref(body);
    nres_free(&o);
    json_decref(req);
}

static void test_images(void) {
    TEST("ollama: images (data URL → images[], URL → unsupported)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&O, "llava", stream);
        nreq_messages(req, image_messages(PNG_DATA_URL));
        nres o;
        nrun(g_client, req, &o, stream ? "data URL image stream" : "data URL image");
        expect_text(&o, "You said: What is in this image?", "stop");
        json_t *body = last_body();
        CHECK(json_array_size(jpath(body, "messages[0].images")) == 1 && str_eq(jstr(body, "messages[0].images[0]"), PNG_B64) &&
                  str_eq(jstr(body, "messages[0].content"), "What is in this image?"),
              "%s: the image was not sent as base64 in images[]", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&O, "llava", stream);
        nreq_messages(req, image_messages(IMAGE_HTTPS_URL));
        nrun(g_client, req, &o, stream ? "https image stream" : "https image");
        expect_error_full(&o, ANYLLM_E_UNSUPPORTED_PARAMETER, 0, "ollama", false, -1, -1, NULL);
        const char *param = jstr(o.r.j, "error.param");
        CHECK(param && strstr(param, "image_url"), "%s: error.param %s", o.where, or_null(param));
        nres_free(&o);
        json_decref(req);
    }
}

static void test_options(void) {
    TEST("ollama: options (stop, num_predict, sampling, the caller's options), length");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&O, "echo", stream);
        json_object_set_new(req, "stop", json_pack("[s]", "there"));
        json_object_set_new(req, "temperature", json_real(0.25));
        json_object_set_new(req, "top_p", json_real(0.5));
        json_object_set_new(req, "seed", json_integer(7));
        json_object_set_new(req, "top_k", json_integer(20));
        json_object_set_new(req, "options", json_pack("{s:i}", "num_ctx", 4096));
        nres o;
        nrun(g_client, req, &o, stream ? "stop stream" : "stop");
        expect_text(&o, "You said: Hello ", "stop");
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "options.stop[0]"), "there") && jnum(body, "options.temperature", -1) == 0.25 &&
                  jnum(body, "options.top_p", -1) == 0.5 && jint(body, "options.seed", -1) == 7 &&
                  jint(body, "options.top_k", -1) == 20 && jint(body, "options.num_ctx", -1) == 4096,
              "%s: options not merged (stop, temperature, top_p, seed, top_k, num_ctx)", o.where);
        CHECK(jpath(body, "temperature") == NULL && jpath(body, "stop") == NULL && jpath(body, "top_k") == NULL,
              "%s: sampling parameters also sent at the top level", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&O, "echo", stream);
        json_object_set_new(req, "max_tokens", json_integer(2));
        nrun(g_client, req, &o, stream ? "max_tokens 2 stream" : "max_tokens 2");
        expect_text(&o, "You said: ", "length");
        expect_usage(o.r.j, o.where, 2, 2);
        body = last_body();
        CHECK(jint(body, "options.num_predict", -1) == 2, "%s: num_predict %lld", o.where, jint(body, "options.num_predict", -1));
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&O, "length", stream);
        nrun(g_client, req, &o, stream ? "length model stream" : "length model");
        expect_text(&o, "truncated", "length");
        nres_free(&o);
        json_decref(req);
    }
}

static void err_both(const char *model, anyllm_status st, int http, double ra_min, double ra_max) {
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq_err(&O, model, stream);
        json_object_set_new(req, "api_key", json_string(TEST_KEY)); /* hosted Ollama: the key must not leak either */
        char what[160];
        snprintf(what, sizeof what, "%s%s", model, stream ? " (stream)" : "");
        nres o;
        nrun(g_client, req, &o, what);
        expect_error_full(&o, st, http, "ollama", true, ra_min, ra_max, NULL);
        if (o.r.st == st && http)
            CHECK(json_is_string(jpath(o.r.j, "error.provider_error.error")), "%s: provider_error is not Ollama's {\"error\": "
                  "\"...\"}: %.300s", what, or_null(o.r.raw));
        nres_free(&o);
        json_decref(req);
    }
}

static void test_errors(void) {
    TEST("ollama: typed errors");
    err_both("missing-model", ANYLLM_E_NOT_FOUND, 404, -1, -1);
    err_both("missing-model:7b", ANYLLM_E_NOT_FOUND, 404, -1, -1);
    err_both("status-404", ANYLLM_E_NOT_FOUND, 404, -1, -1);
    err_both("status-401", ANYLLM_E_AUTHENTICATION, 401, -1, -1);
    err_both("status-403", ANYLLM_E_PERMISSION, 403, -1, -1);
    err_both("status-400", ANYLLM_E_INVALID_REQUEST, 400, -1, -1);
    err_both("status-429", ANYLLM_E_RATE_LIMIT, 429, 2.0, 2.0);
    err_both("retry-after-date", ANYLLM_E_RATE_LIMIT, 429, 1.0, 3.5);
    err_both("quota", ANYLLM_E_RATE_LIMIT, 429, -1, -1);
    err_both("context-length", ANYLLM_E_CONTEXT_LENGTH, 400, -1, -1);
    err_both("status-500", ANYLLM_E_PROVIDER, 500, -1, -1);
    err_both("status-503", ANYLLM_E_PROVIDER, 503, -1, -1);

    json_t *req = nreq_err(&O, "missing-model", false);
    nres o;
    nrun(g_client, req, &o, "missing-model message");
    const char *msg = jstr(o.r.j, "error.message");
    CHECK(msg && strstr(msg, "not found, try pulling it first"), "missing-model: message %s", or_null(msg));
    nres_free(&o);
    json_decref(req);

    req = nreq_err(&O, "error-event", true);
    nrun(g_client, req, &o, "error line mid-stream");
    expect_error_full(&o, ANYLLM_E_PROVIDER, 0, "ollama", true, -1, -1, "You said: ");
    CHECK(str_eq(jstr(o.r.j, "error.message"), "an error was encountered while running the model: unexpected EOF"),
          "error line: message %s", or_null(jstr(o.r.j, "error.message")));
    nres_free(&o);
    json_decref(req);
    req = nreq_err(&O, "error-event", false);
    nrun(g_client, req, &o, "error object in a 200 body");
    expect_error_full(&o, ANYLLM_E_PROVIDER, 0, "ollama", true, -1, -1, NULL);
    nres_free(&o);
    json_decref(req);

    check_cuts_and_garbage(g_client, &O, "ollama");
}

static void test_delivery(void) {
    TEST("ollama: split UTF-8, long streams");
    check_split_utf8_and_long(g_client, &O);
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    double t0 = now_s();
    test_echo();
    test_conversation();
    test_tools();
    test_tool_choice_semantics();
    test_tool_results();
    test_structured();
    test_reasoning();
    test_images();
    test_options();
    test_errors();
    test_delivery();
    fprintf(stderr, "test_ollama: %.1f s\n", now_s() - t0);
    anyllm_client_free(g_client);
    return test_teardown();
}
