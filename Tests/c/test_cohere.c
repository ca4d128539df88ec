/*
 * test_cohere — the Cohere Chat v2 protocol end to end through libanyllm.so against the emulator (POST /v2/chat,
 * which checks requests like the real API): OpenAI-shaped results and chunks for text, system and multi-turn
 * conversations, tools (auto, named, required, none, parallel, streamed, results sent back), structured output,
 * thinking and tool plans, images, parameter mapping and refusals, stop sequences and max_tokens, and every typed
 * error the protocol can produce (HTTP errors, a failed generation mid-stream, cut and garbled streams).
 */
#include "native_util.h"

static anyllm_client *g_client;
static const nproto P = {"cohere", true, false};
#define PLAN_WEATHER "I will use get_weather to answer this."

static json_t *last_body(void) {
    json_t *sent = emu_last_request();
    json_t *body = json_incref(jpath(sent, "body"));
    json_decref(sent);
    return body;
}

/* "8-4-4-4-12" hex: the id Cohere gives a response. */
static bool is_uuid(const char *s) {
    if (!s || strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i])) return false;
    }
    return true;
}

static void test_echo(void) {
    TEST("cohere: text echo, streamed and not");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        nres o;
        nrun(g_client, req, &o, stream ? "echo stream" : "echo");
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        CHECK(is_uuid(jstr(o.r.j, "id")), "%s: id %s is not Cohere's response id", o.where, or_null(jstr(o.r.j, "id")));
        CHECK(str_eq(jstr(o.r.j, "model"), "echo"), "%s: model %s", o.where, or_null(jstr(o.r.j, "model")));
        if (stream) CHECK(o.c.count >= 6, "%s: %d chunks for 4 words", o.where, o.c.count);

        json_t *sent = emu_last_request();
        CHECK(str_eq(jstr(sent, "path"), "/v2/chat"), "%s: path %s", o.where, or_null(jstr(sent, "path")));
        CHECK(starts_with(jstr(sent, "headers.authorization"), "<redacted"), "%s: no Authorization header", o.where);
        CHECK(jpath(sent, "headers.x-api-key") == NULL, "%s: an x-api-key header was sent to Cohere", o.where);
        const char *accept = jstr(sent, "headers.accept");
        CHECK(accept && (stream ? strstr(accept, "text/event-stream") != NULL : strstr(accept, "application/json") != NULL),
              "%s: Accept %s", o.where, or_null(accept));
        CHECK(str_eq(jstr(sent, "body.model"), "echo"), "%s: body.model %s", o.where, or_null(jstr(sent, "body.model")));
        CHECK(stream ? json_is_true(jpath(sent, "body.stream")) : json_is_false(jpath(sent, "body.stream")),
              "%s: body.stream is not %s", o.where, stream ? "true" : "false");
        CHECK(str_eq(jstr(sent, "body.messages[0].role"), "user") && str_eq(jstr(sent, "body.messages[0].content"), "Hello there") &&
                  json_array_size(jpath(sent, "body.messages")) == 1,
              "%s: messages not converted", o.where);
        CHECK(jpath(sent, "body.max_tokens") == NULL && jpath(sent, "body.p") == NULL, "%s: parameters sent unasked", o.where);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_api_base_forms(void) {
    TEST("cohere: api_base with /v2, /v1 or a trailing slash; CO_API_URL");
    const char *suffixes[] = {"/v2", "/v1/", "/"};
    for (int i = 0; i < 3; i++) {
        json_t *req = nreq(&P, "echo", false);
        char base[320];
        snprintf(base, sizeof base, "%s%s", g_emu.url, suffixes[i]);
        json_object_set_new(req, "api_base", json_string(base));
        char what[64];
        snprintf(what, sizeof what, "api_base ...%s", suffixes[i]);
        nres o;
        nrun(g_client, req, &o, what);
        expect_text(&o, "You said: Hello there", "stop");
        json_t *sent = emu_last_request();
        CHECK(str_eq(jstr(sent, "path"), "/v2/chat"), "%s: path %s", what, or_null(jstr(sent, "path")));
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }

    /* CO_API_URL, the Cohere SDK's base URL variable, when the request has no api_base */
    if (!getenv("CO_API_URL")) {
        setenv("CO_API_URL", g_emu.url, 1);
        json_t *req = nreq(&P, "echo", true);
        json_object_del(req, "api_base");
        nres o;
        nrun(g_client, req, &o, "base from CO_API_URL");
        expect_text(&o, "You said: Hello there", "stop");
        nres_free(&o);
        json_decref(req);
        unsetenv("CO_API_URL");
    }
}

static void test_conversation(void) {
    TEST("cohere: system, developer, multi-turn and plain-string messages");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        nreq_messages(req, multi_turn_messages());
        nres o;
        nrun(g_client, req, &o, stream ? "multi-turn stream" : "multi-turn");
        expect_text(&o, "You said: What is up", "stop");
        expect_usage(o.r.j, o.where, MULTI_TURN_PROMPT_TOKENS, 5);
        json_t *body = last_body();
        CHECK(json_array_size(jpath(body, "messages")) == 4 && str_eq(jstr(body, "messages[0].role"), "system") &&
                  str_eq(jstr(body, "messages[0].content"), "Be brief.\n\nAnswer in English."),
              "%s: system/developer not sent as one leading system message", o.where);
        CHECK(str_eq(jstr(body, "messages[2].role"), "assistant") && str_eq(jstr(body, "messages[2].content"), "Hello!") &&
                  str_eq(jstr(body, "messages[3].content[0].type"), "text") &&
                  str_eq(jstr(body, "messages[3].content[0].text"), "What is up"),
              "%s: the turns were not sent as they are", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&P, "echo", stream);
        json_object_set_new(req, "messages", json_string("Hello there"));
        nrun(g_client, req, &o, stream ? "plain-string messages stream" : "plain-string messages");
        expect_text(&o, "You said: Hello there", "stop");
        nres_free(&o);
        json_decref(req);
    }
}

