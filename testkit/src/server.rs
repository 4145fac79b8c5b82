//! The loopback test server: routes, scripted behaviours, recording.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use flate2::write::GzEncoder;
use rustls::ServerConfig;

use crate::auth::{basic_ok, DigestAlgorithm, DigestState, DigestVerdict};
use crate::tls::{TestCa, TlsSetupError, TlsVariant};
use crate::wire::{head_bytes, is_timeout, Conn, Head, HeadRead, Stream, Waited};

/// A fixed response: status, headers and body.
///
/// `Content-Length` is added unless the headers set `Content-Length` or
/// `Transfer-Encoding` themselves. In header values and the body, the
/// placeholders `{origin}` (`http(s)://127.0.0.1:PORT`) and `{localhost}`
/// (`http(s)://localhost:PORT`) are replaced by the server's own origins,
/// so a test can redirect to another origin before the port is known.
///
/// ```
/// use hawser_testkit::Reply;
/// let r = Reply::new(503).header("Retry-After", "1").body("busy");
/// assert_eq!(r.status, 503);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `200 OK` with a text body.
    pub fn text(body: &str) -> Reply {
        Reply::new(200)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }
}

/// A scripted handler: sees the recorded request, answers a [`Reply`].
pub type Handler = Arc<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

/// What a route does. Each variant names one scripted behaviour.
#[derive(Clone)]
pub enum Behaviour {
    /// Answers 200 with the request as JSON: `{"method","target","path",
    /// "headers":[[name,value],..],"body" (UTF-8 lossy),"body_len","connection"}`.
    Echo,
    /// Answers 200 with the request as plain text: the request line, the
    /// headers, a blank line and the body, as received.
    EchoText,
    /// A fixed response.
    Reply(Reply),
    /// Any response computed from the request.
    Custom(Handler),
    /// Sends a head announcing `content_length` body bytes, then closes
    /// without sending any body.
    CloseAfterHead {
        /// The announced Content-Length.
        content_length: usize,
    },
    /// Sends a chunked response whose chunks are `chunks`, then closes
    /// without the terminating zero-size chunk.
    TruncatedChunked {
        /// The chunks that are sent.
        chunks: Vec<Vec<u8>>,
    },
    /// Announces `declared` bytes, sends `sent` (< declared), then closes.
    ShortBody {
        /// The announced Content-Length.
        declared: usize,
        /// How many body bytes are actually sent.
        sent: usize,
    },
    /// Sends a head with `Content-Length: total`, then the body in pieces
    /// of `chunk` bytes every `every` ([`pattern`] bytes).
    Drip {
        /// Body length.
        total: usize,
        /// Bytes per piece.
        chunk: usize,
        /// Pause before each piece.
        every: Duration,
    },
    /// Waits `delay` after reading the request, then answers 200 "late".
    StallBeforeHead(Duration),
    /// Sends the head (`Content-Length: 4`), waits `delay`, then sends "late".
    StallAfterHead(Duration),
    /// Resets the connection (RST) as soon as the request head arrives,
    /// before reading it. The request is still recorded (with `reset`).
    ResetBeforeRequest,
    /// Reads the whole request (recorded), then resets the connection.
    ResetAfterRequest,
    /// Answers 200 "ok" as a keep-alive response (with `Keep-Alive:
    /// timeout=N` if `hint` is set), then closes the connection if no new
    /// request arrives within `idle`: a pooled connection goes stale.
    CloseIdle {
        /// How long the connection may sit idle before the server closes it.
        idle: Duration,
        /// The `Keep-Alive: timeout=` value to advertise, if any.
        hint: Option<u64>,
    },
    /// A 200 whose head is larger than `bytes` (many `X-Filler` headers).
    HugeHead {
        /// Minimum head size in bytes.
        bytes: usize,
    },
    /// Sends `HTTP/1.1 2x0 OK` and closes.
    MalformedStatusLine,
    /// Sends these bytes verbatim and closes.
    Raw(Vec<u8>),
    /// Sends these bytes verbatim (whatever the method, even a HEAD) and
    /// keeps the connection open for the next request, unlike
    /// [`Behaviour::Raw`]. For answers a client must frame by itself, e.g.
    /// a HEAD, 204 or 304 answer that wrongly carries a body: the stray
    /// bytes sit on a connection that looks reusable.
    RawKeepAlive(Vec<u8>),
    /// A 200 carrying both `Content-Length: 3` and `Transfer-Encoding:
    /// chunked`; the chunked body is "hello world". Closes afterwards.
    ContentLengthAndChunked,
    /// A redirect with `status` to `location` (placeholders as in [`Reply`]).
    Redirect {
        /// 301, 302, 303, 307, 308 or anything else.
        status: u16,
        /// The `Location` value.
        location: String,
    },
    /// For a prefix route `/p/`: `/p/N` redirects (with `status`) to
    /// `/p/N-1`; `/p/0` answers 200 "done". A chain of N redirects.
    RedirectChain {
        /// The redirect status.
        status: u16,
    },
    /// The n-th request to this route (counting from 0) gets element n; the
    /// last element repeats.
    Sequence(Vec<Behaviour>),
    /// 401 with `WWW-Authenticate: Basic realm=..` unless the credentials
    /// match; then echoes the request (as [`Behaviour::Echo`]).
    BasicAuth {
        /// Expected user.
        user: String,
        /// Expected password.
        pass: String,
    },
    /// Digest auth (qop=auth). Verifies the response hash, the realm, the
    /// uri, that the nonce was issued here and that nc increases. With
    /// `stale_once`, the first valid answer gets a fresh challenge with
    /// `stale=true`. On success echoes the request (as [`Behaviour::Echo`]).
    DigestAuth {
        /// Expected user.
        user: String,
        /// Expected password.
        pass: String,
        /// MD5 or SHA-256.
        algorithm: DigestAlgorithm,
        /// Issue `stale=true` once.
        stale_once: bool,
    },
    /// Sends these `Set-Cookie` values; the body is the `Cookie` header the
    /// request carried (empty if none).
    Cookies(Vec<String>),
    /// With `Expect: 100-continue`: if `reject` is None, sends `100
    /// Continue`, reads the body and echoes; otherwise answers `reject`
    /// (e.g. 417) at once without reading the body, and closes.
    Expect100 {
        /// The final status that rejects the body, if any.
        reject: Option<u16>,
    },
    /// Serves `body` gzip-encoded (`Content-Encoding: gzip`) when the
    /// request's `Accept-Encoding` allows gzip, plain otherwise.
    Gzip(Vec<u8>),
    /// A large body of [`pattern`] bytes, `len` long, chunked or with a
    /// Content-Length, written in 64 KiB pieces.
    Stream {
        /// Body length in bytes.
        len: u64,
        /// Chunked transfer coding instead of Content-Length.
        chunked: bool,
    },
    /// Answers 200 with `body` as a normal keep-alive response
    /// (Content-Length); then, if no new request has arrived on the
    /// connection within `after`, writes `bytes` unsolicited on it, and
    /// keeps serving: a request that arrives later is handled normally
    /// (its answer follows the injected bytes). A client must never read
    /// such bytes on an idle pooled connection as the next response.
    Inject {
        /// The genuine response body.
        body: Vec<u8>,
        /// How long the connection must sit idle before the injection.
        after: Duration,
        /// What is written unsolicited (e.g. a complete fake response).
        bytes: Vec<u8>,
    },
    /// A hostile server's body that never ends: a 200 with
    /// `Transfer-Encoding: chunked` whose chunks (64 KiB of [`pattern`]
    /// bytes each) keep coming until a write fails, i.e. the client closed
    /// or reset the connection, or the server stops. The terminating
    /// zero-size chunk is never sent. Each chunk's payload is counted once
    /// written ([`TestServer::bytes_written`]), so a test can see how much
    /// the server got out before the client stopped (the connection's send
    /// buffer is kept small, 256 KiB, so the count stays close to what the
    /// client received); once the client has gone, the connection closes on
    /// the server side too ([`TestServer::open_connections`] drops).
    ///
    /// A safety net for a client that reads forever: after 256 MiB the
    /// server gives up and closes mid-body (a truncated body, never a
    /// complete one), so a test without a cap fails instead of exhausting
    /// memory. A HEAD gets the head only.
    Endless,
    /// A decompression bomb: when the request's `Accept-Encoding` allows
    /// gzip, a 200 with `Content-Encoding: gzip` and `Transfer-Encoding:
    /// chunked` whose body decompresses to `decoded` zero bytes (about a
    /// thousand times smaller on the wire); otherwise the `decoded` zero
    /// bytes themselves, chunked, like [`Behaviour::Gzip`]'s plain answer.
    /// The body is compressed and written on the fly, never held in memory
    /// whole; the bytes on the wire (compressed) are counted
    /// ([`TestServer::bytes_written`]). A write failing (the client gave
    /// up) ends the connection.
    GzipBomb {
        /// Size of the decompressed body, in bytes.
        decoded: u64,
    },
}

