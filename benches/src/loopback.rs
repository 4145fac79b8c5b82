//! The loopback fixtures of the end-to-end benchmark (`benches/e2e.rs`): a
//! small keep-alive HTTP/1.1 server on std threads with fixed responses, and
//! the raw baseline client (one hand-written GET over a `TcpStream`, parsed
//! with httparse) that the real clients are measured against.
//!
//! ```
//! use hawser_benches::loopback::{RawClient, Server, BIG_LEN, BIG_PATH, SMALL_PATH};
//!
//! let server = Server::start()?;
//! let mut client = RawClient::keep_alive(server.addr());
//! let mut scratch = vec![0u8; 64 * 1024];
//! assert_eq!(client.get(SMALL_PATH, &mut scratch, |_| ())?, 13);
//! assert_eq!(client.get(BIG_PATH, &mut scratch, |_| ())?, BIG_LEN as u64);
//! assert_eq!(server.connections_accepted(), 1);
//! drop(server); // stops the accept loop and every connection thread
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::RESPONSE_200;

/// The path answered with [`RESPONSE_200`] (a 13-byte body).
pub const SMALL_PATH: &str = "/small";
/// The path answered with a [`BIG_LEN`]-byte body.
pub const BIG_PATH: &str = "/big";
/// The body length of the [`BIG_PATH`] response: 1 MiB.
pub const BIG_LEN: usize = 1 << 20;
/// Every byte of the [`BIG_PATH`] body.
pub const BIG_FILL: u8 = b'x';

/// A request head longer than this closes the connection (keeps a peer from
/// growing the server's buffer without bound).
const MAX_HEAD: usize = 16 * 1024;
/// How long [`Server`]'s drop waits for connection threads to notice the
/// shutdown before it stops waiting (they are then left to the process exit).
const STOP_GRACE: Duration = Duration::from_secs(5);

const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/// The live connections, so that stopping can shut each one down (which
/// unblocks its thread's read) and then wait for the threads to finish.
#[derive(Default)]
struct Live {
    streams: Mutex<HashMap<u64, TcpStream>>,
    gone: Condvar,
}

impl Live {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A loopback HTTP/1.1 server: one thread accepts on `127.0.0.1:0`, one
/// thread per connection serves keep-alive GETs with fixed responses:
/// [`SMALL_PATH`] gets [`RESPONSE_200`], [`BIG_PATH`] a 1 MiB body, anything
/// else a 404. A request with `Connection: close` is answered, then the
/// connection is closed. Dropping the server stops it: the accept loop
/// ends, open connections are shut down and their threads joined.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicU64>,
    live: Arc<Live>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Bind `127.0.0.1:0` and start serving.
    pub fn start() -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicU64::new(0));
        let live = Arc::new(Live::default());
        let big: Arc<[u8]> = big_response().into();
        let acceptor = {
            let (stop, accepted, live) = (stop.clone(), accepted.clone(), live.clone());
            std::thread::Builder::new()
                .name("e2e-accept".into())
                .spawn(move || accept_loop(listener, &stop, &accepted, &live, &big))?
        };
        Ok(Server {
            addr,
            stop,
            accepted,
            live,
            acceptor: Some(acceptor),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many connections were accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // `accept` blocks; a connection of our own wakes it to see the flag.
        drop(TcpStream::connect(self.addr));
        if let Some(acceptor) = self.acceptor.take() {
            drop(acceptor.join());
        }
        let mut streams = self.live.lock();
        for s in streams.values() {
            drop(s.shutdown(Shutdown::Both));
        }
        while !streams.is_empty() {
            let (guard, wait) = self
                .live
                .gone
                .wait_timeout(streams, STOP_GRACE)
                .unwrap_or_else(PoisonError::into_inner);
            streams = guard;
            if wait.timed_out() {
                break;
            }
        }
    }
}

fn big_response() -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
         Connection: keep-alive\r\nContent-Length: {BIG_LEN}\r\n\r\n"
    );
    let mut out = Vec::with_capacity(head.len() + BIG_LEN);
    out.extend_from_slice(head.as_bytes());
    out.resize(head.len() + BIG_LEN, BIG_FILL);
    out
}

