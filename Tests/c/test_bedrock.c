/*
 * test_bedrock — AWS Bedrock Converse / ConverseStream end to end through libanyllm.so against the emulator, which
 * verifies SigV4 itself (test credentials, clock skew, session tokens), accepts the API-key form, checks requests like
 * Bedrock and answers with Converse bodies and binary event streams: text, streams, model ids with ':', tools
 * (streamed, results), structured output, reasoning with its signature sent back, and the typed errors (throttling,
 * validation, a wrong secret, mid-stream exceptions, a frame with a bad CRC).
 */
#include "native_util.h"

static anyllm_client *g_client;
static const nproto P = {"bedrock", false, false};

/* The emulator's test credentials (Tests/emulator/bedrock_sigv4.py). */
#define AKID "AKIDANYLLMTEST0000001"
#define SECRET "anyllm/test/SECRETKEY+bPxRfiCYEXAMPLEKEY"
#define TEMP_AKID "ASIAANYLLMTEST0000002"
#define TEMP_SECRET "anyllm/temp/SECRETKEY+zPxRfiCYEXAMPLEKEY"
#define SESSION_TOKEN "anyllm-session-token-EXAMPLE/Zm9vYmFy=="
#define API_KEY "bedrock-api-key-0123456789abcdef"
#define CLAUDE "anthropic.claude-3-5-sonnet-20240620-v1:0"
#define CLAUDE45 "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

/* A SigV4-signed request: {"model": "bedrock:<model>", messages, api_base, aws_* credentials, aws_region}. */
static json_t *breq(const char *model, bool stream) {
    json_t *req = nreq(&P, model, stream);
    json_object_set_new(req, "aws_access_key_id", json_string(AKID));
    json_object_set_new(req, "aws_secret_access_key", json_string(SECRET));
    json_object_set_new(req, "aws_region", json_string("eu-central-1"));
    return req;
}

static json_t *breq_err(const char *model, bool stream) {
    json_t *req = breq(model, stream);
    req_client_arg(req, "max_retries", json_integer(0));
    return req;
}

static json_t *last_body(void) {
    json_t *sent = emu_last_request();
    json_t *body = json_incref(jpath(sent, "body"));
    json_decref(sent);
    return body;
}

static void test_signed_text(void) {
    TEST("bedrock: SigV4-signed text, streamed and not, a model id with ':'");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = breq(CLAUDE, stream);
        nres o;
        nrun(g_client, req, &o, stream ? "signed stream" : "signed");
        expect_text(&o, "You said: Hello there", "stop");
        expect_usage(o.r.j, o.where, 2, 4);
        CHECK(str_eq(jstr(o.r.j, "model"), CLAUDE), "%s: model %s", o.where, or_null(jstr(o.r.j, "model")));
        if (stream) CHECK(o.c.count >= 6, "%s: %d chunks for 4 words", o.where, o.c.count);
        json_t *sent = emu_last_request();
        const char *want = stream ? "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"
                                  : "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse";
        CHECK(str_eq(jstr(sent, "path"), want), "%s: path %s, want %s", o.where, or_null(jstr(sent, "path")), want);
        CHECK(starts_with(jstr(sent, "headers.authorization"), "<redacted"), "%s: no Authorization", o.where);
        CHECK(jstr(sent, "headers.x-amz-date") && strlen(jstr(sent, "headers.x-amz-date")) == 16, "%s: x-amz-date %s",
              o.where, or_null(jstr(sent, "headers.x-amz-date")));
        CHECK(str_eq(jstr(sent, "headers.content-type"), "application/json"), "%s: content-type", o.where);
        CHECK(str_eq(jstr(sent, "body.messages[0].content[0].text"), "Hello there") && jpath(sent, "body.model") == NULL,
              "%s: body not a Converse request", o.where);
        CHECK(jpath(sent, "body.additionalModelRequestFields") == NULL, "%s: aws_* fields leaked into the model fields",
              o.where);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }
}

