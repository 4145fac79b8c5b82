//! The call orchestrator: one logical request, from the first attempt to the
//! final response, as a state machine a driver runs.
//!
//! A [`Call`] owns everything about one logical request: which connection to
//! use, the HTTP/1.1 exchange (and TLS, and a proxy tunnel), auth
//! challenges, cookies, redirects, retries, backoff and deadlines. It never
//! performs I/O. It tells the driver what to do next as an [`Output`], and
//! the driver reports what happened as an [`Input`]:
//!
//! ```text
//! loop {
//!     match call.poll_output(now)? {
//!         Output::Acquire { key, until }  => pool: Input::Pooled(conn) or Input::NoPooled
//!         Output::Connect { host, port, until } => TCP connect: Input::Connected
//!         Output::Transmit { data, until }  => write: Input::Written(n)
//!         Output::Receive { until }        => read into call.read_buffer(): Input::Read(n) | Input::Eof
//!         Output::SendBody { max, until }  => next piece of a streamed body: Input::BodyData(..) | Input::BodyEnd
//!         Output::Wait { until }           => sleep (backoff)
//!         Output::Release { conn, reuse }  => back to the pool, or close
//!         Output::Head(response)           => status and headers for the user
//!         Output::Body(bytes)              => body bytes; then call.consume(n)
//!         Output::Done                     => finished
//!     }
//! }
//! ```
//!
//! A wait that reaches its `until` is reported as [`Input::Timeout`]; an I/O
//! error as [`Input::Failed`]. The driver decides nothing: whether to
//! retry, where to redirect, how long to wait and whether a connection may
//! be reused are the call's answers. Calling out of order returns an
//! [`ErrorKind::Usage`] error, never a hang.
//!
//! Auth challenges are answered inside the call too: a `401` with the
//! request's [`Auth`], and a proxy's `407` (to a forward request or to
//! `CONNECT`) with the proxy URL's credentials, sent as Basic first and as
//! Digest when the proxy asks for it, at most once per hop. A `407` to
//! `CONNECT` is read to its end and `CONNECT` goes again on the same
//! connection, or on a new one when the proxy closed it; the driver just
//! sees more `Transmit`/`Receive` (or a new `Connect`). A Digest learnt for
//! a proxy is reused by the agent's later calls.
//!
//! A driver that only moves bytes, using a scripted server and a fake clock
//! (here: a 503 with `Retry-After: 1`, then a redirect, then the answer):
//!
//! ```
//! use std::time::{Duration, Instant, SystemTime};
//! use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
//! use hawser_core::request::Request;
//! use hawser_core::retry::Retry;
//!
//! let mut config = Config::default();
//! config.retry = Retry::new(3);
//! let agent = Agent::new(config);
//! let mut now = Instant::now();
//! let wall = SystemTime::UNIX_EPOCH;
//! let req = Request::get("http://example.test/start").build()?;
//! let mut call = agent.start(req, CallOptions { seed: 1, ..Default::default() }, now, wall)?;
//!
//! // What the "server" answers, one response per request it receives.
//! let mut answers = vec![
//!     &b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"[..],
//!     b"HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n",
//!     b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
//! ].into_iter();
//! let (mut sent, mut pending, mut pooled) = (Vec::new(), &b""[..], None);
//! let mut body = Vec::new();
//! loop {
//!     match call.poll_output(now)? {
//!         Output::Acquire { .. } => {
//!             let input = match pooled.take() { Some(c) => Input::Pooled(c), None => Input::NoPooled };
//!             call.handle_input(input, now)?;
//!         }
//!         Output::Connect { host, port, .. } => {
//!             assert_eq!((host, port), ("example.test", 80));
//!             call.handle_input(Input::Connected, now)?;
//!         }
//!         Output::Transmit { data, .. } => {
//!             let n = data.len();
//!             sent.extend_from_slice(data);
//!             if sent.ends_with(b"\r\n\r\n") { pending = answers.next().unwrap(); }
//!             call.handle_input(Input::Written(n), now)?;
//!         }
//!         Output::Receive { .. } => {
//!             let buf = call.read_buffer();
//!             let n = pending.len().min(buf.len());
//!             buf[..n].copy_from_slice(&pending[..n]);
//!             pending = &pending[n..];
//!             call.handle_input(Input::Read(n), now)?;
//!         }
//!         Output::Wait { until } => now = until, // a fake clock: sleeping is free
//!         Output::Release { conn, reuse } => if reuse { pooled = Some(conn) },
//!         Output::Head(resp) => assert_eq!(resp.status, 200),
//!         Output::Body(b) => { body.extend_from_slice(b); let n = b.len(); call.consume(n); }
//!         Output::Done => break,
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! assert_eq!(body, b"hello");
//! let report = call.report();
//! assert_eq!(report.attempts.len(), 3);       // 503, 302, 200
//! assert_eq!(report.slept, Duration::from_secs(1)); // Retry-After honoured
//! assert_eq!(report.connections_opened, 1);    // one keep-alive connection throughout
//! assert!(String::from_utf8_lossy(&sent).contains("GET /final HTTP/1.1\r\n"));
//! # Ok::<(), hawser_core::Error>(())
//! ```