fn accept_loop(
    listener: TcpListener,
    stop: &AtomicBool,
    accepted: &AtomicU64,
    live: &Arc<Live>,
    big: &Arc<[u8]>,
) {
    let mut next_id = 0u64;
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // A failed accept (e.g. the peer reset first) concerns that peer only.
        let Ok(stream) = conn else { continue };
        accepted.fetch_add(1, Ordering::Relaxed);
        let Ok(handle) = stream.try_clone() else {
            continue;
        };
        let id = next_id;
        next_id += 1;
        // Registered before the thread starts, so a stop that joined this
        // loop sees every connection it has to shut down.
        live.lock().insert(id, handle);
        let (live2, big) = (live.clone(), big.clone());
        let spawned = std::thread::Builder::new()
            .name("e2e-conn".into())
            .spawn(move || {
                // An I/O error ends this connection only; the client sees it.
                drop(serve(stream, &big));
                live2.lock().remove(&id);
                live2.gone.notify_all();
            });
        if spawned.is_err() {
            live.lock().remove(&id);
        }
    }
}

/// Serve keep-alive requests on one connection until EOF, an error, a
/// malformed or oversized head, or `Connection: close`.
fn serve(mut stream: TcpStream, big: &[u8]) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        let parsed = match req.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => {
                let close = req.headers.iter().any(|h| {
                    h.name.eq_ignore_ascii_case("connection")
                        && h.value.eq_ignore_ascii_case(b"close")
                });
                let response = match req.path {
                    Some(SMALL_PATH) => RESPONSE_200,
                    Some(BIG_PATH) => big,
                    _ => NOT_FOUND,
                };
                Some((n, close, response))
            }
            Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => None,
            Ok(httparse::Status::Partial) | Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "bad request head",
                ))
            }
        };
        match parsed {
            Some((n, close, response)) => {
                stream.write_all(response)?;
                if close {
                    return stream.shutdown(Shutdown::Write);
                }
                // The benchmark's requests have no body; keep what follows
                // (a pipelined request) for the next round.
                buf.drain(..n);
            }
            None => match stream.read(&mut chunk)? {
                0 => return Ok(()),
                k => buf.extend_from_slice(chunk.get(..k).unwrap_or_default()),
            },
        }
    }
}

/// The raw baseline: a hand-written `GET` over a std `TcpStream`, the
/// response head parsed with httparse, the body framed by `Content-Length`.
/// It does what any client must do and nothing more (no pool, no policy).
///
/// ```
/// use hawser_benches::loopback::{RawClient, Server, SMALL_PATH};
///
/// let server = Server::start()?;
/// let mut once = RawClient::one_off(server.addr());
/// let mut body = Vec::new();
/// let mut scratch = [0u8; 1024];
/// once.get(SMALL_PATH, &mut scratch, |b| body.extend_from_slice(b))?;
/// once.get(SMALL_PATH, &mut scratch, |_| ())?;
/// assert_eq!(body, b"Hello, world!");
/// assert_eq!(server.connections_accepted(), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RawClient {
    addr: SocketAddr,
    keep_alive: bool,
    stream: Option<TcpStream>,
    req: Vec<u8>,
    buf: Vec<u8>,
}

impl RawClient {
    /// A client that keeps its connection open between requests.
    pub fn keep_alive(addr: SocketAddr) -> RawClient {
        RawClient::new(addr, true)
    }

    /// A client that connects afresh for every request and drops the
    /// connection after the body.
    pub fn one_off(addr: SocketAddr) -> RawClient {
        RawClient::new(addr, false)
    }

    fn new(addr: SocketAddr, keep_alive: bool) -> RawClient {
        RawClient {
            addr,
            keep_alive,
            stream: None,
            req: Vec::with_capacity(256),
            buf: Vec::with_capacity(4096),
        }
    }

