//! The call orchestrator: one logical request, from the first attempt to the
//! final response, as a state machine a driver runs.
//!
//! A [`Call`] owns everything about one logical request: its connection
//! (a slot in the [`Agent`]'s pool, the liveness check of an idle one,
//! resolution, a Happy Eyeballs race, handing it back), the HTTP/1.1
//! exchange (and TLS, and a proxy tunnel), auth challenges, cookies,
//! redirects, retries, backoff and every timer. It never performs I/O. It
//! tells the driver what to do next as an [`Output`], and the driver
//! reports what happened as an [`Input`].
//!
//! # The driver contract
//!
//! A driver is I/O only. `T` is its transport (a socket): the core stores
//! it, lends it back in outputs, keeps it in the pool, and drops it; it never
//! touches it.
//!
//! ```text
//! loop {
//!     match call.poll_output(now)? {
//!         Resolve { host, port, until }  => resolve the name           -> Resolved(addrs) | Failed(e) | Timeout
//!         Connect { id, addr, until }    => start an attempt            (no answer now; report it while AwaitConnect)
//!         AwaitConnect { until }         => wait for an attempt to end  -> Connected { id, conn } | ConnectFailed { id, error } | (poll again)
//!         Check { conn }                 => non-blocking peek           -> Input::from_peek(r)
//!         Transmit { conn, data, until } => write                       -> Input::from_write(r)
//!         TransmitVectored { conn, bufs, until } => writev head + body -> Input::from_write(r) (only after accept_vectored)
//!         Receive { conn, buf, until }   => read into buf               -> Input::from_read(r)
//!         ReceiveBody { conn, max, until } => read body into your buffer -> Input::from_read(r) (only after offer_body_room)
//!         Close(conn)                    => drop it                     (no answer)
//!         Sleep { until }                => sleep                       (no answer)
//!         AwaitSlot { until, slot }      => await `slot` or until       (no answer)
//!         SendBody { max, until }        => the next piece of a stream  -> BodyData(bytes) | BodyEnd | Timeout
//!         Head(head)                     => give the user the head      (no answer)
//!         Body(bytes)                    => give the user bytes         -> call.consume(n)
//!         Done                           => finished                    (the connection is back in the pool)
//!     }
//! }
//! ```
//!
//! | output | the driver | then |
//! |---|---|---|
//! | `Resolve` | resolves `host` (bounded by `until`) | `Resolved`, `Failed`, or `Timeout` |
//! | `Connect` | starts a connection attempt and keeps it running | polls again at once |
//! | `AwaitConnect` | waits until an attempt ends, or until `until` | `Connected`/`ConnectFailed` naming the attempt, or just polls again |
//! | `Check` | peeks without blocking | `from_peek`: `Quiet` reuses it; data, EOF or an error discards it |
//! | `Transmit`, `Receive` | one write or read, bounded by `until` | `from_write` / `from_read` |
//! | `SendBody` | reads the user's body stream | `BodyData`, `BodyEnd` |
//! | `Close`, `Sleep`, `AwaitSlot`, `Head` | closes, sleeps, waits for the slot future, hands out the head | polls again |
//! | `Body` | hands out bytes | `consume(n)`, polls again |
//! | `TransmitVectored` (only after [`Call::accept_vectored`]) | one vectored write of `bufs[0]` then `bufs[1]` (a request head and its in-memory body) | `from_write`, the count across both |
//! | `ReceiveBody` (only after [`Call::offer_body_room`]) | reads at most `max` body bytes from the connection straight into its own buffer | `from_read`; after `Read(n)` the bytes are the caller's |
//! | `Done` | stops | — |
//!
//! The rules, the same for every driver:
//!
//! - **Time**: every wait carries its `until`; the driver never computes a
//!   timeout of its own. A [`Input::Timeout`] before anything expired (a
//!   timer that fired early, a spurious wake-up) is a no-op: the core asks
//!   again. An output with no answer is simply polled again.
//! - **I/O results** are mapped once, by [`Input::from_read`],
//!   [`Input::from_write`] and [`Input::from_peek`]: `EINTR` is no
//!   progress, `WouldBlock`/`TimedOut` a timeout, zero bytes written is no
//!   progress (it never re-arms a stall timer), zero bytes read is EOF.
//! - **Connections** belong to the core. It reuses an idle one only after
//!   a `Check` found it quiet, and never one with bytes left over after its
//!   response, so unsolicited bytes are never read as a response and a POST
//!   never goes out on a connection already seen closed.
//! - **Happy Eyeballs** (RFC 8305): addresses are tried in interleaved
//!   family order; the next attempt starts [`Config::happy_eyeballs_delay`]
//!   after the last (at once when one fails), and the first `Connected`
//!   wins. The race ends with the first `Connected` reported or when the
//!   core asks for anything else: drop the attempts still running. A
//!   driver that runs one attempt at a time performs it while answering
//!   `AwaitConnect` (bounded by its `until`) and reports it failed when it
//!   did not finish: a blackholed first address then costs the stagger,
//!   not the connect timeout.
//! - **Pool slots**: when the host is at its limit and the pool waits, the
//!   call is queued and says `AwaitSlot`; exactly the waiter a freed slot
//!   goes to is woken, through the waker it registered with the
//!   [`SlotWait`] future.
//! - **Errors are sticky**: after `poll_output` returned an error, every
//!   later `poll_output` and `handle_input` returns the same error. An
//!   input that does not answer the last output is an
//!   [`ErrorKind::Usage`] error, never a hang.
//! - **Ownership**: a `Call` dropped at any point (waiting for a slot,
//!   connecting, mid-head, mid-body, mid-backoff) gives back what it holds:
//!   its slot, its place in the queue (the next waiter is woken), its
//!   connection (closed). No driver can leak one.
//!
//! # States
//!
//! ```text
//!          ┌──────────────────────────── retry / redirect / auth ◀──────────────────────┐
//!          ▼                                                                            │
//!      Acquire ──full──▶ AwaitSlot ──granted──┐                                         │
//!        │  │                                 ▼                                         │
//!        │  └──idle──▶ Check ──quiet──────────────────────────────▶ Send ─▶ ReadHead ─▶ decide ─▶ ReadBody ─▶ Done
//!        │               │ stale: next idle, or                      ▲         │          │
//!        └──open──▶ Resolve ─▶ Dial ─▶ (Tunnel) ─▶ (Handshake) ──────┘   Drain/Release ─┘  Backoff (Sleep)
//! ```
//!
//! Auth challenges are answered inside the call too: a `401` with the
//! request's [`Auth`], and a proxy's `407` (to a forward request or to
//! `CONNECT`) with the proxy URL's credentials, sent as Basic first and as
//! Digest when the proxy asks for it, at most once per hop. A Digest learnt
//! for a proxy is reused by the agent's later calls.
//!
//! # A whole call on a fake clock
//!
//! A driver that only moves bytes, using a scripted server (here: a 503
//! with `Retry-After: 1`, then a redirect, then the answer):
//!
//! ```
//! use std::time::{Duration, Instant, SystemTime};
//! use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
//! use hawser_core::request::Request;
//! use hawser_core::retry::Retry;
//!
//! let mut config = Config::default();
//! config.retry = Retry::new(3);
//! // The transport is whatever the driver uses for a socket; here a number.
//! let agent: Agent<u32> = Agent::new(config)?;
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
//! let (mut sent, mut pending, mut attempt) = (Vec::new(), &b""[..], None);
//! let mut body = Vec::new();
//! loop {
//!     let input = match call.poll_output(now)? {
//!         Output::Resolve { host, port, .. } => {
//!             assert_eq!((host, port), ("example.test", 80));
//!             Input::Resolved(vec![([127, 0, 0, 1], 80).into()])
//!         }
//!         Output::Connect { id, .. } => { attempt = Some(id); continue }
//!         Output::AwaitConnect { .. } => Input::Connected { id: attempt.take().unwrap(), conn: 1 },
//!         Output::Check { .. } => Input::from_peek(Err(std::io::ErrorKind::WouldBlock.into())),
//!         Output::Transmit { data, .. } => {
//!             sent.extend_from_slice(data);
//!             if sent.ends_with(b"\r\n\r\n") { pending = answers.next().unwrap(); }
//!             Input::from_write(Ok(data.len()))
//!         }
//!         Output::Receive { buf, .. } => {
//!             let n = pending.len().min(buf.len());
//!             buf[..n].copy_from_slice(&pending[..n]);
//!             pending = &pending[n..];
//!             Input::from_read(Ok(n))
//!         }
//!         Output::Sleep { until } => { now = until; continue } // a fake clock: sleeping is free
//!         Output::Close(_) => continue,
//!         Output::Head(head) => { assert_eq!(head.status, 200); continue }
//!         Output::Body(b) => { body.extend_from_slice(b); let n = b.len(); call.consume(n); continue }
//!         Output::Done => break,
//!         other => panic!("unexpected {other:?}"),
//!     };
//!     call.handle_input(input, now)?;
//! }
//! assert_eq!(body, b"hello");
//! let report = call.report();
//! assert_eq!(report.attempts.len(), 3);             // 503, 302, 200
//! assert_eq!(report.slept, Duration::from_secs(1)); // Retry-After honoured
//! assert_eq!(report.connections_opened, 1);         // one keep-alive connection throughout
//! assert_eq!(report.connections_reused, 2);         // checked quiet before each reuse
//! assert!(String::from_utf8_lossy(&sent).contains("GET /final HTTP/1.1\r\n"));
//! drop(call);
//! assert_eq!((agent.pool_stats().idle, agent.pool_stats().active), (1, 0));
//! # Ok::<(), hawser_core::Error>(())
//! ```

