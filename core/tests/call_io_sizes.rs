//! How much the core asks of each read and write: a body is read with the
//! 16 KiB buffer, and an in-memory request body is offered whole on a
//! plain connection (not in 64 KiB pieces), so a 1 MiB upload takes one or
//! two writes.

mod dial_support;
use dial_support::Dialer;
use std::time::{Instant, SystemTime};

use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
use hawser_core::request::Request;

/// Run `req` against `response` on one fake connection; the sizes of every
/// Transmit offered and every Receive buffer lent once the head was read.
fn sizes(req: Request, response: &[u8]) -> (Vec<usize>, Vec<usize>) {
    let agent: Agent<u32> = Agent::new(Config::default()).unwrap();
    let now = Instant::now();
    let opts = CallOptions {
        seed: 1,
        ..CallOptions::default()
    };
    let mut call = agent.start(req, opts, now, SystemTime::UNIX_EPOCH).unwrap();
    let (mut dial, mut pending, mut head_seen) = (Dialer::default(), response, false);
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    loop {
        let input = match call.poll_output(now).unwrap() {
            o @ (Output::Resolve { .. } | Output::Connect { .. } | Output::AwaitConnect { .. }) => {
                match dial.answer(o) {
                    Some(input) => input,
                    None => continue,
                }
            }
            Output::Transmit { data, .. } => {
                writes.push(data.len());
                Input::Written(data.len())
            }
            Output::Receive { buf, .. } => {
                if head_seen {
                    reads.push(buf.len());
                }
                // Deliver at most 16 KiB at a time, as a slow network would.
                let n = pending.len().min(buf.len()).min(16 * 1024);
                buf[..n].copy_from_slice(&pending[..n]);
                pending = &pending[n..];
                Input::Read(n)
            }
            Output::Head(_) => {
                head_seen = true;
                continue;
            }
            Output::Close(_) => continue,
            Output::Body(b) => {
                let n = b.len();
                call.consume(n);
                continue;
            }
            Output::Done => return (writes, reads),
            other => panic!("{other:?}"),
        };
        call.handle_input(input, now).unwrap();
    }
}

fn response(len: usize) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").into_bytes();
    r.resize(r.len() + len, b'x');
    r
}

#[test]
fn a_small_body_keeps_the_small_buffer() {
    let (_, reads) = sizes(
        Request::get("http://h.test/").build().unwrap(),
        &response(40_000),
    );
    assert!(reads.iter().all(|&n| n <= 32 * 1024), "{reads:?}");
}

#[test]
fn an_in_memory_body_is_offered_whole() {
    // Just under 1 MiB: no `Expect: 100-continue` round trip here.
    let len = (1 << 20) - 1;
    let req = Request::post("http://h.test/up")
        .body(vec![b'u'; len])
        .build()
        .unwrap();
    let (writes, _) = sizes(req, &response(2));
    assert_eq!(writes.len(), 2, "head, then the whole body: {writes:?}");
    assert_eq!(writes[1], len);
}