/// Where [`Behaviour::Endless`] gives up on a client that never stops reading.
const ENDLESS_SAFETY_LIMIT: u64 = 256 << 20;

impl Behaviour {
    /// The variant's name, for logs and failure messages.
    pub fn name(&self) -> &'static str {
        match self {
            Behaviour::Echo => "Echo",
            Behaviour::EchoText => "EchoText",
            Behaviour::Reply(_) => "Reply",
            Behaviour::Custom(_) => "Custom",
            Behaviour::CloseAfterHead { .. } => "CloseAfterHead",
            Behaviour::TruncatedChunked { .. } => "TruncatedChunked",
            Behaviour::ShortBody { .. } => "ShortBody",
            Behaviour::Drip { .. } => "Drip",
            Behaviour::StallBeforeHead(_) => "StallBeforeHead",
            Behaviour::StallAfterHead(_) => "StallAfterHead",
            Behaviour::ResetBeforeRequest => "ResetBeforeRequest",
            Behaviour::ResetAfterRequest => "ResetAfterRequest",
            Behaviour::CloseIdle { .. } => "CloseIdle",
            Behaviour::HugeHead { .. } => "HugeHead",
            Behaviour::MalformedStatusLine => "MalformedStatusLine",
            Behaviour::Raw(_) => "Raw",
            Behaviour::ContentLengthAndChunked => "ContentLengthAndChunked",
            Behaviour::Redirect { .. } => "Redirect",
            Behaviour::RedirectChain { .. } => "RedirectChain",
            Behaviour::Sequence(_) => "Sequence",
            Behaviour::BasicAuth { .. } => "BasicAuth",
            Behaviour::DigestAuth { .. } => "DigestAuth",
            Behaviour::Cookies(_) => "Cookies",
            Behaviour::Expect100 { .. } => "Expect100",
            Behaviour::Gzip(_) => "Gzip",
            Behaviour::Stream { .. } => "Stream",
            Behaviour::RawKeepAlive(_) => "RawKeepAlive",
            Behaviour::Inject { .. } => "Inject",
            Behaviour::Endless => "Endless",
            Behaviour::GzipBomb { .. } => "GzipBomb",
        }
    }
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Behaviour::Sequence(v) => f.debug_tuple("Sequence").field(v).finish(),
            Behaviour::Reply(r) => f.debug_tuple("Reply").field(&r.status).finish(),
            Behaviour::Redirect { status, location } => f
                .debug_struct("Redirect")
                .field("status", status)
                .field("location", location)
                .finish(),
            other => f.write_str(other.name()),
        }
    }
}

