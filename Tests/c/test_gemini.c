/*
 * test_gemini — Google's generateContent protocol end to end through libanyllm.so against the emulator, on the
 * Gemini API (/v1beta/models/{model}:generateContent, :streamGenerateContent?alt=sse, x-goog-api-key) and on
 * Vertex AI (/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:..., bearer token): OpenAI-shaped
 * results and chunks for text, system and multi-turn conversations, tools (schema conversion, auto, named,
 * required, parallel, streamed, functionResponse turns, thought signatures sent back), structured output,
 * thinking, images, stop sequences and maxOutputTokens, candidateCount, and the typed errors (a bad key is a 400
 * INVALID_ARGUMENT on the real API and must still be an authentication error; RetryInfo gives retry_after).
 */
#include "native_util.h"

static anyllm_client *g_client;
static const nproto G = {"gemini", true, false};
static const nproto V = {"vertexai", true, true};

static json_t *last_sent(void) { return emu_last_request(); }

static json_t *last_body(void) {
    json_t *sent = emu_last_request();
    json_t *body = json_incref(jpath(sent, "body"));
    json_decref(sent);
    return body;
}

static void test_echo(const nproto *p) {
    TEST(p->vertex ? "vertex: text echo, streamed and not" : "gemini: text echo, streamed and not");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(p, "echo", stream);
        nres o;
        char what[64];
        snprintf(what, sizeof what, "%s echo%s", p->provider, stream ? " stream" : "");
        nrun(g_client, req, &o, what);
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        CHECK(str_eq(jstr(o.r.j, "model"), "echo"), "%s: model %s (modelVersion)", o.where, or_null(jstr(o.r.j, "model")));
        CHECK(jstr(o.r.j, "id") && strlen(jstr(o.r.j, "id")) == 23, "%s: id %s is not the responseId", o.where,
              or_null(jstr(o.r.j, "id")));
        if (stream) CHECK(o.c.count >= 6, "%s: %d chunks for 4 words", o.where, o.c.count);

        json_t *sent = last_sent();
        char want[512];
        const char *method = stream ? "streamGenerateContent" : "generateContent";
        if (p->vertex)
            snprintf(want, sizeof want, "/v1/projects/%s/locations/%s/publishers/google/models/echo:%s", VERTEX_PROJECT,
                     VERTEX_LOCATION, method);
        else
            snprintf(want, sizeof want, "/v1beta/models/echo:%s", method);
        CHECK(str_eq(jstr(sent, "path"), want), "%s: path %s, want %s", o.where, or_null(jstr(sent, "path")), want);
        CHECK(stream ? str_eq(jstr(sent, "query.alt"), "sse") : jpath(sent, "query.alt") == NULL, "%s: alt=%s", o.where,
              or_null(jstr(sent, "query.alt")));
        CHECK(jpath(sent, "query.key") == NULL, "%s: the key was sent in the URL", o.where);
        if (p->vertex) {
            CHECK(starts_with(jstr(sent, "headers.authorization"), "<redacted"), "%s: no Authorization header", o.where);
            CHECK(jpath(sent, "headers.x-goog-api-key") == NULL, "%s: x-goog-api-key sent to Vertex", o.where);
        } else {
            CHECK(starts_with(jstr(sent, "headers.x-goog-api-key"), "<redacted"), "%s: no x-goog-api-key header", o.where);
            CHECK(jpath(sent, "headers.authorization") == NULL, "%s: Authorization sent to the Gemini API", o.where);
        }
        CHECK(str_eq(jstr(sent, "body.contents[0].role"), "user") && str_eq(jstr(sent, "body.contents[0].parts[0].text"), "Hello there"),
              "%s: contents not converted", o.where);
        CHECK(jpath(sent, "body.model") == NULL && jpath(sent, "body.messages") == NULL && jpath(sent, "body.stream") == NULL &&
                  jpath(sent, "body.vertex_project") == NULL && jpath(sent, "body.vertex_location") == NULL,
              "%s: OpenAI or Vertex keys leaked into the body", o.where);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_api_base_forms(void) {
    TEST("gemini: api_base with /v1beta or a trailing slash");
    const char *suffixes[] = {"/v1beta", "/v1beta/", "/"};
    for (int i = 0; i < 3; i++) {
        json_t *req = nreq(&G, "echo", false);
        char base[320];
        snprintf(base, sizeof base, "%s%s", g_emu.url, suffixes[i]);
        json_object_set_new(req, "api_base", json_string(base));
        char what[64];
        snprintf(what, sizeof what, "api_base ...%s", suffixes[i]);
        nres o;
        nrun(g_client, req, &o, what);
        expect_text(&o, "You said: Hello there", "stop");
        json_t *sent = emu_last_request();
        CHECK(str_eq(jstr(sent, "path"), "/v1beta/models/echo:generateContent"), "%s: path %s", what, or_null(jstr(sent, "path")));
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_conversation(void) {
    TEST("gemini: systemInstruction, multi-turn and plain-string messages");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&G, "echo", stream);
        nreq_messages(req, multi_turn_messages());
        nres o;
        nrun(g_client, req, &o, stream ? "multi-turn stream" : "multi-turn");
        expect_text(&o, "You said: What is up", "stop");
        expect_usage(o.r.j, o.where, MULTI_TURN_PROMPT_TOKENS, 5);
        json_t *body = last_body();
        CHECK(json_array_size(jpath(body, "systemInstruction.parts")) == 2 &&
                  str_eq(jstr(body, "systemInstruction.parts[0].text"), "Be brief."),
              "%s: system/developer not sent as systemInstruction parts", o.where);
        CHECK(json_array_size(jpath(body, "contents")) == 3 && str_eq(jstr(body, "contents[1].role"), "model") &&
                  str_eq(jstr(body, "contents[1].parts[0].text"), "Hello!") && str_eq(jstr(body, "contents[2].role"), "user"),
              "%s: contents not user/model/user", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&G, "echo", stream);
        json_object_set_new(req, "messages", json_string("Hello there"));
        nrun(g_client, req, &o, stream ? "plain-string messages stream" : "plain-string messages");
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        nres_free(&o);
        json_decref(req);
    }
}

/* A tool whose JSON Schema uses what Gemini's `parameters` (an OpenAPI subset) rejects: $defs/$ref, a type list,
 * const, anyOf with null, additionalProperties, $schema. */
static json_t *tool_pydantic(void) {
    return jparse("{\"type\":\"function\",\"function\":{\"name\":\"add_person\",\"description\":\"Add a person\",\"parameters\":{"
                  "\"$schema\":\"http://json-schema.org/draft-07/schema#\","
                  "\"$defs\":{\"Address\":{\"type\":\"object\",\"properties\":{\"street\":{\"type\":\"string\"},"
                  "\"zip\":{\"type\":[\"string\",\"null\"]}},\"required\":[\"street\"],\"additionalProperties\":false}},"
                  "\"type\":\"object\",\"properties\":{"
                  "\"name\":{\"type\":\"string\",\"title\":\"Name\"},"
                  "\"age\":{\"type\":[\"integer\",\"null\"]},"
                  "\"kind\":{\"type\":\"string\",\"const\":\"person\"},"
                  "\"address\":{\"$ref\":\"#/$defs/Address\"},"
                  "\"nick\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}],\"default\":null}},"
                  "\"required\":[\"name\",\"address\"],\"additionalProperties\":false}}}");
}
#define PYDANTIC_ARGS \
    "{\"name\":\"Paris\",\"age\":42,\"kind\":\"person\",\"address\":{\"street\":\"Paris\",\"zip\":\"Paris\"},\"nick\":\"Paris\"}"

static void test_tools(const nproto *p) {
    TEST(p->vertex ? "vertex: tool calls" : "gemini: tool calls (schema conversion, auto, named, required, none, parallel, streamed)");
    const char *weather[] = {"get_weather"}, *rich[] = {WEATHER_RICH_ARGS}, *wargs[] = {WEATHER_ARGS};
    for (int stream = 0; stream < 2; stream++) {
        char what[96];
        nres o;
        json_t *req = nreq(p, "echo", stream);
        json_object_set_new(req, "messages", json_string("What is the weather in Paris?"));
        json_object_set_new(req, "tools", json_pack("[o]", tool_weather_rich()));
        snprintf(what, sizeof what, "%s auto%s", p->provider, stream ? " stream" : "");
        nrun(g_client, req, &o, what);
        expect_calls(&o, 1, weather, rich);
        CHECK(json_is_null(jpath(o.r.j, "choices[0].message.content")), "%s: content not null with a tool call", o.where);
        expect_usage(o.r.j, o.where, 6, -1);
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "tools[0].functionDeclarations[0].name"), "get_weather") &&
                  json_is_object(jpath(body, "tools[0].functionDeclarations[0].parameters.properties.coords")),
              "%s: tool not sent as a functionDeclaration", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
        if (p->vertex) continue;

        /* JSON Schema → the OpenAPI subset (the emulator rejects unknown schema fields like the real API) */
        req = nreq(p, "echo", stream);
        json_object_set_new(req, "messages", json_string("Add Alice"));
        json_object_set_new(req, "tools", json_pack("[o]", tool_pydantic()));
        nrun(g_client, req, &o, stream ? "pydantic schema stream" : "pydantic schema");
        const char *pn[] = {"add_person"}, *pa[] = {PYDANTIC_ARGS};
        expect_calls(&o, 1, pn, pa);
        body = last_body();
        json_t *params = jpath(body, "tools[0].functionDeclarations[0].parameters");
        char *ptext = jdump(params);
        CHECK(ptext && !strstr(ptext, "additionalProperties") && !strstr(ptext, "$ref") && !strstr(ptext, "$defs") &&
                  !strstr(ptext, "$schema") && !strstr(ptext, "const"),
              "%s: unsupported schema keywords sent: %s", o.where, or_null(ptext));
        CHECK(json_is_true(jpath(params, "properties.age.nullable")) && str_eq(jstr(params, "properties.age.type"), "integer") &&
                  str_eq(jstr(params, "properties.kind.enum[0]"), "person") &&
                  str_eq(jstr(params, "properties.address.properties.street.type"), "string"),
              "%s: schema not converted ($ref inlined, nullable, const → enum): %s", o.where, or_null(ptext));
        free(ptext);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* named, required, none */
        req = nreq(p, "echo", stream);
        json_object_set_new(req, "messages", json_string("What is the weather in Paris?"));
        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "tool_choice", named_choice("get_time"));
        nrun(g_client, req, &o, stream ? "named stream" : "named");
        const char *tname[] = {"get_time"}, *targs[] = {TIME_ARGS};
        expect_calls(&o, 1, tname, targs);
        body = last_body();
        CHECK(str_eq(jstr(body, "toolConfig.functionCallingConfig.mode"), "ANY") &&
                  str_eq(jstr(body, "toolConfig.functionCallingConfig.allowedFunctionNames[0]"), "get_time"),
              "%s: named tool_choice not ANY + allowedFunctionNames", o.where);
        json_decref(body);
        nres_free(&o);
        json_object_set_new(req, "tool_choice", json_string("required"));
        nrun(g_client, req, &o, stream ? "required stream" : "required");
        expect_calls(&o, 1, weather, wargs);
        body = last_body();
        CHECK(str_eq(jstr(body, "toolConfig.functionCallingConfig.mode"), "ANY") &&
                  jpath(body, "toolConfig.functionCallingConfig.allowedFunctionNames") == NULL,
              "%s: required not mode ANY", o.where);
        json_decref(body);
        nres_free(&o);
        json_object_set_new(req, "tool_choice", json_string("none"));
        nrun(g_client, req, &o, stream ? "none stream" : "none");
        expect_text(&o, "You said: What is the weather in Paris?", "stop");
        body = last_body();
        CHECK(str_eq(jstr(body, "toolConfig.functionCallingConfig.mode"), "NONE"), "%s: tool_choice none not mode NONE", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* parallel */
        req = nreq(p, "parallel-tools", stream);
        json_object_set_new(req, "messages", json_string("Weather in Paris and the time in UTC?"));
        json_object_set_new(req, "tools", tools_two());
        nrun(g_client, req, &o, stream ? "parallel stream" : "parallel");
        const char *both[] = {"get_weather", "get_time"}, *bargs[] = {WEATHER_ARGS, TIME_ARGS};
        expect_calls(&o, 2, both, bargs);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_tool_results(void) {
    TEST("gemini: tool results (functionResponse parts named after their calls)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&G, "echo", stream);
        json_object_set_new(req, "tools", tools_two());
        nreq_messages(req, tool_result_messages());
        nres o;
        nrun(g_client, req, &o, stream ? "tool results stream" : "tool results");
        /* "18C" travels as {"result": "18C"}, the JSON object as it is: the emulator reads each back */
        expect_text(&o, "Tool results: 18C; 12:00", "stop");
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "contents[1].role"), "model") &&
                  str_eq(jstr(body, "contents[1].parts[0].functionCall.name"), "get_weather") &&
                  str_eq(jstr(body, "contents[1].parts[0].functionCall.args.city"), "Paris") &&
                  str_eq(jstr(body, "contents[1].parts[1].functionCall.name"), "get_time"),
              "%s: the assistant's calls not sent as functionCall parts with object args", o.where);
        CHECK(str_eq(jstr(body, "contents[2].role"), "user") &&
                  str_eq(jstr(body, "contents[2].parts[0].functionResponse.name"), "get_weather") &&
                  str_eq(jstr(body, "contents[2].parts[0].functionResponse.response.result"), "18C") &&
                  str_eq(jstr(body, "contents[2].parts[1].functionResponse.name"), "get_time") &&
                  str_eq(jstr(body, "contents[2].parts[1].functionResponse.response.time"), "12:00"),
              "%s: tool messages not sent as functionResponse parts of one user turn", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
}

