/*
 * native_util.h — helpers shared by the C tests of the native wire protocols (test_anthropic, test_gemini,
 * test_ollama): requests aimed at the emulator's native paths, a runner that checks every streamed call's chunks
 * against its aggregated result, and expectation helpers for text, usage, tool calls and typed errors.
 *
 *   nproto P = {"anthropic", true, false};         provider, sends api_key, Vertex AI keys
 *   json_t *req = nreq(&P, "echo", stream);        {"model": "anthropic:echo", messages, api_base, api_key, ...}
 *   nres o; nrun(g_client, req, &o, "what");       anyllm_completion + util.h's output invariants + stream checks
 *   expect_text(&o, "what", "You said: ...", "stop"); expect_usage(o.r.j, "what", 2, 4);
 *   nres_free(&o);
 *
 * Header-only (every test is its own executable); functions are static inline so that a test that does not use
 * one gets no warning.
 */
#ifndef ANYLLM_TEST_NATIVE_UTIL_H
#define ANYLLM_TEST_NATIVE_UTIL_H

#include "util.h"

#include <math.h>

/* A 1x1 PNG. */
#define PNG_B64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
#define PNG_DATA_URL "data:image/png;base64," PNG_B64
#define IMAGE_HTTPS_URL "https://upload.wikimedia.org/wikipedia/commons/4/47/PNG_transparency_demonstration_1.png"

typedef struct nproto {
    const char *provider; /* the provider prefix of the model string: anthropic, gemini, vertexai, ollama */
    bool key;             /* send "api_key" */
    bool vertex;          /* add vertex_project / vertex_location */
} nproto;

#define VERTEX_PROJECT "anyllm-test-project"
#define VERTEX_LOCATION "europe-west4"

/* {"model": "<provider>:<model>", "messages": [user "Hello there"], "api_base": <emulator>, ...}. */
static inline json_t *nreq(const nproto *p, const char *model, bool stream) {
    char full[512];
    snprintf(full, sizeof full, "%s:%s", p->provider, model);
    json_t *req = json_pack("{s:s, s:[{s:s, s:s}], s:s}", "model", full, "messages", "role", "user", "content",
                            "Hello there", "api_base", g_emu.url);
    if (p->key) json_object_set_new(req, "api_key", json_string(TEST_KEY));
    if (p->vertex) {
        json_object_set_new(req, "vertex_project", json_string(VERTEX_PROJECT));
        json_object_set_new(req, "vertex_location", json_string(VERTEX_LOCATION));
    }
    if (stream) json_object_set_new(req, "stream", json_true());
    return req;
}

/* Sets req.messages (stealing msgs). */
static inline void nreq_messages(json_t *req, json_t *msgs) { json_object_set_new(req, "messages", msgs); }

/* A request for error tests: no retries, so that a scripted failure answers at once. */
static inline json_t *nreq_err(const nproto *p, const char *model, bool stream) {
    json_t *req = nreq(p, model, stream);
    req_client_arg(req, "max_retries", json_integer(0));
    return req;
}

/* ---- running -------------------------------------------------------------------------------------------------- */

typedef struct nres {
    result r;
    collector c;
    bool stream;
    char where[512];
} nres;

static inline void nres_free(nres *o) {
    res_free(&o->r);
    collector_free(&o->c);
}

/* The concatenated choices[0].delta.reasoning.content of the chunks (malloc'd); *pieces = chunks carrying some. */
static inline char *chunks_reasoning(collector *c, int *pieces) {
    char *out = calloc(1, 1);
    size_t len = 0, i;
    json_t *ch;
    if (pieces) *pieces = 0;
    json_array_foreach(c->chunks, i, ch) {
        const char *s = jstr(ch, "choices[0].delta.reasoning.content");
        if (!s || !*s) continue;
        if (pieces) (*pieces)++;
        out = realloc(out, len + strlen(s) + 1);
        memcpy(out + len, s, strlen(s) + 1);
        len += strlen(s);
    }
    return out;
}

/* Two JSON texts that parse to equal values (NULL texts never match). */
static inline bool json_text_equal(const char *a, const char *b) {
    json_t *ja = jparse(a), *jb = jparse(b);
    bool eq = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return eq;
}

