/*
 * test_native_replay — recorded Anthropic and Gemini traffic ($ANYLLM_FIXTURES/anthropic, .../gemini) replayed
 * through libanyllm.so (model "<provider>:replay:<file>", the emulator answers the recorded bytes) and compared
 * with what the recording says, computed here independently of the library: a small SSE reader for Anthropic's
 * event streams and a reading of Gemini's streamed JSON arrays, with the mapping rules of docs/providers.md
 * applied by hand (Anthropic: text blocks → content, thinking → reasoning, tool_use → tool calls, server-tool
 * blocks and citations left out, usage = the message_start usage updated by message_delta's, prompt_tokens =
 * input + cache creation + cache read; Gemini: thought parts → reasoning, functionCall → tool calls with their
 * thoughtSignature, completion_tokens = candidates + thoughts).
 *
 * Every file whose recorded response is a 200 to a chat request is replayed: Anthropic POST /v1/messages, Gemini
 * :generateContent / :streamGenerateContent (embeddings and model listings are skipped), streamed when the
 * recording is a stream.
 */
#include "native_util.h"

#include <dirent.h>
#include <sys/stat.h>

static anyllm_client *g_client;

/* ---- what a recording says ----------------------------------------------------------------------------------------- */

enum { MAXCALLS = 16 };

typedef struct expected {
    char *content, *reasoning, *signature; /* signature: Anthropic's last signature_delta / thinking.signature */
    int ncalls;
    char *call_id[MAXCALLS], *call_name[MAXCALLS], *call_args[MAXCALLS], *call_sig[MAXCALLS];
    const char *finish;
    long long prompt, completion, total, cached, reasoning_tokens; /* -1: not stated */
    char *id, *model;
    int ignored_blocks; /* server-tool blocks and citations the OpenAI shape leaves out */
} expected;

static void sappend(char **dst, const char *s) {
    if (!s) return;
    size_t a = *dst ? strlen(*dst) : 0, b = strlen(s);
    *dst = realloc(*dst, a + b + 1);
    memcpy(*dst + a, s, b + 1);
}

static char *sdup(const char *s) { return s ? strdup(s) : NULL; }

static void expected_free(expected *e) {
    free(e->content);
    free(e->reasoning);
    free(e->signature);
    for (int i = 0; i < e->ncalls; i++) {
        free(e->call_id[i]);
        free(e->call_name[i]);
        free(e->call_args[i]);
        free(e->call_sig[i]);
    }
    free(e->id);
    free(e->model);
    memset(e, 0, sizeof *e);
}

static void expected_init(expected *e) {
    memset(e, 0, sizeof *e);
    e->prompt = e->completion = e->total = e->cached = e->reasoning_tokens = -1;
}

/* ---- a small SSE reader (WHATWG rules: LF, CRLF or CR line ends; "data:" lines joined by \n; one leading space of
 * a value dropped; comments and unknown fields ignored; a blank line dispatches) ------------------------------------ */

typedef void (*sse_fn)(const char *event, const char *data, void *ud);

static void sse_parse(const char *body, sse_fn fn, void *ud) {
    char *event = NULL, *data = NULL;
    size_t dlen = 0;
    bool have_data = false;
    const char *p = body;
    for (;;) {
        size_t n = strcspn(p, "\r\n");
        bool eof = p[n] == 0;
        if (n == 0 && !eof) {
            if (have_data) {
                if (dlen && data[dlen - 1] == '\n') data[--dlen] = 0;
                fn(event, data, ud);
            }
            free(event);
            free(data);
            event = data = NULL;
            dlen = 0;
            have_data = false;
        } else if (n > 0 && p[0] != ':') {
            size_t f = 0;
            while (f < n && p[f] != ':') f++;
            const char *v = p + f;
            size_t vlen = 0;
            if (f < n) {
                v = p + f + 1;
                vlen = n - f - 1;
                if (vlen && *v == ' ') {
                    v++;
                    vlen--;
                }
            }
            if (f == 4 && strncmp(p, "data", 4) == 0) {
                data = realloc(data, dlen + vlen + 2);
                memcpy(data + dlen, v, vlen);
                dlen += vlen;
                data[dlen++] = '\n';
                data[dlen] = 0;
                have_data = true;
            } else if (f == 5 && strncmp(p, "event", 5) == 0) {
                free(event);
                event = strndup(v, vlen);
            }
        }
        if (eof) break;
        p += n;
        if (*p == '\r' && p[1] == '\n') p += 2;
        else p++;
    }
    if (have_data) { /* a last event without its blank line */
        if (dlen && data[dlen - 1] == '\n') data[--dlen] = 0;
        fn(event, data, ud);
    }
    free(event);
    free(data);
}

/* ---- Anthropic ------------------------------------------------------------------------------------------------------ */

static const char *anthropic_finish(const char *stop_reason) {
    if (!stop_reason) return NULL;
    if (str_eq(stop_reason, "max_tokens") || str_eq(stop_reason, "model_context_window_exceeded")) return "length";
    if (str_eq(stop_reason, "tool_use")) return "tool_calls";
    if (str_eq(stop_reason, "refusal")) return "content_filter";
    return "stop"; /* end_turn, stop_sequence, pause_turn */
}

