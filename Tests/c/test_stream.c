/*
 * test_stream — streamed completions: on_chunk gets one valid ChatCompletionChunk per event (NUL-terminated,
 * len correct), the aggregated result equals the concatenated deltas, usage arrives, tool calls stream and
 * aggregate, and unusual but legal framings (split UTF-8, CRLF, CR, SSE quirks, 1000 chunks) decode the same.
 */
#include "util.h"

static anyllm_client *g_client;

static json_t *stream_req(const char *model) {
    json_t *req = req_new(model);
    json_object_set_new(req, "stream", json_true());
    return req;
}

/* Runs a streamed request into a fresh collector; checks OK and that the result's content equals the
 * concatenated deltas. */
static bool run_stream(json_t *req, collector *c, result *r, const char *what) {
    collector_init(c);
    run_req(g_client, req, collect_chunk, c, r);
    bool ok = CHECK(r->st == ANYLLM_OK, "%s: status %d: %.400s", what, r->st, or_null(r->raw));
    CHECK(c->bad == 0, "%s: %d malformed chunks", what, c->bad);
    CHECK(c->count > 0, "%s: on_chunk was never called", what);
    CHECK(pthread_equal(c->thread, pthread_self()), "%s: on_chunk of a blocking call ran on another thread", what);
    const char *content = jstr(r->j, "choices[0].message.content");
    if (c->content_len > 0)
        CHECK(str_eq(content, c->content), "%s: aggregated content \"%s\" != concatenated deltas \"%s\"", what,
              or_null(content), c->content);
    CHECK(str_eq(jstr(r->j, "id"), c->first_id), "%s: result id %s != chunk id %s", what, or_null(jstr(r->j, "id")), c->first_id);
    return ok;
}

static void test_basic_stream(void) {
    TEST("basic stream");
    json_t *req = stream_req("openai:gpt-4o-mini");
    collector c;
    result r;
    run_stream(req, &c, &r, "basic");
    /* role chunk, 4 content pieces ("You ", "said: ", "Hello ", "there"), finish chunk, usage chunk */
    CHECK(c.count == 7, "%d chunks, want 7", c.count);
    CHECK(str_eq(c.content, "You said: Hello there"), "deltas \"%s\"", c.content);
    CHECK(str_eq(jstr(r.j, "choices[0].message.role"), "assistant"), "role %s", or_null(jstr(r.j, "choices[0].message.role")));
    CHECK(str_eq(jstr(r.j, "choices[0].finish_reason"), "stop"), "finish_reason %s", or_null(jstr(r.j, "choices[0].finish_reason")));
    CHECK(str_eq(jstr(r.j, "model"), "gpt-4o-mini"), "model %s", or_null(jstr(r.j, "model")));
    CHECK(json_is_integer(jpath(r.j, "created")), "created missing");
    CHECK(jint(r.j, "usage.prompt_tokens", -1) == 2, "prompt_tokens %lld", jint(r.j, "usage.prompt_tokens", -1));
    CHECK(jint(r.j, "usage.completion_tokens", -1) == 4, "completion_tokens %lld", jint(r.j, "usage.completion_tokens", -1));
    CHECK(jint(r.j, "usage.total_tokens", -1) == 6, "total_tokens %lld", jint(r.j, "usage.total_tokens", -1));
    json_t *first = json_array_get(c.chunks, 0), *last = json_array_get(c.chunks, json_array_size(c.chunks) - 1);
    CHECK(str_eq(jstr(first, "choices[0].delta.role"), "assistant"), "first chunk has no role");
    CHECK(json_array_size(jpath(last, "choices")) == 0 && jint(last, "usage.completion_tokens", -1) == 4,
          "the last chunk is not the usage chunk");
    CHECK(str_eq(jstr(json_array_get(c.chunks, 5), "choices[0].finish_reason"), "stop"), "chunk 6 has no finish_reason");

    json_t *sent = emu_last_request();
    CHECK(json_is_true(jpath(sent, "body.stream")), "stream: true not sent");
    CHECK(json_is_true(jpath(sent, "body.stream_options.include_usage")), "stream_options.include_usage not added");
    CHECK(starts_with(jstr(sent, "headers.accept"), "text/event-stream"), "Accept %s", or_null(jstr(sent, "headers.accept")));
    json_decref(sent);
    collector_free(&c);
    res_free(&r);

    /* the caller's stream_options are kept (and include_usage added) */
    json_object_set_new(req, "stream_options", json_pack("{s:b}", "include_obfuscation", 0));
    run_stream(req, &c, &r, "stream_options given");
    sent = emu_last_request();
    CHECK(json_is_false(jpath(sent, "body.stream_options.include_obfuscation")), "the caller's stream_options were dropped");
    CHECK(json_is_true(jpath(sent, "body.stream_options.include_usage")), "include_usage not added to given stream_options");
    CHECK(jint(r.j, "usage.completion_tokens", -1) == 4, "usage missing");
    json_decref(sent);
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* a provider without stream_options support (mistral) gets none */
    req = stream_req("mistral:mistral-small-latest");
    run_stream(req, &c, &r, "mistral");
    sent = emu_last_request();
    CHECK(str_eq(jstr(sent, "body.model"), "mistral-small-latest"), "mistral request not seen");
    CHECK(jpath(sent, "body.stream_options") == NULL, "mistral got stream_options");
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: Hello there"), "mistral content");
    json_decref(sent);
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* a stream without on_chunk still aggregates */
    req = stream_req("openai:gpt-4o-mini");
    run_req(g_client, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK, "stream without on_chunk: status %d", r.st);
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "You said: Hello there"), "content without on_chunk: %s",
          or_null(jstr(r.j, "choices[0].message.content")));
    CHECK(jint(r.j, "usage.completion_tokens", -1) == 4, "usage without on_chunk");
    res_free(&r);
    /* and through the default client */
    collector_init(&c);
    run_req(NULL, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_OK && c.count == 7 && str_eq(c.content, "You said: Hello there"),
          "default client stream: status %d, %d chunks, \"%s\"", r.st, c.count, c.content);
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

