//! A session scoped to a block: dropping it closes its pooled connections.
//!
//! Python writes `with requests.Session() as s:`; in Rust the scope does it.
//! The server reports how many connections are open, before and after.
//!
//! Run: `cargo run -p hawser-std --example scoped_session`

use std::time::{Duration, Instant};

use hawser_std::Session;
use hawser_testkit::{Behaviour, Reply, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let srv = TestServer::builder()
        .route("/a", Behaviour::Reply(Reply::text("a")))
        .route("/b", Behaviour::Reply(Reply::text("b")))
        .start()?;

    println!(
        "{:<42} {}",
        "open connections at start:",
        srv.open_connections()
    );
    {
        let session = Session::new();
        // Two responses alive at once need two connections; both go back
        // to the pool when their bodies are read.
        let a = session.get(srv.url("/a")).send()?;
        let b = session.get(srv.url("/b")).send()?;
        println!("bodies: {:?} {:?}", a.text()?, b.text()?);
        let open = wait_for(|| srv.open_connections() == 2, &srv);
        println!("{:<42} {open}", "open while the session lives:");
        println!(
            "{:<42} {}",
            "idle in the session's pool:",
            session.pool_stats().idle
        );
    } // <- the session is dropped here: its pool closes the sockets

    let open = wait_for(|| srv.open_connections() == 0, &srv);
    println!("{:<42} {open}", "open after the session went out of scope:");
    Ok(())
}

/// The server sees a close a moment after it happens; poll briefly (bounded).
fn wait_for(done: impl Fn() -> bool, srv: &TestServer) -> usize {
    let until = Instant::now() + Duration::from_secs(2);
    while !done() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    srv.open_connections()
}