static void anthropic_usage(expected *e, json_t *u) {
    long long in = jint(u, "input_tokens", 0), cw = jint(u, "cache_creation_input_tokens", 0),
              cr = jint(u, "cache_read_input_tokens", 0), out = jint(u, "output_tokens", 0);
    e->prompt = in + cw + cr;
    e->completion = out;
    e->total = e->prompt + e->completion;
    e->cached = cr;
}

typedef struct astate {
    expected *e;
    json_t *usage;              /* message_start's usage, updated by message_delta's */
    char block_type[64][32];    /* content_block_start type per index */
    int block_call[64];         /* tool call number of a tool_use block */
    int bad_events;
} astate;

static void anthropic_event(const char *event, const char *data, void *ud) {
    astate *s = ud;
    expected *e = s->e;
    json_error_t err;
    json_t *ev = json_loads(data, 0, &err); /* trailing spaces after the JSON are whitespace */
    if (!ev) {
        s->bad_events++;
        fprintf(stderr, "     unparsable event %s: %.100s\n", or_null(event), data);
        return;
    }
    const char *type = jstr(ev, "type");
    long long idx = jint(ev, "index", -1);
    if (str_eq(type, "message_start")) {
        e->id = sdup(jstr(ev, "message.id"));
        e->model = sdup(jstr(ev, "message.model"));
        json_decref(s->usage);
        s->usage = json_deep_copy(jpath(ev, "message.usage"));
    } else if (str_eq(type, "content_block_start") && idx >= 0 && idx < 64) {
        json_t *b = jpath(ev, "content_block");
        const char *bt = jstr(b, "type");
        snprintf(s->block_type[idx], sizeof s->block_type[idx], "%s", or_null(bt));
        if (str_eq(bt, "text")) {
            sappend(&e->content, jstr(b, "text"));
        } else if (str_eq(bt, "thinking")) {
            sappend(&e->reasoning, jstr(b, "thinking"));
        } else if (str_eq(bt, "tool_use") && e->ncalls < MAXCALLS) {
            int k = e->ncalls++;
            s->block_call[idx] = k;
            e->call_id[k] = sdup(jstr(b, "id"));
            e->call_name[k] = sdup(jstr(b, "name"));
            e->call_args[k] = calloc(1, 1);
            /* input given whole at the start (then no deltas) */
            json_t *in = json_object_get(b, "input");
            if (json_object_size(in) > 0) {
                free(e->call_args[k]);
                e->call_args[k] = json_dumps(in, JSON_COMPACT);
            }
        } else {
            e->ignored_blocks++; /* server_tool_use, web_search_tool_result, redacted_thinking, ... */
        }
    } else if (str_eq(type, "content_block_delta") && idx >= 0 && idx < 64) {
        const char *dt = jstr(ev, "delta.type"), *bt = s->block_type[idx];
        if (str_eq(dt, "text_delta")) sappend(&e->content, jstr(ev, "delta.text"));
        else if (str_eq(dt, "thinking_delta")) sappend(&e->reasoning, jstr(ev, "delta.thinking"));
        else if (str_eq(dt, "signature_delta")) {
            free(e->signature);
            e->signature = sdup(jstr(ev, "delta.signature"));
        } else if (str_eq(dt, "input_json_delta") && str_eq(bt, "tool_use"))
            sappend(&e->call_args[s->block_call[idx]], jstr(ev, "delta.partial_json"));
        else if (str_eq(dt, "citations_delta")) e->ignored_blocks++;
    } else if (str_eq(type, "message_delta")) {
        const char *f = anthropic_finish(jstr(ev, "delta.stop_reason"));
        if (f) e->finish = f;
        const char *k;
        json_t *v;
        if (!s->usage) s->usage = json_object();
        json_object_foreach(jpath(ev, "usage"), k, v) if (!json_is_null(v)) json_object_set(s->usage, k, v);
    }
    json_decref(ev);
}

static void expect_anthropic(expected *e, const char *body, bool stream, int *bad) {
    if (stream) {
        astate s;
        memset(&s, 0, sizeof s);
        s.e = e;
        sse_parse(body, anthropic_event, &s);
        if (s.usage) anthropic_usage(e, s.usage);
        json_decref(s.usage);
        *bad = s.bad_events;
    } else {
        json_t *m = jparse(body);
        e->id = sdup(jstr(m, "id"));
        e->model = sdup(jstr(m, "model"));
        size_t i;
        json_t *b;
        json_array_foreach(jpath(m, "content"), i, b) {
            const char *bt = jstr(b, "type");
            if (str_eq(bt, "text")) sappend(&e->content, jstr(b, "text"));
            else if (str_eq(bt, "thinking")) {
                sappend(&e->reasoning, jstr(b, "thinking"));
                free(e->signature);
                e->signature = sdup(jstr(b, "signature"));
            } else if (str_eq(bt, "tool_use") && e->ncalls < MAXCALLS) {
                int k = e->ncalls++;
                e->call_id[k] = sdup(jstr(b, "id"));
                e->call_name[k] = sdup(jstr(b, "name"));
                e->call_args[k] = json_dumps(json_object_get(b, "input"), JSON_COMPACT | JSON_ENCODE_ANY);
            } else e->ignored_blocks++;
        }
        e->finish = anthropic_finish(jstr(m, "stop_reason"));
        if (json_is_object(jpath(m, "usage"))) anthropic_usage(e, jpath(m, "usage"));
        *bad = m ? 0 : 1;
        json_decref(m);
    }
    for (int i = 0; i < e->ncalls; i++)
        if (!e->call_args[i] || !*e->call_args[i]) {
            free(e->call_args[i]);
            e->call_args[i] = strdup("{}");
        }
}