    /// The server address this client talks to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET path`; the body is read through `scratch` and handed to
    /// `on_body` piece by piece. Returns the body length. A response that
    /// is not `200` with a `Content-Length`, or a head over 16 KiB, is an
    /// `InvalidData` error; an early EOF is `UnexpectedEof`.
    pub fn get(
        &mut self,
        path: &str,
        scratch: &mut [u8],
        mut on_body: impl FnMut(&[u8]),
    ) -> io::Result<u64> {
        let mut stream = match self.stream.take() {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(self.addr)?;
                s.set_nodelay(true)?;
                s
            }
        };
        self.req.clear();
        write!(
            self.req,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: raw\r\nAccept: */*\r\n\r\n",
            self.addr
        )?;
        stream.write_all(&self.req)?;

        self.buf.clear();
        let (head_len, body_len, close) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    if resp.code != Some(200) {
                        return Err(invalid("the status is not 200"));
                    }
                    let mut length = None;
                    let mut close = false;
                    for h in resp.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            length = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<u64>().ok());
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            close = h.value.eq_ignore_ascii_case(b"close");
                        }
                    }
                    let length = length.ok_or_else(|| invalid("no valid Content-Length"))?;
                    break (n, length, close);
                }
                Ok(httparse::Status::Partial) if self.buf.len() <= MAX_HEAD => {
                    let k = stream.read(scratch)?;
                    if k == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    self.buf
                        .extend_from_slice(scratch.get(..k).unwrap_or_default());
                }
                Ok(httparse::Status::Partial) => return Err(invalid("response head too long")),
                Err(e) => return Err(invalid(&format!("bad response head: {e}"))),
            }
        };

        // Body bytes that arrived with the head.
        let early = self.buf.get(head_len..).unwrap_or_default();
        if early.len() as u64 > body_len {
            return Err(invalid("more bytes than Content-Length"));
        }
        on_body(early);
        let mut left = body_len - early.len() as u64;
        while left > 0 {
            let want = scratch
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            let piece = scratch
                .get_mut(..want)
                .ok_or_else(|| invalid("empty scratch buffer"))?;
            if piece.is_empty() {
                return Err(invalid("empty scratch buffer"));
            }
            let k = stream.read(piece)?;
            if k == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            on_body(piece.get(..k).unwrap_or_default());
            left -= k as u64;
        }
        if self.keep_alive && !close {
            self.stream = Some(stream);
        }
        Ok(body_len)
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> Vec<u8> {
        vec![0u8; 16 * 1024]
    }

    #[test]
    fn small_and_big_bodies_arrive_whole_on_one_connection() {
        let server = Server::start().unwrap();
        let mut c = RawClient::keep_alive(server.addr());
        let mut s = scratch();
        let mut small = Vec::new();
        assert_eq!(
            c.get(SMALL_PATH, &mut s, |b| small.extend_from_slice(b))
                .unwrap(),
            13
        );
        assert_eq!(small, crate::BODY);
        let mut seen = 0usize;
        let mut all_fill = true;
        let n = c
            .get(BIG_PATH, &mut s, |b| {
                seen += b.len();
                all_fill &= b.iter().all(|&x| x == BIG_FILL);
            })
            .unwrap();
        assert_eq!((n, seen, all_fill), (BIG_LEN as u64, BIG_LEN, true));
        assert_eq!(server.connections_accepted(), 1);
    }

    #[test]
    fn one_off_client_opens_a_connection_per_request() {
        let server = Server::start().unwrap();
        let mut c = RawClient::one_off(server.addr());
        let mut s = scratch();
        for _ in 0..3 {
            c.get(SMALL_PATH, &mut s, |_| ()).unwrap();
        }
        assert_eq!(server.connections_accepted(), 3);
    }

    #[test]
    fn unknown_path_is_404_and_the_client_says_so() {
        let server = Server::start().unwrap();
        let mut c = RawClient::keep_alive(server.addr());
        let err = c.get("/nope", &mut scratch(), |_| ()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn connection_close_is_answered_then_closed() {
        let server = Server::start().unwrap();
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert_eq!(got, RESPONSE_200);
    }

    #[test]
    fn pipelined_requests_are_answered_in_order() {
        let server = Server::start().unwrap();
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(
            b"GET /small HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert_eq!(got, [RESPONSE_200, NOT_FOUND].concat());
    }

    #[test]
    fn garbage_or_oversized_heads_close_the_connection() {
        let server = Server::start().unwrap();
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"\x00\x01 not http\r\n\r\n").unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert!(got.is_empty());

        let mut s = TcpStream::connect(server.addr()).unwrap();
        let long = format!("GET /small HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD + 10));
        // The server may close while we are still writing; only its answer
        // (nothing, then EOF) matters.
        drop(s.write_all(long.as_bytes()));
        let mut got = Vec::new();
        drop(s.read_to_end(&mut got));
        assert!(got.is_empty());
    }

    #[test]
    fn truncated_response_is_unexpected_eof() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = [0u8; 512];
            let _ = s.read(&mut req).unwrap();
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
                .unwrap();
        });
        let mut c = RawClient::keep_alive(addr);
        let err = c.get("/", &mut scratch(), |_| ()).unwrap_err();
        peer.join().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn drop_stops_the_server_with_a_connection_still_open() {
        let server = Server::start().unwrap();
        let addr = server.addr();
        let mut c = RawClient::keep_alive(addr);
        c.get(SMALL_PATH, &mut scratch(), |_| ()).unwrap();
        let live = server.live.clone();
        drop(server);
        assert!(live.lock().is_empty(), "connection threads were joined");
        assert!(
            TcpStream::connect(addr).is_err(),
            "nothing listens any more"
        );
        // The kept connection was shut down by the server.
        assert!(c.get(SMALL_PATH, &mut scratch(), |_| ()).is_err());
    }
}
