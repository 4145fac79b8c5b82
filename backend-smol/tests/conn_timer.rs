//! The deadline timer a connection of the async backends keeps from wait to
//! wait (`hawser_async::Conn`): armed once for steady keep-alive traffic,
//! armed again when it fires before a wait's own deadline (no early
//! timeout), and armed again for a wait whose deadline comes sooner (no
//! late timeout). Runs on smol's runtime, wrapped to count the timers it is
//! asked for.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use hawser_async::Session;
use hawser_smol::{ErrorKind, Retry, Runtime, Smol, TimeoutPhase};
use hawser_testkit::{Behaviour, TestServer};

/// Timers armed so far.
static TIMERS: AtomicUsize = AtomicUsize::new(0);
/// The tests share the counter, so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// [`Smol`], counting the timers the driver starts.
struct Counting;

impl Runtime for Counting {
    type Stream = <Smol as Runtime>::Stream;

    async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        Smol::resolve(host, port).await
    }
    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        Smol::connect(addr).await
    }
    async fn sleep_until(at: Instant) {
        TIMERS.fetch_add(1, Ordering::SeqCst);
        Smol::sleep_until(at).await;
    }
    fn poll_read(
        s: &mut Self::Stream,
        cx: &mut Context<'_>,
        b: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Smol::poll_read(s, cx, b)
    }
    fn poll_write(s: &mut Self::Stream, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Smol::poll_write(s, cx, b)
    }
    fn peek(s: &Self::Stream) -> io::Result<usize> {
        Smol::peek(s)
    }
}

fn slow_server() -> TestServer {
    TestServer::start(vec![
        (
            "/20ms",
            Behaviour::StallBeforeHead(Duration::from_millis(20)),
        ),
        (
            "/200ms",
            Behaviour::StallBeforeHead(Duration::from_millis(200)),
        ),
        ("/2s", Behaviour::StallBeforeHead(Duration::from_secs(2))),
    ])
    .expect("test server")
}

fn session(read_timeout: Duration) -> Session<Counting> {
    Session::<Counting>::builder()
        .read_timeout(read_timeout)
        .retry(Retry::disabled())
        .build()
        .expect("session")
}

async fn get_text(s: &Session<Counting>, url: &str) -> hawser_smol::Result<String> {
    s.get(url).send().await?.text().await
}

#[test]
fn steady_keep_alive_arms_one_timer_for_many_requests() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let srv = slow_server();
    let s = session(Duration::from_secs(10));
    let url = srv.url("/20ms");
    let armed = smol::block_on(async {
        // The first request connects (a timer may bound that) and arms
        // the connection's timer for its read.
        assert_eq!(get_text(&s, &url).await.expect("200"), "late");
        let before = TIMERS.load(Ordering::SeqCst);
        for _ in 0..10 {
            assert_eq!(get_text(&s, &url).await.expect("200"), "late");
        }
        TIMERS.load(Ordering::SeqCst) - before
    });
    // Each response waits 20 ms, so every request waited on its read; the
    // connection was reused, and its timer with it.
    assert_eq!(s.pool_stats().opened, 1);
    assert_eq!(armed, 0);
}

#[test]
fn a_timer_that_fires_before_the_deadline_is_armed_again_not_a_timeout() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let srv = slow_server();
    let s = session(Duration::from_millis(300));
    let (body, took, armed) = smol::block_on(async {
        // Arms the connection's timer 300 ms after this read began.
        get_text(&s, &srv.url("/20ms")).await.expect("first");
        Timer::after(Duration::from_millis(150)).await;
        // The kept timer fires about 130 ms into this 200 ms wait, well
        // before its own deadline (300 ms): the wait goes on.
        let before = TIMERS.load(Ordering::SeqCst);
        let t = Instant::now();
        let body = get_text(&s, &srv.url("/200ms")).await;
        (body, t.elapsed(), TIMERS.load(Ordering::SeqCst) - before)
    });
    assert_eq!(body.expect("no early timeout"), "late");
    assert!(took >= Duration::from_millis(190), "{took:?}");
    assert_eq!(armed, 1, "armed again for the wait's own deadline");
}

#[test]
fn a_sooner_deadline_arms_a_new_timer() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let srv = slow_server();
    let s = session(Duration::from_secs(10));
    let (err, took) = smol::block_on(async {
        // Arms the connection's timer 10 s out.
        get_text(&s, &srv.url("/20ms")).await.expect("first");
        let t = Instant::now();
        let err = s
            .get(srv.url("/2s"))
            .read_timeout(Duration::from_millis(150))
            .send()
            .await
            .expect_err("the read times out");
        (err, t.elapsed())
    });
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(
        err.timeout_phase(),
        Some(TimeoutPhase::ResponseHead),
        "{err}"
    );
    assert!(took < Duration::from_secs(1), "timed out late: {took:?}");
}
