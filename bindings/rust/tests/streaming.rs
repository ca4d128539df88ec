//! Streamed completions through the blocking iterator: chunks, usage, the aggregated result,
//! errors before and during the stream, cancellation (explicit and by drop).

mod common;

use std::time::{Duration, Instant};

use anyllm::{Client, Error, FinishReason};
use common::{emu, no_retries};

#[test]
fn stream_text_chunk_by_chunk() {
    let stream = Client::default().stream(&emu().openai("gpt-4.1-mini").user("hello streaming world")).unwrap();
    let chunks: Vec<_> = stream.map(Result::unwrap).collect();
    let text: String = chunks.iter().filter_map(|c| c.text()).collect();
    assert_eq!(text, "You said: hello streaming world");
    assert!(chunks.len() >= 5, "one chunk per word: {}", chunks.len());
    assert!(chunks.iter().all(|c| c.object == "chat.completion.chunk"));
    assert!(chunks.iter().any(|c| c.finish_reason() == Some(&FinishReason::Stop)));
    let usage = chunks.iter().rev().find_map(|c| c.usage.as_ref()).expect("usage in the last chunk");
    assert_eq!(usage.completion_tokens, 5);
}

#[test]
fn the_stream_keeps_the_aggregated_completion() {
    let mut stream = Client::default().stream(&emu().openai("long-8").user("x")).unwrap();
    assert!(stream.completion().is_none());
    let n = stream.by_ref().map(Result::unwrap).filter(|c| c.text().is_some_and(|t| !t.is_empty())).count();
    assert_eq!(n, 8);
    let done = stream.completion().expect("the aggregated completion");
    assert_eq!(done.text().as_deref(), Some("tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7"));
    assert!(stream.next().is_none(), "the iterator stays ended");
}

#[test]
fn into_completion_drains_the_stream() {
    let stream = Client::default().stream(&emu().openai("long-3").user("x")).unwrap();
    let c = stream.into_completion().unwrap();
    assert_eq!(c.text().as_deref(), Some("tok0 tok1 tok2"));
}

#[test]
fn reasoning_streams() {
    let chunks: Vec<_> =
        Client::default().stream(&emu().openai("reasoning").user("why")).unwrap().map(Result::unwrap).collect();
    let reasoning: String =
        chunks.iter().filter_map(|c| c.choices.first()?.delta.reasoning.as_ref()?.content.clone()).collect();
    assert!(reasoning.starts_with("Let me think"), "{reasoning:?}");
}

#[test]
fn stream_quirks_and_split_utf8() {
    for model in ["sse-quirks", "sse-crlf", "sse-cr"] {
        let text: String = Client::default()
            .stream(&emu().openai(model).user("a b c"))
            .unwrap()
            .map(|c| c.unwrap().text().unwrap_or("").to_string())
            .collect();
        assert_eq!(text, "You said: a b c", "{model}");
    }
    let c = Client::default().stream(&emu().openai("split-utf8").user("x")).unwrap().into_completion().unwrap();
    assert_eq!(c.text().as_deref(), Some("héllo wörld — 你好 👋 ok"));
}

#[test]
fn an_error_before_any_chunk_fails_stream_itself() {
    let client = Client::new(no_retries()).unwrap();
    let err = client.stream(&emu().openai("status-429").user("x")).unwrap_err();
    assert!(matches!(err, Error::RateLimit(_)), "{err:?}");
    let err = client.stream(&emu().openai("m").user("x").top_p(3.0)).unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[test]
fn a_broken_stream_ends_with_an_error_and_keeps_the_partial() {
    let client = Client::new(no_retries()).unwrap();
    let mut texts = String::new();
    let mut error = None;
    for item in client.stream(&emu().openai("drop-after-3").user("x")).unwrap() {
        match item {
            Ok(chunk) => texts.push_str(chunk.text().unwrap_or("")),
            Err(e) => error = Some(e),
        }
    }
    let error = error.expect("the stream broke");
    assert!(matches!(error, Error::Connection(_)), "{error:?}");
    assert_eq!(texts, "tok0 tok1 tok2 ");
    assert_eq!(error.partial().unwrap().text().as_deref(), Some("tok0 tok1 tok2 "));

    let items: Vec<_> = client.stream(&emu().openai("error-event").user("x y z")).unwrap().collect();
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(last, Error::Provider(_)), "{last:?}");
    assert!(last.message().contains("server had an error"), "{last}");
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), items.len() - 1);
}

#[test]
fn cancel_ends_the_stream_with_cancelled() {
    let mut stream = Client::default().stream(&emu().openai("slow-50-100").user("x")).unwrap();
    let first = stream.next().unwrap().unwrap();
    assert_eq!(first.choices[0].delta.role, Some(anyllm::Role::Assistant));
    let t0 = Instant::now();
    stream.cancel();
    let last = stream.by_ref().last().expect("an item after cancel");
    assert!(matches!(last, Err(Error::Cancelled(_))), "{last:?}");
    assert!(t0.elapsed() < Duration::from_secs(2), "cancel took {:?}", t0.elapsed());
    assert!(stream.next().is_none());
}

#[test]
fn dropping_the_stream_cancels_the_call() {
    // 50 chunks 100 ms apart: a drop that did not cancel would wait 5 s for the end.
    let mut stream = Client::default().stream(&emu().openai("slow-50-100").user("x")).unwrap();
    let _ = stream.next().unwrap().unwrap();
    let _ = stream.next().unwrap().unwrap();
    let t0 = Instant::now();
    drop(stream);
    assert!(t0.elapsed() < Duration::from_secs(1), "drop took {:?}", t0.elapsed());

    // Dropped before reading anything, and on a client of its own that is dropped too.
    let client = Client::new(anyllm::ClientOptions::new()).unwrap();
    let stream = client.stream(&emu().openai("slow-50-100").user("x")).unwrap();
    let t0 = Instant::now();
    drop(client);
    drop(stream);
    assert!(t0.elapsed() < Duration::from_secs(1), "drop took {:?}", t0.elapsed());
}

#[test]
fn a_stalled_stream_times_out() {
    let client = Client::new(no_retries().read_timeout(Duration::from_millis(300))).unwrap();
    let items: Vec<_> = client.stream(&emu().openai("stall-3000").user("x")).unwrap().collect();
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(last, Error::Timeout(_)), "{last:?}");
}
