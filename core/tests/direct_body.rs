//! Body bytes read straight into the driver's buffer (`Call::offer_body_room`
//! and `Output::ReceiveBody`): asked only for plain bodies the core holds
//! none of, never past the body's end, with the same framing errors, memory
//! cap and pooling as bytes that go through the core's buffer.

mod dial_support;
use dial_support::Dialer;
use std::time::{Instant, SystemTime};

use hawser_core::ErrorKind;
use hawser_core::call::{Agent, Call, CallOptions, Config, Input, Output};
use hawser_core::request::Request;

/// What a run saw.
#[derive(Debug, Default)]
struct Run {
    body: Vec<u8>,
    /// `max` of every `ReceiveBody`.
    direct: Vec<usize>,
    /// Body bytes that came as `Output::Body` (copied out of the core).
    copied: usize,
}

/// A GET on a fresh agent's call.
fn start(agent: &Agent<u32>, now: Instant) -> Call<u32> {
    let req = Request::get("http://h.test/").build().unwrap();
    let opts = CallOptions {
        seed: 1,
        ..CallOptions::default()
    };
    agent.start(req, opts, now, SystemTime::UNIX_EPOCH).unwrap()
}

/// Connect, send, and feed `pending` (at most `step` bytes per read) until
/// the head is out; `pending` keeps what was not read.
fn to_head(call: &mut Call<u32>, now: Instant, pending: &mut &[u8], step: usize) {
    let mut dial = Dialer::default();
    loop {
        let input = match call.poll_output(now).unwrap() {
            o @ (Output::Resolve { .. } | Output::Connect { .. } | Output::AwaitConnect { .. }) => {
                match dial.answer(o) {
                    Some(input) => input,
                    None => continue,
                }
            }
            Output::Transmit { data, .. } => Input::Written(data.len()),
            Output::Receive { buf, .. } => {
                let n = pending.len().min(buf.len()).min(step);
                buf[..n].copy_from_slice(&pending[..n]);
                *pending = &pending[n..];
                Input::Read(n)
            }
            Output::Head(_) => return,
            other => panic!("{other:?}"),
        };
        call.handle_input(input, now).unwrap();
    }
}

/// Drive one GET against `wire` (then EOF) on a fake connection, offering
/// `room` bytes of our own buffer for the body, delivering at most `step`
/// bytes per read. `in_memory` arms the in-memory cap first.
fn run(
    agent: &Agent<u32>,
    wire: &[u8],
    room: usize,
    step: usize,
    in_memory: bool,
) -> (Run, hawser_core::Result<()>) {
    let now = Instant::now();
    let mut call = start(agent, now);
    let mut pending = wire;
    to_head(&mut call, now, &mut pending, step);
    if in_memory {
        call.read_into_memory().ok();
    }
    let mut mine = vec![0u8; room.max(1)];
    let mut seen = Run::default();
    let result = loop {
        call.offer_body_room(room);
        let output = match call.poll_output(now) {
            Ok(o) => o,
            Err(e) => break Err(e),
        };
        let input = match output {
            Output::Receive { buf, .. } => {
                let n = pending.len().min(buf.len()).min(step);
                buf[..n].copy_from_slice(&pending[..n]);
                pending = &pending[n..];
                if n == 0 { Input::Eof } else { Input::Read(n) }
            }
            Output::ReceiveBody { max, .. } => {
                assert!(max <= room, "asked {max} with {room} offered");
                seen.direct.push(max);
                let n = pending.len().min(max).min(step);
                mine[..n].copy_from_slice(&pending[..n]);
                pending = &pending[n..];
                if n == 0 {
                    Input::Eof
                } else {
                    call.handle_input(Input::Read(n), now).unwrap();
                    seen.body.extend_from_slice(&mine[..n]);
                    continue;
                }
            }
            Output::Close(_) => continue,
            Output::Body(b) => {
                seen.copied += b.len();
                seen.body.extend_from_slice(b);
                let n = b.len();
                call.consume(n);
                continue;
            }
            Output::Done => break Ok(()),
            other => panic!("{other:?}"),
        };
        if let Err(e) = call.handle_input(input, now) {
            break Err(e);
        }
    };
    (seen, result)
}

fn agent() -> Agent<u32> {
    Agent::new(Config::default()).unwrap()
}

