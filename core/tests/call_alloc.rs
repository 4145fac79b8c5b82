//! A keep-alive call on a warm agent reuses the byte buffers of finished
//! calls: it allocates far less than one read buffer (16 KiB), whose
//! zeroing was a third of a keep-alive request's CPU. Measured with a
//! counting allocator; one test per file, as the counters are global.

mod dial_support;
use dial_support::Dialer;
use std::alloc::System;
use std::time::{Instant, SystemTime};

use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
use hawser_core::request::Request;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!";

/// One GET on `agent`, its transport a number; returns the body length.
fn exchange(agent: &Agent<u32>, now: Instant) -> usize {
    let req = Request::get("http://h.test/").build().unwrap();
    let opts = CallOptions {
        seed: 1,
        ..CallOptions::default()
    };
    let mut call = agent.start(req, opts, now, SystemTime::UNIX_EPOCH).unwrap();
    let (mut dial, mut pending, mut body) = (Dialer::default(), &b""[..], 0);
    loop {
        let input = match call.poll_output(now).unwrap() {
            o @ (Output::Resolve { .. } | Output::Connect { .. } | Output::AwaitConnect { .. }) => {
                match dial.answer(o) {
                    Some(input) => input,
                    None => continue,
                }
            }
            Output::Check { .. } => Input::Quiet,
            Output::Transmit { data, .. } => {
                pending = RESPONSE;
                Input::Written(data.len())
            }
            Output::Receive { buf, .. } => {
                let n = pending.len().min(buf.len());
                buf[..n].copy_from_slice(&pending[..n]);
                pending = &pending[n..];
                Input::Read(n)
            }
            Output::Head(_) | Output::Close(_) => continue,
            Output::Body(b) => {
                let n = b.len();
                body += n;
                call.consume(n);
                continue;
            }
            Output::Done => return body,
            other => panic!("{other:?}"),
        };
        call.handle_input(input, now).unwrap();
    }
}

#[test]
fn a_warm_keep_alive_call_reuses_the_buffers_of_finished_calls() {
    let agent: Agent<u32> = Agent::new(Config::default()).unwrap();
    let now = Instant::now();
    let region = Region::new(GLOBAL);
    assert_eq!(exchange(&agent, now), 13);
    let cold = region.change().bytes_allocated;
    let region = Region::new(GLOBAL);
    assert_eq!(exchange(&agent, now), 13);
    let warm = region.change().bytes_allocated;
    assert!(
        cold >= 16 * 1024,
        "the first call allocates its read buffer ({cold} bytes)"
    );
    assert!(
        warm < 8 * 1024,
        "a warm call allocated {warm} bytes (cold: {cold})"
    );
}
