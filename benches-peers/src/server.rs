//! The loopback server every client talks to: one thread, one epoll loop
//! (mio), fixed responses from static buffers, so that it costs little per
//! request and is never what limits a client. It runs in its own process
//! (`hawser-benches-peers serve`), so the client's `getrusage` and peak RSS
//! are the client's alone.
//!
//! Routes:
//! - `GET /small`: a keep-alive `200` with 8 headers and a 13-byte body
//!   (the response of the workspace's e2e bench);
//! - `GET /big/N`: a `200` with an N-byte body of `x`, written from a 1 MiB
//!   static buffer;
//! - `POST /upload`: the `Content-Length` body is read and discarded, then
//!   `/small`'s response; `Expect: 100-continue` gets its `100` first;
//! - `GET /stats`: `ACCEPTED CPU_US`, the connections accepted so far and
//!   the server process's CPU time in µs (then close);
//! - anything else: `404`.
//!
//! A request with `Connection: close` is answered with `Connection: close`
//! and the server closes the connection (so TIME_WAIT lands on the server's
//! side and the client cannot run out of ephemeral ports).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

/// The 13-byte keep-alive response (as in `hawser_benches::RESPONSE_200`).
pub const RESPONSE_200: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Fri, 27 Nov 2026 05:00:00 GMT\r\n\
Server: hawser-bench\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Cache-Control: no-cache\r\n\
X-Request-Id: 0123456789abcdef\r\n\
Vary: Accept-Encoding\r\n\
Connection: keep-alive\r\n\
Content-Length: 13\r\n\
\r\n\
Hello, world!";

/// The same with `Connection: close`.
const RESPONSE_200_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Fri, 27 Nov 2026 05:00:00 GMT\r\n\
Server: hawser-bench\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Cache-Control: no-cache\r\n\
X-Request-Id: 0123456789abcdef\r\n\
Vary: Accept-Encoding\r\n\
Connection: close\r\n\
Content-Length: 13\r\n\
\r\n\
Hello, world!";

pub const BODY_LEN: u64 = 13;

const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
const MAX_HEAD: usize = 16 * 1024;
const LISTENER: Token = Token(usize::MAX);

/// What is left to write of one response.
enum Out {
    Static(&'static [u8], usize),
    Owned(Vec<u8>, usize),
    /// `n` more bytes of the fill body.
    Fill(u64),
}

enum State {
    Head,
    /// Discarding a request body: bytes left, then whether to close.
    Body {
        left: u64,
        close: bool,
    },
}

struct Conn {
    stream: TcpStream,
    head: Vec<u8>,
    state: State,
    out: VecDeque<Out>,
    close_after: bool,
}

/// Bind `127.0.0.1:0`; the caller then runs [`serve`].
pub fn bind() -> io::Result<(TcpListener, SocketAddr)> {
    let l = TcpListener::bind("127.0.0.1:0".parse().expect("literal address"))?;
    let a = l.local_addr()?;
    Ok((l, a))
}

/// Serve forever (the process is killed, or its stdin closes; see main).
pub fn serve(mut listener: TcpListener) -> io::Result<()> {
    let fill: &'static [u8] = Box::leak(vec![b'x'; 1 << 20].into_boxed_slice());
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(1024);
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut accepted: u64 = 0;
    let mut scratch = vec![0u8; 256 * 1024];
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for ev in events.iter() {
            if ev.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            accepted += 1;
                            stream.set_nodelay(true)?;
                            let i = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            poll.registry().register(
                                &mut stream,
                                Token(i),
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            conns[i] = Some(Conn {
                                stream,
                                head: Vec::with_capacity(1024),
                                state: State::Head,
                                out: VecDeque::new(),
                                close_after: false,
                            });
                            // The request may already be there (edge-triggered).
                            if !drive(
                                conns[i].as_mut().expect("just set"),
                                &mut scratch,
                                fill,
                                accepted,
                            ) {
                                drop_conn(&mut conns, &mut free, &poll, i);
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => break,
                    }
                }
                continue;
            }
            let i = ev.token().0;
            let keep = match conns.get_mut(i).and_then(Option::as_mut) {
                Some(c) => drive(c, &mut scratch, fill, accepted),
                None => continue,
            };
            if !keep {
                drop_conn(&mut conns, &mut free, &poll, i);
            }
        }
    }
}

fn drop_conn(conns: &mut [Option<Conn>], free: &mut Vec<usize>, poll: &Poll, i: usize) {
    if let Some(mut c) = conns[i].take() {
        drop(poll.registry().deregister(&mut c.stream));
        free.push(i);
    }
}

