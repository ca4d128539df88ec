//! Streamed results: OpenAI `ChatCompletionChunk`s.

use serde::Serialize;
use serde_json::{Map, Value};

use super::message::{Reasoning, Role};
use super::response::{FinishReason, Usage};
use super::extra_map::deserialize_with_extra;
use super::tools::ToolCallDelta;

/// One streamed piece of a completion (`object: "chat.completion.chunk"`). Usage comes in the
/// last chunk (often with no choices).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChatCompletionChunk {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionChunk {
    /// The first choice's text delta, if it has one.
    pub fn text(&self) -> Option<&str> {
        self.choices.first()?.delta.content.as_deref()
    }

    /// The first choice's tool-call fragments (empty when there are none).
    pub fn tool_calls(&self) -> &[ToolCallDelta] {
        self.choices.first().and_then(|c| c.delta.tool_calls.as_deref()).unwrap_or(&[])
    }

    /// The first choice's finish reason, in the chunk that ends it.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.choices.first()?.finish_reason.as_ref()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
/// One choice of a chunk: what it adds, and how it ended.
pub struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub delta: Delta,
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a chunk adds to the message.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// A stream deserializes thousands of these: read without `flatten`'s buffering (extra_map.rs).
deserialize_with_extra!(ChatCompletionChunk, "a ChatCompletionChunk object", { id, object, created, model, choices, usage });
deserialize_with_extra!(ChunkChoice, "a chunk choice object", { index, delta, finish_reason, logprobs });
deserialize_with_extra!(Delta, "a chunk delta object", { role, content, tool_calls, reasoning });