static void test_stream_tools(void) {
    TEST("streamed tool calls");
    json_t *req = stream_req("openai:parallel-tools");
    json_object_set_new(req, "messages", json_string("Weather and time in Paris?"));
    json_object_set_new(req, "tools",
                        json_pack("[{s:s, s:{s:s, s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}}}}, {s:s, s:{s:s, s:{s:s, s:{s:{s:s, s:[s,s]}}}}}]",
                                  "type", "function", "function", "name", "get_weather", "parameters", "type", "object",
                                  "properties", "city", "type", "string", "days", "type", "integer", "metric", "type", "boolean",
                                  "type", "function", "function", "name", "get_time", "parameters", "type", "object",
                                  "properties", "tz", "type", "string", "enum", "Europe/Paris", "UTC"));
    collector c;
    result r;
    run_stream(req, &c, &r, "parallel tools");
    json_t *calls = jpath(r.j, "choices[0].message.tool_calls");
    CHECK(json_array_size(calls) == 2, "%zu tool calls, want 2", json_array_size(calls));
    CHECK(str_eq(jstr(r.j, "choices[0].finish_reason"), "tool_calls"), "finish_reason %s", or_null(jstr(r.j, "choices[0].finish_reason")));
    CHECK(json_is_null(jpath(r.j, "choices[0].message.content")) || str_eq(jstr(r.j, "choices[0].message.content"), ""),
          "content should be empty with tool calls");
    const char *names[2] = {"get_weather", "get_time"};
    json_t *want[2] = {json_pack("{s:s, s:i, s:b}", "city", "Paris", "days", 42, "metric", 1), json_pack("{s:s}", "tz", "Europe/Paris")};
    for (int i = 0; i < 2; i++) {
        json_t *call = json_array_get(calls, (size_t)i);
        CHECK(str_eq(jstr(call, "function.name"), names[i]), "call %d name %s", i, or_null(jstr(call, "function.name")));
        CHECK(starts_with(jstr(call, "id"), "call_"), "call %d id %s", i, or_null(jstr(call, "id")));
        CHECK(str_eq(jstr(call, "type"), "function"), "call %d type", i);
        const char *args = jstr(call, "function.arguments");
        json_t *parsed = jparse(args);
        CHECK(json_equal(parsed, want[i]), "call %d arguments %s", i, or_null(args));
        json_decref(parsed);
        const char *chunk_name = NULL;
        char *from_chunks = collector_tool_args(&c, i, &chunk_name);
        CHECK(str_eq(from_chunks, args), "call %d: aggregated arguments %s != concatenated fragments %s", i, or_null(args), from_chunks);
        CHECK(str_eq(chunk_name, names[i]), "call %d: chunk name %s", i, or_null(chunk_name));
        free(from_chunks);
        json_decref(want[i]);
    }
    /* more than two chunks carried argument fragments: they really were streamed in pieces */
    int fragment_chunks = 0;
    size_t k;
    json_t *ch;
    json_array_foreach(c.chunks, k, ch) {
        if (jpath(ch, "choices[0].delta.tool_calls") && !jstr(ch, "choices[0].delta.tool_calls[0].id")) fragment_chunks++;
    }
    CHECK(fragment_chunks >= 4, "only %d argument fragment chunks", fragment_chunks);
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

static void expect_echo_stream(const char *model, const char *content, const char *what) {
    json_t *req = stream_req(model);
    collector c;
    result r;
    run_stream(req, &c, &r, what);
    CHECK(str_eq(c.content, content), "%s: deltas \"%s\", want \"%s\"", what, c.content, content);
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), content), "%s: content %s", what, or_null(jstr(r.j, "choices[0].message.content")));
    CHECK(str_eq(jstr(r.j, "choices[0].finish_reason"), "stop"), "%s: finish_reason %s", what, or_null(jstr(r.j, "choices[0].finish_reason")));
    CHECK(jint(r.j, "usage.prompt_tokens", -1) == 2, "%s: usage.prompt_tokens %lld", what, jint(r.j, "usage.prompt_tokens", -1));
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

