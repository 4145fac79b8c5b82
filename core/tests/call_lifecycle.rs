//! The connection lifecycle the core owns: pool slots given back on every
//! path (failed connects, a call dropped anywhere), the wait queue with
//! wake-one, the liveness check before reuse, no reuse with bytes left
//! over, Happy Eyeballs, sticky errors and no-op early timeouts.

mod call_support;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant, SystemTime};

use call_support::*;
use hawser_core::ErrorKind;
use hawser_core::call::{Agent, Call, CallOptions, Config, ConnectId, Input, Output};
use hawser_core::pool::WhenFull;
use hawser_core::retry::Retry;

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn capped(retry: Retry, when_full: WhenFull) -> Config {
    let mut c = config_with_retry(retry);
    c.pool.max_active_per_host = 1;
    c.pool.when_full = when_full;
    c
}

#[test]
fn a_refused_connect_gives_its_slot_back_before_the_retry() {
    for when_full in [WhenFull::Error, WhenFull::Wait] {
        let mut s = Scenario::new(capped(Retry::new(2), when_full));
        s.connect(ConnectResult::Refused)
            .connect(ConnectResult::Refused)
            .connect(ConnectResult::Refused);
        let out = s.run(get("http://h.test/"));
        let e = out.err();
        assert_eq!(e.kind(), ErrorKind::RetriesExhausted, "{e:?}");
        assert_eq!(
            e.root_cause().kind(),
            ErrorKind::Connect,
            "{when_full:?}: {e:?}"
        );
        assert_eq!(
            out.attempts.len(),
            3,
            "three attempts, none refused by the pool"
        );
        assert_eq!(s.agent.pool_stats().active, 0);
        // And the slot is there for the next call.
        s.answer(Answer::reply(OK));
        assert_eq!(s.run(get("http://h.test/")).status(), 200);
    }
}

#[test]
fn a_connect_timeout_gives_its_slot_back() {
    let mut s = Scenario::new(capped(Retry::new(1), WhenFull::Error));
    s.connect(ConnectResult::Hang).connect(ConnectResult::Hang);
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.err().root_cause().kind(), ErrorKind::Timeout);
    assert_eq!(s.agent.pool_stats().active, 0);
}

#[test]
fn pool_full_is_a_final_error_with_a_report() {
    let mut s = Scenario::new(capped(Retry::new(3), WhenFull::Error));
    s.hold_slot("http://h.test/");
    let out = s.run(get("http://h.test/"));
    let e = out.err();
    assert_eq!(e.kind(), ErrorKind::PoolFull, "{e:?}");
    assert!(e.report().is_some(), "the error carries the call report");
    s.release_slot();
    assert_eq!(s.agent.pool_stats().active, 0);
}

/// Drive `call` (no I/O happens) until it asks for `want`, answering
/// name resolution; panics on anything else. Returns the last connection
/// attempt started.
fn drive_until(call: &mut Call<u32>, now: Instant, want: &str) -> Option<ConnectId> {
    let mut attempt = None;
    for _ in 0..100 {
        let out = call.poll_output(now).expect("poll");
        let name = format!("{out:?}");
        if name.starts_with(want) {
            return attempt;
        }
        let input = match out {
            Output::Resolve { .. } => Input::Resolved(vec![([127, 0, 0, 1], 80).into()]),
            Output::Connect { id, .. } => {
                attempt = Some(id);
                continue;
            }
            other => panic!("wanted {want}, got {other:?}"),
        };
        call.handle_input(input, now).expect("input");
    }
    panic!("never reached {want}");
}

