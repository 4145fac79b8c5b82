//! A request head and its in-memory body as one vectored write
//! (`Call::accept_vectored` and `Output::TransmitVectored`): offered only
//! when the driver accepts it and the body may leave with the head, and a
//! partial write (inside the head, or into the body) resumes exactly where
//! it stopped, so the peer receives the same bytes as with two writes.

mod dial_support;
use dial_support::Dialer;
use std::time::{Duration, Instant, SystemTime};

use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
use hawser_core::request::Request;

/// One write the call asked for: the lengths it offered and whether it was
/// vectored.
#[derive(Debug, PartialEq)]
enum Write {
    Plain(usize),
    Vectored(usize, usize),
}

/// Send `req` on a fake connection, reporting `answer(i, offered)` bytes
/// of the i-th write as written (the peer gets at most what was offered),
/// until the call first asks to read or refuses an answer. What the peer
/// received, every write asked, and the refusal.
fn send_or_refuse(
    cfg: Config,
    req: Request,
    vectored: bool,
    answer: impl Fn(usize, usize) -> usize,
) -> (Vec<u8>, Vec<Write>, Option<hawser_core::Error>) {
    let agent: Agent<u32> = Agent::new(cfg).unwrap();
    let now = Instant::now();
    let opts = CallOptions {
        seed: 1,
        ..CallOptions::default()
    };
    let mut call = agent.start(req, opts, now, SystemTime::UNIX_EPOCH).unwrap();
    call.accept_vectored(vectored);
    let (mut wire, mut writes, mut dial) = (Vec::new(), Vec::new(), Dialer::default());
    loop {
        let input = match call.poll_output(now).unwrap() {
            o @ (Output::Resolve { .. } | Output::Connect { .. } | Output::AwaitConnect { .. }) => {
                match dial.answer(o) {
                    Some(input) => input,
                    None => continue,
                }
            }
            Output::Transmit { data, .. } => {
                let n = answer(writes.len(), data.len());
                writes.push(Write::Plain(data.len()));
                wire.extend_from_slice(&data[..n.min(data.len())]);
                Input::Written(n)
            }
            Output::TransmitVectored { bufs: [a, b], .. } => {
                let n = answer(writes.len(), a.len() + b.len());
                writes.push(Write::Vectored(a.len(), b.len()));
                let of_a = n.min(a.len());
                wire.extend_from_slice(&a[..of_a]);
                wire.extend_from_slice(&b[..(n - of_a).min(b.len())]);
                Input::Written(n)
            }
            Output::Receive { .. } => return (wire, writes, None),
            other => panic!("{other:?}"),
        };
        if let Err(e) = call.handle_input(input, now) {
            return (wire, writes, Some(e));
        }
    }
}

/// [`send_or_refuse`] taking at most `take(i)` bytes of the i-th write.
fn send(
    cfg: Config,
    req: Request,
    vectored: bool,
    take: impl Fn(usize) -> usize,
) -> (Vec<u8>, Vec<Write>) {
    let (wire, writes, refused) =
        send_or_refuse(cfg, req, vectored, |i, offered| take(i).min(offered));
    assert!(refused.is_none(), "{refused:?}");
    (wire, writes)
}

fn post(body: &'static str) -> Request {
    Request::post("http://h.test/p").body(body).build().unwrap()
}

/// The head `send` produces for `post(body)` when written plainly.
fn head_len(body: &'static str) -> usize {
    let (wire, _) = send(Config::default(), post(body), false, |_| usize::MAX);
    wire.len() - body.len()
}

#[test]
fn head_and_body_leave_in_one_write_when_accepted() {
    let (wire, writes) = send(Config::default(), post("hello"), true, |_| usize::MAX);
    let head = head_len("hello");
    assert_eq!(writes, vec![Write::Vectored(head, 5)]);
    assert!(wire.ends_with(b"\r\n\r\nhello"), "{wire:?}");
    assert_eq!(wire.len(), head + 5);
}

#[test]
fn without_accepting_it_the_head_and_body_are_two_writes() {
    let (wire, writes) = send(Config::default(), post("hello"), false, |_| usize::MAX);
    let head = head_len("hello");
    assert_eq!(writes, vec![Write::Plain(head), Write::Plain(5)]);
    assert!(wire.ends_with(b"\r\n\r\nhello"));
}

#[test]
fn a_write_that_stops_inside_the_head_resumes_with_the_rest_of_both() {
    let head = head_len("hello");
    let (wire, writes) = send(Config::default(), post("hello"), true, |i| {
        if i == 0 { 10 } else { usize::MAX }
    });
    assert_eq!(
        writes,
        vec![Write::Vectored(head, 5), Write::Vectored(head - 10, 5)]
    );
    let (plain, _) = send(Config::default(), post("hello"), false, |_| usize::MAX);
    assert_eq!(wire, plain, "the same bytes as two plain writes");
}

#[test]
fn a_write_that_stops_inside_the_body_sends_only_the_rest_of_the_body() {
    let head = head_len("hello");
    let (wire, writes) = send(Config::default(), post("hello"), true, |i| {
        if i == 0 { head + 2 } else { usize::MAX }
    });
    assert_eq!(writes, vec![Write::Vectored(head, 5), Write::Plain(3)]);
    assert!(wire.ends_with(b"\r\n\r\nhello"));
}

#[test]
fn a_write_that_ends_exactly_at_the_head_sends_the_body_next() {
    let head = head_len("hello");
    let (wire, writes) = send(Config::default(), post("hello"), true, |i| {
        if i == 0 { head } else { usize::MAX }
    });
    assert_eq!(writes, vec![Write::Vectored(head, 5), Write::Plain(5)]);
    assert!(wire.ends_with(b"\r\n\r\nhello"));
}

#[test]
fn a_get_without_a_body_is_a_plain_write() {
    let req = Request::get("http://h.test/").build().unwrap();
    let (_, writes) = send(Config::default(), req, true, |_| usize::MAX);
    assert!(matches!(writes[..], [Write::Plain(_)]), "{writes:?}");
}

/// With `Expect: 100-continue` the body must wait for the server's answer,
/// so the head goes alone.
#[test]
fn expect_continue_keeps_the_body_back() {
    let mut cfg = Config::default();
    cfg.expect_continue_min = Some(1);
    cfg.expect_continue_wait = Duration::from_secs(1);
    let (wire, writes) = send(cfg, post("hello"), true, |_| usize::MAX);
    assert!(matches!(writes[..], [Write::Plain(_)]), "{writes:?}");
    assert!(wire.ends_with(b"\r\n\r\n"), "only the head went out");
}

/// The driver reporting more than it was offered is a usage error, as for
/// a plain `Transmit`.
#[test]
fn over_reporting_a_vectored_write_is_a_usage_error() {
    let head = head_len("hello");
    let (_, writes, refused) =
        send_or_refuse(Config::default(), post("hello"), true, |_, offered| {
            offered + 1
        });
    assert_eq!(writes, vec![Write::Vectored(head, 5)]);
    let e = refused.expect("refused");
    assert_eq!(e.kind(), hawser_core::ErrorKind::Usage, "{e:?}");
}
