//! Request JSON out, result JSON in.

use std::ffi::CString;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::ffi;
use crate::types::Request;

/// A request ready for the C API, and its API key (to scrub from errors).
pub(crate) struct Encoded {
    pub json: CString,
    pub secret: Option<String>,
}

/// Serializes `request`; `stream` overrides its `stream` field.
pub(crate) fn encode(request: &Request, stream: Option<bool>) -> Result<Encoded, Error> {
    let invalid =
        |e: serde_json::Error| Error::local(ffi::ANYLLM_E_INVALID_REQUEST, format!("cannot encode the request: {e}"));
    let mut value = serde_json::to_value(request).map_err(invalid)?;
    if let (Some(stream), Value::Object(map)) = (stream, &mut value) {
        map.insert("stream".into(), Value::Bool(stream));
    }
    let bytes = serde_json::to_vec(&value).map_err(invalid)?;
    let json = CString::new(bytes)
        .map_err(|_| Error::local(ffi::ANYLLM_E_INVALID_REQUEST, "the request JSON contains a NUL byte"))?;
    let secret = request.api_key.as_ref().map(|k| k.expose().to_string());
    Ok(Encoded { json, secret })
}

/// Reads a JSON value the library produced.
pub(crate) fn parse<T: DeserializeOwned>(json: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(json)
        .map_err(|e| Error::local(ffi::ANYLLM_E_INTERNAL, format!("cannot read the library's {what}: {e}")))
}

/// A call's end: the result on `ANYLLM_OK`, else the error.
pub(crate) fn finish<T: DeserializeOwned>(
    status: ffi::anyllm_status,
    json: &[u8],
    secret: Option<&str>,
) -> Result<T, Error> {
    if status == ffi::ANYLLM_OK {
        parse(json, "result")
    } else {
        Err(Error::from_json(status, json, secret))
    }
}
