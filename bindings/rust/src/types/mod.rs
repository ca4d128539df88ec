//! Serde types for requests and results, in OpenAI's shapes.
//!
//! Every result type keeps the fields it does not model in an `extra` map (`#[serde(flatten)]`),
//! so nothing a provider sends is lost and a result message can be sent back as it came.

mod chunk;
mod extra_map;
mod message;
mod options;
mod params;
mod request;
mod response;
mod tools;

pub use chunk::{ChatCompletionChunk, ChunkChoice, Delta};
pub use message::{Content, ContentPart, ImageUrl, InputAudio, Message, Reasoning, Role};
pub use options::{ApiKey, ClientOptions};
pub use params::{JsonSchema, ReasoningEffort, ResponseFormat, Stop, StreamOptions};
pub use request::{Messages, Request};
pub use response::{ChatCompletion, Choice, CompletionTokensDetails, FinishReason, PromptTokensDetails, Usage};
pub use tools::{FunctionCall, FunctionCallDelta, FunctionDef, Tool, ToolCall, ToolCallDelta, ToolChoice};
