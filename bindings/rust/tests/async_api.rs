//! The async API on a hand-written executor (block_on with a thread-parking waker): futures and
//! streams woken from the library's callbacks, never blocking the executor; cancel on drop.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use anyllm::{Client, Error};
use common::{block_on, emu, join_all, no_retries, CountingWaker};

#[test]
fn completion_future() {
    let c = block_on(Client::default().completion_async(&emu().openai("m").user("async hello"))).unwrap();
    assert_eq!(c.text().as_deref(), Some("You said: async hello"));
}

#[test]
fn the_future_is_woken_by_the_callback_and_never_blocks() {
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = Client::default().completion_async(&emu().openai("slow-3-100").user("x"));
    let t0 = Instant::now();
    assert!(Pin::new(&mut future).poll(&mut cx).is_pending());
    assert!(t0.elapsed() < Duration::from_millis(100), "poll blocked for {:?}", t0.elapsed());
    // The engine finishes the call and wakes us; nobody polls in between.
    let deadline = Instant::now() + Duration::from_secs(5);
    while counter.0.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "never woken");
        std::thread::sleep(Duration::from_millis(5));
    }
    match Pin::new(&mut future).poll(&mut cx) {
        Poll::Ready(Ok(c)) => assert_eq!(c.text().as_deref(), Some("tok0 tok1 tok2")),
        other => panic!("expected the result, got {other:?}"),
    }
}

#[test]
fn many_futures_run_concurrently_on_one_thread() {
    let client = Client::default();
    // Each answer takes about 0.8 s; one after the other they would take 4 s.
    let futures: Vec<_> =
        (0..5).map(|i| client.completion_async(&emu().openai("slow-4-200").user(format!("n{i}")))).collect();
    let t0 = Instant::now();
    let results = join_all(futures);
    assert!(t0.elapsed() < Duration::from_millis(2500), "took {:?}", t0.elapsed());
    for r in results {
        assert_eq!(r.unwrap().text().as_deref(), Some("tok0 tok1 tok2 tok3"));
    }
}

#[test]
fn async_stream() {
    let client = Client::default();
    let (text, count, done) = block_on(async {
        let mut stream = client.stream_async(&emu().openai("m").user("streamed async")).await?;
        let mut text = String::new();
        let mut count = 0;
        while let Some(chunk) = stream.next().await {
            text.push_str(chunk?.text().unwrap_or(""));
            count += 1;
        }
        Ok::<_, Error>((text, count, stream.completion().cloned()))
    })
    .unwrap();
    assert_eq!(text, "You said: streamed async");
    assert!(count >= 4);
    assert_eq!(done.unwrap().text().as_deref(), Some("You said: streamed async"));
}

#[test]
fn async_stream_errors() {
    let client = Client::new(no_retries()).unwrap();
    let e = block_on(client.stream_async(&emu().openai("status-404").user("x"))).unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");

    let last = block_on(async {
        let mut stream = client.stream_async(&emu().openai("drop-after-2").user("x")).await.unwrap();
        let mut last = None;
        while let Some(item) = stream.next().await {
            last = Some(item);
        }
        last.unwrap()
    });
    let e = last.unwrap_err();
    assert!(matches!(e, Error::Connection(_)), "{e:?}");
    assert_eq!(e.partial().unwrap().text().as_deref(), Some("tok0 tok1 "));
}

#[test]
fn dropping_a_future_cancels_the_call() {
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter);
    let mut future = Client::default().completion_async(&emu().openai("slow-50-100").user("x"));
    assert!(Pin::new(&mut future).poll(&mut Context::from_waker(&waker)).is_pending());
    std::thread::sleep(Duration::from_millis(50));
    let t0 = Instant::now();
    drop(future);
    assert!(t0.elapsed() < Duration::from_secs(1), "drop took {:?}", t0.elapsed());
    // A future never polled never starts a call.
    drop(Client::default().completion_async(&emu().openai("slow-50-100").user("x")));
}

#[test]
fn dropping_an_async_stream_cancels_the_call() {
    let client = Client::default();
    let t = block_on(async {
        let mut stream = client.stream_async(&emu().openai("slow-50-100").user("x")).await.unwrap();
        stream.next().await.unwrap().unwrap();
        let t0 = Instant::now();
        drop(stream);
        t0.elapsed()
    });
    assert!(t < Duration::from_secs(1), "drop took {t:?}");
}

#[test]
fn cancel_an_async_stream() {
    let client = Client::default();
    let last = block_on(async {
        let mut stream = client.stream_async(&emu().openai("slow-50-100").user("x")).await.unwrap();
        stream.cancel();
        let mut last = None;
        while let Some(item) = stream.next().await {
            last = Some(item);
        }
        last
    });
    assert!(matches!(last, Some(Err(Error::Cancelled(_)))), "{last:?}");
}

#[test]
fn futures_can_be_sent_to_other_threads() {
    let future = Client::default().completion_async(&emu().openai("m").user("moved"));
    let result = std::thread::spawn(move || block_on(future)).join().unwrap();
    assert_eq!(result.unwrap().text().as_deref(), Some("You said: moved"));
}

/// A task whose waker polls it right away, on the waking thread (the library's delivery thread):
/// the future, its call and its client are then dropped inside the library's callback.
type BoxedCompletion = Pin<Box<dyn Future<Output = Result<anyllm::ChatCompletion, Error>> + Send>>;

struct InlineTask {
    future: std::sync::Mutex<Option<BoxedCompletion>>,
    result: std::sync::Mutex<Option<Result<anyllm::ChatCompletion, Error>>>,
    ready: std::sync::Condvar,
}

impl InlineTask {
    fn poll(self: &Arc<Self>) {
        let waker = Waker::from(self.clone());
        let mut slot = self.future.lock().unwrap();
        let Some(future) = slot.as_mut() else { return };
        if let Poll::Ready(result) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            *slot = None; // drops the future (and the last reference to its client) right here
            *self.result.lock().unwrap() = Some(result);
            self.ready.notify_all();
        }
    }
}

impl std::task::Wake for InlineTask {
    fn wake(self: Arc<Self>) {
        self.poll();
    }
}

#[test]
fn a_waker_that_polls_inline_may_drop_everything_inside_the_callback() {
    for _ in 0..5 {
        let client = Client::new(anyllm::ClientOptions::new()).unwrap();
        let future = client.completion_async(&emu().openai("slow-2-20").user("x"));
        drop(client); // the future holds the only reference now
        let task = Arc::new(InlineTask {
            future: std::sync::Mutex::new(Some(Box::pin(future))),
            result: std::sync::Mutex::new(None),
            ready: std::sync::Condvar::new(),
        });
        task.poll();
        let mut result = task.result.lock().unwrap();
        while result.is_none() {
            result = task.ready.wait_timeout(result, Duration::from_secs(5)).unwrap().0;
        }
        assert_eq!(result.take().unwrap().unwrap().text().as_deref(), Some("tok0 tok1"));
    }
}

struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics (on the library's thread: caught, never unwinds into C)");
    }
}

#[test]
fn a_panicking_waker_does_not_unwind_into_c() {
    let waker = Waker::from(Arc::new(PanickingWaker));
    let mut future = Client::default().completion_async(&emu().openai("slow-2-20").user("x"));
    assert!(Pin::new(&mut future).poll(&mut Context::from_waker(&waker)).is_pending());
    // on_done stored the result, then the wake panicked inside the callback; poll again.
    std::thread::sleep(Duration::from_millis(300));
    let c = block_on(future).unwrap();
    assert_eq!(c.text().as_deref(), Some("tok0 tok1"));
}
