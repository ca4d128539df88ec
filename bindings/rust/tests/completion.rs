//! Blocking completions against the emulator's OpenAI API: text, messages, parameters,
//! structured output, results' extra fields.

mod common;

use anyllm::{Client, ContentPart, FinishReason, Message, ReasoningEffort, Request, Role};
use common::{emu, Emulator};
use serde_json::json;

#[test]
fn text_completion() {
    let c = Client::default().completion(&emu().openai("gpt-4.1-mini").user("hello there")).unwrap();
    assert_eq!(c.text().as_deref(), Some("You said: hello there"));
    assert_eq!(c.object, "chat.completion");
    assert!(c.id.starts_with("chatcmpl-"));
    assert_eq!(c.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(c.message().unwrap().role, Role::Assistant);
    let usage = c.usage.as_ref().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (2, 4, 6));
    // Fields the binding does not model are kept.
    assert_eq!(c.extra["system_fingerprint"], "fp_e1a7a0b2c3");
    assert!(c.message().unwrap().extra.contains_key("refusal"));
}

#[test]
fn messages_as_a_plain_string() {
    let c = Client::default().completion(&emu().openai("m").messages("just a string")).unwrap();
    assert_eq!(c.text().as_deref(), Some("You said: just a string"));
}

#[test]
fn conversation_with_content_parts() {
    let request = emu().openai("m").system("be brief").user("first").assistant("ok").message(Message::user(vec![
        ContentPart::text("look at"),
        ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
        ContentPart::text("this"),
    ]));
    let c = Client::default().completion(&request).unwrap();
    assert_eq!(c.text().as_deref(), Some("You said: look at this"));
}

#[test]
fn finish_reason_length_and_long_answers() {
    let c = Client::default().completion(&emu().openai("length").user("x")).unwrap();
    assert_eq!(c.choices[0].finish_reason, Some(FinishReason::Length));
    let c = Client::default().completion(&emu().openai("long-20").user("x")).unwrap();
    assert_eq!(c.text().unwrap().split_whitespace().count(), 20);
}

#[test]
fn reasoning_is_returned() {
    let c = Client::default().completion(&emu().openai("reasoning").user("why")).unwrap();
    let reasoning = c.message().unwrap().reasoning.as_ref().unwrap();
    assert!(reasoning.content.as_deref().unwrap().starts_with("Let me think"));
    assert_eq!(c.text().as_deref(), Some("You said: why"));
}

#[test]
fn split_utf8_survives() {
    let c = Client::default().completion(&emu().openai("split-utf8").user("x")).unwrap();
    assert_eq!(c.text().as_deref(), Some("héllo wörld — 你好 👋 ok"));
}

#[test]
fn stream_true_in_a_blocking_call_aggregates() {
    let c = Client::default().completion(&emu().openai("long-5").user("x").stream(true)).unwrap();
    assert_eq!(c.text().as_deref(), Some("tok0 tok1 tok2 tok3 tok4"));
}

#[test]
fn parameters_reach_the_provider() {
    let emu = Emulator::start(); // its own, so that last_request is this test's
    let request = emu
        .openai("gpt-4.1-mini")
        .user("hi")
        .temperature(0.2)
        .top_p(0.9)
        .max_tokens(50)
        .stop(vec!["END", "STOP"])
        .seed(7)
        .end_user("user-1")
        .presence_penalty(0.5)
        .reasoning_effort(ReasoningEffort::Auto)
        .param("custom_field", json!({"x": 1}));
    Client::default().completion(&request).unwrap();
    let sent = emu.last_request();
    let body = &sent["body"];
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["top_p"], 0.9);
    assert_eq!(body["max_completion_tokens"], 50);
    assert_eq!(body["stop"], json!(["END", "STOP"]));
    assert_eq!(body["seed"], 7);
    assert_eq!(body["user"], "user-1");
    assert_eq!(body["custom_field"], json!({"x": 1}));
    assert!(body.get("reasoning_effort").is_none());
    assert!(body.get("frequency_penalty").is_none(), "unset fields are not sent");
    assert!(!sent["headers"]["authorization"].as_str().unwrap().contains(common::KEY));
}

#[test]
fn structured_output_request() {
    let emu = Emulator::start();
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                        "required": ["name", "age"], "additionalProperties": false});
    let request = emu.openai("gpt-4.1-mini").user("who?").json_schema("person", schema.clone());
    Client::default().completion(&request).unwrap();
    let body = &emu.last_request()["body"];
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["name"], "person");
    assert_eq!(body["response_format"]["json_schema"]["schema"], schema);
}

#[test]
fn structured_output_is_parsed() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Person {
        name: String,
        age: i64,
    }
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                        "required": ["name", "age"]});
    // The emulator's Anthropic API answers a structured-output request with JSON from the schema.
    let request = emu().native("anthropic", "claude-sonnet-4-5").user("who?").json_schema("person", schema);
    let person: Person = Client::default().completion(&request).unwrap().parse().unwrap();
    assert_eq!(person, Person { name: "Paris".into(), age: 42 });
}

#[test]
fn a_request_can_be_built_from_json() {
    let value = json!({"model": "openai:m", "messages": "from json", "api_base": format!("{}/v1", emu().url),
                       "api_key": common::KEY, "temperature": 0.1});
    let request: Request = serde_json::from_value(value).unwrap();
    let c = Client::default().completion(&request).unwrap();
    assert_eq!(c.text().as_deref(), Some("You said: from json"));
}

#[test]
fn version_and_providers() {
    let v = anyllm::version();
    assert_eq!(v.split('.').count(), 3, "{v}");
    let providers = anyllm::providers().unwrap();
    let anthropic = providers.iter().find(|p| p.name == "anthropic").unwrap();
    assert_eq!(anthropic.api_key_env.as_deref(), Some("ANTHROPIC_API_KEY"));
    assert!(providers.iter().any(|p| p.name == "ollama" && p.protocol == "ollama"));
}