static void test_framings(void) {
    TEST("split UTF-8, CRLF, CR, SSE quirks");
    expect_echo_stream("openai:split-utf8", "héllo wörld — 你好 👋 ok", "split-utf8");
    expect_echo_stream("openai:sse-crlf", "You said: Hello there", "sse-crlf");
    expect_echo_stream("openai:sse-cr", "You said: Hello there", "sse-cr");
    expect_echo_stream("openai:sse-quirks", "You said: Hello there", "sse-quirks");

    /* the same framings, non-streamed, where they apply */
    json_t *req = req_new("openai:split-utf8");
    result r;
    run_req(g_client, req, NULL, NULL, &r);
    CHECK(r.st == ANYLLM_OK && str_eq(jstr(r.j, "choices[0].message.content"), "héllo wörld — 你好 👋 ok"),
          "split-utf8 non-streamed: %d %s", r.st, or_null(r.raw));
    res_free(&r);
    json_decref(req);
}

static void test_long_stream(void) {
    TEST("long stream");
    int n = scaled(1000, 200);
    char model[32];
    snprintf(model, sizeof model, "openai:long-%d", n);
    json_t *req = stream_req(model);
    collector c;
    result r;
    double t0 = now_s();
    run_stream(req, &c, &r, "long");
    double secs = now_s() - t0;
    CHECK(c.count == n + 3, "%d chunks, want %d (role + %d + finish + usage)", c.count, n + 3, n);
    char *want = tokens_text(n);
    CHECK(str_eq(c.content, want), "long-%d deltas differ", n);
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), want), "long-%d aggregate differs", n);
    CHECK(jint(r.j, "usage.completion_tokens", -1) == n, "completion_tokens %lld", jint(r.j, "usage.completion_tokens", -1));
    fprintf(stderr, "     %d chunks in %.3f s\n", c.count, secs);
    free(want);
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