/* Gemini 3 (and the emulator's reasoning model) refuses a history whose function calls lost their thought
 * signature: the library keeps it in tool_calls[i].extra_content.google.thought_signature and sends it back. */
static void test_thought_signatures(const nproto *p) {
    TEST(p->vertex ? "vertex: thought signatures round trip" : "gemini: thought signatures round trip (gemini-3)");
    for (int stream = 0; stream < 2; stream++) {
        char what[96];
        json_t *req = nreq(p, "gemini-3-parallel", stream);
        json_object_set_new(req, "messages", json_string("Weather in Paris and the time?"));
        json_object_set_new(req, "tools", tools_two());
        nres o;
        snprintf(what, sizeof what, "%s gemini-3 calls%s", p->provider, stream ? " stream" : "");
        nrun(g_client, req, &o, what);
        const char *both[] = {"get_weather", "get_time"}, *bargs[] = {WEATHER_ARGS, TIME_ARGS};
        expect_calls(&o, 2, both, bargs);
        if (stream) {
            /* the chunk that carried the call has the signature */
            bool in_chunks = false;
            size_t i, k;
            json_t *ch, *tc;
            json_array_foreach(o.c.chunks, i, ch) json_array_foreach(jpath(ch, "choices[0].delta.tool_calls"), k, tc) {
                if (jint(tc, "index", -1) == 0 && jstr(tc, "extra_content.google.thought_signature")) in_chunks = true;
            }
            CHECK(in_chunks, "%s: no chunk carries tool call 0's extra_content.google.thought_signature", o.where);
        }
        const char *sig = jstr(o.r.j, "choices[0].message.tool_calls[0].extra_content.google.thought_signature");
        CHECK(sig && *sig, "%s: the result's tool call 0 has no extra_content.google.thought_signature: %.600s", o.where,
              or_null(o.r.raw));
        char *sigcopy = sig ? strdup(sig) : NULL;
        if (o.r.st == ANYLLM_OK && json_array_size(jpath(o.r.j, "choices[0].message.tool_calls")) == 2) {
            json_t *msgs = json_pack("[{s:s, s:s}, o, o, o]", "role", "user", "content", "Weather in Paris and the time?",
                                     assistant_of(&o), tool_answer(&o, 0, "sunny"), tool_answer(&o, 1, "noon"));
            nres_free(&o);
            nreq_messages(req, msgs);
            snprintf(what, sizeof what, "%s gemini-3 results%s", p->provider, stream ? " stream" : "");
            nrun(g_client, req, &o, what);
            expect_text(&o, "Tool results: sunny; noon", "stop");
            if (sigcopy) {
                json_t *body = last_body();
                CHECK(str_eq(jstr(body, "contents[1].parts[0].thoughtSignature"), sigcopy),
                      "%s: the thought signature was not sent back on the functionCall part", o.where);
                json_decref(body);
            }
        }
        free(sigcopy);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_structured(const nproto *p) {
    TEST(p->vertex ? "vertex: structured output" : "gemini: structured output (json_schema, json_object)");
    for (int stream = 0; stream < 2; stream++) {
        char what[96];
        json_t *req = nreq(p, "echo", stream);
        json_object_set_new(req, "response_format", person_format());
        nres o;
        snprintf(what, sizeof what, "%s json_schema%s", p->provider, stream ? " stream" : "");
        nrun(g_client, req, &o, what);
        if (expect_ok(&o))
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), PERSON_JSON), "%s: content %s, want %s", o.where,
                  or_null(jstr(o.r.j, "choices[0].message.content")), PERSON_JSON);
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "generationConfig.responseMimeType"), "application/json") &&
                  json_is_object(jpath(body, "generationConfig.responseJsonSchema.properties.age")),
              "%s: not responseMimeType + responseJsonSchema", o.where);
        CHECK(jpath(body, "response_format") == NULL, "%s: response_format leaked into the body", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(p, "echo", stream);
        json_object_set_new(req, "response_format", json_pack("{s:s}", "type", "json_object"));
        snprintf(what, sizeof what, "%s json_object%s", p->provider, stream ? " stream" : "");
        nrun(g_client, req, &o, what);
        if (expect_ok(&o))
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), "{\"text\":\"You said: Hello there\"}"),
                  "%s: content %s", o.where, or_null(jstr(o.r.j, "choices[0].message.content")));
        nres_free(&o);
        json_decref(req);
    }
}

