/*
 * demo — one completion and one streamed completion through libanyllm.so.
 *
 *   demo [MODEL]        MODEL as "provider:model"; default: $ANYLLM_MODEL, else the first provider
 *                       whose API key is set in the environment, else the local provider emulator
 *                       (started by this program; set ANYLLM_EMULATOR to its emulator.py).
 *
 * Requests are built and results read with jansson, as a C application would.
 */
#include <anyllm.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Providers tried in order when no model is given: (key variable, model). */
static const char *const DEFAULTS[][2] = {
    {"OPENAI_API_KEY", "openai:gpt-4.1-mini"},
    {"ANTHROPIC_API_KEY", "anthropic:claude-haiku-4-5"},
    {"MISTRAL_API_KEY", "mistral:mistral-small-latest"},
    {"GROQ_API_KEY", "groq:llama-3.1-8b-instant"},
    {"DEEPSEEK_API_KEY", "deepseek:deepseek-chat"},
    {"OPENROUTER_API_KEY", "openrouter:openai/gpt-4.1-mini"},
};

static pid_t emulator_pid = 0;
static int emulator_stdin = -1;

/* Starts the emulator and returns its base URL (static buffer), or NULL. */
static const char *start_emulator(void) {
    static char url[256];
    const char *script = getenv("ANYLLM_EMULATOR");
    if (!script) script = "Tests/emulator/emulator.py";
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return NULL;
    emulator_pid = fork();
    if (emulator_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    emulator_stdin = in[1]; /* the emulator exits when this closes, also if we die */
    FILE *f = fdopen(out[0], "r");
    char line[512];
    if (!f || !fgets(line, sizeof line, f) || strncmp(line, "ANYLLM_EMULATOR ", 16) != 0) {
        fprintf(stderr, "demo: could not start the emulator (%s)\n", script);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = 0;
    snprintf(url, sizeof url, "%s/v1", line + 16);
    return url;
}

static void stop_emulator(void) {
    if (emulator_pid > 0) {
        close(emulator_stdin);
        kill(emulator_pid, SIGTERM);
        waitpid(emulator_pid, NULL, 0);
    }
}

/* Prints each streamed content delta as it arrives. */
static int on_chunk(const char *chunk_json, size_t len, void *user_data) {
    (void)user_data;
    json_t *chunk = json_loadb(chunk_json, len, 0, NULL);
    json_t *choices = json_object_get(chunk, "choices");
    if (json_array_size(choices) > 0) {
        const char *text = json_string_value(json_object_get(json_object_get(json_array_get(choices, 0), "delta"), "content"));
        if (text) {
            fputs(text, stdout);
            fflush(stdout);
        }
    }
    json_decref(chunk);
    return 0;
}

static void print_usage(json_t *completion) {
    json_t *usage = json_object_get(completion, "usage");
    if (usage)
        printf("[usage: %lld prompt + %lld completion tokens]\n",
               (long long)json_integer_value(json_object_get(usage, "prompt_tokens")),
               (long long)json_integer_value(json_object_get(usage, "completion_tokens")));
}

/* Runs one request; returns 0 on success. */
static int run(const char *model, const char *api_base, int stream) {
    json_t *req = json_object();
    json_object_set_new(req, "model", json_string(model));
    json_object_set_new(req, "messages", json_pack("[{s:s, s:s}, {s:s, s:s}]",
        "role", "system", "content", "You are a concise assistant.",
        "role", "user", "content", stream ? "Count from one to five in words." : "Say hello in one short sentence."));
    json_object_set_new(req, "max_tokens", json_integer(64));
    if (stream) json_object_set_new(req, "stream", json_true());
    if (api_base) {
        json_object_set_new(req, "api_base", json_string(api_base));
        json_object_set_new(req, "api_key", json_string("sk-emulator-demo"));
    }
    char *request_json = json_dumps(req, JSON_COMPACT);
    json_decref(req);

    char *out = NULL;
    printf("%s %s:\n", stream ? "streamed" : "completion", model);
    anyllm_status st = anyllm_completion(NULL, request_json, stream ? on_chunk : NULL, NULL, &out);
    free(request_json);

    json_t *result = json_loads(out, 0, NULL);
    int rc = 0;
    if (st == ANYLLM_OK) {
        if (stream) {
            printf("\n");
        } else {
            json_t *msg = json_object_get(json_array_get(json_object_get(result, "choices"), 0), "message");
            printf("%s\n", json_string_value(json_object_get(msg, "content")));
        }
        print_usage(result);
    } else {
        json_t *err = json_object_get(result, "error");
        fprintf(stderr, "error (%s): %s\n", json_string_value(json_object_get(err, "type")),
                json_string_value(json_object_get(err, "message")));
        rc = 1;
    }
    json_decref(result);
    anyllm_string_free(out);
    return rc;
}

int main(int argc, char **argv) {
    const char *model = argc > 1 ? argv[1] : getenv("ANYLLM_MODEL");
    const char *api_base = NULL;
    for (size_t i = 0; !model && i < sizeof DEFAULTS / sizeof DEFAULTS[0]; i++) {
        const char *key = getenv(DEFAULTS[i][0]);
        if (key && *key) model = DEFAULTS[i][1];
    }
    printf("libanyllm %s\n", anyllm_version());
    if (!model) {
        api_base = start_emulator();
        if (!api_base) return 1;
        model = "openai:gpt-4.1-mini";
        printf("no provider API key set: using the local provider emulator at %s\n", api_base);
    }
    int rc = run(model, api_base, 0) || run(model, api_base, 1);
    stop_emulator();
    return rc;
}
