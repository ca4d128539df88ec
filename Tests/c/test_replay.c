/*
 * test_replay — recorded real provider traffic (Tests/fixtures/recorded/openai) replayed by the emulator
 * (model "replay:NAME"), decoded by the library, and compared with what the recording says.
 *
 * The expected values are computed here, from the recorded bytes, by an independent reading of the SSE and
 * chunk stream (no library code), with the rules real clients apply to real-world quirks:
 *   - whitespace before a field name is skipped (" data: {...}" is a data line);
 *   - "[DONE]" ends the stream: anything after it is ignored;
 *   - a body may end without the final blank line, or without "[DONE]";
 *   - tool-call deltas merge by "index"; a delta that restates a call already complete (same id, complete
 *     JSON arguments again) replaces it rather than appending ("{}{}" would be wrong);
 *   - "arguments": null counts as no fragment; a call that got no arguments at all has "{}".
 * Then the same is done for synthetic recordings (written to a temporary folder, served by a second
 * emulator) that concentrate these quirks.
 */
#include "util.h"

#include <dirent.h>
#include <sys/stat.h>

#define MAX_CALLS 16

typedef struct exp_call {
    long long index;
    char *id;
    char *name;
    char *args;
} exp_call;

typedef struct expected {
    bool stream;
    char *content;
    bool has_content;       /* some content (string) was seen */
    exp_call calls[MAX_CALLS];
    int ncalls;
    char *finish;           /* NULL when the recording has none */
    long long prompt_tokens, completion_tokens;
    bool has_usage;
    int events;             /* JSON events before [DONE] (streams) */
    bool bad_json;          /* an event that is not JSON */
} expected;

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static void append(char **dst, const char *s) {
    size_t a = *dst ? strlen(*dst) : 0, b = strlen(s);
    *dst = realloc(*dst, a + b + 1);
    memcpy(*dst + a, s, b + 1);
}

static void expected_free(expected *e) {
    free(e->content);
    free(e->finish);
    for (int i = 0; i < e->ncalls; i++) {
        free(e->calls[i].id);
        free(e->calls[i].name);
        free(e->calls[i].args);
    }
    memset(e, 0, sizeof *e);
}

/* Is s one complete JSON value (an object)? */
static bool complete_json(const char *s) {
    if (!s || !*s) return false;
    json_t *j = jparse(s);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok;
}

static void merge_tool_delta(expected *e, json_t *tc, size_t position) {
    const char *id = jstr(tc, "id");
    const char *name = jstr(tc, "function.name");
    const char *frag = jstr(tc, "function.arguments"); /* NULL for null or absent */
    long long index;
    json_t *ji = json_object_get(tc, "index");
    if (json_is_integer(ji)) {
        index = json_integer_value(ji);
    } else {
        /* no index: an id we know continues that call, a new id starts one, no id continues the last */
        index = -1;
        for (int i = 0; id && i < e->ncalls; i++)
            if (str_eq(e->calls[i].id, id)) index = e->calls[i].index;
        if (index < 0) index = id || e->ncalls == 0 ? (id ? (long long)e->ncalls : (long long)position) : e->calls[e->ncalls - 1].index;
    }
    exp_call *c = NULL;
    for (int i = 0; i < e->ncalls; i++)
        if (e->calls[i].index == index) c = &e->calls[i];
    if (!c) {
        if (e->ncalls == MAX_CALLS) return;
        c = &e->calls[e->ncalls++];
        c->index = index;
        c->id = xstrdup(id);
        c->name = xstrdup(name ? name : "");
        c->args = xstrdup(frag ? frag : "");
        return;
    }
    if (id && str_eq(c->id, id) && frag && complete_json(c->args) && complete_json(frag)) {
        free(c->args); /* a restatement of the complete call */
        c->args = strdup(frag);
        return;
    }
    if (!c->id && id) c->id = strdup(id);
    if ((!c->name || !*c->name) && name && *name) {
        free(c->name);
        c->name = strdup(name);
    }
    if (frag) append(&c->args, frag);
}

static void apply_chunk(expected *e, json_t *chunk) {
    json_t *usage = json_object_get(chunk, "usage");
    if (json_is_object(usage)) {
        e->has_usage = true;
        e->prompt_tokens = jint(usage, "prompt_tokens", -1);
        e->completion_tokens = jint(usage, "completion_tokens", -1);
    }
    size_t i;
    json_t *choice;
    json_array_foreach(json_object_get(chunk, "choices"), i, choice) {
        if (jint(choice, "index", 0) != 0) continue;
        const char *content = jstr(choice, "delta.content");
        if (content) {
            append(&e->content, content);
            e->has_content = true;
        }
        const char *finish = jstr(choice, "finish_reason");
        if (finish) {
            free(e->finish);
            e->finish = strdup(finish);
        }
        size_t k;
        json_t *tc;
        json_array_foreach(jpath(choice, "delta.tool_calls"), k, tc) merge_tool_delta(e, tc, k);
    }
}