/// The deterministic byte at offset `i` of [`Behaviour::Stream`],
/// [`Behaviour::Drip`] and [`Behaviour::Endless`] bodies: the alphabet,
/// repeated (printable, so a failing comparison is readable).
///
/// ```
/// assert_eq!(hawser_testkit::pattern_byte(0), b'a');
/// assert_eq!(hawser_testkit::pattern(3), b"abc");
/// ```
pub fn pattern_byte(i: u64) -> u8 {
    b'a' + (i % 26) as u8
}

/// The first `len` bytes of the deterministic pattern.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len as u64).map(pattern_byte).collect()
}

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Method, e.g. `GET`.
    pub method: String,
    /// The request target as sent (origin-form, absolute-form or authority).
    pub target: String,
    /// The path part of the target, without query.
    pub path: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body the server read (empty if it did not read one).
    pub body: Vec<u8>,
    /// Which accepted connection carried it (1, 2, ...).
    pub connection: u64,
    /// 0 for the first request on its connection, 1 for the next, ...
    pub index_on_connection: usize,
    /// The behaviour reset the connection before reading the body.
    pub reset: bool,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Matcher {
    Exact(String),
    Prefix(String),
}

struct Route {
    matcher: Matcher,
    behaviour: Behaviour,
    hits: AtomicUsize,
    digest: Mutex<DigestState>,
    /// Response body bytes written (see [`TestServer::bytes_written`]).
    written: AtomicU64,
}

impl Route {
    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact(p) => p == path,
            Matcher::Prefix(p) => path.starts_with(p.as_str()),
        }
    }
}

/// Builds a [`TestServer`].
///
/// ```
/// use hawser_testkit::{Behaviour, Reply, TestServer};
/// let srv = TestServer::builder()
///     .route("/hello", Behaviour::Reply(Reply::text("hi")))
///     .start()
///     .unwrap();
/// assert!(srv.url("/hello").starts_with("http://127.0.0.1:"));
/// ```
pub struct TestServerBuilder {
    routes: Vec<Route>,
    idle_timeout: Duration,
    tls: Option<(Arc<TestCa>, TlsVariant)>,
}

impl Default for TestServerBuilder {
    fn default() -> Self {
        TestServerBuilder {
            routes: Vec::new(),
            idle_timeout: Duration::from_secs(5),
            tls: None,
        }
    }
}

impl TestServerBuilder {
    /// Serves `behaviour` at exactly `path` (the query is ignored).
    pub fn route(mut self, path: &str, behaviour: Behaviour) -> Self {
        self.routes.push(Route {
            matcher: Matcher::Exact(path.to_string()),
            behaviour,
            hits: AtomicUsize::new(0),
            digest: Mutex::new(DigestState::default()),
            written: AtomicU64::new(0),
        });
        self
    }

    /// Serves `behaviour` at every path starting with `prefix`. Routes are
    /// tried in the order they were added; unmatched paths get 404.
    pub fn route_prefix(mut self, prefix: &str, behaviour: Behaviour) -> Self {
        self.routes.push(Route {
            matcher: Matcher::Prefix(prefix.to_string()),
            behaviour,
            hits: AtomicUsize::new(0),
            digest: Mutex::new(DigestState::default()),
            written: AtomicU64::new(0),
        });
        self
    }

    /// How long a keep-alive connection may sit idle (default 5 s).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Serves over TLS with a certificate of `variant` issued by `ca`.
    pub fn tls(mut self, ca: Arc<TestCa>, variant: TlsVariant) -> Self {
        self.tls = Some((ca, variant));
        self
    }

    /// Binds 127.0.0.1 on an ephemeral port (and `[::1]` on the same port
    /// when IPv6 is available) and starts serving.
    pub fn start(self) -> Result<TestServer, StartError> {
        let (tls, ca_pem) = match &self.tls {
            Some((ca, v)) => (Some(ca.server_config(*v)?), Some(ca.ca_pem())),
            None => (None, None),
        };
        let (v4, v6) = bind_pair()?;
        let port = v4.local_addr()?.port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared {
            routes: self.routes,
            records: Mutex::new(Vec::new()),
            accepted: AtomicUsize::new(0),
            next_conn: AtomicU64::new(1),
            stop: Arc::new(AtomicBool::new(false)),
            open: Mutex::new(HashMap::new()),
            workers: Mutex::new(Vec::new()),
            idle_timeout: self.idle_timeout,
            tls,
            tls_failures: AtomicUsize::new(0),
            origin: format!("{scheme}://127.0.0.1:{port}"),
            localhost: format!("{scheme}://localhost:{port}"),
        });
        let addr = v4.local_addr()?;
        let addr_v6 = v6.as_ref().and_then(|l| l.local_addr().ok());
        let mut acceptors = Vec::new();
        for l in std::iter::once(v4).chain(v6) {
            l.set_nonblocking(true)?;
            let sh = shared.clone();
            acceptors.push(std::thread::spawn(move || accept_loop(l, sh)));
        }
        Ok(TestServer {
            shared,
            addr,
            addr_v6,
            acceptors,
            ca_pem,
        })
    }
}

