//! The raw C API of `include/anyllm.h` and `include/anyllm_types.h`, declared by hand.
//!
//! Private to the crate: the safe API is the only way in. `header_check` (a unit test) parses
//! the headers and compares every prototype, the callback typedefs and the status values with
//! these declarations.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};
use std::marker::{PhantomData, PhantomPinned};

/// Opaque `anyllm_client`.
#[repr(C)]
pub struct anyllm_client {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque `anyllm_call`.
#[repr(C)]
pub struct anyllm_call {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `anyllm_status`: a C enum, `int`-sized.
pub type anyllm_status = c_int;

pub const ANYLLM_OK: anyllm_status = 0;
pub const ANYLLM_E_INVALID_REQUEST: anyllm_status = 1;
pub const ANYLLM_E_UNSUPPORTED_PROVIDER: anyllm_status = 2;
pub const ANYLLM_E_UNSUPPORTED_PARAMETER: anyllm_status = 3;
pub const ANYLLM_E_MISSING_API_KEY: anyllm_status = 4;
pub const ANYLLM_E_AUTHENTICATION: anyllm_status = 5;
pub const ANYLLM_E_PERMISSION: anyllm_status = 6;
pub const ANYLLM_E_NOT_FOUND: anyllm_status = 7;
pub const ANYLLM_E_RATE_LIMIT: anyllm_status = 8;
pub const ANYLLM_E_CONTEXT_LENGTH: anyllm_status = 9;
pub const ANYLLM_E_CONTENT_FILTER: anyllm_status = 10;
pub const ANYLLM_E_INSUFFICIENT_FUNDS: anyllm_status = 11;
pub const ANYLLM_E_PROVIDER: anyllm_status = 12;
pub const ANYLLM_E_TIMEOUT: anyllm_status = 13;
pub const ANYLLM_E_CONNECTION: anyllm_status = 14;
pub const ANYLLM_E_CANCELLED: anyllm_status = 15;
pub const ANYLLM_E_INTERNAL: anyllm_status = 16;

/// Every status constant with its C name, for the header check.
#[cfg(test)]
pub const STATUS_NAMES: &[(&str, anyllm_status)] = &[
    ("ANYLLM_OK", ANYLLM_OK),
    ("ANYLLM_E_INVALID_REQUEST", ANYLLM_E_INVALID_REQUEST),
    ("ANYLLM_E_UNSUPPORTED_PROVIDER", ANYLLM_E_UNSUPPORTED_PROVIDER),
    ("ANYLLM_E_UNSUPPORTED_PARAMETER", ANYLLM_E_UNSUPPORTED_PARAMETER),
    ("ANYLLM_E_MISSING_API_KEY", ANYLLM_E_MISSING_API_KEY),
    ("ANYLLM_E_AUTHENTICATION", ANYLLM_E_AUTHENTICATION),
    ("ANYLLM_E_PERMISSION", ANYLLM_E_PERMISSION),
    ("ANYLLM_E_NOT_FOUND", ANYLLM_E_NOT_FOUND),
    ("ANYLLM_E_RATE_LIMIT", ANYLLM_E_RATE_LIMIT),
    ("ANYLLM_E_CONTEXT_LENGTH", ANYLLM_E_CONTEXT_LENGTH),
    ("ANYLLM_E_CONTENT_FILTER", ANYLLM_E_CONTENT_FILTER),
    ("ANYLLM_E_INSUFFICIENT_FUNDS", ANYLLM_E_INSUFFICIENT_FUNDS),
    ("ANYLLM_E_PROVIDER", ANYLLM_E_PROVIDER),
    ("ANYLLM_E_TIMEOUT", ANYLLM_E_TIMEOUT),
    ("ANYLLM_E_CONNECTION", ANYLLM_E_CONNECTION),
    ("ANYLLM_E_CANCELLED", ANYLLM_E_CANCELLED),
    ("ANYLLM_E_INTERNAL", ANYLLM_E_INTERNAL),
];

/// `anyllm_chunk_fn`: one streamed chunk; non-zero cancels.
pub type anyllm_chunk_fn =
    Option<unsafe extern "C" fn(chunk_json: *const c_char, len: usize, user_data: *mut c_void) -> c_int>;

/// `anyllm_done_fn`: the end of a started call.
pub type anyllm_done_fn =
    Option<unsafe extern "C" fn(status: anyllm_status, json: *const c_char, len: usize, user_data: *mut c_void)>;

#[allow(dead_code)] // anyllm_call_wait: declared for completeness (the binding waits on its own queue)
extern "C" {
    pub fn anyllm_version() -> *const c_char;
    pub fn anyllm_providers() -> *mut c_char;
    pub fn anyllm_client_new(options_json: *const c_char, error_json: *mut *mut c_char) -> *mut anyllm_client;
    pub fn anyllm_client_free(client: *mut anyllm_client);
    pub fn anyllm_completion(
        client: *mut anyllm_client,
        request_json: *const c_char,
        on_chunk: anyllm_chunk_fn,
        user_data: *mut c_void,
        out_json: *mut *mut c_char,
    ) -> anyllm_status;
    pub fn anyllm_completion_start(
        client: *mut anyllm_client,
        request_json: *const c_char,
        on_chunk: anyllm_chunk_fn,
        on_done: anyllm_done_fn,
        user_data: *mut c_void,
    ) -> *mut anyllm_call;
    pub fn anyllm_completion_open(client: *mut anyllm_client, request_json: *const c_char) -> *mut anyllm_call;
    /// For event loops: the engine thread runs the call and writes `token` (8 bytes) to
    /// `notify_fd` whenever `anyllm_call_next(call, 0, ...)` has something. Not used by the safe
    /// API yet (an async API would build on it); declared so that the header check covers it.
    pub fn anyllm_completion_open_notify(
        client: *mut anyllm_client,
        request_json: *const c_char,
        notify_fd: i32,
        token: u64,
    ) -> *mut anyllm_call;
    pub fn anyllm_call_next(
        call: *mut anyllm_call,
        timeout_ms: i32,
        chunks_json: *mut *const c_char,
        len: *mut usize,
    ) -> anyllm_status;
    pub fn anyllm_call_cancel(call: *mut anyllm_call);
    pub fn anyllm_call_wait(call: *mut anyllm_call, out_json: *mut *mut c_char) -> anyllm_status;
    pub fn anyllm_call_free(call: *mut anyllm_call);
    pub fn anyllm_string_free(s: *mut c_char);
}

/// Takes a string the library returned (may be NULL): copies it and frees the original.
///
/// # Safety
/// `s` is NULL or a NUL-terminated string returned by libanyllm that nobody else frees.
pub unsafe fn take_string(s: *mut c_char) -> Option<String> {
    if s.is_null() {
        return None;
    }
    // SAFETY: per this function's contract.
    let text = unsafe { std::ffi::CStr::from_ptr(s) }.to_string_lossy().into_owned();
    // SAFETY: ours to free, once.
    unsafe { anyllm_string_free(s) };
    Some(text)
}

/// Copies a callback's `(pointer, len)` buffer.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes.
pub unsafe fn copy_bytes(ptr: *const c_char, len: usize) -> Vec<u8> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: per this function's contract.
    unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }.to_vec()
}
