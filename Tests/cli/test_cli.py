"""The `anyllm` command line against the provider emulator: prompts, options, output formats,
model choice, the providers table, and one clear error line with its own exit code per class."""

import json
import re

import pytest

OUT = lambda r: r.stdout.decode()  # noqa: E731
ERR = lambda r: r.stderr.decode()  # noqa: E731


def one_error_line(r):
    err = ERR(r)
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("anyllm: "), repr(err)
    return err


# ---- basics --------------------------------------------------------------------------------

def test_version(anyllm):
    r = anyllm.run("--version", api=False)
    assert r.returncode == 0
    assert re.fullmatch(r"anyllm \d+\.\d+\.\d+\n", OUT(r))


def test_help_has_examples_and_every_exit_code(anyllm):
    r = anyllm.run("--help", api=False)
    assert r.returncode == 0
    text = OUT(r)
    assert "Examples:" in text and "anyllm providers" in text and "-m, --model" in text
    for code in (0, 1, 2, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 26, 130):
        assert re.search(r"^  %d\s+\S" % code, text, re.M), code


def test_prompt_argument(anyllm):
    r = anyllm.run("hello", "world", model="openai:echo")
    assert (r.returncode, OUT(r), ERR(r)) == (0, "You said: hello world\n", "")
    body = anyllm.last_request()["body"]
    assert body["stream"] is True and body["messages"] == [{"role": "user", "content": "hello world"}]


def test_prompt_from_stdin(anyllm):
    r = anyllm.run(model="openai:echo", input="piped prompt\n")
    assert (r.returncode, OUT(r)) == (0, "You said: piped prompt\n")


def test_dash_inserts_stdin(anyllm):
    r = anyllm.run("Summarize:", "-", model="openai:echo", input="the text\n")
    assert r.returncode == 0
    assert anyllm.last_request()["body"]["messages"][-1]["content"] == "Summarize:\nthe text"


def test_no_stream(anyllm):
    r = anyllm.run("--no-stream", "hi", model="openai:echo")
    assert (r.returncode, OUT(r)) == (0, "You said: hi\n")
    assert anyllm.last_request()["body"].get("stream") in (False, None)


def test_parameters_reach_the_provider(anyllm):
    r = anyllm.run("-s", "Be brief.", "-t", "0.25", "--max-tokens", "7", "-o", "seed=42", "-o", "user=bob",
                   "-o", 'stop=["zz"]', "-o", "logprobs=true", "--timeout", "30", "--retries", "0",
                   "--no-stream", "hi", model="openai:echo")
    assert r.returncode == 0, ERR(r)
    body = anyllm.last_request()["body"]
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert body["temperature"] == 0.25
    assert body["max_completion_tokens"] == 7          # openai's spelling of max_tokens
    assert body["seed"] == 42 and body["user"] == "bob" and body["stop"] == ["zz"] and body["logprobs"] is True
    assert "api_key" not in body and "client_args" not in body


def test_option_prompt_after_double_dash(anyllm):
    r = anyllm.run("--", "providers", model="openai:echo")
    assert (r.returncode, OUT(r)) == (0, "You said: providers\n")


def test_json_stream_prints_chunks_as_lines(anyllm):
    r = anyllm.run("--json", "hi", "there", model="openai:echo")
    assert r.returncode == 0
    lines = OUT(r).splitlines()
    chunks = [json.loads(line) for line in lines]
    assert len(chunks) > 3 and all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "You said: hi there"


def test_json_no_stream_prints_the_chat_completion(anyllm):
    r = anyllm.run("--json", "--no-stream", "hi", model="openai:echo")
    assert r.returncode == 0
    (line,) = OUT(r).splitlines()
    c = json.loads(line)
    assert c["object"] == "chat.completion" and c["choices"][0]["message"]["content"] == "You said: hi"


def test_reasoning_goes_to_stderr(anyllm):
    for extra in ([], ["--no-stream"]):
        r = anyllm.run(*extra, "why", model="openai:reasoning")
        assert r.returncode == 0
        assert OUT(r) == "You said: why\n"
        assert ERR(r) == "Let me think about what the user said: why\n"


