//! A bare one-off call vs a production-configured session.
//!
//! The tutorial's first snippet: `requests.get(url)` works, but it opens a
//! new connection every time, waits forever by default and gives up on the
//! first hiccup. A production client sets timeouts, retries with backoff and
//! identifying headers once, on a session.
//!
//! Run: `cargo run -p hawser-std --example basic_vs_production`

use std::time::Duration;

use hawser_std::{Retry, Session};
use hawser_testkit::{Behaviour, Reply, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local server: /status is healthy, /flaky answers 503 twice first.
    let srv = TestServer::builder()
        .route("/status", Behaviour::Echo)
        .route(
            "/flaky",
            Behaviour::Sequence(vec![
                Behaviour::Reply(Reply::new(503).body("busy")),
                Behaviour::Reply(Reply::new(503).body("busy")),
                Behaviour::Reply(Reply::text("recovered")),
            ]),
        )
        .start()?;

    println!("== basic: hawser_std::get (like requests.get) ==");
    let resp = hawser_std::get(srv.url("/status"))?;
    println!("status: {}", resp.status());
    let echoed: serde_json::Value = serde_json::from_str(&resp.text()?)?;
    println!(
        "User-Agent the server saw: {}",
        header_of(&echoed, "user-agent")
    );

    // Without retries (per request), the first 503 is the answer.
    let basic = hawser_std::Session::builder()
        .retry(Retry::disabled())
        .build()?
        .get(srv.url("/flaky"))
        .send()?;
    println!(
        "flaky endpoint, no retries: {} (the caller has to cope)",
        basic.status()
    );

    println!();
    println!("== production: one configured Session ==");
    let session = Session::builder()
        .header("User-Agent", "inventory-sync/2.1 (+ops@example.invalid)")
        .header("Accept", "application/json")
        .retry(
            Retry::new(3)
                .backoff_factor(Duration::from_millis(50))
                .status_forcelist([500, 502, 503, 504]),
        )
        .timeout(Duration::from_secs(5)) // connect and read
        .deadline(Duration::from_secs(20)) // the whole call, retries included
        .build()?;

    let resp = session.get(srv.url("/status")).send()?;
    let echoed: serde_json::Value = serde_json::from_str(&resp.text()?)?;
    println!(
        "User-Agent the server saw: {}",
        header_of(&echoed, "user-agent")
    );
    println!(
        "Accept the server saw:     {}",
        header_of(&echoed, "accept")
    );

    // The 503 left on the flaky route is retried away.
    let resp = session.get(srv.url("/flaky")).send()?.error_for_status()?;
    let report = resp.report();
    println!(
        "flaky endpoint with retries: {} after {} attempt(s), slept {:?}",
        resp.status(),
        report.attempts.len(),
        report.slept
    );
    println!("body: {}", resp.text()?);
    println!(
        "server hits on /flaky: {} (1 without retries + the session's attempts)",
        srv.hits("/flaky")
    );
    Ok(())
}

/// The value of header `name` in the testkit's JSON echo.
fn header_of(echo: &serde_json::Value, name: &str) -> String {
    echo["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str())
        .unwrap_or("(none)")
        .to_string()
}
