//! Stream a large download through `std::io::Read` with a progress bar,
//! without holding the body in memory.
//!
//! requests: `stream=True` + `iter_content`. Here the `Response` is a
//! `Read`, so `std::io::copy` streams it into any `Write` (a file, a hasher,
//! or a sink as here); `on_progress` reports bytes read so far and the
//! expected total.
//!
//! Run: `cargo run --release -p hawser-std --example download_progress`

use std::io::{self, Write};
use std::time::Instant;

use hawser_std::Session;
use hawser_testkit::{Behaviour, TestServer};

const SIZE: u64 = 64 * 1024 * 1024;
const BAR: usize = 40;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let srv = TestServer::builder()
        .route(
            "/big.bin",
            Behaviour::Stream {
                len: SIZE,
                chunked: false,
            },
        )
        .start()?;

    let session = Session::new();
    let started = Instant::now();
    let mut last_drawn = usize::MAX;
    let resp = session
        .get(srv.url("/big.bin"))
        .send()?
        .error_for_status()?
        .on_progress(move |done, total| {
            // Redraw only when the bar changes: a terminal write per chunk
            // would cost more than the download.
            let Some(total) = total.filter(|t| *t > 0) else {
                return;
            };
            let filled = ((done as f64 / total as f64) * BAR as f64) as usize;
            if filled != last_drawn {
                last_drawn = filled;
                let secs = started.elapsed().as_secs_f64().max(1e-9);
                eprint!(
                    "\r[{}{}] {:>5.1}% {:>6.1} MiB {:>7.1} MiB/s",
                    "#".repeat(filled),
                    " ".repeat(BAR - filled.min(BAR)),
                    done as f64 * 100.0 / total as f64,
                    mib(done),
                    mib(done) / secs
                );
            }
        });
    println!(
        "GET {} -> Content-Length {} bytes",
        srv.url("/big.bin"),
        SIZE
    );

    // Stream into a sink; a real program would pass a `File` here.
    let mut reader = resp;
    let copied = io::copy(&mut reader, &mut io::sink())?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    io::stdout().flush()?;
    println!(
        "downloaded {:.1} MiB in {:.2} s: {:.1} MiB/s (complete: {})",
        mib(copied),
        secs,
        mib(copied) / secs.max(1e-9),
        copied == SIZE
    );
    println!(
        "the connection went back to the pool after the last byte: {} idle",
        session.pool_stats().idle
    );
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