struct Count(AtomicUsize);
impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn waker() -> (Arc<Count>, Waker) {
    let c = Arc::new(Count(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn start(agent: &Agent<u32>, now: Instant) -> Call<u32> {
    let req = hawser_core::request::Request::get("http://h.test/")
        .build()
        .unwrap();
    agent
        .start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)
        .unwrap()
}

/// Register `w` with the call's `AwaitSlot`; true when already granted.
fn register(call: &mut Call<u32>, now: Instant, w: &Waker) -> bool {
    match call.poll_output(now).unwrap() {
        Output::AwaitSlot { slot, .. } => slot.poll_ready(&mut Context::from_waker(w)).is_ready(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_waiter_dropped_in_the_queue_gives_its_place_back_and_the_next_is_woken() {
    let agent: Agent<u32> = Agent::new(capped(Retry::disabled(), WhenFull::Wait)).unwrap();
    let now = Instant::now();
    let mut holder = start(&agent, now);
    drive_until(&mut holder, now, "AwaitConnect");
    let (mut a, mut b) = (start(&agent, now), start(&agent, now));
    let (wa, wake_a) = waker();
    let (wb, wake_b) = waker();
    assert!(!register(&mut a, now, &wake_a));
    assert!(!register(&mut b, now, &wake_b));
    assert_eq!(agent.pool_stats().waiting, 2);
    // `a` is abandoned while queued (a dropped future).
    drop(a);
    assert_eq!(agent.pool_stats().waiting, 1);
    // The holder is dropped mid-connect: its slot goes to `b`, the only
    // live waiter, and only `b` is woken.
    drop(holder);
    assert_eq!(
        wa.0.load(Ordering::SeqCst),
        0,
        "a dropped waiter is never woken"
    );
    assert_eq!(
        wb.0.load(Ordering::SeqCst),
        1,
        "the waiter given the slot is woken once"
    );
    // Polled again, `b` takes its slot and goes on to connect.
    drive_until(&mut b, now, "AwaitConnect");
    drop(b);
    let st = agent.pool_stats();
    assert_eq!((st.active, st.waiting), (0, 0), "{st:?}");
}

#[test]
fn one_freed_slot_wakes_one_waiter_in_fifo_order() {
    let agent: Agent<u32> = Agent::new(capped(Retry::disabled(), WhenFull::Wait)).unwrap();
    let now = Instant::now();
    let mut holder = start(&agent, now);
    drive_until(&mut holder, now, "AwaitConnect");
    let mut waiters: Vec<_> = (0..5).map(|_| (start(&agent, now), waker())).collect();
    for (call, (_, w)) in &mut waiters {
        assert!(!register(call, now, w));
    }
    drop(holder);
    let woken: Vec<usize> = waiters
        .iter()
        .map(|(_, (c, _))| c.0.load(Ordering::SeqCst))
        .collect();
    assert_eq!(woken, vec![1, 0, 0, 0, 0]);
}

#[test]
fn a_pool_wait_past_its_bound_is_a_pool_wait_timeout() {
    let mut cfg = capped(Retry::new(2), WhenFull::Wait);
    cfg.timeouts = cfg
        .timeouts
        .with_pool_wait(Duration::from_millis(300))
        .unwrap();
    let agent: Agent<u32> = Agent::new(cfg).unwrap();
    let now = Instant::now();
    let mut holder = start(&agent, now);
    drive_until(&mut holder, now, "AwaitConnect");
    let mut c = start(&agent, now);
    let until = match c.poll_output(now).unwrap() {
        Output::AwaitSlot { until, .. } => until,
        other => panic!("{other:?}"),
    };
    assert_eq!(until, now + Duration::from_millis(300));
    // Polled early (a spurious wake-up): still waiting.
    assert!(matches!(
        c.poll_output(now + Duration::from_millis(100)).unwrap(),
        Output::AwaitSlot { .. }
    ));
    let e = c.poll_output(until).unwrap_err();
    assert_eq!(e.timeout_phase(), Some(hawser_core::TimeoutPhase::PoolWait));
    assert!(e.report().is_some());
    assert_eq!(agent.pool_stats().waiting, 0, "the place was given back");
    // Sticky: the same error again, from both ends of the contract.
    let again = c.poll_output(until).unwrap_err();
    assert_eq!((again.kind(), again.to_string()), (e.kind(), e.to_string()));
    let input = c.handle_input(Input::Timeout, until).unwrap_err();
    assert_eq!(input.to_string(), e.to_string());
}

#[test]
fn a_call_dropped_mid_head_or_mid_body_closes_its_connection_and_frees_the_slot() {
    for answer in [
        Answer::reply("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n").then(End::Stall),
        Answer::reply("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal").then(End::Stall),
    ] {
        let mut s = Scenario::new(capped(Retry::disabled(), WhenFull::Error));
        s.answer(answer);
        let out = s.run_until_stall(get("http://h.test/"));
        assert_eq!(
            out, 1,
            "the connection was closed when the call was dropped"
        );
        assert_eq!(s.agent.pool_stats().active, 0);
        assert_eq!(s.agent.pool_stats().idle, 0);
        s.answer(Answer::reply(OK));
        let next = s.run(get("http://h.test/"));
        assert_eq!(next.status(), 200);
        assert_eq!(s.server.connections(), 2, "never the abandoned connection");
    }
}

#[test]
fn a_call_dropped_mid_backoff_holds_nothing() {
    let mut s = Scenario::new(capped(
        Retry::new(3).status_forcelist([503]),
        WhenFull::Error,
    ));
    s.answer(Answer::status(503, "Retry-After: 5\r\n", ""));
    let agent = s.agent.clone();
    let slept = s.run_until_sleep(get("http://h.test/"));
    assert!(slept, "the call reached its backoff sleep");
    let st = agent.pool_stats();
    assert_eq!(
        (st.active, st.idle),
        (0, 1),
        "the connection went back to the pool"
    );
}

#[test]
fn unsolicited_bytes_on_an_idle_connection_are_never_read_as_a_response() {
    let mut s = Scenario::new(config_with_retry(Retry::disabled()));
    s.prepooled("http://h.test/");
    // The server says something nobody asked for on the idle connection.
    s.server.inject(
        0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nSet-Cookie: injected=1\r\n\r\ninjected",
    );
    s.answer(Answer::reply(
        "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond",
    ));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.body, b"second");
    assert_eq!(out.checks, 1);
    assert_eq!(out.report.connections_reused, 0);
    assert_eq!(s.server.connections(), 2);
    assert_eq!(s.server.received.last().map(|r| r.conn), Some(1));
    assert_eq!(s.agent.pool_stats().discarded_stale, 1);
    assert!(
        s.agent
            .cookies()
            .cookie_header(
                &url::Url::parse("http://h.test/").unwrap(),
                SystemTime::UNIX_EPOCH
            )
            .is_none()
    );
}

#[test]
fn a_post_never_goes_out_on_a_connection_seen_closed() {
    let mut s = Scenario::new(config_with_retry(Retry::disabled()));
    s.answer(Answer::reply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").then(End::Eof));
    // The response was complete before the FIN arrived: the connection was
    // pooled, and the server closed it afterwards.
    let _ = s.run(get("http://h.test/"));
    s.server.close(0);
    s.answer(Answer::reply(OK));
    let post = hawser_core::request::Request::post("http://h.test/p")
        .body("data")
        .build()
        .unwrap();
    let out = s.run(post);
    assert_eq!(out.status(), 200);
    let posts: Vec<_> = s
        .server
        .received
        .iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].conn, 1, "the POST went on a new connection");
}

#[test]
fn bytes_left_after_a_bodiless_response_keep_the_connection_out_of_the_pool() {
    for (method, raw) in [
        ("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
        ("GET", "HTTP/1.1 204 No Content\r\n\r\nhello"),
        ("GET", "HTTP/1.1 304 Not Modified\r\n\r\nhello"),
    ] {
        let mut s = Scenario::new(config_with_retry(Retry::disabled()));
        s.answer(Answer::reply(raw));
        let req = hawser_core::request::Request::builder(method.parse().unwrap(), "http://h.test/")
            .build()
            .unwrap();
        let out = s.run(req);
        assert!(out.body.is_empty(), "{method}: {:?}", out.body);
        assert_eq!(out.releases, vec![false], "{raw:?}: not reused");
        assert_eq!(s.pooled(), 0);
    }
}

#[test]
fn happy_eyeballs_starts_the_next_family_after_the_stagger_and_the_first_to_connect_wins() {
    let mut s = Scenario::new(config_with_retry(Retry::disabled()));
    let v6: SocketAddr = "[::1]:80".parse().unwrap();
    let v6b: SocketAddr = "[::2]:80".parse().unwrap();
    let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
    s.resolve = Some(vec![v6, v6b, v4]);
    // The first address is a black hole; the second family connects.
    s.connect(ConnectResult::Hang).connect(ConnectResult::Ok);
    s.answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(
        out.attempts,
        vec![v6, v4],
        "interleaved: the other family second"
    );
    assert_eq!(
        out.elapsed,
        Duration::from_millis(250),
        "the stagger, not the connect timeout"
    );
}

#[test]
fn a_failed_attempt_starts_the_next_at_once() {
    let mut s = Scenario::new(config_with_retry(Retry::disabled()));
    let (a, b): (SocketAddr, SocketAddr) = (
        "127.0.0.2:80".parse().unwrap(),
        "127.0.0.3:80".parse().unwrap(),
    );
    s.resolve = Some(vec![a, b]);
    s.connect(ConnectResult::Refused).connect(ConnectResult::Ok);
    s.answer(Answer::reply(OK));
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.attempts, vec![a, b]);
    assert_eq!(out.elapsed, Duration::ZERO);
}

#[test]
fn a_losing_attempt_that_connects_late_is_closed() {
    let agent: Agent<u32> = Agent::new(config_with_retry(Retry::disabled())).unwrap();
    let now = Instant::now();
    let mut call = start(&agent, now);
    assert!(matches!(
        call.poll_output(now).unwrap(),
        Output::Resolve { .. }
    ));
    let addrs = vec!["[::1]:80".parse().unwrap(), "127.0.0.1:80".parse().unwrap()];
    call.handle_input(Input::Resolved(addrs), now).unwrap();
    let mut ids: VecDeque<ConnectId> = VecDeque::new();
    let mut t = now;
    for _ in 0..2 {
        match call.poll_output(t).unwrap() {
            Output::Connect { id, .. } => ids.push_back(id),
            other => panic!("{other:?}"),
        }
        match call.poll_output(t).unwrap() {
            Output::AwaitConnect { until } => t = until,
            other => panic!("{other:?}"),
        }
    }
    // The second wins; the first reports late.
    let (first, second) = (ids[0], ids[1]);
    call.handle_input(
        Input::Connected {
            id: second,
            conn: 2,
        },
        t,
    )
    .unwrap();
    match call.poll_output(t).unwrap() {
        Output::Transmit { conn, .. } => assert_eq!(*conn, 2),
        other => panic!("{other:?}"),
    }
    // A late report of a loser is refused as not answering the output,
    // and its transport is dropped by the core (never kept).
    let e = call
        .handle_input(Input::Connected { id: first, conn: 1 }, t)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
}

#[test]
fn a_timeout_reported_early_is_a_no_op() {
    let mut cfg = config_with_retry(Retry::disabled());
    cfg.timeouts = cfg.timeouts.with_read(Duration::from_secs(5)).unwrap();
    let agent: Agent<u32> = Agent::new(cfg).unwrap();
    let now = Instant::now();
    let mut call = start(&agent, now);
    let id = drive_until(&mut call, now, "AwaitConnect").expect("an attempt");
    call.handle_input(Input::Connected { id, conn: 1 }, now)
        .unwrap();
    let len = match call.poll_output(now).unwrap() {
        Output::Transmit { data, .. } => data.len(),
        other => panic!("{other:?}"),
    };
    call.handle_input(Input::Written(len), now).unwrap();
    let until = match call.poll_output(now).unwrap() {
        Output::Receive { until, .. } => until,
        other => panic!("{other:?}"),
    };
    // Early: nothing happens, the same read is asked again.
    call.handle_input(Input::Timeout, now + Duration::from_secs(1))
        .unwrap();
    assert!(matches!(
        call.poll_output(now + Duration::from_secs(1)).unwrap(),
        Output::Receive { .. }
    ));
    // EINTR and zero-byte reads are no progress either.
    call.handle_input(
        Input::from_read(Err(io::ErrorKind::Interrupted.into())),
        now,
    )
    .unwrap();
    call.handle_input(Input::Read(0), now).unwrap();
    // At the bound it is a timeout naming the phase.
    call.handle_input(Input::Timeout, until).unwrap();
    let e = call.poll_output(until).unwrap_err();
    assert_eq!(
        e.timeout_phase(),
        Some(hawser_core::TimeoutPhase::ResponseHead),
        "{e:?}"
    );
}

#[test]
fn zero_bytes_written_does_not_rearm_the_write_timer() {
    let mut cfg = config_with_retry(Retry::disabled());
    cfg.timeouts = cfg.timeouts.with_write(Duration::from_secs(2)).unwrap();
    let agent: Agent<u32> = Agent::new(cfg).unwrap();
    let now = Instant::now();
    let mut call = start(&agent, now);
    let id = drive_until(&mut call, now, "AwaitConnect").expect("an attempt");
    call.handle_input(Input::Connected { id, conn: 1 }, now)
        .unwrap();
    let mut t = now;
    for _ in 0..4 {
        t += Duration::from_millis(600);
        assert!(matches!(call.poll_output(t), Ok(Output::Transmit { .. })));
        call.handle_input(Input::from_write(Ok(0)), t).unwrap();
    }
    // 2.4 s of zero-byte writes: the 2 s write timeout ran out.
    call.handle_input(Input::Timeout, t).unwrap();
    let e = call.poll_output(t).unwrap_err();
    assert_eq!(
        e.timeout_phase(),
        Some(hawser_core::TimeoutPhase::Send),
        "{e:?}"
    );
}

#[test]
fn a_slot_wait_future_is_pending_until_granted() {
    let agent: Agent<u32> = Agent::new(capped(Retry::disabled(), WhenFull::Wait)).unwrap();
    let now = Instant::now();
    let mut holder = start(&agent, now);
    drive_until(&mut holder, now, "AwaitConnect");
    let mut c = start(&agent, now);
    let (_, w) = waker();
    match c.poll_output(now).unwrap() {
        Output::AwaitSlot { mut slot, .. } => {
            let p = std::pin::Pin::new(&mut slot);
            assert_eq!(
                std::future::Future::poll(p, &mut Context::from_waker(&w)),
                Poll::Pending
            );
            assert!(!slot.is_ready());
        }
        other => panic!("{other:?}"),
    }
    drop(holder);
    match c.poll_output(now).unwrap() {
        // Granted: the call moved on to connecting.
        Output::Resolve { .. } => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_free_stale_resend_respects_retry_disabled() {
    for (retry, resent) in [(Retry::new(0), true), (Retry::disabled(), false)] {
        let mut s = Scenario::new(config_with_retry(retry));
        s.prepooled("http://h.test/");
        // The server closes the pooled connection just as it is reused,
        // after the liveness check passed.
        s.answer(Answer::fault(End::Reset))
            .answer(Answer::reply(OK));
        let out = s.run(get("http://h.test/"));
        assert_eq!(out.error.is_none(), resent, "{:?}", out.error);
        assert_eq!(s.server.received.len(), if resent { 3 } else { 2 });
    }
}

fn capped_memory(cap: u64) -> Scenario {
    let mut cfg = config_with_retry(Retry::disabled());
    cfg.max_body_in_memory = cap;
    let mut s = Scenario::new(cfg);
    s.read_into_memory = true;
    s
}

#[test]
fn a_declared_length_over_the_in_memory_cap_fails_before_reading() {
    let mut s = capped_memory(1000);
    s.answer(Answer::reply(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{}",
        "x".repeat(5000)
    )));
    let out = s.run(get("http://h.test/"));
    let e = out.err();
    assert_eq!(e.kind(), ErrorKind::BodyTooLarge, "{e:?}");
    assert!(e.to_string().contains("1000"), "{e}");
    assert!(e.to_string().contains("max_body_in_memory"), "{e}");
    assert!(out.body.is_empty(), "nothing was read");
    assert_eq!(out.releases, vec![false], "the unread connection is closed");
    assert_eq!(s.agent.pool_stats().active, 0);
}

#[test]
fn an_endless_body_read_into_memory_stops_at_the_cap() {
    let mut s = capped_memory(64 * 1024);
    // Close-delimited: no length to check up front.
    s.answer(
        Answer::reply(format!("HTTP/1.1 200 OK\r\n\r\n{}", "y".repeat(1 << 20))).then(End::Stall),
    );
    let out = s.run(get("http://h.test/"));
    assert_eq!(out.err().kind(), ErrorKind::BodyTooLarge);
    assert!(
        out.body.len() <= 64 * 1024,
        "{} bytes handed out",
        out.body.len()
    );
}

#[test]
fn a_body_within_the_cap_and_a_streamed_body_are_not_limited() {
    let mut s = capped_memory(1000);
    s.answer(Answer::status(200, "", &"z".repeat(1000)));
    assert_eq!(s.run(get("http://h.test/")).body.len(), 1000);
    // Streaming (no read_into_memory) is unbounded by the cap.
    s.read_into_memory = false;
    s.answer(Answer::status(200, "", &"z".repeat(5000)));
    assert_eq!(s.run(get("http://h.test/")).body.len(), 5000);
}

#[test]
fn a_per_request_cap_overrides_the_sessions() {
    let mut s = capped_memory(1000);
    s.answer(Answer::status(200, "", &"w".repeat(3000)));
    let mut opts = CallOptions {
        seed: 1,
        ..CallOptions::default()
    };
    opts.max_body_in_memory = Some(4000);
    let out = s.run_with(get("http://h.test/"), opts, Stream::default());
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.body.len(), 3000);
}

#[test]
fn content_encoding_on_a_bodiless_response_is_an_empty_body() {
    for raw in [
        "HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ] {
        let mut s = Scenario::new(config_with_retry(Retry::disabled()));
        s.answer(Answer::reply(raw));
        let out = s.run(get("http://h.test/"));
        assert!(out.error.is_none(), "{raw:?}: {:?}", out.error);
        assert!(out.body.is_empty());
    }
}