mod config;
mod decode;
#[doc(hidden)]
pub mod fuzzing;
mod machine;
mod proxy_auth;
mod report;

use std::fmt;
use std::io;
use std::ops::Range;
use std::time::{Duration, Instant, SystemTime};

use http::header::{
    HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, COOKIE, EXPECT, LOCATION,
    RETRY_AFTER, SET_COOKIE,
};
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use rand::rngs::StdRng;
use rand::SeedableRng;
use url::Url;

pub use config::{Agent, CallOptions, Config};
pub use report::{AttemptOutcome, AttemptReport, CallReport};

use crate::auth::{Auth, AuthDecision, AuthState, OutgoingRequest};
use crate::deadline::{Phase, Tracker};
use crate::h1::{self, Event, RequestFraming, RequestInfo, ResponseReader, TargetForm};
use crate::pool::{KeepAlive, PoolKey, Scheme};
use crate::proxy::Route;
use crate::redirect::RedirectHop;
use crate::request::{Body, Request};
use crate::retry::{
    BodyReplay, Clock, Decision, ErrorOutcome, FailureKind, Outcome, RedirectPermission,
    ResponseOutcome, Retry, RetryReason, RetryState,
};
#[cfg(feature = "rustls")]
use crate::tls::{TlsRead, TlsSession};
use crate::{Error, ErrorKind, Result, TimeoutPhase};

use decode::Decoder;
use machine::{connect_target, route_for};
use proxy_auth::ProxyAuth;

/// The core's state for one transport connection: TLS session (if any),
/// pool key, and what the server said about keeping it alive. Drivers keep
/// it beside their socket in the pool and hand it back with
/// [`Input::Pooled`].
pub struct Connection {
    key: PoolKey,
    #[cfg(feature = "rustls")]
    tls: Option<Box<TlsSession>>,
    keep_alive: Option<KeepAlive>,
    served: u32,
}

impl Connection {
    /// The pool key this connection belongs to.
    pub fn key(&self) -> &PoolKey {
        &self.key
    }

    /// The server's `Keep-Alive` hint from the last response, for
    /// [`Pool::checkin`](crate::pool::Pool::checkin).
    pub fn keep_alive(&self) -> Option<KeepAlive> {
        self.keep_alive
    }

    /// How many responses were read on this connection.
    pub fn served(&self) -> u32 {
        self.served
    }

    fn is_tls(&self) -> bool {
        #[cfg(feature = "rustls")]
        {
            self.tls.is_some()
        }
        #[cfg(not(feature = "rustls"))]
        false
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("key", &self.key)
            .field("tls", &self.is_tls())
            .field("served", &self.served)
            .finish()
    }
}