static void test_tools(void) {
    TEST("cohere: tool calls (auto, named, required, none, parallel, streamed)");
    const char *weather[] = {"get_weather"}, *rich[] = {WEATHER_RICH_ARGS}, *wargs[] = {WEATHER_ARGS};
    for (int stream = 0; stream < 2; stream++) {
        nres o;
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "messages", json_string("What is the weather in Paris?"));
        json_object_set_new(req, "tools", json_pack("[o]", tool_weather_rich()));
        nrun(g_client, req, &o, stream ? "auto stream" : "auto");
        expect_calls(&o, 1, weather, rich);
        CHECK(json_is_null(jpath(o.r.j, "choices[0].message.content")), "%s: content not null with a tool call", o.where);
        CHECK(starts_with(jstr(o.r.j, "choices[0].message.tool_calls[0].id"), "get_weather_"), "%s: id %s is not Cohere's",
              o.where, or_null(jstr(o.r.j, "choices[0].message.tool_calls[0].id")));
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), PLAN_WEATHER), "%s: tool plan %s not the reasoning",
              o.where, or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        expect_usage(o.r.j, o.where, 6, -1);
        if (stream) {
            int frags = 0;
            size_t i, k;
            json_t *ch, *tc;
            json_array_foreach(o.c.chunks, i, ch) json_array_foreach(jpath(ch, "choices[0].delta.tool_calls"), k, tc) {
                const char *a = jstr(tc, "function.arguments");
                if (a && *a) frags++;
            }
            CHECK(frags >= 5, "%s: the arguments came in %d fragments (the emulator sends 6-character pieces)", o.where, frags);
        }
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "tools[0].type"), "function") && str_eq(jstr(body, "tools[0].function.name"), "get_weather") &&
                  str_eq(jstr(body, "tools[0].function.description"), "Weather in a city") &&
                  str_eq(jstr(body, "tools[0].function.parameters.type"), "object"),
              "%s: tool not sent as {type: function, function: {name, description, parameters}}", o.where);
        CHECK(jpath(body, "tool_choice") == NULL, "%s: tool_choice sent for auto", o.where);
        json_decref(body);
        nres_free(&o);

        /* named: only that tool is sent, with REQUIRED */
        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "tool_choice", named_choice("get_time"));
        nrun(g_client, req, &o, stream ? "named stream" : "named");
        const char *tname[] = {"get_time"}, *targs[] = {TIME_ARGS};
        expect_calls(&o, 1, tname, targs);
        body = last_body();
        CHECK(str_eq(jstr(body, "tool_choice"), "REQUIRED") && json_array_size(jpath(body, "tools")) == 1 &&
                  str_eq(jstr(body, "tools[0].function.name"), "get_time"),
              "%s: named choice not sent as [get_time] + REQUIRED", o.where);
        json_decref(body);
        nres_free(&o);

        /* required */
        json_object_set_new(req, "tool_choice", json_string("required"));
        nrun(g_client, req, &o, stream ? "required stream" : "required");
        expect_calls(&o, 1, weather, wargs);
        body = last_body();
        CHECK(str_eq(jstr(body, "tool_choice"), "REQUIRED") && json_array_size(jpath(body, "tools")) == 2,
              "%s: tool_choice %s, want REQUIRED with both tools", o.where, or_null(jstr(body, "tool_choice")));
        json_decref(body);
        nres_free(&o);

        /* none: text */
        json_object_set_new(req, "tool_choice", json_string("none"));
        nrun(g_client, req, &o, stream ? "none stream" : "none");
        expect_text(&o, "You said: What is the weather in Paris?", "stop");
        CHECK(jpath(o.r.j, "choices[0].message.tool_calls") == NULL, "%s: tool calls although tool_choice none", o.where);
        body = last_body();
        CHECK(str_eq(jstr(body, "tool_choice"), "NONE"), "%s: tool_choice %s, want NONE", o.where, or_null(jstr(body, "tool_choice")));
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* parallel: two calls under indexes 0 and 1 */
        req = nreq(&P, "parallel-tools", stream);
        json_object_set_new(req, "messages", json_string("Weather and time?"));
        json_object_set_new(req, "tools", tools_two());
        nrun(g_client, req, &o, stream ? "parallel stream" : "parallel");
        const char *both[] = {"get_weather", "get_time"}, *bargs[] = {WEATHER_ARGS, TIME_ARGS};
        expect_calls(&o, 2, both, bargs);
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), "I will use get_weather and get_time to answer this."),
              "%s: plan %s", o.where, or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        nres_free(&o);
        /* Cohere cannot be limited to one call: refused before sending */
        json_object_set_new(req, "parallel_tool_calls", json_false());
        nrun(g_client, req, &o, stream ? "parallel_tool_calls false stream" : "parallel_tool_calls false");
        expect_error_full(&o, ANYLLM_E_UNSUPPORTED_PARAMETER, 0, "cohere", false, -1, -1, NULL);
        CHECK(str_eq(jstr(o.r.j, "error.param"), "parallel_tool_calls"), "%s: param %s", o.where, or_null(jstr(o.r.j, "error.param")));
        nres_free(&o);
        json_decref(req);
    }
}