/* Reads an SSE body the way real-world clients do (see the top of this file). */
static void expected_from_sse(expected *e, const char *body) {
    char *data = NULL;
    bool has_data = false, done = false;
    const char *p = body;
    while (*p && !done) {
        size_t n = strcspn(p, "\r\n");
        const char *line = p, *next = p + n;
        if (*next == '\r' && next[1] == '\n') next += 2;
        else if (*next) next += 1;
        bool last = *next == 0;
        /* one line [line, line+n) */
        size_t s = 0;
        while (s < n && (line[s] == ' ' || line[s] == '\t')) s++;
        bool blank = s == n;
        if (!blank && line[s] != ':') {
            size_t colon = s;
            while (colon < n && line[colon] != ':') colon++;
            size_t v = colon < n ? colon + 1 : n;
            if (v < n && line[v] == ' ') v++;
            if (colon - s == 4 && strncmp(line + s, "data", 4) == 0) {
                char *val = strndup(line + v, n - v);
                if (has_data) append(&data, "\n");
                append(&data, val);
                free(val);
                has_data = true;
            }
        }
        if ((blank || last) && has_data) {
            /* dispatch the event */
            const char *d = data;
            while (*d == ' ') d++;
            if (strncmp(d, "[DONE]", 6) == 0) {
                done = true;
            } else {
                json_t *chunk = jparse(data);
                if (json_is_object(chunk)) {
                    e->events++;
                    apply_chunk(e, chunk);
                } else {
                    e->bad_json = true;
                }
                json_decref(chunk);
            }
            free(data);
            data = NULL;
            has_data = false;
        }
        p = next;
    }
    free(data);
    for (int i = 0; i < e->ncalls; i++) {
        if (!*e->calls[i].args) {
            free(e->calls[i].args);
            e->calls[i].args = strdup("{}");
        }
    }
}

static void expected_from_json(expected *e, const char *body) {
    json_t *j = jparse(body);
    const char *content = jstr(j, "choices[0].message.content");
    if (content) {
        e->content = strdup(content);
        e->has_content = true;
    }
    e->finish = xstrdup(jstr(j, "choices[0].finish_reason"));
    size_t i;
    json_t *tc;
    json_array_foreach(jpath(j, "choices[0].message.tool_calls"), i, tc) {
        if (e->ncalls == MAX_CALLS) break;
        exp_call *c = &e->calls[e->ncalls++];
        c->index = (long long)i;
        c->id = xstrdup(jstr(tc, "id"));
        c->name = xstrdup(jstr(tc, "function.name"));
        const char *a = jstr(tc, "function.arguments");
        c->args = strdup(a && *a ? a : "{}");
    }
    if (json_is_object(jpath(j, "usage"))) {
        e->has_usage = true;
        e->prompt_tokens = jint(j, "usage.prompt_tokens", -1);
        e->completion_tokens = jint(j, "usage.completion_tokens", -1);
    }
    json_decref(j);
}