/* ---- Gemini --------------------------------------------------------------------------------------------------------- */

typedef struct gstate {
    expected *e;
    bool candidates, blocked;
    const char *finish_reason;
    char finish_buf[64];
    json_t *usage;
    int bad;
} gstate;

static void gemini_element(gstate *s, json_t *el) {
    expected *e = s->e;
    if (!json_is_object(el)) {
        s->bad++;
        return;
    }
    if (!e->id && jstr(el, "responseId")) e->id = sdup(jstr(el, "responseId"));
    if (jstr(el, "modelVersion")) {
        free(e->model);
        e->model = sdup(jstr(el, "modelVersion"));
    }
    if (json_is_object(json_object_get(el, "usageMetadata"))) {
        json_decref(s->usage);
        s->usage = json_incref(json_object_get(el, "usageMetadata"));
    }
    if (json_array_size(json_object_get(el, "candidates")) > 0) s->candidates = true;
    if (jstr(el, "promptFeedback.blockReason")) s->blocked = true;
    size_t i, k;
    json_t *cand, *part;
    json_array_foreach(json_object_get(el, "candidates"), i, cand) {
        if (jint(cand, "index", 0) != 0) continue;
        json_array_foreach(jpath(cand, "content.parts"), k, part) {
            json_t *fc = json_object_get(part, "functionCall");
            const char *text = jstr(part, "text");
            if (fc && e->ncalls < MAXCALLS) {
                int c = e->ncalls++;
                e->call_id[c] = sdup(jstr(fc, "id"));
                e->call_name[c] = sdup(jstr(fc, "name"));
                json_t *args = json_object_get(fc, "args");
                e->call_args[c] = args ? json_dumps(args, JSON_COMPACT) : strdup("{}");
                e->call_sig[c] = sdup(jstr(part, "thoughtSignature"));
            } else if (text && json_is_true(json_object_get(part, "thought"))) {
                sappend(&e->reasoning, text);
            } else if (text) {
                sappend(&e->content, text);
            } else {
                e->ignored_blocks++;
            }
        }
        if (jstr(cand, "finishReason")) {
            snprintf(s->finish_buf, sizeof s->finish_buf, "%s", jstr(cand, "finishReason"));
            s->finish_reason = s->finish_buf;
        }
    }
}

static void gemini_sse_event(const char *event, const char *data, void *ud) {
    (void)event;
    gstate *s = ud;
    json_t *el = jparse(data);
    gemini_element(s, el);
    json_decref(el);
}

static void expect_gemini(expected *e, const char *body, int *bad) {
    gstate s;
    memset(&s, 0, sizeof s);
    s.e = e;
    const char *p = body;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    if (*p == '[' || *p == '{') {
        json_t *v = jparse(body);
        if (json_is_array(v)) {
            size_t i;
            json_t *el;
            json_array_foreach(v, i, el) gemini_element(&s, el);
        } else {
            gemini_element(&s, v);
        }
        json_decref(v);
    } else {
        sse_parse(body, gemini_sse_event, &s);
    }
    const char *fr = s.finish_reason;
    if (!s.candidates && s.blocked) e->finish = "content_filter"; /* the prompt itself was blocked */
    else if (!fr || str_eq(fr, "FINISH_REASON_UNSPECIFIED")) e->finish = NULL;
    else if (str_eq(fr, "MAX_TOKENS")) e->finish = "length";
    else if (str_eq(fr, "SAFETY") || str_eq(fr, "RECITATION") || str_eq(fr, "BLOCKLIST") || str_eq(fr, "PROHIBITED_CONTENT") ||
             str_eq(fr, "SPII") || str_eq(fr, "IMAGE_SAFETY"))
        e->finish = "content_filter";
    else e->finish = e->ncalls ? "tool_calls" : "stop";
    if (s.usage) {
        long long cand = jint(s.usage, "candidatesTokenCount", 0), thoughts = jint(s.usage, "thoughtsTokenCount", -1);
        e->prompt = jint(s.usage, "promptTokenCount", 0);
        e->completion = cand + (thoughts > 0 ? thoughts : 0);
        e->total = jint(s.usage, "totalTokenCount", e->prompt + e->completion);
        e->reasoning_tokens = thoughts;
        e->cached = jint(s.usage, "cachedContentTokenCount", -1);
    }
    json_decref(s.usage);
    *bad = s.bad;
}