static void test_auth_forms(void) {
    TEST("bedrock: API key (bearer), session token, credentials from the environment");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(&P, "echo", stream);
        json_object_set_new(req, "api_key", json_string(API_KEY));
        nres o;
        nrun(g_client, req, &o, stream ? "bearer stream" : "bearer");
        expect_text(&o, "You said: Hello there", "stop");
        json_t *sent = emu_last_request();
        CHECK(jpath(sent, "headers.x-amz-date") == NULL, "%s: signed although an API key was given", o.where);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);

        req = breq("echo", stream);
        json_object_set_new(req, "aws_access_key_id", json_string(TEMP_AKID));
        json_object_set_new(req, "aws_secret_access_key", json_string(TEMP_SECRET));
        json_object_set_new(req, "aws_session_token", json_string(SESSION_TOKEN));
        nrun(g_client, req, &o, stream ? "session token stream" : "session token");
        expect_text(&o, "You said: Hello there", "stop");
        sent = emu_last_request();
        CHECK(starts_with(jstr(sent, "headers.x-amz-security-token"), "<redacted"), "%s: no x-amz-security-token", o.where);
        json_decref(sent);
        nres_free(&o);
        json_decref(req);
    }

    /* temporary credentials without their token: refused by the service */
    add_secret(TEMP_SECRET);
    json_t *req = breq_err("echo", false);
    json_object_set_new(req, "aws_access_key_id", json_string(TEMP_AKID));
    json_object_set_new(req, "aws_secret_access_key", json_string(TEMP_SECRET));
    nres o;
    nrun(g_client, req, &o, "temporary credentials without the token");
    expect_http_error(&o, ANYLLM_E_AUTHENTICATION, 403, "bedrock");
    nres_free(&o);
    json_decref(req);

    /* the environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION, then the bearer variable first */
    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_REGION", "ap-south-1", 1);
    req = nreq(&P, "echo", false);
    nrun(g_client, req, &o, "credentials from the environment");
    expect_text(&o, "You said: Hello there", "stop");
    nres_free(&o);
    setenv("AWS_BEARER_TOKEN_BEDROCK", API_KEY, 1);
    nrun(g_client, req, &o, "AWS_BEARER_TOKEN_BEDROCK");
    expect_text(&o, "You said: Hello there", "stop");
    json_t *sent = emu_last_request();
    CHECK(jpath(sent, "headers.x-amz-date") == NULL, "AWS_BEARER_TOKEN_BEDROCK: signed instead of the API key");
    json_decref(sent);
    nres_free(&o);
    unsetenv("AWS_BEARER_TOKEN_BEDROCK");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_REGION");

    /* nothing at all: MISSING_API_KEY before sending, naming the variables */
    req_client_arg(req, "max_retries", json_integer(0));
    nrun(g_client, req, &o, "no credentials");
    expect_error_full(&o, ANYLLM_E_MISSING_API_KEY, 0, "bedrock", false, -1, -1, NULL);
    const char *msg = jstr(o.r.j, "error.message");
    CHECK(msg && strstr(msg, "AWS_ACCESS_KEY_ID") && strstr(msg, "AWS_BEARER_TOKEN_BEDROCK"), "no credentials: message %s",
          or_null(msg));
    nres_free(&o);
    json_decref(req);
}

