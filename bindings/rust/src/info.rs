//! The library's version and provider registry.

use std::ffi::CStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codec;
use crate::error::Error;
use crate::ffi;

/// libanyllm's version, `"MAJOR.MINOR.PATCH"`.
pub fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string owned by the library.
    let s = unsafe { CStr::from_ptr(ffi::anyllm_version()) };
    s.to_str().unwrap_or("unknown")
}

/// One provider of the registry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderInfo {
    pub name: String,
    /// The wire protocol: `openai_chat`, `anthropic`, `gemini`, `ollama`, ...
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub base_url_env: Option<String>,
    /// The environment variable holding the key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub api_key_required: bool,
    /// Whether that variable is set (never the key itself).
    #[serde(default)]
    pub api_key_set: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The providers libanyllm knows.
pub fn providers() -> Result<Vec<ProviderInfo>, Error> {
    // SAFETY: returns a new string (or NULL), which take_string frees.
    let json = unsafe { ffi::take_string(ffi::anyllm_providers()) }
        .ok_or_else(|| Error::local(ffi::ANYLLM_E_INTERNAL, "anyllm_providers returned NULL"))?;
    #[derive(Deserialize)]
    struct Registry {
        providers: Vec<ProviderInfo>,
    }
    Ok(codec::parse::<Registry>(json.as_bytes(), "provider registry")?.providers)
}
