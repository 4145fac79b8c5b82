//! Embedding hawser-core in your own runtime: two requests over plain
//! `std::net::TcpStream`s, driven by the core's run loop and nothing else.
//! The second reuses the first's connection from the agent's pool (after a
//! liveness check). Runs offline (a tiny server thread answers on 127.0.0.1
//! first): `cargo run -p hawser-core --example embed`
//!
//! This driver runs connection attempts one at a time (the simplest correct
//! way to answer `Connect`/`AwaitConnect`, see the `call` module docs).
use std::io::{self, BufRead, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime};

use hawser_core::call::{Agent, CallOptions, Config, ConnectId, Input, Output};
use hawser_core::request::Request;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://localhost:{}/hello", listener.local_addr()?.port());
    std::thread::spawn(move || -> io::Result<()> {
        let (s, _) = listener.accept()?;
        let mut lines = io::BufReader::new(&s).lines();
        for _ in 0..2 {
            // The request head, up to the blank line; then the answer.
            while !lines.next().transpose()?.unwrap_or_default().is_empty() {}
            (&s).write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nHello\n")?;
        }
        Ok(())
    });

    // One Agent per session: settings, cookie jar, auth, and the pool that
    // keeps idle sockets. The seed drives jitter and Digest cnonces.
    let agent: Agent<TcpStream> = Agent::new(Config::default())?;
    for seed in 1..=2 {
        let opts = CallOptions {
            seed,
            ..Default::default()
        };
        let req = Request::get(&url).build()?;
        let mut call = agent.start(req, opts, Instant::now(), SystemTime::now())?;
        let mut attempt: Option<(ConnectId, SocketAddr)> = None;
        loop {
            let input = match call.poll_output(Instant::now())? {
                Output::Resolve { host, port, .. } => match (host, port).to_socket_addrs() {
                    Ok(addrs) => Input::Resolved(addrs.collect()),
                    Err(e) => Input::Failed(e),
                },
                // One attempt at a time: remember it, run it while awaiting.
                Output::Connect { id, addr, .. } => {
                    attempt = Some((id, addr));
                    continue;
                }
                Output::AwaitConnect { until } => {
                    let Some((id, addr)) = attempt.take() else {
                        continue;
                    };
                    match TcpStream::connect_timeout(&addr, left(until)) {
                        Ok(conn) => Input::Connected { id, conn },
                        Err(error) => Input::ConnectFailed { id, error },
                    }
                }
                Output::Check { conn } => {
                    conn.set_nonblocking(true)?;
                    let r = conn.peek(&mut [0u8; 1]);
                    conn.set_nonblocking(false)?;
                    Input::from_peek(r)
                }
                Output::Transmit { conn, data, until } => {
                    conn.set_write_timeout(Some(left(until)))?;
                    Input::from_write(conn.write(data))
                }
                Output::Receive { conn, buf, until } => {
                    conn.set_read_timeout(Some(left(until)))?;
                    Input::from_read(conn.read(buf))
                }
                Output::SendBody { .. } => Input::BodyEnd, // no streamed body here
                Output::Sleep { until } => {
                    std::thread::sleep(left(until));
                    continue;
                }
                Output::Close(conn) => {
                    drop(conn);
                    continue;
                }
                Output::Head(head) => {
                    println!("{:?} {}", head.version, head.status);
                    continue;
                }
                Output::Body(bytes) => {
                    io::stdout().write_all(bytes)?;
                    let n = bytes.len();
                    call.consume(n);
                    continue;
                }
                Output::Done => break,
                other => return Err(format!("this driver does not know {other:?}").into()),
            };
            call.handle_input(input, Instant::now())?;
        }
        eprint!("{}", call.report());
    }
    let stats = agent.pool_stats();
    eprintln!("opened {}, reused {}", stats.opened, stats.reused);
    Ok(())
}

/// What is left until `until` (the OS wants a non-zero timeout).
fn left(until: Instant) -> Duration {
    until
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}
