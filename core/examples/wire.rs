//! hawser-core's HTTP/1.1 wire layer, driven by hand over a real socket.
//!
//! Starts a tiny in-process server on 127.0.0.1 and sends it two requests on
//! one keep-alive connection: the first answer is `Content-Length` framed,
//! the second is chunked with a trailer. Prints what goes over the wire and
//! what the core makes of it.
//!
//! Run: `cargo run --release -p hawser-core --example wire`

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use hawser_core::h1::{self, Event, Limits, RequestFraming, ResponseReader, TargetForm};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const ANSWERS: [&[u8]; 2] = [
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nKeep-Alive: timeout=5\r\n\r\nHello, world!",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n\
7\r\nchunked\r\n6\r\n body!\r\n0\r\nx-checksum: 1234\r\n\r\n",
];

/// The scripted server: one connection, one answer per request head.
fn serve(listener: TcpListener) -> Result<()> {
    let (mut conn, _) = listener.accept()?;
    let mut pending = Vec::new();
    for answer in ANSWERS {
        // Read until the end of a request head (these requests have no body).
        while !pending.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut chunk = [0u8; 1024];
            let n = conn.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&chunk[..n]);
        }
        let end = pending
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |i| i + 4);
        pending.drain(..end);
        // Answer in two writes to show that a split does not matter.
        let (a, b) = answer.split_at(answer.len() / 2);
        conn.write_all(a)?;
        conn.flush()?;
        thread::sleep(Duration::from_millis(20));
        conn.write_all(b)?;
    }
    Ok(())
}

/// Shows bytes with CR and LF visible, one wire line per printed line.
fn show(label: &str, bytes: &[u8]) {
    println!("{label}");
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let text: String = line
            .iter()
            .map(|&b| match b {
                b'\r' => "\\r".to_string(),
                b'\n' => "\\n".to_string(),
                0x20..=0x7e => (b as char).to_string(),
                _ => format!("\\x{b:02x}"),
            })
            .collect();
        println!("    {text}");
    }
}

fn main() -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = thread::spawn(move || serve(listener).map_err(|e| e.to_string()));

    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    println!("connected to the local server at {addr}\n");

    let mut out = Vec::with_capacity(512); // reused for every request head
    let mut inbuf: Vec<u8> = Vec::with_capacity(4096); // bytes read, not yet consumed
    let mut reader = ResponseReader::new(h1::RequestInfo::default(), Limits::default());

    for (i, path) in ["/hello", "/chunked"].into_iter().enumerate() {
        let req = http::Request::get(format!("http://{addr}{path}"))
            .header("user-agent", "hawser-wire-demo")
            .header("accept", "text/plain")
            .body(())?;
        out.clear();
        let info = h1::encode_request(&req, TargetForm::Origin, RequestFraming::None, &mut out)?;
        reader.reset(info);
        println!("── exchange {} ──────────────────────────────", i + 1);
        show("sent:", &out);
        stream.write_all(&out)?;

        let mut body = Vec::new();
        let mut reads = 0;
        loop {
            let (used, event) = reader.read(&inbuf)?;
            let mut need_input = false;
            match event {
                Event::NeedInput => need_input = true,
                Event::Continue => println!("100 Continue"),
                Event::Head(head) => {
                    println!(
                        "head: {:?} {}  (body framing: {:?})",
                        head.version, head.status, head.framing
                    );
                    for (name, value) in &head.headers {
                        println!("    {name}: {}", value.to_str().unwrap_or("<binary>"));
                    }
                }
                Event::Body(bytes) => {
                    println!("body piece: {:?}", String::from_utf8_lossy(bytes));
                    body.extend_from_slice(bytes);
                }
                Event::Trailers(trailers) => {
                    for (name, value) in &trailers {
                        println!("trailer: {name}: {}", value.to_str().unwrap_or("<binary>"));
                    }
                }
                Event::Done => {
                    inbuf.drain(..used);
                    break;
                }
            }
            inbuf.drain(..used);
            if need_input && used == 0 {
                let mut chunk = [0u8; 2048];
                let n = stream.read(&mut chunk)?;
                reads += 1;
                if n == 0 {
                    reader.eof()?;
                    break;
                }
                inbuf.extend_from_slice(&chunk[..n]);
            }
        }
        println!(
            "body: {:?} ({} bytes, {reads} socket reads)",
            String::from_utf8_lossy(&body),
            body.len()
        );
        println!(
            "reusable: {}   server keep-alive hint: {:?}\n",
            reader.reusable() && inbuf.is_empty(),
            reader.keep_alive_timeout()
        );
    }
    drop(stream);
    server.join().map_err(|_| "server thread panicked")??;
    Ok(())
}
