//! `Error`: one variant per `anyllm_status`, each with the library's error object.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ffi;
use crate::types::ChatCompletion;

/// What the library says about a failure (its `{"error": {...}}` object).
///
/// No API key is ever part of it: the library never puts one there, and the binding also removes
/// the request's own key from every field in case a provider echoed it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// The error type as the library names it (`"rate_limit"`, ...).
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
    /// The provider's HTTP status, when there was an HTTP answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Seconds the provider asked to wait (`Retry-After`, `retry-after-ms`, Gemini's `RetryInfo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
    /// The request parameter at fault, for invalid requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The provider's own error body (JSON, or a string when it was not JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_error: Option<Value>,
    /// What a broken stream had delivered, aggregated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<ChatCompletion>,
    /// Anything else (`known_providers`, `timeout`, `env_var`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

macro_rules! error_enum {
    ($($(#[$doc:meta])* $variant:ident = $code:ident, $name:literal;)*) => {
        /// A failed call: one variant per `anyllm_status` (all but `ANYLLM_OK`).
        ///
        /// `Display` is `[provider] type (HTTP status): message`; neither it nor `Debug` ever shows an
        /// API key.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Error {
            $($(#[$doc])* $variant(Box<ErrorDetails>),)*
        }

        impl Error {
            /// The error for a status code of the C API (unknown codes are `Internal`).
            pub(crate) fn from_status(code: ffi::anyllm_status, details: ErrorDetails) -> Error {
                match code {
                    $(ffi::$code => Error::$variant(Box::new(details)),)*
                    _ => Error::Internal(Box::new(details)),
                }
            }

            /// The `anyllm_status` value of this error.
            pub fn code(&self) -> i32 {
                match self { $(Error::$variant(_) => ffi::$code,)* }
            }

            /// The error type's name, as in the library's `error.type`.
            pub fn type_name(&self) -> &'static str {
                match self { $(Error::$variant(_) => $name,)* }
            }

            /// Everything the library said about the error.
            pub fn details(&self) -> &ErrorDetails {
                match self { $(Error::$variant(d) => d,)* }
            }

            fn details_mut(&mut self) -> &mut ErrorDetails {
                match self { $(Error::$variant(d) => d,)* }
            }
        }
    };
}

error_enum! {
    /// The request is malformed or a field is invalid; also HTTP 400/409/422 and other 4xx.
    InvalidRequest = ANYLLM_E_INVALID_REQUEST, "invalid_request";
    /// Unknown provider name (`details().extra["known_providers"]` lists the known ones).
    UnsupportedProvider = ANYLLM_E_UNSUPPORTED_PROVIDER, "unsupported_provider";
    /// A parameter the chosen provider cannot honour.
    UnsupportedParameter = ANYLLM_E_UNSUPPORTED_PARAMETER, "unsupported_parameter";
    /// No `api_key` in the request and the provider's variable is unset.
    MissingApiKey = ANYLLM_E_MISSING_API_KEY, "missing_api_key";
    /// HTTP 401.
    Authentication = ANYLLM_E_AUTHENTICATION, "authentication";
    /// HTTP 403.
    Permission = ANYLLM_E_PERMISSION, "permission";
    /// HTTP 404: unknown model or wrong URL.
    NotFound = ANYLLM_E_NOT_FOUND, "not_found";
    /// HTTP 429; see [`Error::retry_after`].
    RateLimit = ANYLLM_E_RATE_LIMIT, "rate_limit";
    /// The prompt does not fit the model's context window.
    ContextLength = ANYLLM_E_CONTEXT_LENGTH, "context_length";
    /// The provider refused the content.
    ContentFilter = ANYLLM_E_CONTENT_FILTER, "content_filter";
    /// HTTP 402, a quota or billing error.
    InsufficientFunds = ANYLLM_E_INSUFFICIENT_FUNDS, "insufficient_funds";
    /// HTTP 5xx, an error event in a stream, or an unreadable answer.
    Provider = ANYLLM_E_PROVIDER, "provider";
    /// Connect, read (silence) or total timeout.
    Timeout = ANYLLM_E_TIMEOUT, "timeout";
    /// Refused, reset, cut-off stream, DNS or TLS failure.
    Connection = ANYLLM_E_CONNECTION, "connection";
    /// The call was cancelled (a dropped stream or future, or [`crate::CompletionStream::cancel`]).
    Cancelled = ANYLLM_E_CANCELLED, "cancelled";
    /// A bug in libanyllm (or a result this binding could not read).
    Internal = ANYLLM_E_INTERNAL, "internal";
}

impl Error {
    /// Builds the error from a status and the library's error JSON, removing `secret` (the
    /// request's API key) wherever it appears.
    pub(crate) fn from_json(code: ffi::anyllm_status, json: &[u8], secret: Option<&str>) -> Error {
        let mut text = String::from_utf8_lossy(json).into_owned();
        if let Some(secret) = secret.filter(|s| s.len() >= 6) {
            text = text.replace(secret, "<redacted>");
        }
        let details = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").cloned())
            .and_then(|e| serde_json::from_value::<ErrorDetails>(e).ok())
            .unwrap_or_else(|| ErrorDetails { message: text, ..ErrorDetails::default() });
        Error::from_status(code, details)
    }

    /// An error found by the binding itself (not reported by the library).
    pub(crate) fn local(code: ffi::anyllm_status, message: impl Into<String>) -> Error {
        let mut err = Error::from_status(code, ErrorDetails { message: message.into(), ..ErrorDetails::default() });
        let kind = err.type_name().to_string();
        err.details_mut().kind = kind;
        err
    }

    /// The library's description of the error.
    pub fn message(&self) -> &str {
        &self.details().message
    }

    /// The provider's HTTP status, when there was an HTTP answer.
    pub fn http_status(&self) -> Option<u16> {
        self.details().status
    }

    /// The provider the call went to, when known.
    pub fn provider(&self) -> Option<&str> {
        self.details().provider.as_deref()
    }

    /// How long the provider asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        self.details().retry_after.filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
    }

    /// The provider's own error body.
    pub fn provider_error(&self) -> Option<&Value> {
        self.details().provider_error.as_ref()
    }

    /// What a stream had delivered before it failed, aggregated.
    pub fn partial(&self) -> Option<&ChatCompletion> {
        self.details().partial.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.details();
        if let Some(provider) = &d.provider {
            write!(f, "[{provider}] ")?;
        }
        f.write_str(self.type_name())?;
        if let Some(status) = d.status {
            write!(f, " (HTTP {status})")?;
        }
        write!(f, ": {}", d.message)
    }
}

impl std::error::Error for Error {}
