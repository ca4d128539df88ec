"""The emulator's Mistral route and Azure AI model inference routes (Tests/emulator/README.md)."""

from emu_client import KEY, chunks_of, chat_body, request

MISTRAL = "/mistral/v1/chat/completions"
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def mistral(base, body, **kw):
    return request(base, "POST", MISTRAL, body=body, **kw)


def detail(r):
    assert r.status == 422, r.body
    obj = r.json()
    assert obj["object"] == "error" and obj["type"] == "invalid_request_error", obj
    return obj["message"]["detail"]


# ---- Mistral -------------------------------------------------------------------------------------------------------
def test_mistral_text_shape(base):
    r = mistral(base, chat_body("mistral-small-latest", random_seed=3, safe_prompt=True, prompt_mode="reasoning"))
    assert r.status == 200, r.body
    obj = r.json()
    assert obj["object"] == "chat.completion" and len(obj["id"]) == 32
    assert obj["choices"][0]["message"] == {"role": "assistant", "tool_calls": None, "content": "You said: hello there"}
    assert obj["usage"] == {"prompt_tokens": 2, "total_tokens": 6, "completion_tokens": 4}
    assert r.header("mistral-correlation-id")


def test_mistral_forbids_openai_only_keys(base):
    items = detail(mistral(base, chat_body("m", seed=1, user="u", logprobs=True, stream_options={})))
    assert [(i["type"], i["loc"], i["msg"]) for i in items] == [
        ("extra_forbidden", ["body", k], "Extra inputs are not permitted")
        for k in ("seed", "user", "logprobs", "stream_options")]
    assert items[0]["input"] == 1


def test_mistral_message_checks(base):
    msgs = [{"role": "developer", "content": "x"}, {"role": "user", "content": "hi", "name": "bob"},
            {"role": "assistant", "content": "a", "reasoning_content": "r"}]
    items = detail(mistral(base, {"model": "m", "messages": msgs}))
    assert items[0]["type"] == "union_tag_invalid" and items[0]["loc"] == ["body", "messages", 0]
    assert [i["loc"] for i in items[1:]] == [["body", "messages", 1, "user", "name"],
                                              ["body", "messages", 2, "assistant", "reasoning_content"]]


def test_mistral_value_checks(base):
    items = detail(mistral(base, chat_body("m", tools=[TOOL], tool_choice="sometimes", prompt_mode="fast",
                                           safe_prompt="yes", random_seed=-1)))
    kinds = {tuple(i["loc"][1:2]): i["type"] for i in items}
    assert kinds == {("random_seed",): "greater_than_equal", ("safe_prompt",): "bool_type",
                     ("prompt_mode",): "enum", ("tool_choice",): "enum"}
    assert detail(mistral(base, {"messages": []}))[0] == {"type": "missing", "loc": ["body", "model"],
                                                          "msg": "Field required", "input": {"messages": []}}
    r = request(base, "POST", MISTRAL, raw_body=b"{not json", headers={"Content-Type": "application/json"})
    assert detail(r)[0]["type"] == "json_invalid"


def test_mistral_auth(base):
    for key in (None, "sk-bad-1"):
        r = mistral(base, chat_body("m"), key=key)
        assert r.status == 401 and r.json()["message"] == "Unauthorized" and "request_id" in r.json()
        assert "sk-bad" not in r.text


def test_mistral_tool_choice_any(base):
    for choice in ("any", "required"):
        r = mistral(base, chat_body("m", tools=[TOOL], tool_choice=choice))
        msg = r.json()["choices"][0]["message"]
        assert r.json()["choices"][0]["finish_reason"] == "tool_calls"
        call = msg["tool_calls"][0]
        assert len(call["id"]) == 9 and call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    r = mistral(base, chat_body("m", tools=[TOOL], tool_choice="none"))
    assert r.json()["choices"][0]["message"]["content"] == "You said: hello there"