/* What a stream's chunks must agree on with its aggregated result, and the chunk invariants of the OpenAI shape:
 * the first chunk carries role "assistant"; content, reasoning and every tool call (id, name, arguments) of the
 * result are what the deltas add up to; each tool call keeps one index (0, 1, ... in order) and one id; exactly one
 * chunk has a finish_reason, the result's; usage comes in the last chunk and equals the result's. */
static inline void check_stream_chunks(nres *o) {
    const char *w = o->where;
    collector *c = &o->c;
    json_t *res = o->r.j;
    CHECK(c->bad == 0, "%s: %d malformed chunks", w, c->bad);
    if (!CHECK(c->count >= 2, "%s: only %d chunks for a stream", w, c->count)) return;
    CHECK(pthread_equal(c->thread, pthread_self()), "%s: on_chunk of a blocking call ran on another thread", w);
    json_t *first = json_array_get(c->chunks, 0);
    CHECK(str_eq(jstr(first, "choices[0].delta.role"), "assistant"), "%s: the first chunk has no role assistant: %s", w,
          or_null(jstr(first, "choices[0].delta.role")));
    CHECK(str_eq(jstr(res, "id"), c->first_id), "%s: result id %s != chunk id %s", w, or_null(jstr(res, "id")), c->first_id);

    const char *content = jstr(res, "choices[0].message.content");
    CHECK(str_eq(c->content, content ? content : ""), "%s: deltas add up to \"%.200s\", the result says \"%.200s\"", w,
          c->content, or_null(content));
    char *reasoning = chunks_reasoning(c, NULL);
    const char *rr = jstr(res, "choices[0].message.reasoning.content");
    CHECK(str_eq(reasoning, rr ? rr : ""), "%s: reasoning deltas \"%.200s\", the result says \"%.200s\"", w, reasoning,
          or_null(rr));
    free(reasoning);

    /* finish_reason: once, the result's */
    int finishes = 0;
    const char *finish = NULL;
    size_t i, k;
    json_t *ch, *tc;
    json_array_foreach(c->chunks, i, ch) {
        const char *f = jstr(ch, "choices[0].finish_reason");
        if (f) {
            finishes++;
            finish = f;
        }
    }
    CHECK(finishes == 1, "%s: %d chunks with a finish_reason, want 1", w, finishes);
    CHECK(str_eq(finish, jstr(res, "choices[0].finish_reason")), "%s: chunk finish_reason %s, result %s", w, or_null(finish),
          or_null(jstr(res, "choices[0].finish_reason")));

    /* usage: in the last chunk, equal to the result's */
    json_t *last = json_array_get(c->chunks, json_array_size(c->chunks) - 1);
    CHECK(json_is_object(jpath(last, "usage")) && json_equal(jpath(last, "usage"), jpath(res, "usage")),
          "%s: the last chunk's usage differs from the result's (or is missing)", w);

    /* tool calls: stable index and id per call, indexes 0..n-1 in order of first appearance */
    enum { MAXC = 16 };
    const char *ids[MAXC] = {0}, *names[MAXC] = {0};
    int ncalls = 0, bad_index = 0;
    json_array_foreach(c->chunks, i, ch) {
        json_array_foreach(jpath(ch, "choices[0].delta.tool_calls"), k, tc) {
            json_t *ix = json_object_get(tc, "index");
            if (!json_is_integer(ix)) {
                bad_index++;
                continue;
            }
            long long x = json_integer_value(ix);
            if (x < 0 || x >= MAXC || x > ncalls) {
                bad_index++;
                continue;
            }
            const char *id = jstr(tc, "id"), *name = jstr(tc, "function.name");
            if (x == ncalls) {
                ncalls++;
                CHECK(id && *id, "%s: the first delta of tool call %lld has no id", w, x);
                CHECK(name && *name, "%s: the first delta of tool call %lld has no name", w, x);
                ids[x] = id;
                names[x] = name;
            } else {
                CHECK(!id || !*id || str_eq(id, ids[x]), "%s: tool call index %lld changed id from %s to %s", w, x,
                      or_null(ids[x]), id);
                CHECK(!name || !*name || str_eq(name, names[x]), "%s: tool call index %lld changed name from %s to %s", w,
                      x, or_null(names[x]), name);
            }
        }
    }
    CHECK(bad_index == 0, "%s: %d tool-call deltas without a valid index (0..n, in order)", w, bad_index);
    json_t *calls = jpath(res, "choices[0].message.tool_calls");
    CHECK((int)json_array_size(calls) == ncalls, "%s: %d tool calls in the chunks, %zu in the result", w, ncalls,
          json_array_size(calls));
    for (int x = 0; x < ncalls && x < (int)json_array_size(calls); x++) {
        json_t *call = json_array_get(calls, (size_t)x);
        const char *cname = NULL;
        char *args = collector_tool_args(c, x, &cname);
        CHECK(str_eq(jstr(call, "id"), ids[x]), "%s: tool call %d id %s in the result, %s in the chunks", w, x,
              or_null(jstr(call, "id")), or_null(ids[x]));
        CHECK(str_eq(jstr(call, "function.name"), names[x]), "%s: tool call %d name %s in the result, %s in the chunks",
              w, x, or_null(jstr(call, "function.name")), or_null(names[x]));
        const char *ra = jstr(call, "function.arguments");
        CHECK(json_text_equal(*args ? args : "{}", ra), "%s: tool call %d arguments from the chunks %s, result %s", w, x,
              args, or_null(ra));
        free(args);
    }
}

