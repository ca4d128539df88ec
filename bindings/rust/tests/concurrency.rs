//! One `Client` shared by several threads: blocking calls, streams and futures at once.

mod common;

use std::sync::Arc;
use std::thread;

use anyllm::{Client, ClientOptions};
use common::{block_on, emu};

#[test]
fn client_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone + Default + 'static>() {}
    check::<Client>();
}

#[test]
fn one_client_many_threads() {
    let client = Client::new(ClientOptions::new().max_retries(1)).unwrap();
    thread::scope(|s| {
        for t in 0..8 {
            let client = &client;
            s.spawn(move || {
                for i in 0..10 {
                    let text = format!("thread {t} call {i}");
                    let c = client.completion(&emu().openai("m").user(text.as_str())).unwrap();
                    assert_eq!(c.text().unwrap(), format!("You said: {text}"));
                }
            });
        }
    });
}

#[test]
fn streams_and_futures_from_several_threads() {
    let client = Arc::new(Client::default());
    let handles: Vec<_> = (0..6)
        .map(|t| {
            let client = Arc::clone(&client);
            thread::spawn(move || {
                let text = format!("stream {t}");
                let request = emu().openai("m").user(text.as_str());
                if t % 2 == 0 {
                    let got: String =
                        client.stream(&request).unwrap().map(|c| c.unwrap().text().unwrap_or("").to_string()).collect();
                    assert_eq!(got, format!("You said: {text}"));
                } else {
                    let c = block_on(client.completion_async(&request)).unwrap();
                    assert_eq!(c.text().unwrap(), format!("You said: {text}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn clones_share_the_client_and_outlive_the_original() {
    let client = Client::new(ClientOptions::new()).unwrap();
    let clone = client.clone();
    let stream = client.stream(&emu().openai("long-4").user("x")).unwrap();
    drop(client);
    let c = clone.completion(&emu().openai("m").user("still here")).unwrap();
    assert_eq!(c.text().as_deref(), Some("You said: still here"));
    assert_eq!(stream.into_completion().unwrap().text().as_deref(), Some("tok0 tok1 tok2 tok3"));
}

#[test]
fn dropping_a_client_with_calls_in_flight() {
    // Streams keep their client alive; dropping everything cancels and frees in order.
    for _ in 0..10 {
        let client = Client::new(ClientOptions::new()).unwrap();
        let streams: Vec<_> = (0..3).map(|_| client.stream(&emu().openai("slow-20-50").user("x")).unwrap()).collect();
        drop(client);
        drop(streams);
    }
}
