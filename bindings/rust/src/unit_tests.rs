//! Unit tests that need no library call: serialization, error mapping, redaction.

use serde_json::json;

use crate::codec::encode;
use crate::error::Error;
use crate::ffi;
use crate::types::*;

#[test]
fn request_skips_unset_fields_and_keeps_extra_keys() {
    let r = Request::new("openai:gpt-4.1-mini").user("Hi").temperature(0.2).param("top_k", 5);
    assert_eq!(
        r.to_json().unwrap(),
        json!({"model": "openai:gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}],
               "temperature": 0.2, "top_k": 5})
    );
}

#[test]
fn messages_may_be_a_plain_string() {
    let r = Request::new("m").messages("Hello");
    assert_eq!(r.to_json().unwrap()["messages"], json!("Hello"));
    let r = r.assistant("Hi!").user("Again");
    assert_eq!(
        r.to_json().unwrap()["messages"],
        json!([{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi!"},
               {"role": "user", "content": "Again"}])
    );
}

#[test]
fn request_round_trips_through_json() {
    let r = Request::new("anthropic:claude")
        .system("Be brief")
        .user(vec![ContentPart::text("What is this?"), ContentPart::image_url("https://x/y.png")])
        .tool(Tool::function("f", "does f", json!({"type": "object"})))
        .tool_choice(ToolChoice::Function("f".into()))
        .stop(vec!["END"])
        .reasoning_effort(ReasoningEffort::Low)
        .json_schema("answer", json!({"type": "object"}))
        .api_key("sk-secret-123456")
        .client_args(ClientOptions::new().max_retries(0).header("x-a", "b"))
        .end_user("u1")
        .param("custom", json!({"a": 1}));
    let value = r.to_json().unwrap();
    assert_eq!(value["tool_choice"], json!({"type": "function", "function": {"name": "f"}}));
    assert_eq!(value["response_format"]["type"], "json_schema");
    assert_eq!(value["messages"][1]["content"][1]["image_url"]["url"], "https://x/y.png");
    assert_eq!(value["api_key"], "sk-secret-123456");
    assert_eq!(value["user"], "u1");
    let back: Request = serde_json::from_value(value).unwrap();
    assert_eq!(back, r);
}

#[test]
fn stream_override_and_secret() {
    let r = Request::new("m").user("x").api_key("sk-abcdefgh");
    let e = encode(&r, Some(true)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(e.json.as_bytes()).unwrap();
    assert_eq!(v["stream"], true);
    assert_eq!(e.secret.as_deref(), Some("sk-abcdefgh"));
}

#[test]
fn debug_never_shows_keys() {
    let r = Request::new("m").api_key("sk-live-very-secret").client_args(
        ClientOptions::new()
            .header("Authorization", "Bearer sk-live-very-secret")
            .proxy("http://u:sk-live-very-secret@p"),
    );
    let shown = format!("{r:?} {r:#?}");
    assert!(!shown.contains("sk-live-very-secret"), "{shown}");
    assert!(shown.contains("Authorization"));
}

#[test]
fn every_status_maps_to_its_variant() {
    type Case = (i32, &'static str, fn(&Error) -> bool);
    let cases: Vec<Case> = vec![
        (1, "invalid_request", |e| matches!(e, Error::InvalidRequest(_))),
        (2, "unsupported_provider", |e| matches!(e, Error::UnsupportedProvider(_))),
        (3, "unsupported_parameter", |e| matches!(e, Error::UnsupportedParameter(_))),
        (4, "missing_api_key", |e| matches!(e, Error::MissingApiKey(_))),
        (5, "authentication", |e| matches!(e, Error::Authentication(_))),
        (6, "permission", |e| matches!(e, Error::Permission(_))),
        (7, "not_found", |e| matches!(e, Error::NotFound(_))),
        (8, "rate_limit", |e| matches!(e, Error::RateLimit(_))),
        (9, "context_length", |e| matches!(e, Error::ContextLength(_))),
        (10, "content_filter", |e| matches!(e, Error::ContentFilter(_))),
        (11, "insufficient_funds", |e| matches!(e, Error::InsufficientFunds(_))),
        (12, "provider", |e| matches!(e, Error::Provider(_))),
        (13, "timeout", |e| matches!(e, Error::Timeout(_))),
        (14, "connection", |e| matches!(e, Error::Connection(_))),
        (15, "cancelled", |e| matches!(e, Error::Cancelled(_))),
        (16, "internal", |e| matches!(e, Error::Internal(_))),
        (99, "internal", |e| matches!(e, Error::Internal(_))),
    ];
    for (code, name, is_variant) in cases {
        let body = json!({"error": {"type": name, "message": "m", "status": 418, "provider": "p",
                                    "retry_after": 2.5, "provider_error": {"a": 1}, "known_providers": ["x"]}});
        let e = Error::from_json(code, body.to_string().as_bytes(), None);
        assert!(is_variant(&e), "{code} -> {e:?}");
        assert_eq!(e.type_name(), name);
        assert_eq!(e.code(), if code == 99 { ffi::ANYLLM_E_INTERNAL } else { code });
        assert_eq!(e.http_status(), Some(418));
        assert_eq!(e.provider(), Some("p"));
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_millis(2500)));
        assert_eq!(e.provider_error(), Some(&json!({"a": 1})));
        assert_eq!(e.details().extra["known_providers"], json!(["x"]));
        assert_eq!(e.to_string(), format!("[p] {name} (HTTP 418): m"));
    }
}

#[test]
fn errors_scrub_the_request_key() {
    let key = "sk-live-abcdefghijklmnop";
    let body = json!({"error": {"type": "authentication", "message": format!("bad key {key}"), "status": 401,
                                "provider_error": {"error": {"message": format!("key {key}")}}}});
    let e = Error::from_json(ffi::ANYLLM_E_AUTHENTICATION, body.to_string().as_bytes(), Some(key));
    for shown in [format!("{e}"), format!("{e:?}"), format!("{e:#?}"), e.provider_error().unwrap().to_string()] {
        assert!(!shown.contains(key), "{shown}");
    }
    assert!(e.message().contains("<redacted>"));
}

#[test]
fn unreadable_error_json_keeps_the_text() {
    let e = Error::from_json(ffi::ANYLLM_E_PROVIDER, b"not json", None);
    assert!(matches!(e, Error::Provider(_)));
    assert_eq!(e.message(), "not json");
}

#[test]
fn results_keep_unknown_fields() {
    let text = r#"{"id":"c1","object":"chat.completion","created":1,"model":"m","service_tier":"default",
        "choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null,
        "tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"},
        "extra_content":{"google":{"thought_signature":"c2ln"}}}]},"finish_reason":"weird"}],
        "usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"cache_read_input_tokens":0,
        "completion_tokens_details":{"reasoning_tokens":1,"audio_tokens":0}}}"#;
    let c: ChatCompletion = serde_json::from_str(text).unwrap();
    assert_eq!(c.extra["service_tier"], "default");
    assert_eq!(c.text().as_deref(), Some("hi"));
    assert_eq!(c.choices[0].finish_reason, Some(FinishReason::Other("weird".into())));
    let call = &c.tool_calls()[0];
    assert_eq!(call.arguments::<serde_json::Value>().unwrap(), json!({"a": 1}));
    assert_eq!(call.extra["extra_content"]["google"]["thought_signature"], "c2ln");
    let usage = c.usage.as_ref().unwrap();
    assert_eq!(usage.extra["cache_read_input_tokens"], 0);
    assert_eq!(usage.completion_tokens_details.as_ref().unwrap().reasoning_tokens, Some(1));
    // The message goes back into a request with everything it had.
    let again = serde_json::to_value(c.message().unwrap()).unwrap();
    assert_eq!(again["tool_calls"][0]["extra_content"]["google"]["thought_signature"], "c2ln");
    assert_eq!(again["refusal"], serde_json::Value::Null);
    let back: ChatCompletion = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}

