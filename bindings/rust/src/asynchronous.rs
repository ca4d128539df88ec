//! The async API: futures and a stream woken from the library's callbacks. No runtime is
//! involved: `on_chunk`/`on_done` store their data and wake the stored `Waker`, so these work on
//! any executor and never block it (except that dropping a running call waits the moment the
//! library needs to acknowledge the cancellation).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::call::{self, CallHandle, CallState, Event};
use crate::client::ClientHandle;
use crate::codec::{self, Encoded};
use crate::error::Error;
use crate::stream::StreamCore;
use crate::types::{ChatCompletion, ChatCompletionChunk};

enum FutureState {
    /// Not polled yet (or the request could not be encoded).
    Idle(Arc<ClientHandle>, Result<Encoded, Error>),
    Running {
        call: CallHandle,
        state: Arc<CallState>,
        secret: Option<String>,
    },
    Finished,
}

/// A completion in flight ([`crate::Client::completion_async`]). Dropping it cancels the call.
#[must_use = "futures do nothing unless polled"]
pub struct CompletionFuture {
    state: FutureState,
}

impl CompletionFuture {
    pub(crate) fn new(client: Arc<ClientHandle>, encoded: Result<Encoded, Error>) -> Self {
        CompletionFuture { state: FutureState::Idle(client, encoded) }
    }

    /// Asks a started call to stop; the future then resolves to [`Error::Cancelled`].
    pub fn cancel(&self) {
        if let FutureState::Running { call, .. } = &self.state {
            call.cancel();
        }
    }
}

impl Future for CompletionFuture {
    type Output = Result<ChatCompletion, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let FutureState::Idle(..) = this.state {
            let FutureState::Idle(client, encoded) = std::mem::replace(&mut this.state, FutureState::Finished) else {
                unreachable!()
            };
            let encoded = encoded?;
            let (call, state) = call::start(&client, &encoded.json, false)?;
            this.state = FutureState::Running { call, state, secret: encoded.secret };
        }
        let FutureState::Running { state, secret, .. } = &this.state else {
            panic!("CompletionFuture polled after it completed");
        };
        match state.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Event::Chunk(_)) => {
                // No chunk callback is registered; should one come, wait for the end.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(Event::Done(status, json)) => {
                let result = codec::finish(status, &json, secret.as_deref());
                this.state = FutureState::Finished;
                Poll::Ready(result)
            }
        }
    }
}

/// Starting a streamed completion ([`crate::Client::stream_async`]): resolves once the first
/// chunk arrived, or to the error that ended the call before any chunk.
#[must_use = "futures do nothing unless polled"]
pub struct StreamStart {
    client: Arc<ClientHandle>,
    encoded: Option<Result<Encoded, Error>>,
    core: Option<StreamCore>,
}

impl StreamStart {
    pub(crate) fn new(client: Arc<ClientHandle>, encoded: Result<Encoded, Error>) -> Self {
        StreamStart { client, encoded: Some(encoded), core: None }
    }
}

impl Future for StreamStart {
    type Output = Result<AsyncCompletionStream, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(encoded) = this.encoded.take() {
            this.core = Some(StreamCore::start(&this.client, encoded?)?);
        }
        let core = this.core.as_mut().expect("StreamStart polled after it completed");
        match core.poll_first(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                this.core = None;
                Poll::Ready(Err(e))
            }
            Poll::Ready(Ok(())) => {
                let core = this.core.take().expect("core");
                Poll::Ready(Ok(AsyncCompletionStream { core }))
            }
        }
    }
}

/// A streamed completion for async code. Use [`AsyncCompletionStream::next`] (or
/// [`AsyncCompletionStream::poll_next`] to adapt it to a `Stream` trait). Items and ending are
/// as for [`crate::CompletionStream`]; dropping it cancels the call.
pub struct AsyncCompletionStream {
    core: StreamCore,
}

impl AsyncCompletionStream {
    /// The next chunk (`None` at the end), without blocking the executor.
    #[allow(clippy::should_implement_trait)] // async, like `StreamExt::next`
    pub fn next(&mut self) -> Next<'_> {
        Next { stream: self }
    }

    /// The poll form of [`AsyncCompletionStream::next`], shaped like `Stream::poll_next`.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ChatCompletionChunk, Error>>> {
        self.core.poll_next(cx)
    }

    /// Asks the call to stop; the stream then ends with [`Error::Cancelled`].
    pub fn cancel(&self) {
        self.core.cancel();
    }

    /// The completion aggregated from all chunks, once the stream has ended well.
    pub fn completion(&self) -> Option<&ChatCompletion> {
        self.core.completion()
    }
}

/// The future of [`AsyncCompletionStream::next`].
#[must_use = "futures do nothing unless polled"]
pub struct Next<'a> {
    stream: &'a mut AsyncCompletionStream,
}

impl Future for Next<'_> {
    type Output = Option<Result<ChatCompletionChunk, Error>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.stream.poll_next(cx)
    }
}

impl std::fmt::Debug for CompletionFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            FutureState::Idle(..) => "idle",
            FutureState::Running { .. } => "running",
            FutureState::Finished => "finished",
        };
        f.debug_struct("CompletionFuture").field("state", &state).finish()
    }
}

impl std::fmt::Debug for StreamStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamStart").field("started", &self.core.is_some()).finish()
    }
}

impl std::fmt::Debug for AsyncCompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCompletionStream").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}
