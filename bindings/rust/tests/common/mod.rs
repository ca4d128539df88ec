//! Shared by the integration tests: the provider emulator, requests aimed at it, and a tiny
//! executor (block_on with a thread-parking waker).

#![allow(dead_code)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::pin::pin;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use std::collections::BTreeMap;

use anyllm::{ChatCompletionChunk, ClientOptions, Request, Tool};
use serde_json::{json, Value};

pub const KEY: &str = "sk-test-0123456789abcdef";

/// A running emulator. It exits when its stdin closes, i.e. when this process ends.
pub struct Emulator {
    pub url: String,
    /// Kept open: the emulator exits when it closes. The process is not waited for: it ends
    /// with this test binary.
    _child: Mutex<Child>,
}

impl Emulator {
    pub fn start() -> Emulator {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Tests/emulator/emulator.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line
            .strip_prefix("ANYLLM_EMULATOR ")
            .unwrap_or_else(|| panic!("unexpected emulator greeting {line:?}"))
            .trim()
            .to_string();
        Emulator { url, _child: Mutex::new(child) }
    }

    /// The last request the emulator received: {"method", "path", "query", "headers", "body"}.
    pub fn last_request(&self) -> Value {
        let addr = self.url.trim_start_matches("http://");
        let mut conn = TcpStream::connect(addr).unwrap();
        write!(conn, "GET /_emulator/last_request HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).unwrap();
        let body = text.split_once("\r\n\r\n").expect("an HTTP answer").1;
        serde_json::from_str(body).unwrap()
    }

    /// A request to the emulator's OpenAI API.
    pub fn openai(&self, model: &str) -> Request {
        Request::new(format!("openai:{model}")).api_base(format!("{}/v1", self.url)).api_key(KEY)
    }

    /// A request to the emulator's rendering of a native protocol (anthropic, gemini, ollama).
    pub fn native(&self, provider: &str, model: &str) -> Request {
        Request::new(format!("{provider}:{model}")).api_base(self.url.clone()).api_key(KEY)
    }
}

/// The emulator shared by all tests of one test binary.
pub fn emu() -> &'static Emulator {
    static EMU: OnceLock<Emulator> = OnceLock::new();
    EMU.get_or_init(Emulator::start)
}

/// No retries: error tests would otherwise wait for them.
pub fn no_retries() -> ClientOptions {
    ClientOptions::new().max_retries(0)
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread, parking while it is pending.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        thread::park();
    }
}

/// Runs several futures concurrently on this one thread.
pub fn join_all<F: Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    while results.iter().any(Option::is_none) {
        for (future, slot) in futures.iter_mut().zip(results.iter_mut()) {
            if slot.is_none() {
                if let Poll::Ready(value) = std::pin::Pin::new(future).poll(&mut cx) {
                    *slot = Some(value);
                }
            }
        }
        if results.iter().any(Option::is_none) {
            thread::park();
        }
    }
    results.into_iter().map(Option::unwrap).collect()
}

/// A waker that counts its wakes (and wakes nothing).
#[derive(Default)]
pub struct CountingWaker(pub std::sync::atomic::AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A tool with a required string and an optional integer argument.
pub fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
               "required": ["city"]}),
    )
}

/// Joins streamed tool-call fragments by their index.
pub fn assemble(chunks: &[ChatCompletionChunk]) -> Vec<(String, String, String)> {
    let mut calls: BTreeMap<u32, (String, String, String)> = BTreeMap::new();
    for delta in chunks.iter().flat_map(|c| c.tool_calls()) {
        let entry = calls.entry(delta.index).or_default();
        if let Some(id) = &delta.id {
            entry.0 = id.clone();
        }
        if let Some(f) = &delta.function {
            if let Some(name) = &f.name {
                entry.1.push_str(name);
            }
            if let Some(args) = &f.arguments {
                entry.2.push_str(args);
            }
        }
    }
    calls.into_values().collect()
}