/* Runs the request (on_chunk always given: a non-streamed call must never call it), checks util.h's output
 * invariants and, for a successful stream, check_stream_chunks. */
static inline anyllm_status nrun(anyllm_client *client, json_t *req, nres *o, const char *where) {
    memset(o, 0, sizeof *o);
    snprintf(o->where, sizeof o->where, "%s", where);
    o->stream = json_is_true(json_object_get(req, "stream"));
    collector_init(&o->c);
    run_req(client, req, collect_chunk, &o->c, &o->r);
    if (!o->stream) CHECK(o->c.count == 0, "%s: on_chunk called %d times for a non-streamed call", where, o->c.count);
    else if (o->r.st == ANYLLM_OK) check_stream_chunks(o);
    return o->r.st;
}

/* ---- expectations --------------------------------------------------------------------------------------------- */

static inline bool expect_ok(nres *o) {
    return CHECK(o->r.st == ANYLLM_OK, "%s: status %d (%s): %.500s", o->where, o->r.st, status_type(o->r.st),
                 or_null(o->r.raw));
}

/* OK, content (NULL: expect JSON null), finish_reason, role assistant, id and created present. */
static inline void expect_text(nres *o, const char *content, const char *finish) {
    const char *w = o->where;
    if (!expect_ok(o)) return;
    json_t *j = o->r.j;
    if (content) {
        CHECK(str_eq(jstr(j, "choices[0].message.content"), content), "%s: content \"%.300s\", want \"%s\"", w,
              or_null(jstr(j, "choices[0].message.content")), content);
    } else {
        CHECK(json_is_null(jpath(j, "choices[0].message.content")), "%s: content is not null: %.200s", w,
              or_null(jstr(j, "choices[0].message.content")));
    }
    if (finish)
        CHECK(str_eq(jstr(j, "choices[0].finish_reason"), finish), "%s: finish_reason %s, want %s", w,
              or_null(jstr(j, "choices[0].finish_reason")), finish);
    CHECK(str_eq(jstr(j, "choices[0].message.role"), "assistant"), "%s: role %s", w, or_null(jstr(j, "choices[0].message.role")));
    CHECK(jstr(j, "id") && *jstr(j, "id"), "%s: no id", w);
    CHECK(json_is_integer(jpath(j, "created")) && jint(j, "created", 0) > 1600000000, "%s: created missing or bogus", w);
    CHECK(json_array_size(jpath(j, "choices")) >= 1 && jint(j, "choices[0].index", -1) == 0, "%s: choices[0].index", w);
}

/* usage: prompt and completion as given (-1: any value > 0), total = prompt + completion. */
static inline void expect_usage(json_t *j, const char *w, long long prompt, long long completion) {
    long long p = jint(j, "usage.prompt_tokens", -1), c = jint(j, "usage.completion_tokens", -1),
              t = jint(j, "usage.total_tokens", -1);
    if (prompt >= 0) CHECK(p == prompt, "%s: prompt_tokens %lld, want %lld", w, p, prompt);
    else CHECK(p > 0, "%s: prompt_tokens %lld", w, p);
    if (completion >= 0) CHECK(c == completion, "%s: completion_tokens %lld, want %lld", w, c, completion);
    else CHECK(c > 0, "%s: completion_tokens %lld", w, c);
    CHECK(t == p + c && t > 0, "%s: total_tokens %lld != %lld + %lld", w, t, p, c);
}

