//! Retry with total, backoff_factor and status_forcelist against a flaky
//! endpoint; the per-call report shows every attempt and every sleep.
//!
//! urllib3: `Retry(total=5, backoff_factor=0.05, status_forcelist=[500, 502, 503, 504])`.
//! Sleeps follow urllib3 2.x: none before the first retry, then
//! `backoff_factor * 2^(n-1)` (0.1 s, 0.2 s, 0.4 s, ...), plus jitter if set.
//!
//! Run: `cargo run -p hawser-std --example retry_setup`

use std::time::Duration;

use hawser_std::{AttemptOutcome, Retry, Session};
use hawser_testkit::{Behaviour, Reply, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Fails four times with 503, then recovers.
    let busy = || Behaviour::Reply(Reply::new(503).body("overloaded"));
    let srv = TestServer::builder()
        .route(
            "/flaky",
            Behaviour::Sequence(vec![
                busy(),
                busy(),
                busy(),
                busy(),
                Behaviour::Reply(Reply::text("ok")),
            ]),
        )
        .route("/down", busy())
        .start()?;

    let session = Session::builder()
        .retry(
            Retry::new(5)
                .backoff_factor(Duration::from_millis(50))
                .status_forcelist([500, 502, 503, 504]),
        )
        .build()?;

    println!("== GET /flaky (503 x4, then 200) ==");
    let resp = session.get(srv.url("/flaky")).send()?;
    let report = resp.report();
    print_attempts(&report);
    println!(
        "final status {}; total sleep {:?}",
        resp.status(),
        report.slept
    );
    println!("server saw {} requests", srv.hits("/flaky"));

    println!("\n== GET /down (always 503) ==");
    match session.get(srv.url("/down")).send() {
        Ok(resp) => println!("unexpected success: {}", resp.status()),
        Err(e) => {
            println!("error kind: {:?}", e.kind());
            println!("message:    {e}");
            println!("root cause: {}", e.root_cause());
        }
    }
    println!("server saw {} requests (1 + 5 retries)", srv.hits("/down"));

    // raise_on_status(false): when retries run out, hand back the last
    // response instead of an error (urllib3's raise_on_status=False).
    let resp = session
        .get(srv.url("/down"))
        .retry(
            Retry::new(2)
                .backoff_factor(Duration::from_millis(50))
                .status_forcelist([503])
                .raise_on_status(false),
        )
        .send()?;
    println!(
        "\nwith raise_on_status(false): got {} back after {} attempts",
        resp.status(),
        resp.report().attempts.len()
    );
    Ok(())
}

fn print_attempts(report: &hawser_std::CallReport) {
    println!("{:<8} {:<26} {:>9}  then", "attempt", "outcome", "sleep");
    for (i, a) in report.attempts.iter().enumerate() {
        let outcome = match &a.outcome {
            AttemptOutcome::Status(s) => s.to_string(),
            AttemptOutcome::Error(e) => e.clone(),
        };
        println!(
            "{:<8} {:<26} {:>7.0}ms  {}",
            i + 1,
            outcome,
            a.sleep.as_secs_f64() * 1e3,
            a.next
        );
    }
}