/* ---- replay and compare --------------------------------------------------------------------------------------------- */

typedef struct coverage {
    int replayed, with_text, with_calls, with_reasoning, with_ignored, with_cache_or_delta_usage;
} coverage;

static coverage g_cov[2];

/* ask_stream: request a stream even though the recording is a whole body (a server that ignores "stream": the
 * caller must still get its chunks). */
static void replay_one(const char *base, const char *provider, const char *name, json_t *fx, coverage *cov, bool ask_stream) {
    const char *body = jstr(fx, "response.body_text");
    const char *ctype = jstr(fx, "response.content_type");
    bool recorded_stream = json_is_true(json_object_get(fx, "stream")) || (ctype && strstr(ctype, "event-stream"));
    bool stream = recorded_stream || ask_stream;
    bool anthropic = strcmp(provider, "anthropic") == 0;
    expected e;
    expected_init(&e);
    int bad = 0;
    if (anthropic) expect_anthropic(&e, body, recorded_stream, &bad);
    else expect_gemini(&e, body, &bad);
    char where[400];
    snprintf(where, sizeof where, "%s/%s%s", provider, name,
             recorded_stream ? " (stream)" : ask_stream ? " (whole body to a stream request)" : "");
    CHECK(bad == 0, "%s: %d events of the recording did not parse", where, bad);

    if (!ask_stream) cov->replayed++;
    if (e.content && *e.content) cov->with_text++;
    if (e.ncalls) cov->with_calls++;
    if (e.reasoning && *e.reasoning) cov->with_reasoning++;
    if (e.ignored_blocks) cov->with_ignored++;

    char model[600];
    snprintf(model, sizeof model, "%s:replay:%s", provider, name);
    json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "model", model, "messages", "Hello", "api_base", base, "api_key", TEST_KEY);
    if (stream) json_object_set_new(req, "stream", json_true());
    req_client_arg(req, "max_retries", json_integer(0));
    nres o;
    nrun(g_client, req, &o, where);
    if (expect_ok(&o)) {
        json_t *r = o.r.j, *msg = jpath(r, "choices[0].message");
        /* content */
        const char *content = jstr(msg, "content");
        if (e.content && *e.content) {
            CHECK(str_eq(content, e.content), "%s: content \"%.300s\", the recording says \"%.300s\"", where, or_null(content), e.content);
        } else {
            CHECK(json_is_null(json_object_get(msg, "content")) || str_eq(content, ""), "%s: content \"%.200s\" where the recording has none",
                  where, or_null(content));
            if (!e.ncalls) CHECK(str_eq(content, ""), "%s: content is null without tool calls", where);
        }
        /* reasoning */
        const char *reasoning = jstr(msg, "reasoning.content");
        if (e.reasoning && *e.reasoning)
            CHECK(str_eq(reasoning, e.reasoning), "%s: reasoning \"%.200s\", the recording says \"%.200s\"", where, or_null(reasoning),
                  e.reasoning);
        else
            CHECK(jpath(msg, "reasoning") == NULL, "%s: reasoning %.100s where the recording has none", where, or_null(reasoning));
        if (anthropic && e.signature)
            CHECK(str_eq(jstr(msg, "reasoning.signature"), e.signature), "%s: reasoning.signature %.40s…, the recording's %.40s…",
                  where, or_null(jstr(msg, "reasoning.signature")), e.signature);
        /* tool calls */
        json_t *calls = json_object_get(msg, "tool_calls");
        CHECK((int)json_array_size(calls) == e.ncalls, "%s: %zu tool calls, the recording has %d", where, json_array_size(calls),
              e.ncalls);
        for (int i = 0; i < e.ncalls && i < (int)json_array_size(calls); i++) {
            json_t *call = json_array_get(calls, (size_t)i);
            CHECK(str_eq(jstr(call, "function.name"), e.call_name[i]), "%s: call %d name %s, want %s", where, i,
                  or_null(jstr(call, "function.name")), or_null(e.call_name[i]));
            const char *args = jstr(call, "function.arguments");
            CHECK(json_text_equal(args, e.call_args[i]), "%s: call %d arguments %s, the recording says %s", where, i, or_null(args),
                  e.call_args[i]);
            json_t *ja = jparse(args);
            CHECK(json_is_object(ja), "%s: call %d arguments are not a JSON object", where, i);
            json_decref(ja);
            if (e.call_id[i])
                CHECK(str_eq(jstr(call, "id"), e.call_id[i]), "%s: call %d id %s, the recording's %s", where, i,
                      or_null(jstr(call, "id")), e.call_id[i]);
            else
                CHECK(jstr(call, "id") && *jstr(call, "id"), "%s: call %d has no id", where, i);
            CHECK(str_eq(jstr(call, "type"), "function"), "%s: call %d type %s", where, i, or_null(jstr(call, "type")));
            if (e.call_sig[i])
                CHECK(str_eq(jstr(call, "extra_content.google.thought_signature"), e.call_sig[i]),
                      "%s: call %d extra_content.google.thought_signature %.30s, the recording's thoughtSignature %.30s…", where, i,
                      or_null(jstr(call, "extra_content.google.thought_signature")), e.call_sig[i]);
        }
        /* finish_reason */
        if (e.finish)
            CHECK(str_eq(jstr(r, "choices[0].finish_reason"), e.finish), "%s: finish_reason %s, want %s", where,
                  or_null(jstr(r, "choices[0].finish_reason")), e.finish);
        /* usage */
        if (CHECK(json_is_object(json_object_get(r, "usage")), "%s: no usage", where) && e.prompt >= 0) {
            CHECK(jint(r, "usage.prompt_tokens", -1) == e.prompt, "%s: prompt_tokens %lld, want %lld", where,
                  jint(r, "usage.prompt_tokens", -1), e.prompt);
            CHECK(jint(r, "usage.completion_tokens", -1) == e.completion, "%s: completion_tokens %lld, want %lld", where,
                  jint(r, "usage.completion_tokens", -1), e.completion);
            CHECK(jint(r, "usage.total_tokens", -1) == e.total, "%s: total_tokens %lld, want %lld", where,
                  jint(r, "usage.total_tokens", -1), e.total);
            CHECK(e.total == e.prompt + e.completion, "%s: the recording's total %lld != prompt %lld + completion %lld", where, e.total,
                  e.prompt, e.completion);
            if (e.cached >= 0)
                CHECK(jint(r, "usage.prompt_tokens_details.cached_tokens", -1) == e.cached, "%s: cached_tokens %lld, want %lld", where,
                      jint(r, "usage.prompt_tokens_details.cached_tokens", -1), e.cached);
            if (e.reasoning_tokens > 0)
                CHECK(jint(r, "usage.completion_tokens_details.reasoning_tokens", -1) == e.reasoning_tokens,
                      "%s: reasoning_tokens %lld, want %lld", where, jint(r, "usage.completion_tokens_details.reasoning_tokens", -1),
                      e.reasoning_tokens);
        }
        /* id and model */
        if (e.id) CHECK(str_eq(jstr(r, "id"), e.id), "%s: id %s, the recording's %s", where, or_null(jstr(r, "id")), e.id);
        if (e.model) CHECK(str_eq(jstr(r, "model"), e.model), "%s: model %s, the recording's %s", where, or_null(jstr(r, "model")), e.model);
        if (stream) {
            /* every chunk is of this response */
            size_t i;
            json_t *ch;
            int wrong = 0;
            json_array_foreach(o.c.chunks, i, ch) if (e.id && !str_eq(jstr(ch, "id"), e.id)) wrong++;
            CHECK(wrong == 0, "%s: %d chunks with an id other than %s", where, wrong, or_null(e.id));
            if (e.ncalls) {
                /* the thought signature rides on the chunk that carries the call */
                for (int c = 0; c < e.ncalls; c++) {
                    if (!e.call_sig[c]) continue;
                    bool seen = false;
                    size_t k;
                    json_t *tc;
                    json_array_foreach(o.c.chunks, i, ch) json_array_foreach(jpath(ch, "choices[0].delta.tool_calls"), k, tc) {
                        if (jint(tc, "index", -1) == c && str_eq(jstr(tc, "extra_content.google.thought_signature"), e.call_sig[c]))
                            seen = true;
                    }
                    CHECK(seen, "%s: no chunk carries call %d's thought signature", where, c);
                }
            }
        }
    }
    nres_free(&o);
    json_decref(req);
    expected_free(&e);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_chat(const char *provider, json_t *fx) {
    const char *uri = jstr(fx, "request.uri"), *method = jstr(fx, "request.method");
    if (!uri || !str_eq(method, "POST")) return false;
    if (strcmp(provider, "anthropic") == 0) {
        const char *q = strstr(uri, "/v1/messages");
        return q && (q[12] == 0 || q[12] == '?'); /* not /v1/messages/count_tokens or /batches */
    }
    return strstr(uri, ":generateContent") || strstr(uri, ":streamGenerateContent");
}

