//! Ten concurrent GETs on one async-std session against a loopback test server.
//!
//! Each answer takes 100 ms, so ten requests run concurrently finish in
//! about 100 ms on ten connections; a second round reuses those connections.
//!
//! Run with `cargo run -p hawser-async-std --example get_async_std`.

use std::time::{Duration, Instant};

use hawser_async_std::Session;
use hawser_testkit::{Behaviour, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let srv = TestServer::start(vec![(
        "/slow",
        Behaviour::StallBeforeHead(Duration::from_millis(100)),
    )])?;
    let session = Session::builder().timeout(Duration::from_secs(5)).build()?;
    async_std::task::block_on(async {
        for round in 1..=2 {
            let started = Instant::now();
            let tasks: Vec<_> = (0..10)
                .map(|i| {
                    let (session, url) = (session.clone(), srv.url(&format!("/slow?i={i}")));
                    async_std::task::spawn(async move {
                        let resp = session.get(url).send().await?;
                        let status = resp.status();
                        let body = resp.text().await?;
                        Ok::<_, hawser_async_std::Error>((status, body))
                    })
                })
                .collect();
            for (i, task) in tasks.into_iter().enumerate() {
                let (status, body) = task.await?;
                println!("round {round} request {i}: {status} {body:?}");
            }
            let stats = session.pool_stats();
            println!(
                "round {round}: {:?} elapsed, connections opened {}, reused {}",
                started.elapsed(),
                stats.opened,
                stats.reused
            );
        }
        Ok::<_, hawser_async_std::Error>(())
    })?;
    println!("server accepted {} connections", srv.connections_accepted());
    Ok(())
}
