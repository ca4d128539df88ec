//! The native protocols through the emulator — Anthropic Messages, Gemini generateContent,
//! Ollama /api/chat — all returning OpenAI shapes: text, stream, tool calls (plain and streamed),
//! the tool-result turn, structured output, a rate limit.

mod common;

use std::time::Duration;

use anyllm::{Client, Error, FinishReason};
use common::{assemble, emu, no_retries, weather_tool};
use serde_json::json;

const PROVIDERS: [(&str, &str); 3] =
    [("anthropic", "claude-sonnet-4-5"), ("gemini", "gemini-2.5-flash"), ("ollama", "llama3.2")];

#[test]
fn text() {
    for (provider, model) in PROVIDERS {
        let c = Client::default().completion(&emu().native(provider, model).user("hello native")).unwrap();
        assert_eq!(c.text().as_deref(), Some("You said: hello native"), "{provider}");
        assert_eq!(c.object, "chat.completion");
        assert_eq!(c.choices[0].finish_reason, Some(FinishReason::Stop), "{provider}");
        assert!(c.usage.as_ref().unwrap().total_tokens > 0, "{provider}");
    }
}

#[test]
fn stream() {
    for (provider, model) in PROVIDERS {
        let mut stream = Client::default().stream(&emu().native(provider, model).user("hello native stream")).unwrap();
        let chunks: Vec<_> = stream.by_ref().map(|c| c.unwrap()).collect();
        let text: String = chunks.iter().filter_map(|c| c.text()).collect();
        assert_eq!(text, "You said: hello native stream", "{provider}");
        assert!(chunks.iter().filter(|c| c.text().is_some_and(|t| !t.is_empty())).count() >= 4, "{provider}");
        assert!(chunks.iter().any(|c| c.usage.is_some()), "{provider}: usage");
        assert_eq!(stream.completion().unwrap().text().as_deref(), Some("You said: hello native stream"));
    }
}

#[test]
fn tool_call() {
    for (provider, model) in PROVIDERS {
        let request = emu().native(provider, model).user("weather?").tool(weather_tool());
        let c = Client::default().completion(&request).unwrap();
        assert_eq!(c.choices[0].finish_reason, Some(FinishReason::ToolCalls), "{provider}");
        let call = &c.tool_calls()[0];
        assert_eq!(call.function.name, "get_weather", "{provider}");
        assert!(!call.id.is_empty(), "{provider}");
        assert_eq!(call.arguments::<serde_json::Value>().unwrap(), json!({"city": "Paris", "days": 42}), "{provider}");
    }
}

#[test]
fn streamed_tool_call() {
    for (provider, model) in PROVIDERS {
        let request = emu().native(provider, model).user("weather?").tool(weather_tool());
        let chunks: Vec<_> = Client::default().stream(&request).unwrap().map(|c| c.unwrap()).collect();
        let calls = assemble(&chunks);
        assert_eq!(calls.len(), 1, "{provider}: {calls:?}");
        assert_eq!(calls[0].1, "get_weather", "{provider}");
        let args: serde_json::Value = serde_json::from_str(&calls[0].2).unwrap();
        assert_eq!(args, json!({"city": "Paris", "days": 42}), "{provider}");
        assert!(chunks.iter().any(|c| c.finish_reason() == Some(&FinishReason::ToolCalls)), "{provider}");
    }
}

#[test]
fn tool_result_turn() {
    for (provider, model) in PROVIDERS {
        let client = Client::default();
        let request = emu().native(provider, model).user("weather?").tool(weather_tool());
        let first = client.completion(&request).unwrap();
        let id = first.tool_calls()[0].id.clone();
        let follow_up = request.message(first.message().unwrap().clone()).tool_result(id, "sunny");
        let second = client.completion(&follow_up).unwrap();
        assert_eq!(second.text().as_deref(), Some("Tool results: sunny"), "{provider}");
    }
}

#[test]
fn structured_output() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Person {
        name: String,
        age: i64,
    }
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                        "required": ["name", "age"]});
    for (provider, model) in PROVIDERS {
        let request = emu().native(provider, model).user("who?").json_schema("person", schema.clone());
        let person: Person = Client::default().completion(&request).unwrap().parse().unwrap();
        assert_eq!(person, Person { name: "Paris".into(), age: 42 }, "{provider}");
    }
}

#[test]
fn rate_limit() {
    let client = Client::new(no_retries()).unwrap();
    for (provider, _) in PROVIDERS {
        let e = client.completion(&emu().native(provider, "status-429").user("x")).unwrap_err();
        assert!(matches!(e, Error::RateLimit(_)), "{provider}: {e:?}");
        assert_eq!(e.provider(), Some(provider));
        assert_eq!(e.http_status(), Some(429));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)), "{provider}");
    }
}