def test_magistral_content_chunks(base):
    msg = mistral(base, chat_body("magistral-small-2509")).json()["choices"][0]["message"]
    assert msg["content"] == [
        {"type": "thinking", "thinking": [{"type": "text", "text": "Let me think about what the user said: hello there"}]},
        {"type": "text", "text": "You said: hello there"}]
    native = mistral(base, chat_body("magistral-small-2509", reasoning_effort="none")).json()    # always thinks
    assert native["choices"][0]["message"]["content"][0]["type"] == "thinking"
    off = mistral(base, chat_body("reasoning", reasoning_effort="none")).json()
    assert off["choices"][0]["message"]["content"] == "You said: hello there"
    on = mistral(base, chat_body("mistral-small-latest", reasoning_effort="high")).json()
    assert on["choices"][0]["message"]["content"][0]["type"] == "thinking"
    assert detail(mistral(base, chat_body("m", reasoning_effort="medium")))[0]["loc"] == ["body", "reasoning_effort"]


def test_magistral_stream(base):
    r = mistral(base, chat_body("magistral-small-2509", stream=True))
    assert r.status == 200 and r.header("content-type") == "text/event-stream"
    chunks = chunks_of(r.text)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": ""}
    thinking = "".join(d["content"][0]["thinking"][0]["text"] for d in deltas
                       if isinstance(d.get("content"), list) and d["content"][0]["type"] == "thinking")
    text = "".join(d["content"] if isinstance(d["content"], str) else d["content"][0]["text"] for d in deltas
                   if not (isinstance(d.get("content"), list) and d["content"][0]["type"] == "thinking"))
    assert thinking == "Let me think about what the user said: hello there"
    assert text == "You said: hello there"
    assert any(isinstance(d["content"], list) and d["content"][0]["type"] == "text" for d in deltas)
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop" and last["usage"]["completion_tokens"] > 0
    assert all("usage" not in c for c in chunks[:-1])


def test_mistral_scripted_errors(base):
    assert mistral(base, chat_body("invalid-model")).json()["type"] == "invalid_model"
    r = mistral(base, chat_body("status-429"))
    assert r.status == 429 and r.json() == {"object": "error", "message": "Rate limit exceeded", "type": "rate_limited",
                                            "param": None, "code": "1300"}
    assert mistral(base, chat_body("context-length")).json()["code"] == "3051"


# ---- Azure AI model inference --------------------------------------------------------------------------------------
def azure(base, body, path="/models/chat/completions", version="2024-05-01-preview", key=KEY, headers=None):
    hs = {"api-key": key} if key else {}
    hs.update(headers or {})
    q = "" if version is None else "?api-version=" + version
    return request(base, "POST", path + q, body=body, key=None, headers=hs)


def test_azure_inference_answers(base):
    r = azure(base, chat_body("Mistral-Large-2411"))
    assert r.status == 200 and r.json()["choices"][0]["message"]["content"] == "You said: hello there"
    r = azure(base, {"messages": [{"role": "user", "content": "hi"}], "stream": True}, path="/azureai/chat/completions")
    chunks = chunks_of(r.text)
    assert chunks[-1]["usage"]["total_tokens"] > 0
    r = request(base, "POST", "/azureai/chat/completions?api-version=2024-05-01-preview",
                body={"messages": [{"role": "user", "content": "hi"}]})      # a bearer token is accepted too
    assert r.status == 200


def test_azure_inference_checks(base):
    r = azure(base, chat_body("m"), version=None)
    assert r.status == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"
    assert azure(base, chat_body("m"), version="latest").status == 400
    for key in (None, "sk-bad-9"):
        r = azure(base, chat_body("m"), key=key)
        assert r.status == 401 and r.json()["error"]["message"].startswith("Access denied")
    assert azure(base, chat_body("m"), key="sk-noperm-1").status == 403
    r = azure(base, {"messages": [{"role": "user", "content": "hi"}]})
    assert r.status == 400 and r.json()["error"]["code"] == "no_model_name"


def test_azure_inference_extra_parameters(base):
    r = azure(base, chat_body("m", user="u", safe_prompt=True))
    assert r.status == 400
    assert "Extra parameters ['user', 'safe_prompt'] are not allowed" in r.json()["error"]["message"]
    r = azure(base, chat_body("m", user="u", safe_prompt=True), headers={"extra-parameters": "pass-through"})
    assert r.status == 200 and r.header("x-emulator-extra-keys") == "user,safe_prompt"
