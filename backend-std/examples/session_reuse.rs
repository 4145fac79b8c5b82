//! N requests without a session vs with one.
//!
//! `hawser_std::get` builds a fresh session per call, so every call pays a
//! new TCP connection (and, over https, a TLS handshake). A `Session` keeps
//! the connection in its pool and reuses it. The server counts the
//! connections it accepted, so the difference is measured, not claimed.
//!
//! Run: `cargo run --release -p hawser-std --example session_reuse`

use std::time::{Duration, Instant};

use hawser_std::Session;

#[path = "support/fast_server.rs"]
mod fast_server;
use fast_server::FastServer;

const N: usize = 200;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A loopback server that counts the connections it accepts.
    let srv = FastServer::start()?;
    let url = srv.url("/item");

    // Without a session: one-off calls.
    let before = srv.connections_accepted();
    let t = Instant::now();
    for _ in 0..N {
        hawser_std::get(&url)?.error_for_status()?.bytes()?;
    }
    let without = t.elapsed();
    let conns_without = srv.connections_accepted() - before;

    // With a session: the pool keeps the connection.
    let session = Session::new();
    let before = srv.connections_accepted();
    let t = Instant::now();
    for _ in 0..N {
        session.get(&url).send()?.error_for_status()?.bytes()?;
    }
    let with = t.elapsed();
    let conns_with = srv.connections_accepted() - before;

    println!("{N} GET requests to a loopback server\n");
    println!(
        "{:<22} {:>10} {:>10} {:>13}",
        "", "total", "req/s", "connections"
    );
    row("without a session", without, conns_without);
    row("with one Session", with, conns_with);
    let stats = session.pool_stats();
    println!(
        "\nsession pool: {} opened, {} reused",
        stats.opened, stats.reused
    );
    println!(
        "speed-up with a session: {:.1}x",
        without.as_secs_f64() / with.as_secs_f64().max(1e-9)
    );
    println!(
        "(each one-off call also builds a session, TLS root store included, as\n \
         requests.get does; over a real network every new connection adds a\n \
         round trip, and a TLS handshake over https)"
    );
    Ok(())
}

fn row(label: &str, elapsed: Duration, connections: usize) {
    println!(
        "{:<22} {:>8.1}ms {:>10.0} {:>13}",
        label,
        elapsed.as_secs_f64() * 1e3,
        N as f64 / elapsed.as_secs_f64().max(1e-9),
        connections
    );
}