/* Replays fixture `name` (its parsed JSON in fx) through the emulator at api_base; compares with expected. */
static void replay_one(const char *api_base, const char *name, json_t *fx) {
    const char *body_text = jstr(fx, "response.body_text");
    json_t *rbody = jpath(fx, "request.body");
    expected e = {0};
    e.stream = json_is_true(json_object_get(fx, "stream")) || json_is_true(json_object_get(rbody, "stream"));
    if (e.stream) expected_from_sse(&e, body_text); else expected_from_json(&e, body_text);
    CHECK(!e.bad_json, "%s: the recording itself has a non-JSON event (test assumption)", name);

    json_t *req = json_object();
    char model[512];
    snprintf(model, sizeof model, "openai:replay:%s", name);
    json_object_set_new(req, "model", json_string(model));
    json_object_set(req, "messages", json_object_get(rbody, "messages"));
    if (json_object_get(rbody, "tools")) json_object_set(req, "tools", json_object_get(rbody, "tools"));
    if (e.stream) json_object_set_new(req, "stream", json_true());
    json_object_set_new(req, "api_base", json_string(api_base));
    json_object_set_new(req, "api_key", json_string(TEST_KEY));
    req_client_arg(req, "max_retries", json_integer(0));

    collector c;
    collector_init(&c);
    result r;
    run_req(NULL, req, collect_chunk, &c, &r);
    if (!CHECK(r.st == ANYLLM_OK, "%s: status %d: %.400s", name, r.st, or_null(r.raw))) goto out;

    json_t *msg = jpath(r.j, "choices[0].message");
    const char *content = jstr(msg, "content");
    if (e.content && *e.content)
        CHECK(str_eq(content, e.content), "%s: content \"%s\", recording says \"%s\"", name, or_null(content), e.content);
    else
        CHECK(content == NULL || *content == 0, "%s: content \"%s\", recording has none", name, content);

    json_t *calls = json_object_get(msg, "tool_calls");
    CHECK((int)json_array_size(calls) == e.ncalls, "%s: %zu tool calls, recording has %d", name, json_array_size(calls), e.ncalls);
    for (int i = 0; i < e.ncalls && i < (int)json_array_size(calls); i++) {
        json_t *got = json_array_get(calls, (size_t)i);
        CHECK(str_eq(jstr(got, "function.name"), e.calls[i].name), "%s: call %d name %s, want %s", name, i,
              or_null(jstr(got, "function.name")), or_null(e.calls[i].name));
        if (e.calls[i].id)
            CHECK(str_eq(jstr(got, "id"), e.calls[i].id), "%s: call %d id %s, want %s", name, i, or_null(jstr(got, "id")), e.calls[i].id);
        const char *args = jstr(got, "function.arguments");
        json_t *ga = jparse(args), *wa = jparse(e.calls[i].args);
        CHECK(args != NULL, "%s: call %d arguments are not a string", name, i);
        CHECK(ga && wa && json_equal(ga, wa), "%s: call %d arguments %s, want %s", name, i, or_null(args), e.calls[i].args);
        json_decref(ga);
        json_decref(wa);
    }

    const char *finish = jstr(r.j, "choices[0].finish_reason");
    if (e.finish) {
        CHECK(str_eq(finish, e.finish), "%s: finish_reason %s, recording says %s", name, or_null(finish), e.finish);
    } else {
        /* the recording never says: null, or what the content implies */
        const char *implied = e.ncalls ? "tool_calls" : "stop";
        CHECK(finish == NULL || str_eq(finish, implied), "%s: finish_reason %s, recording has none (want null or %s)", name,
              finish, implied);
    }
    if (e.has_usage) {
        CHECK(jint(r.j, "usage.prompt_tokens", -1) == e.prompt_tokens, "%s: prompt_tokens %lld, want %lld", name,
              jint(r.j, "usage.prompt_tokens", -1), e.prompt_tokens);
        CHECK(jint(r.j, "usage.completion_tokens", -1) == e.completion_tokens, "%s: completion_tokens %lld, want %lld", name,
              jint(r.j, "usage.completion_tokens", -1), e.completion_tokens);
    }
    if (e.stream) {
        CHECK(c.bad == 0, "%s: %d malformed chunks", name, c.bad);
        CHECK(c.count == e.events, "%s: on_chunk called %d times, the recording has %d events before [DONE]", name, c.count, e.events);
        CHECK(str_eq(c.content, e.content ? e.content : ""), "%s: deltas passed to on_chunk \"%s\", want \"%s\"", name, c.content,
              e.content ? e.content : "");
    } else {
        CHECK(c.count == 0, "%s: non-streamed replay called on_chunk %d times", name, c.count);
    }
out:
    collector_free(&c);
    res_free(&r);
    json_decref(req);
    expected_free(&e);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_recorded(void) {
    TEST("recorded OpenAI chat completions");
    const char *root = getenv("ANYLLM_FIXTURES");
    if (!CHECK(root != NULL, "ANYLLM_FIXTURES is not set")) return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/openai", root);
    DIR *d = opendir(dir);
    if (!CHECK(d != NULL, "cannot open %s", dir)) return;
    char *names[512];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 512) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0) names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    int replayed = 0, streamed = 0, with_tools = 0;
    for (int i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_error_t err;
        json_t *fx = json_load_file(path, 0, &err);
        CHECK(fx != NULL, "%s: not JSON: %s", names[i], err.text);
        const char *uri = jstr(fx, "request.uri");
        size_t ul = uri ? strlen(uri) : 0;
        if (uri && ul >= 17 && strcmp(uri + ul - 17, "/chat/completions") == 0 && jstr(fx, "response.body_text") &&
            jint(fx, "response.status", 0) == 200) {
            names[i][strlen(names[i]) - 5] = 0; /* the model names the fixture without ".json" */
            fprintf(stderr, "     %s\n", names[i]);
            replay_one(g_api_base, names[i], fx);
            replayed++;
            if (json_is_true(json_object_get(fx, "stream"))) streamed++;
            if (strstr(jstr(fx, "response.body_text"), "tool_calls")) with_tools++;
        }
        json_decref(fx);
        free(names[i]);
    }
    fprintf(stderr, "     %d recordings replayed (%d streamed, %d with tool calls)\n", replayed, streamed, with_tools);
    CHECK(replayed >= 13, "only %d chat-completions recordings found in %s", replayed, dir);
    CHECK(streamed >= 5 && with_tools >= 5, "too few streamed (%d) or tool-call (%d) recordings", streamed, with_tools);
}

