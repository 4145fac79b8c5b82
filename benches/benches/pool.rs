//! Criterion micro-benchmark of the core's per-request connection work on a
//! kept-alive connection, through the public driver contract: take the
//! idle connection from the agent's pool, answer its liveness check, send
//! the request, read a canned 13-byte response, and give the connection
//! back. No sockets: the transport is a number, so this is the core's own
//! cost per keep-alive request (pool, check, h1, deadlines, decisions).
//!
//! The agent's pool holds idle connections to a few hosts so the lookup is
//! not a one-entry map. The clock is a base `Instant` advanced by a fixed
//! step per iteration (the core takes time as an argument).

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
use hawser_core::request::Request;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!";

/// Drive one GET to `url` to its end; returns the body length.
fn exchange(agent: &Agent<u32>, url: &str, now: Instant) -> usize {
    let req = match Request::get(url).build() {
        Ok(r) => r,
        Err(e) => panic!("request: {e}"),
    };
    let opts = CallOptions {
        seed: 1,
        ..CallOptions::default()
    };
    let mut call = match agent.start(req, opts, now, SystemTime::UNIX_EPOCH) {
        Ok(c) => c,
        Err(e) => panic!("start: {e}"),
    };
    let (mut attempt, mut pending, mut body) = (None, &b""[..], 0);
    loop {
        let input = match call.poll_output(now) {
            Ok(Output::Resolve { port, .. }) => {
                Input::Resolved(vec![([127, 0, 0, 1], port).into()])
            }
            Ok(Output::Connect { id, .. }) => {
                attempt = Some(id);
                continue;
            }
            Ok(Output::AwaitConnect { .. }) => match attempt.take() {
                Some(id) => Input::Connected { id, conn: 1 },
                None => panic!("no attempt"),
            },
            Ok(Output::Check { .. }) => Input::Quiet,
            Ok(Output::Transmit { data, .. }) => {
                pending = RESPONSE;
                Input::Written(data.len())
            }
            Ok(Output::Receive { buf, .. }) => {
                let n = pending.len().min(buf.len());
                buf[..n].copy_from_slice(&pending[..n]);
                pending = &pending[n..];
                Input::Read(n)
            }
            Ok(Output::Head(_)) | Ok(Output::Close(_)) => continue,
            Ok(Output::Body(b)) => {
                let n = b.len();
                body += n;
                call.consume(n);
                continue;
            }
            Ok(Output::Done) => return body,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => panic!("call: {e}"),
        };
        if let Err(e) = call.handle_input(input, now) {
            panic!("input: {e}");
        }
    }
}

fn pooled_exchange(c: &mut Criterion) {
    let agent: Agent<u32> = match Agent::new(Config::default()) {
        Ok(a) => a,
        Err(e) => panic!("default config is valid: {e}"),
    };
    let t0 = Instant::now();
    let urls: Vec<String> = (0..8)
        .map(|i| format!("http://host{i}.example.com/"))
        .collect();
    for url in &urls {
        assert_eq!(exchange(&agent, url, t0), 13);
    }
    let url = urls[3].clone();
    let mut now = t0;
    let step = Duration::from_nanos(1);
    c.bench_function(
        "pooled keep-alive exchange (acquire, check, h1, checkin)",
        |b| {
            b.iter(|| {
                now += step;
                black_box(exchange(&agent, black_box(&url), now))
            })
        },
    );
    let stats = agent.pool_stats();
    assert_eq!((stats.opened, stats.idle, stats.active), (8, 8, 0));
}

criterion_group!(benches, pooled_exchange);
criterion_main!(benches);
