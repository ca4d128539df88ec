/*
 * test_anthropic — the Anthropic Messages protocol end to end through libanyllm.so against the emulator
 * (POST /v1/messages, which checks requests like the real API): OpenAI-shaped results and chunks for text,
 * system and multi-turn conversations, tools (auto, named, required, parallel, streamed, results), structured
 * output (native output_config and the forced-tool fallback), thinking (and sending it back signed), images,
 * stop sequences and max_tokens, and every typed error the protocol can produce.
 */
#include "native_util.h"

static anyllm_client *g_client;
static const nproto P = {"anthropic", true, false};

static json_t *last_body(void) {
    json_t *sent = emu_last_request();
    json_t *body = json_incref(jpath(sent, "body"));
    json_decref(sent);
    return body;
}

static void test_echo(void) {
    TEST("anthropic: text echo, streamed and not");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        nres o;
        nrun(g_client, req, &o, stream ? "echo stream" : "echo");
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        CHECK(starts_with(jstr(o.r.j, "id"), "msg_01"), "%s: id %s is not the message id", o.where, or_null(jstr(o.r.j, "id")));
        CHECK(str_eq(jstr(o.r.j, "model"), "echo"), "%s: model %s", o.where, or_null(jstr(o.r.j, "model")));
        CHECK(jint(o.r.j, "usage.prompt_tokens_details.cached_tokens", -1) == 0, "%s: cached_tokens %lld", o.where,
              jint(o.r.j, "usage.prompt_tokens_details.cached_tokens", -1));
        if (stream) CHECK(o.c.count >= 6, "%s: %d chunks for 4 words", o.where, o.c.count);

        json_t *sent = emu_last_request();
        CHECK(str_eq(jstr(sent, "path"), "/v1/messages"), "%s: path %s", o.where, or_null(jstr(sent, "path")));
        CHECK(str_eq(jstr(sent, "headers.anthropic-version"), "2023-06-01"), "%s: anthropic-version %s", o.where,
              or_null(jstr(sent, "headers.anthropic-version")));
        CHECK(starts_with(jstr(sent, "headers.x-api-key"), "<redacted"), "%s: no x-api-key header", o.where);
        CHECK(jpath(sent, "headers.authorization") == NULL, "%s: an Authorization header was sent to Anthropic", o.where);
        CHECK(str_eq(jstr(sent, "body.model"), "echo"), "%s: body.model %s", o.where, or_null(jstr(sent, "body.model")));
        CHECK(jint(sent, "body.max_tokens", -1) == 4096, "%s: default max_tokens %lld, want 4096", o.where,
              jint(sent, "body.max_tokens", -1));
        CHECK(stream ? json_is_true(jpath(sent, "body.stream")) : jpath(sent, "body.stream") == NULL ||
                                                                      json_is_false(jpath(sent, "body.stream")),
              "%s: body.stream does not match the request", o.where);
        CHECK(str_eq(jstr(sent, "body.messages[0].role"), "user") && json_array_size(jpath(sent, "body.messages")) == 1,
              "%s: messages not converted", o.where);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_api_base_forms(void) {
    TEST("anthropic: api_base with /v1 or a trailing slash");
    const char *suffixes[] = {"/v1", "/v1/", "/"};
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
        CHECK(str_eq(jstr(sent, "path"), "/v1/messages"), "%s: path %s", what, or_null(jstr(sent, "path")));
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_conversation(void) {
    TEST("anthropic: system, developer, multi-turn and plain-string messages");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        nreq_messages(req, multi_turn_messages());
        nres o;
        nrun(g_client, req, &o, stream ? "multi-turn stream" : "multi-turn");
        expect_text(&o, "You said: What is up", "stop");
        expect_usage(o.r.j, o.where, MULTI_TURN_PROMPT_TOKENS, 5);
        json_t *body = last_body();
        CHECK(json_array_size(jpath(body, "system")) == 2 && str_eq(jstr(body, "system[0].text"), "Be brief.") &&
                  str_eq(jstr(body, "system[1].text"), "Answer in English."),
              "%s: system/developer not sent as two top-level system blocks", o.where);
        CHECK(json_array_size(jpath(body, "messages")) == 3 && str_eq(jstr(body, "messages[1].role"), "assistant") &&
                  str_eq(jstr(body, "messages[2].role"), "user"),
              "%s: messages not user/assistant/user", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&P, "echo", stream);
        json_object_set_new(req, "messages", json_string("Hello there"));
        nrun(g_client, req, &o, stream ? "plain-string messages stream" : "plain-string messages");
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        nres_free(&o);
        json_decref(req);
    }

    /* consecutive user turns are merged (Anthropic requires alternation) */
    json_t *req = nreq(&P, "echo", false);
    nreq_messages(req, jparse("[{\"role\":\"user\",\"content\":\"First part.\"},{\"role\":\"user\",\"content\":\"Second part\"}]"));
    nres o;
    nrun(g_client, req, &o, "two user messages in a row");
    expect_text(&o, "You said: First part. Second part", "stop");
    json_t *body = last_body();
    CHECK(json_array_size(jpath(body, "messages")) == 1 && json_array_size(jpath(body, "messages[0].content")) == 2,
          "two user messages were not merged into one turn of two blocks");
    json_decref(body);
    nres_free(&o);
    json_decref(req);
}

static void test_tools(void) {
    TEST("anthropic: tool calls (auto, named, required, none, parallel, streamed)");
    const char *weather[] = {"get_weather"}, *rich[] = {WEATHER_RICH_ARGS}, *wargs[] = {WEATHER_ARGS};
    for (int stream = 0; stream < 2; stream++) {
        nres o;
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "messages", json_string("What is the weather in Paris?"));
        json_object_set_new(req, "tools", json_pack("[o]", tool_weather_rich()));
        nrun(g_client, req, &o, stream ? "auto stream" : "auto");
        expect_calls(&o, 1, weather, rich);
        CHECK(json_is_null(jpath(o.r.j, "choices[0].message.content")), "%s: content not null with a tool call", o.where);
        CHECK(starts_with(jstr(o.r.j, "choices[0].message.tool_calls[0].id"), "toolu_01"), "%s: id %s is not the tool_use id",
              o.where, or_null(jstr(o.r.j, "choices[0].message.tool_calls[0].id")));
        expect_usage(o.r.j, o.where, 6, -1);
        if (stream) {
            /* the arguments arrive in several fragments under one index */
            int frags = 0;
            size_t i, k;
            json_t *ch, *tc;
            json_array_foreach(o.c.chunks, i, ch) json_array_foreach(jpath(ch, "choices[0].delta.tool_calls"), k, tc) {
                const char *a = jstr(tc, "function.arguments");
                if (a && *a) frags++;
            }
            CHECK(frags >= 5, "%s: the arguments came in %d fragments (the emulator sends 8-character pieces)", o.where, frags);
        }
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "tools[0].name"), "get_weather") && str_eq(jstr(body, "tools[0].input_schema.type"), "object") &&
                  str_eq(jstr(body, "tools[0].description"), "Weather in a city"),
              "%s: tool not sent as {name, description, input_schema}", o.where);
        CHECK(jpath(body, "tools[0].function") == NULL && jpath(body, "tools[0].type") == NULL,
              "%s: the OpenAI tool wrapper was sent as it is", o.where);
        json_decref(body);
        nres_free(&o);

        /* named */
        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "tool_choice", named_choice("get_time"));
        nrun(g_client, req, &o, stream ? "named stream" : "named");
        const char *tname[] = {"get_time"}, *targs[] = {TIME_ARGS};
        expect_calls(&o, 1, tname, targs);
        body = last_body();
        CHECK(str_eq(jstr(body, "tool_choice.type"), "tool") && str_eq(jstr(body, "tool_choice.name"), "get_time"),
              "%s: tool_choice not {type: tool, name: get_time}", o.where);
        json_decref(body);
        nres_free(&o);

        /* required */
        json_object_set_new(req, "tool_choice", json_string("required"));
        nrun(g_client, req, &o, stream ? "required stream" : "required");
        expect_calls(&o, 1, weather, wargs);
        body = last_body();
        CHECK(str_eq(jstr(body, "tool_choice.type"), "any"), "%s: tool_choice.type %s, want any", o.where,
              or_null(jstr(body, "tool_choice.type")));
        json_decref(body);
        nres_free(&o);

        /* none: text */
        json_object_set_new(req, "tool_choice", json_string("none"));
        nrun(g_client, req, &o, stream ? "none stream" : "none");
        expect_text(&o, "You said: What is the weather in Paris?", "stop");
        CHECK(jpath(o.r.j, "choices[0].message.tool_calls") == NULL, "%s: tool calls although tool_choice none", o.where);
        body = last_body();
        CHECK(str_eq(jstr(body, "tool_choice.type"), "none"), "%s: tool_choice.type %s, want none", o.where,
              or_null(jstr(body, "tool_choice.type")));
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* parallel: two calls; parallel_tool_calls false: one */
        req = nreq(&P, "parallel-tools", stream);
        json_object_set_new(req, "messages", json_string("Weather in Paris and the time in UTC?"));
        json_object_set_new(req, "tools", tools_two());
        nrun(g_client, req, &o, stream ? "parallel stream" : "parallel");
        const char *both[] = {"get_weather", "get_time"}, *bargs[] = {WEATHER_ARGS, TIME_ARGS};
        expect_calls(&o, 2, both, bargs);
        if (stream) {
            /* the second call's deltas carry index 1 */
            const char *n1 = NULL;
            char *a1 = collector_tool_args(&o.c, 1, &n1);
            CHECK(str_eq(n1, "get_time") && json_text_equal(a1, TIME_ARGS), "%s: index 1 in the chunks is %s %s", o.where,
                  or_null(n1), a1);
            free(a1);
        }
        nres_free(&o);
        json_object_set_new(req, "parallel_tool_calls", json_false());
        nrun(g_client, req, &o, stream ? "parallel_tool_calls false stream" : "parallel_tool_calls false");
        expect_calls(&o, 1, weather, wargs);
        body = last_body();
        CHECK(json_is_true(jpath(body, "tool_choice.disable_parallel_tool_use")) && str_eq(jstr(body, "tool_choice.type"), "auto"),
              "%s: parallel_tool_calls false not sent as tool_choice {auto, disable_parallel_tool_use}", o.where);
        CHECK(jpath(body, "parallel_tool_calls") == NULL, "%s: parallel_tool_calls passed through", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_tool_results(void) {
    TEST("anthropic: tool results (tool_result blocks in a user turn)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "tools", tools_two());
        nreq_messages(req, tool_result_messages());
        nres o;
        nrun(g_client, req, &o, stream ? "tool results stream" : "tool results");
        expect_text(&o, "Tool results: 18C; {\"time\":\"12:00\"}", "stop");
        json_t *body = last_body();
        CHECK(json_array_size(jpath(body, "messages")) == 3, "%s: %zu messages, want user/assistant/user", o.where,
              json_array_size(jpath(body, "messages")));
        CHECK(str_eq(jstr(body, "messages[1].content[0].type"), "tool_use") && str_eq(jstr(body, "messages[1].content[0].id"), "call_w1") &&
                  str_eq(jstr(body, "messages[1].content[0].input.city"), "Paris") &&
                  str_eq(jstr(body, "messages[1].content[1].name"), "get_time"),
              "%s: assistant tool_calls not sent as tool_use blocks with object input", o.where);
        CHECK(str_eq(jstr(body, "messages[2].role"), "user") && str_eq(jstr(body, "messages[2].content[0].type"), "tool_result") &&
                  str_eq(jstr(body, "messages[2].content[0].tool_use_id"), "call_w1") &&
                  str_eq(jstr(body, "messages[2].content[1].tool_use_id"), "call_t2") &&
                  str_eq(jstr(body, "messages[2].content[0].content"), "18C"),
              "%s: tool messages not sent as tool_result blocks of one user turn", o.where);
        json_decref(body);
        nres_free(&o);

        /* a user message after the tool results joins their turn */
        json_array_append_new(json_object_get(req, "messages"), json_pack("{s:s, s:s}", "role", "user", "content", "Thanks"));
        nrun(g_client, req, &o, stream ? "tool results + user stream" : "tool results + user");
        expect_ok(&o);
        body = last_body();
        CHECK(json_array_size(jpath(body, "messages")) == 3 && json_array_size(jpath(body, "messages[2].content")) == 3 &&
                  str_eq(jstr(body, "messages[2].content[2].type"), "text"),
              "%s: the user text was not merged into the tool_result turn", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }

    /* a real round trip: the calls the library returned, answered */
    json_t *req = nreq(&P, "parallel-tools", false);
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

static void test_tool_edge_cases(void) {
    TEST("anthropic: tools without parameters, text + tool_calls, tool results as parts, sampling parameters");
    json_t *noparams = jparse("[{\"type\":\"function\",\"function\":{\"name\":\"get_joke\"}}]");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "tools", json_incref(noparams));
        nres o;
        nrun(g_client, req, &o, stream ? "tool without parameters stream" : "tool without parameters");
        const char *names[] = {"get_joke"}, *args[] = {"{}"};
        expect_calls(&o, 1, names, args);
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "tools[0].input_schema.type"), "object"), "%s: no input_schema {type: object} for a tool "
              "without parameters", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
    json_decref(noparams);

    /* an assistant turn with text and a call; the result given as text parts */
    json_t *req = nreq(&P, "echo", false);
    json_object_set_new(req, "tools", tools_two());
    nreq_messages(req, jparse("[{\"role\":\"user\",\"content\":\"Weather?\"},"
                              "{\"role\":\"assistant\",\"content\":\"Let me check.\",\"tool_calls\":[{\"id\":\"toolu_x1\","
                              "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]},"
                              "{\"role\":\"tool\",\"tool_call_id\":\"toolu_x1\",\"content\":[{\"type\":\"text\",\"text\":\"-3C\"}]}]"));
    nres o;
    nrun(g_client, req, &o, "text + tool_use, result as parts");
    expect_text(&o, "Tool results: -3C", "stop");
    json_t *body = last_body();
    CHECK(str_eq(jstr(body, "messages[1].content[0].type"), "text") && str_eq(jstr(body, "messages[1].content[0].text"), "Let me check.") &&
              str_eq(jstr(body, "messages[1].content[1].type"), "tool_use"),
          "assistant text + tool call not sent as [text, tool_use]");
    CHECK(str_eq(jstr(body, "messages[2].content[0].content[0].text"), "-3C"), "tool result parts not sent as blocks");
    json_decref(body);
    nres_free(&o);
    json_decref(req);

    /* sampling parameters and user */
    req = nreq(&P, "echo", false);
    json_object_set_new(req, "temperature", json_real(0.5));
    json_object_set_new(req, "top_p", json_real(0.9));
    json_object_set_new(req, "user", json_string("user-1234"));
    json_object_set_new(req, "top_k", json_integer(7));
    json_object_set_new(req, "tools", tools_two());
    json_object_set_new(req, "tool_choice", json_string("auto"));
    nrun(g_client, req, &o, "sampling parameters");
    expect_ok(&o);
    body = last_body();
    CHECK(jnum(body, "temperature", -1) == 0.5 && jnum(body, "top_p", -1) == 0.9 && jint(body, "top_k", -1) == 7,
          "temperature/top_p/top_k not sent as they are");
    CHECK(str_eq(jstr(body, "metadata.user_id"), "user-1234") && jpath(body, "user") == NULL, "user not sent as metadata.user_id");
    CHECK(str_eq(jstr(body, "tool_choice.type"), "auto"), "tool_choice auto not {type: auto}");
    json_decref(body);
    nres_free(&o);
    json_decref(req);
}