/// Why a server could not start.
#[derive(Debug)]
pub enum StartError {
    /// Binding or configuring a socket failed.
    Io(io::Error),
    /// Certificates or the TLS config could not be made.
    Tls(TlsSetupError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Io(e) => write!(f, "test server could not start: {e}"),
            StartError::Tls(e) => write!(f, "test server could not start: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<io::Error> for StartError {
    fn from(e: io::Error) -> Self {
        StartError::Io(e)
    }
}

impl From<TlsSetupError> for StartError {
    fn from(e: TlsSetupError) -> Self {
        StartError::Tls(e)
    }
}

/// Binds 127.0.0.1:0 and tries [::1] on the same port (a few ports, since
/// the v6 port may be taken); v6 is optional.
fn bind_pair() -> io::Result<(TcpListener, Option<TcpListener>)> {
    let mut last = None;
    for _ in 0..8 {
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = v4.local_addr()?.port();
        match TcpListener::bind((Ipv6Addr::LOCALHOST, port)) {
            Ok(v6) => return Ok((v4, Some(v6))),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(v4),
            // No IPv6 on this machine: serve v4 only.
            Err(_) => return Ok((v4, None)),
        }
    }
    match last {
        Some(v4) => Ok((v4, None)),
        None => Err(io::Error::other("no port")),
    }
}

struct Shared {
    routes: Vec<Route>,
    records: Mutex<Vec<RecordedRequest>>,
    accepted: AtomicUsize,
    next_conn: AtomicU64,
    stop: Arc<AtomicBool>,
    open: Mutex<HashMap<u64, TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    idle_timeout: Duration,
    tls: Option<Arc<ServerConfig>>,
    tls_failures: AtomicUsize,
    origin: String,
    localhost: String,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking worker must not take the whole server down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running loopback server. Dropping it stops every thread it started.
///
/// ```
/// use std::io::{Read, Write};
/// use hawser_testkit::{Behaviour, TestServer};
/// let srv = TestServer::builder().route("/e", Behaviour::EchoText).start().unwrap();
/// let mut s = std::net::TcpStream::connect(srv.addr()).unwrap();
/// s.write_all(b"GET /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
/// let mut out = String::new();
/// s.read_to_string(&mut out).unwrap();
/// assert!(out.starts_with("HTTP/1.1 200 OK"));
/// assert_eq!(srv.hits("/e"), 1);
/// ```
pub struct TestServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    addr_v6: Option<SocketAddr>,
    acceptors: Vec<JoinHandle<()>>,
    ca_pem: Option<String>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl TestServer {
    /// A builder with no routes.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// Starts a plain HTTP server with `routes` (exact paths).
    pub fn start(routes: Vec<(&str, Behaviour)>) -> Result<TestServer, StartError> {
        routes
            .into_iter()
            .fold(TestServer::builder(), |b, (p, beh)| b.route(p, beh))
            .start()
    }

    /// The IPv4 loopback address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The IPv6 loopback address (same port), if IPv6 is available.
    pub fn addr_v6(&self) -> Option<SocketAddr> {
        self.addr_v6
    }

    /// `http(s)://127.0.0.1:PORT`
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// `http(s)://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.shared.origin, path)
    }

    /// The same server through the host name `localhost`: another origin.
    pub fn url_localhost(&self, path: &str) -> String {
        format!("{}{}", self.shared.localhost, path)
    }

    /// `http(s)://[::1]:PORT` + `path`, if IPv6 is available.
    pub fn url_v6(&self, path: &str) -> Option<String> {
        let scheme = if self.shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        self.addr_v6
            .map(|a| format!("{scheme}://[::1]:{}{}", a.port(), path))
    }

    /// The CA certificate (PEM) that signs this server's certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Requests received so far whose path (without query) is `path`.
    pub fn hits(&self, path: &str) -> usize {
        lock(&self.shared.records)
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.records).clone()
    }

    /// The requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        lock(&self.shared.records)
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// TCP connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections currently open (accepted and not yet closed by either side).
    pub fn open_connections(&self) -> usize {
        lock(&self.shared.open).len()
    }

    /// TLS handshakes that failed (e.g. the client rejected the certificate).
    pub fn tls_failures(&self) -> usize {
        self.shared.tls_failures.load(Ordering::SeqCst)
    }

    /// Response body bytes written so far by the route that serves `path`
    /// (the first route matching it: the one a request to `path` reaches),
    /// over every request to it. Counted by the streaming behaviours, [`Behaviour::Endless`],
    /// [`Behaviour::GzipBomb`] (the compressed bytes, as sent) and
    /// [`Behaviour::Stream`], as each piece is written (chunk framing not
    /// included); 0 for other behaviours or when no route matches. A piece
    /// counts once the kernel accepted it, not once the client read it:
    /// after a client stops reading, up to the socket buffers' worth more
    /// may still be counted.
    pub fn bytes_written(&self, path: &str) -> u64 {
        self.shared
            .routes
            .iter()
            .find(|r| r.matches(path))
            .map_or(0, |r| r.written.load(Ordering::SeqCst))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for a in self.acceptors.drain(..) {
            let _ = a.join();
        }
        for (_, s) in lock(&self.shared.open).drain() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        let workers: Vec<_> = lock(&self.shared.workers).drain(..).collect();
        for w in workers {
            let _ = w.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_nodelay(true);
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
                if let Ok(c) = stream.try_clone() {
                    lock(&shared.open).insert(id, c);
                }
                let sh = shared.clone();
                let h = std::thread::spawn(move || serve_connection(stream, id, sh));
                let mut workers = lock(&shared.workers);
                workers.retain(|w| !w.is_finished());
                workers.push(h);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn serve_connection(tcp: TcpStream, id: u64, shared: Arc<Shared>) {
    let ending = serve_requests(tcp, id, &shared);
    // Forget our clone first: a socket only closes (or resets) when its
    // last descriptor goes.
    lock(&shared.open).remove(&id);
    match ending {
        Some((conn, End::Close)) => conn.close(),
        Some((conn, End::Reset)) => conn.reset(),
        Some((conn, End::Drop)) => conn.drop_now(),
        None => {}
    }
}

enum End {
    Close,
    Reset,
    Drop,
}

fn serve_requests(tcp: TcpStream, id: u64, shared: &Shared) -> Option<(Conn, End)> {
    let stream = match &shared.tls {
        None => Stream::Plain(tcp),
        Some(cfg) => match tls_accept(tcp, cfg.clone()) {
            Ok(s) => s,
            Err(_) => {
                shared.tls_failures.fetch_add(1, Ordering::SeqCst);
                return None;
            }
        },
    };
    let mut conn = Conn::new(stream, shared.stop.clone());
    let mut index = 0usize;
    let mut idle = shared.idle_timeout;
    loop {
        let head = match conn.read_head(idle) {
            Ok(HeadRead::Head(h)) => h,
            Ok(HeadRead::Gone) | Err(_) => {
                return Some((conn, End::Drop));
            }
            Ok(HeadRead::Bad(why)) => {
                let _ = respond(&mut conn, &Reply::text(why).status_code(400), true, shared);
                return Some((conn, End::Close));
            }
        };
        conn.head_request = head.method.eq_ignore_ascii_case("HEAD");
        let route = shared.routes.iter().find(|r| r.matches(head.path()));
        let count = route
            .map(|r| r.hits.fetch_add(1, Ordering::SeqCst))
            .unwrap_or(0);
        let behaviour = route.map(|r| resolve(&r.behaviour, count));
        let mut rec = RecordedRequest {
            method: head.method.clone(),
            target: head.target.clone(),
            path: head.path().to_string(),
            headers: head.headers.clone(),
            body: Vec::new(),
            connection: id,
            index_on_connection: index,
            reset: false,
        };
        index += 1;
        match behaviour {
            Some(Behaviour::ResetBeforeRequest) => {
                rec.reset = true;
                lock(&shared.records).push(rec);
                return Some((conn, End::Reset));
            }
            Some(Behaviour::Expect100 {
                reject: Some(status),
            }) if head.expects_continue() => {
                let _ = conn.consume(head.len);
                lock(&shared.records).push(rec);
                let _ = respond(
                    &mut conn,
                    &Reply::new(*status).body("rejected"),
                    true,
                    shared,
                );
                return Some((conn, End::Close));
            }
            _ => {}
        }
        if conn.consume(head.len).is_err() {
            return Some((conn, End::Drop));
        }
        if head.expects_continue() && conn.send(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
            return Some((conn, End::Drop));
        }
        match conn.read_body(&head, Duration::from_secs(5)) {
            Ok(body) => rec.body = body,
            Err(_) => {
                lock(&shared.records).push(rec);
                let _ = respond(
                    &mut conn,
                    &Reply::text("bad request body").status_code(400),
                    true,
                    shared,
                );
                return Some((conn, End::Close));
            }
        }
        lock(&shared.records).push(rec.clone());
        let close_requested = head.wants_close();
        let next = match (behaviour, route) {
            (Some(b), Some(r)) => run(b, r, &head, &rec, &mut conn, shared, close_requested),
            _ => respond(
                &mut conn,
                &Reply::new(404).body("no such route"),
                close_requested,
                shared,
            )
            .map(|_| next_for(close_requested)),
        };
        match next {
            Ok(Next::KeepAlive) => idle = shared.idle_timeout,
            Ok(Next::KeepAliveFor(d)) => idle = d,
            Ok(Next::InjectAfter(after, bytes)) => {
                idle = shared.idle_timeout;
                match conn.wait_for_data(after) {
                    Ok(Waited::Quiet) => {
                        if conn.send(&bytes).is_err() {
                            return Some((conn, End::Drop));
                        }
                    }
                    // A request began to arrive in time: serve it, inject nothing.
                    Ok(Waited::Data) => {}
                    Ok(Waited::Gone) | Err(_) => return Some((conn, End::Drop)),
                }
            }
            Ok(Next::Close) => {
                return Some((conn, End::Close));
            }
            Ok(Next::Reset) => {
                return Some((conn, End::Reset));
            }
            Ok(Next::Abort) | Err(_) => {
                return Some((conn, End::Drop));
            }
        }
    }
}

fn tls_accept(tcp: TcpStream, cfg: Arc<ServerConfig>) -> io::Result<Stream> {
    let mut tls = rustls::ServerConnection::new(cfg).map_err(io::Error::other)?;
    let mut tcp = tcp;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(5)))?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp)?;
    }
    Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(tls, tcp))))
}