/* Replays every 200 chat recording of root/provider against the emulator at base. */
static void replay_dir(const char *root, const char *base, const char *provider, coverage *cov) {
    if (!CHECK(root && *root, "no fixtures folder (ANYLLM_FIXTURES is not set)")) return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, provider);
    DIR *d = opendir(dir);
    if (!CHECK(d != NULL, "cannot open %s", dir)) return;
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0) {
            names = realloc(names, sizeof *names * (size_t)(n + 1));
            names[n++] = strdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    int skipped = 0;
    for (int i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_error_t err;
        json_t *fx = json_load_file(path, 0, &err);
        CHECK(fx != NULL, "%s: not JSON: %s", path, err.text);
        if (fx && is_chat(provider, fx) && jint(fx, "response.status", 0) == 200 && jstr(fx, "response.body_text")) {
            names[i][strlen(names[i]) - 5] = 0;
            TEST(names[i]);
            replay_one(base, provider, names[i], fx, cov, false);
            const char *ct = jstr(fx, "response.content_type");
            if (!json_is_true(json_object_get(fx, "stream")) && !(ct && strstr(ct, "event-stream")))
                replay_one(base, provider, names[i], fx, cov, true);
        } else {
            skipped++;
        }
        json_decref(fx);
        free(names[i]);
    }
    free(names);
    fprintf(stderr, "     %s: %d recordings replayed, %d skipped (not a 200 chat answer)\n", provider, cov->replayed, skipped);
}