def test_hide_reasoning(anyllm):
    r = anyllm.run("--hide-reasoning", "why", model="openai:reasoning")
    assert (r.returncode, OUT(r), ERR(r)) == (0, "You said: why\n", "")


def test_tool_calls_are_shown(anyllm):
    tools = json.dumps([{"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    r = anyllm.run("-o", "tools=" + tools, "weather?", model="openai:echo")
    assert (r.returncode, OUT(r)) == (0, 'tool call: get_weather({"city":"Paris"})\n')


def test_other_protocols(anyllm, emulator):
    # Anthropic's Messages API and Ollama's native chat, through the same command line.
    r = anyllm.run("--api-base", emulator, "--api-key", "sk-ant-test", "hi", model="anthropic:echo", api=False)
    assert (r.returncode, OUT(r)) == (0, "You said: hi\n"), ERR(r)
    r = anyllm.run("--api-base", emulator, "hi", model="ollama:echo", api=False)
    assert (r.returncode, OUT(r)) == (0, "You said: hi\n"), ERR(r)


# ---- choosing the model ----------------------------------------------------------------------

def test_model_from_anyllm_model(anyllm, emulator):
    env = {"ANYLLM_MODEL": "openai:from-env", "OPENAI_API_KEY": "sk-env-key", "OPENAI_BASE_URL": emulator + "/v1"}
    r = anyllm.run("--json", "--no-stream", "hi", api=False, env=env)
    assert r.returncode == 0, ERR(r)
    assert json.loads(OUT(r))["model"] == "from-env"


def test_model_from_first_key_set(anyllm, emulator):
    env = {"ANTHROPIC_API_KEY": "sk-ant-key", "ANTHROPIC_BASE_URL": emulator}
    r = anyllm.run("--json", "--no-stream", "hi", api=False, env=env)
    assert r.returncode == 0, ERR(r)
    assert anyllm.last_request()["path"] == "/v1/messages"
    assert anyllm.last_request()["body"]["model"] == "claude-haiku-4-5"
    env.update({"OPENAI_API_KEY": "sk-env-key", "OPENAI_BASE_URL": emulator + "/v1"})
    r = anyllm.run("--json", "--no-stream", "hi", api=False, env=env)   # openai comes first in the registry
    assert r.returncode == 0, ERR(r)
    assert json.loads(OUT(r))["model"] == "gpt-4.1-mini"


def test_no_model_says_how_to_choose_one(anyllm):
    r = anyllm.run("hi", api=False)
    assert r.returncode == 2
    err = one_error_line(r)
    assert "-m provider:model" in err and "ANYLLM_MODEL" in err and "OPENAI_API_KEY" in err
    r = anyllm.run("hi", api=False, env={"HF_TOKEN": "hf_token_value"})   # a key, but no default model
    assert r.returncode == 2
    assert "pass -m huggingface:MODEL" in one_error_line(r)


# ---- providers -------------------------------------------------------------------------------

def test_providers_table(anyllm):
    r = anyllm.run("providers", api=False, env={"OPENAI_API_KEY": "sk-secret-value-1"})
    assert r.returncode == 0
    lines = OUT(r).splitlines()
    assert lines[0].split() == ["PROVIDER", "PROTOCOL", "BASE", "URL", "KEY", "VARIABLE", "KEY", "SET"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert {"openai", "anthropic", "gemini", "ollama", "mistral"} <= set(rows)
    assert "https://api.openai.com/v1" in rows["openai"] and "OPENAI_API_KEY" in rows["openai"]
    assert rows["openai"].endswith("yes") and rows["anthropic"].endswith("no")
    assert "anthropic_messages" in rows["anthropic"] and "(optional)" in rows["ollama"]
    assert "sk-secret-value-1" not in OUT(r)


def test_providers_json(anyllm):
    r = anyllm.run("providers", "--json", api=False)
    assert r.returncode == 0
    names = [p["name"] for p in json.loads(OUT(r))["providers"]]
    assert names[0] == "openai" and "anthropic" in names


# ---- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("model, code, text", [
    ("status-400", 11, "invalid request (openai, HTTP 400)"),
    ("status-401", 15, "authentication failed (openai, HTTP 401)"),
    ("status-403", 16, "permission denied (openai, HTTP 403)"),
    ("status-404", 17, "not found (openai, HTTP 404)"),
    ("status-429", 18, "rate limited (openai, HTTP 429): retry after 1.5 s"),
    ("context-length", 19, "prompt too long"),
    ("quota", 21, "insufficient funds or quota"),
    ("status-500", 22, "provider error (openai, HTTP 500)"),
    ("garbage", 22, "provider error"),
])
def test_error_classes(anyllm, model, code, text):
    r = anyllm.run("--retries", "0", "hi", model="openai:" + model)
    assert r.returncode == code, ERR(r)
    assert text in one_error_line(r)
    assert OUT(r) == ""


def test_timeout(anyllm):
    r = anyllm.run("--retries", "0", "--timeout", "0.3", "hi", model="openai:stall-5000")
    assert r.returncode == 23
    assert "--timeout" in one_error_line(r)


def test_connection_refused(anyllm):
    r = anyllm.run("--retries", "0", "--api-base", "http://127.0.0.1:9/v1", "--api-key", "sk-x-123456", "hi",
                   model="openai:echo", api=False)
    assert r.returncode == 24
    assert "connection failed" in one_error_line(r)


def test_missing_key_names_the_variable(anyllm):
    r = anyllm.run("hi", model="anthropic:claude-haiku-4-5", api=False)
    assert r.returncode == 14
    assert "set ANTHROPIC_API_KEY" in one_error_line(r)


def test_unknown_provider_close_matches(anyllm):
    r = anyllm.run("hi", model="opnai:gpt-4o", api=False)
    assert r.returncode == 12
    err = one_error_line(r)
    assert 'unknown provider "opnai"' in err and "did you mean openai?" in err
    r = anyllm.run("hi", model="antropic:claude", api=False)
    assert "did you mean anthropic?" in one_error_line(r)
    r = anyllm.run("hi", model="gpt-4o", api=False)
    assert r.returncode == 12 and "-m openai:gpt-4o" in one_error_line(r)


def test_stream_error_keeps_partial_output(anyllm):
    r = anyllm.run("--retries", "0", "hi", model="openai:drop-after-3")
    assert r.returncode == 24
    assert OUT(r) == "tok0 tok1 tok2 \n"
    assert "connection failed" in one_error_line(r)
    r = anyllm.run("hi", model="openai:error-event")
    assert r.returncode == 22 and OUT(r).startswith("You ") and one_error_line(r)


def test_json_error_object(anyllm):
    r = anyllm.run("--json", "--retries", "0", "hi", model="openai:status-429")
    assert r.returncode == 18
    err = json.loads(OUT(r))["error"]
    assert err["type"] == "rate_limit" and err["retry_after"] == 1.5
    assert "retry after" in one_error_line(r)


def test_key_is_never_printed(anyllm, emulator):
    secret = "sk-bad-TOPSECRET-0123456789"
    for extra in ([], ["--json"], ["--json", "--no-stream"]):
        r = anyllm.run(*extra, "--api-base", emulator + "/v1", "--api-key", secret, "--retries", "0",
                       "my key is " + secret, model="openai:echo", api=False)
        assert r.returncode == 15
        assert secret not in OUT(r) and secret not in ERR(r)
    env = {"OPENAI_API_KEY": secret, "OPENAI_BASE_URL": emulator + "/v1"}
    r = anyllm.run("--json", "--retries", "0", "hi", model="openai:echo", api=False, env=env)
    assert r.returncode == 15 and secret not in OUT(r) + ERR(r)


@pytest.mark.parametrize("args, text", [
    (["--max-token", "5", "hi"], "did you mean --max-tokens?"),
    (["-t", "warm", "hi"], "--temperature expects a number"),
    (["--max-tokens", "1.5", "hi"], "whole number"),
    (["-o", "novalue", "hi"], "-o expects key=value"),
    (["-m"], "-m needs a value"),
    (["--json=1", "hi"], "--json takes no value"),
    (["providers", "extra"], "takes no arguments"),
])
def test_usage_errors(anyllm, args, text):
    r = anyllm.run(*args, api=False)
    assert r.returncode == 2
    assert text in one_error_line(r)


def test_empty_prompt(anyllm):
    r = anyllm.run(model="openai:echo", input="  \n")
    assert r.returncode == 2 and one_error_line(r)