impl Reply {
    fn status_code(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }
}

fn resolve(b: &Behaviour, count: usize) -> &Behaviour {
    match b {
        Behaviour::Sequence(v) if !v.is_empty() => {
            let inner = &v[count.min(v.len() - 1)];
            resolve(inner, count)
        }
        other => other,
    }
}

enum Next {
    KeepAlive,
    KeepAliveFor(Duration),
    /// Keep alive; write these bytes if the connection stays idle this long.
    InjectAfter(Duration, Vec<u8>),
    Close,
    Reset,
    Abort,
}

fn next_for(close: bool) -> Next {
    if close {
        Next::Close
    } else {
        Next::KeepAlive
    }
}

fn substitute(s: &str, shared: &Shared) -> String {
    s.replace("{origin}", &shared.origin)
        .replace("{localhost}", &shared.localhost)
}

/// Writes `reply`, adding Content-Length (unless framing is given) and
/// `Connection: close` when `close`.
fn respond(conn: &mut Conn, reply: &Reply, close: bool, shared: &Shared) -> io::Result<()> {
    let mut headers: Vec<(String, String)> = reply
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), substitute(v, shared)))
        .collect();
    let has = |hs: &[(String, String)], n: &str| hs.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
    if !has(&headers, "content-length") && !has(&headers, "transfer-encoding") {
        headers.push(("Content-Length".into(), reply.body.len().to_string()));
    }
    if close && !has(&headers, "connection") {
        headers.push(("Connection".into(), "close".into()));
    }
    let mut out = head_bytes(reply.status, &headers);
    if !conn.head_request {
        out.extend_from_slice(&reply.body);
    }
    conn.send(&out)
}

