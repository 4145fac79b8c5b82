//! A small reference client, written only to prove that the conformance
//! suite is runnable and its expectations consistent: it runs the whole
//! suite through the same one-call-per-scenario interface a backend uses.
//!
//! It follows docs/RETRY.md as plainly as possible (std sockets, rustls, no
//! hawser code). It is not a product: a per-host cap with a FIFO queue of
//! waiters, a toy cookie jar, only what the scenarios exercise.
//!
//! Connection lifecycle: a checked-out connection is a `Lease` that gives
//! its slot (and, if clean, its connection) back when dropped, on every
//! path. Idle connections are checked before reuse (a non-blocking peek:
//! data or EOF waiting means discard and open a new one), and a connection
//! with unread bytes after a response is never pooled. A request can be
//! abandoned (`ConformanceSession::abandon`): every wait (pool queue,
//! connect, reads, backoff sleeps) is bounded by the abandon instant and
//! checks a cancellation flag, so an abandoned request really stops.
//!
//! Like requests 2.34 it re-quotes the path and query (`requote_uri`),
//! takes explicit auth (request, then session) before URL credentials,
//! lets a request remove a default header (its own `User-Agent`
//! included), keeps the caller's Content-Type over the JSON and form
//! helpers', reports the server's reason phrase, and treats a refused
//! CONNECT as a final proxy error.
//!
//! Against hostile servers and careless callers it caps reading a body
//! into memory (`max_body_in_memory`, 10 MiB by default: a declared
//! length over it is refused before reading, a chunked, close-delimited or
//! gzip-decoded body once past it; the connection is closed, not drained),
//! gives a bodiless response labelled gzip an empty body, never shows a
//! URL's password in an error, refuses a second caller-set `Host`,
//! `Content-Length` or `Transfer-Encoding` before sending, strips the
//! session's sensitive headers on a cross-origin redirect, and enforces
//! the `__Secure-` / `__Host-` cookie prefixes.
//!
//! `Quirks` switch on, one by one, the bugs the suite must catch (the
//! lifecycle bugs, and hawser's old departures from requests and old
//! weaknesses); the `quirks` tests at the end show that each lifecycle,
//! "Behaving like requests" and "Hostile servers" scenario fails against
//! the client with its matching quirk.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hawser_testkit::conformance::{
    AbandonAt, Abandoned, AuthConfig, ClientConfig, ConformanceClient, ConformanceSession,
    MountConfig, Phase, TestBody, TestError, TestErrorKind, TestRequest, TestResponse,
};
use hawser_testkit::{digest_authorization, DigestAlgorithm};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use url::Url;

fn e(kind: TestErrorKind, msg: impl Into<String>) -> TestError {
    TestError {
        kind,
        message: msg.into(),
        cause: None,
        report: None,
    }
}

/// The message of the error an abandoned call ends with.
const ABANDONED: &str = "abandoned by the caller";

fn abandoned() -> TestError {
    e(TestErrorKind::Other, ABANDONED)
}

/// The bugs the suite must catch, reproduced on demand.
#[derive(Debug, Clone, Copy, Default)]
struct Quirks {
    /// A failed connect keeps its pool slot.
    leak_slot_on_connect_failure: bool,
    /// An abandoned request keeps what it holds: its pool slot, its place
    /// in the queue for a slot, its connection.
    leak_on_abandon: bool,
    /// Idle pooled connections are reused without checking that they are
    /// still quiet (no data, no close waiting).
    no_liveness_check: bool,
    /// A connection with unread bytes after a response goes back to the pool.
    reuse_with_leftover: bool,
    /// Errors carry no per-call report.
    no_report: bool,
    /// A refused CONNECT counts as a connect failure: retried, ending in
    /// "retries exhausted" (hawser's old behaviour).
    retry_proxy_refusal: bool,
    /// The JSON/form helper replaces a Content-Type set before it, and one
    /// set after it is added as a second field.
    helper_content_type_wins: bool,
    /// Credentials in the URL beat the request's and the session's auth.
    url_credentials_first: bool,
    /// `TestRequest::remove_headers` is ignored.
    ignore_header_removal: bool,
    /// The path and query are sent as the URL parser left them, not
    /// re-quoted.
    no_requote: bool,
    /// The reported reason phrase is the canonical one for the status, not
    /// the server's.
    canonical_reason: bool,
    /// A 307/308 that would re-send a streamed body fails with the message
    /// "too many redirects".
    redirect_stream_says_too_many: bool,
    /// Bodies are read into memory whole, whatever their size:
    /// `max_body_in_memory` is ignored (hawser's old `bytes()`).
    no_body_cap: bool,
    /// A body labelled `Content-Encoding: gzip` is decoded even when the
    /// response has none (204, 304, `Content-Length: 0`), and the empty
    /// "gzip stream" fails to decode.
    decode_bodiless: bool,
    /// Errors quote the URL as given, password included.
    password_in_errors: bool,
    /// `Host`, `Content-Length` and `Transfer-Encoding` set twice by the
    /// caller are all written to the wire.
    duplicate_headers_sent: bool,
    /// `ClientConfig::sensitive_headers` is ignored: those headers follow
    /// redirects to any origin.
    sensitive_headers_follow: bool,
    /// The `__Secure-` and `__Host-` cookie prefixes are not enforced.
    no_cookie_prefixes: bool,
    /// The first matching mount in the order given wins, not the longest.
    first_mount_wins: bool,
    /// A mount's settings fill in only what the request leaves unset AND
    /// what the session leaves unset (the session beats the mount).
    session_beats_mount: bool,
    /// A mount's pool settings only cap its connections; they share the
    /// session's pool.
    mounts_share_pool: bool,
    /// The hooks run once per call (for its first request and its final
    /// head), not for every request written and head read.
    hooks_once_per_call: bool,
}

impl Quirks {
    const NONE: Quirks = Quirks {
        leak_slot_on_connect_failure: false,
        leak_on_abandon: false,
        no_liveness_check: false,
        reuse_with_leftover: false,
        no_report: false,
        retry_proxy_refusal: false,
        helper_content_type_wins: false,
        url_credentials_first: false,
        ignore_header_removal: false,
        no_requote: false,
        canonical_reason: false,
        redirect_stream_says_too_many: false,
        no_body_cap: false,
        decode_bodiless: false,
        password_in_errors: false,
        duplicate_headers_sent: false,
        sensitive_headers_follow: false,
        no_cookie_prefixes: false,
        first_mount_wins: false,
        session_beats_mount: false,
        mounts_share_pool: false,
        hooks_once_per_call: false,
    };
}

/// The reference client's own `User-Agent` (requests sends
/// `python-requests/<version>`), sent unless the session or the request
/// sets one or the request removes it.
const USER_AGENT: &str = "hawser-testkit-reference/1";

/// Python's `urllib.parse.quote(s, safe)`: every byte but ASCII letters,
/// digits, `_.-~` and `safe` as `%XX` (upper-case hex).
fn quote(s: &str, safe: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// requests' `unquote_unreserved`: `%XX` of an unreserved character
/// (letters, digits, `-._~`) decoded, other escapes kept; `None` (requests'
/// `InvalidURL`) for an escape of two alphanumerics that is not hex.
fn unquote_unreserved(uri: &str) -> Option<String> {
    let mut parts = uri.split('%');
    let mut out = parts.next().unwrap_or("").to_string();
    for part in parts {
        match part.get(..2) {
            Some(h) if h.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                let c = char::from(u8::from_str_radix(h, 16).ok()?);
                if c.is_ascii_alphanumeric() || "-._~".contains(c) {
                    out.push(c);
                    out.push_str(&part[2..]);
                } else {
                    out.push('%');
                    out.push_str(part);
                }
            }
            _ => {
                out.push('%');
                out.push_str(part);
            }
        }
    }
    Some(out)
}