#[test]
fn chunks_decode() {
    let text = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,
        "delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"ci"}}]},"finish_reason":null}]}"#;
    let c: ChatCompletionChunk = serde_json::from_str(text).unwrap();
    assert_eq!(c.tool_calls()[0].index, 1);
    assert_eq!(c.tool_calls()[0].function.as_ref().unwrap().arguments.as_deref(), Some("{\"ci"));
    assert_eq!(c.text(), None);
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<crate::Client>();
    send_sync::<crate::CompletionStream>();
    send_sync::<crate::AsyncCompletionStream>();
    send_sync::<crate::CompletionFuture>();
    send::<crate::StreamStart>();
    send_sync::<Error>();
}

#[test]
fn chunks_read_known_fields_and_keep_the_rest_in_extra() {
    let text = r#"[{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp","obfuscation":"x",
        "choices":[{"index":2,"delta":{"content":"Hi","role":"assistant","refusal":null,"weird":{"a":[1]}},
                    "logprobs":null,"finish_reason":null,"stop_reason":5}],"usage":null},
      {"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}]"#;
    let chunks: Vec<ChatCompletionChunk> = serde_json::from_str(text).unwrap();
    let c = &chunks[0];
    assert_eq!((c.id.as_str(), c.object.as_str(), c.created, c.model.as_str()), ("c1", "chat.completion.chunk", 7, "m"));
    assert_eq!(c.extra.get("system_fingerprint"), Some(&json!("fp")));
    assert_eq!(c.extra.get("obfuscation"), Some(&json!("x")));
    assert_eq!(c.extra.len(), 2);
    assert!(c.usage.is_none());
    let ch = &c.choices[0];
    assert_eq!(ch.index, 2);
    assert_eq!(ch.finish_reason, None);
    assert_eq!(ch.extra.get("stop_reason"), Some(&json!(5)));
    assert_eq!(ch.delta.content.as_deref(), Some("Hi"));
    assert_eq!(ch.delta.role, Some(Role::Assistant));
    assert_eq!(ch.delta.extra.get("refusal"), Some(&json!(null)));
    assert_eq!(ch.delta.extra.get("weird"), Some(&json!({"a": [1]})));
    // Defaults for what is missing.
    let last = &chunks[1];
    assert_eq!((last.id.as_str(), last.created, last.choices[0].index), ("", 0, 0));
    assert_eq!(last.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(last.usage.as_ref().map(|u| u.total_tokens), Some(3));
    // The derived serializer writes the same members back.
    let back = serde_json::to_value(c).unwrap();
    assert_eq!(back["obfuscation"], json!("x"));
    assert_eq!(back["choices"][0]["delta"]["weird"], json!({"a": [1]}));
}

#[test]
fn chunks_keep_the_first_of_repeated_keys_and_refuse_wrong_types() {
    let c: ChatCompletionChunk =
        serde_json::from_str(r#"{"id":"a","id":"b","x":1,"x":2,"choices":[{"delta":{"content":"1","content":"2"}}]}"#).unwrap();
    assert_eq!(c.id, "a");
    assert_eq!(c.extra.get("x"), Some(&json!(1)));
    assert_eq!(c.text(), Some("1"));
    for bad in [r#"{"id":5}"#, r#"{"created":"now"}"#, r#"{"choices":{}}"#, r#"{"choices":[{"index":-1}]}"#,
                r#"{"choices":[{"delta":null}]}"#, r#"{"choices":[{"delta":{"content":3}}]}"#, r#"[1]"#, r#"{"id":"a""#] {
        assert!(serde_json::from_str::<ChatCompletionChunk>(bad).is_err(), "accepted {bad}");
    }
}