// One file per phase; `machine` holds the two tables (which output each
// state asks for, and what each input does in each state).
// First: its `event!` macro is used by the modules below.
#[macro_use]
mod trace;
mod config;
mod conn;
mod contract;
mod decide;
mod decode;
mod exchange;
mod head;
mod hooks;
mod machine;
pub(crate) mod mount;
mod proxy_auth;
mod report;
mod route;
mod tunnel;
mod wire;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::retry::JitterRng;
use http::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, EXPECT, HeaderValue,
    LOCATION, RETRY_AFTER, SET_COOKIE,
};
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use rand::SeedableRng;
use url::Url;

pub use config::{Agent, CallOptions, Config};
pub use contract::{ConnectId, Input, Output, SlotWait};
pub use head::{Head, HistoryItem};
pub use hooks::{HookRequest, HookResponse, Hooks};
pub use mount::Mount;
pub use report::{AttemptOutcome, AttemptReport, CallReport};

use crate::auth::{Auth, AuthDecision, AuthState, OutgoingRequest};
use crate::deadline::{Phase, Tracker};
use crate::h1::{self, Event, RequestFraming, RequestInfo, ResponseReader, TargetForm};
use crate::pool::{KeepAlive, Lease, PoolKey, Scheme, WaiterTicket};
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