static void test_tool_results(void) {
    TEST("cohere: tool results (a scripted round and a real round trip with the plan sent back)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "tools", tools_two());
        nreq_messages(req, tool_result_messages());
        nres o;
        nrun(g_client, req, &o, stream ? "tool results stream" : "tool results");
        expect_text(&o, "Tool results: 18C; {\"time\":\"12:00\"}", "stop");
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "messages[1].role"), "assistant") && jpath(body, "messages[1].content") == NULL &&
                  str_eq(jstr(body, "messages[1].tool_calls[0].id"), "call_w1") &&
                  str_eq(jstr(body, "messages[1].tool_calls[0].function.arguments"), WEATHER_ARGS) &&
                  str_eq(jstr(body, "messages[1].tool_calls[1].function.name"), "get_time"),
              "%s: the assistant tool calls were not sent in Cohere's shape", o.where);
        CHECK(str_eq(jstr(body, "messages[2].role"), "tool") && str_eq(jstr(body, "messages[2].tool_call_id"), "call_w1") &&
                  str_eq(jstr(body, "messages[2].content"), "18C") && str_eq(jstr(body, "messages[3].tool_call_id"), "call_t2"),
              "%s: tool results not sent as role tool with tool_call_id", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* a real round: the call's answer (with its plan as reasoning) goes back with the result */
        req = nreq(&P, "echo", stream);
        json_object_set_new(req, "messages", json_string("Weather in Paris?"));
        json_object_set_new(req, "tools", tools_two());
        nrun(g_client, req, &o, stream ? "call stream" : "call");
        const char *weather[] = {"get_weather"}, *wargs[] = {WEATHER_ARGS};
        expect_calls(&o, 1, weather, wargs);
        json_t *msgs = json_pack("[{s:s, s:s}, o, o]", "role", "user", "content", "Weather in Paris?", assistant_of(&o),
                                 tool_answer(&o, 0, "18C"));
        char *id = strdup(or_null(jstr(o.r.j, "choices[0].message.tool_calls[0].id")));
        nres_free(&o);
        nreq_messages(req, msgs);
        nrun(g_client, req, &o, stream ? "round trip stream" : "round trip");
        expect_text(&o, "Tool results: 18C", "stop");
        body = last_body();
        CHECK(str_eq(jstr(body, "messages[1].tool_plan"), PLAN_WEATHER) && str_eq(jstr(body, "messages[1].tool_calls[0].id"), id) &&
                  str_eq(jstr(body, "messages[2].tool_call_id"), id),
              "%s: the plan / call id did not go back: %s", o.where, or_null(jstr(body, "messages[1].tool_plan")));
        json_decref(body);
        free(id);
        nres_free(&o);
        json_decref(req);
    }

    /* an assistant message with text and tool calls: the text is the tool plan; tool results as parts */
    json_t *req = nreq(&P, "echo", false);
    nreq_messages(req, jparse("[{\"role\":\"user\",\"content\":\"Weather?\"},"
                              "{\"role\":\"assistant\",\"content\":\"Let me check.\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                              "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]},"
                              "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":[{\"type\":\"text\",\"text\":\"-3C\"}]}]"));
    json_object_set_new(req, "tools", tools_two());
    nres o;
    nrun(g_client, req, &o, "assistant text + tool call");
    expect_text(&o, "Tool results: -3C", "stop");
    json_t *body = last_body();
    CHECK(str_eq(jstr(body, "messages[1].tool_plan"), "Let me check.") && jpath(body, "messages[1].content") == NULL,
          "assistant text next to tool calls not sent as tool_plan");
    CHECK(str_eq(jstr(body, "messages[2].content[0].type"), "text") && str_eq(jstr(body, "messages[2].content[0].text"), "-3C"),
          "tool result parts not sent as text items");
    json_decref(body);
    nres_free(&o);

    /* a tool result answering no call: the API refuses it (400) */
    nreq_messages(req, jparse("[{\"role\":\"user\",\"content\":\"Weather?\"},"
                              "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                              "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]},"
                              "{\"role\":\"tool\",\"tool_call_id\":\"c9\",\"content\":\"-3C\"}]"));
    req_client_arg(req, "max_retries", json_integer(0));
    nrun(g_client, req, &o, "unknown tool_call_id");
    expect_http_error(&o, ANYLLM_E_INVALID_REQUEST, 400, "cohere");
    const char *msg = jstr(o.r.j, "error.message");
    CHECK(msg && strstr(msg, "c9"), "unknown tool_call_id: message %s", or_null(msg));
    nres_free(&o);
    json_decref(req);
}