static void test_special_streams(void) {
    TEST("reasoning, length, content-filter, stall streams");
    json_t *req = stream_req("openai:reasoning");
    collector c;
    result r;
    run_stream(req, &c, &r, "reasoning");
    CHECK(str_eq(jstr(r.j, "choices[0].message.reasoning.content"), "Let me think about what the user said: Hello there"),
          "reasoning %s", or_null(jstr(r.j, "choices[0].message.reasoning.content")));
    CHECK(str_eq(c.content, "You said: Hello there"), "reasoning content \"%s\"", c.content);
    /* the chunks carry the reasoning too, so that a caller can show it as it streams */
    char reasoning[1024] = "";
    size_t k;
    json_t *ch;
    json_array_foreach(c.chunks, k, ch) {
        json_t *d = jpath(ch, "choices[0].delta");
        const char *piece = jstr(d, "reasoning.content");
        if (!piece) piece = jstr(d, "reasoning_content");
        if (!piece) piece = jstr(d, "reasoning");
        if (piece && strlen(reasoning) + strlen(piece) < sizeof reasoning) strcat(reasoning, piece);
    }
    CHECK(str_eq(jstr(r.j, "choices[0].message.reasoning.content"), reasoning), "reasoning from chunks \"%s\" != aggregated %s",
          reasoning, or_null(jstr(r.j, "choices[0].message.reasoning.content")));
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    req = stream_req("openai:length");
    run_stream(req, &c, &r, "length");
    CHECK(str_eq(jstr(r.j, "choices[0].finish_reason"), "length"), "finish_reason %s", or_null(jstr(r.j, "choices[0].finish_reason")));
    CHECK(str_eq(c.content, "truncated"), "content \"%s\"", c.content);
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* streamed content filter: a normal stream whose finish_reason says content_filter */
    req = stream_req("openai:content-filter");
    run_stream(req, &c, &r, "content-filter");
    CHECK(str_eq(jstr(r.j, "choices[0].finish_reason"), "content_filter"), "finish_reason %s",
          or_null(jstr(r.j, "choices[0].finish_reason")));
    CHECK(str_eq(c.content, "You "), "content \"%s\"", c.content);
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* 300 ms of silence is fine with the default read timeout */
    req = stream_req("openai:stall-300");
    run_stream(req, &c, &r, "stall-300");
    CHECK(str_eq(c.content, "You said: Hello there"), "content \"%s\"", c.content);
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

static void test_cancel_from_callback(void) {
    TEST("on_chunk returning non-zero cancels");
    json_t *req = stream_req("openai:long-50");
    collector c;
    collector_init(&c);
    c.cancel_at = 3; /* role chunk, "tok0 ", "tok1 " → stop */
    result r;
    run_req(g_client, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_E_CANCELLED, "status %d, want CANCELLED: %.300s", r.st, or_null(r.raw));
    CHECK(c.count == 3, "on_chunk called %d times, want 3 (never again after it returned non-zero)", c.count);
    CHECK(c.after_cancel == 0, "%d chunks after cancel", c.after_cancel);
    CHECK(json_is_object(jpath(r.j, "error.partial")), "no partial in the error: %.300s", or_null(r.raw));
    CHECK(str_eq(jstr(r.j, "error.partial.choices[0].message.content"), "tok0 tok1 "), "partial content %s",
          or_null(jstr(r.j, "error.partial.choices[0].message.content")));
    collector_free(&c);
    res_free(&r);

    /* cancel at the very first chunk */
    collector_init(&c);
    c.cancel_at = 1;
    run_req(g_client, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_E_CANCELLED && c.count == 1, "cancel at chunk 1: status %d, %d chunks", r.st, c.count);
    collector_free(&c);
    res_free(&r);

    /* the client still works afterwards */
    collector_init(&c);
    run_req(g_client, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_OK && c.count == 53, "after cancels: status %d, %d chunks", r.st, c.count);
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    test_basic_stream();
    test_stream_tools();
    test_framings();
    test_long_stream();
    test_special_streams();
    test_cancel_from_callback();
    anyllm_client_free(g_client);
    return test_teardown();
}
