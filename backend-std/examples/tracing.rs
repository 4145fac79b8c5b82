//! What hawser tells `tracing`: a span per call and per attempt (method,
//! host, attempt number, outcome) and debug events for pool waits,
//! connection reuse, retry decisions, backoff sleeps and redirects, with
//! credentials redacted. Against a loopback server that answers 503 once,
//! then redirects.
//!
//! Run: `cargo run -p hawser-std --features tracing --example tracing`

use hawser_std::{Retry, Session};
use hawser_testkit::{Behaviour, Reply, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_target(false)
        .without_time()
        .init();

    let srv = TestServer::builder()
        .route(
            "/flaky",
            Behaviour::Sequence(vec![
                Behaviour::Reply(Reply::new(503).body("busy")),
                Behaviour::Redirect {
                    status: 302,
                    location: "/done".into(),
                },
            ]),
        )
        .route("/done", Behaviour::Reply(Reply::new(200).body("ok")))
        .start()?;

    let session = Session::builder()
        .retry(Retry::new(Some(3)).status_forcelist([503]))
        .build()?;
    // The password in the URL never reaches a span or an event.
    let url = srv.url("/flaky").replace("http://", "http://user:secret@");
    let resp = session.get(&url).send()?;
    println!("{} {}", resp.status(), resp.text()?);
    // The second call reuses the pooled connection.
    let resp = session.get(srv.url("/done")).send()?;
    println!("{} {}", resp.status(), resp.text()?);
    Ok(())
}