/* ---- synthetic recordings: what the recorded files do not exercise, written in the real wire formats -------------- */

typedef struct synthetic {
    const char *provider, *name, *uri, *content_type;
    bool stream;
    const char *body;
    /* what the recording says, by hand: checks the test's own reading of it */
    const char *content, *finish;
    long long prompt, completion, cached;
    int ncalls;
} synthetic;

#define A_URI "https://api.anthropic.com/v1/messages"
#define G_URI "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
#define G_URI_NS "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
#define SSE_CT "text/event-stream; charset=utf-8"
#define JSON_CT "application/json"

static const synthetic SYNTHETIC[] = {
    /* prompt caching: prompt_tokens = input + cache creation + cache read; message_delta with output_tokens only */
    {"anthropic", "syn_cache_usage", A_URI, SSE_CT, true,
     "event: message_start\n"
     "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01SynCache\",\"type\":\"message\",\"role\":\"assistant\","
     "\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,"
     "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":2000,\"output_tokens\":1}}}\n\n"
     "event: content_block_start\n"
     "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
     "event: ping\ndata: {\"type\": \"ping\"}\n\n"
     "event: content_block_delta\n"
     "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Cached \"}}\n\n"
     "event: content_block_delta\n"
     "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"answer.\"}}\n\n"
     "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
     "event: message_delta\n"
     "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n"
     "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
     "Cached answer.", "stop", 2112, 5, 2000, 0},
    /* CRLF framing, trailing spaces, redacted thinking, text given in content_block_start, a tool_use whose input
     * arrives in fragments that split a word, an unknown event type */
    {"anthropic", "syn_text_tool", A_URI, SSE_CT, true,
     "event: message_start\r\n"
     "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01SynTool\",\"type\":\"message\",\"role\":\"assistant\","
     "\"model\":\"claude-opus-4-1\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":20,"
     "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}    \r\n\r\n"
     "event: content_block_start\r\n"
     "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"RW1zS0FoZ0I=\"}}\r\n\r\n"
     "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n"
     "event: content_block_start\r\n"
     "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"Hi\"}}  \r\n\r\n"
     "event: content_block_delta\r\n"
     "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\" there\"}}\r\n\r\n"
     "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":1}\r\n\r\n"
     "event: content_block_start\r\n"
     "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01SynLookup\","
     "\"name\":\"lookup\",\"input\":{}}}\r\n\r\n"
     "event: content_block_delta\r\n"
     "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\r\n\r\n"
     "event: content_block_delta\r\n"
     "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"q\\\": \\\"caf\"}}\r\n\r\n"
     "event: content_block_delta\r\n"
     "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"é\\\", \\\"n\\\": 2}\"}}\r\n\r\n"
     "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":2}\r\n\r\n"
     "event: content_block_future\r\ndata: {\"type\":\"content_block_future\",\"index\":3}\r\n\r\n"
     "event: message_delta\r\n"
     "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":20,"
     "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":30}}\r\n\r\n"
     "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n",
     "Hi there", "tool_calls", 20, 30, 0, 1},
    {"anthropic", "syn_max_tokens", A_URI, SSE_CT, true,
     "event: message_start\n"
     "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01SynMax\",\"type\":\"message\",\"role\":\"assistant\","
     "\"model\":\"claude-haiku-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,"
     "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n"
     "event: content_block_start\n"
     "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
     "event: content_block_delta\n"
     "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Once upon a\"}}\n\n"
     "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
     "event: message_delta\n"
     "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":3}}\n\n"
     "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
     "Once upon a", "length", 3, 3, 0, 0},
    /* a non-streamed message: thinking (signed), text, two tool_use blocks, cache read */
    {"anthropic", "syn_message", A_URI, JSON_CT, false,
     "{\"id\":\"msg_01SynMessage\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-opus-4-1\",\"content\":["
     "{\"type\":\"thinking\",\"thinking\":\"The user wants a lookup.\",\"signature\":\"RXFRQkNrWUlCeGdDS2tCc2ln\"},"
     "{\"type\":\"text\",\"text\":\"Looking it up.\"},"
     "{\"type\":\"tool_use\",\"id\":\"toolu_01SynA\",\"name\":\"lookup\",\"input\":{\"q\":\"x\",\"n\":2}},"
     "{\"type\":\"tool_use\",\"id\":\"toolu_01SynB\",\"name\":\"fetch\",\"input\":{}}],"
     "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":50,\"cache_creation_input_tokens\":0,"
     "\"cache_read_input_tokens\":7,\"output_tokens\":40}}",
     "Looking it up.", "tool_calls", 57, 40, 7, 2},
    /* Gemini SSE (alt=sse): a thought, text, two calls in one event (signature on the first), cached and thought tokens */
    {"gemini", "syn_sse", G_URI, "text/event-stream", true,
     "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Thinking about it.\",\"thought\": true}],\"role\": \"model\"},"
     "\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.5-pro\","
     "\"responseId\": \"synSseResp1\"}\r\n\r\n"
     "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Calling two tools.\"}],\"role\": \"model\"},\"index\": 0}],"
     "\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.5-pro\",\"responseId\": \"synSseResp1\"}\r\n\r\n"
     "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"get_weather\",\"args\": {\"city\": \"Zürich\"}},"
     "\"thoughtSignature\": \"c2lnbmF0dXJlLTE=\"},{\"functionCall\": {\"name\": \"get_time\",\"args\": {\"tz\": \"CET\"}}}],"
     "\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,"
     "\"candidatesTokenCount\": 11,\"totalTokenCount\": 27,\"cachedContentTokenCount\": 4,\"thoughtsTokenCount\": 7},"
     "\"modelVersion\": \"gemini-2.5-pro\",\"responseId\": \"synSseResp1\"}\r\n\r\n",
     "Calling two tools.", "tool_calls", 9, 18, 4, 2},
    /* non-streamed generateContent: MAX_TOKENS */
    {"gemini", "syn_generate", G_URI_NS, "application/json; charset=UTF-8", false,
     "{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n            \"text\": \"Partial ans\"\n"
     "          }\n        ],\n        \"role\": \"model\"\n      },\n      \"finishReason\": \"MAX_TOKENS\",\n      \"index\": 0\n    }\n  ],\n"
     "  \"usageMetadata\": {\n    \"promptTokenCount\": 5,\n    \"candidatesTokenCount\": 3,\n    \"totalTokenCount\": 8\n  },\n"
     "  \"modelVersion\": \"gemini-2.5-flash\",\n  \"responseId\": \"synGenerate1\"\n}\n",
     "Partial ans", "length", 5, 3, -1, 0},
    /* a streamed array ending in SAFETY (a candidate without content) */
    {"gemini", "syn_safety", G_URI, "application/json; charset=UTF-8", true,
     "[{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n            \"text\": \"Here is\"\n          }\n"
     "        ],\n        \"role\": \"model\"\n      },\n      \"index\": 0\n    }\n  ],\n  \"usageMetadata\": {\n    \"promptTokenCount\": 4,\n"
     "    \"totalTokenCount\": 4\n  },\n  \"modelVersion\": \"gemini-2.5-flash\",\n  \"responseId\": \"synSafety1\"\n}\n,\r\n{\n"
     "  \"candidates\": [\n    {\n      \"finishReason\": \"SAFETY\",\n      \"index\": 0,\n      \"safetyRatings\": [\n        {\n"
     "          \"category\": \"HARM_CATEGORY_DANGEROUS_CONTENT\",\n          \"probability\": \"HIGH\",\n          \"blocked\": true\n"
     "        }\n      ]\n    }\n  ],\n  \"usageMetadata\": {\n    \"promptTokenCount\": 4,\n    \"candidatesTokenCount\": 2,\n"
     "    \"totalTokenCount\": 6\n  },\n  \"modelVersion\": \"gemini-2.5-flash\",\n  \"responseId\": \"synSafety1\"\n}\n]",
     "Here is", "content_filter", 4, 2, -1, 0},
    /* the prompt itself blocked: no candidates at all, streamed and not */
    {"gemini", "syn_blocked", G_URI_NS, "application/json; charset=UTF-8", false,
     "{\n  \"promptFeedback\": {\n    \"blockReason\": \"PROHIBITED_CONTENT\"\n  },\n  \"usageMetadata\": {\n    \"promptTokenCount\": 8,\n"
     "    \"totalTokenCount\": 8\n  },\n  \"modelVersion\": \"gemini-2.5-flash\",\n  \"responseId\": \"synBlocked1\"\n}\n",
     "", "content_filter", 8, 0, -1, 0},
    {"gemini", "syn_blocked_stream", G_URI, "application/json; charset=UTF-8", true,
     "[{\n  \"promptFeedback\": {\n    \"blockReason\": \"PROHIBITED_CONTENT\"\n  },\n  \"usageMetadata\": {\n    \"promptTokenCount\": 8,\n"
     "    \"totalTokenCount\": 8\n  },\n  \"modelVersion\": \"gemini-2.5-flash\",\n  \"responseId\": \"synBlocked2\"\n}\n]",
     "", "content_filter", 8, 0, -1, 0},
};
#define NSYNTHETIC (sizeof SYNTHETIC / sizeof *SYNTHETIC)