/* ---- synthetic recordings --------------------------------------------------------------------------------- */

/* One SSE event "data: <json>" + eol + eol, from a jansson value (stolen). */
static void sse_event(char **body, json_t *chunk, const char *prefix, const char *eol) {
    char *text = jdump(chunk);
    append(body, prefix);
    append(body, text);
    append(body, eol);
    append(body, eol);
    free(text);
    json_decref(chunk);
}

static json_t *chunk_with(json_t *delta, const char *finish) {
    return json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:o, s:o}]}", "id", "chatcmpl-synthetic", "object", "chat.completion.chunk",
                     "created", 1750000000, "model", "synthetic-1", "choices", "index", 0, "delta", delta, "finish_reason",
                     finish ? json_string(finish) : json_null());
}

static json_t *usage_chunk(int prompt, int completion) {
    return json_pack("{s:s, s:s, s:i, s:s, s:[], s:{s:i, s:i, s:i}}", "id", "chatcmpl-synthetic", "object", "chat.completion.chunk",
                     "created", 1750000000, "model", "synthetic-1", "choices", "usage", "prompt_tokens", prompt,
                     "completion_tokens", completion, "total_tokens", prompt + completion);
}

static json_t *tool_delta(int index, const char *id, const char *name, json_t *args) {
    json_t *fn = json_object();
    if (name) json_object_set_new(fn, "name", json_string(name));
    json_object_set_new(fn, "arguments", args);
    json_t *tc = json_pack("{s:i, s:o}", "index", index, "function", fn);
    if (id) {
        json_object_set_new(tc, "id", json_string(id));
        json_object_set_new(tc, "type", json_string("function"));
    }
    return json_pack("{s:[o]}", "tool_calls", tc);
}

static void write_fixture_status(const char *dir, const char *name, bool stream, json_t *tools, const char *body, int status,
                                 const char *ctype) {
    json_t *rbody = json_pack("{s:[{s:s, s:s}], s:s, s:b}", "messages", "role", "user", "content", "synthetic", "model", "x",
                              "stream", stream);
    if (tools) json_object_set(rbody, "tools", tools);
    json_t *fx = json_pack("{s:s, s:b, s:{s:s, s:s, s:o}, s:{s:i, s:s, s:s}}", "provider", "openai", "stream", stream, "request",
                           "method", "POST", "uri", "https://api.openai.com/v1/chat/completions", "body", rbody, "response",
                           "status", status, "content_type", ctype, "body_text", body);
    char path[4096];
    snprintf(path, sizeof path, "%s/openai/%s.json", dir, name);
    CHECK(json_dump_file(fx, path, JSON_INDENT(1)) == 0, "cannot write %s", path);
    json_decref(fx);
}

static void write_fixture(const char *dir, const char *name, bool stream, json_t *tools, const char *body) {
    write_fixture_status(dir, name, stream, tools, body, 200, stream ? "text/event-stream; charset=utf-8" : "application/json");
}

static json_t *synthetic_tools(void) {
    return json_pack("[{s:s, s:{s:s, s:{s:s, s:{}}}}, {s:s, s:{s:s, s:{s:s, s:{}}}}]", "type", "function", "function", "name",
                     "lookup", "parameters", "type", "object", "properties", "type", "function", "function", "name", "compute",
                     "parameters", "type", "object", "properties");
}

static const char *SYNTHETIC[] = {"synthetic_after_done", "synthetic_restated_call", "synthetic_args_null",
                                  "synthetic_crlf_leading_space", "synthetic_two_calls", "synthetic_nonstream_args_null",
                                  "synthetic_comments_no_final_blank"};

/* Recordings whose error bodies echo the API key back (some providers quote the key they refused). */
static const char *KEY_ECHO[] = {"synthetic_key_echo_401", "synthetic_key_echo_html_500", "synthetic_key_echo_stream_event"};

static void make_key_echo(const char *dir) {
    json_t *err = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error", "message",
                            "Incorrect API key provided: " TEST_KEY ". You can find your API key at https://platform.openai.com.",
                            "type", "invalid_request_error", "param", "code", "invalid_api_key");
    char *text = json_dumps(err, JSON_INDENT(2));
    write_fixture_status(dir, KEY_ECHO[0], false, NULL, text, 401, "application/json");
    free(text);
    json_decref(err);
    write_fixture_status(dir, KEY_ECHO[1], false, NULL,
                         "<html><body><h1>500 Internal Server Error</h1><p>upstream rejected Authorization: Bearer " TEST_KEY
                         "</p></body></html>",
                         500, "text/html");
    char *b = NULL;
    sse_event(&b, chunk_with(json_pack("{s:s, s:s}", "role", "assistant", "content", "Hi"), NULL), "data: ", "\n");
    sse_event(&b, json_pack("{s:{s:s, s:s}}", "error", "message", "upstream said: bad key " TEST_KEY, "type", "server_error"), "data: ",
              "\n");
    write_fixture(dir, KEY_ECHO[2], true, NULL, b);
    free(b);
}