use conn::Dial;
use decode::Decoder;
use proxy_auth::ProxyAuth;
use route::{connect_target, describe_target, request_target, route_for};
use trace::Trace;

/// The core's state for one transport connection: TLS session (if any),
/// pool key, and what the server said about keeping it alive. It sits
/// beside the driver's transport in the agent's pool.
pub(crate) struct Connection {
    key: PoolKey,
    #[cfg(feature = "rustls")]
    tls: Option<Box<TlsSession>>,
    keep_alive: Option<KeepAlive>,
    served: u32,
}

impl Connection {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Start an attempt: ask the pool.
    Acquire,
    /// Queued for a pool slot (the ticket is in `waiter`).
    AwaitSlot,
    /// An idle pooled connection is being checked before reuse.
    Check,
    /// Resolving the connect target's name.
    Resolve,
    /// Connection attempts to the resolved addresses (Happy Eyeballs).
    Dial,
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
    /// Give the connection back to the pool (or close it), then `Next`.
    Release(bool, Next),
    /// Backoff sleep until the instant, then a new attempt.
    Backoff(Instant),
    /// Finished.
    Done,
    /// Ended with an error (kept in `failed`, returned again on every poll).
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Pending {
    #[default]
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
///
/// ```
/// # use std::time::{Instant, SystemTime};
/// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
/// # let agent: Agent<u32> = Agent::new(Config::default())?;
/// # let now = Instant::now();
/// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
/// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
/// # let (mut reply, mut attempt) = (&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..], None);
/// # loop { // a scripted server, until the head arrives
/// #     let input = match call.poll_output(now)? {
/// #         Output::Resolve { .. } => Input::Resolved(vec![([127, 0, 0, 1], 80).into()]),
/// #         Output::Connect { id, .. } => { attempt = Some(id); continue }
/// #         Output::AwaitConnect { .. } => Input::Connected { id: attempt.take().unwrap(), conn: 1 },
/// #         Output::Transmit { data, .. } => Input::from_write(Ok(data.len())),
/// #         Output::Receive { buf, .. } => {
/// #             let n = reply.len().min(buf.len());
/// #             buf[..n].copy_from_slice(&reply[..n]);
/// #             reply = &reply[n..];
/// #             Input::from_read(Ok(n))
/// #         }
/// #         Output::Head(head) => { assert_eq!(head.status, 200); break }
/// #         other => panic!("unexpected {other:?}"),
/// #     };
/// #     call.handle_input(input, now)?;
/// # }
/// // The head arrived (scripted above); the body follows, then Done.
/// let Output::Body(bytes) = call.poll_output(now)? else { panic!() };
/// assert_eq!(bytes, b"hello");
/// call.consume(5);
/// assert!(matches!(call.poll_output(now)?, Output::Done));
/// assert_eq!(agent.pool_stats().idle, 1); // the connection went back to the pool
/// # Ok::<(), hawser_core::Error>(())
/// ```
pub struct Call<T> {
    agent: Agent<T>,
    /// The call's and the current attempt's `tracing` spans.
    trace: Trace,
    retry: Retry,
    redirect: crate::redirect::RedirectPolicy,
    auth: Option<Auth>,
    /// The origin credentials are scoped to, and what was sent: only with
    /// `auth` (an origin's `Origin` costs two allocations).
    auth_state: Option<AuthState>,
    /// Credentials for the route's proxy (sent to the proxy only).
    /// Boxed: most calls have none, and a `Call` is moved around whole.
    proxy_auth: Option<Box<ProxyAuth>>,

    method: Method,
    url: Url,
    headers: Fields,
    body: Body,
    body_streamed: u64,

    state: State,
    tracker: Tracker,
    retry_state: RetryState,
    rng: LazyRng,
    start: Instant,
    wall0: SystemTime,

    route: Route,
    key: PoolKey,
    /// The core's state of the current connection, and the driver's
    /// transport for it (absent while connecting).
    conn: Option<Connection>,
    transport: Option<T>,
    /// The pool slot the current attempt holds.
    lease: Option<Lease>,
    /// The place in the pool's wait queue, while waiting for a slot.
    waiter: Option<WaiterTicket>,
    /// Name resolution and connection attempts.
    dial: Dial,
    /// Transports to hand to the driver for closing.
    closing: Vec<T>,
    /// Everything about the current attempt, replaced wholesale by the next.
    attempt: Attempt,
    /// The byte buffers between the driver and h1 (and TLS).
    wire: Wire,
    reader: ResponseReader,

    staged_head: Option<Head>,
    decoded_total: u64,
    /// Body bytes handed out so far.
    body_staged: u64,
    /// The final response's declared body length (`None` when unknown or
    /// decoded).
    declared_len: Option<u64>,
    /// The cap for reading the body into memory, and whether it is armed.
    in_memory_cap: u64,
    memory_limit: Option<u64>,
    /// Room in the driver's own buffer for body bytes read straight from
    /// the connection ([`Call::offer_body_room`]); 0 when none is offered.
    body_room: usize,
    /// The driver takes [`Output::TransmitVectored`] ([`Call::accept_vectored`]).
    vectored: bool,
    history: Vec<HistoryItem>,
    report: CallReport,
    error: Option<Error>,
    /// The error the call ended with, returned again by every later poll.
    failed: Option<Error>,
    /// The error being handled is final: no retry decision.
    final_pending: bool,
    redirects_followed: u32,
    now_hint: Instant,
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// What a request sends as `Accept-Encoding` when the session decompresses
/// and neither it nor the request names one.
pub(crate) const ACCEPT_ENCODINGS: &str = "gzip, deflate";

/// Session headers, then the request's (a name the request sets replaces
/// the session's), then the request's removals. A body helper's
/// Content-Type yields to a session default, as in requests.
fn merge_headers(
    cfg: &Config,
    req_headers: HeaderMap,
    implicit_content_type: bool,
    opts: &CallOptions,
) -> HeaderMap {
    let mut headers = cfg.headers.clone();
    for name in req_headers.keys() {
        if !(name == CONTENT_TYPE && implicit_content_type && headers.contains_key(name)) {
            headers.remove(name);
        }
    }
    for (name, value) in &req_headers {
        if name == CONTENT_TYPE && implicit_content_type && headers.contains_key(name) {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    for name in &opts.remove_headers {
        headers.remove(name);
    }
    let removed = |n: &http::header::HeaderName| opts.remove_headers.contains(n);
    if cfg.decompress && !headers.contains_key(ACCEPT_ENCODING) && !removed(&ACCEPT_ENCODING) {
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(ACCEPT_ENCODINGS));
    }
    headers
}

/// A call's request fields: the session's map, shared, while neither the
/// request nor a redirect changed it (most GETs), else its own copy.
enum Fields {
    Session(Arc<HeaderMap>),
    Own(HeaderMap),
}

impl std::ops::Deref for Fields {
    type Target = HeaderMap;
    fn deref(&self) -> &HeaderMap {
        match self {
            Fields::Session(shared) => shared,
            Fields::Own(own) => own,
        }
    }
}

impl Fields {
    /// The call's own map, copied from the session's on the first change.
    fn to_mut(&mut self) -> &mut HeaderMap {
        if let Fields::Session(shared) = self {
            *self = Fields::Own(HeaderMap::clone(shared));
        }
        match self {
            Fields::Own(own) => own,
            Fields::Session(shared) => Arc::make_mut(shared),
        }
    }
}

/// The call's jitter RNG (retry backoff, Digest nonces), seeded on its
/// first draw: most calls never draw, and seeding ChaCha costs about as
/// much as writing the request head, while the state (320 bytes) would
/// make every `Call` that much larger to move. The stream for a seed is
/// the same as an eager `JitterRng::seed_from_u64(seed)`.
struct LazyRng {
    seed: u64,
    rng: Option<Box<JitterRng>>,
}

impl LazyRng {
    fn new(seed: u64) -> Self {
        LazyRng { seed, rng: None }
    }

    fn get(&mut self) -> &mut JitterRng {
        let seed = self.seed;
        self.rng
            .get_or_insert_with(|| Box::new(JitterRng::seed_from_u64(seed)))
    }
}

impl rand::RngCore for LazyRng {
    fn next_u32(&mut self) -> u32 {
        self.get().next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.get().next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.get().fill_bytes(dst);
    }
}

/// The state of one attempt: a new one replaces it wholesale, so nothing
/// an attempt learnt can leak into the next.
#[derive(Default)]
struct Attempt {
    /// The connection came from the pool.
    reused: bool,
    /// Request bytes (not handshake or CONNECT) went out.
    sent_any: bool,
    /// Response bytes arrived while waiting for the head.
    got_any: bool,
    /// The connection cannot carry another request (we or the server said
    /// close, or a final status answered `Expect: 100-continue`).
    close: bool,
    /// The peer closed the connection (or TLS saw close_notify).
    eof: bool,
    /// The attempt's error is the peer closing before the response ended.
    closed_early: bool,
    /// Position in an in-memory body.
    body_pos: usize,
    /// In-memory body bytes are still to be sent.
    send_body_bytes: bool,
    /// The last Transmit handed out body bytes, not `wire.out`.
    tx_from_body: bool,
    /// The last output was a `TransmitVectored` of `wire.out`, then body.
    tx_pair: bool,
    chunked: Option<h1::ChunkedEncoder>,
    /// Bytes read and discarded while draining.
    drained: u64,
    /// The server's `Keep-Alive` hint, for the pool.
    keep_alive: Option<KeepAlive>,
    /// Where the bytes of the current `Output::Body` are.
    pending: Pending,
    decoder: Option<Decoder>,
    /// The `max` of the `Output::ReceiveBody` last asked (until answered).
    direct: Option<usize>,
}

/// The byte buffers of a connection's exchange: what goes out (plaintext,
/// or TLS records), and what came in (plaintext for h1; with TLS, the
/// ciphertext the session has not taken yet). One type with or without
/// TLS; the TLS session itself travels with the pooled connection.
#[derive(Default)]
pub(crate) struct Wire {
    /// Response header names the last call's reader learnt (see
    /// `ResponseReader::take_names`), for the next call's.
    names: h1::NameCache,
    out: Vec<u8>,
    out_pos: usize,
    inbuf: Vec<u8>,
    in_start: usize,
    in_end: usize,
    #[cfg(feature = "rustls")]
    raw: Vec<u8>,
    #[cfg(feature = "rustls")]
    raw_start: usize,
    #[cfg(feature = "rustls")]
    raw_end: usize,
}

impl Wire {
    /// Give back buffers that grew past the usual size: a kept set holds
    /// about 16 KiB of read buffer, however large the last response was.
    fn shrink(&mut self) {
        self.inbuf.truncate(READ_BUF);
        self.inbuf.shrink_to(READ_BUF);
        #[cfg(feature = "rustls")]
        {
            self.raw.truncate(READ_BUF);
            self.raw.shrink_to(READ_BUF);
        }
        self.out.clear();
        self.out.shrink_to(READ_BUF);
    }

    /// Bytes the buffers hold allocated.
    fn capacity(&self) -> usize {
        let n = self.out.capacity() + self.inbuf.capacity();
        #[cfg(feature = "rustls")]
        let n = n + self.raw.capacity();
        n
    }

    /// Forget the bytes of the last connection, keeping the allocations.
    fn reset(&mut self) {
        self.out.clear();
        self.out_pos = 0;
        self.in_start = 0;
        self.in_end = 0;
        #[cfg(feature = "rustls")]
        {
            self.raw_start = 0;
            self.raw_end = 0;
        }
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

impl<T> Call<T> {
    /// A call, built straight into `slot`: a `Call` is about 3 KB, and
    /// building it on the stack first would copy it once more into its box
    /// (`Box::write` lets the compiler write the fields in place).
    #[inline(always)]
    fn new_in<S>(
        agent: Agent<T>,
        request: Request,
        opts: CallOptions,
        now: Instant,
        wall: SystemTime,
        slot: impl FnOnce(Call<T>) -> S,
    ) -> Result<S> {
        let cfg = agent.config();
        let url_creds = request
            .url_credentials()
            .map(|(u, p)| Auth::basic(u.to_owned(), p.to_owned()));
        let implicit_content_type = request.content_type_is_implicit();
        let (method, url, req_headers, body) = request.into_parts();
        // The request's own settings, else its mount's, else the session's.
        let mount = agent.resolved_mount(&url);
        let timeouts = opts
            .timeouts
            .or_else(|| mount.and_then(|m| m.timeouts))
            .unwrap_or(cfg.timeouts);
        let retry = match (&opts.retry, mount.and_then(|m| m.mount.retry.as_ref())) {
            (Some(r), _) | (None, Some(r)) => r.clone(),
            (None, None) => cfg.retry.clone(),
        };
        let redirect = opts
            .redirect
            .or_else(|| mount.and_then(|m| m.mount.redirect))
            .unwrap_or(cfg.redirect);
        // requests' order: explicit auth (the request's, else the
        // session's), and only without one the URL's userinfo.
        let auth = opts
            .auth
            .clone()
            .or_else(|| agent.shared.auth.clone())
            .or(url_creds);

        // Session headers, then the request's (a name the request sets
        // replaces the session's), then the request's removals. A body
        // helper's Content-Type yields to a session default, as in requests.
        let headers = if req_headers.is_empty() && opts.remove_headers.is_empty() {
            Fields::Session(Arc::clone(&agent.shared.default_headers))
        } else {
            Fields::Own(merge_headers(
                cfg,
                req_headers,
                implicit_content_type,
                &opts,
            ))
        };

        let retry_state = RetryState::new(&retry, method.clone(), url.as_str());
        if let Some(budget) = &agent.shared.budget {
            // Each logical request earns the session some retry allowance.
            let mut b = budget
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            b.advance_to(now);
            b.deposit();
        }
        let auth_state = auth.as_ref().map(|_| AuthState::for_origin(&url));
        let (route, key) = route_for(&agent, &url)?;
        let proxy_auth = ProxyAuth::for_route(&route, &agent)?;
        let mut wire = agent.shared.take_wire();
        let reader = ResponseReader::new(RequestInfo::new(&method), cfg.limits)
            .with_names(std::mem::take(&mut wire.names));
        let mut trace = Trace::new(&method, &url);
        trace.attempt(1, &url);
        Ok(slot(Call {
            trace,
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
            rng: LazyRng::new(opts.seed),
            start: now,
            wall0: wall,
            route,
            key,
            conn: None,
            transport: None,
            lease: None,
            waiter: None,
            dial: Dial::default(),
            closing: Vec::new(),
            attempt: Attempt::default(),
            wire,
            reader,
            staged_head: None,
            decoded_total: 0,
            body_staged: 0,
            declared_len: None,
            in_memory_cap: opts.max_body_in_memory.unwrap_or(cfg.max_body_in_memory),
            memory_limit: None,
            body_room: 0,
            vectored: false,
            history: Vec::new(),
            report: CallReport::default(),
            error: None,
            failed: None,
            final_pending: false,
            redirects_followed: 0,
            now_hint: now,
            agent,
        }))
    }

    /// The report of the call so far (complete after [`Output::Done`]).
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// # let (mut reply, mut attempt) = (&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..], None);
    /// # loop { // a scripted server, until the head arrives
    /// #     let input = match call.poll_output(now)? {
    /// #         Output::Resolve { .. } => Input::Resolved(vec![([127, 0, 0, 1], 80).into()]),
    /// #         Output::Connect { id, .. } => { attempt = Some(id); continue }
    /// #         Output::AwaitConnect { .. } => Input::Connected { id: attempt.take().unwrap(), conn: 1 },
    /// #         Output::Transmit { data, .. } => Input::from_write(Ok(data.len())),
    /// #         Output::Receive { buf, .. } => {
    /// #             let n = reply.len().min(buf.len());
    /// #             buf[..n].copy_from_slice(&reply[..n]);
    /// #             reply = &reply[n..];
    /// #             Input::from_read(Ok(n))
    /// #         }
    /// #         Output::Head(head) => { assert_eq!(head.status, 200); break }
    /// #         other => panic!("unexpected {other:?}"),
    /// #     };
    /// #     call.handle_input(input, now)?;
    /// # }
    /// assert_eq!(call.report().attempts.len(), 1);
    /// let Output::Body(b) = call.poll_output(now)? else { panic!() };
    /// let n = b.len();
    /// call.consume(n);
    /// assert!(matches!(call.poll_output(now)?, Output::Done));
    /// let report = call.report();
    /// assert_eq!((report.connections_opened, report.connections_reused), (1, 0));
    /// assert!(report.redirects.is_empty());
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn report(&self) -> CallReport {
        let mut r = self.report.clone();
        r.phases = self.tracker.phase_times(self.last_now());
        r.slept = self.retry_state.total_sleep();
        r
    }

    fn last_now(&self) -> Instant {
        self.now_hint
    }

    /// 1 for the first request of the call, then one more per request
    /// written (retry, redirect hop, auth re-send).
    fn attempt_number(&self) -> u32 {
        u32::try_from(self.report.attempts.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// The current URL (changes when a redirect is followed).
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// assert_eq!(call.url().as_str(), "http://example.test/");
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Make room for a read and say where it goes: `(raw, start)` for TLS
    /// ciphertext, or the plaintext buffer.
    fn prepare_read(&mut self) -> (bool, usize) {
        #[cfg(feature = "rustls")]
        if self.conn.as_ref().is_some_and(Connection::is_tls) {
            // Keep ciphertext TLS has not taken yet; lend the space after it.
            self.wire
                .raw
                .copy_within(self.wire.raw_start..self.wire.raw_end, 0);
            self.wire.raw_end -= self.wire.raw_start;
            self.wire.raw_start = 0;
            if self.wire.raw.len() < self.wire.raw_end + READ_BUF {
                self.wire.raw.resize(self.wire.raw_end + READ_BUF, 0);
            }
            return (true, self.wire.raw_end);
        }
        self.make_room();
        (false, self.wire.in_end)
    }
    /// The driver has a buffer of `room` bytes for the next body bytes: the
    /// next time they must come from the connection, and nothing needs
    /// parsing or decoding, the core asks for them with
    /// [`Output::ReceiveBody`] (read them straight into that buffer)
    /// rather than [`Output::Receive`] into its own buffer plus
    /// [`Output::Body`] to copy out. The offer holds until body bytes are
    /// handed over either way, or until it is replaced (0 withdraws it).
    /// A driver that never offers never sees `ReceiveBody`.
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// # let mut reply = &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"[..];
    /// # loop { // a scripted server, until the head arrives
    /// #     let input = match call.poll_output(now)? {
    /// #         Output::Resolve { .. } => Input::Resolved(vec![([127, 0, 0, 1], 80).into()]),
    /// #         Output::Connect { id, .. } => Input::Connected { id, conn: 7 },
    /// #         Output::Transmit { data, .. } => Input::Written(data.len()),
    /// #         Output::Receive { buf, .. } => {
    /// #             let n = reply.len().min(buf.len());
    /// #             buf[..n].copy_from_slice(&reply[..n]);
    /// #             reply = &reply[n..];
    /// #             Input::Read(n)
    /// #         }
    /// #         Output::Head(_) => break,
    /// #         other => panic!("{other:?}"),
    /// #     };
    /// #     call.handle_input(input, now)?;
    /// # }
    /// // The head is in; the body ("hello") is still on the wire.
    /// let mut mine = [0u8; 64];
    /// call.offer_body_room(mine.len());
    /// let Output::ReceiveBody { max, .. } = call.poll_output(now)? else { panic!() };
    /// assert_eq!(max, 5); // never past the body's end
    /// mine[..5].copy_from_slice(b"hello"); // what a socket read would do
    /// call.handle_input(Input::Read(5), now)?;
    /// assert_eq!(&mine[..5], b"hello");
    /// assert!(matches!(call.poll_output(now)?, Output::Done));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn offer_body_room(&mut self, room: usize) {
        self.body_room = room;
    }

    /// Tells the core this driver can write two buffers at once
    /// (`writev`, `AsyncWrite::poll_write_vectored`). A request head and
    /// its in-memory body then come as one [`Output::TransmitVectored`]
    /// instead of two `Transmit`s: one syscall, and for a small body one
    /// packet. Only on plain connections (TLS encrypts the two together
    /// anyway). A driver that never accepts never sees it.
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// let req = hawser_core::request::Request::post("http://example.test/")
    ///     .body("hello")
    ///     .build()?;
    /// let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// call.accept_vectored(true);
    /// let mut wire = Vec::new();
    /// loop {
    ///     let input = match call.poll_output(now)? {
    ///         Output::Resolve { .. } => Input::Resolved(vec![([127, 0, 0, 1], 80).into()]),
    ///         Output::Connect { id, .. } => Input::Connected { id, conn: 7 },
    ///         Output::TransmitVectored { bufs: [head, body], .. } => {
    ///             // What writev(2) would do: the head, then the body.
    ///             wire.extend_from_slice(head);
    ///             wire.extend_from_slice(body);
    ///             Input::Written(head.len() + body.len())
    ///         }
    ///         Output::Receive { .. } => break, // all of the request is out
    ///         other => panic!("{other:?}"),
    ///     };
    ///     call.handle_input(input, now)?;
    /// }
    /// assert!(wire.starts_with(b"POST / HTTP/1.1\r\n"));
    /// assert!(wire.ends_with(b"\r\n\r\nhello"));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn accept_vectored(&mut self, yes: bool) {
        self.vectored = yes;
    }

    /// The rest of the in-memory body, if it can go out with the head in
    /// one vectored write.
    fn pair_with_head(&self) -> Option<Range<usize>> {
        if !self.vectored || !self.attempt.send_body_bytes {
            return None;
        }
        #[cfg(feature = "rustls")]
        if self.conn.as_ref().is_some_and(|c| c.tls.is_some()) {
            return None;
        }
        let len = self.body.as_bytes()?.len();
        (self.attempt.body_pos < len).then_some(self.attempt.body_pos..len)
    }

    /// How much of the offered room to ask for with
    /// [`Output::ReceiveBody`], if the next body bytes can go straight to
    /// the driver's buffer.
    fn direct_room(&self) -> Option<usize> {
        if self.body_room == 0
            || self.state != State::ReadBody
            || self.attempt.pending != Pending::None
            || self.attempt.decoder.is_some()
            || self.wire.in_start < self.wire.in_end
        {
            return None;
        }
        #[cfg(feature = "rustls")]
        if self.conn.as_ref().is_some_and(Connection::is_tls) {
            return None;
        }
        let left = self.reader.body_room()?;
        Some(usize::try_from(left).map_or(self.body_room, |l| l.min(self.body_room)))
    }

    /// Mark `n` bytes of the last [`Output::Body`] as used.
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// # let (mut reply, mut attempt) = (&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..], None);
    /// # loop { // a scripted server, until the head arrives
    /// #     let input = match call.poll_output(now)? {
    /// #         Output::Resolve { .. } => Input::Resolved(vec![([127, 0, 0, 1], 80).into()]),
    /// #         Output::Connect { id, .. } => { attempt = Some(id); continue }
    /// #         Output::AwaitConnect { .. } => Input::Connected { id: attempt.take().unwrap(), conn: 1 },
    /// #         Output::Transmit { data, .. } => Input::from_write(Ok(data.len())),
    /// #         Output::Receive { buf, .. } => {
    /// #             let n = reply.len().min(buf.len());
    /// #             buf[..n].copy_from_slice(&reply[..n]);
    /// #             reply = &reply[n..];
    /// #             Input::from_read(Ok(n))
    /// #         }
    /// #         Output::Head(head) => { assert_eq!(head.status, 200); break }
    /// #         other => panic!("unexpected {other:?}"),
    /// #     };
    /// #     call.handle_input(input, now)?;
    /// # }
    /// let Output::Body(bytes) = call.poll_output(now)? else { panic!() };
    /// assert_eq!(bytes, b"hello");
    /// call.consume(2); // the caller took "he"
    /// let Output::Body(rest) = call.poll_output(now)? else { panic!() };
    /// assert_eq!(rest, b"llo");
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn consume(&mut self, n: usize) {
        match &mut self.attempt.pending {
            Pending::None => {}
            Pending::In(r) => {
                r.start = (r.start + n).min(r.end);
                if r.start >= r.end {
                    self.attempt.pending = Pending::None;
                }
            }
            Pending::Decoded => {
                if let Some(d) = &mut self.attempt.decoder {
                    let buf = d.buffer();
                    let n = n.min(buf.len());
                    buf.drain(..n);
                    if buf.is_empty() {
                        self.attempt.pending = Pending::None;
                    }
                }
            }
        }
    }

    /// What the driver must do next. Call it again after each
    /// [`Call::handle_input`] (and after each output that needs no answer).
    /// An output that needs an answer is returned again until it is
    /// answered. After a failure every call returns the same error.
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// // Nothing is pooled yet, so the first output asks to resolve the host...
    /// assert!(matches!(call.poll_output(now)?, Output::Resolve { host: "example.test", port: 80, .. }));
    /// // ...and asks again until it is answered.
    /// assert!(matches!(call.poll_output(now)?, Output::Resolve { .. }));
    /// call.handle_input(Input::Resolved(vec![([127, 0, 0, 1], 80).into()]), now)?;
    /// assert!(matches!(call.poll_output(now)?, Output::Connect { .. }));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn poll_output(&mut self, now: Instant) -> Result<Output<'_, T>> {
        #[cfg(feature = "tracing")]
        let span = self.trace.current();
        #[cfg(feature = "tracing")]
        let _entered = span.enter();
        self.now_hint = now;
        if self.state == State::Failed {
            return Err(self.sticky_error());
        }
        // Closes wait while a race is on: any output but Connect and
        // AwaitConnect tells the driver the race is over.
        if !self.racing()
            && let Some(t) = self.closing.pop()
        {
            return Ok(Output::Close(t));
        }
        let step = match self.advance(now) {
            Ok(s) => s,
            Err(e) => return Err(self.fail_final(e)),
        };
        if !matches!(step, Step::Connect(..) | Step::AwaitConnect(_))
            && let Some(t) = self.closing.pop()
        {
            // Pool work during this step freed transports: close them
            // first; the step (not a started attempt) is computed again.
            return Ok(Output::Close(t));
        }
        let ready = match step {
            Step::Check
            | Step::Transmit
            | Step::TransmitBody(_)
            | Step::TransmitPair(_)
            | Step::Receive(_) => self.transport.is_some(),
            Step::AwaitSlot(_) => self.waiter.is_some(),
            Step::Head => self.staged_head.is_some(),
            _ => true,
        };
        if !ready {
            return Err(self.fail_final(usage("the call lost track of its connection")));
        }
        let until = self.tracker.poll_timeout().at;
        Ok(match step {
            Step::Resolve => {
                let (host, port) = connect_target(&self.route);
                Output::Resolve {
                    host: host.trim_start_matches('[').trim_end_matches(']'),
                    port,
                    until,
                }
            }
            Step::Connect(id, addr) => Output::Connect { id, addr, until },
            Step::AwaitConnect(at) => Output::AwaitConnect { until: at },
            Step::AwaitSlot(at) => match &self.waiter {
                Some(ticket) => Output::AwaitSlot {
                    until: at,
                    slot: SlotWait {
                        shared: &self.agent.shared,
                        ticket,
                    },
                },
                None => return Err(usage("waiting without a ticket")),
            },
            Step::Check => match self.transport.as_mut() {
                Some(conn) => Output::Check { conn },
                None => return Err(usage("check without a connection")),
            },
            Step::Transmit => match self.transport.as_mut() {
                Some(conn) => Output::Transmit {
                    conn,
                    data: &self.wire.out[self.wire.out_pos..],
                    until,
                },
                None => return Err(usage("transmit without a connection")),
            },
            Step::TransmitPair(r) => match self.transport.as_mut() {
                Some(conn) => Output::TransmitVectored {
                    conn,
                    bufs: [
                        &self.wire.out[self.wire.out_pos..],
                        self.body.as_bytes().and_then(|b| b.get(r)).unwrap_or(&[]),
                    ],
                    until,
                },
                None => return Err(usage("transmit without a connection")),
            },
            Step::TransmitBody(r) => match self.transport.as_mut() {
                Some(conn) => Output::Transmit {
                    conn,
                    data: self.body.as_bytes().and_then(|b| b.get(r)).unwrap_or(&[]),
                    until,
                },
                None => return Err(usage("transmit without a connection")),
            },
            Step::Receive(until) => {
                if let Some(max) = self.direct_room() {
                    self.attempt.direct = Some(max);
                    return match self.transport.as_mut() {
                        Some(conn) => Ok(Output::ReceiveBody { conn, max, until }),
                        None => Err(usage("receive without a connection")),
                    };
                }
                let (tls, start) = self.prepare_read();
                let buf = if tls {
                    #[cfg(feature = "rustls")]
                    {
                        &mut self.wire.raw[start..]
                    }
                    #[cfg(not(feature = "rustls"))]
                    {
                        &mut self.wire.inbuf[start..]
                    }
                } else {
                    &mut self.wire.inbuf[start..]
                };
                match self.transport.as_mut() {
                    Some(conn) => Output::Receive { conn, buf, until },
                    None => return Err(usage("receive without a connection")),
                }
            }
            Step::SendBody => Output::SendBody {
                max: SEND_PIECE,
                until,
            },
            Step::Sleep(until) => Output::Sleep { until },
            Step::Head => match self.staged_head.take() {
                Some(h) => Output::Head(h),
                None => return Err(usage("no response head to deliver")),
            },
            Step::Body => {
                self.body_room = 0; // handed over by copy: the offer is used
                match &self.attempt.pending {
                    Pending::In(r) => Output::Body(&self.wire.inbuf[r.clone()]),
                    Pending::Decoded => match &mut self.attempt.decoder {
                        Some(d) => Output::Body(d.buffer().as_slice()),
                        None => Output::Body(&[]),
                    },
                    Pending::None => Output::Body(&[]),
                }
            }
            Step::Done => Output::Done,
        })
    }
}

/// An [`Output`] without borrows, computed by `advance`.
enum Step {
    Resolve,
    Connect(ConnectId, std::net::SocketAddr),
    AwaitConnect(Instant),
    AwaitSlot(Instant),
    Check,
    Transmit,
    TransmitBody(Range<usize>),
    /// `wire.out`, then this range of the in-memory body, in one write.
    TransmitPair(Range<usize>),
    Receive(Instant),
    SendBody,
    Sleep(Instant),
    Head,
    Body,
    Done,
}

/// Append `piece` to a body being read into memory, growing `out` by
/// doubling but never past `cap` (the in-memory cap, which the call
/// enforces), so reading a large body peaks near the cap rather than at
/// twice it.
///
/// ```
/// let mut out = Vec::new();
/// hawser_core::call::extend_within(&mut out, &[1; 700], 1000);
/// hawser_core::call::extend_within(&mut out, &[2; 300], 1000);
/// assert_eq!(out.len(), 1000);
/// assert!(out.capacity() <= 1000);
/// ```
pub fn extend_within(out: &mut Vec<u8>, piece: &[u8], cap: usize) {
    let need = out.len() + piece.len();
    if need > out.capacity() {
        let want = need
            .max(out.capacity().saturating_mul(2))
            .min(cap.max(need));
        out.reserve_exact(want - out.len());
    }
    out.extend_from_slice(piece);
}

fn usage(msg: &'static str) -> Error {
    Error::new(ErrorKind::Usage, msg)
}

fn protocol(msg: &'static str) -> Error {
    Error::new(ErrorKind::Protocol, msg)
}

fn proxy_error(msg: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::Proxy, msg)
}
