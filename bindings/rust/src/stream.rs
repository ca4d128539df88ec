//! Streamed completions: the blocking iterator (over the pull API) and the async stream's core.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::call::{self, CallHandle, CallState, Event};
use crate::client::ClientHandle;
use crate::codec::{self, Encoded};
use crate::error::Error;
use crate::pull::{PulledCall, Pulled};
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

    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ChatCompletionChunk, Error>>> {
        if let Some(chunk) = self.first.take() {
            return Poll::Ready(Some(codec::parse(&chunk, "chunk")));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        self.state.poll(cx).map(|event| self.item(event))
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
}

/// A streamed completion: an iterator of [`ChatCompletionChunk`]s (blocking `next`).
///
/// After the last chunk the iterator ends (`None`), or yields one `Err` when the stream broke
/// (its [`Error::partial`] holds what had arrived). Dropping the stream cancels the call.
///
/// The iterating thread drives the call itself (the C pull API, `anyllm_call_next`) and gets
/// each network read's chunks at once, parsed as one JSON array.
pub struct CompletionStream {
    call: PulledCall,
    secret: Option<String>,
    ready: VecDeque<ChatCompletionChunk>,
    ended: bool,
    completion: Option<ChatCompletion>,
}

impl CompletionStream {
    pub(crate) fn start(client: &Arc<ClientHandle>, encoded: Encoded) -> Result<CompletionStream, Error> {
        let call = PulledCall::open(client, &encoded.json)?;
        let mut s = CompletionStream { call, secret: encoded.secret, ready: VecDeque::new(), ended: false, completion: None };
        // The first pull: a request that fails before any chunk fails here.
        if let Some(e) = s.pull() {
            return Err(e);
        }
        Ok(s)
    }

    /// Pulls the next read's chunks into `ready`, or takes the end: `Some(Err)` is the error to
    /// yield, `None` means go on (chunks are ready, or the stream ended well).
    fn pull(&mut self) -> Option<Error> {
        match self.call.next() {
            Pulled::Chunks(json) => match codec::parse::<Vec<ChatCompletionChunk>>(&json, "chunks") {
                Ok(chunks) => {
                    self.ready.extend(chunks);
                    None
                }
                Err(e) => {
                    self.call.cancel();
                    self.ended = true;
                    Some(e)
                }
            },
            Pulled::Done(status, json) => {
                self.ended = true;
                match codec::finish::<ChatCompletion>(status, &json, self.secret.as_deref()) {
                    Ok(c) => {
                        self.completion = Some(c);
                        None
                    }
                    Err(e) => Some(e),
                }
            }
        }
    }

    /// Asks the call to stop; the iterator then ends with [`Error::Cancelled`] (unless the
    /// stream had already ended). Safe from any thread through a shared reference.
    pub fn cancel(&self) {
        self.call.cancel();
    }

    /// The completion aggregated from all chunks, once the iterator has ended well.
    pub fn completion(&self) -> Option<&ChatCompletion> {
        self.completion.as_ref()
    }

    /// Reads the rest of the stream and returns the aggregated completion.
    pub fn into_completion(mut self) -> Result<ChatCompletion, Error> {
        for item in self.by_ref() {
            item?;
        }
        self.completion
            .take()
            .ok_or_else(|| Error::local(crate::ffi::ANYLLM_E_INTERNAL, "the stream ended without a result"))
    }
}

impl Iterator for CompletionStream {
    type Item = Result<ChatCompletionChunk, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(c) = self.ready.pop_front() {
                return Some(Ok(c));
            }
            if self.ended {
                return None;
            }
            if let Some(e) = self.pull() {
                return Some(Err(e));
            }
        }
    }
}

impl std::fmt::Debug for CompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompletionStream").field("ended", &self.ended).finish()
    }
}