static void test_structured(void) {
    TEST("anthropic: structured output (output_config, forced json_response tool, json_object)");
    for (int stream = 0; stream < 2; stream++) {
        /* a current model: output_config.format */
        json_t *req = nreq(&P, "claude-sonnet-4-5", stream);
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
        CHECK(str_eq(jstr(body, "output_config.format.type"), "json_schema") &&
                  json_is_object(jpath(body, "output_config.format.schema.properties.age")),
              "%s: no output_config.format json_schema", o.where);
        CHECK(jpath(body, "response_format") == NULL, "%s: response_format passed through", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* an older model: a forced tool whose input is the answer */
        req = nreq(&P, "claude-3-5-haiku-20241022", stream);
        json_object_set_new(req, "response_format", person_format());
        nrun(g_client, req, &o, stream ? "json_schema via tool stream" : "json_schema via tool");
        if (expect_ok(&o)) {
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), PERSON_JSON), "%s: content %s, want %s", o.where,
                  or_null(jstr(o.r.j, "choices[0].message.content")), PERSON_JSON);
            CHECK(jpath(o.r.j, "choices[0].message.tool_calls") == NULL, "%s: the json_response tool surfaced as a tool call",
                  o.where);
            CHECK(str_eq(jstr(o.r.j, "choices[0].finish_reason"), "stop"), "%s: finish %s, want stop", o.where,
                  or_null(jstr(o.r.j, "choices[0].finish_reason")));
        }
        body = last_body();
        CHECK(str_eq(jstr(body, "tool_choice.type"), "tool") && str_eq(jstr(body, "tool_choice.name"), "json_response") &&
                  jpath(body, "output_config") == NULL,
              "%s: the old model did not get the forced json_response tool", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* json_object: an instruction (Anthropic has no JSON mode; the emulator just echoes) */
        req = nreq(&P, "echo", stream);
        json_object_set_new(req, "response_format", json_pack("{s:s}", "type", "json_object"));
        nrun(g_client, req, &o, stream ? "json_object stream" : "json_object");
        expect_ok(&o);
        body = last_body();
        const char *sys = jstr(body, "system[0].text");
        CHECK(sys && strstr(sys, "JSON"), "%s: no JSON instruction in the system prompt: %s", o.where, or_null(sys));
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_reasoning(void) {
    TEST("anthropic: thinking (reasoning_effort, reasoning model, signed round trip)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "claude-sonnet-4-5", stream);
        json_object_set_new(req, "reasoning_effort", json_string("low"));
        nres o;
        nrun(g_client, req, &o, stream ? "effort low stream" : "effort low");
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        const char *sig = jstr(o.r.j, "choices[0].message.reasoning.signature");
        CHECK(sig && strlen(sig) > 20, "%s: no reasoning.signature", o.where);
        expect_usage(o.r.j, o.where, 2, 14);
        if (stream) {
            int pieces = 0;
            free(chunks_reasoning(&o.c, &pieces));
            CHECK(pieces >= 5, "%s: reasoning came in %d delta.reasoning.content chunks", o.where, pieces);
        }
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "thinking.type"), "enabled") && jint(body, "thinking.budget_tokens", -1) == 2048,
              "%s: thinking not {enabled, 2048}", o.where);
        CHECK(jint(body, "max_tokens", -1) == 4096 + 2048, "%s: max_tokens %lld, want 4096 + 2048", o.where,
              jint(body, "max_tokens", -1));
        CHECK(jpath(body, "reasoning_effort") == NULL, "%s: reasoning_effort passed through", o.where);
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
        CHECK(str_eq(jstr(body, "thinking.type"), "disabled"), "%s: thinking not disabled", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* with max_tokens: the budget is added so that max_tokens keeps meaning the answer's length */
        req = nreq(&P, "claude-sonnet-4-5", stream);
        json_object_set_new(req, "reasoning_effort", json_string("medium"));
        json_object_set_new(req, "max_tokens", json_integer(100));
        nrun(g_client, req, &o, stream ? "effort medium + max_tokens stream" : "effort medium + max_tokens");
        expect_ok(&o);
        body = last_body();
        CHECK(jint(body, "thinking.budget_tokens", -1) == 8192 && jint(body, "max_tokens", -1) == 8292,
              "%s: budget %lld max_tokens %lld, want 8192 and 8292", o.where, jint(body, "thinking.budget_tokens", -1),
              jint(body, "max_tokens", -1));
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* thinking + a tool call, then the tool result with the signed thinking sent back (the API requires it) */
        req = nreq(&P, "claude-sonnet-4-5", stream);
        json_object_set_new(req, "reasoning_effort", json_string("low"));
        json_object_set_new(req, "messages", json_string("Weather in Paris?"));
        json_object_set_new(req, "tools", tools_two());
        nrun(g_client, req, &o, stream ? "thinking + tool call stream" : "thinking + tool call");
        const char *weather[] = {"get_weather"}, *wargs[] = {WEATHER_ARGS};
        expect_calls(&o, 1, weather, wargs);
        sig = jstr(o.r.j, "choices[0].message.reasoning.signature");
        CHECK(sig && *sig && jstr(o.r.j, "choices[0].message.reasoning.content"), "%s: the message lost its signed reasoning: %.300s",
              o.where, or_null(o.r.raw));
        char *sigcopy = strdup(or_null(sig));
        json_t *msgs = json_pack("[{s:s, s:s}, o, o]", "role", "user", "content", "Weather in Paris?", assistant_of(&o),
                                 tool_answer(&o, 0, "18C"));
        nres_free(&o);
        nreq_messages(req, msgs);
        nrun(g_client, req, &o, stream ? "thinking round trip stream" : "thinking round trip");
        expect_text(&o, "Tool results: 18C", "stop");
        body = last_body();
        CHECK(str_eq(jstr(body, "messages[1].content[0].type"), "thinking") &&
                  str_eq(jstr(body, "messages[1].content[0].signature"), sigcopy) &&
                  str_eq(jstr(body, "messages[1].content[1].type"), "tool_use"),
              "%s: the assistant turn was not sent back as [thinking (signed), tool_use]", o.where);
        json_decref(body);
        free(sigcopy);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_images(void) {
    TEST("anthropic: images (data URL → base64 block, https URL → url block)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        nreq_messages(req, image_messages(PNG_DATA_URL));
        nres o;
        nrun(g_client, req, &o, stream ? "data URL image stream" : "data URL image");
        expect_text(&o, "You said: What is in this image?", "stop");
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "messages[0].content[1].type"), "image") &&
                  str_eq(jstr(body, "messages[0].content[1].source.type"), "base64") &&
                  str_eq(jstr(body, "messages[0].content[1].source.media_type"), "image/png") &&
                  str_eq(jstr(body, "messages[0].content[1].source.data"), PNG_B64),
              "%s: the image was not sent as a base64 image block", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
    json_t *req = nreq(&P, "echo", false);
    nreq_messages(req, image_messages(IMAGE_HTTPS_URL));
    nres o;
    nrun(g_client, req, &o, "https image");
    expect_text(&o, "You said: What is in this image?", "stop");
    json_t *body = last_body();
    CHECK(str_eq(jstr(body, "messages[0].content[1].source.type"), "url") &&
              str_eq(jstr(body, "messages[0].content[1].source.url"), IMAGE_HTTPS_URL),
          "https image not sent as a url image block");
    json_decref(body);
    nres_free(&o);
    json_decref(req);
}

