//! The request: any-llm's `completion()` parameters, with a builder.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::message::{Content, Message};
use super::options::{ApiKey, ClientOptions};
use super::params::{ReasoningEffort, ResponseFormat, Stop, StreamOptions};
use super::tools::{Tool, ToolChoice};

/// `messages`: a list of messages, or a plain string meaning one user message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Messages {
    /// A plain string: one user message.
    Text(String),
    /// A list of messages.
    List(Vec<Message>),
}

impl Default for Messages {
    fn default() -> Self {
        Messages::List(Vec::new())
    }
}

impl Messages {
    /// The messages as a list (a plain string becomes one user message).
    pub fn into_list(self) -> Vec<Message> {
        match self {
            Messages::Text(text) => vec![Message::user(text)],
            Messages::List(list) => list,
        }
    }
}

impl From<&str> for Messages {
    fn from(text: &str) -> Self {
        Messages::Text(text.to_string())
    }
}

impl From<String> for Messages {
    fn from(text: String) -> Self {
        Messages::Text(text)
    }
}

impl From<Vec<Message>> for Messages {
    fn from(list: Vec<Message>) -> Self {
        Messages::List(list)
    }
}

/// One completion request. Fields left `None` are not sent.
///
/// ```
/// use anyllm::{Request, Tool};
/// use serde_json::json;
///
/// let request = Request::new("anthropic:claude-sonnet-4-5")
///     .system("Answer briefly.")
///     .user("What is the weather in Paris?")
///     .temperature(0.2)
///     .tools(vec![Tool::function(
///         "get_weather",
///         "The weather in a city",
///         json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
///     )]);
/// assert_eq!(request.to_json().unwrap()["temperature"], 0.2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// `"provider:model"` (or a bare model with `provider`).
    pub model: String,
    #[serde(default)]
    pub messages: Messages,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// The end user's id (OpenAI's `user` parameter; see [`Request::end_user`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<HashMap<String, f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Never shown by `Debug`, never part of an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// Transport options for this call only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_args: Option<ClientOptions>,
    /// Any other key: sent to the provider's body unchanged (any-llm's `**kwargs`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Setters for `Option` fields: `into` ones take anything convertible (strings), the others the
/// type itself (so that number literals infer).
macro_rules! setters {
    (into: $($name:ident: $ty:ty;)*) => {$(
        #[doc = concat!("Sets `", stringify!($name), "`.")]
        pub fn $name(mut self, value: impl Into<$ty>) -> Self {
            self.$name = Some(value.into());
            self
        }
    )*};
    (plain: $($name:ident: $ty:ty;)*) => {$(
        #[doc = concat!("Sets `", stringify!($name), "`.")]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
    )*};
}

impl Request {
    /// A request for `model` (`"provider:model"`), with no messages yet.
    pub fn new(model: impl Into<String>) -> Self {
        Request { model: model.into(), ..Request::default() }
    }

    /// Appends a message (a plain-string `messages` becomes a list first).
    pub fn message(mut self, message: Message) -> Self {
        let mut list = std::mem::take(&mut self.messages).into_list();
        list.push(message);
        self.messages = Messages::List(list);
        self
    }

    /// Replaces the messages: a list, or a plain string meaning one user message.
    pub fn messages(mut self, messages: impl Into<Messages>) -> Self {
        self.messages = messages.into();
        self
    }

    /// Appends a system message.
    pub fn system(self, content: impl Into<Content>) -> Self {
        self.message(Message::system(content))
    }

    /// Appends a user message (text or parts).
    pub fn user(self, content: impl Into<Content>) -> Self {
        self.message(Message::user(content))
    }

    /// Appends an assistant message.
    pub fn assistant(self, content: impl Into<Content>) -> Self {
        self.message(Message::assistant(content))
    }

    /// Appends a tool's result, answering the call with id `tool_call_id`.
    pub fn tool_result(self, tool_call_id: impl Into<String>, content: impl Into<Content>) -> Self {
        self.message(Message::tool(tool_call_id, content))
    }

    /// Sets the tools the model may call.
    pub fn tools(mut self, tools: Vec<Tool>) -> Self {
        self.tools = Some(tools);
        self
    }

    /// Appends one tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.get_or_insert_with(Vec::new).push(tool);
        self
    }

    /// OpenAI's `user` parameter: an id for the end user (not a message; see [`Request::user`]).
    pub fn end_user(mut self, id: impl Into<String>) -> Self {
        self.user = Some(id.into());
        self
    }

    /// Structured output: asks for JSON that follows `schema`.
    pub fn json_schema(self, name: impl Into<String>, schema: Value) -> Self {
        self.response_format(ResponseFormat::json_schema(name, schema))
    }

    /// Any other parameter, sent to the provider's body unchanged.
    pub fn param(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    setters! { into:
        provider: String;
        stop: Stop;
        api_key: ApiKey;
        api_base: String;
    }

    setters! { plain:
        tool_choice: ToolChoice;
        temperature: f64;
        top_p: f64;
        max_tokens: u32;
        max_completion_tokens: u32;
        response_format: ResponseFormat;
        stream: bool;
        stream_options: StreamOptions;
        n: u32;
        presence_penalty: f64;
        frequency_penalty: f64;
        seed: i64;
        parallel_tool_calls: bool;
        logprobs: bool;
        top_logprobs: u32;
        logit_bias: HashMap<String, f64>;
        reasoning_effort: ReasoningEffort;
        client_args: ClientOptions;
    }

    /// The request as the JSON object the library receives.
    pub fn to_json(&self) -> serde_json::Result<Value> {
        serde_json::to_value(self)
    }
}
