//! What is particular to the async backend: the streaming body through
//! `AsyncRead` and `chunk()`, connections going back to the pool (or not)
//! with the response, tasks waiting for a pool slot being woken, and
//! cancelled requests freeing their slot.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, future};
use hawser_smol::{ErrorKind, PoolConfig, Retry, Session, TimeoutPhase, WhenFull};
use hawser_testkit::{Behaviour, TestServer, pattern};

const LEN: usize = 300_000;

fn server() -> TestServer {
    TestServer::start(vec![
        ("/echo", Behaviour::Echo),
        (
            "/big",
            Behaviour::Stream {
                len: LEN as u64,
                chunked: false,
            },
        ),
        (
            "/chunked",
            Behaviour::Stream {
                len: LEN as u64,
                chunked: true,
            },
        ),
        (
            "/slow",
            Behaviour::StallBeforeHead(Duration::from_millis(150)),
        ),
        (
            "/short",
            Behaviour::ShortBody {
                declared: LEN,
                sent: LEN / 3,
            },
        ),
        (
            "/drip",
            Behaviour::Drip {
                total: 40,
                chunk: 10,
                every: Duration::from_millis(1500),
            },
        ),
    ])
    .expect("test server")
}

fn one_per_host(when_full: WhenFull) -> Session {
    Session::builder()
        .pool(PoolConfig {
            max_active_per_host: 1,
            when_full,
            ..PoolConfig::default()
        })
        .build()
        .expect("session")
}

#[test]
fn async_read_streams_the_body_and_returns_the_connection() {
    let srv = server();
    let s = Session::new();
    smol::block_on(async {
        let mut resp = s.get(srv.url("/big")).send().await.expect("send");
        assert_eq!(resp.content_length(), Some(LEN as u64));
        let mut body = Vec::new();
        let mut buf = [0u8; 1000]; // small reads: many polls per core chunk
        loop {
            let n = resp.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buf[..n]);
        }
        assert_eq!(body, pattern(LEN));
        assert_eq!(resp.read(&mut buf).await.expect("read after end"), 0);
        assert_eq!(s.pool_stats().idle, 1, "read to the end: pooled");
        assert!(resp.report().attempts.len() == 1);

        let again = s.get(srv.url("/big")).send().await.expect("send");
        assert_eq!(again.bytes().await.expect("bytes").len(), LEN);
    });
    let stats = s.pool_stats();
    assert_eq!((stats.opened, stats.reused), (1, 1));
    assert_eq!(srv.connections_accepted(), 1);
}

/// A plain body read through `AsyncRead` with a large buffer goes from the
/// socket straight into it (`Output::ReceiveBody`): the bytes are the
/// body's, in order, and reads are as large as the buffer allows.
#[test]
fn large_async_reads_get_the_body_straight_and_whole() {
    let srv = server();
    let s = Session::new();
    smol::block_on(async {
        let mut resp = s.get(srv.url("/big")).send().await.expect("send");
        let mut body = Vec::new();
        let mut buf = vec![0u8; 128 * 1024];
        let mut largest = 0;
        loop {
            let n = resp.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            largest = largest.max(n);
            body.extend_from_slice(&buf[..n]);
        }
        assert_eq!(body, pattern(LEN));
        // The core's own buffer is 16 KiB: a larger read came straight.
        assert!(largest > 16 * 1024, "largest read {largest}");
    });
    assert_eq!(s.pool_stats().idle, 1, "read to the end: pooled");
}