static void test_structured(void) {
    TEST("cohere: structured output (json_schema, json_object)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "response_format", person_format());
        nres o;
        nrun(g_client, req, &o, stream ? "json_schema stream" : "json_schema");
        if (expect_ok(&o)) {
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), PERSON_JSON), "%s: content %s, want %s", o.where,
                  or_null(jstr(o.r.j, "choices[0].message.content")), PERSON_JSON);
            CHECK(str_eq(jstr(o.r.j, "choices[0].finish_reason"), "stop"), "%s: finish %s", o.where,
                  or_null(jstr(o.r.j, "choices[0].finish_reason")));
        }
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "response_format.type"), "json_object") &&
                  json_is_object(jpath(body, "response_format.json_schema.properties.age")) &&
                  jpath(body, "response_format.json_schema.name") == NULL,
              "%s: response_format not {type: json_object, json_schema: <schema>}", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&P, "echo", stream);
        json_object_set_new(req, "response_format", json_pack("{s:s}", "type", "json_object"));
        nrun(g_client, req, &o, stream ? "json_object stream" : "json_object");
        if (expect_ok(&o))
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), "{\"text\":\"You said: Hello there\"}"),
                  "%s: content %s", o.where, or_null(jstr(o.r.j, "choices[0].message.content")));
        body = last_body();
        CHECK(str_eq(jstr(body, "response_format.type"), "json_object") && jpath(body, "response_format.json_schema") == NULL,
              "%s: json_object not sent as {type: json_object}", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_reasoning(void) {
    TEST("cohere: thinking (reasoning_effort, reasoning model, disabled, with a tool plan)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "command-a-reasoning-08-2025", stream);
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
        CHECK(str_eq(jstr(body, "thinking.type"), "enabled") && jint(body, "thinking.token_budget", -1) == 2048,
              "%s: thinking not {enabled, 2048}", o.where);
        CHECK(jpath(body, "reasoning_effort") == NULL && jpath(body, "max_tokens") == NULL,
              "%s: reasoning_effort passed through or max_tokens set", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&P, "reasoning", stream);
        nrun(g_client, req, &o, stream ? "reasoning model stream" : "reasoning model");
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        nres_free(&o);
        json_object_set_new(req, "reasoning_effort", json_string("none"));
        nrun(g_client, req, &o, stream ? "reasoning model, effort none stream" : "reasoning model, effort none");
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(jpath(o.r.j, "choices[0].message.reasoning") == NULL, "%s: reasoning although thinking is disabled", o.where);
        body = last_body();
        CHECK(str_eq(jstr(body, "thinking.type"), "disabled") && jpath(body, "thinking.token_budget") == NULL,
              "%s: thinking not {type: disabled}", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* thinking and a tool plan: both are reasoning, thinking first */
        req = nreq(&P, "echo", stream);
        json_object_set_new(req, "reasoning_effort", json_string("high"));
        json_object_set_new(req, "tools", tools_two());
        nrun(g_client, req, &o, stream ? "thinking + plan stream" : "thinking + plan");
        const char *weather[] = {"get_weather"}, *wargs[] = {WEATHER_ARGS};
        expect_calls(&o, 1, weather, wargs);
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT "\n\n" PLAN_WEATHER),
              "%s: reasoning %s", o.where, or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        body = last_body();
        CHECK(jint(body, "thinking.token_budget", -1) == 16384, "%s: budget %lld, want 16384", o.where,
              jint(body, "thinking.token_budget", -1));
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_images(void) {
    TEST("cohere: images (data URL and https URL as image_url items)");
    const char *urls[] = {PNG_DATA_URL, IMAGE_HTTPS_URL};
    for (int i = 0; i < 2; i++) {
        json_t *req = nreq(&P, "command-a-vision-07-2025", i == 1);
        nreq_messages(req, image_messages(urls[i]));
        nres o;
        nrun(g_client, req, &o, i ? "https image stream" : "data URL image");
        expect_text(&o, "You said: What is in this image?", "stop");
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "messages[0].content[1].type"), "image_url") &&
                  str_eq(jstr(body, "messages[0].content[1].image_url.url"), urls[i]),
              "%s: the image was not sent as an image_url item", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_parameters(void) {
    TEST("cohere: parameter mapping, pass-through and refusals");
    json_t *req = nreq(&P, "echo", false);
    json_object_set_new(req, "temperature", json_real(0.5));
    json_object_set_new(req, "top_p", json_real(1.0));
    json_object_set_new(req, "top_k", json_integer(7));
    json_object_set_new(req, "seed", json_integer(11));
    json_object_set_new(req, "frequency_penalty", json_real(0.25));
    json_object_set_new(req, "presence_penalty", json_real(0.5));
    json_object_set_new(req, "logprobs", json_true());
    json_object_set_new(req, "user", json_string("user-1234"));
    json_object_set_new(req, "safety_mode", json_string("STRICT"));
    nres o;
    nrun(g_client, req, &o, "sampling parameters");
    expect_text(&o, "You said: Hello there", "stop");
    json_t *body = last_body();
    CHECK(jnum(body, "temperature", -1) == 0.5 && jnum(body, "p", -1) == 0.99 && jint(body, "k", -1) == 7 &&
              jint(body, "seed", -1) == 11 && jnum(body, "frequency_penalty", -1) == 0.25 &&
              jnum(body, "presence_penalty", -1) == 0.5 && json_is_true(jpath(body, "logprobs")),
          "sampling parameters not mapped (top_p 1 → p 0.99, top_k → k)");
    CHECK(jpath(body, "top_p") == NULL && jpath(body, "top_k") == NULL && jpath(body, "user") == NULL,
          "OpenAI names sent to Cohere");
    CHECK(str_eq(jstr(body, "safety_mode"), "STRICT"), "safety_mode not passed through");
    json_decref(body);
    nres_free(&o);
    json_decref(req);

    /* an unknown extra key reaches the API, which refuses it */
    req = nreq_err(&P, "echo", false);
    json_object_set_new(req, "frobnicate", json_true());
    nrun(g_client, req, &o, "unknown field");
    expect_http_error(&o, ANYLLM_E_INVALID_REQUEST, 400, "cohere");
    const char *msg = jstr(o.r.j, "error.message");
    CHECK(msg && strstr(msg, "frobnicate is not a valid field"), "unknown field: message %s", or_null(msg));
    nres_free(&o);
    json_decref(req);

    /* a value Cohere's range refuses (penalties are 0..1 there) */
    req = nreq_err(&P, "echo", false);
    json_object_set_new(req, "presence_penalty", json_real(1.5));
    nrun(g_client, req, &o, "presence_penalty 1.5");
    expect_http_error(&o, ANYLLM_E_INVALID_REQUEST, 400, "cohere");
    nres_free(&o);
    json_decref(req);

    /* parameters Cohere has no equivalent for: refused before sending, naming the parameter */
    const char *names[] = {"n", "top_logprobs", "logit_bias"};
    for (int i = 0; i < 3; i++) {
        req = nreq(&P, "echo", false);
        if (i == 0) json_object_set_new(req, "n", json_integer(2));
        if (i == 1) {
            json_object_set_new(req, "logprobs", json_true());
            json_object_set_new(req, "top_logprobs", json_integer(3));
        }
        if (i == 2) json_object_set_new(req, "logit_bias", json_pack("{s:i}", "1234", 5));
        nrun(g_client, req, &o, names[i]);
        expect_error_full(&o, ANYLLM_E_UNSUPPORTED_PARAMETER, 0, "cohere", false, -1, -1, NULL);
        CHECK(str_eq(jstr(o.r.j, "error.param"), names[i]), "%s: param %s", names[i], or_null(jstr(o.r.j, "error.param")));
        nres_free(&o);
        json_decref(req);
    }
}

static void test_limits(void) {
    TEST("cohere: stop sequences, max_tokens, length");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "stop", json_pack("[s, s]", "there", "nowhere"));
        nres o;
        nrun(g_client, req, &o, stream ? "stop stream" : "stop");
        expect_text(&o, "You said: Hello ", "stop");
        json_t *body = last_body();
        CHECK(json_array_size(jpath(body, "stop_sequences")) == 2 && str_eq(jstr(body, "stop_sequences[0]"), "there") &&
                  jpath(body, "stop") == NULL,
              "%s: stop not sent as stop_sequences", o.where);
        json_decref(body);
        nres_free(&o);
        json_object_set_new(req, "stop", json_string("said"));
        nrun(g_client, req, &o, stream ? "stop string stream" : "stop string");
        expect_text(&o, "You ", "stop");
        nres_free(&o);
        json_decref(req);

        req = nreq(&P, "echo", stream);
        json_object_set_new(req, "max_tokens", json_integer(2));
        nrun(g_client, req, &o, stream ? "max_tokens 2 stream" : "max_tokens 2");
        expect_text(&o, "You said: ", "length");
        expect_usage(o.r.j, o.where, 2, 2);
        body = last_body();
        CHECK(jint(body, "max_tokens", -1) == 2, "%s: max_tokens %lld", o.where, jint(body, "max_tokens", -1));
        json_decref(body);
        nres_free(&o);
        json_object_del(req, "max_tokens");
        json_object_set_new(req, "max_completion_tokens", json_integer(3));
        nrun(g_client, req, &o, stream ? "max_completion_tokens 3 stream" : "max_completion_tokens 3");
        expect_text(&o, "You said: Hello ", "length");
        body = last_body();
        CHECK(jint(body, "max_tokens", -1) == 3 && jpath(body, "max_completion_tokens") == NULL,
              "%s: max_completion_tokens not sent as max_tokens", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&P, "length", stream);
        nrun(g_client, req, &o, stream ? "length model stream" : "length model");
        expect_text(&o, "truncated", "length");
        nres_free(&o);
        json_decref(req);
    }
}

static void err_both(const char *model, const char *key, anyllm_status st, int http, double ra_min, double ra_max) {
    nerr_both(g_client, &P, model, key, st, http, ra_min, ra_max);
}

static void test_errors(void) {
    TEST("cohere: typed errors");
    add_secret("sk-bad-cohere-7f3e9a1c2b");
    add_secret("sk-noperm-cohere-4d5e6f7a8b");
    err_both("echo", "sk-bad-cohere-7f3e9a1c2b", ANYLLM_E_AUTHENTICATION, 401, -1, -1);
    err_both("echo", "sk-noperm-cohere-4d5e6f7a8b", ANYLLM_E_PERMISSION, 403, -1, -1);
    err_both("status-400", NULL, ANYLLM_E_INVALID_REQUEST, 400, -1, -1);
    err_both("status-401", NULL, ANYLLM_E_AUTHENTICATION, 401, -1, -1);
    err_both("status-402", NULL, ANYLLM_E_INSUFFICIENT_FUNDS, 402, -1, -1);
    err_both("status-403", NULL, ANYLLM_E_PERMISSION, 403, -1, -1);
    err_both("status-404", NULL, ANYLLM_E_NOT_FOUND, 404, -1, -1);
    err_both("status-422", NULL, ANYLLM_E_INVALID_REQUEST, 422, -1, -1);
    err_both("status-429", NULL, ANYLLM_E_RATE_LIMIT, 429, 2.0, 2.0);
    err_both("retry-after-date", NULL, ANYLLM_E_RATE_LIMIT, 429, 1.0, 3.5);
    err_both("status-498", NULL, ANYLLM_E_AUTHENTICATION, 498, -1, -1);
    err_both("status-499", NULL, ANYLLM_E_PROVIDER, 499, -1, -1);
    err_both("status-500", NULL, ANYLLM_E_PROVIDER, 500, -1, -1);
    err_both("status-503", NULL, ANYLLM_E_PROVIDER, 503, -1, -1);
    err_both("context-length", NULL, ANYLLM_E_CONTEXT_LENGTH, 400, -1, -1);
    err_both("quota", NULL, ANYLLM_E_INSUFFICIENT_FUNDS, 402, -1, -1);
    err_both("html-404", NULL, ANYLLM_E_NOT_FOUND, 404, -1, -1);

    /* the provider's own error body, its message extracted */
    json_t *req = nreq_err(&P, "status-404", false);
    nres o;
    nrun(g_client, req, &o, "404 body");
    const char *msg = jstr(o.r.j, "error.message");
    CHECK(msg && starts_with(msg, "model 'status-404' not found"), "404: message %s", or_null(msg));
    CHECK(is_uuid(jstr(o.r.j, "error.provider_error.id")), "404: provider_error %.200s", or_null(o.r.raw));
    nres_free(&o);
    json_decref(req);

    /* missing key: refused before sending (unless a Cohere key variable is set) */
    if (!getenv("COHERE_API_KEY") && !getenv("CO_API_KEY")) {
        req = nreq_err(&P, "echo", false);
        json_object_del(req, "api_key");
        nrun(g_client, req, &o, "no key");
        expect_error_full(&o, ANYLLM_E_MISSING_API_KEY, 0, "cohere", false, -1, -1, NULL);
        msg = jstr(o.r.j, "error.message");
        CHECK(msg && strstr(msg, "COHERE_API_KEY"), "no key: message %s", or_null(msg));
        nres_free(&o);

        /* CO_API_KEY, the Cohere SDK's variable, is accepted too */
        setenv("CO_API_KEY", TEST_KEY, 1);
        nrun(g_client, req, &o, "key from CO_API_KEY");
        expect_text(&o, "You said: Hello there", "stop");
        nres_free(&o);
        unsetenv("CO_API_KEY");
        json_decref(req);
    }

    /* a failed generation mid-stream (message-end with finish_reason ERROR): what came before is the partial */
    req = nreq_err(&P, "error-event", true);
    nrun(g_client, req, &o, "error event");
    expect_error_full(&o, ANYLLM_E_PROVIDER, 0, "cohere", true, -1, -1, "You said: ");
    msg = jstr(o.r.j, "error.message");
    CHECK(msg && strstr(msg, "an internal error occurred"), "error event: message %s", or_null(msg));
    CHECK(str_eq(jstr(o.r.j, "error.provider_error.delta.finish_reason"), "ERROR"), "error event: provider_error %.200s",
          or_null(o.r.raw));
    nres_free(&o);
    json_decref(req);
    req = nreq_err(&P, "error-event", false);
    nrun(g_client, req, &o, "finish_reason ERROR in a 200 body");
    expect_error_full(&o, ANYLLM_E_PROVIDER, 0, "cohere", true, -1, -1, NULL);
    nres_free(&o);
    json_decref(req);

    /* the connection cut mid-stream / mid-body, and bodies that are not JSON */
    check_cuts_and_garbage(g_client, &P, "cohere");

    /* one retry on a 500 */
    req = nreq(&P, "flaky-1-cohere", false);
    req_client_arg(req, "max_retries", json_integer(1));
    nrun(g_client, req, &o, "flaky-1 with one retry");
    expect_text(&o, "You said: Hello there", "stop");
    nres_free(&o);
    json_decref(req);
}

static void test_delivery(void) {
    TEST("cohere: split UTF-8, long streams, SSE framings");
    check_split_utf8_and_long(g_client, &P);
    const char *framings[] = {"sse-crlf", "sse-cr", "sse-quirks", "slow-3-20", "stall-200"};
    for (int i = 0; i < 5; i++) {
        json_t *req = nreq(&P, framings[i], true);
        nres o;
        nrun(g_client, req, &o, framings[i]);
        if (i < 3) expect_text(&o, "You said: Hello there", "stop");
        else expect_text(&o, i == 3 ? "tok0 tok1 tok2" : "You said: Hello there", "stop");
        nres_free(&o);
        json_decref(req);
    }
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    double t0 = now_s();
    test_echo();
    test_api_base_forms();
    test_conversation();
    test_tools();
    test_tool_results();
    test_structured();
    test_reasoning();
    test_images();
    test_parameters();
    test_limits();
    test_errors();
    test_delivery();
    fprintf(stderr, "test_cohere: %.1f s\n", now_s() - t0);
    anyllm_client_free(g_client);
    return test_teardown();
}