static void test_tools(void) {
    TEST("bedrock: tools (auto, required, named, none), streamed tool calls, a tool-result turn");
    const char *weather[] = {"get_weather"}, *rich[] = {WEATHER_RICH_ARGS}, *wargs[] = {WEATHER_ARGS};
    for (int stream = 0; stream < 2; stream++) {
        nres o;
        json_t *req = breq("echo", stream);
        json_object_set_new(req, "messages", json_string("What is the weather in Paris?"));
        json_object_set_new(req, "tools", json_pack("[o]", tool_weather_rich()));
        nrun(g_client, req, &o, stream ? "auto stream" : "auto");
        expect_calls(&o, 1, weather, rich);
        CHECK(starts_with(jstr(o.r.j, "choices[0].message.tool_calls[0].id"), "tooluse_"), "%s: id %s is not the toolUseId",
              o.where, or_null(jstr(o.r.j, "choices[0].message.tool_calls[0].id")));
        if (stream) {
            int frags = 0;
            size_t i, k;
            json_t *ch, *tc;
            json_array_foreach(o.c.chunks, i, ch) json_array_foreach(jpath(ch, "choices[0].delta.tool_calls"), k, tc) {
                const char *a = jstr(tc, "function.arguments");
                if (a && *a) frags++;
            }
            CHECK(frags >= 5, "%s: the arguments came in %d fragments", o.where, frags);
        }
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "toolConfig.tools[0].toolSpec.name"), "get_weather") &&
                  str_eq(jstr(body, "toolConfig.tools[0].toolSpec.inputSchema.json.type"), "object") &&
                  jpath(body, "toolConfig.toolChoice") == NULL,
              "%s: tools not sent as toolConfig.tools[].toolSpec", o.where);
        json_decref(body);
        nres_free(&o);

        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "tool_choice", named_choice("get_time"));
        nrun(g_client, req, &o, stream ? "named stream" : "named");
        const char *tname[] = {"get_time"}, *targs[] = {TIME_ARGS};
        expect_calls(&o, 1, tname, targs);
        body = last_body();
        CHECK(str_eq(jstr(body, "toolConfig.toolChoice.tool.name"), "get_time"), "%s: toolChoice not {tool: {name}}", o.where);
        json_decref(body);
        nres_free(&o);

        json_object_set_new(req, "tool_choice", json_string("required"));
        nrun(g_client, req, &o, stream ? "required stream" : "required");
        expect_calls(&o, 1, weather, wargs);
        body = last_body();
        CHECK(json_is_object(jpath(body, "toolConfig.toolChoice.any")), "%s: toolChoice not {any: {}}", o.where);
        json_decref(body);
        nres_free(&o);

        json_object_set_new(req, "tool_choice", json_string("none"));
        nrun(g_client, req, &o, stream ? "none stream" : "none");
        expect_text(&o, "You said: What is the weather in Paris?", "stop");
        body = last_body();
        CHECK(jpath(body, "toolConfig") == NULL, "%s: tools sent although tool_choice none", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        /* the tool-result turn: toolResult blocks of one user turn (a JSON result as a json block) */
        req = breq("echo", stream);
        json_object_set_new(req, "tools", tools_two());
        nreq_messages(req, tool_result_messages());
        nrun(g_client, req, &o, stream ? "tool results stream" : "tool results");
        expect_text(&o, "Tool results: 18C; {\"time\":\"12:00\"}", "stop");
        body = last_body();
        CHECK(json_array_size(jpath(body, "messages")) == 3 &&
                  str_eq(jstr(body, "messages[1].content[0].toolUse.toolUseId"), "call_w1") &&
                  str_eq(jstr(body, "messages[1].content[0].toolUse.input.city"), "Paris") &&
                  str_eq(jstr(body, "messages[2].content[0].toolResult.toolUseId"), "call_w1") &&
                  str_eq(jstr(body, "messages[2].content[0].toolResult.content[0].text"), "18C") &&
                  str_eq(jstr(body, "messages[2].content[1].toolResult.content[0].json.time"), "12:00"),
              "%s: tool turn not sent as toolUse / toolResult blocks", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }

    /* a real round trip with the ids the library returned */
    json_t *req = breq("parallel-tools", false);
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

static void test_structured_and_params(void) {
    TEST("bedrock: structured output (outputConfig, forced tool), inference parameters, model fields");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = breq(CLAUDE45, stream);
        json_object_set_new(req, "response_format", person_format());
        nres o;
        nrun(g_client, req, &o, stream ? "outputConfig stream" : "outputConfig");
        if (expect_ok(&o))
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), PERSON_JSON), "%s: content %s", o.where,
                  or_null(jstr(o.r.j, "choices[0].message.content")));
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "outputConfig.textFormat.type"), "json_schema") &&
                  jstr(body, "outputConfig.textFormat.structure.jsonSchema.schema") != NULL,
              "%s: no outputConfig.textFormat", o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);

        req = breq(CLAUDE, stream);
        json_object_set_new(req, "response_format", person_format());
        nrun(g_client, req, &o, stream ? "forced tool stream" : "forced tool");
        if (expect_ok(&o)) {
            CHECK(json_text_equal(jstr(o.r.j, "choices[0].message.content"), PERSON_JSON), "%s: content %s", o.where,
                  or_null(jstr(o.r.j, "choices[0].message.content")));
            CHECK(jpath(o.r.j, "choices[0].message.tool_calls") == NULL, "%s: json_response surfaced as a call", o.where);
            CHECK(str_eq(jstr(o.r.j, "choices[0].finish_reason"), "stop"), "%s: finish %s", o.where,
                  or_null(jstr(o.r.j, "choices[0].finish_reason")));
        }
        body = last_body();
        CHECK(str_eq(jstr(body, "toolConfig.toolChoice.tool.name"), "json_response"), "%s: no forced json_response tool",
              o.where);
        json_decref(body);
        nres_free(&o);
        json_decref(req);
    }

    json_t *req = breq("long-20", false);
    json_object_set_new(req, "max_tokens", json_integer(5));
    json_object_set_new(req, "temperature", json_real(0.5));
    json_object_set_new(req, "top_p", json_real(0.9));
    json_object_set_new(req, "stop", json_string("tok9"));
    json_object_set_new(req, "top_k", json_integer(7));
    nres o;
    nrun(g_client, req, &o, "max_tokens");
    expect_text(&o, "tok0 tok1 tok2 tok3 tok4 ", "length");
    json_t *body = last_body();
    CHECK(jint(body, "inferenceConfig.maxTokens", -1) == 5 && jnum(body, "inferenceConfig.temperature", -1) == 0.5 &&
              jnum(body, "inferenceConfig.topP", -1) == 0.9 && str_eq(jstr(body, "inferenceConfig.stopSequences[0]"), "tok9"),
          "inferenceConfig not {maxTokens, temperature, topP, stopSequences}");
    CHECK(jint(body, "additionalModelRequestFields.top_k", -1) == 7 && jpath(body, "top_k") == NULL,
          "top_k not sent in additionalModelRequestFields");
    json_decref(body);
    nres_free(&o);
    json_decref(req);

    /* an http image URL: Bedrock does not fetch URLs */
    req = breq_err("echo", false);
    nreq_messages(req, image_messages(IMAGE_HTTPS_URL));
    nrun(g_client, req, &o, "image URL");
    expect_error_full(&o, ANYLLM_E_UNSUPPORTED_PARAMETER, 0, "bedrock", false, -1, -1, NULL);
    nres_free(&o);
    nreq_messages(req, image_messages(PNG_DATA_URL));
    nrun(g_client, req, &o, "data URL image");
    expect_text(&o, "You said: What is in this image?", "stop");
    body = last_body();
    CHECK(str_eq(jstr(body, "messages[0].content[1].image.format"), "png") &&
              str_eq(jstr(body, "messages[0].content[1].image.source.bytes"), PNG_B64),
          "data URL not sent as an image block {format, source.bytes}");
    json_decref(body);
    nres_free(&o);
    json_decref(req);
}

