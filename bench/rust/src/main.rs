//! The Rust client of the benchmark: the same worker protocol as bench/clients.c and
//! bench/py_client.py.
//!
//!     rust_client worker BASE    reads commands on stdin, answers one JSON line each:
//!         seq  rust KIND MAXCALLS BUDGET_MS   sequential calls → {"us": [...]}
//!         conc rust SECONDS CONCURRENCY       CONCURRENCY threads of blocking calls → {"requests", "secs", "failed"}
//!         quit
use anyllm::{Client, Request};
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn request(base: &str, kind: &str) -> Request {
    let prefix = match kind {
        "nonstream" => "",
        "sse20" => "/sse20",
        "sse1000" => "/sse1000",
        _ => panic!("unknown KIND {kind}"),
    };
    let r = Request::new("openai:gpt-4.1-mini").user("hi").api_key("sk-bench").api_base(format!("{base}{prefix}/v1"));
    if kind == "nonstream" { r } else { r.stream(true) }
}

/// One call read to its end; returns the number of chunks.
fn call(client: &Client, base: &str, kind: &str) -> usize {
    let req = request(base, kind);
    if kind == "nonstream" {
        let c = client.completion(&req).expect("completion");
        assert!(c.text().is_some());
        return 0;
    }
    let mut n = 0;
    for chunk in client.stream(&req).expect("stream") {
        chunk.expect("chunk");
        n += 1;
    }
    n
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 || args[1] != "worker" {
        eprintln!("usage: rust_client worker BASE");
        std::process::exit(2);
    }
    let base = args[2].clone();
    let client = Client::default();
    let stdout = std::io::stdout();
    println!("{{\"ready\":true}}");
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let p: Vec<&str> = line.split_whitespace().collect();
        if p.is_empty() || p[0] == "quit" {
            break;
        }
        let out = match (p[0], p.len()) {
            ("seq", 5) => {
                let (kind, max): (&str, usize) = (p[2], p[3].parse::<f64>().unwrap() as usize);
                let budget = Duration::from_secs_f64(p[4].parse::<f64>().unwrap() / 1e3);
                let start = Instant::now();
                let mut us = Vec::new();
                while us.len() < max {
                    let t0 = Instant::now();
                    call(&client, &base, kind);
                    us.push(format!("{:.1}", t0.elapsed().as_secs_f64() * 1e6));
                    if start.elapsed() >= budget {
                        break;
                    }
                }
                format!("{{\"us\":[{}]}}", us.join(","))
            }
            ("conc", 4) => {
                let secs: f64 = p[2].parse().unwrap();
                let n: usize = p[3].parse::<f64>().unwrap() as usize;
                let done = Arc::new(AtomicU64::new(0));
                let end = Instant::now() + Duration::from_secs_f64(secs);
                let t0 = Instant::now();
                let threads: Vec<_> = (0..n)
                    .map(|_| {
                        let (client, base, done) = (client.clone(), base.clone(), done.clone());
                        std::thread::spawn(move || {
                            while Instant::now() < end {
                                call(&client, &base, "nonstream");
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                        })
                    })
                    .collect();
                for t in threads {
                    t.join().expect("thread");
                }
                format!("{{\"requests\":{},\"secs\":{:.4},\"failed\":0}}", done.load(Ordering::Relaxed),
                        t0.elapsed().as_secs_f64())
            }
            _ => "{\"error\":\"bad command\"}".to_string(),
        };
        let mut o = stdout.lock();
        writeln!(o, "{out}").unwrap();
        o.flush().unwrap();
    }
}
