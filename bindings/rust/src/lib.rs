//! # anyllm
//!
//! Safe Rust binding of libanyllm: one OpenAI-compatible completion API for every LLM provider
//! (OpenAI and its compatible services, Anthropic, Gemini and Vertex AI, Ollama, ...). Requests
//! use any-llm's `completion()` parameters; results are OpenAI `ChatCompletion`s whatever the
//! provider.
//!
//! ```no_run
//! use anyllm::{Client, Request};
//!
//! # fn main() -> Result<(), anyllm::Error> {
//! let client = Client::default();
//! let request = Request::new("anthropic:claude-sonnet-4-5").user("Say hi").temperature(0.2);
//!
//! // Blocking
//! let completion = client.completion(&request)?;
//! println!("{}", completion.text().unwrap_or_default());
//!
//! // Streaming: dropping the iterator cancels the call
//! for chunk in client.stream(&request)? {
//!     print!("{}", chunk?.text().unwrap_or(""));
//! }
//! # Ok(()) }
//! ```
//!
//! Async, on any executor (nothing here depends on a runtime):
//!
//! ```no_run
//! # async fn demo() -> Result<(), anyllm::Error> {
//! # let client = anyllm::Client::default();
//! # let request = anyllm::Request::new("openai:gpt-4.1-mini").user("Hi");
//! let completion = client.completion_async(&request).await?;
//! let mut stream = client.stream_async(&request).await?;
//! while let Some(chunk) = stream.next().await {
//!     print!("{}", chunk?.text().unwrap_or(""));
//! }
//! # Ok(()) }
//! ```
//!
//! Keys come from the request's `api_key` or the provider's environment variable
//! (`ANTHROPIC_API_KEY`, ...). Errors are [`Error`]s, one variant per library status; no key ever
//! shows in them.
//!
//! ## Linking
//! `build.rs` finds `libanyllm.so` through `$ANYLLM_LIB_DIR`, then `pkg-config anyllm`, then the
//! repository's `build/lib`, and writes that directory as an rpath into this package's own test
//! and example binaries. A crate depending on this one gets the directory as
//! `DEP_ANYLLM_LIB_DIR` in its build script (to emit `cargo:rustc-link-arg=-Wl,-rpath,...`), or
//! sets `LD_LIBRARY_PATH`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations)]

mod asynchronous;
mod call;
mod client;
mod codec;
mod error;
mod ffi;
mod info;
mod pull;
mod stream;
pub mod types;

#[cfg(test)]
mod header_check;
#[cfg(test)]
mod unit_tests;

pub use asynchronous::{AsyncCompletionStream, CompletionFuture, Next, StreamStart};
pub use client::Client;
pub use error::{Error, ErrorDetails};
pub use info::{providers, version, ProviderInfo};
pub use stream::CompletionStream;
pub use types::*;