fn echo_json(rec: &RecordedRequest) -> Reply {
    let v = serde_json::json!({
        "method": rec.method,
        "target": rec.target,
        "path": rec.path,
        "headers": rec.headers.iter().map(|(n, v)| vec![n.clone(), v.clone()]).collect::<Vec<_>>(),
        "body": String::from_utf8_lossy(&rec.body),
        "body_len": rec.body.len(),
        "connection": rec.connection,
    });
    Reply::new(200)
        .header("Content-Type", "application/json")
        .body(v.to_string())
}

fn echo_text(head: &Head, rec: &RecordedRequest) -> Reply {
    let mut out = format!("{} {} HTTP/1.{}\r\n", rec.method, rec.target, head.version).into_bytes();
    for (n, v) in &rec.headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&rec.body);
    Reply::new(200)
        .header("Content-Type", "text/plain")
        .body(out)
}

fn run(
    b: &Behaviour,
    route: &Route,
    head: &Head,
    rec: &RecordedRequest,
    conn: &mut Conn,
    shared: &Shared,
    close: bool,
) -> io::Result<Next> {
    let plain = |conn: &mut Conn, reply: Reply| {
        // A scripted `Connection: close` is honoured too, not only the client's.
        let close = close
            || reply.headers.iter().any(|(n, v)| {
                n.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close")
            });
        respond(conn, &reply, close, shared).map(|_| next_for(close))
    };
    match b {
        Behaviour::Echo | Behaviour::Expect100 { .. } => plain(conn, echo_json(rec)),
        Behaviour::EchoText => plain(conn, echo_text(head, rec)),
        Behaviour::Reply(r) => {
            let mut r = r.clone();
            // Placeholders live in text bodies; other bytes go out as given.
            if let Ok(text) = std::str::from_utf8(&r.body) {
                r.body = substitute(text, shared).into_bytes();
            }
            plain(conn, r)
        }
        Behaviour::Custom(h) => plain(conn, h(rec)),
        Behaviour::CloseAfterHead { content_length } => {
            let h = vec![("Content-Length".to_string(), content_length.to_string())];
            conn.send(&head_bytes(200, &h))?;
            Ok(Next::Close)
        }
        Behaviour::TruncatedChunked { chunks } => {
            let h = vec![("Transfer-Encoding".to_string(), "chunked".to_string())];
            let mut out = head_bytes(200, &h);
            for c in chunks {
                out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                out.extend_from_slice(c);
                out.extend_from_slice(b"\r\n");
            }
            conn.send(&out)?;
            Ok(Next::Close)
        }
        Behaviour::ShortBody { declared, sent } => {
            let h = vec![("Content-Length".to_string(), declared.to_string())];
            let mut out = head_bytes(200, &h);
            out.extend_from_slice(&pattern((*sent).min(*declared)));
            conn.send(&out)?;
            Ok(Next::Close)
        }
        Behaviour::Drip {
            total,
            chunk,
            every,
        } => {
            let mut h = vec![("Content-Length".to_string(), total.to_string())];
            if close {
                h.push(("Connection".into(), "close".into()));
            }
            conn.send(&head_bytes(200, &h))?;
            let body = pattern(*total);
            for piece in body.chunks((*chunk).max(1)) {
                if !conn.sleep(*every) {
                    return Ok(Next::Abort);
                }
                conn.send(piece)?;
            }
            Ok(next_for(close))
        }
        Behaviour::StallBeforeHead(d) => {
            if !conn.sleep(*d) {
                return Ok(Next::Abort);
            }
            plain(conn, Reply::text("late"))
        }
        Behaviour::StallAfterHead(d) => {
            let mut h = vec![("Content-Length".to_string(), "4".to_string())];
            if close {
                h.push(("Connection".into(), "close".into()));
            }
            conn.send(&head_bytes(200, &h))?;
            if !conn.sleep(*d) {
                return Ok(Next::Abort);
            }
            conn.send(b"late")?;
            Ok(next_for(close))
        }
        Behaviour::ResetBeforeRequest | Behaviour::ResetAfterRequest => Ok(Next::Reset),
        Behaviour::CloseIdle { idle, hint } => {
            let mut r = Reply::text("ok").header("Connection", "keep-alive");
            if let Some(n) = hint {
                r = r.header("Keep-Alive", &format!("timeout={n}"));
            }
            respond(conn, &r, false, shared)?;
            Ok(if close {
                Next::Close
            } else {
                Next::KeepAliveFor(*idle)
            })
        }
        Behaviour::HugeHead { bytes } => {
            let mut h = Vec::new();
            let line = "x".repeat(1000);
            let mut size = 0;
            while size <= *bytes {
                h.push((format!("X-Filler-{}", h.len()), line.clone()));
                size += line.len() + 20;
            }
            h.push(("Content-Length".into(), "2".into()));
            let mut out = head_bytes(200, &h);
            out.extend_from_slice(b"ok");
            conn.send(&out)?;
            Ok(Next::Close)
        }
        Behaviour::MalformedStatusLine => {
            conn.send(b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok")?;
            Ok(Next::Close)
        }
        Behaviour::Raw(bytes) => {
            conn.send(bytes)?;
            Ok(Next::Close)
        }
        Behaviour::RawKeepAlive(bytes) => {
            conn.send(bytes)?;
            Ok(next_for(close))
        }
        Behaviour::Inject { body, after, bytes } => {
            let reply = Reply::new(200)
                .header("Content-Type", "text/plain")
                .body(body.clone());
            respond(conn, &reply, close, shared)?;
            Ok(if close {
                Next::Close
            } else {
                Next::InjectAfter(*after, bytes.clone())
            })
        }
        Behaviour::ContentLengthAndChunked => {
            conn.send(
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n\
                  b\r\nhello world\r\n0\r\n\r\n",
            )?;
            Ok(Next::Close)
        }
        Behaviour::Redirect { status, location } => plain(
            conn,
            Reply::new(*status)
                .header("Location", location)
                .body(format!("redirecting to {location}")),
        ),
        Behaviour::RedirectChain { status } => {
            let prefix = match &route.matcher {
                Matcher::Prefix(p) | Matcher::Exact(p) => p.as_str(),
            };
            let n: u64 = rec.path[prefix.len().min(rec.path.len())..]
                .trim_matches('/')
                .parse()
                .unwrap_or(0);
            if n == 0 {
                plain(conn, Reply::text("done"))
            } else {
                let loc = format!("{}{}", prefix, n - 1);
                plain(conn, Reply::new(*status).header("Location", &loc))
            }
        }
        Behaviour::Sequence(_) => plain(conn, Reply::new(500).body("empty sequence")),
        Behaviour::BasicAuth { user, pass } => {
            if basic_ok(head.header("authorization"), user, pass) {
                plain(conn, echo_json(rec))
            } else {
                plain(
                    conn,
                    Reply::new(401)
                        .header("WWW-Authenticate", "Basic realm=\"testkit\"")
                        .body("unauthorized"),
                )
            }
        }
        Behaviour::DigestAuth {
            user,
            pass,
            algorithm,
            stale_once,
        } => {
            let realm = "testkit@hawser";
            let mut st = lock(&route.digest);
            let verdict = st.verify(
                head.header("authorization"),
                &head.method,
                &head.target,
                user,
                pass,
                realm,
                *algorithm,
                *stale_once,
            );
            match verdict {
                DigestVerdict::Ok => {
                    drop(st);
                    plain(conn, echo_json(rec))
                }
                DigestVerdict::Challenge { stale } => {
                    let nonce = st.new_nonce();
                    drop(st);
                    let mut ch = format!(
                        "Digest realm=\"{realm}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\", opaque=\"testkit\"",
                        algorithm.token()
                    );
                    if stale {
                        ch.push_str(", stale=true");
                    }
                    plain(
                        conn,
                        Reply::new(401)
                            .header("WWW-Authenticate", &ch)
                            .body("unauthorized"),
                    )
                }
            }
        }
        Behaviour::Cookies(set) => {
            let mut r = Reply::new(200)
                .header("Content-Type", "text/plain")
                .body(head.header("cookie").unwrap_or("").as_bytes().to_vec());
            for c in set {
                r = r.header("Set-Cookie", c);
            }
            plain(conn, r)
        }
        Behaviour::Gzip(body) => {
            if accepts_gzip(head) {
                let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(body)?;
                let gz = enc.finish()?;
                plain(
                    conn,
                    Reply::new(200)
                        .header("Content-Encoding", "gzip")
                        .header("Vary", "Accept-Encoding")
                        .body(gz),
                )
            } else {
                plain(conn, Reply::new(200).body(body.clone()))
            }
        }
        Behaviour::Stream { len, chunked } => {
            let mut h = Vec::new();
            if *chunked {
                h.push(("Transfer-Encoding".to_string(), "chunked".to_string()));
            } else {
                h.push(("Content-Length".to_string(), len.to_string()));
            }
            if close {
                h.push(("Connection".into(), "close".into()));
            }
            conn.send(&head_bytes(200, &h))?;
            if conn.head_request {
                return Ok(next_for(close));
            }
            let piece = 64 * 1024u64;
            let mut off = 0u64;
            while off < *len {
                if conn.stopping() {
                    return Ok(Next::Abort);
                }
                let n = piece.min(*len - off);
                let bytes: Vec<u8> = (off..off + n).map(pattern_byte).collect();
                if *chunked {
                    let mut out = format!("{n:x}\r\n").into_bytes();
                    out.extend_from_slice(&bytes);
                    out.extend_from_slice(b"\r\n");
                    conn.send(&out)?;
                } else {
                    conn.send(&bytes)?;
                }
                route.written.fetch_add(n, Ordering::SeqCst);
                off += n;
            }
            if *chunked {
                conn.send(b"0\r\n\r\n")?;
            }
            Ok(next_for(close))
        }
        Behaviour::Endless => {
            let mut h = vec![("Transfer-Encoding".to_string(), "chunked".to_string())];
            if close {
                h.push(("Connection".into(), "close".into()));
            }
            conn.send(&head_bytes(200, &h))?;
            if conn.head_request {
                return Ok(next_for(close));
            }
            // A small send buffer keeps what the server has written close
            // to what the client has received.
            let _ = socket2::SockRef::from(conn.tcp()).set_send_buffer_size(256 * 1024);
            let piece = 64 * 1024usize;
            // The pattern has period 26: every piece is a slice of this.
            let base = pattern(piece + 26);
            let mut off = 0u64;
            while off < ENDLESS_SAFETY_LIMIT {
                if conn.stopping() {
                    return Ok(Next::Abort);
                }
                let start = (off % 26) as usize;
                let mut out = format!("{piece:x}\r\n").into_bytes();
                out.extend_from_slice(&base[start..start + piece]);
                out.extend_from_slice(b"\r\n");
                // A failed write (the client went away) ends the connection.
                conn.send(&out)?;
                route.written.fetch_add(piece as u64, Ordering::SeqCst);
                off += piece as u64;
            }
            // The safety net: close mid-body, never a complete body.
            Ok(Next::Close)
        }
        Behaviour::GzipBomb { decoded } => {
            let gzip = accepts_gzip(head);
            let mut h = vec![("Transfer-Encoding".to_string(), "chunked".to_string())];
            if gzip {
                h.push(("Content-Encoding".into(), "gzip".into()));
                h.push(("Vary".into(), "Accept-Encoding".into()));
            }
            if close {
                h.push(("Connection".into(), "close".into()));
            }
            conn.send(&head_bytes(200, &h))?;
            if conn.head_request {
                return Ok(next_for(close));
            }
            let zeros = vec![0u8; 64 * 1024];
            let mut sink = ChunkWriter::new(conn, &route.written);
            if gzip {
                let mut enc = GzEncoder::new(&mut sink, flate2::Compression::default());
                write_zeros(&mut enc, *decoded, &zeros)?;
                enc.finish()?;
            } else {
                write_zeros(&mut sink, *decoded, &zeros)?;
            }
            sink.finish()?;
            Ok(next_for(close))
        }
    }
}

/// The request's `Accept-Encoding` allows gzip.
fn accepts_gzip(head: &Head) -> bool {
    head.header("accept-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("gzip"))
}

/// Writes `n` zero bytes to `w` in slices of `zeros`.
fn write_zeros(w: &mut impl Write, n: u64, zeros: &[u8]) -> io::Result<()> {
    let mut left = n;
    while left > 0 {
        let k = left.min(zeros.len() as u64) as usize;
        w.write_all(&zeros[..k])?;
        left -= k as u64;
    }
    Ok(())
}

/// A body writer that sends what it is given as chunks of at least 16 KiB
/// (the last one may be shorter), counting the payload bytes in `written`.
/// Writes fail once the server is stopping.
struct ChunkWriter<'a> {
    conn: &'a mut Conn,
    written: &'a AtomicU64,
    buf: Vec<u8>,
}

impl<'a> ChunkWriter<'a> {
    const PIECE: usize = 16 * 1024;

    fn new(conn: &'a mut Conn, written: &'a AtomicU64) -> ChunkWriter<'a> {
        ChunkWriter {
            conn,
            written,
            buf: Vec::with_capacity(2 * Self::PIECE),
        }
    }

    /// Sends the buffered bytes as one chunk.
    fn emit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.conn.stopping() {
            return Err(io::Error::other("the server is stopping"));
        }
        let mut out = format!("{:x}\r\n", self.buf.len()).into_bytes();
        out.extend_from_slice(&self.buf);
        out.extend_from_slice(b"\r\n");
        self.conn.send(&out)?;
        self.written
            .fetch_add(self.buf.len() as u64, Ordering::SeqCst);
        self.buf.clear();
        Ok(())
    }

    /// Sends what is left and the terminating zero-size chunk.
    fn finish(mut self) -> io::Result<()> {
        self.emit()?;
        self.conn.send(b"0\r\n\r\n")
    }
}

