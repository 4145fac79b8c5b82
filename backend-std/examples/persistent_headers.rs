//! Headers set once on the session go with every request; a request can
//! add its own or override one.
//!
//! Run: `cargo run -p hawser-std --example persistent_headers`

use hawser_std::Session;
use hawser_testkit::{Behaviour, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let srv = TestServer::builder()
        .route_prefix("/", Behaviour::Echo)
        .start()?;

    let session = Session::builder()
        .header("User-Agent", "reports-bot/1.4")
        .header("Accept", "application/json")
        .header("X-Api-Version", "2024-06-01")
        .build()?;

    session.get(srv.url("/orders")).send()?.bytes()?;
    session
        .get(srv.url("/orders/42"))
        .header("X-Request-Id", "req-7f3a")
        .send()?
        .bytes()?;
    session
        .get(srv.url("/legacy"))
        .header("X-Api-Version", "2019-01-01") // this request only
        .send()?
        .bytes()?;

    const SHOWN: [&str; 4] = ["user-agent", "accept", "x-api-version", "x-request-id"];
    println!("What the server received:\n");
    println!(
        "{:<12} {:<17} {:<18} {:<15} X-Request-Id",
        "path", "User-Agent", "Accept", "X-Api-Version"
    );
    for r in srv.requests() {
        let v: Vec<&str> = SHOWN.iter().map(|h| r.header(h).unwrap_or("-")).collect();
        println!(
            "{:<12} {:<17} {:<18} {:<15} {}",
            r.path, v[0], v[1], v[2], v[3]
        );
    }
    println!(
        "\nAll three reused one connection: the server accepted {}.",
        srv.connections_accepted()
    );
    Ok(())
}