/// What the driver must do next. See the [module docs](self).
#[non_exhaustive]
#[derive(Debug)]
pub enum Output<'a> {
    /// Look in the pool for an idle connection with this key: answer
    /// [`Input::Pooled`] or [`Input::NoPooled`]. If the pool says wait, wait
    /// at most until `until` and answer [`Input::Timeout`] if nothing came.
    Acquire {
        /// The pool key.
        key: &'a PoolKey,
        /// Wait no longer than this.
        until: Instant,
    },
    /// Resolve `host` and open a TCP connection to `port` (try every
    /// address) by `until`; answer [`Input::Connected`].
    Connect {
        /// Host name or IP literal (IPv6 without brackets).
        host: &'a str,
        /// Port.
        port: u16,
        /// Give up at this instant.
        until: Instant,
    },
    /// Write these bytes (all or some) by `until`; answer [`Input::Written`].
    Transmit {
        /// Bytes to write.
        data: &'a [u8],
        /// Give up at this instant.
        until: Instant,
    },
    /// Read into [`Call::read_buffer`] by `until`; answer [`Input::Read`] or
    /// [`Input::Eof`].
    Receive {
        /// Give up at this instant.
        until: Instant,
    },
    /// The request body is a stream: supply up to `max` bytes with
    /// [`Input::BodyData`], or [`Input::BodyEnd`] when it is exhausted.
    SendBody {
        /// Most bytes wanted now.
        max: usize,
        /// Give up at this instant.
        until: Instant,
    },
    /// Sleep until `until` (a backoff), then poll again.
    Wait {
        /// Wake at this instant.
        until: Instant,
    },
    /// The connection is finished with: return it to the pool with its
    /// socket when `reuse`, else close the socket.
    Release {
        /// The core's side of the connection.
        conn: Connection,
        /// Whether it may be pooled.
        reuse: bool,
    },
    /// The final response head. The body follows as [`Output::Body`].
    Head(Response),
    /// Response body bytes. Report how many were used with [`Call::consume`];
    /// unconsumed bytes are offered again.
    Body(&'a [u8]),
    /// The call is complete.
    Done,
}

/// What the driver did. See the [module docs](self).
#[non_exhaustive]
#[derive(Debug)]
pub enum Input<'a> {
    /// Answer to [`Output::Acquire`]: this pooled connection (with its socket
    /// now current).
    Pooled(Connection),
    /// Answer to [`Output::Acquire`]: no idle connection; open a new one.
    NoPooled,
    /// Answer to [`Output::Connect`]: connected.
    Connected,
    /// Answer to [`Output::Transmit`]: this many bytes were written.
    Written(usize),
    /// Answer to [`Output::Receive`]: this many bytes were read into
    /// [`Call::read_buffer`].
    Read(usize),
    /// Answer to [`Output::Receive`]: the peer closed the connection.
    Eof,
    /// Answer to [`Output::SendBody`]: the next piece of the body.
    BodyData(&'a [u8]),
    /// Answer to [`Output::SendBody`]: the body is complete.
    BodyEnd,
    /// The `until` of the last output passed before it could be done.
    Timeout,
    /// The I/O operation of the last output failed.
    Failed(io::Error),
}

/// A final response head, with what the call learnt on the way.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The headers (when the body is decoded, `Content-Encoding` and
    /// `Content-Length` are removed, as they no longer describe it).
    pub headers: HeaderMap,
    /// The final URL, after redirects.
    pub url: Url,
    /// The responses that were followed to get here (redirects), oldest first.
    pub history: Vec<HistoryItem>,
}

impl Response {
    /// The reason phrase hawser reports for the status (its canonical one).
    pub fn reason(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("")
    }

    /// The first value of header `name` as text, if it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Content-Length`, if present (absent when hawser decodes the body).
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// For a 4xx or 5xx status, the error backends return from
    /// `error_for_status()`, worded like requests' `raise_for_status`.
    ///
    /// ```
    /// # let mut r = hawser_core::call::Response {
    /// #     status: http::StatusCode::NOT_FOUND, version: http::Version::HTTP_11,
    /// #     headers: http::HeaderMap::new(), url: url::Url::parse("http://h.test/x").unwrap(),
    /// #     history: Vec::new() };
    /// let e = r.status_error().unwrap();
    /// assert_eq!(e.to_string(), "404 Client Error: Not Found for url: http://h.test/x");
    /// r.status = http::StatusCode::OK;
    /// assert!(r.status_error().is_none());
    /// ```
    pub fn status_error(&self) -> Option<Error> {
        let class = match self.status.as_u16() {
            400..=499 => "Client",
            500..=599 => "Server",
            _ => return None,
        };
        Some(Error::new(
            ErrorKind::Status,
            format!(
                "{} {class} Error: {} for url: {}",
                self.status.as_u16(),
                self.reason(),
                self.url
            ),
        ))
    }

