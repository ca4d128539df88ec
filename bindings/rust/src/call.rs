//! One started call (`anyllm_completion_start`): the state its callbacks feed, the C trampolines,
//! and the handle that cancels and frees it.
//!
//! Ownership: the callbacks own one `Arc<CallState>` reference (passed as `user_data`), which
//! `on_done` — called exactly once per started call, after its last `on_chunk` — gives back. The
//! consumer (a stream or a future) owns another one and the `CallHandle`. So the state outlives
//! every callback whatever the order in which the two sides finish.

use std::cell::Cell;
use std::collections::VecDeque;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::client::ClientHandle;
use crate::error::Error;
use crate::ffi;

thread_local! {
    /// Set while this thread runs one of our callbacks: freeing a client or waiting for a call
    /// there could deadlock, so such drops are handed to another thread.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn in_callback() -> bool {
    IN_CALLBACK.with(Cell::get)
}

struct CallbackScope(bool);

impl CallbackScope {
    fn enter() -> Self {
        CallbackScope(IN_CALLBACK.with(|f| f.replace(true)))
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        let previous = self.0;
        IN_CALLBACK.with(|f| f.set(previous));
    }
}

/// What the consumer receives, in order: chunks, then the end.
pub(crate) enum Event {
    Chunk(Vec<u8>),
    Done(ffi::anyllm_status, Vec<u8>),
}

#[derive(Default)]
struct Inner {
    chunks: VecDeque<Vec<u8>>,
    done: Option<(ffi::anyllm_status, Vec<u8>)>,
    waker: Option<Waker>,
}

/// The queue between the library's delivery thread and the async consumer (woken by its waker).
#[derive(Default)]
pub(crate) struct CallState {
    inner: Mutex<Inner>,
}

impl CallState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn publish(&self, update: impl FnOnce(&mut Inner)) {
        let waker = {
            let mut inner = self.lock();
            update(&mut inner);
            inner.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn take(inner: &mut Inner) -> Option<Event> {
        if let Some(chunk) = inner.chunks.pop_front() {
            return Some(Event::Chunk(chunk));
        }
        inner.done.take().map(|(status, json)| Event::Done(status, json))
    }

    /// The next event, or `Pending` with `cx`'s waker stored for the next callback.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Event> {
        let mut inner = self.lock();
        if let Some(event) = Self::take(&mut inner) {
            return Poll::Ready(event);
        }
        match &inner.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => inner.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

unsafe extern "C" fn on_chunk(json: *const c_char, len: usize, user_data: *mut c_void) -> c_int {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _scope = CallbackScope::enter();
        // SAFETY: user_data is the callbacks' Arc<CallState> reference, alive until on_done.
        let state = unsafe { &*(user_data as *const CallState) };
        // SAFETY: the library passes `len` readable bytes, valid during this call.
        let bytes = unsafe { ffi::copy_bytes(json, len) };
        state.publish(|inner| inner.chunks.push_back(bytes));
    }));
    // A panic must not unwind into C: cancel the call instead.
    c_int::from(result.is_err())
}

unsafe extern "C" fn on_done(status: ffi::anyllm_status, json: *const c_char, len: usize, user_data: *mut c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let _scope = CallbackScope::enter();
        // SAFETY: on_done runs exactly once per started call: take the callbacks' reference back.
        let state = unsafe { Arc::from_raw(user_data as *const CallState) };
        // SAFETY: as in on_chunk.
        let bytes = unsafe { ffi::copy_bytes(json, len) };
        state.publish(|inner| inner.done = Some((status, bytes)));
        drop(state);
    }));
}

/// An `anyllm_call *` and the client it runs on (kept alive as long as the call).
pub(crate) struct CallHandle {
    ptr: *mut ffi::anyllm_call,
    client: Arc<ClientHandle>,
}

// SAFETY: every function of the C API may be called from any thread; the handle is only
// cancelled (thread-safe) and freed once, in Drop.
unsafe impl Send for CallHandle {}
unsafe impl Sync for CallHandle {}

struct SendCall(*mut ffi::anyllm_call);
// SAFETY: see CallHandle.
unsafe impl Send for SendCall {}

impl CallHandle {
    pub(crate) fn cancel(&self) {
        // SAFETY: ptr is a live call handle until Drop.
        unsafe { ffi::anyllm_call_cancel(self.ptr) }
    }
}

impl Drop for CallHandle {
    fn drop(&mut self) {
        self.cancel();
        let call = SendCall(self.ptr);
        let free = move || {
            let call = call;
            // SAFETY: freed exactly once; the call is cancelled, so this returns quickly.
            unsafe { ffi::anyllm_call_free(call.0) }
        };
        if in_callback() {
            // Dropped from inside a callback (a waker that polled inline): waiting for a call
            // here could block the thread that has to finish it.
            let client = self.client.clone();
            std::thread::spawn(move || {
                free();
                drop(client);
            });
        } else {
            free();
        }
    }
}

/// Starts a call. `chunks`: whether streamed chunks are delivered to the state.
pub(crate) fn start(
    client: &Arc<ClientHandle>,
    request: &CStr,
    chunks: bool,
) -> Result<(CallHandle, Arc<CallState>), Error> {
    let state = Arc::new(CallState::default());
    let user_data = Arc::into_raw(state.clone()) as *mut c_void;
    let chunk_fn: ffi::anyllm_chunk_fn = if chunks { Some(on_chunk) } else { None };
    // SAFETY: the request is NUL-terminated and read before this returns; user_data stays
    // valid until on_done gives it back.
    let ptr =
        unsafe { ffi::anyllm_completion_start(client.ptr(), request.as_ptr(), chunk_fn, Some(on_done), user_data) };
    if ptr.is_null() {
        // SAFETY: no callback will run: take the reference back.
        drop(unsafe { Arc::from_raw(user_data as *const CallState) });
        return Err(Error::local(ffi::ANYLLM_E_INTERNAL, "anyllm_completion_start returned NULL"));
    }
    Ok((CallHandle { ptr, client: client.clone() }, state))
}