static void replay_key_echo(const char *base) {
    anyllm_status want[] = {ANYLLM_E_AUTHENTICATION, ANYLLM_E_PROVIDER, ANYLLM_E_PROVIDER};
    for (size_t i = 0; i < sizeof KEY_ECHO / sizeof *KEY_ECHO; i++) {
        json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "model", "openai:replay:x", "messages", "hi", "api_base", base, "api_key", TEST_KEY);
        char model[128];
        snprintf(model, sizeof model, "openai:replay:%s", KEY_ECHO[i]);
        json_object_set_new(req, "model", json_string(model));
        if (i == 2) json_object_set_new(req, "stream", json_true());
        req_client_arg(req, "max_retries", json_integer(0));
        result r;
        /* check_output (in run_req) fails if the key appears anywhere in the error JSON */
        expect_error(NULL, req, want[i], &r, KEY_ECHO[i]);
        fprintf(stderr, "     %s: %.200s\n", KEY_ECHO[i], or_null(jstr(r.j, "error.message")));
        res_free(&r);
        json_decref(req);
    }
}

static void make_synthetic(const char *dir) {
    json_t *tools = synthetic_tools();
    char *b;

    /* data after [DONE] must be ignored */
    b = NULL;
    sse_event(&b, chunk_with(json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(json_pack("{s:s}", "content", "Hel"), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(json_pack("{s:s}", "content", "lo"), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(json_object(), "stop"), "data: ", "\n");
    sse_event(&b, usage_chunk(3, 2), "data: ", "\n");
    append(&b, "data: [DONE]\n\n");
    sse_event(&b, chunk_with(json_pack("{s:s}", "content", " IGNORED"), NULL), "data: ", "\n");
    sse_event(&b, usage_chunk(99, 99), "data: ", "\n");
    append(&b, "data: [DONE]\n\n");
    write_fixture(dir, SYNTHETIC[0], true, NULL, b);
    free(b);

    /* the complete call restated twice, once after the usage chunk: one call, arguments {"q":"x"} */
    b = NULL;
    sse_event(&b, chunk_with(json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(tool_delta(0, "call_R1", "lookup", json_string("{\"q\":\"x\"}")), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(tool_delta(0, "call_R1", "lookup", json_string("{\"q\":\"x\"}")), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(json_object(), "tool_calls"), "data: ", "\n");
    sse_event(&b, usage_chunk(10, 5), "data: ", "\n");
    sse_event(&b, chunk_with(tool_delta(0, "call_R1", "lookup", json_string("{\"q\":\"x\"}")), NULL), "data: ", "\n");
    append(&b, "data: [DONE]\n\n");
    write_fixture(dir, SYNTHETIC[1], true, tools, b);
    free(b);

    /* arguments null first, then fragments */
    b = NULL;
    sse_event(&b, chunk_with(tool_delta(0, "call_N1", "compute", json_null()), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(tool_delta(0, NULL, NULL, json_string("{\"a\":")), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(tool_delta(0, NULL, NULL, json_string(" [1, 2]}")), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(json_object(), "tool_calls"), "data: ", "\n");
    append(&b, "data: [DONE]\n\n");
    write_fixture(dir, SYNTHETIC[2], true, tools, b);
    free(b);

    /* CRLF, a space before "data:", no [DONE] (finish_reason present), no final blank line */
    b = NULL;
    sse_event(&b, chunk_with(json_pack("{s:s, s:s}", "role", "assistant", "content", "Bon"), NULL), " data: ", "\r\n");
    sse_event(&b, chunk_with(json_pack("{s:s}", "content", "jour"), NULL), "data:", "\r\n");
    sse_event(&b, chunk_with(json_pack("{s:s}", "content", " à tous"), NULL), "  data: ", "\r\n");
    json_t *final = chunk_with(json_object(), "stop");
    char *last = jdump(final);
    append(&b, "data: ");
    append(&b, last);
    free(last);
    json_decref(final);
    write_fixture(dir, SYNTHETIC[3], true, NULL, b);
    free(b);

    /* two calls, fragments interleaved, and one delta carrying fragments of both */
    b = NULL;
    sse_event(&b, chunk_with(tool_delta(0, "call_A", "lookup", json_string("")), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(tool_delta(1, "call_B", "compute", json_string("{\"n\"")), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(tool_delta(0, NULL, NULL, json_string("{\"q\":")), NULL), "data: ", "\n");
    json_t *both = json_pack("{s:[{s:i, s:{s:s}}, {s:i, s:{s:s}}]}", "tool_calls", "index", 1, "function", "arguments", ": 7}",
                             "index", 0, "function", "arguments", "\"y\"}");
    sse_event(&b, chunk_with(both, NULL), "data: ", "\n");
    sse_event(&b, chunk_with(json_object(), "tool_calls"), "data: ", "\n");
    sse_event(&b, usage_chunk(20, 9), "data: ", "\n");
    append(&b, "data: [DONE]\n\n");
    write_fixture(dir, SYNTHETIC[4], true, tools, b);
    free(b);

    /* non-streamed: content and a tool call whose arguments are null */
    json_t *resp = json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s, s:[{s:s, s:s, s:{s:s, s:n}}]}, s:s}], s:{s:i, s:i, s:i}}",
                             "id", "chatcmpl-synthetic-ns", "object", "chat.completion", "created", 1750000000, "model",
                             "synthetic-1", "choices", "index", 0, "message", "role", "assistant", "content", "Let me check.",
                             "tool_calls", "id", "call_NS", "type", "function", "function", "name", "lookup", "arguments",
                             "finish_reason", "tool_calls", "usage", "prompt_tokens", 7, "completion_tokens", 3, "total_tokens", 10);
    char *text = json_dumps(resp, JSON_INDENT(2));
    write_fixture(dir, SYNTHETIC[5], false, tools, text);
    free(text);
    json_decref(resp);

    /* comments, keep-alives, data after [DONE] with no blank line at the end */
    b = NULL;
    append(&b, ": OPENROUTER PROCESSING\n\n");
    sse_event(&b, chunk_with(json_pack("{s:s, s:s}", "role", "assistant", "content", "ok"), NULL), "data: ", "\n");
    append(&b, ": keep-alive\n\n\n\n");
    sse_event(&b, chunk_with(json_object(), "stop"), "data: ", "\n");
    append(&b, "data: [DONE]\n\ndata: {\"id\": \"after\", \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"X\"}}]}");
    write_fixture(dir, SYNTHETIC[6], true, NULL, b);
    free(b);
    json_decref(tools);
}

/* ---- synthetic recordings that need their own checks ------------------------------------------------------ */

static const char *ODD[] = {"synthetic_unicode_escapes", "synthetic_two_choices", "synthetic_empty_json_body",
                            "synthetic_empty_stream", "synthetic_no_end", "synthetic_json_for_stream"};
static const char *UNICODE_TEXT = "h\xc3\xa9llo \xf0\x9f\x91\x8b \xe4\xbd\xa0\xe5\xa5\xbd \"q\" \\ /";

static void make_odd(const char *dir) {
    char *b = NULL;
    /* \uXXXX escapes (surrogate pairs included) as ensure_ascii writers send them, split mid-word */
    json_t *c1 = chunk_with(json_pack("{s:s, s:s}", "role", "assistant", "content", "h\xc3\xa9llo \xf0\x9f\x91\x8b "), NULL);
    json_t *c2 = chunk_with(json_pack("{s:s}", "content", "\xe4\xbd\xa0\xe5\xa5\xbd \"q\" \\ /"), "stop");
    char *t1 = json_dumps(c1, JSON_COMPACT | JSON_ENSURE_ASCII), *t2 = json_dumps(c2, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH);
    append(&b, "data: ");
    append(&b, t1);
    append(&b, "\n\ndata: ");
    append(&b, t2);
    append(&b, "\n\ndata: [DONE]\n\n");
    free(t1);
    free(t2);
    json_decref(c1);
    json_decref(c2);
    write_fixture(dir, ODD[0], true, NULL, b);
    free(b);

    /* n = 2: two choices interleaved */
    b = NULL;
    json_t *two = json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s}, s:n}, {s:i, s:{s:s, s:s}, s:n}]}", "id", "chatcmpl-synthetic",
                            "object", "chat.completion.chunk", "created", 1750000000, "model", "synthetic-1", "choices",
                            "index", 1, "delta", "role", "assistant", "content", "Second", "finish_reason",
                            "index", 0, "delta", "role", "assistant", "content", "First", "finish_reason");
    sse_event(&b, two, "data: ", "\n");
    json_t *c = chunk_with(json_pack("{s:s}", "content", " one"), "stop");
    sse_event(&b, c, "data: ", "\n");
    c = chunk_with(json_pack("{s:s}", "content", " two"), "length");
    json_object_set_new(json_array_get(json_object_get(c, "choices"), 0), "index", json_integer(1));
    sse_event(&b, c, "data: ", "\n");
    sse_event(&b, usage_chunk(4, 4), "data: ", "\n");
    append(&b, "data: [DONE]\n\n");
    write_fixture(dir, ODD[1], true, NULL, b);
    free(b);

    write_fixture(dir, ODD[2], false, NULL, "");
    write_fixture(dir, ODD[3], true, NULL, "");

    /* content, then the body ends: no finish_reason, no [DONE] */
    b = NULL;
    sse_event(&b, chunk_with(json_pack("{s:s, s:s}", "role", "assistant", "content", "cut "), NULL), "data: ", "\n");
    sse_event(&b, chunk_with(json_pack("{s:s}", "content", "short"), NULL), "data: ", "\n");
    write_fixture(dir, ODD[4], true, NULL, b);
    free(b);

    /* a plain JSON answer (some servers ignore "stream": true): content and a tool call */
    json_t *resp = json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s, s:[{s:s, s:s, s:{s:s, s:s}}]}, s:s}], s:{s:i, s:i, s:i}}",
                             "id", "chatcmpl-json-for-stream", "object", "chat.completion", "created", 1750000000, "model",
                             "synthetic-1", "choices", "index", 0, "message", "role", "assistant", "content", "Calling it.",
                             "tool_calls", "id", "call_J", "type", "function", "function", "name", "lookup", "arguments",
                             "{\"q\": \"json\"}", "finish_reason", "tool_calls", "usage", "prompt_tokens", 5, "completion_tokens", 6,
                             "total_tokens", 11);
    char *text = json_dumps(resp, JSON_INDENT(2));
    json_t *tools = synthetic_tools();
    write_fixture(dir, ODD[5], false, tools, text);
    json_decref(tools);
    free(text);
    json_decref(resp);
}

