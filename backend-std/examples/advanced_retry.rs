//! Per-kind retry counters (connect, read, status) and `allowed_methods`.
//!
//! urllib3 counts retries by kind: `connect` (nothing reached the server,
//! safe for every method), `read` (the request went out, then the answer
//! failed) and `status` (a status in the forcelist). Read errors and
//! statuses are retried only for `allowed_methods` (idempotent ones by
//! default), so a POST is never sent twice unless you say so. The server's
//! own request counts prove it.
//!
//! Run: `cargo run -p hawser-std --example advanced_retry`

use std::time::Duration;

use hawser_std::{Retry, Session};
use hawser_testkit::{Behaviour, Reply, TestServer};
use http::Method;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let srv = TestServer::builder()
        .route("/reset", Behaviour::ResetAfterRequest)
        .route("/busy", Behaviour::Reply(Reply::new(503)))
        .route(
            "/orders",
            Behaviour::Sequence(vec![
                Behaviour::Reply(Reply::new(503)),
                Behaviour::Reply(Reply::new(201).body("created")),
            ]),
        )
        .route("/orders-reset", Behaviour::ResetAfterRequest)
        .start()?;
    // A port with nothing listening: connects are refused at once.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };

    let base = Retry::new(10)
        .backoff_factor(Duration::from_millis(10))
        .status_forcelist([503]);
    let session = Session::new();

    println!(
        "{:<40} {:<34} {:>8} {:>6}  result",
        "scenario", "policy", "attempts", "hits"
    );

    let attempts = |r: &hawser_std::Result<hawser_std::Response>| match r {
        Ok(resp) => resp.report().attempts.len().to_string(),
        Err(_) => "-".into(),
    };

    // connect: refused 1 + 2 times, then "retries exhausted".
    let r = session
        .get(format!("http://{closed}/"))
        .retry(base.clone().connect(2))
        .send();
    row("GET, connection refused", "connect=2", "-", "-", &r);

    // read: the server resets after reading each request.
    let r = session
        .get(srv.url("/reset"))
        .retry(base.clone().read(1))
        .send();
    row(
        "GET, reset after the request",
        "read=1",
        &attempts(&r),
        &srv.hits("/reset").to_string(),
        &r,
    );

    // status: 503 every time.
    let r = session
        .get(srv.url("/busy"))
        .retry(base.clone().status(2))
        .send();
    row(
        "GET, 503 every time",
        "status=2, forcelist=[503]",
        &attempts(&r),
        &srv.hits("/busy").to_string(),
        &r,
    );

    // POST with the default allowed_methods: the 503 comes back, not retried.
    let r = session
        .post(srv.url("/orders"))
        .body("{\"sku\":\"A-1\"}")
        .retry(base.clone().raise_on_status(false))
        .send();
    row(
        "POST, 503 then 201",
        "default allowed_methods",
        &attempts(&r),
        &srv.hits("/orders").to_string(),
        &r,
    );

    // POST reset after it was sent: may have been processed, so never re-sent.
    let r = session
        .post(srv.url("/orders-reset"))
        .body("{\"sku\":\"A-1\"}")
        .retry(base.clone())
        .send();
    row(
        "POST, reset after the request",
        "default allowed_methods",
        "-",
        &srv.hits("/orders-reset").to_string(),
        &r,
    );

    // Opt in: the endpoint is idempotent (say, an idempotency key), so
    // POST may be retried. The sequence's next answer is the 201.
    let r = session
        .post(srv.url("/orders"))
        .header("Idempotency-Key", "7f3a")
        .body("{\"sku\":\"A-1\"}")
        .retry(
            base.clone()
                .allowed_methods([Method::GET, Method::PUT, Method::POST]),
        )
        .send();
    row(
        "POST, 201 (opted in)",
        "allowed_methods=[GET,PUT,POST]",
        &attempts(&r),
        &srv.hits("/orders").to_string(),
        &r,
    );

    println!("\n'hits' are the server's own request counts for the path so far.");
    Ok(())
}

fn row(
    scenario: &str,
    policy: &str,
    attempts: &str,
    hits: &str,
    r: &hawser_std::Result<hawser_std::Response>,
) {
    let result = match r {
        Ok(resp) => resp.status().to_string(),
        Err(e) => format!("{:?}: {}", e.kind(), e.root_cause()),
    };
    println!("{scenario:<40} {policy:<34} {attempts:>8} {hits:>6}  {result}");
}
