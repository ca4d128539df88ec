//! `Client`: a set of transport defaults and the connections behind them.

use std::fmt;
use std::ptr;
use std::sync::Arc;

use crate::asynchronous::{CompletionFuture, StreamStart};
use crate::call::in_callback;
use crate::codec::{self, encode};
use crate::error::Error;
use crate::ffi;
use crate::stream::CompletionStream;
use crate::types::{ChatCompletion, ClientOptions, Request};

/// An `anyllm_client *`; NULL is the library's process-wide default client.
pub(crate) struct ClientHandle(*mut ffi::anyllm_client);

// SAFETY: the C API documents a client as shareable by any number of threads at once.
unsafe impl Send for ClientHandle {}
unsafe impl Sync for ClientHandle {}

impl ClientHandle {
    pub(crate) fn ptr(&self) -> *mut ffi::anyllm_client {
        self.0
    }
}

struct SendClient(*mut ffi::anyllm_client);
// SAFETY: see ClientHandle.
unsafe impl Send for SendClient {}

impl Drop for ClientHandle {
    fn drop(&mut self) {
        if self.0.is_null() {
            return;
        }
        let client = SendClient(self.0);
        let free = move || {
            let client = client;
            // SAFETY: the last reference: freed exactly once.
            unsafe { ffi::anyllm_client_free(client.0) }
        };
        if in_callback() {
            // anyllm_client_free must not run inside a callback of one of its calls.
            std::thread::spawn(free);
        } else {
            free();
        }
    }
}

/// A client: transport defaults (timeouts, retries, headers, proxy, TLS) and a connection pool.
///
/// `Send + Sync` and cheap to clone (clones share the same library client); one client serves
/// any number of threads and calls at once. `Client::default()` is the library's process-wide
/// default client. The library client is freed when the last clone, stream and future using it
/// are gone.
#[derive(Clone)]
pub struct Client {
    handle: Arc<ClientHandle>,
}

impl Default for Client {
    fn default() -> Self {
        Client { handle: Arc::new(ClientHandle(ptr::null_mut())) }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("default", &self.handle.0.is_null()).finish()
    }
}

impl Client {
    /// A client with its own defaults. Fails with [`Error::InvalidRequest`] on invalid options.
    pub fn new(options: ClientOptions) -> Result<Client, Error> {
        let json = serde_json::to_vec(&options)
            .map_err(|e| Error::local(ffi::ANYLLM_E_INVALID_REQUEST, format!("cannot encode the options: {e}")))?;
        let json = std::ffi::CString::new(json)
            .map_err(|_| Error::local(ffi::ANYLLM_E_INVALID_REQUEST, "the options contain a NUL byte"))?;
        let mut error_json: *mut std::ffi::c_char = ptr::null_mut();
        // SAFETY: json is NUL-terminated; error_json receives a library string or NULL.
        let client = unsafe { ffi::anyllm_client_new(json.as_ptr(), &mut error_json) };
        // SAFETY: error_json is NULL or a string we own now.
        let error = unsafe { ffi::take_string(error_json) };
        if client.is_null() {
            let error = error.unwrap_or_else(|| "{}".into());
            return Err(Error::from_json(ffi::ANYLLM_E_INVALID_REQUEST, error.as_bytes(), None));
        }
        Ok(Client { handle: Arc::new(ClientHandle(client)) })
    }

    /// Runs one completion, blocking the calling thread until it ends. A request with
    /// `stream: true` returns the completion aggregated from its chunks.
    pub fn completion(&self, request: &Request) -> Result<ChatCompletion, Error> {
        let encoded = encode(request, None)?;
        let mut out: *mut std::ffi::c_char = ptr::null_mut();
        // SAFETY: the request is NUL-terminated; no chunk callback; out receives a string we own.
        let status = unsafe {
            ffi::anyllm_completion(self.handle.ptr(), encoded.json.as_ptr(), None, ptr::null_mut(), &mut out)
        };
        // SAFETY: out is NULL or a library string nobody else frees.
        let json = unsafe { ffi::take_string(out) }.unwrap_or_default();
        codec::finish(status, json.as_bytes(), encoded.secret.as_deref())
    }

    /// Starts a streamed completion and waits for its first chunk (so a request that fails
    /// before any chunk — invalid, refused by the provider — fails here). The iterator yields
    /// the chunks, then an `Err` if the stream broke. Dropping it cancels the call.
    pub fn stream(&self, request: &Request) -> Result<CompletionStream, Error> {
        let encoded = encode(request, Some(true))?;
        CompletionStream::start(&self.handle, encoded)
    }

    /// The completion as a `Future`, woken by the library's callbacks: it never blocks the
    /// executor and needs no particular runtime. The call starts at the first poll; dropping
    /// the future cancels it.
    pub fn completion_async(&self, request: &Request) -> CompletionFuture {
        CompletionFuture::new(self.handle.clone(), encode(request, None))
    }

    /// A streamed completion for async code: resolves (after the first chunk, like
    /// [`Client::stream`]) to an [`crate::AsyncCompletionStream`].
    pub fn stream_async(&self, request: &Request) -> StreamStart {
        StreamStart::new(self.handle.clone(), encode(request, Some(true)))
    }
}