static void test_synthetic(void) {
    TEST("synthetic recordings: the test's reading of them");
    char root[] = "/tmp/anyllm-native-replay-XXXXXX";
    if (!CHECK(mkdtemp(root) != NULL, "mkdtemp failed")) return;
    char path[512];
    const char *provs[] = {"anthropic", "gemini"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", root, provs[i]);
        mkdir(path, 0700);
    }
    for (size_t i = 0; i < NSYNTHETIC; i++) {
        const synthetic *y = &SYNTHETIC[i];
        json_t *fx = json_pack("{s:s, s:b, s:{s:s, s:s, s:{}}, s:{s:i, s:s, s:s}}", "provider", y->provider, "stream", y->stream,
                               "request", "method", "POST", "uri", y->uri, "body", "response", "status", 200, "content_type",
                               y->content_type, "body_text", y->body);
        snprintf(path, sizeof path, "%s/%s/%s.json", root, y->provider, y->name);
        CHECK(fx && json_dump_file(fx, path, JSON_INDENT(1)) == 0, "cannot write %s", path);
        json_decref(fx);

        /* the hand-known values == the test's own reading (else the comparison below would prove little) */
        expected e;
        expected_init(&e);
        int bad = 0;
        if (strcmp(y->provider, "anthropic") == 0) expect_anthropic(&e, y->body, y->stream, &bad);
        else expect_gemini(&e, y->body, &bad);
        CHECK(bad == 0 && str_eq(e.content ? e.content : "", y->content) && str_eq(e.finish, y->finish) && e.prompt == y->prompt &&
                  e.completion == y->completion && e.cached == y->cached && e.ncalls == y->ncalls,
              "%s: read as content \"%s\" finish %s usage %lld/%lld cached %lld calls %d", y->name, or_null(e.content),
              or_null(e.finish), e.prompt, e.completion, e.cached, e.ncalls);
        expected_free(&e);
    }
    emulator emu2;
    if (CHECK(emulator_start(&emu2, root) == 0, "a second emulator on %s did not start", root)) {
        coverage cov[2] = {{0}};
        replay_dir(root, emu2.url, "anthropic", &cov[0]);
        replay_dir(root, emu2.url, "gemini", &cov[1]);
        CHECK(cov[0].replayed + cov[1].replayed == (int)NSYNTHETIC, "%d synthetic recordings replayed, want %zu",
              cov[0].replayed + cov[1].replayed, NSYNTHETIC);
        emulator_stop(&emu2);
    }
    for (size_t i = 0; i < NSYNTHETIC; i++) {
        snprintf(path, sizeof path, "%s/%s/%s.json", root, SYNTHETIC[i].provider, SYNTHETIC[i].name);
        unlink(path);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", root, provs[i]);
        rmdir(path);
    }
    rmdir(root);
}

