//! Embedding hawser-core in your own runtime: one request over a plain
//! `std::net::TcpStream`, driven by the core's run loop and nothing else.
//! Runs offline (a tiny server thread answers on 127.0.0.1 first):
//! `cargo run -p hawser-core --example embed`
use std::io::{self, BufRead, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime};

use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
use hawser_core::request::Request;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/hello", listener.local_addr()?);
    std::thread::spawn(move || -> io::Result<()> {
        let (s, _) = listener.accept()?;
        let mut lines = io::BufReader::new(&s).lines(); // the request head, up to the blank line
        while !lines.next().transpose()?.unwrap_or_default().is_empty() {}
        (&s).write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nHello\n",
        )
    });

    // One Agent per session (settings, cookie jar, auth). The seed drives
    // backoff jitter and Digest cnonces: pass a random one.
    let agent = Agent::new(Config::default());
    let opts = CallOptions {
        seed: u64::from(std::process::id()),
        ..Default::default()
    };
    let req = Request::get(url).build()?;
    let mut call = agent.start(req, opts, Instant::now(), SystemTime::now())?;
    let mut sock: Option<TcpStream> = None;
    loop {
        let input = match call.poll_output(Instant::now())? {
            Output::Acquire { .. } => Input::NoPooled, // this example keeps no pool
            Output::Connect { host, port, until } => match connect(host, port, left(until)) {
                Ok(s) => {
                    sock = Some(s);
                    Input::Connected
                }
                Err(e) => io_input(e),
            },
            Output::Transmit { data, until } => {
                let s = sock.as_mut().ok_or("no socket")?;
                s.set_write_timeout(Some(left(until)))?;
                s.write(data).map_or_else(io_input, Input::Written)
            }
            Output::Receive { until } => {
                let s = sock.as_mut().ok_or("no socket")?;
                s.set_read_timeout(Some(left(until)))?;
                match s.read(call.read_buffer()) {
                    Ok(0) => Input::Eof,
                    Ok(n) => Input::Read(n),
                    Err(e) => io_input(e),
                }
            }
            Output::SendBody { .. } => Input::BodyEnd, // no streamed body here
            Output::Wait { until } => {
                std::thread::sleep(left(until));
                continue;
            }
            Output::Release { .. } => {
                sock = None; // a real backend pools `conn` with its socket when `reuse`
                continue;
            }
            Output::Head(resp) => {
                println!("{:?} {}\n{:?}\n", resp.version, resp.status, resp.headers);
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
    Ok(())
}

/// What is left until `until` (the OS wants a non-zero timeout).
fn left(until: Instant) -> Duration {
    until
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// Try every address of `host` within `timeout`.
fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let addrs: Vec<_> = (host, port).to_socket_addrs()?.collect();
    let mut tries = addrs.iter().map(|a| TcpStream::connect_timeout(a, timeout));
    tries
        .find(Result::is_ok)
        .unwrap_or(Err(io::ErrorKind::ConnectionRefused.into()))
}

/// A timer that fired is a timeout; any other I/O error is reported as is.
fn io_input(e: io::Error) -> Input<'static> {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Input::Timeout,
        _ => Input::Failed(e),
    }
}