    /// Decode a body as text with the `Content-Type` charset: UTF-8 and
    /// ISO-8859-1 (Latin-1) exactly; anything else as UTF-8 with
    /// replacement characters.
    ///
    /// ```
    /// # let mut r = hawser_core::call::Response {
    /// #     status: http::StatusCode::OK, version: http::Version::HTTP_11,
    /// #     headers: http::HeaderMap::new(), url: url::Url::parse("http://h.test/").unwrap(),
    /// #     history: Vec::new() };
    /// r.headers.insert("content-type", "text/plain; charset=ISO-8859-1".parse().unwrap());
    /// assert_eq!(r.decode_text(vec![0x63, 0x61, 0x66, 0xe9]), "café");
    /// ```
    pub fn decode_text(&self, body: Vec<u8>) -> String {
        let latin1 = self.header("content-type").is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.contains("charset=iso-8859-1") || ct.contains("charset=latin1")
        });
        if latin1 {
            body.iter().map(|&b| char::from(b)).collect()
        } else {
            String::from_utf8(body)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        }
    }
}

/// A response that was followed (a redirect) on the way to the final one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    /// Its status.
    pub status: StatusCode,
    /// The URL that answered it.
    pub url: Url,
    /// The method that was sent.
    pub method: Method,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Start an attempt: ask the pool.
    Acquire,
    /// Open a TCP connection.
    Connect,
    /// Send the CONNECT head to the proxy, then read its answer.
    TunnelRead,
    /// TLS handshake with the origin.
    Handshake,
    /// Flush `out` (and in-memory body bytes); then `after`.
    Sending(AfterSend),
    /// Ask the driver for the next piece of a streamed body.
    StreamBody,
    /// Head sent with `Expect: 100-continue`; waiting for the interim answer.
    AwaitContinue(Instant),
    /// Waiting for the response head.
    ReadHead,
    /// Reading and discarding a body before doing `Next`.
    Drain(Next),
    /// Final head delivered; streaming the body to the user.
    ReadBody,
    /// Hand the connection to the driver, then `Next`.
    Release(bool, Next),
    /// Backoff sleep until the instant, then a new attempt.
    Backoff(Instant),
    /// Finished.
    Done,
    /// Ended with an error (already returned once).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterSend {
    /// Head and body are out: read the response.
    ReadHead,
    /// Head out, waiting for `100 Continue`.
    AwaitContinue,
    /// More of a streamed body is needed.
    StreamBody,
    /// The CONNECT head is out.
    TunnelRead,
    /// Handshake flight out.
    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    Handshake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Another attempt (same request, after `Backoff` if set).
    Attempt(Option<Instant>),
    /// The call failed: return the stored error.
    Fail,
    /// Deliver the stored head (after an auth challenge went unanswered etc.).
    Done,
    /// The proxy answered CONNECT with a 407 we answer: send CONNECT again
    /// on this connection if it stays usable, else on a new one.
    Tunnel,
}

/// Where the bytes of an [`Output::Body`] live.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    None,
    /// A range of `inbuf` (zero-copy plain bodies).
    In(Range<usize>),
    /// The front of the decoder's buffer.
    Decoded,
}

/// The largest piece of an in-memory body encrypted or handed out at once.
const SEND_PIECE: usize = 64 * 1024;
/// The read buffer lent to the driver.
const READ_BUF: usize = 16 * 1024;

/// One logical request in progress. See the [module docs](self).
pub struct Call {
    agent: Agent,
    retry: Retry,
    redirect: crate::redirect::RedirectPolicy,
    auth: Option<Auth>,
    auth_state: AuthState,
    /// Credentials for the route's proxy (sent to the proxy only).
    proxy_auth: Option<ProxyAuth>,

    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Body,
    body_streamed: u64,

    state: State,
    tracker: Tracker,
    retry_state: RetryState,
    rng: StdRng,
    start: Instant,
    wall0: SystemTime,

    route: Route,
    key: PoolKey,
    conn: Option<Connection>,
    reused: bool,
    sent_any: bool,
    got_any: bool,
    attempt_close: bool,

