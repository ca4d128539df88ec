//! Every error variant the emulator (or the library's own checks) can produce, with what it
//! carries; no key in Display or Debug. (`Internal` cannot be caused from outside: the unit tests
//! map its status.)

mod common;

use std::future::Future;
use std::net::TcpListener;
use std::time::Duration;

use anyllm::{Client, ClientOptions, Error, Request};
use common::{block_on, emu, no_retries};

fn fail(request: &Request) -> Error {
    let client = Client::new(no_retries()).unwrap();
    client.completion(request).expect_err("the call should fail")
}

fn http_error(model: &str) -> Error {
    let e = fail(&emu().openai(model).user("x"));
    assert_eq!(e.provider(), Some("openai"), "{e:?}");
    assert!(e.provider_error().is_some(), "{model}: the provider's body is kept");
    assert!(!e.message().is_empty());
    assert_eq!(
        e.to_string(),
        format!("[openai] {} (HTTP {}): {}", e.type_name(), e.http_status().unwrap(), e.message())
    );
    e
}

#[test]
fn invalid_request() {
    let e = http_error("status-400");
    assert!(matches!(e, Error::InvalidRequest(_)));
    assert_eq!(e.http_status(), Some(400));
    assert_eq!(e.code(), 1);

    // Rejected by the library before anything is sent: names the parameter, no HTTP status.
    let e = fail(&emu().openai("m").user("x").top_p(3.0));
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
    assert_eq!(e.details().param.as_deref(), Some("top_p"));
    assert_eq!(e.http_status(), None);
}

#[test]
fn unsupported_provider() {
    let e = fail(&Request::new("nosuch:model").user("x"));
    assert!(matches!(e, Error::UnsupportedProvider(_)), "{e:?}");
    let known = e.details().extra["known_providers"].as_array().unwrap();
    assert!(known.iter().any(|p| p == "anthropic"));
}

#[test]
fn unsupported_parameter() {
    let e = fail(&emu().native("anthropic", "claude-sonnet-4-5").user("x").n(2));
    assert!(matches!(e, Error::UnsupportedParameter(_)), "{e:?}");
}

#[test]
fn missing_api_key() {
    if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
        eprintln!("ANTHROPIC_API_KEY is set: skipping the missing-key check");
        return;
    }
    let e = fail(&Request::new("anthropic:claude-sonnet-4-5").api_base(emu().url.clone()).user("x"));
    assert!(matches!(e, Error::MissingApiKey(_)), "{e:?}");
    assert!(e.message().contains("ANTHROPIC_API_KEY"), "{e}");
}

#[test]
fn authentication_permission_not_found() {
    let e = http_error("status-401");
    assert!(matches!(e, Error::Authentication(_)));
    let e = http_error("status-403");
    assert!(matches!(e, Error::Permission(_)));
    let e = http_error("status-404");
    assert!(matches!(e, Error::NotFound(_)));
    assert_eq!(e.http_status(), Some(404));
}

#[test]
fn rate_limit_with_retry_after() {
    let e = http_error("status-429");
    assert!(matches!(e, Error::RateLimit(_)));
    assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
    assert_eq!(e.provider_error().unwrap()["error"]["code"], "rate_limit_exceeded");
    assert_eq!(e.details().attempts, Some(1));
}

#[test]
fn context_length_content_filter_insufficient_funds() {
    let e = http_error("context-length");
    assert!(matches!(e, Error::ContextLength(_)));
    let e = http_error("content-filter");
    assert!(matches!(e, Error::ContentFilter(_)));
    let e = http_error("quota");
    assert!(matches!(e, Error::InsufficientFunds(_)));
    assert_eq!(e.http_status(), Some(429));
    let e = http_error("status-402");
    assert!(matches!(e, Error::InsufficientFunds(_)));
}

#[test]
fn provider_errors() {
    let e = http_error("status-500");
    assert!(matches!(e, Error::Provider(_)));
    let e = fail(&emu().openai("garbage").user("x"));
    assert!(matches!(e, Error::Provider(_)), "{e:?}");
    assert_eq!(e.provider_error().unwrap(), "<<<this is not json>>>");
}

#[test]
fn retries_then_success() {
    // Two 500s, then an answer: the client's retries hide them.
    let client = Client::new(ClientOptions::new().max_retries(2)).unwrap();
    let c = client.completion(&emu().openai("flaky-2-rust").user("x")).unwrap();
    assert_eq!(c.text().as_deref(), Some("You said: x"));
}

#[test]
fn timeout() {
    let request = emu()
        .openai("stall-3000")
        .user("x")
        .client_args(ClientOptions::new().max_retries(0).timeout(Duration::from_millis(300)));
    let e = Client::default().completion(&request).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
}

#[test]
fn connection() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // nothing listens there now
    let e = fail(&Request::new("openai:m").api_base(format!("http://127.0.0.1:{port}/v1")).api_key("sk-x").user("x"));
    assert!(matches!(e, Error::Connection(_)), "{e:?}");
}

#[test]
fn cancelled() {
    let client = Client::default();
    let future = client.completion_async(&emu().openai("slow-10-200").user("x"));
    let mut future = Box::pin(future);
    // Start it, then cancel it.
    let waker = std::task::Waker::from(std::sync::Arc::new(common::CountingWaker::default()));
    assert!(future.as_mut().poll(&mut std::task::Context::from_waker(&waker)).is_pending());
    future.cancel();
    let e = block_on(future).unwrap_err();
    assert!(matches!(e, Error::Cancelled(_)), "{e:?}");
    assert_eq!(e.code(), 15);
}

#[test]
fn invalid_client_options() {
    let mut options = ClientOptions::new();
    options.extra.insert("timeout".into(), serde_json::json!("soon"));
    options.timeout = None;
    let e = Client::new(options).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
}

#[test]
fn no_key_in_display_or_debug() {
    let secret = "sk-bad-0123456789-very-secret";
    let e = fail(&emu().openai("gpt-4.1-mini").user("x").api_key(secret));
    assert!(matches!(e, Error::Authentication(_)), "{e:?}");
    for shown in [e.to_string(), format!("{e:?}"), format!("{e:#?}"), serde_json::to_string(e.details()).unwrap()] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.contains("0123456789-very"), "{shown}");
    }
}
