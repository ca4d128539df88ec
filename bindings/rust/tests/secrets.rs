//! No credential in what the error type shows: `Display`, `Debug` (plain and `{:#?}`), the serialized details
//! (provider error and partial result included), for every protocol and every error path the emulator can
//! script, streamed and not. The credentials are ones the binding does not know to scrub (it only knows
//! `api_key`): a bearer token in `client_args.headers`, and Bedrock's AWS secret key and session token — so what
//! is tested is the library's own redaction, seen through the binding. The emulator's `echo-key` answer does
//! contain the credential: that path proves there was something to remove.

mod common;

use anyllm::{Client, ClientOptions, Error, Request};
use common::{emu, KEY};

const HEADER_TOKEN: &str = "tok-rust-header-3c4d5e6f7a8b9c0d";
// The emulator's temporary test credentials (Tests/emulator/bedrock_sigv4.py).
const AWS_AKID: &str = "ASIAANYLLMTEST0000002";
const AWS_SECRET: &str = "anyllm/temp/SECRETKEY+zPxRfiCYEXAMPLEKEY";
const AWS_TOKEN: &str = "anyllm-session-token-EXAMPLE/Zm9vYmFy==";
const SECRETS: [&str; 3] = [HEADER_TOKEN, AWS_SECRET, AWS_TOKEN];

/// (provider, path under the emulator's URL)
const PROVIDERS: [(&str, &str); 9] = [
    ("openai", "/v1"),
    ("azureopenai", ""),
    ("azure", "/models"),
    ("mistral", "/mistral/v1"),
    ("anthropic", ""),
    ("gemini", ""),
    ("ollama", ""),
    ("cohere", ""),
    ("bedrock", ""),
];

/// (scripted model, streamed): error paths, each must fail.
const PATHS: [(&str, bool); 12] = [
    ("status-400", false),
    ("status-401", false),
    ("status-403", true),
    ("status-500", true),
    ("status-503-text", false),
    ("echo-key", false),
    ("echo-key", true),
    ("drop-after-2", true),
    ("garbage", false),
    ("bad-utf8", true),
    ("truncated-json", true),
    ("error-event", true),
];

fn request(provider: &str, suffix: &str, model: &str) -> Request {
    let mut options = ClientOptions::new().max_retries(0);
    let mut r =
        Request::new(format!("{provider}:{model}")).api_base(format!("{}{suffix}", emu().url)).user("Hello there");
    if provider == "bedrock" {
        r = r
            .param("aws_access_key_id", AWS_AKID)
            .param("aws_secret_access_key", AWS_SECRET)
            .param("aws_session_token", AWS_TOKEN)
            .param("aws_region", "eu-central-1");
    } else {
        r = r.api_key(KEY);
        options = options.header("Authorization", format!("Bearer {HEADER_TOKEN}"));
    }
    r.client_args(options)
}

fn run(client: &Client, req: &Request, stream: bool) -> Error {
    if !stream {
        return client.completion(req).expect_err("the call should fail");
    }
    match client.stream(req) {
        Err(e) => e,
        Ok(chunks) => {
            for c in chunks {
                if let Err(e) = c {
                    return e;
                }
            }
            panic!("the stream should fail")
        }
    }
}

#[test]
fn no_credential_in_display_debug_or_details() {
    let client = Client::new(ClientOptions::new()).unwrap();
    let mut checked = 0;
    for (provider, suffix) in PROVIDERS {
        for (model, stream) in PATHS {
            let e = run(&client, &request(provider, suffix, model), stream);
            let details = serde_json::to_string(e.details()).unwrap();
            for shown in [e.to_string(), format!("{e:?}"), format!("{e:#?}"), details] {
                for s in SECRETS {
                    assert!(!shown.contains(s), "{provider} / {model}: {s} in {shown}");
                }
            }
            if model == "echo-key" && provider != "ollama" {
                // the provider did echo a credential (Ollama takes none): the library removed it
                assert!(e.message().contains("[redacted]"), "{provider}: {}", e.message());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, PROVIDERS.len() * PATHS.len());
}