impl Write for ChunkWriter<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= Self::PIECE {
            self.emit()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()
    }
}

/// A response read by [`read_response`]: status, headers, body.
pub type RawResponse = (u16, Vec<(String, String)>, Vec<u8>);

/// Reads one whole response from `s` (a tiny client for self-tests and the
/// proxy): returns (status, headers, body) framed by Content-Length, chunked
/// or close. Not a general client: bounded to 64 MiB.
pub fn read_response(s: &mut impl io::Read) -> io::Result<RawResponse> {
    read_response_framed(s, false)
}

/// As [`read_response`]; `no_body` for answers to HEAD.
pub(crate) fn read_response_framed(
    s: &mut impl io::Read,
    no_body: bool,
) -> io::Result<RawResponse> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let (status, headers, head_len) = loop {
        let mut hs = [httparse::EMPTY_HEADER; 256];
        let mut resp = httparse::Response::new(&mut hs);
        match resp.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => {
                let status = resp.code.unwrap_or(0);
                let headers: Vec<(String, String)> = resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                if (100..200).contains(&status) {
                    buf.drain(..n);
                    continue;
                }
                break (status, headers, n);
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        }
        if buf.len() > 1024 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let n = s.read(&mut tmp)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in head"));
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let mut rest = buf.split_off(head_len);
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let limit = crate::wire::MAX_REQUEST_BODY;
    let fill = |rest: &mut Vec<u8>, s: &mut dyn io::Read, want: usize| -> io::Result<()> {
        let mut tmp = [0u8; 8192];
        while rest.len() < want {
            let n = s.read(&mut tmp)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in body"));
            }
            rest.extend_from_slice(&tmp[..n]);
        }
        Ok(())
    };
    if no_body || status == 204 || status == 304 {
        return Ok((status, headers, Vec::new()));
    }
    if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                if rest.len() > 4096 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "chunk line"));
                }
                let want = rest.len() + 1;
                fill(&mut rest, s, want)?;
            };
            let line = String::from_utf8_lossy(&rest[..line_end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))?;
            rest.drain(..line_end + 2);
            if size == 0 {
                return Ok((status, headers, body));
            }
            if body.len().saturating_add(size) > limit {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "too large"));
            }
            fill(&mut rest, s, size + 2)?;
            body.extend_from_slice(&rest[..size]);
            rest.drain(..size + 2);
        }
    } else if let Some(cl) = get("content-length") {
        let n: usize = cl
            .trim()
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?;
        if n > limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "too large"));
        }
        fill(&mut rest, s, n)?;
        rest.truncate(n);
        Ok((status, headers, rest))
    } else {
        loop {
            match s.read(&mut tmp) {
                Ok(0) => return Ok((status, headers, rest)),
                Ok(n) => rest.extend_from_slice(&tmp[..n]),
                Err(e) if is_timeout(&e) => return Err(e),
                Err(e) => return Err(e),
            }
            if rest.len() > limit {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "too large"));
            }
        }
    }
}