static void test_reasoning(const nproto *p) {
    TEST(p->vertex ? "vertex: thinking" : "gemini: thinking (reasoning_effort, reasoning model)");
    for (int stream = 0; stream < 2; stream++) {
        char what[96];
        json_t *req = nreq(p, "gemini-2.5-flash", stream);
        json_object_set_new(req, "reasoning_effort", json_string("low"));
        nres o;
        snprintf(what, sizeof what, "%s effort low%s", p->provider, stream ? " stream" : "");
        nrun(g_client, req, &o, what);
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        /* completion_tokens = candidates + thoughts */
        expect_usage(o.r.j, o.where, 2, 14);
        CHECK(jint(o.r.j, "usage.completion_tokens_details.reasoning_tokens", -1) == 10, "%s: reasoning_tokens %lld, want 10",
              o.where, jint(o.r.j, "usage.completion_tokens_details.reasoning_tokens", -1));
        if (stream) {
            int pieces = 0;
            free(chunks_reasoning(&o.c, &pieces));
            CHECK(pieces >= 5, "%s: reasoning came in %d delta.reasoning.content chunks", o.where, pieces);
        }
        json_t *body = last_body();
        CHECK(jint(body, "generationConfig.thinkingConfig.thinkingBudget", -1) == 1024 &&
                  json_is_true(jpath(body, "generationConfig.thinkingConfig.includeThoughts")),
              "%s: thinkingConfig not {1024, includeThoughts}", o.where);
        CHECK(jpath(body, "reasoning_effort") == NULL, "%s: reasoning_effort leaked into the body", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(p, "reasoning", stream);
        snprintf(what, sizeof what, "%s reasoning model%s", p->provider, stream ? " stream" : "");
        nrun(g_client, req, &o, what);
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        nres_free(&o);
        json_decref(req);
    }
    if (p->vertex) return;
    const char *efforts[] = {"none", "minimal", "medium", "high"};
    const int budgets[] = {0, 512, 8192, 24576};
    for (int i = 0; i < 4; i++) {
        json_t *req = nreq(p, "echo", false);
        json_object_set_new(req, "reasoning_effort", json_string(efforts[i]));
        nres o;
        nrun(g_client, req, &o, efforts[i]);
        expect_ok(&o);
        json_t *body = last_body();
        CHECK(jint(body, "generationConfig.thinkingConfig.thinkingBudget", -1) == budgets[i], "effort %s: thinkingBudget %lld, want %d",
              efforts[i], jint(body, "generationConfig.thinkingConfig.thinkingBudget", -1), budgets[i]);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_images(void) {
    TEST("gemini: images (data URL → inlineData, https → fileData)");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&G, "echo", stream);
        nreq_messages(req, image_messages(PNG_DATA_URL));
        nres o;
        nrun(g_client, req, &o, stream ? "data URL image stream" : "data URL image");
        expect_text(&o, "You said: What is in this image?", "stop");
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "contents[0].parts[1].inlineData.mimeType"), "image/png") &&
                  str_eq(jstr(body, "contents[0].parts[1].inlineData.data"), PNG_B64),
              "%s: the image was not sent as inlineData", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }
    json_t *req = nreq(&G, "echo", false);
    nreq_messages(req, image_messages(IMAGE_HTTPS_URL));
    nres o;
    nrun(g_client, req, &o, "https image");
    expect_text(&o, "You said: What is in this image?", "stop");
    json_t *body = last_body();
    CHECK(str_eq(jstr(body, "contents[0].parts[1].fileData.fileUri"), IMAGE_HTTPS_URL) &&
              str_eq(jstr(body, "contents[0].parts[1].fileData.mimeType"), "image/png"),
          "https image not sent as fileData");
    json_decref(body);
    nres_free(&o);
    json_decref(req);
}