/// A plain body cut short while read straight into the caller's buffer
/// fails as a truncated body, after every byte that did arrive.
#[test]
fn a_short_body_read_straight_fails_after_what_arrived() {
    let srv = server();
    let s = Session::builder()
        .retry(Retry::disabled())
        .build()
        .expect("session");
    smol::block_on(async {
        let mut resp = s.get(srv.url("/short")).send().await.expect("send");
        let mut body = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let err = loop {
            match resp.read(&mut buf).await {
                Ok(0) => panic!("a short body ended without an error"),
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(body, pattern(LEN)[..LEN / 3]);
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<hawser_smol::Error>())
            .expect("the hawser error inside");
        assert_eq!(inner.kind(), ErrorKind::Body, "{inner}");
    });
    let stats = s.pool_stats();
    assert_eq!((stats.idle, stats.active), (0, 0), "{stats:?}");
}

#[test]
fn chunk_hands_out_the_whole_chunked_body_then_none() {
    let srv = server();
    let s = Session::new();
    smol::block_on(async {
        let mut resp = s.get(srv.url("/chunked")).send().await.expect("send");
        let mut body = Vec::new();
        let mut pieces = 0;
        while let Some(piece) = resp.chunk().await.expect("chunk") {
            assert!(!piece.is_empty());
            body.extend_from_slice(&piece);
            pieces += 1;
        }
        assert!(pieces > 1, "a {LEN}-byte body arrives in pieces");
        assert_eq!(body, pattern(LEN));
        assert!(resp.chunk().await.expect("after end").is_none());
    });
    assert_eq!(s.pool_stats().idle, 1);
}

#[test]
fn dropping_a_response_early_closes_its_connection() {
    let srv = server();
    let s = Session::new();
    smol::block_on(async {
        let mut resp = s.get(srv.url("/big")).send().await.expect("send");
        let first = resp.chunk().await.expect("chunk").expect("some body");
        assert!(!first.is_empty() && first.len() < LEN);
        drop(resp);
        let stats = s.pool_stats();
        assert_eq!((stats.idle, stats.active), (0, 0));
        let text = s.get(srv.url("/big")).send().await.expect("send");
        assert_eq!(text.bytes().await.expect("bytes"), pattern(LEN));
    });
    assert_eq!(
        s.pool_stats().opened,
        2,
        "the half-read connection was not reused"
    );
}

#[test]
fn progress_hook_sees_every_byte() {
    let srv = server();
    let s = Session::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let body = smol::block_on(async {
        s.get(srv.url("/big"))
            .send()
            .await
            .expect("send")
            .on_progress(move |read, total| log.lock().expect("lock").push((read, total)))
            .bytes()
            .await
            .expect("bytes")
    });
    assert_eq!(body.len(), LEN);
    let seen = seen.lock().expect("lock");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "monotonic");
    assert_eq!(seen.last(), Some(&(LEN as u64, Some(LEN as u64))));
}

#[test]
fn waiting_tasks_are_woken_when_a_connection_returns() {
    let srv = server();
    let s = one_per_host(WhenFull::Wait);
    let started = Instant::now();
    let results = smol::block_on(async {
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let (s, url) = (s.clone(), srv.url("/slow"));
                smol::spawn(async move { s.get(url).send().await?.text().await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await);
        }
        out
    });
    for r in results {
        assert_eq!(r.expect("each waiter gets the connection in turn"), "late");
    }
    let stats = s.pool_stats();
    assert_eq!((stats.opened, stats.reused, stats.waited), (1, 2, 2));
    // Served one after another on the single connection (3 x 150 ms), and
    // woken promptly rather than at a timeout.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn pool_wait_is_bounded_by_the_deadline() {
    let srv = server();
    let s = one_per_host(WhenFull::Wait);
    smol::block_on(async {
        let held = s.get(srv.url("/big")).send().await.expect("send");
        let started = Instant::now();
        let err = s
            .get(srv.url("/big"))
            .deadline(Duration::from_millis(200))
            .send()
            .await
            .expect_err("the only slot is held");
        // Only the deadline bounds this wait (no pool wait timeout is set),
        // so the deadline is the phase, and the message says where it ran out.
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(err.timeout_phase(), Some(TimeoutPhase::Deadline), "{err}");
        assert!(err.to_string().contains("pooled connection"), "{err}");
        assert!(err.report().is_some());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(held.bytes().await.expect("bytes").len(), LEN);
    });
    assert_eq!(s.pool_stats().waiting, 0);
}

#[test]
fn a_cancelled_request_frees_its_pool_slot() {
    let srv = server();
    let s = one_per_host(WhenFull::Error);
    smol::block_on(async {
        let cancelled = future::or(
            async { Some(s.get(srv.url("/slow")).send().await) },
            async {
                smol::Timer::after(Duration::from_millis(30)).await;
                None
            },
        )
        .await;
        assert!(cancelled.is_none(), "the timer won");
        assert_eq!(s.pool_stats().active, 0);
        let resp = s
            .get(srv.url("/big"))
            .send()
            .await
            .expect("slot free again");
        assert_eq!(resp.bytes().await.expect("bytes").len(), LEN);
    });
}