static json_t *odd_req(const char *base, const char *name, bool stream) {
    char model[128];
    snprintf(model, sizeof model, "openai:replay:%s", name);
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:b}", "model", model, "messages", "hi", "api_base", base, "api_key", TEST_KEY,
                            "stream", stream);
    req_client_arg(req, "max_retries", json_integer(0));
    return req;
}

static void replay_odd(const char *base) {
    /* unicode escapes decode to the same UTF-8, in the chunks and in the aggregate */
    json_t *req = odd_req(base, ODD[0], true);
    collector c;
    collector_init(&c);
    result r;
    run_req(NULL, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_OK && str_eq(jstr(r.j, "choices[0].message.content"), UNICODE_TEXT), "unicode escapes: %d, content %s",
          r.st, or_null(jstr(r.j, "choices[0].message.content")));
    CHECK(str_eq(c.content, UNICODE_TEXT) && c.bad == 0, "unicode escapes: deltas \"%s\"", c.content);
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* two choices aggregate separately, each with its finish_reason */
    req = odd_req(base, ODD[1], true);
    collector_init(&c);
    run_req(NULL, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_OK, "two choices: %d %s", r.st, or_null(r.raw));
    CHECK(json_array_size(jpath(r.j, "choices")) == 2, "two choices: %zu choices", json_array_size(jpath(r.j, "choices")));
    CHECK(jint(r.j, "choices[0].index", -1) == 0 && str_eq(jstr(r.j, "choices[0].message.content"), "First one") &&
              str_eq(jstr(r.j, "choices[0].finish_reason"), "stop"),
          "choice 0: %s / %s", or_null(jstr(r.j, "choices[0].message.content")), or_null(jstr(r.j, "choices[0].finish_reason")));
    CHECK(jint(r.j, "choices[1].index", -1) == 1 && str_eq(jstr(r.j, "choices[1].message.content"), "Second two") &&
              str_eq(jstr(r.j, "choices[1].finish_reason"), "length"),
          "choice 1: %s / %s", or_null(jstr(r.j, "choices[1].message.content")), or_null(jstr(r.j, "choices[1].finish_reason")));
    CHECK(c.count == 4 && c.bad == 0, "two choices: %d chunks (%d bad)", c.count, c.bad);
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* HTTP 200 with an empty body: a provider fault, not an empty completion */
    req = odd_req(base, ODD[2], false);
    expect_error(NULL, req, ANYLLM_E_PROVIDER, &r, "empty JSON body");
    res_free(&r);
    json_decref(req);
    req = odd_req(base, ODD[3], true);
    expect_error(NULL, req, ANYLLM_E_PROVIDER, &r, "empty event stream");
    res_free(&r);
    json_decref(req);

    /* a stream that ends (cleanly, at the HTTP level) before finish_reason or [DONE]: incomplete */
    req = odd_req(base, ODD[4], true);
    collector_init(&c);
    run_req(NULL, req, collect_chunk, &c, &r);
    CHECK(r.st != ANYLLM_OK, "a stream without finish_reason and [DONE] was accepted as complete: %s", or_null(r.raw));
    CHECK(c.count == 2 && str_eq(c.content, "cut short"), "unterminated stream: %d chunks \"%s\"", c.count, c.content);
    CHECK(str_eq(jstr(r.j, "error.partial.choices[0].message.content"), "cut short"), "unterminated stream: partial %s",
          or_null(jstr(r.j, "error.partial.choices[0].message.content")));
    collector_free(&c);
    res_free(&r);
    json_decref(req);

    /* a stream request answered with one JSON body: the completion, and equivalent chunks to on_chunk */
    req = odd_req(base, ODD[5], true);
    json_object_set_new(req, "tools", synthetic_tools());
    collector_init(&c);
    run_req(NULL, req, collect_chunk, &c, &r);
    CHECK(r.st == ANYLLM_OK, "JSON answer to a stream: %d %s", r.st, or_null(r.raw));
    CHECK(str_eq(jstr(r.j, "choices[0].message.content"), "Calling it."), "JSON for stream: content %s",
          or_null(jstr(r.j, "choices[0].message.content")));
    CHECK(str_eq(jstr(r.j, "choices[0].message.tool_calls[0].function.arguments"), "{\"q\": \"json\"}"), "JSON for stream: arguments %s",
          or_null(jstr(r.j, "choices[0].message.tool_calls[0].function.arguments")));
    CHECK(jint(r.j, "usage.completion_tokens", -1) == 6, "JSON for stream: usage");
    CHECK(c.count >= 1 && c.bad == 0, "JSON for stream: %d chunks (%d bad)", c.count, c.bad);
    CHECK(str_eq(c.content, "Calling it."), "JSON for stream: chunk deltas \"%s\"", c.content);
    const char *name = NULL;
    char *args = collector_tool_args(&c, 0, &name);
    CHECK(str_eq(args, "{\"q\": \"json\"}") && str_eq(name, "lookup"), "JSON for stream: chunk tool call %s %s", or_null(name), args);
    free(args);
    collector_free(&c);
    res_free(&r);
    json_decref(req);
}