static void test_limits(void) {
    TEST("gemini: stop sequences, maxOutputTokens, length, candidateCount, safety");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&G, "echo", stream);
        json_object_set_new(req, "stop", json_pack("[s]", "there"));
        json_object_set_new(req, "temperature", json_real(0.25));
        json_object_set_new(req, "top_p", json_real(0.5));
        json_object_set_new(req, "seed", json_integer(7));
        nres o;
        nrun(g_client, req, &o, stream ? "stop stream" : "stop");
        expect_text(&o, "You said: Hello ", "stop");
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "generationConfig.stopSequences[0]"), "there") &&
                  jnum(body, "generationConfig.temperature", -1) == 0.25 && jnum(body, "generationConfig.topP", -1) == 0.5 &&
                  jint(body, "generationConfig.seed", -1) == 7,
              "%s: stop/temperature/top_p/seed not in generationConfig", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&G, "echo", stream);
        json_object_set_new(req, "max_tokens", json_integer(2));
        nrun(g_client, req, &o, stream ? "max_tokens 2 stream" : "max_tokens 2");
        expect_text(&o, "You said: ", "length");
        expect_usage(o.r.j, o.where, 2, 2);
        body = last_body();
        CHECK(jint(body, "generationConfig.maxOutputTokens", -1) == 2, "%s: maxOutputTokens %lld", o.where,
              jint(body, "generationConfig.maxOutputTokens", -1));
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = nreq(&G, "length", stream);
        nrun(g_client, req, &o, stream ? "length model stream" : "length model");
        expect_text(&o, "truncated", "length");
        nres_free(&o);
        json_decref(req);

        req = nreq(&G, "content-filter", stream);
        nrun(g_client, req, &o, stream ? "SAFETY stream" : "SAFETY");
        expect_text(&o, "", "content_filter");
        nres_free(&o);
        json_decref(req);
    }

    /* n = 2 → candidateCount 2 → two choices */
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&G, "echo", stream);
        json_object_set_new(req, "n", json_integer(2));
        collector c;
        result r;
        collector_init(&c);
        run_req(g_client, req, collect_chunk, &c, &r);
        const char *w = stream ? "n = 2 stream" : "n = 2";
        CHECK(r.st == ANYLLM_OK && json_array_size(jpath(r.j, "choices")) == 2, "%s: %d, %zu choices", w, r.st,
              json_array_size(jpath(r.j, "choices")));
        for (int i = 0; i < 2; i++) {
            char path[64];
            snprintf(path, sizeof path, "choices[%d].message.content", i);
            CHECK(str_eq(jstr(r.j, path), "You said: Hello there"), "%s: choice %d content %s", w, i, or_null(jstr(r.j, path)));
            snprintf(path, sizeof path, "choices[%d].index", i);
            CHECK(jint(r.j, path, -1) == i, "%s: choices[%d].index %lld", w, i, jint(r.j, path, -1));
        }
        json_t *body = last_body();
        CHECK(jint(body, "generationConfig.candidateCount", -1) == 2, "%s: candidateCount not 2", w);
        json_decref(body);
        CHECK(stream ? c.bad == 0 && c.count > 2 : c.count == 0, "%s: %d chunks, %d bad", w, c.count, c.bad);
        collector_free(&c);
        res_free(&r);
        json_decref(req);
    }
}