/* The result's tool calls: n of them, names[i] with arguments parsing to want[i] (a JSON text), ids non-empty and
 * distinct, type function, finish_reason tool_calls. */
static inline void expect_calls(nres *o, int n, const char *const *names, const char *const *want_args) {
    const char *w = o->where;
    if (!expect_ok(o)) return;
    json_t *calls = jpath(o->r.j, "choices[0].message.tool_calls");
    if (!CHECK((int)json_array_size(calls) == n, "%s: %zu tool calls, want %d: %.400s", w, json_array_size(calls), n,
               or_null(o->r.raw)))
        return;
    CHECK(str_eq(jstr(o->r.j, "choices[0].finish_reason"), "tool_calls"), "%s: finish_reason %s, want tool_calls", w,
          or_null(jstr(o->r.j, "choices[0].finish_reason")));
    for (int i = 0; i < n; i++) {
        json_t *call = json_array_get(calls, (size_t)i);
        const char *id = jstr(call, "id");
        CHECK(id && *id, "%s: call %d has no id", w, i);
        for (int k = 0; k < i; k++)
            CHECK(!str_eq(id, jstr(json_array_get(calls, (size_t)k), "id")), "%s: calls %d and %d share the id %s", w, k, i,
                  or_null(id));
        CHECK(str_eq(jstr(call, "type"), "function"), "%s: call %d type %s", w, i, or_null(jstr(call, "type")));
        CHECK(str_eq(jstr(call, "function.name"), names[i]), "%s: call %d name %s, want %s", w, i,
              or_null(jstr(call, "function.name")), names[i]);
        const char *args = jstr(call, "function.arguments");
        json_t *ja = jparse(args);
        CHECK(json_is_object(ja), "%s: call %d arguments are not a JSON object: %s", w, i, or_null(args));
        json_decref(ja);
        CHECK(json_text_equal(args, want_args[i]), "%s: call %d arguments %s, want %s", w, i, or_null(args), want_args[i]);
    }
}

/* A typed error: status st, error.status == http (0: none expected), error.provider == provider, provider_error
 * present when want_provider_error, retry_after in [ra_min, ra_max] when ra_min >= 0, and error.partial's content
 * == partial (NULL: no partial at all; the chunks delivered must add up to it too). */
static inline void expect_error_full(nres *o, anyllm_status st, int http, const char *provider, bool want_provider_error,
                                     double ra_min, double ra_max, const char *partial) {
    const char *w = o->where;
    json_t *j = o->r.j;
    if (!CHECK(o->r.st == st, "%s: status %d (%s), want %d (%s): %.500s", w, o->r.st, status_type(o->r.st), st,
               status_type(st), or_null(o->r.raw)))
        return;
    if (http) CHECK(jint(j, "error.status", -1) == http, "%s: error.status %lld, want %d", w, jint(j, "error.status", -1), http);
    else CHECK(jpath(j, "error.status") == NULL, "%s: error.status %lld where no HTTP status applies", w,
               jint(j, "error.status", -1));
    CHECK(str_eq(jstr(j, "error.provider"), provider), "%s: error.provider %s, want %s", w, or_null(jstr(j, "error.provider")),
          provider);
    if (want_provider_error)
        CHECK(jpath(j, "error.provider_error") != NULL && !json_is_null(jpath(j, "error.provider_error")),
              "%s: error.provider_error missing: %.300s", w, or_null(o->r.raw));
    if (ra_min >= 0) {
        double ra = jnum(j, "error.retry_after", -1);
        CHECK(ra >= ra_min && ra <= ra_max, "%s: retry_after %g, want %g..%g", w, ra, ra_min, ra_max);
    }
    if (partial) {
        CHECK(str_eq(jstr(j, "error.partial.choices[0].message.content"), partial), "%s: partial content %s, want \"%s\"", w,
              or_null(jstr(j, "error.partial.choices[0].message.content")), partial);
        CHECK(json_is_null(jpath(j, "error.partial.choices[0].finish_reason")), "%s: the partial claims finish_reason %s", w,
              or_null(jstr(j, "error.partial.choices[0].finish_reason")));
        CHECK(str_eq(o->c.content, partial), "%s: the chunks delivered \"%s\", want \"%s\"", w, o->c.content, partial);
    } else {
        CHECK(jpath(j, "error.partial") == NULL, "%s: a partial although nothing was delivered: %.300s", w, or_null(o->r.raw));
    }
}