    out: Vec<u8>,
    out_pos: usize,
    body_pos: usize,
    send_body_bytes: bool,
    chunked: Option<h1::ChunkedEncoder>,

    inbuf: Vec<u8>,
    in_start: usize,
    in_end: usize,
    #[cfg(feature = "rustls")]
    raw: Vec<u8>,
    #[cfg(feature = "rustls")]
    raw_start: usize,
    #[cfg(feature = "rustls")]
    raw_end: usize,
    reader: ResponseReader,

    staged_head: Option<Response>,
    staged_release: Option<(Connection, bool)>,
    pending: Pending,
    decoder: Option<Decoder>,
    decoded_total: u64,
    history: Vec<HistoryItem>,
    report: CallReport,
    error: Option<Error>,
    /// The error being handled is final: no retry decision.
    final_pending: bool,
    /// The peer closed the connection (or TLS saw close_notify).
    eof: bool,
    /// The attempt's error is the peer closing before the response ended.
    closed_early: bool,
    /// Bytes read and discarded while draining.
    drained: u64,
    /// The last Transmit handed out body bytes, not `out`.
    tx_from_body: bool,
    keep_alive: Option<KeepAlive>,
    redirects_followed: u32,
    now_hint: Instant,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// What the response reader produced, without borrowing the buffer.
enum Fed {
    NeedInput,
    Continue,
    Head(h1::ResponseHead),
    Body(Range<usize>),
    Done,
}

impl Call {
    fn new(
        agent: Agent,
        request: Request,
        opts: CallOptions,
        now: Instant,
        wall: SystemTime,
    ) -> Result<Call> {
        let cfg = agent.config();
        let url_creds = request
            .url_credentials()
            .map(|(u, p)| Auth::basic(u.to_owned(), p.to_owned()));
        let (method, url, req_headers, body) = request.into_parts();
        let timeouts = opts.timeouts.unwrap_or(cfg.timeouts);
        let retry = opts.retry.clone().unwrap_or_else(|| cfg.retry.clone());
        let redirect = opts.redirect.unwrap_or(cfg.redirect);
        let auth = opts
            .auth
            .clone()
            .or(url_creds)
            .or_else(|| agent.shared.auth.clone());

        let mut headers = cfg.headers.clone();
        for name in req_headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &req_headers {
            headers.append(name.clone(), value.clone());
        }
        if cfg.decompress && !headers.contains_key(ACCEPT_ENCODING) {
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate"));
        }

        let retry_state = RetryState::new(&retry, method.clone(), url.as_str());
        if let Some(budget) = &agent.shared.budget {
            // Each logical request earns the session some retry allowance.
            let mut b = budget
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            b.advance_to(now);
            b.deposit();
        }
        let auth_state = AuthState::for_origin(&url);
        let (route, key) = route_for(&agent, &url)?;
        let proxy_auth = ProxyAuth::for_route(&route, &agent)?;
        let reader = ResponseReader::new(RequestInfo::new(&method), cfg.limits);
        Ok(Call {
            retry,
            redirect,
            auth,
            auth_state,
            proxy_auth,
            method,
            url,
            headers,
            body,
            body_streamed: 0,
            state: State::Acquire,
            tracker: Tracker::start(&timeouts, now),
            retry_state,
            rng: StdRng::seed_from_u64(opts.seed),
            start: now,
            wall0: wall,
            route,
            key,
            conn: None,
            reused: false,
            sent_any: false,
            got_any: false,
            attempt_close: false,
            out: Vec::new(),
            out_pos: 0,
            body_pos: 0,
            send_body_bytes: false,
            chunked: None,
            inbuf: Vec::new(),
            in_start: 0,
            in_end: 0,
            #[cfg(feature = "rustls")]
            raw: Vec::new(),
            #[cfg(feature = "rustls")]
            raw_start: 0,
            #[cfg(feature = "rustls")]
            raw_end: 0,
            reader,
            staged_head: None,
            staged_release: None,
            pending: Pending::None,
            decoder: None,
            decoded_total: 0,
            history: Vec::new(),
            report: CallReport::default(),
            error: None,
            final_pending: false,
            eof: false,
            closed_early: false,
            drained: 0,
            tx_from_body: false,
            keep_alive: None,
            redirects_followed: 0,
            now_hint: now,
            agent,
        })
    }