static void err_both(const nproto *p, const char *model, const char *key, anyllm_status st, int http, double ra_min,
                     double ra_max) {
    nerr_both(g_client, p, model, key, st, http, ra_min, ra_max);
}

static void test_errors(const nproto *p) {
    TEST(p->vertex ? "vertex: typed errors" : "gemini: typed errors");
    const char *prov = p->provider;
    char bad[64], noperm[64];
    snprintf(bad, sizeof bad, "sk-bad-%s-0a1b2c3d4e5f", prov);
    snprintf(noperm, sizeof noperm, "sk-noperm-%s-9f8e7d6c", prov);
    add_secret(p->vertex ? "sk-bad-vertexai-0a1b2c3d4e5f" : "sk-bad-gemini-0a1b2c3d4e5f");
    add_secret(p->vertex ? "sk-noperm-vertexai-9f8e7d6c" : "sk-noperm-gemini-9f8e7d6c");
    /* Gemini API: a bad key is 400 INVALID_ARGUMENT (API_KEY_INVALID); Vertex: 401 */
    err_both(p, "echo", bad, ANYLLM_E_AUTHENTICATION, p->vertex ? 401 : 400, -1, -1);
    err_both(p, "echo", noperm, ANYLLM_E_PERMISSION, 403, -1, -1);
    err_both(p, "status-404", NULL, ANYLLM_E_NOT_FOUND, 404, -1, -1);
    err_both(p, "status-429", NULL, ANYLLM_E_RATE_LIMIT, 429, 2.0, 2.0);
    err_both(p, "quota", NULL, ANYLLM_E_RATE_LIMIT, 429, -1, -1);
    err_both(p, "status-503", NULL, ANYLLM_E_PROVIDER, 503, -1, -1);
    if (!p->vertex) {
        err_both(p, "status-401", NULL, ANYLLM_E_AUTHENTICATION, 401, -1, -1);
        err_both(p, "status-403", NULL, ANYLLM_E_PERMISSION, 403, -1, -1);
        err_both(p, "status-400", NULL, ANYLLM_E_INVALID_REQUEST, 400, -1, -1);
        err_both(p, "retry-after-date", NULL, ANYLLM_E_RATE_LIMIT, 429, 1.0, 3.5);
        err_both(p, "context-length", NULL, ANYLLM_E_CONTEXT_LENGTH, 400, -1, -1);
        err_both(p, "status-500", NULL, ANYLLM_E_PROVIDER, 500, -1, -1);
        err_both(p, "html-404", NULL, ANYLLM_E_NOT_FOUND, 404, -1, -1);
    }

    /* the provider's own error body */
    json_t *req = nreq_err(p, "echo", false);
    json_object_set_new(req, "api_key", json_string(bad));
    nres o;
    nrun(g_client, req, &o, "bad key body");
    if (!p->vertex)
        CHECK(str_eq(jstr(o.r.j, "error.provider_error.error.status"), "INVALID_ARGUMENT") &&
                  str_eq(jstr(o.r.j, "error.provider_error.error.details[0].reason"), "API_KEY_INVALID"),
              "bad key: provider_error %.300s", or_null(o.r.raw));
    else
        CHECK(str_eq(jstr(o.r.j, "error.provider_error.error.status"), "UNAUTHENTICATED"), "bad token: provider_error %.300s",
              or_null(o.r.raw));
    nres_free(&o);
    json_decref(req);

    if (p->vertex) {
        /* no project: refused before sending */
        if (!getenv("GOOGLE_CLOUD_PROJECT")) {
            req = nreq_err(p, "echo", false);
            json_object_del(req, "vertex_project");
            nrun(g_client, req, &o, "vertex without a project");
            expect_error_full(&o, ANYLLM_E_INVALID_REQUEST, 0, "vertexai", false, -1, -1, NULL);
            CHECK(str_eq(jstr(o.r.j, "error.param"), "vertex_project"), "no project: param %s", or_null(jstr(o.r.j, "error.param")));
            nres_free(&o);
            json_decref(req);
        }
        return;
    }

    if (!getenv("GEMINI_API_KEY") && !getenv("GOOGLE_API_KEY")) {
        req = nreq_err(p, "echo", false);
        json_object_del(req, "api_key");
        nrun(g_client, req, &o, "no key");
        expect_error_full(&o, ANYLLM_E_MISSING_API_KEY, 0, "gemini", false, -1, -1, NULL);
        nres_free(&o);
        json_decref(req);
    }

    /* an error object mid-stream (and in a 200 body): code 503 UNAVAILABLE */
    req = nreq_err(p, "error-event", true);
    nrun(g_client, req, &o, "error event");
    expect_error_full(&o, ANYLLM_E_PROVIDER, 503, "gemini", true, -1, -1, "You said: ");
    CHECK(str_eq(jstr(o.r.j, "error.provider_error.error.status"), "UNAVAILABLE"), "error event: provider_error %.300s",
          or_null(o.r.raw));
    nres_free(&o);
    json_decref(req);
    req = nreq_err(p, "error-event", false);
    nrun(g_client, req, &o, "error object in a 200 body");
    expect_error_full(&o, ANYLLM_E_PROVIDER, 503, "gemini", true, -1, -1, NULL);
    nres_free(&o);
    json_decref(req);

    check_cuts_and_garbage(g_client, p, "gemini");
}

static void test_delivery(void) {
    TEST("gemini: split UTF-8, long streams, SSE framings");
    check_split_utf8_and_long(g_client, &G);
    json_t *req;
    nres o;
    const char *framings[] = {"sse-cr", "sse-quirks"};
    for (int i = 0; i < 2; i++) {
        req = nreq(&G, framings[i], true);
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
    test_echo(&G);
    test_api_base_forms();
    test_conversation();
    test_tools(&G);
    test_tool_results();
    test_thought_signatures(&G);
    test_structured(&G);
    test_reasoning(&G);
    test_images();
    test_limits();
    test_errors(&G);
    test_delivery();
    /* Vertex AI: the same body format at another path, with a bearer token */
    test_echo(&V);
    test_tools(&V);
    test_thought_signatures(&V);
    test_structured(&V);
    test_reasoning(&V);
    test_errors(&V);
    fprintf(stderr, "test_gemini: %.1f s\n", now_s() - t0);
    anyllm_client_free(g_client);
    return test_teardown();
}
