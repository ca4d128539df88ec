//! A call opened with `anyllm_completion_open` and pulled with `anyllm_call_next`: the blocking
//! stream's transport. The thread that iterates drives the call's I/O inside the library and
//! receives each network read's chunks as one JSON array; no library thread, no callback, no
//! queue between them.

use std::ffi::{c_char, CStr};
use std::ptr;
use std::sync::Arc;

use crate::client::ClientHandle;
use crate::error::Error;
use crate::ffi;

/// What one pull gave.
pub(crate) enum Pulled {
    /// A JSON array of one or more chunks (copied out of the library's buffer).
    Chunks(Vec<u8>),
    /// The call has ended: its status and result or error JSON.
    Done(ffi::anyllm_status, Vec<u8>),
}

pub(crate) struct PulledCall {
    ptr: *mut ffi::anyllm_call,
    /// The client must outlive its calls.
    _client: Arc<ClientHandle>,
}

// SAFETY: the C API lets any thread pull (pulls of one call take turns inside the library),
// cancel (thread-safe) and free (once, in Drop) a pulled call.
unsafe impl Send for PulledCall {}
unsafe impl Sync for PulledCall {}

impl PulledCall {
    pub(crate) fn open(client: &Arc<ClientHandle>, request: &CStr) -> Result<PulledCall, Error> {
        // SAFETY: the request is NUL-terminated and only read during the call.
        let ptr = unsafe { ffi::anyllm_completion_open(client.ptr(), request.as_ptr()) };
        if ptr.is_null() {
            return Err(Error::local(ffi::ANYLLM_E_INTERNAL, "anyllm_completion_open returned NULL"));
        }
        Ok(PulledCall { ptr, _client: client.clone() })
    }

    /// Blocks until the next chunks or the end.
    pub(crate) fn next(&self) -> Pulled {
        let mut data: *const c_char = ptr::null();
        let mut len: usize = 0;
        // SAFETY: ptr is live until Drop; data/len are valid out-pointers.
        let status = unsafe { ffi::anyllm_call_next(self.ptr, -1, &mut data, &mut len) };
        if status == ffi::ANYLLM_OK && !data.is_null() {
            // SAFETY: the library lends `len` bytes at `data` until the next pull or free.
            return Pulled::Chunks(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }.to_vec());
        }
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: the call has ended (or cannot be pulled): wait returns its outcome at once.
        let status = unsafe { ffi::anyllm_call_wait(self.ptr, &mut out) };
        // SAFETY: out is NULL or a library string nobody else frees.
        let json = unsafe { ffi::take_string(out) }.unwrap_or_default();
        Pulled::Done(status, json.into_bytes())
    }

    pub(crate) fn cancel(&self) {
        // SAFETY: ptr is live until Drop; cancel is safe from any thread.
        unsafe { ffi::anyllm_call_cancel(self.ptr) }
    }
}

impl Drop for PulledCall {
    fn drop(&mut self) {
        // SAFETY: freed exactly once; a call still running is cancelled and ended by the library.
        unsafe { ffi::anyllm_call_free(self.ptr) }
    }
}