/// A read that times out in the body, read through `AsyncRead` until it fails.
async fn read_drip(s: &Session, url: String) -> (std::io::Error, hawser_smol::CallReport) {
    let mut resp = s.get(url).send().await.expect("head in time");
    let mut body = Vec::new();
    let err = resp
        .read_to_end(&mut body)
        .await
        .expect_err("drip too slow");
    (err, resp.report())
}

#[test]
fn a_read_timeout_in_the_body_surfaces_through_async_read() {
    let srv = server();
    let s = Session::builder()
        .read_timeout(Duration::from_millis(300))
        .retry(Retry::disabled())
        .build()
        .expect("session");
    let (err, _) = smol::block_on(read_drip(&s, srv.url("/drip")));
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err:?}");
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<hawser_smol::Error>())
        .expect("the hawser error inside");
    assert_eq!(inner.kind(), ErrorKind::Timeout);
    assert_eq!(inner.timeout_phase(), Some(TimeoutPhase::Body));
}

/// With the default retry policy the core re-classifies the final body error
/// when it surfaces from `State::Failed` and starts a new attempt after the
/// head was delivered (hawser-std does the same): the reader then sees "a
/// second response head" instead of the timeout. Reported to the lead; the
/// fix belongs in hawser-core (`call/machine.rs`, `step`, `State::Release`
/// with `Next::Fail`: set `self.final_pending = true` before `return Err(e)`;
/// with that line this test passes and so does the conformance suite).
#[test]
fn a_body_timeout_after_the_head_is_final_with_default_retries() {
    let srv = server();
    let s = Session::builder()
        .read_timeout(Duration::from_millis(300))
        .build()
        .expect("session");
    let (err, report) = smol::block_on(read_drip(&s, srv.url("/drip")));
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err:?}");
    assert_eq!(report.attempts.len(), 1, "{report:#?}");
}

#[test]
fn futures_and_responses_can_move_between_threads() {
    fn send<T: Send + 'static>(t: T) -> T {
        t
    }
    let srv = server();
    let s = Session::new();
    // Polled to completion on another executor thread.
    let body = smol::block_on(smol::spawn(send(async move {
        let resp = send(s.get(srv.url("/big")).send()).await?;
        send(resp).bytes().await
    })))
    .expect("body");
    assert_eq!(body.len(), LEN);
}

#[test]
fn json_goes_out_and_comes_back() {
    let srv = server();
    let s = Session::new();
    let echo: serde_json::Value = smol::block_on(async {
        s.post(srv.url("/echo"))
            .json(&serde_json::json!({"name": "hawser", "n": 3}))
            .send()
            .await?
            .json()
            .await
    })
    .expect("json round trip");
    assert_eq!(echo["method"], "POST");
    let sent: serde_json::Value =
        serde_json::from_str(echo["body"].as_str().expect("body text")).expect("sent JSON");
    assert_eq!(sent, serde_json::json!({"name": "hawser", "n": 3}));
    let err = smol::block_on(async {
        s.get(srv.url("/slow"))
            .send()
            .await?
            .json::<serde_json::Value>()
            .await
    })
    .expect_err("\"late\" is not JSON");
    assert_eq!(err.kind(), ErrorKind::Body);
}

#[test]
fn text_decodes_the_declared_charset() {
    use hawser_testkit::Reply;
    let srv = TestServer::start(vec![(
        "/cp1252",
        Behaviour::Reply(
            Reply::new(200)
                .header("Content-Type", "text/html; Charset=windows-1252")
                .body(vec![0x93, 0x68, 0x69, 0x94]),
        ),
    )])
    .expect("test server");
    let s = Session::new();
    let text = smol::block_on(async { s.get(srv.url("/cp1252")).send().await?.text().await });
    assert_eq!(text.expect("text"), "\u{201c}hi\u{201d}");
}