static void test_reasoning(void) {
    TEST("bedrock: reasoning (Claude thinking), the signature sent back with the tool results");
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = breq(CLAUDE45, stream);
        json_object_set_new(req, "reasoning_effort", json_string("low"));
        json_object_set_new(req, "tools", tools_two());
        json_object_set_new(req, "messages", json_string("Weather in Paris?"));
        nres o;
        nrun(g_client, req, &o, stream ? "thinking + tool stream" : "thinking + tool");
        const char *weather[] = {"get_weather"}, *wargs[] = {WEATHER_ARGS};
        expect_calls(&o, 1, weather, wargs);
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), "Let me think about what the user said: Weather in Paris?"),
              "%s: reasoning %s", o.where, or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        const char *sig = jstr(o.r.j, "choices[0].message.reasoning.signature");
        CHECK(sig && strlen(sig) > 20, "%s: no reasoning.signature", o.where);
        json_t *body = last_body();
        CHECK(str_eq(jstr(body, "additionalModelRequestFields.thinking.type"), "enabled") &&
                  jint(body, "additionalModelRequestFields.thinking.budget_tokens", -1) == 2048 &&
                  jint(body, "inferenceConfig.maxTokens", -1) == 4096 + 2048,
              "%s: thinking not {enabled, 2048} with maxTokens 4096 + 2048", o.where);
        json_decref(body);
        if (expect_ok(&o) && sig) {
            char *sigcopy = strdup(sig);
            json_t *msgs = json_pack("[{s:s}, o, o]", "role", "user", assistant_of(&o), tool_answer(&o, 0, "sunny"));
            json_object_set_new(json_array_get(msgs, 0), "content", json_string("Weather in Paris?"));
            nres_free(&o);
            nreq_messages(req, msgs);
            nrun(g_client, req, &o, stream ? "thinking round trip stream" : "thinking round trip");
            expect_text(&o, "Tool results: sunny", "stop");
            body = last_body();
            CHECK(str_eq(jstr(body, "messages[1].content[0].reasoningContent.reasoningText.signature"), sigcopy),
                  "%s: the signed reasoning was not sent back first in the assistant turn", o.where);
            json_decref(body);
            free(sigcopy);
        }
        nres_free(&o);
        json_decref(req);

        /* the emulator's reasoning model */
        req = breq("reasoning", stream);
        nrun(g_client, req, &o, stream ? "reasoning model stream" : "reasoning model");
        expect_text(&o, "You said: Hello there", "stop");
        CHECK(str_eq(jstr(o.r.j, "choices[0].message.reasoning.content"), REASONING_TEXT), "%s: reasoning %s", o.where,
              or_null(jstr(o.r.j, "choices[0].message.reasoning.content")));
        nres_free(&o);
        json_decref(req);
    }
}