static void test_limits(void) {
    TEST("anthropic: stop sequences, max_tokens, length, n");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "stop", json_pack("[s, s]", "there", "nowhere"));
        nres o;
        nrun(g_client, req, &o, stream ? "stop stream" : "stop");
        expect_text(&o, "You said: Hello ", "stop");
        json_t *body = last_body();
        CHECK(json_array_size(jpath(body, "stop_sequences")) == 2 && str_eq(jstr(body, "stop_sequences[0]"), "there"),
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
        nres_free(&o);
        json_decref(req);

        req = nreq(&P, "length", stream);
        nrun(g_client, req, &o, stream ? "length model stream" : "length model");
        expect_text(&o, "truncated", "length");
        nres_free(&o);
        json_decref(req);

        req = nreq(&P, "content-filter", stream);
        nrun(g_client, req, &o, stream ? "refusal stream" : "refusal");
        expect_text(&o, "You ", "content_filter");
        nres_free(&o);
        json_decref(req);
    }
    json_t *req = nreq(&P, "echo", false);
    json_object_set_new(req, "n", json_integer(2));
    nres o;
    nrun(g_client, req, &o, "n = 2");
    expect_error_full(&o, ANYLLM_E_UNSUPPORTED_PARAMETER, 0, "anthropic", false, -1, -1, NULL);
    nres_free(&o);
    json_decref(req);
}