static void remove_dir(const char *dir) {
    char sub[512];
    snprintf(sub, sizeof sub, "%s/openai", dir);
    DIR *d = opendir(sub);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", sub, de->d_name);
        unlink(path);
    }
    if (d) closedir(d);
    rmdir(sub);
    rmdir(dir);
}

static void test_synthetic(void) {
    TEST("synthetic recordings with real-world quirks");
    char dir[] = "/tmp/anyllm-replay-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp failed")) return;
    char sub[256];
    snprintf(sub, sizeof sub, "%s/openai", dir);
    mkdir(sub, 0700);
    make_synthetic(dir);
    make_key_echo(dir);
    make_odd(dir);
    emulator emu2;
    if (CHECK(emulator_start(&emu2, dir) == 0, "second emulator did not start")) {
        char base[300];
        snprintf(base, sizeof base, "%s/v1", emu2.url);
        for (size_t i = 0; i < sizeof SYNTHETIC / sizeof *SYNTHETIC; i++) {
            char path[512];
            snprintf(path, sizeof path, "%s/openai/%s.json", dir, SYNTHETIC[i]);
            json_t *fx = json_load_file(path, 0, NULL);
            fprintf(stderr, "     %s\n", SYNTHETIC[i]);
            replay_one(base, SYNTHETIC[i], fx);
            json_decref(fx);
        }
        TEST("API keys echoed by providers are redacted");
        replay_key_echo(base);
        TEST("unicode escapes, two choices, empty and unterminated bodies, JSON answer to a stream");
        replay_odd(base);
        emulator_stop(&emu2);
    }
    remove_dir(dir);

    TEST("self-check of the test's SSE reader");
    expected e = {0};
    e.stream = true;
    expected_from_sse(&e, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
                          "data: [DONE]\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}\n\n");
    CHECK(str_eq(e.content, "a") && e.events == 1, "reader self-check: after [DONE]: \"%s\", %d events", or_null(e.content), e.events);
    expected_free(&e);
    e.stream = true;
    expected_from_sse(&e, " data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\r\n\r\n"
                          "data:{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\r\n\r\n"
                          "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"d\",\"function\":{\"name\":\"g\",\"arguments\":null}}]},\"finish_reason\":\"tool_calls\"}]}");
    CHECK(e.events == 3 && e.ncalls == 2 && str_eq(e.calls[0].args, "{}") && str_eq(e.calls[1].args, "{}") && str_eq(e.finish, "tool_calls"),
          "reader self-check: restated call: %d events, %d calls, args %s / %s", e.events, e.ncalls,
          e.ncalls > 0 ? e.calls[0].args : "-", e.ncalls > 1 ? e.calls[1].args : "-");
    expected_free(&e);
}

int main(void) {
    test_setup();
    test_recorded();
    test_synthetic();
    return test_teardown();
}