static void err_both(const char *model, anyllm_status st, int http) {
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = breq_err(model, stream);
        char what[160];
        snprintf(what, sizeof what, "%s%s", model, stream ? " (stream)" : "");
        nres o;
        nrun(g_client, req, &o, what);
        expect_http_error(&o, st, http, "bedrock");
        CHECK(jstr(o.r.j, "error.provider_error.message") != NULL, "%s: provider_error.message missing", what);
        CHECK(jint(o.r.j, "error.attempts", 1) == 1, "%s: %lld attempts with max_retries 0", what, jint(o.r.j, "error.attempts", 1));
        nres_free(&o);
        json_decref(req);
    }
}

static void test_errors(void) {
    TEST("bedrock: typed errors (throttling, validation, wrong secret, mid-stream exceptions, bad CRC)");
    err_both("throttling", ANYLLM_E_RATE_LIMIT, 429);
    err_both("context-length", ANYLLM_E_CONTEXT_LENGTH, 400);
    err_both("status-400", ANYLLM_E_INVALID_REQUEST, 400);
    err_both("access-denied", ANYLLM_E_PERMISSION, 403);
    err_both("status-404", ANYLLM_E_NOT_FOUND, 404);
    err_both("model-timeout", ANYLLM_E_TIMEOUT, 408);
    err_both("unavailable", ANYLLM_E_PROVIDER, 503);
    err_both("status-500", ANYLLM_E_PROVIDER, 500);

    nres o;
    json_t *req = breq_err("throttling", false);
    nrun(g_client, req, &o, "ThrottlingException type");
    CHECK(str_eq(jstr(o.r.j, "error.error_type"), "ThrottlingException"), "error_type %s", or_null(jstr(o.r.j, "error.error_type")));
    nres_free(&o);
    json_decref(req);

    /* a validation failure the emulator finds in the request: temperature above Bedrock's 1 */
    req = breq_err("echo", false);
    json_object_set_new(req, "temperature", json_real(1.5));
    nrun(g_client, req, &o, "temperature 1.5");
    expect_http_error(&o, ANYLLM_E_INVALID_REQUEST, 400, "bedrock");
    const char *msg = jstr(o.r.j, "error.message");
    CHECK(msg && strstr(msg, "inferenceConfig.temperature"), "temperature 1.5: message %s", or_null(msg));
    nres_free(&o);
    json_decref(req);

    /* a wrong secret: AWS's signature mismatch, never the secret in the error */
    const char *wrong = "wrong/secret+EXAMPLEKEY0123456789abcdef";
    add_secret(wrong);
    for (int stream = 0; stream < 2; stream++) {
        req = breq_err("echo", stream);
        json_object_set_new(req, "aws_secret_access_key", json_string(wrong));
        nrun(g_client, req, &o, stream ? "wrong secret stream" : "wrong secret");
        expect_http_error(&o, ANYLLM_E_AUTHENTICATION, 403, "bedrock");
        msg = jstr(o.r.j, "error.message");
        CHECK(msg && strstr(msg, "signature we calculated does not match"), "%s: message %s", o.where, or_null(msg));
        CHECK(!strstr(o.r.raw, wrong) && !strstr(o.r.raw, SECRET), "%s: a secret in the error", o.where);
        nres_free(&o);
        json_decref(req);
    }
    req = breq_err("echo", false);
    json_object_set_new(req, "api_key", json_string("bedrock-api-key-bad-0123456789"));
    add_secret("bedrock-api-key-bad-0123456789");
    nrun(g_client, req, &o, "bad API key");
    expect_http_error(&o, ANYLLM_E_AUTHENTICATION, 403, "bedrock");
    nres_free(&o);
    json_decref(req);

    /* exception frames mid-stream: the typed error, with what came before as the partial */
    struct { const char *model; anyllm_status st; } mid[] = {
        {"stream-throttling", ANYLLM_E_RATE_LIMIT}, {"stream-validation", ANYLLM_E_CONTEXT_LENGTH},
        {"error-event", ANYLLM_E_PROVIDER}, {"stream-internal", ANYLLM_E_PROVIDER}, {"bad-crc", ANYLLM_E_PROVIDER}};
    for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++) {
        req = breq_err(mid[i].model, true);
        nrun(g_client, req, &o, mid[i].model);
        expect_error_full(&o, mid[i].st, 0, "bedrock", i < 4, -1, -1, "You said: ");
        if (i == 4) {
            msg = jstr(o.r.j, "error.message");
            CHECK(msg && strstr(msg, "CRC"), "bad-crc: message %s", or_null(msg));
        }
        nres_free(&o);
        json_decref(req);
    }

    /* the connection cut, and bodies that are not the protocol */
    for (int stream = 1; stream >= 0; stream--) {
        req = breq_err("drop-after-3", stream);
        nrun(g_client, req, &o, stream ? "drop-after-3 stream" : "drop-after-3");
        expect_error_full(&o, ANYLLM_E_CONNECTION, 0, "bedrock", false, -1, -1, stream ? "tok0 tok1 tok2 " : NULL);
        nres_free(&o);
        json_decref(req);
        req = breq_err("garbage", stream);
        nrun(g_client, req, &o, stream ? "garbage stream" : "garbage");
        expect_error_full(&o, ANYLLM_E_PROVIDER, 0, "bedrock", !stream, -1, -1, NULL);
        nres_free(&o);
        json_decref(req);
    }

    /* retried: a 500 once, and ModelNotReadyException (a 429 that is not a rate limit) */
    req = breq("flaky-1-bedrock", false);
    req_client_arg(req, "max_retries", json_integer(1));
    nrun(g_client, req, &o, "flaky-1 with one retry");
    expect_text(&o, "You said: Hello there", "stop");
    nres_free(&o);
    json_decref(req);
    req = breq("not-ready", false);
    req_client_arg(req, "max_retries", json_integer(1));
    nrun(g_client, req, &o, "not-ready, one retry");
    expect_http_error(&o, ANYLLM_E_PROVIDER, 429, "bedrock");
    CHECK(jint(o.r.j, "error.attempts", -1) == 2, "not-ready: %lld attempts, want 2 (retried)", jint(o.r.j, "error.attempts", -1));
    nres_free(&o);
    json_decref(req);
}

static void test_delivery(void) {
    TEST("bedrock: frames split at every byte, long streams");
    nres o;
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = breq("split-utf8", stream);
        nrun(g_client, req, &o, stream ? "split-utf8 stream" : "split-utf8");
        expect_text(&o, SPLIT_UTF8, "stop");
        nres_free(&o);
        json_decref(req);
    }
    int n = scaled(400, 40);
    char model[32];
    snprintf(model, sizeof model, "long-%d", n);
    char *want = tokens_text(n);
    json_t *req = breq(model, true);
    nrun(g_client, req, &o, model);
    expect_text(&o, want, "stop");
    expect_usage(o.r.j, o.where, 2, n);
    nres_free(&o);
    json_decref(req);
    free(want);
}

int main(void) {
    test_setup();
    add_secret(SECRET);
    add_secret(SESSION_TOKEN);
    add_secret(API_KEY);
    g_client = anyllm_client_new(NULL, NULL);
    double t0 = now_s();
    test_signed_text();
    test_auth_forms();
    test_tools();
    test_structured_and_params();
    test_reasoning();
    test_errors();
    test_delivery();
    fprintf(stderr, "test_bedrock: %.1f s\n", now_s() - t0);
    anyllm_client_free(g_client);
    return test_teardown();
}
