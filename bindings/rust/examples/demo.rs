//! demo — one completion, one streamed completion and one tool call through the `anyllm` crate.
//!
//! ```sh
//! cargo run --offline --example demo [MODEL]
//! ```
//! MODEL is "provider:model"; default: `$ANYLLM_MODEL`, else the first provider whose API key is
//! set in the environment, else the local provider emulator (started by this program; set
//! `ANYLLM_EMULATOR` to its emulator.py).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use anyllm::{Client, ClientOptions, Request, Tool};
use serde_json::json;

/// Providers tried in order when no model is given: (key variable, model).
const DEFAULTS: [(&str, &str); 6] = [
    ("OPENAI_API_KEY", "openai:gpt-4.1-mini"),
    ("ANTHROPIC_API_KEY", "anthropic:claude-haiku-4-5"),
    ("MISTRAL_API_KEY", "mistral:mistral-small-latest"),
    ("GROQ_API_KEY", "groq:llama-3.1-8b-instant"),
    ("DEEPSEEK_API_KEY", "deepseek:deepseek-chat"),
    ("OPENROUTER_API_KEY", "openrouter:openai/gpt-4.1-mini"),
];

/// Starts the emulator; it exits when the returned child's stdin closes (also if we die).
fn start_emulator() -> Result<(Child, String), Box<dyn std::error::Error>> {
    let script = std::env::var("ANYLLM_EMULATOR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../Tests/emulator/emulator.py").into());
    let mut child = Command::new("python3").arg(&script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    let url = line.strip_prefix("ANYLLM_EMULATOR ").ok_or("the emulator did not start")?.trim().to_string();
    Ok((child, url))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let chosen = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ANYLLM_MODEL").ok())
        .or_else(|| DEFAULTS.iter().find(|(var, _)| std::env::var_os(var).is_some()).map(|(_, m)| m.to_string()));
    let mut _emulator = None;
    let base = match chosen {
        Some(model) => Request::new(model),
        None => {
            let (child, url) = start_emulator()?;
            println!("no API key set: using the local provider emulator at {url}");
            _emulator = Some(child);
            Request::new("openai:gpt-4.1-mini").api_base(format!("{url}/v1")).api_key("sk-emulator")
        }
    };
    println!("libanyllm {}, model {}", anyllm::version(), base.model);
    let client = Client::new(ClientOptions::new().max_retries(2))?;

    // 1. One completion.
    let request = base.clone().system("Answer in one short sentence.").user("Say hello to Rust.");
    let completion = client.completion(&request)?;
    println!("\n[completion] {}", completion.text().unwrap_or_default());
    if let Some(usage) = &completion.usage {
        println!("  tokens: {} in, {} out", usage.prompt_tokens, usage.completion_tokens);
    }

    // 2. The same, streamed chunk by chunk.
    print!("\n[stream] ");
    for chunk in client.stream(&request)? {
        print!("{}", chunk?.text().unwrap_or(""));
        std::io::stdout().flush()?;
    }
    println!();

    // 3. A tool call, and its result sent back.
    let weather = Tool::function(
        "get_weather",
        "The current weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let request = base.user("What is the weather in Paris? Use the tool.").tool(weather);
    let first = client.completion(&request)?;
    match first.tool_calls().first() {
        Some(call) => {
            println!("\n[tool call] {}({})", call.function.name, call.function.arguments);
            let answer = request
                .message(first.message().cloned().unwrap_or_default())
                .tool_result(call.id.clone(), "sunny, 21 °C");
            println!("[after the tool] {}", client.completion(&answer)?.text().unwrap_or_default());
        }
        None => println!("\n[tool call] the model answered directly: {}", first.text().unwrap_or_default()),
    }
    Ok(())
}
