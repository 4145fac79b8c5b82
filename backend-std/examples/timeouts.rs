//! Timeouts: a single value, a (connect, read) pair, an overall deadline,
//! and catching a timeout with the phase that ran out.
//!
//! requests: `timeout=5` and `timeout=(3.05, 27)`. hawser adds a deadline
//! over the whole call (every attempt, redirect and backoff sleep), and
//! every timeout error names its phase.
//!
//! Run: `cargo run -p hawser-std --example timeouts`

use std::time::{Duration, Instant};

use hawser_std::{ErrorKind, Retry, Session, Timeouts};
use hawser_testkit::{Behaviour, BlackHole, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let srv = TestServer::builder()
        .route("/fast", Behaviour::EchoText)
        .route("/slow", Behaviour::StallBeforeHead(Duration::from_secs(3)))
        .route(
            "/drip",
            Behaviour::Drip {
                total: 100,
                chunk: 1,
                every: Duration::from_millis(100),
            },
        )
        .start()?;
    // A loopback address whose connects hang (the accept queue is full).
    let hole = BlackHole::start()?;

    // Timeouts are errors we want to see here, not to retry.
    let session = Session::builder().retry(Retry::disabled()).build()?;

    println!("1) one value for connect and read: .timeout(2s)");
    let resp = session
        .get(srv.url("/fast"))
        .timeout(Duration::from_secs(2))
        .send()?;
    println!("   /fast -> {}", resp.status());

    println!("2) a (connect, read) pair: 0.2 s to connect, 0.3 s of silence");
    let pair = Timeouts::from_pair_secs_f64(0.2, 0.3)?;
    show("   /slow (answers after 3 s)", || {
        session
            .get(srv.url("/slow"))
            .with_timeouts(pair)
            .send()?
            .bytes()
    });
    show("   black hole (connect hangs)", || {
        session
            .get(hole.url("/"))
            .with_timeouts(pair)
            .send()?
            .bytes()
    });

    println!("3) an overall deadline: the drip never goes silent for 0.3 s, but");
    println!("   100 bytes at 10 bytes/s would take 10 s; the deadline cuts it at 1 s");
    let drip = Timeouts::from_pair_secs_f64(1.0, 0.3)?.with_deadline(Duration::from_secs(1))?;
    show("   /drip", || {
        session
            .get(srv.url("/drip"))
            .with_timeouts(drip)
            .send()?
            .bytes()
    });

    println!("4) session-wide settings, like requests' adapters");
    let strict = Session::builder()
        .connect_timeout(Duration::from_millis(200))
        .read_timeout(Duration::from_millis(300))
        .deadline(Duration::from_secs(2))
        .retry(Retry::new(2).backoff_factor(Duration::from_millis(50)))
        .build()?;
    let before = srv.hits("/slow");
    show("   /slow with 2 retries", || {
        strict.get(srv.url("/slow")).send()?.bytes()
    });
    println!("   the server saw {} attempts", srv.hits("/slow") - before);
    Ok(())
}

/// Run `f`, then print how long it took and, for a timeout, its phase.
fn show(label: &str, f: impl FnOnce() -> hawser_std::Result<Vec<u8>>) {
    let t = Instant::now();
    let r = f();
    let took = t.elapsed();
    match r {
        Ok(body) => println!("{label:<34} ok, {} bytes in {took:.2?}", body.len()),
        Err(e) => {
            // With retries the error is "retries exhausted"; the timeout is its cause.
            let cause = e.root_cause();
            match (cause.kind(), cause.timeout_phase()) {
                (ErrorKind::Timeout, Some(phase)) => {
                    println!(
                        "{label:<34} {:?} after {took:.2?}, phase: {phase}",
                        e.kind()
                    );
                    if e.kind() != ErrorKind::Timeout {
                        println!("{:<34} {e}", "");
                    }
                }
                _ => println!("{label:<34} {:?} after {took:.2?}: {e}", e.kind()),
            }
        }
    }
}
