//! Tool calls through the emulator's OpenAI API: a call, parallel calls, streamed call
//! fragments, and the tool-result turn.

mod common;

use anyllm::{Client, FinishReason, Request, Tool, ToolCall, ToolChoice};
use common::{assemble, emu, weather_tool};
use serde_json::json;

fn time_tool() -> Tool {
    Tool::function(
        "get_time",
        "The time in a zone",
        json!({"type": "object", "properties": {"zone": {"type": "string"}}}),
    )
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct WeatherArgs {
    city: String,
    days: i64,
}

#[test]
fn a_tool_call() {
    let request = emu().openai("gpt-4.1-mini").user("weather in Paris?").tool(weather_tool());
    let c = Client::default().completion(&request).unwrap();
    assert_eq!(c.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(c.text(), None);
    let calls = c.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].function.name, "get_weather");
    assert_eq!(calls[0].kind, "function");
    assert!(calls[0].id.starts_with("call_"));
    assert_eq!(calls[0].arguments::<WeatherArgs>().unwrap(), WeatherArgs { city: "Paris".into(), days: 42 });
}

#[test]
fn tool_choice_and_parallel_calls() {
    let request = emu()
        .openai("gpt-4.1-mini")
        .user("time?")
        .tools(vec![weather_tool(), time_tool()])
        .tool_choice(ToolChoice::Function("get_time".into()));
    let c = Client::default().completion(&request).unwrap();
    assert_eq!(c.tool_calls()[0].function.name, "get_time");

    let request = emu().openai("parallel").user("both").tools(vec![weather_tool(), time_tool()]);
    let c = Client::default().completion(&request).unwrap();
    let names: Vec<_> = c.tool_calls().iter().map(|t| t.function.name.as_str()).collect();
    assert_eq!(names, ["get_weather", "get_time"]);

    let c = Client::default().completion(&request.clone().parallel_tool_calls(false)).unwrap();
    assert_eq!(c.tool_calls().len(), 1);

    let c = Client::default().completion(&request.tool_choice(ToolChoice::None)).unwrap();
    assert!(c.tool_calls().is_empty());
}

#[test]
fn streamed_tool_calls() {
    let request = emu().openai("parallel").user("both").tools(vec![weather_tool(), time_tool()]);
    let mut stream = Client::default().stream(&request).unwrap();
    let chunks: Vec<_> = stream.by_ref().map(Result::unwrap).collect();
    let calls = assemble(&chunks);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].1, "get_weather");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&calls[0].2).unwrap(), json!({"city": "Paris", "days": 42}));
    assert_eq!(calls[1].1, "get_time");
    let fragments = chunks.iter().filter(|c| !c.tool_calls().is_empty()).count();
    assert!(fragments > 4, "arguments arrive in pieces: {fragments}");
    // The aggregated completion holds the same calls.
    let done = stream.completion().unwrap();
    let aggregated: Vec<_> = done
        .tool_calls()
        .iter()
        .map(|t| (t.id.clone(), t.function.name.clone(), t.function.arguments.clone()))
        .collect();
    assert_eq!(aggregated, calls);
    assert_eq!(done.choices[0].finish_reason, Some(FinishReason::ToolCalls));
}

#[test]
fn the_tool_result_turn() {
    let client = Client::default();
    let request = emu().openai("gpt-4.1-mini").user("weather in Paris?").tool(weather_tool());
    let first = client.completion(&request).unwrap();
    let call: &ToolCall = &first.tool_calls()[0];
    let follow_up: Request =
        request.clone().message(first.message().unwrap().clone()).tool_result(call.id.clone(), "sunny, 21 C");
    let second = client.completion(&follow_up).unwrap();
    assert_eq!(second.text().as_deref(), Some("Tool results: sunny, 21 C"));
}
