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
    let busy_then_created = || {
        Behaviour::Sequence(vec![
            Behaviour::Reply(Reply::new(503)),
            Behaviour::Reply(Reply::new(201).body("created")),
        ])
    };
    let srv = TestServer::builder()
        .route("/reset", Behaviour::ResetAfterRequest)
        .route("/busy", Behaviour::Reply(Reply::new(503)))
        .route("/orders", busy_then_created())
        .route("/orders-reset", Behaviour::ResetAfterRequest)
        .route("/orders-idempotent", busy_then_created())
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
    let order = "{\"sku\":\"A-1\"}";

    println!(
        "{:<32} {:<32} {:>11}  result",
        "scenario", "policy", "server saw"
    );

    // connect: refused, retried twice, then "retries exhausted".
    let r = session
        .get(format!("http://{closed}/"))
        .retry(base.clone().connect(2))
        .send();
    row("GET, connection refused", "connect=2", "-", &r);

    // read: the server resets after reading each request.
    let r = session
        .get(srv.url("/reset"))
        .retry(base.clone().read(1))
        .send();
    row(
        "GET, reset after the request",
        "read=1",
        &hits(&srv, "/reset"),
        &r,
    );

    // status: 503 every time.
    let r = session
        .get(srv.url("/busy"))
        .retry(base.clone().status(2))
        .send();
    row("GET, 503 every time", "status=2", &hits(&srv, "/busy"), &r);

    // POST with the default allowed_methods: the 503 comes back, not retried.
    let r = session
        .post(srv.url("/orders"))
        .body(order)
        .retry(base.clone().raise_on_status(false))
        .send();
    row(
        "POST, 503 then 201",
        "default allowed_methods",
        &hits(&srv, "/orders"),
        &r,
    );

    // POST reset after it was sent: it may have been processed, so it is
    // not re-sent.
    let r = session
        .post(srv.url("/orders-reset"))
        .body(order)
        .retry(base.clone())
        .send();
    row(
        "POST, reset after the request",
        "default allowed_methods",
        &hits(&srv, "/orders-reset"),
        &r,
    );

    // Opt in when the endpoint is idempotent (here: an idempotency key).
    let r = session
        .post(srv.url("/orders-idempotent"))
        .header("Idempotency-Key", "7f3a")
        .body(order)
        .retry(
            base.clone()
                .allowed_methods([Method::GET, Method::PUT, Method::POST]),
        )
        .send();
    row(
        "POST, 503 then 201",
        "allowed_methods=[GET,PUT,POST]",
        &hits(&srv, "/orders-idempotent"),
        &r,
    );

    println!("\n'server saw': requests the server received for that scenario's path.");
    println!(
        "Every policy is Retry::new(10).backoff_factor(10ms).status_forcelist([503]) plus the setting shown."
    );
    Ok(())
}

fn hits(srv: &TestServer, path: &str) -> String {
    srv.hits(path).to_string()
}

fn row(scenario: &str, policy: &str, hits: &str, r: &hawser_std::Result<hawser_std::Response>) {
    let result = match r {
        Ok(resp) => format!(
            "{} after {} attempt(s)",
            resp.status(),
            resp.report().attempts.len()
        ),
        Err(e) => format!("{}: {}", e.kind(), e.root_cause()),
    };
    println!("{scenario:<32} {policy:<32} {hits:>11}  {result}");
}
