//! Transport options (a client's defaults and a call's `client_args`) and the secret API key.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An API key. Its `Debug` never shows it; it is serialized as the plain string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl<S: Into<String>> From<S> for ApiKey {
    fn from(key: S) -> Self {
        ApiKey(key.into())
    }
}

/// Transport options: `Client::new`'s defaults, or one request's `client_args`.
///
/// Every field is optional; the library's defaults are a 600 s total timeout per attempt, 10 s to
/// connect, 120 s of silence at most, and 2 retries.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientOptions {
    /// Total seconds per attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<f64>,
    /// Longest silence between received bytes, streams included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Extra HTTP headers. `Debug` shows only their names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
    /// Options the binding does not model, passed on as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ClientOptions {
    /// No options: the library's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total time per attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout.as_secs_f64());
        self
    }

    /// Time to connect.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout.as_secs_f64());
        self
    }

    /// Longest silence between received bytes, streams included.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout.as_secs_f64());
        self
    }

    /// Retries of 408/409/429/5xx answers and connection failures (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Adds an HTTP header to every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.get_or_insert_with(BTreeMap::new).insert(name.into(), value.into());
        self
    }

    /// An HTTP(S) proxy URL.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// A CA bundle file to verify TLS with.
    pub fn ca_bundle(mut self, path: impl Into<String>) -> Self {
        self.ca_bundle = Some(path.into());
        self
    }

    /// Whether TLS certificates are verified (default true).
    pub fn verify_tls(mut self, verify: bool) -> Self {
        self.verify_tls = Some(verify);
        self
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Option<Vec<&String>> = self.headers.as_ref().map(|h| h.keys().collect());
        f.debug_struct("ClientOptions")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_retries", &self.max_retries)
            .field("headers", &header_names)
            .field("proxy", &self.proxy.as_ref().map(|_| "<redacted>"))
            .field("ca_bundle", &self.ca_bundle)
            .field("verify_tls", &self.verify_tls)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}