    /// The report of the call so far (complete after [`Output::Done`]).
    pub fn report(&self) -> CallReport {
        let mut r = self.report.clone();
        r.phases = self.tracker.phase_times(self.last_now());
        r.slept = self.retry_state.total_sleep();
        r
    }

    fn last_now(&self) -> Instant {
        self.now_hint
    }

    /// The current URL (changes when a redirect is followed).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The buffer the driver reads into before answering [`Input::Read`].
    pub fn read_buffer(&mut self) -> &mut [u8] {
        #[cfg(feature = "rustls")]
        if self.conn.as_ref().is_some_and(Connection::is_tls) {
            // Keep ciphertext TLS has not taken yet; lend the space after it.
            self.raw.copy_within(self.raw_start..self.raw_end, 0);
            self.raw_end -= self.raw_start;
            self.raw_start = 0;
            if self.raw.len() < self.raw_end + READ_BUF {
                self.raw.resize(self.raw_end + READ_BUF, 0);
            }
            return &mut self.raw[self.raw_end..];
        }
        self.make_room();
        &mut self.inbuf[self.in_end..]
    }

    /// Mark `n` bytes of the last [`Output::Body`] as used.
    pub fn consume(&mut self, n: usize) {
        match &mut self.pending {
            Pending::None => {}
            Pending::In(r) => {
                r.start = (r.start + n).min(r.end);
                if r.start >= r.end {
                    self.pending = Pending::None;
                }
            }
            Pending::Decoded => {
                if let Some(d) = &mut self.decoder {
                    let buf = d.buffer();
                    let n = n.min(buf.len());
                    buf.drain(..n);
                    if buf.is_empty() {
                        self.pending = Pending::None;
                    }
                }
            }
        }
    }

    /// What the driver must do next. Call it again after each
    /// [`Call::handle_input`]; it returns the same action until that action
    /// is answered.
    pub fn poll_output(&mut self, now: Instant) -> Result<Output<'_>> {
        self.now_hint = now;
        let step = match self.advance(now) {
            Ok(s) => s,
            Err(e) => return Err(self.fail_final(e)),
        };
        let until = self.tracker.poll_timeout().at;
        Ok(match step {
            Step::Acquire => Output::Acquire {
                key: &self.key,
                until,
            },
            Step::Connect => {
                let (host, port) = connect_target(&self.route);
                Output::Connect {
                    host: host.trim_start_matches('[').trim_end_matches(']'),
                    port,
                    until,
                }
            }
            Step::Transmit => Output::Transmit {
                data: &self.out[self.out_pos..],
                until,
            },
            Step::TransmitBody(r) => {
                let bytes = self.body.as_bytes().map(|b| &b[r]).unwrap_or(&[]);
                Output::Transmit { data: bytes, until }
            }
            Step::Receive(until) => Output::Receive { until },
            Step::SendBody => Output::SendBody {
                max: SEND_PIECE,
                until,
            },
            Step::Wait(until) => Output::Wait { until },
            Step::Release => match self.staged_release.take() {
                Some((conn, reuse)) => Output::Release { conn, reuse },
                None => return Err(usage("no connection to release")),
            },
            Step::Head => match self.staged_head.take() {
                Some(h) => Output::Head(h),
                None => return Err(usage("no response head to deliver")),
            },
            Step::Body => match &self.pending {
                Pending::In(r) => Output::Body(&self.inbuf[r.clone()]),
                Pending::Decoded => match &mut self.decoder {
                    Some(d) => Output::Body(d.buffer().as_slice()),
                    None => Output::Body(&[]),
                },
                Pending::None => Output::Body(&[]),
            },
            Step::Done => Output::Done,
        })
    }
}

/// An [`Output`] without borrows, computed by `advance`.
enum Step {
    Acquire,
    Connect,
    Transmit,
    TransmitBody(Range<usize>),
    Receive(Instant),
    SendBody,
    Wait(Instant),
    Release,
    Head,
    Body,
    Done,
}

fn usage(msg: &'static str) -> Error {
    Error::new(ErrorKind::Usage, msg)
}