static inline void expect_http_error(nres *o, anyllm_status st, int http, const char *provider) {
    expect_error_full(o, st, http, provider, true, -1, -1, NULL);
}

/* One scripted failure, streamed and not (max_retries 0), with `key` as the api_key when not NULL: a typed error
 * with status st, error.status http, the provider's own body, retry_after in [ra_min, ra_max] when ra_min >= 0
 * (and none at all for a rate limit when ra_min < 0: the provider gave none), and one attempt. */
static inline void nerr_both(anyllm_client *client, const nproto *p, const char *model, const char *key, anyllm_status st,
                             int http, double ra_min, double ra_max) {
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq_err(p, model, stream);
        if (key) json_object_set_new(req, "api_key", json_string(key));
        char what[200];
        snprintf(what, sizeof what, "%s %s%s%s", p->provider, model, key ? " with key " : "", stream ? " (stream)" : "");
        nres o;
        nrun(client, req, &o, what);
        expect_error_full(&o, st, http, p->provider, true, ra_min, ra_max, NULL);
        if (ra_min < 0 && st == ANYLLM_E_RATE_LIMIT)
            CHECK(jpath(o.r.j, "error.retry_after") == NULL, "%s: retry_after %g although the provider gave none", what,
                  jnum(o.r.j, "error.retry_after", -1));
        CHECK(jint(o.r.j, "error.attempts", 1) == 1, "%s: %lld attempts with max_retries 0", what,
              jint(o.r.j, "error.attempts", 1));
        nres_free(&o);
        json_decref(req);
    }
}

/* ---- request building blocks ------------------------------------------------------------------------------------ */

/* get_weather with a schema that exercises the emulator's argument generator (string, integer, enum, boolean,
 * nested object, array), and the arguments it generates from it. */
static inline json_t *tool_weather_rich(void) {
    return jparse("{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather in a city\","
                  "\"parameters\":{\"type\":\"object\",\"properties\":{"
                  "\"city\":{\"type\":\"string\",\"description\":\"City name\"},"
                  "\"days\":{\"type\":\"integer\"},"
                  "\"units\":{\"type\":\"string\",\"enum\":[\"metric\",\"imperial\"]},"
                  "\"detailed\":{\"type\":\"boolean\"},"
                  "\"coords\":{\"type\":\"object\",\"properties\":{\"lat\":{\"type\":\"number\"},\"lon\":{\"type\":\"number\"}}},"
                  "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
                  "\"required\":[\"city\",\"days\"]}}}");
}
#define WEATHER_RICH_ARGS \
    "{\"city\":\"Paris\",\"days\":42,\"units\":\"metric\",\"detailed\":true,\"coords\":{\"lat\":1.5,\"lon\":1.5},\"tags\":[]}"

/* get_weather {city} and get_time {tz: enum UTC|CET}. */
static inline json_t *tools_two(void) {
    return jparse("[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather in a city\","
                  "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}},"
                  "{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"description\":\"Time in a zone\","
                  "\"parameters\":{\"type\":\"object\",\"properties\":{\"tz\":{\"type\":\"string\",\"enum\":[\"UTC\",\"CET\"]}},"
                  "\"required\":[\"tz\"]}}}]");
}
#define WEATHER_ARGS "{\"city\":\"Paris\"}"
#define TIME_ARGS "{\"tz\":\"UTC\"}"

static inline json_t *named_choice(const char *name) {
    return json_pack("{s:s, s:{s:s}}", "type", "function", "function", "name", name);
}

/* The conversation after a round of two tool calls: user, assistant (content null, tool_calls get_weather(Paris) and
 * get_time(UTC)), tool results "18C" and {"time":"12:00"}. */