/// Read, parse and write until the socket would block. False: close it.
fn drive(c: &mut Conn, scratch: &mut [u8], fill: &'static [u8], accepted: u64) -> bool {
    loop {
        // Write what is queued first.
        match flush(c, fill) {
            Ok(true) => {}
            Ok(false) => return true, // would block; wait for WRITABLE
            Err(_) => return false,
        }
        if c.close_after {
            drop(c.stream.shutdown(std::net::Shutdown::Write));
            return false;
        }
        // Parse what we already have.
        match process(c, accepted) {
            Ok(true) => continue, // produced output or consumed input
            Ok(false) => {}
            Err(_) => return false,
        }
        // Need more bytes.
        match c.stream.read(scratch) {
            Ok(0) => return false,
            Ok(n) => match &mut c.state {
                State::Body { left, close } => {
                    let take = (n as u64).min(*left);
                    *left -= take;
                    let rest = &scratch[take as usize..n];
                    if *left == 0 {
                        let close = *close;
                        c.state = State::Head;
                        respond_upload(c, close);
                    }
                    c.head.extend_from_slice(rest);
                }
                State::Head => {
                    // (An over-long head is refused by `process`.)
                    c.head.extend_from_slice(&scratch[..n]);
                }
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn respond_upload(c: &mut Conn, close: bool) {
    if close {
        c.out.push_back(Out::Static(RESPONSE_200_CLOSE, 0));
        c.close_after = true;
    } else {
        c.out.push_back(Out::Static(RESPONSE_200, 0));
    }
}

/// Parse one request head from `c.head` if complete. True if it did
/// something (so the caller loops).
fn process(c: &mut Conn, accepted: u64) -> Result<bool, ()> {
    if !matches!(c.state, State::Head) || c.head.is_empty() || c.close_after {
        return Ok(false);
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let n = match req.parse(&c.head) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if c.head.len() <= MAX_HEAD => return Ok(false),
        Ok(httparse::Status::Partial) => return Err(()),
        Err(_) => return Err(()),
    };
    let mut close = false;
    let mut length: u64 = 0;
    let mut expect = false;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") {
            close = h
                .value
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
        } else if h.name.eq_ignore_ascii_case("content-length") {
            length = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or(())?;
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // The clients here all send in-memory bodies with a length.
            return Err(());
        } else if h.name.eq_ignore_ascii_case("expect") {
            expect = h.value.eq_ignore_ascii_case(b"100-continue");
        }
    }
    enum Route {
        Upload,
        Small,
        Big(u64),
        Stats,
        Other,
    }
    let route = match (req.method.unwrap_or(""), req.path.unwrap_or("")) {
        ("POST", "/upload") => Route::Upload,
        ("GET", "/small") => Route::Small,
        ("GET", "/stats") => Route::Stats,
        ("GET", p) => match p.strip_prefix("/big/") {
            Some(len) => Route::Big(len.parse().map_err(|_| ())?),
            None => Route::Other,
        },
        _ => Route::Other,
    };
    if let Route::Upload = route {
        if expect {
            c.out.push_back(Out::Static(CONTINUE, 0));
        }
        let have = (c.head.len() - n) as u64;
        let take = have.min(length);
        c.head.drain(..n + take as usize);
        if take == length {
            respond_upload(c, close);
        } else {
            c.state = State::Body {
                left: length - take,
                close,
            };
        }
        return Ok(true);
    }
    c.head.drain(..n);
    if let Route::Small = route {
        c.out.push_back(Out::Static(
            if close {
                RESPONSE_200_CLOSE
            } else {
                RESPONSE_200
            },
            0,
        ));
    } else if let Route::Big(len) = route {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
             Connection: {}\r\nContent-Length: {len}\r\n\r\n",
            if close { "close" } else { "keep-alive" }
        );
        c.out.push_back(Out::Owned(head.into_bytes(), 0));
        c.out.push_back(Out::Fill(len));
    } else if let Route::Stats = route {
        let body = format!("{accepted} {}", crate::sys::usage().cpu.as_micros());
        let r = format!(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        c.out.push_back(Out::Owned(r.into_bytes(), 0));
        close = true;
    } else {
        c.out.push_back(Out::Static(NOT_FOUND, 0));
    }
    c.close_after = close;
    Ok(true)
}

/// Write queued output. Ok(true): all written; Ok(false): would block.
fn flush(c: &mut Conn, fill: &'static [u8]) -> io::Result<bool> {
    while let Some(front) = c.out.front_mut() {
        let done = match front {
            Out::Static(b, pos) => write_some(&mut c.stream, b, pos)?,
            Out::Owned(b, pos) => write_some(&mut c.stream, b, pos)?,
            Out::Fill(left) => loop {
                if *left == 0 {
                    break Some(true);
                }
                let k = (*left).min(fill.len() as u64) as usize;
                match c.stream.write(&fill[..k]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => *left -= n as u64,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            },
        };
        match done {
            Some(true) => {
                c.out.pop_front();
            }
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// Some(true) when `b[pos..]` is all written, None when it would block.
fn write_some(s: &mut TcpStream, b: &[u8], pos: &mut usize) -> io::Result<Option<bool>> {
    while *pos < b.len() {
        match s.write(&b[*pos..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *pos += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(true))
}