fn with_length(body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    r.extend_from_slice(body);
    r
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_plain_body_is_read_straight_into_the_offered_buffer_and_the_connection_pooled() {
    let body = pattern(1 << 20);
    let wire = with_length(&body);
    let a = agent();
    // The head arrives alone (a 40-byte read), then the body in 64 KiB reads.
    let head_len = wire.len() - body.len();
    let (seen, r) = run(&a, &wire, 64 * 1024, 64 * 1024, false);
    r.unwrap();
    assert_eq!(seen.body, body, "the body, byte for byte");
    // Only what came in the read that finished the head went through the
    // core; everything after it went straight to our buffer, 64 KiB a time.
    assert!(
        seen.copied <= 16 * 1024 - head_len.min(16 * 1024),
        "copied {}",
        seen.copied
    );
    let (last, full) = seen.direct.split_last().unwrap();
    assert!(full.iter().all(|&m| m == 64 * 1024), "{:?}", seen.direct);
    assert_eq!(full.len() * 64 * 1024 + last, body.len() - seen.copied);
    let stats = a.pool_stats();
    assert_eq!(
        (stats.idle, stats.active),
        (1, 0),
        "the connection went back to the pool: {stats:?}"
    );
}

#[test]
fn the_read_asked_never_passes_the_end_of_the_body() {
    // A 100-byte body after the head; each read delivers at most as many
    // bytes as the head has, so the body takes several.
    let body = pattern(100);
    let wire = with_length(&body);
    let head_len = wire.len() - body.len();
    let (seen, r) = run(&agent(), &wire, 64 * 1024, head_len, false);
    r.unwrap();
    assert_eq!(seen.body, body);
    assert_eq!(seen.copied, 0, "the head read carried no body byte");
    // Each ask is exactly what is left: 100, then 100 - step, ...
    assert_eq!(seen.direct.first(), Some(&100));
    let mut left = 100;
    for &m in &seen.direct {
        assert_eq!(m, left);
        left -= m.min(head_len);
    }
}

#[test]
fn the_offer_bounds_the_read() {
    let body = pattern(100_000);
    let wire = with_length(&body);
    let (seen, r) = run(&agent(), &wire, 1000, 64 * 1024, false);
    r.unwrap();
    assert_eq!(seen.body, body);
    assert!(!seen.direct.is_empty());
    assert!(seen.direct.iter().all(|&m| m <= 1000), "{:?}", seen.direct);
}

#[test]
fn without_an_offer_the_core_keeps_to_receive_and_body() {
    let body = pattern(100_000);
    let wire = with_length(&body);
    let (seen, r) = run(&agent(), &wire, 0, 64 * 1024, false);
    r.unwrap();
    assert_eq!(seen.body, body);
    assert!(seen.direct.is_empty());
    assert_eq!(seen.copied, body.len());
}

#[test]
fn a_chunked_body_goes_through_the_core() {
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let head_len = wire.iter().position(|&b| b == b'5').unwrap();
    let (seen, r) = run(&agent(), wire, 64 * 1024, head_len, false);
    r.unwrap();
    assert_eq!(seen.body, b"hello world");
    assert!(
        seen.direct.is_empty(),
        "chunked framing needs parsing: {:?}",
        seen.direct
    );
}

#[test]
fn a_close_delimited_body_is_read_directly_until_eof_and_not_pooled() {
    let body = pattern(50_000);
    let mut wire = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    let head_len = wire.len();
    wire.extend_from_slice(&body);
    let a = agent();
    let (seen, r) = run(&a, &wire, 8192, head_len, false);
    r.unwrap();
    assert_eq!(seen.body, body);
    assert!(seen.direct.iter().all(|&m| m == 8192), "{:?}", seen.direct);
    assert_eq!(seen.copied, 0);
    assert_eq!(
        a.pool_stats().idle,
        0,
        "a close-delimited body ends the connection"
    );
}

#[test]
fn a_body_cut_short_while_read_directly_is_a_truncation_error() {
    let body = pattern(1000);
    let mut wire = with_length(&body);
    let head_len = wire.len() - body.len();
    wire.truncate(head_len + 600);
    let a = agent();
    let (seen, r) = run(&a, &wire, 64 * 1024, head_len, false);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Body, "{e}");
    assert!(e.to_string().contains("expected 1000"), "{e}");
    assert_eq!(seen.body, &body[..600]);
    assert!(!seen.direct.is_empty());
    let stats = a.pool_stats();
    assert_eq!((stats.idle, stats.active), (0, 0), "{stats:?}");
}

#[test]
fn the_in_memory_cap_holds_for_direct_reads() {
    let mut cfg = Config::default();
    cfg.max_body_in_memory = 1000;
    let a: Agent<u32> = Agent::new(cfg).unwrap();
    // Close-delimited, so the cap cannot refuse it up front by its length.
    let mut wire = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    let head_len = wire.len();
    wire.extend_from_slice(&pattern(5000));
    let (seen, r) = run(&a, &wire, 600, head_len, true);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BodyTooLarge, "{e}");
    assert!(
        seen.body.len() <= 1200,
        "stopped near the cap: {}",
        seen.body.len()
    );
}

#[test]
fn reporting_more_than_asked_is_a_usage_error_and_the_ask_stands() {
    let wire = with_length(b"hello");
    let now = Instant::now();
    let mut call = start(&agent(), now);
    let head_len = wire.len() - 5;
    to_head(&mut call, now, &mut &wire[..], head_len);
    call.offer_body_room(64);
    assert!(matches!(
        call.poll_output(now).unwrap(),
        Output::ReceiveBody { max: 5, .. }
    ));
    let e = call.handle_input(Input::Read(6), now).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(matches!(
        call.poll_output(now).unwrap(),
        Output::ReceiveBody { max: 5, .. }
    ));
    call.handle_input(Input::Read(5), now).unwrap();
    assert!(matches!(call.poll_output(now).unwrap(), Output::Done));
}