typedef struct sse_test_acc {
    int n;
    char got[4][64];
} sse_test_acc;

static void sse_test_on(const char *ev, const char *data, void *ud) {
    (void)ev;
    sse_test_acc *a = ud;
    if (a->n < 4) snprintf(a->got[a->n], sizeof a->got[a->n], "%s", data);
    a->n++;
}

int main(void) {
    test_setup();
    g_client = anyllm_client_new(NULL, NULL);
    double t0 = now_s();

    /* the SSE reader itself, on the framings the recordings and providers use */
    TEST("the test's SSE reader");
    {
        const char *bodies[] = {"event: a\ndata: {\"x\":1}\n\ndata:{\"x\":2}  \n\n", "event: a\r\ndata: {\"x\":1}\r\n\r\n: c\r\ndata:{\"x\":2}  \r\n\r\n",
                                "data: {\"x\":1}\r\rdata: {\"x\":\r\ndata: 2}  \n\n"};
        for (int i = 0; i < 3; i++) {
            sse_test_acc a = {0};
            sse_parse(bodies[i], sse_test_on, &a);
            json_t *x1 = jparse(a.got[0]), *x2 = jparse(a.got[1]);
            CHECK(a.n == 2 && jint(x1, "x", 0) == 1 && jint(x2, "x", 0) == 2, "SSE body %d: %d events (%s | %s)", i, a.n, a.got[0], a.got[1]);
            json_decref(x1);
            json_decref(x2);
        }
    }

    replay_dir(getenv("ANYLLM_FIXTURES"), g_emu.url, "anthropic", &g_cov[0]);
    replay_dir(getenv("ANYLLM_FIXTURES"), g_emu.url, "gemini", &g_cov[1]);

    test_synthetic();

    TEST("what the recordings exercise");
    for (int i = 0; i < 2; i++) {
        coverage *c = &g_cov[i];
        const char *p = i == 0 ? "anthropic" : "gemini";
        fprintf(stderr, "     %s: %d replayed; text %d, tool calls %d, reasoning %d, server-tool/citation blocks %d\n", p, c->replayed,
                c->with_text, c->with_calls, c->with_reasoning, c->with_ignored);
        CHECK(c->replayed >= (i == 0 ? 25 : 15), "%s: only %d recordings replayed", p, c->replayed);
        CHECK(c->with_text >= 10 && c->with_calls >= 3 && c->with_reasoning >= 3, "%s: the recordings exercise too little", p);
    }
    CHECK(g_cov[0].with_ignored >= 2, "no Anthropic recording with server-tool blocks was replayed");

    fprintf(stderr, "test_native_replay: %.1f s\n", now_s() - t0);
    anyllm_client_free(g_client);
    return test_teardown();
}