static inline json_t *tool_result_messages(void) {
    return jparse("[{\"role\":\"user\",\"content\":\"Weather in Paris, and the time?\"},"
                  "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
                  "{\"id\":\"call_w1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},"
                  "{\"id\":\"call_t2\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\\\":\\\"UTC\\\"}\"}}]},"
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_w1\",\"content\":\"18C\"},"
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_t2\",\"content\":\"{\\\"time\\\":\\\"12:00\\\"}\"}]");
}

/* system + developer + a finished exchange + a new user turn. Words: 2 + 3 + 1 + 1 + 3 = 10. */
static inline json_t *multi_turn_messages(void) {
    return jparse("[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                  "{\"role\":\"developer\",\"content\":\"Answer in English.\"},"
                  "{\"role\":\"user\",\"content\":\"Hi\"},"
                  "{\"role\":\"assistant\",\"content\":\"Hello!\"},"
                  "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is up\"}]}]");
}
#define MULTI_TURN_PROMPT_TOKENS 10

/* A user message: text + an image_url part. */
static inline json_t *image_messages(const char *url) {
    return json_pack("[{s:s, s:[{s:s, s:s}, {s:s, s:{s:s}}]}]", "role", "user", "content", "type", "text", "text",
                     "What is in this image?", "type", "image_url", "image_url", "url", url);
}

/* response_format json_schema: {name: string, age: integer}, strict, no additional properties. */
static inline json_t *person_format(void) {
    return jparse("{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"strict\":true,\"schema\":"
                  "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"}},"
                  "\"required\":[\"name\",\"age\"],\"additionalProperties\":false}}}");
}
#define PERSON_JSON "{\"name\":\"Paris\",\"age\":42}"

/* The emulator's reasoning text for the prompt "Hello there" (10 words). */
#define REASONING_TEXT "Let me think about what the user said: Hello there"
#define SPLIT_UTF8 "héllo wörld — 你好 👋 ok"

/* A copy of choices[0].message of a result, as the next request's assistant message. */
static inline json_t *assistant_of(nres *o) { return json_deep_copy(jpath(o->r.j, "choices[0].message")); }

/* A tool message answering call `i` of a result. */
static inline json_t *tool_answer(nres *o, int i, const char *content) {
    char path[96];
    snprintf(path, sizeof path, "choices[0].message.tool_calls[%d].id", i);
    return json_pack("{s:s, s:s, s:s}", "role", "tool", "tool_call_id", or_null(jstr(o->r.j, path)), "content", content);
}

/* The faults every protocol shares: the connection cut mid-stream (what was delivered is the partial) and
 * mid-body, and a body or stream that is not JSON. */
static inline void check_cuts_and_garbage(anyllm_client *client, const nproto *p, const char *provider) {
    nres o;
    for (int stream = 1; stream >= 0; stream--) {
        json_t *req = nreq_err(p, "drop-after-3", stream);
        nrun(client, req, &o, stream ? "drop-after-3 stream" : "drop-after-3");
        expect_error_full(&o, ANYLLM_E_CONNECTION, 0, provider, false, -1, -1, stream ? "tok0 tok1 tok2 " : NULL);
        nres_free(&o);
        json_decref(req);
    }
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq_err(p, "garbage", stream);
        nrun(client, req, &o, stream ? "garbage stream" : "garbage");
        expect_error_full(&o, ANYLLM_E_PROVIDER, 0, provider, true, -1, -1, NULL);
        nres_free(&o);
        json_decref(req);
    }
}

/* Delivery every protocol shares: UTF-8 split at every byte (streamed and not) decodes exactly, and a long
 * stream arrives whole with its usage. */
static inline void check_split_utf8_and_long(anyllm_client *client, const nproto *p) {
    nres o;
    for (int stream = 0; stream < 2; stream++) {
        json_t *req = nreq(p, "split-utf8", stream);
        nrun(client, req, &o, stream ? "split-utf8 stream" : "split-utf8");
        expect_text(&o, SPLIT_UTF8, "stop");
        nres_free(&o);
        json_decref(req);
    }
    int n = scaled(400, 40);
    char model[32];
    snprintf(model, sizeof model, "long-%d", n);
    char *want = tokens_text(n);
    json_t *req = nreq(p, model, true);
    nrun(client, req, &o, model);
    expect_text(&o, want, "stop");
    expect_usage(o.r.j, o.where, 2, n);
    nres_free(&o);
    json_decref(req);
    free(want);
}

#endif /* ANYLLM_TEST_NATIVE_UTIL_H */