static void err_both(const char *model, const char *key, anyllm_status st, int http, double ra_min, double ra_max) {
    nerr_both(g_client, &P, model, key, st, http, ra_min, ra_max);
}

static void test_errors(void) {
    TEST("anthropic: typed errors");
    add_secret("sk-bad-anthropic-7f3e9a1c2b");
    add_secret("sk-noperm-anthropic-4d5e6f7a8b");
    err_both("echo", "sk-bad-anthropic-7f3e9a1c2b", ANYLLM_E_AUTHENTICATION, 401, -1, -1);
    err_both("echo", "sk-noperm-anthropic-4d5e6f7a8b", ANYLLM_E_PERMISSION, 403, -1, -1);
    err_both("status-401", NULL, ANYLLM_E_AUTHENTICATION, 401, -1, -1);
    err_both("status-403", NULL, ANYLLM_E_PERMISSION, 403, -1, -1);
    err_both("status-404", NULL, ANYLLM_E_NOT_FOUND, 404, -1, -1);
    err_both("status-400", NULL, ANYLLM_E_INVALID_REQUEST, 400, -1, -1);
    err_both("status-429", NULL, ANYLLM_E_RATE_LIMIT, 429, 2.0, 2.0);
    err_both("retry-after-date", NULL, ANYLLM_E_RATE_LIMIT, 429, 1.0, 3.5);
    err_both("context-length", NULL, ANYLLM_E_CONTEXT_LENGTH, 400, -1, -1);
    err_both("quota", NULL, ANYLLM_E_INSUFFICIENT_FUNDS, 400, -1, -1);
    err_both("status-402", NULL, ANYLLM_E_INSUFFICIENT_FUNDS, 402, -1, -1);
    err_both("status-529", NULL, ANYLLM_E_PROVIDER, 529, -1, -1);
    err_both("status-500", NULL, ANYLLM_E_PROVIDER, 500, -1, -1);
    err_both("html-404", NULL, ANYLLM_E_NOT_FOUND, 404, -1, -1);

    /* the provider's own error body */
    json_t *req = nreq_err(&P, "status-529", false);
    nres o;
    nrun(g_client, req, &o, "529 body");
    CHECK(str_eq(jstr(o.r.j, "error.provider_error.error.type"), "overloaded_error"), "529: provider_error.error.type %s",
          or_null(jstr(o.r.j, "error.provider_error.error.type")));
    nres_free(&o);
    json_decref(req);
    req = nreq_err(&P, "quota", false);
    nrun(g_client, req, &o, "credit balance");
    const char *msg = jstr(o.r.j, "error.message");
    CHECK(msg && strstr(msg, "credit balance"), "quota: message %s", or_null(msg));
    nres_free(&o);
    json_decref(req);

    /* missing key: the library refuses before sending (unless ANTHROPIC_API_KEY is set) */
    if (!getenv("ANTHROPIC_API_KEY")) {
        req = nreq_err(&P, "echo", false);
        json_object_del(req, "api_key");
        nrun(g_client, req, &o, "no key");
        expect_error_full(&o, ANYLLM_E_MISSING_API_KEY, 0, "anthropic", false, -1, -1, NULL);
        nres_free(&o);
        json_decref(req);
    }

    /* an error event mid-stream: what came before is the partial */
    req = nreq_err(&P, "error-event", true);
    nrun(g_client, req, &o, "error event");
    expect_error_full(&o, ANYLLM_E_PROVIDER, 0, "anthropic", true, -1, -1, "You said: ");
    CHECK(str_eq(jstr(o.r.j, "error.provider_error.error.type"), "overloaded_error"), "error event: provider_error %.200s",
          or_null(o.r.raw));
    nres_free(&o);
    json_decref(req);
    req = nreq_err(&P, "error-event", false);
    nrun(g_client, req, &o, "error object in a 200 body");
    expect_error_full(&o, ANYLLM_E_PROVIDER, 0, "anthropic", true, -1, -1, NULL);
    nres_free(&o);
    json_decref(req);

    /* the connection cut mid-stream / mid-body, and bodies that are not JSON */
    check_cuts_and_garbage(g_client, &P, "anthropic");

    /* one retry on a 500 */
    req = nreq(&P, "flaky-1-anthropic", false);
    req_client_arg(req, "max_retries", json_integer(1));
    nrun(g_client, req, &o, "flaky-1 with one retry");
    expect_text(&o, "You said: Hello there", "stop");
    nres_free(&o);
    json_decref(req);
}

static void test_delivery(void) {
    TEST("anthropic: split UTF-8, long streams, SSE framings");
    check_split_utf8_and_long(g_client, &P);
    json_t *req;
    nres o;
    const char *framings[] = {"sse-crlf", "sse-cr", "sse-quirks"};
    for (int i = 0; i < 3; i++) {
        req = nreq(&P, framings[i], true);
        nrun(g_client, req, &o, framings[i]);
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
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
    test_tool_edge_cases();
    test_structured();
    test_reasoning();
    test_images();
    test_limits();
    test_errors();
    test_delivery();
    fprintf(stderr, "test_anthropic: %.1f s\n", now_s() - t0);
    anyllm_client_free(g_client);
    return test_teardown();
}
