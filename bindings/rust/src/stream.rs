//! Streamed completions: the blocking iterator, and the core it shares with the async stream.

use std::sync::Arc;
use std::task::{Context, Poll};

use crate::call::{self, CallHandle, CallState, Event};
use crate::client::ClientHandle;
use crate::codec::{self, Encoded};
use crate::error::Error;
use crate::types::{ChatCompletion, ChatCompletionChunk};

/// The state of a started stream, whichever way it is consumed.
pub(crate) struct StreamCore {
    call: CallHandle,
    state: Arc<CallState>,
    secret: Option<String>,
    /// The first chunk, received while starting.
    first: Option<Vec<u8>>,
    /// Set once the end was received.
    ended: bool,
    completion: Option<ChatCompletion>,
}

impl StreamCore {
    pub(crate) fn start(client: &Arc<ClientHandle>, encoded: Encoded) -> Result<StreamCore, Error> {
        let (call, state) = call::start(client, &encoded.json, true)?;
        Ok(StreamCore { call, state, secret: encoded.secret, first: None, ended: false, completion: None })
    }

    /// Handles the first event: keeps a chunk for later, or fails when the call ended in error
    /// before any chunk.
    pub(crate) fn prime(&mut self, event: Event) -> Result<(), Error> {
        match event {
            Event::Chunk(chunk) => {
                self.first = Some(chunk);
                Ok(())
            }
            Event::Done(status, json) => match self.end(status, &json) {
                Some(Err(e)) => Err(e),
                _ => Ok(()),
            },
        }
    }

    fn end(&mut self, status: i32, json: &[u8]) -> Option<Result<ChatCompletionChunk, Error>> {
        self.ended = true;
        match codec::finish::<ChatCompletion>(status, json, self.secret.as_deref()) {
            Ok(completion) => {
                self.completion = Some(completion);
                None
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// Turns an event into the iterator's item (`None` = the stream ended well).
    fn item(&mut self, event: Event) -> Option<Result<ChatCompletionChunk, Error>> {
        match event {
            Event::Chunk(chunk) => Some(codec::parse(&chunk, "chunk")),
            Event::Done(status, json) => self.end(status, &json),
        }
    }

    pub(crate) fn next_blocking(&mut self) -> Option<Result<ChatCompletionChunk, Error>> {
        if let Some(chunk) = self.first.take() {
            return Some(codec::parse(&chunk, "chunk"));
        }
        if self.ended {
            return None;
        }
        let event = self.state.wait();
        self.item(event)
    }

    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ChatCompletionChunk, Error>>> {
        if let Some(chunk) = self.first.take() {
            return Poll::Ready(Some(codec::parse(&chunk, "chunk")));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        self.state.poll(cx).map(|event| self.item(event))
    }

    pub(crate) fn wait_first(&mut self) -> Result<(), Error> {
        let event = self.state.wait();
        self.prime(event)
    }

    pub(crate) fn poll_first(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.state.poll(cx).map(|event| self.prime(event))
    }

    pub(crate) fn cancel(&self) {
        self.call.cancel();
    }

    pub(crate) fn completion(&self) -> Option<&ChatCompletion> {
        self.completion.as_ref()
    }

    pub(crate) fn take_completion(&mut self) -> Option<ChatCompletion> {
        self.completion.take()
    }
}

/// A streamed completion: an iterator of [`ChatCompletionChunk`]s (blocking `next`).
///
/// After the last chunk the iterator ends (`None`), or yields one `Err` when the stream broke
/// (its [`Error::partial`] holds what had arrived). Dropping the stream cancels the call and
/// waits for the library to let go of it (quick: cancellation is immediate).
pub struct CompletionStream {
    core: StreamCore,
}

impl CompletionStream {
    pub(crate) fn start(client: &Arc<ClientHandle>, encoded: Encoded) -> Result<CompletionStream, Error> {
        let mut core = StreamCore::start(client, encoded)?;
        core.wait_first()?;
        Ok(CompletionStream { core })
    }

    /// Asks the call to stop; the iterator then ends with [`Error::Cancelled`] (unless the
    /// stream had already ended). Safe from any thread through a shared reference.
    pub fn cancel(&self) {
        self.core.cancel();
    }

    /// The completion aggregated from all chunks, once the iterator has ended well.
    pub fn completion(&self) -> Option<&ChatCompletion> {
        self.core.completion()
    }

    /// Reads the rest of the stream and returns the aggregated completion.
    pub fn into_completion(mut self) -> Result<ChatCompletion, Error> {
        for item in self.by_ref() {
            item?;
        }
        self.core
            .take_completion()
            .ok_or_else(|| Error::local(crate::ffi::ANYLLM_E_INTERNAL, "the stream ended without a result"))
    }
}

impl Iterator for CompletionStream {
    type Item = Result<ChatCompletionChunk, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.core.next_blocking()
    }
}

impl std::fmt::Debug for CompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompletionStream").field("ended", &self.core.ended).finish()
    }
}