/// requests' `requote_uri`.
fn requote_uri(uri: &str) -> String {
    match unquote_unreserved(uri) {
        Some(u) => quote(&u, b"!#$%&'()*+,/:;=?@[]~"),
        // An invalid escape: quote the `%` too.
        None => quote(uri, b"!#$&'()*+,/:;=?@[]~"),
    }
}

/// Percent-decodes URL userinfo (requests' `unquote` in `get_auth_from_url`).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|c| char::from(*c).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.extend(u8::try_from(h * 16 + l));
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url` with the password of its userinfo replaced by `***`, for error
/// messages; works on URLs that do not parse (the userinfo is whatever
/// precedes the last `@` of the authority).
fn redact(url: &str) -> String {
    let Some(i) = url.find("://") else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(i + 3);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}{user}:***@{host}{tail}")
        }
        _ => url.to_string(),
    }
}

/// The default cap on reading a body into memory (hawser's).
const DEFAULT_BODY_CAP: usize = 10 * 1024 * 1024;

fn too_large(limit: usize, what: &str) -> TestError {
    e(
        TestErrorKind::BodyTooLarge,
        format!(
            "{what}: the response body is larger than {limit} bytes, the limit for reading a \
             body into memory; raise it with max_body_in_memory"
        ),
    )
}

/// The error of the `decode_bodiless` quirk.
fn undecodable() -> TestError {
    e(
        TestErrorKind::Body,
        "could not decode the compressed response body",
    )
}

fn timeout(phase: Phase) -> TestError {
    e(
        TestErrorKind::Timeout { phase },
        format!("timed out: {phase:?}"),
    )
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(b),
            Stream::Tls(s) => s.read(b),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(b),
            Stream::Tls(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    idle_since: Instant,
    keep_alive: Option<Duration>,
    /// Body bytes received for the current response (framing included).
    body_seen: usize,
}

impl Conn {
    fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            idle_since: Instant::now(),
            keep_alive: None,
            body_seen: 0,
        }
    }

    /// No bytes left over after the last response (ours or rustls').
    fn is_clean(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        match &mut self.stream {
            Stream::Plain(_) => true,
            Stream::Tls(s) => s
                .conn
                .process_new_packets()
                .is_ok_and(|st| st.plaintext_bytes_to_read() == 0 && !st.peer_has_closed()),
        }
    }

    /// The liveness check of an idle connection: a non-blocking peek. Data
    /// (unsolicited bytes, a TLS alert) or EOF waiting means it is not fit
    /// for reuse.
    fn socket_quiet(&self) -> bool {
        let tcp = self.stream.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let r = tcp.peek(&mut b);
        let back = tcp.set_nonblocking(false);
        back.is_ok() && matches!(r, Err(ref err) if err.kind() == io::ErrorKind::WouldBlock)
    }
}

/// One call's context: what bounds its waits (phase timeouts, the
/// deadline, the abandon point), its cancellation flag, and its report.
struct Ctx {
    start: Instant,
    deadline: Option<Instant>,
    read: Duration,
    /// `AbandonAt::After`: every wait ends by then, and the call stops.
    abandon_at: Option<Instant>,
    /// `AbandonAt::AfterBodyBytes`.
    abandon_after_body: Option<usize>,
    /// The cancellation flag, raised once an abandon point is reached.
    cancelled: Cell<bool>,
    report: RefCell<Vec<String>>,
}

impl Ctx {
    fn note(&self, line: impl AsRef<str>) {
        let ms = self.start.elapsed().as_millis();
        self.report
            .borrow_mut()
            .push(format!("+{ms}ms {}", line.as_ref()));
    }

    fn cancel(&self) {
        if !self.cancelled.replace(true) {
            self.note("abandoned by the caller");
        }
    }

    /// Raises the flag when the abandon instant has passed.
    fn cancelled(&self) -> bool {
        if !self.cancelled.get() && self.abandon_at.is_some_and(|t| Instant::now() >= t) {
            self.cancel();
        }
        self.cancelled.get()
    }

    /// How long a wait limited to `phase_limit` may last now, and which
    /// timeout names it; also bounded by the abandon instant.
    fn bound(&self, phase_limit: Duration, phase: Phase) -> Result<(Duration, Phase), TestError> {
        if self.cancelled() {
            return Err(abandoned());
        }
        let now = Instant::now();
        let (mut limit, mut named) = (phase_limit, phase);
        if let Some(d) = self.deadline {
            let left = d.saturating_duration_since(now);
            if left.is_zero() {
                return Err(timeout(Phase::Deadline));
            }
            if left < limit {
                (limit, named) = (left, Phase::Deadline);
            }
        }
        if let Some(a) = self.abandon_at {
            limit = limit.min(a.saturating_duration_since(now));
        }
        // A zero socket timeout would mean "no timeout".
        Ok((limit.max(Duration::from_millis(1)), named))
    }

    /// The error for a wait that ran out: the abandon (when its instant is
    /// reached, allowing for coarse timers), or the named timeout.
    fn expired(&self, named: Phase) -> TestError {
        let near = self
            .abandon_at
            .is_some_and(|a| Instant::now() + Duration::from_millis(5) >= a);
        if near || self.cancelled() {
            self.cancel();
            abandoned()
        } else {
            timeout(named)
        }
    }

    /// A backoff sleep that ends early if the call is abandoned.
    fn sleep(&self, d: Duration) -> Result<(), TestError> {
        let end = Instant::now() + d;
        loop {
            if self.cancelled() {
                return Err(abandoned());
            }
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            let mut step = end - now;
            if let Some(a) = self.abandon_at {
                step = step.min(a.saturating_duration_since(now));
            }
            std::thread::sleep(step.max(Duration::from_millis(1)));
        }
    }
}

enum Fail {
    /// Nothing reached the server (connect, TLS handshake).
    Connect(TestError),
    /// Failed after request bytes were written.
    Read(TestError),
    /// Deterministic: never retried.
    Final(TestError),
}

struct Raw {
    status: u16,
    /// The reason phrase as the server sent it.
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Conn {
    fn fill(&mut self, clock: &Ctx, phase: Phase) -> Result<usize, TestError> {
        if let (Phase::Body, Some(n)) = (phase, clock.abandon_after_body) {
            if self.body_seen >= n {
                clock.cancel();
                return Err(abandoned());
            }
        }
        let (limit, named) = clock.bound(clock.read, phase)?;
        let _ = self.stream.tcp().set_read_timeout(Some(limit));
        let mut tmp = [0u8; 16384];
        match self.stream.read(&mut tmp) {
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                if phase == Phase::Body {
                    self.body_seen += n;
                }
                Ok(n)
            }
            Err(err) if is_timeout(&err) => Err(clock.expired(named)),
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            Err(err) => Err(e(TestErrorKind::Other, err.to_string())),
        }
    }

    /// Reads one response head (skipping 1xx unless `stop_at_100`).
    fn read_head(&mut self, clock: &Ctx, stop_at_100: bool) -> Result<Raw, (TestError, bool)> {
        let mut got_any = !self.buf.is_empty();
        loop {
            let mut hs = [httparse::EMPTY_HEADER; 128];
            let mut resp = httparse::Response::new(&mut hs);
            match resp.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let status = resp.code.unwrap_or(0);
                    let reason = resp.reason.unwrap_or("").to_string();
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
                    self.buf.drain(..n);
                    if (100..200).contains(&status) && !(stop_at_100 && status == 100) {
                        continue;
                    }
                    return Ok(Raw {
                        status,
                        reason,
                        headers,
                        body: Vec::new(),
                    });
                }
                Ok(httparse::Status::Partial) => {}
                Err(err) => return Err((e(TestErrorKind::Protocol, err.to_string()), true)),
            }
            if self.buf.len() > 64 * 1024 {
                return Err((e(TestErrorKind::Protocol, "response head too large"), true));
            }
            match self.fill(clock, Phase::ResponseHead) {
                Ok(0) if got_any => {
                    return Err((e(TestErrorKind::Protocol, "closed inside the head"), true))
                }
                Ok(0) => {
                    return Err((
                        e(TestErrorKind::Protocol, "closed before a response"),
                        false,
                    ))
                }
                Ok(_) => got_any = true,
                Err(err) if err.kind == TestErrorKind::Other => return Err((err, got_any)),
                Err(err) => return Err((err, true)),
            }
        }
    }

    fn take(&mut self, n: usize, clock: &Ctx) -> Result<Vec<u8>, TestError> {
        while self.buf.len() < n {
            if self.fill(clock, Phase::Body)? == 0 {
                return Err(e(TestErrorKind::Body, "body ended early"));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn line(&mut self, clock: &Ctx) -> Result<String, TestError> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Ok(l);
            }
            if self.buf.len() > 4096 {
                return Err(e(TestErrorKind::Protocol, "line too long"));
            }
            if self.fill(clock, Phase::Body)? == 0 {
                return Err(e(TestErrorKind::Body, "body ended early"));
            }
        }
    }

    /// Reads the body, at most `cap` bytes of it (framed and decoded; None:
    /// no cap), else a BodyTooLarge error; returns whether the connection
    /// may be reused. With `decode_bodiless`, an empty body labelled gzip
    /// fails to decode.
    fn read_body(
        &mut self,
        raw: &mut Raw,
        method: &str,
        clock: &Ctx,
        cap: Option<usize>,
        decode_bodiless: bool,
    ) -> Result<bool, TestError> {
        let over = |n: usize| cap.is_some_and(|c| n > c);
        let limit = cap.unwrap_or(usize::MAX);
        let gzip = raw
            .header("content-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let te = raw.header("transfer-encoding").map(str::to_ascii_lowercase);
        let cl = raw.header("content-length").map(str::to_string);
        if te.is_some() && cl.is_some() {
            return Err(e(
                TestErrorKind::Protocol,
                "Content-Length with Transfer-Encoding",
            ));
        }
        self.body_seen = self.buf.len();
        let close = raw
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if method == "HEAD" || raw.status == 204 || raw.status == 304 {
            if decode_bodiless && gzip && method != "HEAD" {
                return Err(undecodable());
            }
            return Ok(!close);
        }
        if te.is_some_and(|t| t.contains("chunked")) {
            loop {
                let line = self.line(clock)?;
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| e(TestErrorKind::Protocol, "bad chunk size"))?;
                if size == 0 {
                    while !self.line(clock)?.is_empty() {}
                    break;
                }
                if over(raw.body.len().saturating_add(size)) {
                    return Err(too_large(limit, "chunked"));
                }
                let mut chunk = self.take(size + 2, clock)?;
                chunk.truncate(size);
                raw.body.extend_from_slice(&chunk);
            }
        } else if let Some(cl) = cl {
            let n: usize = cl
                .trim()
                .parse()
                .map_err(|_| e(TestErrorKind::Protocol, "bad Content-Length"))?;
            if over(n) {
                // Refused before reading a byte of it.
                return Err(too_large(
                    limit,
                    &format!("the response declares {n} bytes (Content-Length)"),
                ));
            }
            raw.body = self.take(n, clock)?;
        } else {
            while self.fill(clock, Phase::Body)? > 0 {
                if over(self.buf.len()) {
                    return Err(too_large(limit, "close-delimited"));
                }
            }
            raw.body = std::mem::take(&mut self.buf);
            return Ok(false);
        }
        if gzip && raw.body.is_empty() && decode_bodiless {
            return Err(undecodable());
        }
        // No body, nothing to decode (requests gives b"").
        if gzip && !raw.body.is_empty() {
            // Decoded up to one byte past the cap: a bomb stops there.
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw.body.as_slice())
                .take(limit.saturating_add(1) as u64)
                .read_to_end(&mut out)
                .map_err(|err| e(TestErrorKind::Body, err.to_string()))?;
            if over(out.len()) {
                return Err(too_large(limit, "decoded (gzip)"));
            }
            raw.body = out;
        }
        self.keep_alive = raw.header("keep-alive").and_then(|v| {
            v.split(',')
                .filter_map(|p| p.trim().strip_prefix("timeout="))
                .find_map(|n| n.trim().parse().ok())
                .map(Duration::from_secs)
        });
        Ok(!close)
    }
}

struct Pool {
    idle: HashMap<String, Vec<Conn>>,
    /// Slots in use per key: connections checked out or being opened.
    active: HashMap<String, usize>,
    /// Tickets of the calls waiting for a slot, first come first served.
    waiters: VecDeque<u64>,
    next_ticket: u64,
    /// What quirky calls never gave back (kept open, like a real leak).
    leaked: Vec<Conn>,
}

/// A pool slot held by one call, with its connection once opened. Dropping
/// it gives the slot back, and the connection to the idle list if its last
/// response left it reusable and nothing unread is left on it; otherwise
/// the connection is closed. So every path, abandonment included, returns
/// what the call held.
struct Lease<'a> {
    s: &'a Session,
    ctx: &'a Ctx,
    key: String,
    conn: Option<Conn>,
    /// The last response left the connection fit for reuse.
    reusable: bool,
    /// Keep the slot when dropped (the connect-failure quirk).
    leak: bool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let conn = self.conn.take();
        let q = self.s.quirks;
        let mut pool = self.s.lock_pool();
        if self.leak || (q.leak_on_abandon && self.ctx.cancelled()) {
            // The bug, reproduced: the slot stays counted, the connection open.
            pool.leaked.extend(conn);
            return;
        }
        if let Some(a) = pool.active.get_mut(&self.key) {
            *a = a.saturating_sub(1);
        }
        if let Some(mut c) = conn {
            if self.reusable && (q.reuse_with_leftover || c.is_clean()) {
                c.idle_since = Instant::now();
                pool.idle.entry(self.key.clone()).or_default().push(c);
            } else if self.reusable {
                self.ctx
                    .note("closed the connection: unread bytes after the response");
            }
        }
        self.s.freed.notify_all();
    }
}

struct Session {
    cfg: ClientConfig,
    quirks: Quirks,
    tls: Arc<rustls::ClientConfig>,
    pool: Mutex<Pool>,
    freed: Condvar,
    opened: AtomicUsize,
    jar: Mutex<Vec<Cookie>>,
    digest_nc: Mutex<HashMap<String, u32>>,
    hook_log: Mutex<Vec<String>>,
}

/// A stored cookie (host-only: the Domain attribute is not honoured).
struct Cookie {
    host: String,
    path: String,
    name: String,
    value: String,
    secure: bool,
}

struct Target {
    url: Url,
    key: String,
    host: String,
    port: u16,
    tls: bool,
    /// The per-host cap of the pool the connection belongs to.
    cap: Option<usize>,
}

fn target(u: &Url) -> Result<Target, TestError> {
    let host = u
        .host_str()
        .ok_or_else(|| e(TestErrorKind::Other, "no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = u
        .port_or_known_default()
        .ok_or_else(|| e(TestErrorKind::Other, "no port"))?;
    Ok(Target {
        url: u.clone(),
        key: format!("{}://{}:{}", u.scheme(), host, port),
        host,
        port,
        tls: u.scheme() == "https",
        cap: None,
    })
}

fn origin_of(u: &Url) -> String {
    format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

impl Session {
    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
        clock: &Ctx,
        limit: Duration,
    ) -> Result<TcpStream, Fail> {
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|err| Fail::Connect(e(TestErrorKind::Connect, err.to_string())))?
            .collect();
        let mut last = e(TestErrorKind::Connect, "no address");
        for a in addrs {
            let (t, phase) = clock.bound(limit, Phase::Connect).map_err(Fail::Connect)?;
            match TcpStream::connect_timeout(&a, t) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
                    return Ok(s);
                }
                Err(err) if is_timeout(&err) => last = clock.expired(phase),
                Err(err) => last = e(TestErrorKind::Connect, err.to_string()),
            }
            if clock.cancelled() {
                return Err(Fail::Connect(abandoned()));
            }
        }
        clock.note(format!("connect to {host}:{port} failed: {}", last.message));
        Err(Fail::Connect(last))
    }

    fn open(&self, t: &Target, clock: &Ctx, limit: Duration) -> Result<Conn, Fail> {
        let proxy = self.cfg.proxy.as_deref().and_then(|p| Url::parse(p).ok());
        let mut tcp = match &proxy {
            Some(p) => self.connect_tcp(
                p.host_str().unwrap_or(""),
                p.port().unwrap_or(80),
                clock,
                limit,
            )?,
            None => self.connect_tcp(&t.host, t.port, clock, limit)?,
        };
        self.opened.fetch_add(1, Ordering::SeqCst);
        if let (Some(p), true) = (&proxy, t.tls) {
            let authority = format!("{}:{}", t.url.host_str().unwrap_or(""), t.port);
            let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
            if !p.username().is_empty() {
                let auth = basic(p.username(), p.password().unwrap_or(""));
                req.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
            }
            req.push_str("\r\n");
            tcp.write_all(req.as_bytes())
                .map_err(|err| Fail::Connect(e(TestErrorKind::Proxy, err.to_string())))?;
            let mut c = Conn::new(Stream::Plain(tcp));
            let head = c
                .read_head(clock, false)
                .map_err(|(err, _)| Fail::Final(e(TestErrorKind::Proxy, err.message)))?;
            if head.status != 200 {
                let name = format!("{}:{}", p.host_str().unwrap_or(""), p.port().unwrap_or(80));
                let err = e(
                    TestErrorKind::Proxy,
                    format!(
                        "proxy {name} refused CONNECT {authority}: {} {}",
                        head.status, head.reason
                    ),
                );
                clock.note(&err.message);
                // A refusal is final (requests: one attempt, ProxyError).
                return Err(if self.quirks.retry_proxy_refusal {
                    Fail::Connect(err)
                } else {
                    Fail::Final(err)
                });
            }
            tcp = match c.stream {
                Stream::Plain(s) => s,
                Stream::Tls(s) => s.sock,
            };
        }
        let stream = if t.tls {
            let name = ServerName::try_from(t.host.clone())
                .map_err(|err| Fail::Final(e(TestErrorKind::Other, err.to_string())))?;
            let mut tls = rustls::ClientConnection::new(self.tls.clone(), name)
                .map_err(|err| Fail::Final(e(TestErrorKind::Tls, err.to_string())))?;
            let (lim, phase) = clock
                .bound(limit, Phase::TlsHandshake)
                .map_err(Fail::Connect)?;
            let _ = tcp.set_read_timeout(Some(lim));
            while tls.is_handshaking() {
                if let Err(err) = tls.complete_io(&mut tcp) {
                    if is_timeout(&err) {
                        return Err(Fail::Connect(clock.expired(phase)));
                    }
                    let cert = err
                        .get_ref()
                        .and_then(|i| i.downcast_ref::<rustls::Error>())
                        .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
                    return Err(if cert {
                        Fail::Final(e(TestErrorKind::Certificate, err.to_string()))
                    } else {
                        Fail::Connect(e(TestErrorKind::Tls, err.to_string()))
                    });
                }
            }
            Stream::Tls(Box::new(rustls::StreamOwned::new(tls, tcp)))
        } else {
            Stream::Plain(tcp)
        };
        Ok(Conn::new(stream))
    }

    fn lock_pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leaves the queue for a slot (unless the abandon quirk keeps the
    /// place of an abandoned call), letting the next waiter look.
    fn leave_queue(&self, pool: &mut Pool, ticket: u64, ctx: &Ctx) {
        if !(self.quirks.leak_on_abandon && ctx.cancelled()) {
            pool.waiters.retain(|w| *w != ticket);
        }
        self.freed.notify_all();
    }

    /// A slot for `t` with a pooled connection (true = reused) or a new
    /// one. When the cap is reached: a pool-full error, or (with
    /// `pool_wait`) a place in the FIFO queue until a slot frees, bounded
    /// by `pool_wait_timeout`, the deadline and the abandon point.
    fn checkout<'a>(
        &'a self,
        t: &Target,
        ctx: &'a Ctx,
        limit: Duration,
    ) -> Result<(Lease<'a>, bool), Fail> {
        let q = self.quirks;
        let cap = t.cap;
        let wait_until = self.cfg.pool_wait_timeout.map(|d| Instant::now() + d);
        let mut ticket: Option<u64> = None;
        let mut pool = self.lock_pool();
        loop {
            let my_turn = match ticket {
                Some(n) => pool.waiters.front() == Some(&n),
                None => pool.waiters.is_empty(),
            };
            if my_turn {
                let mut reused = None;
                while let Some(c) = pool.idle.get_mut(&t.key).and_then(Vec::pop) {
                    let idle = c.idle_since.elapsed();
                    if c.keep_alive
                        .is_some_and(|ka| idle + Duration::from_millis(100) >= ka)
                    {
                        ctx.note("evicted an idle connection past its Keep-Alive timeout");
                        continue;
                    }
                    if !q.no_liveness_check && !c.socket_quiet() {
                        ctx.note("discarded an idle connection: data or close waiting on it");
                        continue;
                    }
                    reused = Some(c);
                    break;
                }
                let active = pool.active.get(&t.key).copied().unwrap_or(0);
                if reused.is_some() || cap.is_none_or(|m| active < m) {
                    *pool.active.entry(t.key.clone()).or_default() += 1;
                    if let Some(n) = ticket {
                        pool.waiters.retain(|w| *w != n);
                        self.freed.notify_all();
                    }
                    drop(pool);
                    let reuse = reused.is_some();
                    let mut lease = Lease {
                        s: self,
                        ctx,
                        key: t.key.clone(),
                        conn: reused,
                        reusable: false,
                        leak: false,
                    };
                    if reuse {
                        ctx.note(format!("reusing an idle connection to {}", t.key));
                        return Ok((lease, true));
                    }
                    return match self.open(t, ctx, limit) {
                        Ok(c) => {
                            ctx.note(format!("opened a connection to {}", t.key));
                            lease.conn = Some(c);
                            Ok((lease, false))
                        }
                        Err(f) => {
                            lease.leak = q.leak_slot_on_connect_failure;
                            Err(f)
                        }
                    };
                }
            }
            if !self.cfg.pool_wait {
                let active = pool.active.get(&t.key).copied().unwrap_or(0);
                ctx.note("pool full");
                return Err(Fail::Final(e(
                    TestErrorKind::Other,
                    format!("pool full: {active} connections to {} in use", t.key),
                )));
            }
            let n = match ticket {
                Some(n) => n,
                None => {
                    let n = pool.next_ticket;
                    pool.next_ticket += 1;
                    pool.waiters.push_back(n);
                    ctx.note(format!("waiting for a slot to {}", t.key));
                    ticket = Some(n);
                    n
                }
            };
            let left = wait_until.map(|w| w.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                ctx.note("pool wait timed out");
                self.leave_queue(&mut pool, n, ctx);
                return Err(Fail::Final(timeout(Phase::PoolWait)));
            }
            let wait = match ctx.bound(left.unwrap_or(Duration::from_secs(3600)), Phase::PoolWait) {
                Ok((d, _)) => d,
                Err(err) => {
                    ctx.note(format!("gave up waiting for a slot: {}", err.message));
                    self.leave_queue(&mut pool, n, ctx);
                    return Err(Fail::Final(err));
                }
            };
            pool = self
                .freed
                .wait_timeout(pool, wait.min(Duration::from_millis(50)))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn cookies_for(&self, u: &Url) -> Option<String> {
        let host = u.host_str().unwrap_or("");
        let https = u.scheme() == "https";
        let jar = self.jar.lock().unwrap_or_else(|p| p.into_inner());
        let v: Vec<String> = jar
            .iter()
            .filter(|c| c.host == host && u.path().starts_with(c.path.as_str()))
            .filter(|c| https || !c.secure)
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!v.is_empty()).then(|| v.join("; "))
    }

    fn store_cookies(&self, u: &Url, raw: &Raw) {
        if !self.cfg.cookies {
            return;
        }
        let host = u.host_str().unwrap_or("").to_string();
        let https = u.scheme() == "https";
        let mut jar = self.jar.lock().unwrap_or_else(|p| p.into_inner());
        for (_, v) in raw
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        {
            let mut parts = v.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let name = name.trim();
            let attrs: Vec<&str> = parts.map(str::trim).collect();
            let path_attr = attrs.iter().find_map(|a| a.strip_prefix("Path="));
            let path = path_attr.unwrap_or("/").to_string();
            let secure = attrs.iter().any(|a| a.eq_ignore_ascii_case("secure"));
            let domain = attrs.iter().any(|a| {
                a.split('=')
                    .next()
                    .is_some_and(|k| k.trim().eq_ignore_ascii_case("domain"))
            });
            // RFC 6265bis: `__Secure-` needs Secure (so a secure origin);
            // `__Host-` needs that, no Domain and `Path=/`. Otherwise the
            // cookie is ignored entirely.
            if !self.quirks.no_cookie_prefixes {
                let secure_ok = secure && https;
                if name.starts_with("__Secure-") && !secure_ok {
                    continue;
                }
                if name.starts_with("__Host-") && !(secure_ok && !domain && path_attr == Some("/"))
                {
                    continue;
                }
            }
            let expired = attrs.iter().any(|a| {
                a.strip_prefix("Max-Age=")
                    .is_some_and(|v| v.trim().parse::<i64>().is_ok_and(|n| n <= 0))
            });
            jar.retain(|c| !(c.host == host && c.path == path && c.name == name));
            if !expired && (!secure || https) {
                jar.push(Cookie {
                    host: host.clone(),
                    path,
                    name: name.to_string(),
                    value: value.trim().to_string(),
                    secure,
                });
            }
        }
    }

    /// A new connection into a slot the call already holds.
    fn reopen(
        &self,
        lease: &mut Lease<'_>,
        t: &Target,
        clock: &Ctx,
        connect: Duration,
    ) -> Result<(), Fail> {
        lease.conn = None;
        match self.open(t, clock, connect) {
            Ok(c) => {
                clock.note(format!("opened a connection to {}", t.key));
                lease.conn = Some(c);
                Ok(())
            }
            Err(f) => {
                lease.leak = self.quirks.leak_slot_on_connect_failure;
                Err(f)
            }
        }
    }

    /// One attempt: write the request, read the response. `held` is the
    /// lease of the previous attempt, kept across its backoff sleep.
    /// Returns the response with the lease (the caller decides when to
    /// give it back).
    #[allow(clippy::too_many_arguments)]
    fn attempt<'a>(
        &'a self,
        t: &Target,
        held: Option<Lease<'a>>,
        method: &str,
        headers: &[(String, String)],
        body: &[u8],
        replayable: bool,
        expect: bool,
        clock: &'a Ctx,
        connect: Duration,
    ) -> Result<(Raw, Lease<'a>), Fail> {
        let q = self.quirks;
        let (mut lease, mut reused) = match held {
            Some(mut l) => {
                // Checked like an idle pooled connection before reuse.
                let fit = l.conn.as_mut().is_some_and(|c| {
                    (q.reuse_with_leftover || c.is_clean())
                        && (q.no_liveness_check || c.socket_quiet())
                });
                if fit {
                    clock.note("reusing the connection of the previous attempt");
                    (l, true)
                } else {
                    self.reopen(&mut l, t, clock, connect)?;
                    (l, false)
                }
            }
            None => self.checkout(t, clock, connect)?,
        };
        lease.reusable = false;
        let mut fresh_only = false;
        loop {
            let Some(c) = lease.conn.as_mut() else {
                return Err(Fail::Final(e(TestErrorKind::Other, "no connection")));
            };
            let via_proxy = self.cfg.proxy.is_some() && !t.tls;
            let host_port = match t.url.port() {
                Some(p) => format!("{}:{p}", t.url.host_str().unwrap_or("")),
                None => t.url.host_str().unwrap_or("").to_string(),
            };
            let origin_form = self.origin_form(&t.url);
            let target = if via_proxy {
                format!("{}://{host_port}{origin_form}", t.url.scheme())
            } else {
                origin_form
            };
            let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
            let mut head = format!("{method} {target} HTTP/1.1\r\n");
            // The caller's Host (set once: `call` refuses two) replaces ours.
            if q.duplicate_headers_sent || !has("host") {
                head.push_str(&format!("Host: {host_port}\r\n"));
            }
            for (n, v) in headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            if via_proxy {
                if let Some(p) = self.cfg.proxy.as_deref().and_then(|p| Url::parse(p).ok()) {
                    if !p.username().is_empty() {
                        head.push_str(&format!(
                            "Proxy-Authorization: {}\r\n",
                            basic(p.username(), p.password().unwrap_or(""))
                        ));
                    }
                }
            }
            let framed = has("content-length") || has("transfer-encoding");
            if (!body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH"))
                && (q.duplicate_headers_sent || !framed)
            {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            if expect {
                head.push_str("Expect: 100-continue\r\n");
            }
            if !has("accept-encoding") {
                head.push_str("Accept-Encoding: gzip\r\n");
            }
            head.push_str("\r\n");
            let mut out = head.into_bytes();
            if !expect {
                out.extend_from_slice(body);
            }
            let cap = match self.cfg.max_body_in_memory {
                _ if q.no_body_cap => None,
                Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                None => Some(DEFAULT_BODY_CAP),
            };
            let result = (|| -> Result<(Raw, bool), (TestError, bool)> {
                c.stream
                    .write_all(&out)
                    .map_err(|err| (e(TestErrorKind::Other, err.to_string()), false))?;
                let mut raw = if expect {
                    let first = c.read_head(clock, true)?;
                    if first.status == 100 {
                        c.stream
                            .write_all(body)
                            .map_err(|err| (e(TestErrorKind::Other, err.to_string()), true))?;
                        c.read_head(clock, false)?
                    } else {
                        let mut r = first;
                        let _ = c.read_body(&mut r, method, clock, cap, q.decode_bodiless);
                        return Ok((r, false));
                    }
                } else {
                    c.read_head(clock, false)?
                };
                let reusable = c
                    .read_body(&mut raw, method, clock, cap, q.decode_bodiless)
                    .map_err(|err| (err, true))?;
                Ok((raw, reusable))
            })();
            match result {
                Ok((raw, reusable)) => {
                    lease.reusable = reusable;
                    return Ok((raw, lease));
                }
                Err(_) if clock.cancelled() => {
                    // The lease goes with what it holds: slot back,
                    // connection closed (it is mid-exchange).
                    return Err(Fail::Read(abandoned()));
                }
                Err((err, response_started)) => {
                    clock.note(format!("attempt failed: {}", err.message));
                    // Closed: a body left unread (over the cap) is not drained.
                    lease.conn = None;
                    if err.kind == TestErrorKind::BodyTooLarge {
                        // Deterministic: the same body would be too large again.
                        return Err(Fail::Final(err));
                    }
                    // docs/RETRY.md 3: re-send a reused connection's failure
                    // only for idempotent methods (we cannot know whether
                    // the server accepted the bytes).
                    let idempotent = matches!(
                        method,
                        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
                    );
                    let stale = reused
                        && idempotent
                        && replayable
                        && !response_started
                        && !matches!(err.kind, TestErrorKind::Timeout { .. });
                    if stale && !fresh_only {
                        // Re-send once on a fresh connection, for free.
                        fresh_only = true;
                        clock.note("the reused connection was stale: re-sending once");
                        self.reopen(&mut lease, t, clock, connect)?;
                        reused = false;
                        continue;
                    }
                    return Err(Fail::Read(err));
                }
            }
        }
    }

    /// One logical request, abandoned at `at` if given. Errors carry the
    /// call's report.
    fn run(&self, req: &TestRequest, at: Option<AbandonAt>) -> Result<TestResponse, TestError> {
        let o = &req.overrides;
        let start = Instant::now();
        let m = Url::parse(&req.url).ok().and_then(|u| self.mount_for(&u));
        let ctx = Ctx {
            start,
            deadline: self
                .layered(o.deadline, m.and_then(|m| m.deadline), self.cfg.deadline)
                .map(|d| start + d),
            read: self
                .layered(
                    o.read_timeout,
                    m.and_then(|m| m.read_timeout),
                    self.cfg.read_timeout,
                )
                .unwrap_or(Duration::from_secs(30)),
            abandon_at: match at {
                Some(AbandonAt::After(d)) => Some(start + d),
                _ => None,
            },
            abandon_after_body: match at {
                Some(AbandonAt::AfterBodyBytes(n)) => Some(n),
                _ => None,
            },
            cancelled: Cell::new(false),
            report: RefCell::new(Vec::new()),
        };
        let result = self.call(req, &ctx);
        result.map_err(|mut err| {
            if ctx.cancelled() {
                err = abandoned();
            }
            if err.kind == TestErrorKind::Connect {
                err.message = format!("{} {}: {}", req.method, self.shown(&req.url), err.message);
            }
            ctx.note(format!("failed: {}", err.message));
            if !self.quirks.no_report {
                err.report = Some(ctx.report.borrow().join("\n"));
            }
            err
        })
    }

    /// The mount for `url`: the longest prefix that matches, ignoring case
    /// (requests' `get_adapter`).
    fn mount_for(&self, url: &Url) -> Option<&MountConfig> {
        let u = url.as_str().to_ascii_lowercase();
        let mut matching = self
            .cfg
            .mounts
            .iter()
            .filter(|m| u.starts_with(&m.prefix.to_ascii_lowercase()));
        if self.quirks.first_mount_wins {
            return matching.next();
        }
        // The later of two equal prefixes replaces the earlier.
        matching.rev().max_by_key(|m| m.prefix.len())
    }

    /// The request's setting, else the mount's, else the session's.
    fn layered<T>(&self, request: Option<T>, mount: Option<T>, session: Option<T>) -> Option<T> {
        if self.quirks.session_beats_mount {
            return request.or(session).or(mount);
        }
        request.or(mount).or(session)
    }

    fn hook(&self, line: String) {
        self.hook_log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line);
    }

    fn call(&self, req: &TestRequest, clock: &Ctx) -> Result<TestResponse, TestError> {
        let cfg = &self.cfg;
        let o = &req.overrides;
        let deadline = clock.deadline;
        let mut held: Option<Lease<'_>> = None;
        let mut attempts = 0u32;
        let connect = o
            .connect_timeout
            .or(cfg.connect_timeout)
            .unwrap_or(Duration::from_secs(10));
        let mut url = Url::parse(&req.url).map_err(|err| {
            e(
                TestErrorKind::Other,
                format!("invalid URL {:?}: {err}", self.shown(&req.url)),
            )
        })?;
        let first_origin = origin_of(&url);
        let mut method = req.method.clone();
        let (mut body, replayable, helper_type) = match &req.body {
            None => (Vec::new(), true, None),
            Some(TestBody::Bytes(b)) => (b.clone(), true, None),
            Some(TestBody::Stream(b)) => (b.clone(), false, None),
            Some(TestBody::Json(v)) => (
                serde_json::to_vec(v).map_err(|err| e(TestErrorKind::Other, err.to_string()))?,
                true,
                Some("application/json"),
            ),
            Some(TestBody::Form(pairs)) => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in pairs {
                    ser.append_pair(k, v);
                }
                (
                    ser.finish().into_bytes(),
                    true,
                    Some("application/x-www-form-urlencoded"),
                )
            }
        };
        // Headers before the body, the helper's Content-Type unless the
        // caller set one, then headers after the body (one value per name,
        // the last set, like requests' header dict).
        let is_ct = |n: &str| n.eq_ignore_ascii_case("content-type");
        let mut manual = req.headers.clone();
        if let Some(ct) = helper_type {
            if self.quirks.helper_content_type_wins {
                manual.retain(|(n, _)| !is_ct(n));
            }
            if !manual.iter().any(|(n, _)| is_ct(n)) {
                manual.push(("Content-Type".into(), ct.into()));
            }
        }
        for (n, v) in &req.headers_after_body {
            if !self.quirks.helper_content_type_wins {
                manual.retain(|(h, _)| !h.eq_ignore_ascii_case(n));
            }
            manual.push((n.clone(), v.clone()));
        }
        // Headers that frame the message or name its target may be set
        // once: a second one is refused before anything is sent.
        if !self.quirks.duplicate_headers_sent {
            for name in ["Host", "Content-Length", "Transfer-Encoding"] {
                let n = manual
                    .iter()
                    .filter(|(h, _)| h.eq_ignore_ascii_case(name))
                    .count();
                if n > 1 {
                    return Err(e(
                        TestErrorKind::InvalidRequest,
                        format!("the request sets {name} {n} times; it may be set once"),
                    ));
                }
            }
        }
        // Explicit auth (the request's, then the session's) before the
        // URL's credentials, as requests does.
        let explicit = o.auth.clone().or(cfg.auth.clone());
        let from_url = (!url.username().is_empty()).then(|| AuthConfig::Basic {
            user: percent_decode(url.username()),
            pass: percent_decode(url.password().unwrap_or("")),
        });
        let auth = if self.quirks.url_credentials_first {
            from_url.or(explicit)
        } else {
            explicit.or(from_url)
        };
        let mut history = Vec::new();
        // The policy is the first URL's mount's, for the whole call.
        let mount = self.mount_for(&url);
        let r = match mount.and_then(|m| m.retry.as_ref()) {
            Some(r) if !self.quirks.session_beats_mount => r,
            _ => &cfg.retry,
        };
        let mut total = r.total;
        // Per-kind counters: connect, read, status.
        let mut kinds = [r.connect, r.read, r.status];
        let mut consecutive = 0u32;
        let max_redirects = self
            .layered(None, mount.and_then(|m| m.max_redirects), cfg.max_redirects)
            .unwrap_or(10);
        let mut redirects = 0;
        let mut digest_header: Option<String> = None;
        let mut auth_tries = 0;
        let allowed = |m: &str| match &r.allowed_methods {
            Some(v) => v.iter().any(|a| a.eq_ignore_ascii_case(m)),
            None => matches!(m, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"),
        };
        loop {
            if clock.cancelled() {
                return Err(abandoned());
            }
            let mut t = target(&url)?;
            t.cap = cfg.max_connections_per_host;
            // A mount with pool settings has its own connections.
            if let Some((prefix, cap)) = self
                .mount_for(&url)
                .and_then(|m| Some((&m.prefix, m.max_connections_per_host?)))
            {
                if !self.quirks.mounts_share_pool {
                    t.key = format!("{} under {}", t.key, prefix.to_ascii_lowercase());
                }
                t.cap = Some(cap);
            }
            let mut headers = manual.clone();
            let removed = |n: &str| {
                !self.quirks.ignore_header_removal
                    && req.remove_headers.iter().any(|r| r.eq_ignore_ascii_case(n))
            };
            let defaults = cfg
                .default_headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .chain([("User-Agent", USER_AGENT)]);
            let same_origin = origin_of(&url) == first_origin;
            for (n, v) in defaults {
                // A sensitive session header stays on the first origin too.
                let withheld = !same_origin && self.sensitive(n);
                if !removed(n)
                    && !withheld
                    && !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n))
                {
                    headers.push((n.to_string(), v.to_string()));
                }
            }
            if same_origin
                && !headers
                    .iter()
                    .any(|(h, _)| h.eq_ignore_ascii_case("authorization"))
            {
                match (&auth, &digest_header) {
                    (_, Some(d)) => headers.push(("Authorization".into(), d.clone())),
                    (Some(AuthConfig::Basic { user, pass }), _) => {
                        headers.push(("Authorization".into(), basic(user, pass)))
                    }
                    (Some(AuthConfig::Bearer(tok)), _) => {
                        headers.push(("Authorization".into(), format!("Bearer {tok}")))
                    }
                    _ => {}
                }
            }
            if cfg.cookies {
                if let Some(c) = self.cookies_for(&url) {
                    match headers
                        .iter_mut()
                        .find(|(h, _)| h.eq_ignore_ascii_case("cookie"))
                    {
                        Some((_, v)) => *v = format!("{v}; {c}"),
                        None => headers.push(("Cookie".into(), c)),
                    }
                }
            }
            let hooked = cfg.hooks && (attempts == 0 || !self.quirks.hooks_once_per_call);
            if hooked {
                let n = attempts + 1;
                headers.push(("x-hook-attempt".into(), n.to_string()));
                self.hook(format!("> {method} {} #{n}", url.path()));
            }
            attempts += 1;
            clock.note(format!("attempt {attempts}: {method} {url}"));
            let outcome = self.attempt(
                &t,
                held.take(),
                &method,
                &headers,
                &body,
                replayable,
                o.expect_continue,
                clock,
                connect,
            );
            // Decide: the error (or status) and whether it may be retried;
            // `lease` is kept across the backoff sleep.
            let (err, retriable, sleep_hint, last_raw, kind, lease) = match outcome {
                Err(_) if clock.cancelled() => return Err(abandoned()),
                Err(Fail::Final(err)) => return Err(err),
                Err(Fail::Connect(err)) => (Some(err), true, None, None, 0, None),
                Err(Fail::Read(err)) => {
                    let ok_method = allowed(&method) && replayable;
                    (Some(err), ok_method, None, None, 1, None)
                }
                Ok((raw, lease)) => {
                    clock.note(format!("status {}", raw.status));
                    if hooked {
                        self.hook(format!("< {} #{attempts}", raw.status));
                    }
                    self.store_cookies(&url, &raw);
                    // Digest challenge.
                    if raw.status == 401 && auth_tries < 2 {
                        if let (Some(AuthConfig::Digest { user, pass }), Some(ch)) =
                            (&auth, raw.header("www-authenticate"))
                        {
                            let p = parse_challenge(ch);
                            let first_try = digest_header.is_none();
                            let stale = p
                                .get("stale")
                                .is_some_and(|s| s.eq_ignore_ascii_case("true"));
                            if first_try || stale {
                                let alg = if p
                                    .get("algorithm")
                                    .is_some_and(|a| a.eq_ignore_ascii_case("SHA-256"))
                                {
                                    DigestAlgorithm::Sha256
                                } else {
                                    DigestAlgorithm::Md5
                                };
                                let nonce = p.get("nonce").cloned().unwrap_or_default();
                                let realm = p.get("realm").cloned().unwrap_or_default();
                                let nc = {
                                    let mut m =
                                        self.digest_nc.lock().unwrap_or_else(|p| p.into_inner());
                                    let n = m.entry(nonce.clone()).or_default();
                                    *n += 1;
                                    *n
                                };
                                let uri = self.origin_form(&url);
                                digest_header = Some(digest_authorization(
                                    user, pass, &realm, &nonce, &method, &uri, nc, "0a4f113b", alg,
                                ));
                                auth_tries += 1;
                                history.push(401);
                                drop(lease);
                                continue;
                            }
                        }
                    }
                    // Redirects.
                    if matches!(raw.status, 301 | 302 | 303 | 307 | 308) && max_redirects > 0 {
                        if let Some(loc) = raw.header("location") {
                            redirects += 1;
                            if redirects > max_redirects {
                                return Err(e(
                                    TestErrorKind::TooManyRedirects,
                                    "too many redirects",
                                ));
                            }
                            let next = url
                                .join(loc)
                                .map_err(|err| e(TestErrorKind::Protocol, err.to_string()))?;
                            let to_get = (matches!(raw.status, 302 | 303) && method != "HEAD")
                                || (raw.status == 301 && method == "POST");
                            if to_get {
                                method = "GET".into();
                                body.clear();
                                manual.retain(|(n, _)| {
                                    !n.to_ascii_lowercase().starts_with("content-")
                                });
                            } else if !replayable && !body.is_empty() {
                                let message = if self.quirks.redirect_stream_says_too_many {
                                    "too many redirects".to_string()
                                } else {
                                    format!(
                                        "cannot re-send a streamed body: {} redirect to {next}",
                                        raw.status
                                    )
                                };
                                return Err(e(TestErrorKind::BodyNotReplayable, message));
                            }
                            if origin_of(&next) != origin_of(&url) {
                                manual.retain(|(n, _)| {
                                    !matches!(
                                        n.to_ascii_lowercase().as_str(),
                                        "authorization" | "cookie" | "proxy-authorization" | "host"
                                    ) && !self.sensitive(n)
                                });
                            }
                            history.push(raw.status);
                            url = next;
                            consecutive = 0;
                            drop(lease);
                            continue;
                        }
                    }
                    let retry_after = raw
                        .header("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let forced = r.status_forcelist.contains(&raw.status);
                    let implicit = r.respect_retry_after
                        && matches!(raw.status, 413 | 429 | 503)
                        && raw.header("retry-after").is_some();
                    let wants = r.enabled && allowed(&method) && (forced || implicit);
                    if !wants {
                        drop(lease);
                        return Ok(self.finish(raw, &url, history));
                    }
                    if total.is_some_and(|n| n == 0) || kinds[2].is_some_and(|n| n == 0) {
                        if forced && r.raise_on_status {
                            return Err(e(
                                TestErrorKind::RetriesExhausted,
                                format!("status {}", raw.status),
                            ));
                        }
                        drop(lease);
                        return Ok(self.finish(raw, &url, history));
                    }
                    let hint = retry_after.filter(|s| *s > 0).map(Duration::from_secs);
                    (None, true, hint, Some(raw), 2, Some(lease))
                }
            };
            if !r.enabled || !retriable {
                return Err(err.unwrap_or_else(|| e(TestErrorKind::Other, "unreachable")));
            }
            if total.is_some_and(|n| n == 0) || kinds[kind].is_some_and(|n| n == 0) {
                let mut x = e(TestErrorKind::RetriesExhausted, "retries exhausted");
                x.cause = err.map(Box::new);
                return Err(x);
            }
            total = total.map(|n| n - 1);
            kinds[kind] = kinds[kind].map(|n| n - 1);
            consecutive += 1;
            let backoff = if consecutive <= 1 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(
                    (r.backoff_factor * 2f64.powi(consecutive as i32 - 1))
                        .min(r.backoff_max.unwrap_or(120.0)),
                )
            };
            let sleep = sleep_hint.unwrap_or(backoff);
            if let Some(d) = deadline {
                if Instant::now() + sleep >= d {
                    let mut x = timeout(Phase::Deadline);
                    x.cause = err.map(Box::new);
                    return Err(x);
                }
            }
            if let Some(raw) = &last_raw {
                history.push(raw.status);
            }
            // The connection of a retried status stays with the call (and
            // its slot with it) through the sleep, for the retry.
            held = lease.filter(|l| l.reusable);
            clock.note(format!("retrying after {sleep:?}"));
            clock.sleep(sleep)?;
        }
    }

    /// `name` is one of the session's sensitive headers (unless the quirk
    /// lets them follow redirects).
    fn sensitive(&self, name: &str) -> bool {
        !self.quirks.sensitive_headers_follow
            && self
                .cfg
                .sensitive_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
    }

    /// `url` as error messages show it: without its password (unless the
    /// quirk echoes it).
    fn shown(&self, url: &str) -> String {
        if self.quirks.password_in_errors {
            url.to_string()
        } else {
            redact(url)
        }
    }

    /// The origin-form target (path and query) for `u`, re-quoted like
    /// requests' `requote_uri` (unless the quirk sends it as parsed).
    fn origin_form(&self, u: &Url) -> String {
        let mut s = u.path().to_string();
        if let Some(q) = u.query() {
            s.push('?');
            s.push_str(q);
        }
        if self.quirks.no_requote {
            s
        } else {
            requote_uri(&s)
        }
    }

    fn finish(&self, raw: Raw, url: &Url, history: Vec<u16>) -> TestResponse {
        let reason = if self.quirks.canonical_reason {
            hawser_testkit::reason(raw.status).to_string()
        } else {
            raw.reason
        };
        TestResponse {
            status: raw.status,
            reason,
            headers: raw.headers,
            body: raw.body,
            final_url: url.to_string(),
            history,
            connections_opened: Some(self.opened.load(Ordering::SeqCst)),
        }
    }
}

fn parse_challenge(v: &str) -> HashMap<String, String> {
    let rest = v.trim().split_once(' ').map(|(_, r)| r).unwrap_or("");
    let mut out = HashMap::new();
    for part in rest.split(',') {
        if let Some((k, val)) = part.split_once('=') {
            out.insert(
                k.trim().to_ascii_lowercase(),
                val.trim().trim_matches('"').to_string(),
            );
        }
    }
    out
}

impl ConformanceSession for Session {
    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
        self.run(req, None)
    }

    fn hook_log(&self) -> Vec<String> {
        self.hook_log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn abandon(&self, req: &TestRequest, at: AbandonAt) -> Abandoned {
        match self.run(req, Some(at)) {
            Ok(_) => Abandoned::Done,
            Err(err) if err.message == ABANDONED => Abandoned::Done,
            Err(err) => Abandoned::Failed(err),
        }
    }
}

struct Reference {
    quirks: Quirks,
}

impl ConformanceClient for Reference {
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(pem) = &cfg.ca_pem {
            if let Ok(der) = CertificateDer::from_pem_slice(pem.as_bytes()) {
                let _ = roots.add(der);
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|err| panic!("rustls config: {err}"));
        Box::new(Session {
            cfg: cfg.clone(),
            quirks: self.quirks,
            tls: Arc::new(tls),
            pool: Mutex::new(Pool {
                idle: HashMap::new(),
                active: HashMap::new(),
                waiters: VecDeque::new(),
                next_ticket: 0,
                leaked: Vec::new(),
            }),
            freed: Condvar::new(),
            opened: AtomicUsize::new(0),
            jar: Mutex::new(Vec::new()),
            digest_nc: Mutex::new(HashMap::new()),
            hook_log: Mutex::new(Vec::new()),
        })
    }
}

// One #[test] per scenario, exactly as a backend runs the suite.
hawser_testkit::conformance_tests!(Reference {
    quirks: Quirks::NONE
});

/// Each connection-lifecycle, "Behaving like requests" and "Hostile servers
/// and careless callers" scenario (and the streamed-body redirect
/// scenarios) fails (panics) against the reference client with the quirk
/// that reproduces the bug it is there to catch; the tests above show they
/// pass with no quirks.
mod quirks {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use super::{Quirks, Reference};

    macro_rules! fails_with_quirk {
        ($($scenario:ident: $quirk:ident;)*) => {
            $(
                #[test]
                fn $scenario() {
                    let client = Reference {
                        quirks: Quirks {
                            $quirk: true,
                            ..Quirks::NONE
                        },
                    };
                    let outcome = catch_unwind(AssertUnwindSafe(|| {
                        hawser_testkit::conformance::$scenario(&client)
                    }));
                    assert!(
                        outcome.is_err(),
                        "{} passed against the reference client with quirk {}",
                        stringify!($scenario),
                        stringify!($quirk),
                    );
                }
            )*

            /// The quirk each covered scenario is checked against.
            pub(super) const COVERED: &[(&str, &str)] =
                &[$((stringify!($scenario), stringify!($quirk))),*];
        };
    }

    fails_with_quirk! {
        failed_connect_frees_slot_error_mode: leak_slot_on_connect_failure;
        failed_connect_frees_slot_wait_mode: leak_slot_on_connect_failure;
        abandon_while_waiting_for_slot: leak_on_abandon;
        abandon_while_connecting: leak_on_abandon;
        abandon_mid_head: leak_on_abandon;
        abandon_mid_body: leak_on_abandon;
        abandon_mid_backoff: leak_on_abandon;
        unsolicited_bytes_on_idle_connection: no_liveness_check;
        body_after_bodiless_response: reuse_with_leftover;
        post_on_connection_closed_by_server: no_liveness_check;
        pool_wait_timeout_has_report: no_report;
        redirect_307_stream_body_not_replayed: redirect_stream_says_too_many;
        redirect_308_stream_body_not_replayed: redirect_stream_says_too_many;
        proxy_refusal_is_final: retry_proxy_refusal;
        caller_content_type_is_kept_once: helper_content_type_wins;
        explicit_auth_beats_url_credentials: url_credentials_first;
        default_header_removed_for_one_request: ignore_header_removal;
        url_requoted_like_requests: no_requote;
        server_reason_phrase_reported: canonical_reason;
        in_memory_read_is_capped: no_body_cap;
        bodiless_content_encoding_is_an_empty_body: decode_bodiless;
        credentials_never_in_errors: password_in_errors;
        duplicate_host_header_refused: duplicate_headers_sent;
        sensitive_headers_stay_on_their_origin: sensitive_headers_follow;
        cookie_prefixes_enforced: no_cookie_prefixes;
        mount_longest_prefix_wins: first_mount_wins;
        mount_timeouts_and_request_overrides: session_beats_mount;
        mount_with_own_pool: mounts_share_pool;
        hooks_see_every_request_and_head: hooks_once_per_call;
    }

    /// Every scenario from the "Connection lifecycle" section on (the
    /// "Behaving like requests" and "Hostile servers and careless callers"
    /// sections included), and the streamed-body redirect scenarios, is
    /// checked against a quirk, and nothing else is.
    #[test]
    fn every_lifecycle_requests_and_hostile_scenario_is_checked_against_a_quirk() {
        let all: Vec<&str> = hawser_testkit::conformance::all()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let first = all
            .iter()
            .position(|n| *n == "failed_connect_frees_slot_error_mode")
            .unwrap_or(all.len());
        let mut expected: Vec<&str> = vec![
            "redirect_307_stream_body_not_replayed",
            "redirect_308_stream_body_not_replayed",
        ];
        expected.extend_from_slice(&all[first..]);
        expected.sort_unstable();
        let mut covered: Vec<&str> = COVERED.iter().map(|(s, _)| *s).collect();
        covered.sort_unstable();
        assert_eq!(expected, covered);
        assert!(all.contains(&"proxy_refusal_is_final"));
        // The hostile section comes after the requests section, to the end.
        let hostile = all
            .iter()
            .position(|n| *n == "in_memory_read_is_capped")
            .unwrap_or(0);
        let requests = all
            .iter()
            .position(|n| *n == "server_reason_phrase_reported")
            .unwrap_or(all.len());
        assert!(requests < hostile, "the hostile section is not last");
        assert_eq!(all.last(), Some(&"hooks_see_every_request_and_head"));
    }
}
