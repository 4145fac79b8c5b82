//! The conformance suite: one list of scenarios every hawser backend runs.
//!
//! A backend implements [`ConformanceClient`] (and [`ConformanceSession`])
//! in its own `tests/`, mapping the plain data types here onto its API, and
//! runs each scenario with one call, e.g.
//! `hawser_testkit::conformance::keep_alive_reuse(&MyClient)` in a test,
//! or all of them at once with [`conformance_tests!`](crate::conformance_tests)
//! (one `#[test]` per scenario), or in a loop over [`all`]. Each scenario starts its own
//! loopback servers, drives the client, and asserts with server-side
//! evidence (hit counts, connection ids, what a proxy saw), so a client
//! cannot pass by reporting what the test wants to hear. A failing scenario
//! panics with a message naming what was expected.
//!
//! Expected behaviour comes from `docs/RETRY.md` (urllib3 semantics plus
//! hawser's deliberate improvements), the hawser-std issue, and Python
//! requests 2.34 for the "Behaving like requests" section.
//!
//! The "Connection lifecycle" scenarios (from
//! [`failed_connect_frees_slot_error_mode`] on) check that nothing a
//! request holds leaks: a pool slot after a failed connect, what an
//! abandoned request held ([`ConformanceSession::abandon`]: while queued
//! for a slot, connecting, waiting for the head, mid-body, in a backoff
//! sleep), and that a connection is never reused with unsolicited or
//! left-over bytes on it, or after the server closed it. Where a client
//! answers [`Abandoned::Unsupported`] the abandon step is skipped with a
//! note and the rest of the scenario still runs; only
//! [`AbandonAt::AfterBodyBytes`] is required of every client.
//!
//! The "Behaving like requests" scenarios (from [`proxy_refusal_is_final`]
//! on) pin down where hawser follows Python requests 2.34: a refused
//! CONNECT is final, the caller's Content-Type wins over the body
//! helper's ([`TestBody::Json`], [`TestBody::Form`],
//! [`TestRequest::headers_after_body`]), explicit auth beats URL
//! credentials, a default header can be removed for one request
//! ([`TestRequest::remove_headers`]), URLs are re-quoted like
//! `requote_uri`, and the server's reason phrase is reported
//! ([`TestResponse::reason`]).
//!
//! The "Hostile servers and careless callers" scenarios (from
//! [`in_memory_read_is_capped`] on) check that neither can hurt the
//! process or leak a secret: reading a body into memory is capped
//! ([`ClientConfig::max_body_in_memory`], [`TestErrorKind::BodyTooLarge`])
//! against an endless body ([`Behaviour::Endless`]), a declared length and
//! a gzip bomb ([`Behaviour::GzipBomb`]); a bodiless response labelled
//! gzip is an empty body; a password in the URL never appears in an
//! error; a second `Host` or `Content-Length` set by the caller is refused
//! before sending ([`TestErrorKind::InvalidRequest`]); headers marked
//! sensitive ([`ClientConfig::sensitive_headers`]) stay on their origin
//! across redirects; and the `__Secure-` / `__Host-` cookie prefixes are
//! enforced.
//!
//! The "Per-prefix policies and hooks" scenarios (from
//! [`mount_longest_prefix_wins`] on) check requests' `Session.mount`
//! ([`ClientConfig::mounts`]: the longest prefix wins, what it leaves unset
//! is the session's, a request's own settings beat it, a mount with pool
//! settings has its own connections) and the hooks
//! ([`ClientConfig::hooks`], [`ConformanceSession::hook_log`]): one per
//! request written and per head read, in order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{
    pattern, Behaviour, BlackHole, DigestAlgorithm, ProxyServer, RecordedRequest, Reply, TestCa,
    TestServer, TlsVariant,
};

// ---------------------------------------------------------------------------
// Plain data types the backend maps onto its own API.
// ---------------------------------------------------------------------------

/// Retry settings, with urllib3's `Retry` meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// False: retries disabled (urllib3's `Retry(False)` / `total=False`):
    /// the original error is returned, never a "retries exhausted" wrapper.
    pub enabled: bool,
    /// `total`; None = no limit of its own.
    pub total: Option<u32>,
    /// `connect`; None = bounded by `total` only.
    pub connect: Option<u32>,
    /// `read`; None = bounded by `total` only.
    pub read: Option<u32>,
    /// `status`; None = bounded by `total` only.
    pub status: Option<u32>,
    /// `status_forcelist`.
    pub status_forcelist: Vec<u16>,
    /// `backoff_factor`, seconds.
    pub backoff_factor: f64,
    /// `backoff_max`, seconds (None = the backend's default, 120 s).
    pub backoff_max: Option<f64>,
    /// `allowed_methods`; None = the default {HEAD, GET, PUT, DELETE, OPTIONS, TRACE}.
    pub allowed_methods: Option<Vec<String>>,
    /// `respect_retry_after_header`.
    pub respect_retry_after: bool,
    /// `raise_on_status`: an error (retries exhausted) instead of the last
    /// response when status retries run out.
    pub raise_on_status: bool,
}

impl RetryConfig {
    /// Retries disabled: every error surfaces as itself.
    pub fn disabled() -> RetryConfig {
        RetryConfig {
            enabled: false,
            total: Some(0),
            connect: None,
            read: None,
            status: None,
            status_forcelist: Vec::new(),
            backoff_factor: 0.0,
            backoff_max: None,
            allowed_methods: None,
            respect_retry_after: true,
            raise_on_status: true,
        }
    }

    /// `Retry(total=n)` with no backoff and no forcelist.
    pub fn total(n: u32) -> RetryConfig {
        RetryConfig {
            enabled: true,
            total: Some(n),
            ..RetryConfig::disabled()
        }
    }

    /// Adds statuses to `status_forcelist`.
    pub fn forcelist(mut self, statuses: &[u16]) -> RetryConfig {
        self.status_forcelist.extend_from_slice(statuses);
        self
    }

    /// Sets `backoff_factor` (seconds).
    pub fn backoff(mut self, factor: f64) -> RetryConfig {
        self.backoff_factor = factor;
        self
    }
}

/// Session-wide authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// Basic (sent pre-emptively, like requests).
    Basic {
        /// User name.
        user: String,
        /// Password.
        pass: String,
    },
    /// Digest (RFC 7616), answering the server's challenge.
    Digest {
        /// User name.
        user: String,
        /// Password.
        pass: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

/// Session settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// Retry policy.
    pub retry: RetryConfig,
    /// Connect timeout (None: the backend's finite default).
    pub connect_timeout: Option<Duration>,
    /// Read timeout: longest silence waiting for the head or in the body.
    pub read_timeout: Option<Duration>,
    /// Overall deadline per logical request, across attempts and sleeps.
    pub deadline: Option<Duration>,
    /// Max redirects to follow; `Some(0)`: do not follow (return the 3xx).
    pub max_redirects: Option<u32>,
    /// Session authentication.
    pub auth: Option<AuthConfig>,
    /// Proxy URL for every scheme, credentials in the URL if any.
    pub proxy: Option<String>,
    /// Extra CA certificate (PEM) to trust.
    pub ca_pem: Option<String>,
    /// Keep a cookie jar.
    pub cookies: bool,
    /// Headers sent with every request.
    pub default_headers: Vec<(String, String)>,
    /// Cap on active (checked-out or connecting) connections per host.
    pub max_connections_per_host: Option<usize>,
    /// When the cap is reached: wait for a connection (true), or fail at
    /// once (false) with a pool-full error (kind [`TestErrorKind::Other`]).
    pub pool_wait: bool,
    /// Bound on waiting for a pooled connection (with `pool_wait`); when it
    /// runs out the error is `Timeout { phase: PoolWait }`. None: bounded
    /// only by the deadline.
    pub pool_wait_timeout: Option<Duration>,
    /// The cap, in bytes, on reading a response body into memory (what the
    /// client's "read the whole body" call, e.g. hawser's `bytes()`,
    /// `text()`, `json()`, accepts; [`ConformanceSession::send`] reads
    /// bodies that way). A body over it fails with
    /// [`TestErrorKind::BodyTooLarge`]: checked against a declared
    /// `Content-Length` before reading, and against the (decoded) bytes
    /// while reading, so neither an endless body nor a decompression bomb
    /// is buffered past it. None: the client's default (hawser: 10 MiB).
    pub max_body_in_memory: Option<u64>,
    /// Names (case-insensitive) of headers the caller marks sensitive: set
    /// on a request, they are stripped on a redirect to another origin,
    /// exactly like `Authorization`, and kept on a same-origin redirect.
    /// Headers not listed follow redirects as before (requests).
    pub sensitive_headers: Vec<String>,
    /// Per-prefix policies, like requests' `session.mount(prefix, adapter)`:
    /// for each request the mount with the longest prefix matching its URL
    /// (ignoring ASCII case) sets what it sets; everything it leaves unset
    /// comes from the session, and a request's own overrides beat it.
    pub mounts: Vec<MountConfig>,
    /// Install the suite's hooks: a request hook that adds
    /// `x-hook-attempt: N` to every request the client writes (N = 1 for
    /// the first request of a call, one more per retry, redirect hop or
    /// auth re-send) and logs `> METHOD PATH #N`, and a response hook that
    /// logs `< STATUS #N` for every response head read (redirects and
    /// retried statuses included). [`ConformanceSession::hook_log`] returns
    /// the log.
    pub hooks: bool,
}

/// A per-prefix policy ([`ClientConfig::mounts`]). The retry policy,
/// timeouts and redirect limit are chosen by the request's URL and hold
/// across its redirects; a mount with `max_connections_per_host` has its
/// own connections (a requests adapter has its own pool), capped so, with
/// the session's `pool_wait` mode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MountConfig {
    /// The URL prefix (`http://127.0.0.1:PORT/api/`).
    pub prefix: String,
    /// Retry policy under the prefix.
    pub retry: Option<RetryConfig>,
    /// Read timeout under the prefix.
    pub read_timeout: Option<Duration>,
    /// Overall deadline under the prefix.
    pub deadline: Option<Duration>,
    /// Redirect limit under the prefix (`Some(0)`: return 3xx as is).
    pub max_redirects: Option<u32>,
    /// Give the prefix its own connections, at most this many per host.
    pub max_connections_per_host: Option<usize>,
}

impl MountConfig {
    /// A mount for `prefix` that sets nothing yet.
    pub fn new(prefix: impl Into<String>) -> MountConfig {
        MountConfig {
            prefix: prefix.into(),
            ..MountConfig::default()
        }
    }
}

impl Default for ClientConfig {
    /// Retries disabled, cookies on, every other setting the backend default.
    fn default() -> Self {
        ClientConfig {
            retry: RetryConfig::disabled(),
            connect_timeout: None,
            read_timeout: None,
            deadline: None,
            max_redirects: None,
            auth: None,
            proxy: None,
            ca_pem: None,
            cookies: true,
            default_headers: Vec::new(),
            max_connections_per_host: None,
            pool_wait: true,
            pool_wait_timeout: None,
            max_body_in_memory: None,
            sensitive_headers: Vec::new(),
            mounts: Vec::new(),
            hooks: false,
        }
    }
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestBody {
    /// Replayable bytes.
    Bytes(Vec<u8>),
    /// Bytes the client must send as a non-replayable stream (e.g. wrap in
    /// a reader), so it may not be re-sent once partly sent.
    Stream(Vec<u8>),
    /// A JSON body, sent with the client's JSON body helper (requests'
    /// `json=`; hawser's `.json(&value)`), not as bytes set by hand: the
    /// helper serialises it and supplies `Content-Type: application/json`
    /// unless the caller set a Content-Type (before or after the helper,
    /// see [`TestRequest::headers_after_body`]). Replayable.
    Json(serde_json::Value),
    /// An `application/x-www-form-urlencoded` body, sent with the client's
    /// form helper (requests' `data={..}`; hawser's `.form(&pairs)`), the
    /// pairs in this order; the helper's Content-Type gives way to the
    /// caller's, as for [`TestBody::Json`]. Replayable.
    Form(Vec<(String, String)>),
}

/// Per-request settings that override the session's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestOverrides {
    /// Connect timeout for this request.
    pub connect_timeout: Option<Duration>,
    /// Read timeout for this request.
    pub read_timeout: Option<Duration>,
    /// Overall deadline for this request.
    pub deadline: Option<Duration>,
    /// Authentication for this request.
    pub auth: Option<AuthConfig>,
    /// Send `Expect: 100-continue` and wait for the server before the body.
    pub expect_continue: bool,
}

/// One request.
///
/// The client builds it in this order, like a caller writing
/// `builder.header(..).json(..).header(..)`: [`headers`](Self::headers),
/// then the [`body`](Self::body) (through the JSON or form helper for
/// [`TestBody::Json`] / [`TestBody::Form`]), then
/// [`headers_after_body`](Self::headers_after_body). The order matters for
/// a header the body helper also sets (Content-Type): with requests'
/// semantics the caller's value is sent, once, wherever it was set.
#[derive(Debug, Clone, PartialEq)]
pub struct TestRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Absolute URL, sent as given: the client applies its own URL
    /// handling (userinfo as credentials, re-quoting of the path and query).
    pub url: String,
    /// Headers set by hand, before the body, one builder call each (hawser's
    /// `.header(..)`): two entries with the same name are the caller setting
    /// that header twice ([`duplicate_host_header_refused`]).
    pub headers: Vec<(String, String)>,
    /// Body, if any.
    pub body: Option<TestBody>,
    /// Headers set by hand after the body (after the body helper for
    /// [`TestBody::Json`] and [`TestBody::Form`]), e.g. hawser's
    /// `.json(&v).header(..)`. With requests' semantics (its header dict) a
    /// header of the same name set earlier, by hand or by the helper, is
    /// replaced: one value per name, the last one set. The suite relies on
    /// that only for Content-Type ([`caller_content_type_is_kept_once`]).
    pub headers_after_body: Vec<(String, String)>,
    /// Names (case-insensitive) of session or built-in default headers
    /// (e.g. `User-Agent`) this request must not send, like requests'
    /// `headers={"User-Agent": None}`; the session keeps them for later
    /// requests.
    pub remove_headers: Vec<String>,
    /// Per-request overrides.
    pub overrides: RequestOverrides,
}

impl TestRequest {
    /// A request with `method` to `url`.
    pub fn new(method: &str, url: &str) -> TestRequest {
        TestRequest {
            method: method.to_string(),
            url: url.to_string(),
            headers: Vec::new(),
            body: None,
            headers_after_body: Vec::new(),
            remove_headers: Vec::new(),
            overrides: RequestOverrides::default(),
        }
    }

    /// `GET url`.
    pub fn get(url: &str) -> TestRequest {
        TestRequest::new("GET", url)
    }

    /// `POST url` with a replayable body.
    pub fn post(url: &str, body: &[u8]) -> TestRequest {
        TestRequest::new("POST", url).body(body)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> TestRequest {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets a replayable body.
    pub fn body(mut self, body: &[u8]) -> TestRequest {
        self.body = Some(TestBody::Bytes(body.to_vec()));
        self
    }

    /// Sets a JSON body, sent with the client's JSON helper ([`TestBody::Json`]).
    pub fn json(mut self, value: serde_json::Value) -> TestRequest {
        self.body = Some(TestBody::Json(value));
        self
    }

    /// Sets a form body, sent with the client's form helper ([`TestBody::Form`]).
    pub fn form(mut self, pairs: &[(&str, &str)]) -> TestRequest {
        let pairs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.body = Some(TestBody::Form(pairs));
        self
    }

    /// Adds a header set after the body ([`TestRequest::headers_after_body`]).
    pub fn header_after_body(mut self, name: &str, value: &str) -> TestRequest {
        self.headers_after_body
            .push((name.to_string(), value.to_string()));
        self
    }

    /// This request does not send the session or default header `name`
    /// ([`TestRequest::remove_headers`]).
    pub fn remove_header(mut self, name: &str) -> TestRequest {
        self.remove_headers.push(name.to_string());
        self
    }
}

/// A response as the client returned it, body fully read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResponse {
    /// Final status.
    pub status: u16,
    /// The reason phrase the client reports for the final response: the
    /// server's, as received (`NOT FOUND` for `HTTP/1.1 404 NOT FOUND`),
    /// like requests' `Response.reason`. For hawser, the text its
    /// `error_for_status` message names.
    pub reason: String,
    /// Final headers.
    pub headers: Vec<(String, String)>,
    /// Body (decoded if the client decodes content codings).
    pub body: Vec<u8>,
    /// The URL of the final response (after redirects).
    pub final_url: String,
    /// Statuses of the responses followed before the final one (redirects,
    /// auth challenges the client answered, retried statuses), oldest first.
    pub history: Vec<u16>,
    /// Connections the session has opened so far, if the client knows.
    pub connections_opened: Option<usize>,
}

impl TestResponse {
    /// First value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as the server's JSON echo.
    pub fn echo(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for a pooled connection.
    PoolWait,
    /// TCP connect.
    Connect,
    /// TLS handshake.
    TlsHandshake,
    /// Sending the request.
    Send,
    /// Waiting for the response head.
    ResponseHead,
    /// Reading the body.
    Body,
    /// The overall deadline.
    Deadline,
}

/// Error classes, matching what hawser's error kinds promise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestErrorKind {
    /// Could not connect (refused, unreachable, DNS).
    Connect,
    /// A timeout, naming its phase.
    Timeout {
        /// The phase.
        phase: Phase,
    },
    /// TLS failed (not a certificate problem).
    Tls,
    /// The server certificate was rejected.
    Certificate,
    /// The peer broke HTTP/1.1 (malformed head, framing conflicts, limits).
    Protocol,
    /// The body could not be read completely or decoded.
    Body,
    /// The body is larger than a bound: the cap on reading it into memory
    /// ([`ClientConfig::max_body_in_memory`]) or a decompression bound
    /// (size or expansion ratio). hawser's `ErrorKind::BodyTooLarge`; its
    /// message names the bound and how to raise it.
    BodyTooLarge,
    /// More redirects than allowed.
    TooManyRedirects,
    /// Retries ran out; `TestError::cause` holds the last cause.
    RetriesExhausted,
    /// A body had to be re-sent but cannot be replayed.
    BodyNotReplayable,
    /// The proxy refused or failed.
    Proxy,
    /// A status the caller asked to treat as an error.
    Status,
    /// The caller's request was refused before anything was sent (e.g. a
    /// header that must appear once, such as `Host`, set twice). hawser's
    /// `ErrorKind::InvalidRequest`.
    InvalidRequest,
    /// Anything else.
    Other,
}

/// An error as the client returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestError {
    /// The class.
    pub kind: TestErrorKind,
    /// The human message.
    pub message: String,
    /// The wrapped cause (for `RetriesExhausted` and a deadline that ended
    /// the call after an earlier failure).
    pub cause: Option<Box<TestError>>,
    /// The client's per-call report as text (attempts, waits, decisions),
    /// when its errors carry one.
    pub report: Option<String>,
}

impl TestError {
    /// The innermost kind below any `RetriesExhausted` wrappers.
    pub fn root_kind(&self) -> &TestErrorKind {
        match (&self.kind, &self.cause) {
            (TestErrorKind::RetriesExhausted, Some(c)) => c.root_kind(),
            (k, _) => k,
        }
    }
}

/// Where [`ConformanceSession::abandon`] gives up on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbandonAt {
    /// Start the request and drop it (the future, for async clients) after
    /// this long, wherever it is: waiting for a pooled connection,
    /// connecting, waiting for the head, in a backoff sleep.
    After(Duration),
    /// Send the request, read this many body bytes, then drop the response.
    AfterBodyBytes(usize),
}

/// What [`ConformanceSession::abandon`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Abandoned {
    /// The request was dropped at the abandon point (or it ended without an
    /// error before reaching it, and was dropped then).
    Done,
    /// The client cannot abandon a request at this point; it did not start
    /// the request at all.
    Unsupported,
    /// The request failed before the abandon point.
    Failed(TestError),
}

/// A session: connection pool, cookie jar and settings shared by requests.
pub trait ConformanceSession: Send + Sync {
    /// Sends `req` and reads the whole body.
    fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError>;

    /// Starts `req` and gives up on it at `at`, the way a caller drops a
    /// request it no longer wants; the session must get back whatever the
    /// request held (its pool slot, its place in the queue for a slot, its
    /// connection) so later requests are not affected.
    ///
    /// Async clients drop the request's future: they can support both
    /// points. Blocking clients typically support only
    /// [`AbandonAt::AfterBodyBytes`] (drop the response while streaming its
    /// body) and answer [`Abandoned::Unsupported`] for
    /// [`AbandonAt::After`]; the scenarios then skip that step with a note.
    /// The default supports neither.
    fn abandon(&self, req: &TestRequest, at: AbandonAt) -> Abandoned {
        let _ = (req, at);
        Abandoned::Unsupported
    }

    /// What the suite's hooks logged so far, oldest first (see
    /// [`ClientConfig::hooks`]). The default: nothing (no hooks).
    fn hook_log(&self) -> Vec<String> {
        Vec::new()
    }
}

/// What a backend implements to run the suite.
pub trait ConformanceClient {
    /// A new session with `cfg`; dropping it closes its connections.
    fn session(&self, cfg: &ClientConfig) -> Box<dyn ConformanceSession>;

    /// One request on a fresh session (a one-off call like `requests.get`).
    fn send(&self, req: &TestRequest, cfg: &ClientConfig) -> Result<TestResponse, TestError> {
        self.session(cfg).send(req)
    }
}

/// A scenario: a plain function over a client.
pub type Scenario = fn(&dyn ConformanceClient);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn start(b: crate::TestServerBuilder) -> TestServer {
    match b.start() {
        Ok(s) => s,
        Err(e) => panic!("conformance: test server failed to start: {e}"),
    }
}

fn serve(routes: Vec<(&str, Behaviour)>) -> TestServer {
    start(
        routes
            .into_iter()
            .fold(TestServer::builder(), |b, (p, beh)| b.route(p, beh)),
    )
}

#[track_caller]
fn ok(r: Result<TestResponse, TestError>, what: &str) -> TestResponse {
    match r {
        Ok(r) => r,
        Err(e) => panic!("{what}: expected a response, got error {e:?}"),
    }
}

#[track_caller]
fn err(r: Result<TestResponse, TestError>, what: &str) -> TestError {
    match r {
        Ok(r) => {
            // A long body would bury the failure: show its start.
            let shown = &r.body[..r.body.len().min(300)];
            panic!(
                "{what}: expected an error, got status {} body ({} bytes) {:?}{}",
                r.status,
                r.body.len(),
                String::from_utf8_lossy(shown),
                if shown.len() < r.body.len() {
                    "..."
                } else {
                    ""
                }
            )
        }
        Err(e) => e,
    }
}

#[track_caller]
fn expect_kind(e: &TestError, kind: TestErrorKind, what: &str) {
    assert_eq!(e.root_kind(), &kind, "{what}: wrong error kind in {e:?}");
}

fn cfg() -> ClientConfig {
    ClientConfig::default()
}

fn flaky(first: Vec<Behaviour>, then: Behaviour) -> Behaviour {
    let mut v = first;
    v.push(then);
    Behaviour::Sequence(v)
}

fn status(code: u16) -> Behaviour {
    Behaviour::Reply(Reply::new(code).body(format!("status {code}")))
}

fn retry_after(code: u16, secs: &str) -> Behaviour {
    Behaviour::Reply(Reply::new(code).header("Retry-After", secs).body("busy"))
}

fn closed_port() -> String {
    // Bind, note the port, release it: connecting there is refused.
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap_or_else(|e| panic!("conformance: bind failed: {e}"));
    let port = l.local_addr().map(|a| a.port()).unwrap_or(1);
    drop(l);
    format!("http://127.0.0.1:{port}/")
}

// ---------------------------------------------------------------------------
// Basics and connection reuse
// ---------------------------------------------------------------------------

/// A GET returns status, headers and body; the server saw one request.
pub fn basic_get(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/hello",
        Behaviour::Reply(Reply::text("hello").header("X-Kit", "1")),
    )]);
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/hello?a=b")), &cfg()),
        "GET",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello");
    assert_eq!(r.header("x-kit"), Some("1"));
    assert_eq!(srv.hits("/hello"), 1);
    assert_eq!(srv.requests()[0].target, "/hello?a=b");
}

/// Method, headers, body arrive as sent; default headers are added.
pub fn request_echo(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/echo", Behaviour::Echo)]);
    let mut config = cfg();
    config
        .default_headers
        .push(("X-Session".into(), "s".into()));
    let req = TestRequest::new("PUT", &srv.url("/echo"))
        .header("X-One", "1")
        .body(b"payload");
    let r = ok(c.send(&req, &config), "PUT");
    assert_eq!(r.status, 200);
    let rec = &srv.requests_to("/echo")[0];
    assert_eq!(rec.method, "PUT");
    assert_eq!(rec.body, b"payload");
    assert_eq!(rec.header("x-one"), Some("1"));
    assert_eq!(rec.header("x-session"), Some("s"));
    assert!(rec.header("host").is_some(), "Host header missing");
}

/// A HEAD response with a Content-Length has no body; the connection is
/// reused afterwards (the client did not wait for a body).
pub fn head_has_no_body(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/h", Behaviour::Reply(Reply::text("twelve bytes")))]);
    let s = c.session(&cfg());
    let r = ok(s.send(&TestRequest::new("HEAD", &srv.url("/h"))), "HEAD");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    ok(s.send(&TestRequest::get(&srv.url("/h"))), "GET after HEAD");
    assert_eq!(
        srv.connections_accepted(),
        1,
        "HEAD left the connection unusable"
    );
}

/// Five requests on one session use one connection (server connection ids).
pub fn keep_alive_reuse(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/k", Behaviour::Echo)]);
    let s = c.session(&cfg());
    for i in 0..5 {
        let r = ok(s.send(&TestRequest::get(&srv.url("/k"))), "keep-alive GET");
        assert_eq!(r.status, 200, "request {i}");
    }
    let recs = srv.requests_to("/k");
    assert_eq!(recs.len(), 5);
    assert!(
        recs.iter().all(|r| r.connection == recs[0].connection),
        "requests used several connections: {:?}",
        recs.iter().map(|r| r.connection).collect::<Vec<_>>()
    );
    assert_eq!(srv.connections_accepted(), 1);
    let last = ok(s.send(&TestRequest::get(&srv.url("/k"))), "sixth");
    if let Some(n) = last.connections_opened {
        assert_eq!(n, 1, "the client's own count disagrees with the server's");
    }
}

/// Dropping a session closes its pooled connections (the server sees them
/// close).
pub fn dropping_session_closes_connections(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/k", Behaviour::Echo)]);
    let s = c.session(&cfg());
    ok(s.send(&TestRequest::get(&srv.url("/k"))), "GET");
    assert_eq!(
        srv.open_connections(),
        1,
        "the connection should be pooled, open"
    );
    drop(s);
    let t = Instant::now();
    while srv.open_connections() > 0 && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        srv.open_connections(),
        0,
        "the pooled connection outlived its session"
    );
}

/// Two sessions do not share connections.
pub fn sessions_do_not_share_pools(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/k", Behaviour::Echo)]);
    let a = c.session(&cfg());
    let b = c.session(&cfg());
    ok(a.send(&TestRequest::get(&srv.url("/k"))), "session a");
    ok(b.send(&TestRequest::get(&srv.url("/k"))), "session b");
    assert_eq!(srv.connections_accepted(), 2);
}

/// A request body of several MiB arrives intact (chunked stream body too).
pub fn large_request_bodies(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/up",
        Behaviour::Custom(Arc::new(|r| Reply::text(&r.body.len().to_string()))),
    )]);
    let data = pattern(3 * 1024 * 1024 + 5);
    let s = c.session(&cfg());
    let r = ok(
        s.send(&TestRequest::post(&srv.url("/up"), &data)),
        "bytes upload",
    );
    assert_eq!(r.body, data.len().to_string().as_bytes());
    let mut req = TestRequest::new("POST", &srv.url("/up"));
    req.body = Some(TestBody::Stream(data.clone()));
    ok(s.send(&req), "stream upload");
    let recs = srv.requests_to("/up");
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.body == data), "upload corrupted");
}

/// An 8 MiB body (Content-Length and chunked) arrives intact.
pub fn streaming_large_download(c: &dyn ConformanceClient) {
    let len = 8 * 1024 * 1024;
    let srv = serve(vec![
        (
            "/cl",
            Behaviour::Stream {
                len: len as u64,
                chunked: false,
            },
        ),
        (
            "/ch",
            Behaviour::Stream {
                len: len as u64,
                chunked: true,
            },
        ),
    ]);
    let s = c.session(&cfg());
    let expected = pattern(len);
    for p in ["/cl", "/ch"] {
        let r = ok(s.send(&TestRequest::get(&srv.url(p))), p);
        assert_eq!(r.body.len(), len, "{p}");
        assert!(r.body == expected, "{p}: body differs from the pattern");
    }
    assert_eq!(
        srv.connections_accepted(),
        1,
        "the connection was not reused after a full body"
    );
}

/// A gzip body is decoded (if the client asks for gzip) or served plain.
pub fn gzip_response(c: &dyn ConformanceClient) {
    let body = "hawser gzip ".repeat(200).into_bytes();
    let srv = serve(vec![("/gz", Behaviour::Gzip(body.clone()))]);
    let r = ok(c.send(&TestRequest::get(&srv.url("/gz")), &cfg()), "gzip");
    assert_eq!(r.body, body, "body not decoded");
}

/// A body labelled gzip that is not gzip is a Body error.
pub fn corrupt_gzip_is_body_error(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/bad",
        Behaviour::Reply(
            Reply::new(200)
                .header("Content-Encoding", "gzip")
                .body("this is not gzip at all"),
        ),
    )]);
    let req = TestRequest::get(&srv.url("/bad")).header("Accept-Encoding", "gzip");
    let e = err(c.send(&req, &cfg()), "corrupt gzip");
    expect_kind(&e, TestErrorKind::Body, "corrupt gzip");
    assert_eq!(srv.hits("/bad"), 1);
}

/// IPv6 loopback and `localhost` work (skipped if no IPv6 on the machine).
pub fn ipv6_and_localhost(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/e", Behaviour::Echo)]);
    ok(
        c.send(&TestRequest::get(&srv.url_localhost("/e")), &cfg()),
        "localhost",
    );
    if let Some(u) = srv.url_v6("/e") {
        ok(c.send(&TestRequest::get(&u), &cfg()), "[::1]");
        assert_eq!(srv.hits("/e"), 2);
    }
}

// ---------------------------------------------------------------------------
// Stale pooled connections
// ---------------------------------------------------------------------------

/// The server closes an idle keep-alive connection; the next GET is re-sent
/// once on a fresh connection, without spending retries (retries are
/// disabled here).
pub fn stale_pooled_connection_resent(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/s",
        Behaviour::CloseIdle {
            idle: Duration::from_millis(100),
            hint: None,
        },
    )]);
    let s = c.session(&cfg());
    ok(s.send(&TestRequest::get(&srv.url("/s"))), "first");
    std::thread::sleep(Duration::from_millis(300));
    let r = ok(
        s.send(&TestRequest::get(&srv.url("/s"))),
        "on a stale connection",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/s"), 2);
    assert_eq!(srv.connections_accepted(), 2);
}

/// `Keep-Alive: timeout=1` is honoured: after 1.2 s idle the client opens a
/// new connection although the server would still have served the old one.
pub fn keep_alive_timeout_hint_honoured(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/s",
        Behaviour::CloseIdle {
            idle: Duration::from_secs(3),
            hint: Some(1),
        },
    )]);
    let s = c.session(&cfg());
    ok(s.send(&TestRequest::get(&srv.url("/s"))), "first");
    std::thread::sleep(Duration::from_millis(1200));
    ok(s.send(&TestRequest::get(&srv.url("/s"))), "second");
    let recs = srv.requests_to("/s");
    assert_ne!(
        recs[0].connection, recs[1].connection,
        "the connection was reused past the server's Keep-Alive timeout"
    );
}

/// A POST on a reused connection that is reset after the server read it is
/// not re-sent (the server saw it once).
pub fn post_not_resent_after_reset_on_reused_connection(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        ("/warm", Behaviour::Echo),
        ("/post", Behaviour::ResetAfterRequest),
    ]);
    let mut config = cfg();
    config.retry = RetryConfig::total(3);
    let s = c.session(&config);
    ok(s.send(&TestRequest::get(&srv.url("/warm"))), "warm-up");
    err(
        s.send(&TestRequest::post(&srv.url("/post"), b"once")),
        "reset POST",
    );
    assert_eq!(srv.hits("/post"), 1, "the POST was re-sent");
}

// ---------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------

/// 503 + `Retry-After: 1` then 200: retried after about a second.
pub fn retry_after_503_then_ok(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/f",
        flaky(vec![retry_after(503, "1")], status(200)),
    )]);
    let mut config = cfg();
    config.retry = RetryConfig::total(3).forcelist(&[503]);
    let t = Instant::now();
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/f")), &config),
        "503 then 200",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/f"), 2);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "Retry-After ignored: {:?}",
        t.elapsed()
    );
}

/// 500, 500, 200 with `status_forcelist=[500]` and a small backoff.
pub fn retry_status_forcelist(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/f",
        flaky(vec![status(500), status(500)], status(200)),
    )]);
    let mut config = cfg();
    config.retry = RetryConfig::total(3).forcelist(&[500]).backoff(0.05);
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/f")), &config),
        "retried",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/f"), 3);
}

/// Always 500, total=2, raise_on_status: RetriesExhausted after 3 tries;
/// without raise_on_status the last 500 is returned.
pub fn retries_exhausted_on_status(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/f", status(500)), ("/g", status(500))]);
    let mut config = cfg();
    config.retry = RetryConfig::total(2).forcelist(&[500]);
    let e = err(
        c.send(&TestRequest::get(&srv.url("/f")), &config),
        "exhausted",
    );
    assert_eq!(e.kind, TestErrorKind::RetriesExhausted, "{e:?}");
    assert_eq!(srv.hits("/f"), 3);
    config.retry.raise_on_status = false;
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/g")), &config),
        "no raise",
    );
    assert_eq!(r.status, 500);
    assert_eq!(srv.hits("/g"), 3);
}

/// A 429 with `Retry-After` is retried without a forcelist, and when total
/// runs out the last response is returned (not an error).
pub fn implicit_retry_after_returns_last_response(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/r", retry_after(429, "0"))]);
    let mut config = cfg();
    config.retry = RetryConfig::total(2);
    let r = ok(c.send(&TestRequest::get(&srv.url("/r")), &config), "429s");
    assert_eq!(r.status, 429);
    assert_eq!(srv.hits("/r"), 3);
}

/// POST is not in allowed_methods: a 503 in the forcelist is not retried.
pub fn post_not_retried_on_status(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/p", status(503))]);
    let mut config = cfg();
    config.retry = RetryConfig::total(3).forcelist(&[503]);
    match c.send(&TestRequest::post(&srv.url("/p"), b"x"), &config) {
        Ok(r) => assert_eq!(r.status, 503),
        Err(e) => expect_kind(&e, TestErrorKind::Status, "POST 503"),
    }
    assert_eq!(srv.hits("/p"), 1, "the POST was re-sent");
}

/// POST reset after the server read it: not retried (read-class error).
pub fn post_not_retried_after_read_error(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/p", Behaviour::ResetAfterRequest)]);
    let mut config = cfg();
    config.retry = RetryConfig::total(3);
    err(
        c.send(&TestRequest::post(&srv.url("/p"), b"x"), &config),
        "reset POST",
    );
    assert_eq!(srv.hits("/p"), 1, "the POST was re-sent");
}

/// POST with allowed_methods including POST is retried after a reset.
pub fn post_retried_when_allowed(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/p",
        flaky(vec![Behaviour::ResetAfterRequest], Behaviour::Echo),
    )]);
    let mut config = cfg();
    config.retry = RetryConfig::total(2);
    config.retry.allowed_methods = Some(vec!["POST".into()]);
    let r = ok(
        c.send(&TestRequest::post(&srv.url("/p"), b"again"), &config),
        "POST",
    );
    assert_eq!(r.status, 200);
    let recs = srv.requests_to("/p");
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].body, b"again", "the replayed body differs");
}

/// GET reset before or after the server read it is retried.
pub fn get_retried_after_resets(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/a",
            flaky(vec![Behaviour::ResetBeforeRequest], Behaviour::Echo),
        ),
        (
            "/b",
            flaky(vec![Behaviour::ResetAfterRequest], Behaviour::Echo),
        ),
    ]);
    let mut config = cfg();
    config.retry = RetryConfig::total(1);
    for p in ["/a", "/b"] {
        let r = ok(c.send(&TestRequest::get(&srv.url(p)), &config), p);
        assert_eq!(r.status, 200);
        assert_eq!(srv.hits(p), 2, "{p}");
    }
}

/// With retries disabled a reset surfaces as an error after one attempt.
pub fn reset_without_retries_fails_once(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/r", Behaviour::ResetAfterRequest)]);
    let e = err(c.send(&TestRequest::get(&srv.url("/r")), &cfg()), "reset");
    assert_ne!(
        e.kind,
        TestErrorKind::RetriesExhausted,
        "retries were disabled: {e:?}"
    );
    assert_eq!(srv.hits("/r"), 1);
}

/// A non-replayable body that was sent is never re-sent by a retry.
pub fn stream_body_not_replayed(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/p",
        flaky(vec![Behaviour::ResetAfterRequest], Behaviour::Echo),
    )]);
    let mut config = cfg();
    config.retry = RetryConfig::total(2);
    config.retry.allowed_methods = Some(vec!["PUT".into()]);
    let mut req = TestRequest::new("PUT", &srv.url("/p"));
    req.body = Some(TestBody::Stream(b"stream".to_vec()));
    err(c.send(&req, &config), "stream body after reset");
    assert_eq!(srv.hits("/p"), 1, "a streamed body was sent twice");
}

fn redirect_stream_scenario(c: &dyn ConformanceClient, code: u16) {
    let srv = serve(vec![
        (
            "/r",
            Behaviour::Redirect {
                status: code,
                location: "/echo".into(),
            },
        ),
        ("/echo", Behaviour::Echo),
    ]);
    let mut req = TestRequest::new("PUT", &srv.url("/r"));
    req.body = Some(TestBody::Stream(b"once only".to_vec()));
    let what = format!("{code} with a stream body");
    let e = err(c.send(&req, &cfg()), &what);
    expect_kind(&e, TestErrorKind::BodyNotReplayable, &what);
    assert_eq!(srv.hits("/r"), 1);
    assert_eq!(srv.hits("/echo"), 0);
    // One redirect is not "too many": the message names what happened.
    assert!(
        !e.message
            .to_ascii_lowercase()
            .contains("too many redirects"),
        "{what}: the message says \"too many redirects\" after one redirect: {:?}",
        e.message
    );
    assert!(
        e.message.contains(&code.to_string()),
        "{what}: the message does not mention the {code} redirect: {:?}",
        e.message
    );
}

/// A 307 would re-send a non-replayable body: the call fails with
/// BodyNotReplayable, the target is never hit, and the message mentions
/// the 307 (not "too many redirects").
pub fn redirect_307_stream_body_not_replayed(c: &dyn ConformanceClient) {
    redirect_stream_scenario(c, 307);
}

/// The 308 twin of [`redirect_307_stream_body_not_replayed`].
pub fn redirect_308_stream_body_not_replayed(c: &dyn ConformanceClient) {
    redirect_stream_scenario(c, 308);
}

/// Connection refused: a Connect error (retried for any method when
/// retries are on, then RetriesExhausted with a Connect cause).
pub fn connect_refused(c: &dyn ConformanceClient) {
    let url = closed_port();
    let e = err(c.send(&TestRequest::get(&url), &cfg()), "refused");
    assert_eq!(e.kind, TestErrorKind::Connect, "{e:?}");
    let mut config = cfg();
    config.retry = RetryConfig::total(2);
    let e = err(
        c.send(&TestRequest::post(&url, b"x"), &config),
        "refused with retries",
    );
    expect_kind(&e, TestErrorKind::Connect, "refused with retries");
}

/// The `read` counter alone bounds read-error retries (total unlimited).
pub fn read_counter_limits_retries(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/r", Behaviour::ResetAfterRequest)]);
    let mut config = cfg();
    config.retry = RetryConfig::total(10);
    config.retry.total = None;
    config.retry.read = Some(1);
    let e = err(
        c.send(&TestRequest::get(&srv.url("/r")), &config),
        "read counter",
    );
    assert_eq!(e.kind, TestErrorKind::RetriesExhausted, "{e:?}");
    assert_eq!(srv.hits("/r"), 2, "one retry allowed by read=1");
}

/// The `status` counter alone bounds status retries.
pub fn status_counter_limits_retries(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/s", status(500))]);
    let mut config = cfg();
    config.retry = RetryConfig::total(10).forcelist(&[500]);
    config.retry.status = Some(1);
    config.retry.raise_on_status = false;
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/s")), &config),
        "status counter",
    );
    assert_eq!(r.status, 500);
    assert_eq!(srv.hits("/s"), 2, "one retry allowed by status=1");
}

/// Backoff: no sleep before the first retry, then factor * 2^(n-1).
/// With factor 0.1: 0 + 0.2 + 0.4 s before the fourth attempt.
pub fn backoff_grows_exponentially(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/b",
        flaky(vec![status(500), status(500), status(500)], status(200)),
    )]);
    let mut config = cfg();
    config.retry = RetryConfig::total(5).forcelist(&[500]).backoff(0.1);
    let t = Instant::now();
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/b")), &config),
        "backoff",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/b"), 4);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(550),
        "slept too little: {took:?}"
    );
    assert!(
        took < Duration::from_millis(2000),
        "slept too much: {took:?}"
    );
}

/// A malformed `Retry-After` is ignored (backoff instead), not fatal.
pub fn malformed_retry_after_ignored(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/m",
        flaky(vec![retry_after(503, "soon")], status(200)),
    )]);
    let mut config = cfg();
    config.retry = RetryConfig::total(2).forcelist(&[503]);
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/m")), &config),
        "bad Retry-After",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/m"), 2);
}

/// `Retry-After` as an HTTP-date in the past falls back to backoff (no
/// sleep on the first retry).
pub fn retry_after_past_date_falls_back(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/d",
        flaky(
            vec![retry_after(503, "Wed, 21 Oct 2015 07:28:00 GMT")],
            status(200),
        ),
    )]);
    let mut config = cfg();
    config.retry = RetryConfig::total(2).forcelist(&[503]);
    let t = Instant::now();
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/d")), &config),
        "past date",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/d"), 2);
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "slept {:?}",
        t.elapsed()
    );
}

/// A per-request deadline overrides the session's (none here).
pub fn per_request_deadline_override(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/d",
        Behaviour::Drip {
            total: 20,
            chunk: 1,
            every: Duration::from_millis(50),
        },
    )]);
    let s = c.session(&cfg());
    let mut req = TestRequest::get(&srv.url("/d"));
    req.overrides.deadline = Some(Duration::from_millis(300));
    let e = err(s.send(&req), "deadline override");
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::Deadline,
        },
        "deadline override",
    );
    let r = ok(s.send(&TestRequest::get(&srv.url("/d"))), "no deadline");
    assert_eq!(r.body, pattern(20));
}

/// The overall deadline also bounds a connect that would hang.
pub fn deadline_bounds_connect(c: &dyn ConformanceClient) {
    let hole = match BlackHole::start() {
        Ok(h) => h,
        Err(e) => panic!("conformance: black hole unavailable: {e}"),
    };
    let mut config = cfg();
    config.connect_timeout = Some(Duration::from_secs(10));
    config.deadline = Some(Duration::from_millis(300));
    let t = Instant::now();
    let e = err(
        c.send(&TestRequest::get(&hole.url("/")), &config),
        "deadline connect",
    );
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::Deadline,
        },
        "deadline connect",
    );
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
}

/// `Connection: close` from the server: the next request opens a new
/// connection instead of failing on the closed one.
pub fn server_connection_close_honoured(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/c",
        Behaviour::Reply(Reply::text("bye").header("Connection", "close")),
    )]);
    let s = c.session(&cfg());
    for _ in 0..3 {
        assert_eq!(
            ok(s.send(&TestRequest::get(&srv.url("/c"))), "close").body,
            b"bye"
        );
    }
    assert_eq!(srv.connections_accepted(), 3);
    assert_eq!(srv.hits("/c"), 3, "a request was re-sent");
}

/// An HTTP/1.0 response without Content-Length: the body ends at close.
pub fn http10_close_delimited_body(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/old",
        Behaviour::Raw(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close".to_vec()),
    )]);
    let s = c.session(&cfg());
    for _ in 0..2 {
        let r = ok(s.send(&TestRequest::get(&srv.url("/old"))), "HTTP/1.0");
        assert_eq!(r.body, b"until close");
    }
    assert_eq!(srv.connections_accepted(), 2);
}

// ---------------------------------------------------------------------------
// Timeouts and the deadline
// ---------------------------------------------------------------------------

/// A listener that never accepts: the connect timeout fires, named.
pub fn connect_timeout(c: &dyn ConformanceClient) {
    let hole = match BlackHole::start() {
        Ok(h) => h,
        Err(e) => panic!("conformance: black hole unavailable: {e}"),
    };
    let mut config = cfg();
    config.connect_timeout = Some(Duration::from_millis(200));
    let t = Instant::now();
    let e = err(
        c.send(&TestRequest::get(&hole.url("/")), &config),
        "black hole",
    );
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::Connect,
        },
        "connect timeout",
    );
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
}

/// The server stalls before the head: a read timeout naming the head phase.
pub fn read_timeout_before_head(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/s",
        Behaviour::StallBeforeHead(Duration::from_secs(2)),
    )]);
    let mut config = cfg();
    config.read_timeout = Some(Duration::from_millis(200));
    let t = Instant::now();
    let e = err(c.send(&TestRequest::get(&srv.url("/s")), &config), "stall");
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::ResponseHead,
        },
        "head stall",
    );
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(srv.hits("/s"), 1);
}

/// The server stalls after the head: a read timeout naming the body phase.
pub fn read_timeout_in_body(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/s",
        Behaviour::StallAfterHead(Duration::from_secs(2)),
    )]);
    let mut config = cfg();
    config.read_timeout = Some(Duration::from_millis(200));
    let e = err(c.send(&TestRequest::get(&srv.url("/s")), &config), "stall");
    expect_kind(
        &e,
        TestErrorKind::Timeout { phase: Phase::Body },
        "body stall",
    );
}

/// A per-request read timeout overrides the session's.
pub fn per_request_timeout_override(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/s",
        Behaviour::StallBeforeHead(Duration::from_millis(400)),
    )]);
    let mut config = cfg();
    config.read_timeout = Some(Duration::from_secs(5));
    let s = c.session(&config);
    let mut req = TestRequest::get(&srv.url("/s"));
    req.overrides.read_timeout = Some(Duration::from_millis(100));
    let e = err(s.send(&req), "override");
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::ResponseHead,
        },
        "override",
    );
    ok(
        s.send(&TestRequest::get(&srv.url("/s"))),
        "session timeout is long",
    );
}

/// A slow drip that keeps sending within the read timeout is not a timeout.
pub fn slow_drip_within_read_timeout(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/d",
        Behaviour::Drip {
            total: 10,
            chunk: 1,
            every: Duration::from_millis(60),
        },
    )]);
    let mut config = cfg();
    config.read_timeout = Some(Duration::from_millis(300));
    let r = ok(c.send(&TestRequest::get(&srv.url("/d")), &config), "drip");
    assert_eq!(r.body, pattern(10));
}

/// The overall deadline cuts a slow drip that never trips the read timeout.
pub fn deadline_cuts_slow_drip(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/d",
        Behaviour::Drip {
            total: 30,
            chunk: 1,
            every: Duration::from_millis(100),
        },
    )]);
    let mut config = cfg();
    config.read_timeout = Some(Duration::from_secs(1));
    config.deadline = Some(Duration::from_millis(400));
    let t = Instant::now();
    let e = err(
        c.send(&TestRequest::get(&srv.url("/d")), &config),
        "deadline",
    );
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::Deadline,
        },
        "drip deadline",
    );
    assert!(
        t.elapsed() < Duration::from_millis(1200),
        "took {:?}",
        t.elapsed()
    );
}

/// A Retry-After sleep that would end past the deadline is not taken.
pub fn deadline_skips_long_retry_after(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/r", retry_after(503, "5"))]);
    let mut config = cfg();
    config.retry = RetryConfig::total(3).forcelist(&[503]);
    config.deadline = Some(Duration::from_millis(500));
    let t = Instant::now();
    let e = err(
        c.send(&TestRequest::get(&srv.url("/r")), &config),
        "deadline",
    );
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::Deadline,
        },
        "retry-after deadline",
    );
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "slept: {:?}",
        t.elapsed()
    );
    assert_eq!(srv.hits("/r"), 1);
}

/// The deadline spans every attempt and backoff sleep.
pub fn deadline_spans_retries(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/r", status(500))]);
    let mut config = cfg();
    config.retry = RetryConfig::total(50).forcelist(&[500]).backoff(0.1);
    config.deadline = Some(Duration::from_millis(600));
    let t = Instant::now();
    let e = err(
        c.send(&TestRequest::get(&srv.url("/r")), &config),
        "deadline",
    );
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::Deadline,
        },
        "retries deadline",
    );
    assert!(
        t.elapsed() < Duration::from_millis(1200),
        "took {:?}",
        t.elapsed()
    );
    let hits = srv.hits("/r");
    assert!((2..50).contains(&hits), "{hits} attempts");
}

// ---------------------------------------------------------------------------
// Malformed and truncated responses
// ---------------------------------------------------------------------------

/// Truncated bodies are Body errors and the connection is not reused.
pub fn truncated_bodies(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/head",
            Behaviour::CloseAfterHead {
                content_length: 100,
            },
        ),
        (
            "/chunk",
            Behaviour::TruncatedChunked {
                chunks: vec![b"abc".to_vec()],
            },
        ),
        (
            "/short",
            Behaviour::ShortBody {
                declared: 100,
                sent: 10,
            },
        ),
        ("/ok", Behaviour::Echo),
    ]);
    let s = c.session(&cfg());
    for p in ["/head", "/chunk", "/short"] {
        let e = err(s.send(&TestRequest::get(&srv.url(p))), p);
        expect_kind(&e, TestErrorKind::Body, p);
        ok(
            s.send(&TestRequest::get(&srv.url("/ok"))),
            "after a truncated body",
        );
    }
    assert_eq!(srv.hits("/ok"), 3);
    assert_eq!(
        srv.hits("/head") + srv.hits("/chunk") + srv.hits("/short"),
        3
    );
}

/// Malformed status line, a huge head and CL + TE are Protocol errors.
pub fn malformed_responses(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        ("/m", Behaviour::MalformedStatusLine),
        ("/h", Behaviour::HugeHead { bytes: 256 * 1024 }),
        ("/b", Behaviour::ContentLengthAndChunked),
        ("/g", Behaviour::Raw(b"\x00\x01garbage\r\n\r\n".to_vec())),
    ]);
    for p in ["/m", "/h", "/b", "/g"] {
        let e = err(c.send(&TestRequest::get(&srv.url(p)), &cfg()), p);
        expect_kind(&e, TestErrorKind::Protocol, p);
    }
}

/// Malformed responses are not retried as if transient (retries on): the
/// error surfaces, and the request is not sent more than total+1 times.
pub fn retries_bounded_on_protocol_errors(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/m", Behaviour::MalformedStatusLine)]);
    let mut config = cfg();
    config.retry = RetryConfig::total(2);
    let e = err(
        c.send(&TestRequest::get(&srv.url("/m")), &config),
        "malformed",
    );
    expect_kind(&e, TestErrorKind::Protocol, "malformed with retries");
    assert!(srv.hits("/m") <= 3);
}

// ---------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------

/// 303 turns POST into GET without body; 307 and 308 keep method and body;
/// 301 and 302 turn POST into GET.
pub fn redirect_method_rules(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/301",
            Behaviour::Redirect {
                status: 301,
                location: "/echo".into(),
            },
        ),
        (
            "/302",
            Behaviour::Redirect {
                status: 302,
                location: "/echo".into(),
            },
        ),
        (
            "/303",
            Behaviour::Redirect {
                status: 303,
                location: "/echo".into(),
            },
        ),
        (
            "/307",
            Behaviour::Redirect {
                status: 307,
                location: "/echo".into(),
            },
        ),
        (
            "/308",
            Behaviour::Redirect {
                status: 308,
                location: "/echo".into(),
            },
        ),
        ("/echo", Behaviour::Echo),
    ]);
    for (p, method, body) in [
        ("/301", "GET", ""),
        ("/302", "GET", ""),
        ("/303", "GET", ""),
        ("/307", "POST", "data"),
        ("/308", "POST", "data"),
    ] {
        let req = TestRequest::post(&srv.url(p), b"data").header("Content-Type", "text/plain");
        let r = ok(c.send(&req, &cfg()), p);
        assert_eq!(r.status, 200, "{p}");
        assert_eq!(r.final_url, srv.url("/echo"), "{p}");
        assert_eq!(
            r.history.first().copied(),
            p[1..].parse::<u16>().ok(),
            "{p}"
        );
        let rec = srv
            .requests_to("/echo")
            .pop()
            .unwrap_or_else(|| panic!("{p}: not followed"));
        assert_eq!(rec.method, method, "{p}");
        assert_eq!(String::from_utf8_lossy(&rec.body), body, "{p}");
        if method == "GET" {
            assert_eq!(rec.header("content-type"), None, "{p}: Content-Type kept");
            assert_eq!(rec.header("content-length").unwrap_or("0"), "0", "{p}");
        }
    }
}

/// 302 from HEAD stays HEAD.
pub fn redirect_head_stays_head(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/r",
            Behaviour::Redirect {
                status: 302,
                location: "/echo".into(),
            },
        ),
        ("/echo", Behaviour::Echo),
    ]);
    let r = ok(
        c.send(&TestRequest::new("HEAD", &srv.url("/r")), &cfg()),
        "HEAD",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.requests_to("/echo")[0].method, "HEAD");
}

/// A relative Location resolves against the current URL.
pub fn redirect_relative_location(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/dir/r",
            Behaviour::Redirect {
                status: 302,
                location: "next?x=1".into(),
            },
        ),
        ("/dir/next", Behaviour::Echo),
    ]);
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/dir/r")), &cfg()),
        "relative",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.requests_to("/dir/next")[0].target, "/dir/next?x=1");
}

/// A chain of 3 redirects is followed (redirects spend no retries), and the
/// history lists each.
pub fn redirect_chain(c: &dyn ConformanceClient) {
    let srv = start(
        TestServer::builder().route_prefix("/chain/", Behaviour::RedirectChain { status: 302 }),
    );
    let mut config = cfg();
    config.max_redirects = Some(3);
    config.retry = RetryConfig::total(0);
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/chain/3")), &config),
        "chain",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"done");
    assert_eq!(r.history, vec![302, 302, 302]);
    assert_eq!(r.final_url, srv.url("/chain/0"));
}

/// A redirect loop ends with TooManyRedirects after max_redirects hops.
pub fn redirect_loop_too_many(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/loop",
        Behaviour::Redirect {
            status: 302,
            location: "/loop".into(),
        },
    )]);
    let mut config = cfg();
    config.max_redirects = Some(4);
    config.retry = RetryConfig::total(3);
    let e = err(
        c.send(&TestRequest::get(&srv.url("/loop")), &config),
        "loop",
    );
    expect_kind(&e, TestErrorKind::TooManyRedirects, "loop");
    assert_eq!(srv.hits("/loop"), 5, "initial request + 4 followed hops");
}

/// `max_redirects = 0` returns the redirect itself.
pub fn redirects_disabled(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/r",
            Behaviour::Redirect {
                status: 302,
                location: "/echo".into(),
            },
        ),
        ("/echo", Behaviour::Echo),
    ]);
    let mut config = cfg();
    config.max_redirects = Some(0);
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/r")), &config),
        "not followed",
    );
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/echo"));
    assert_eq!(srv.hits("/echo"), 0);
}

/// Authorization and a hand-set Cookie survive a same-origin redirect and
/// are stripped on a redirect to another origin (127.0.0.1 → localhost).
pub fn redirect_strips_credentials_across_origins(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/same",
            Behaviour::Redirect {
                status: 302,
                location: "/echo".into(),
            },
        ),
        (
            "/cross",
            Behaviour::Redirect {
                status: 302,
                location: "{localhost}/echo".into(),
            },
        ),
        ("/echo", Behaviour::Echo),
    ]);
    for (p, kept) in [("/same", true), ("/cross", false)] {
        let req = TestRequest::get(&srv.url(p))
            .header("Authorization", "Bearer secret")
            .header("Cookie", "manual=1");
        let r = ok(c.send(&req, &cfg()), p);
        assert_eq!(r.status, 200, "{p}");
        let rec = srv
            .requests_to("/echo")
            .pop()
            .unwrap_or_else(|| panic!("{p}: not followed"));
        assert_eq!(
            rec.header("authorization").is_some(),
            kept,
            "{p}: Authorization"
        );
        assert_eq!(
            rec.header("cookie").is_some_and(|c| c.contains("manual=1")),
            kept,
            "{p}: Cookie"
        );
        if !kept {
            assert!(rec
                .header("host")
                .is_some_and(|h| h.starts_with("localhost")));
        }
    }
}

/// Session Basic credentials are not sent to another origin after a redirect.
pub fn redirect_does_not_leak_session_auth(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/cross",
            Behaviour::Redirect {
                status: 307,
                location: "{localhost}/echo".into(),
            },
        ),
        ("/echo", Behaviour::Echo),
    ]);
    let mut config = cfg();
    config.auth = Some(AuthConfig::Basic {
        user: "u".into(),
        pass: "p".into(),
    });
    ok(
        c.send(&TestRequest::get(&srv.url("/cross")), &config),
        "cross",
    );
    let first = &srv.requests_to("/cross")[0];
    assert!(
        first.header("authorization").is_some(),
        "Basic not sent to the first origin"
    );
    assert_eq!(srv.requests_to("/echo")[0].header("authorization"), None);
}

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

/// Basic auth is sent pre-emptively (one request) and accepted.
pub fn basic_auth(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/b",
        Behaviour::BasicAuth {
            user: "user".into(),
            pass: "pa:ss".into(),
        },
    )]);
    let mut config = cfg();
    config.auth = Some(AuthConfig::Basic {
        user: "user".into(),
        pass: "pa:ss".into(),
    });
    let r = ok(c.send(&TestRequest::get(&srv.url("/b")), &config), "basic");
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/b"), 1);
    config.auth = Some(AuthConfig::Basic {
        user: "user".into(),
        pass: "wrong".into(),
    });
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/b")), &config),
        "wrong basic",
    );
    assert_eq!(r.status, 401);
}

/// Per-request auth overrides the session's.
pub fn per_request_auth_override(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/b",
        Behaviour::BasicAuth {
            user: "u".into(),
            pass: "p".into(),
        },
    )]);
    let mut config = cfg();
    config.auth = Some(AuthConfig::Basic {
        user: "u".into(),
        pass: "bad".into(),
    });
    let mut req = TestRequest::get(&srv.url("/b"));
    req.overrides.auth = Some(AuthConfig::Basic {
        user: "u".into(),
        pass: "p".into(),
    });
    assert_eq!(ok(c.send(&req, &config), "override").status, 200);
    let recs = srv.requests_to("/b");
    assert_eq!(recs.len(), 1, "Basic should be pre-emptive");
    assert_eq!(recs[0].header("authorization"), Some("Basic dTpw"));
}

/// Bearer tokens are sent as `Authorization: Bearer`.
pub fn bearer_auth(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/t",
        Behaviour::Custom(Arc::new(|r| {
            if r.header("authorization") == Some("Bearer tok-123") {
                Reply::text("ok")
            } else {
                Reply::new(401)
            }
        })),
    )]);
    let mut config = cfg();
    config.auth = Some(AuthConfig::Bearer("tok-123".into()));
    assert_eq!(
        ok(c.send(&TestRequest::get(&srv.url("/t")), &config), "bearer").status,
        200
    );
    assert_eq!(srv.hits("/t"), 1);
}

fn digest_scenario(c: &dyn ConformanceClient, algorithm: DigestAlgorithm) {
    let srv = serve(vec![(
        "/d",
        Behaviour::DigestAuth {
            user: "Mufasa".into(),
            pass: "Circle of Life".into(),
            algorithm,
            stale_once: false,
        },
    )]);
    let mut config = cfg();
    config.auth = Some(AuthConfig::Digest {
        user: "Mufasa".into(),
        pass: "Circle of Life".into(),
    });
    let s = c.session(&config);
    let r = ok(s.send(&TestRequest::get(&srv.url("/d?q=1"))), "digest");
    assert_eq!(r.status, 200, "{algorithm:?}");
    assert_eq!(srv.hits("/d"), 2, "challenge + answer");
    // A second request (nonce reuse with nc=2 or a fresh challenge) works too.
    let r = ok(
        s.send(&TestRequest::post(&srv.url("/d"), b"body")),
        "digest again",
    );
    assert_eq!(r.status, 200, "{algorithm:?} second request");
}

/// Digest with MD5 (qop=auth): challenge, answer, verified hash.
pub fn digest_auth_md5(c: &dyn ConformanceClient) {
    digest_scenario(c, DigestAlgorithm::Md5);
}

/// Digest with SHA-256.
pub fn digest_auth_sha256(c: &dyn ConformanceClient) {
    digest_scenario(c, DigestAlgorithm::Sha256);
}

/// Digest `stale=true` is answered once more with the new nonce.
pub fn digest_auth_stale(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/d",
        Behaviour::DigestAuth {
            user: "u".into(),
            pass: "p".into(),
            algorithm: DigestAlgorithm::Md5,
            stale_once: true,
        },
    )]);
    let mut config = cfg();
    config.auth = Some(AuthConfig::Digest {
        user: "u".into(),
        pass: "p".into(),
    });
    let r = ok(c.send(&TestRequest::get(&srv.url("/d")), &config), "stale");
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/d"), 3);
}

/// Wrong Digest credentials end with the 401, without looping.
pub fn digest_auth_wrong_password(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/d",
        Behaviour::DigestAuth {
            user: "u".into(),
            pass: "p".into(),
            algorithm: DigestAlgorithm::Md5,
            stale_once: false,
        },
    )]);
    let mut config = cfg();
    config.auth = Some(AuthConfig::Digest {
        user: "u".into(),
        pass: "nope".into(),
    });
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/d")), &config),
        "wrong digest",
    );
    assert_eq!(r.status, 401);
    assert_eq!(srv.hits("/d"), 2);
}

// ---------------------------------------------------------------------------
// Cookies
// ---------------------------------------------------------------------------

/// The jar stores Set-Cookie and sends it back to the same host only; with
/// cookies off nothing is sent.
pub fn cookies_round_trip(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/set",
            Behaviour::Cookies(vec![
                "sid=abc; Path=/".into(),
                "scoped=1; Path=/other".into(),
            ]),
        ),
        ("/see", Behaviour::Cookies(Vec::new())),
    ]);
    let s = c.session(&cfg());
    ok(s.send(&TestRequest::get(&srv.url("/set"))), "set");
    let r = ok(s.send(&TestRequest::get(&srv.url("/see"))), "see");
    assert_eq!(String::from_utf8_lossy(&r.body), "sid=abc", "path rules");
    let r = ok(
        s.send(&TestRequest::get(&srv.url_localhost("/see"))),
        "other host",
    );
    assert!(
        r.body.is_empty(),
        "host-only cookie sent to localhost: {:?}",
        String::from_utf8_lossy(&r.body)
    );
    let mut off = cfg();
    off.cookies = false;
    let s = c.session(&off);
    ok(s.send(&TestRequest::get(&srv.url("/set"))), "set (jar off)");
    let r = ok(s.send(&TestRequest::get(&srv.url("/see"))), "see (jar off)");
    assert!(r.body.is_empty());
}

/// `Max-Age=0` deletes, `Secure` cookies stay off plain HTTP.
pub fn cookies_expiry_and_secure(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/set",
            Behaviour::Cookies(vec![
                "keep=1; Path=/".into(),
                "gone=1; Path=/".into(),
                "sec=1; Path=/; Secure".into(),
            ]),
        ),
        (
            "/del",
            Behaviour::Cookies(vec!["gone=; Path=/; Max-Age=0".into()]),
        ),
        ("/see", Behaviour::Cookies(Vec::new())),
    ]);
    let s = c.session(&cfg());
    ok(s.send(&TestRequest::get(&srv.url("/set"))), "set");
    let r = ok(s.send(&TestRequest::get(&srv.url("/see"))), "see");
    let mut seen: Vec<String> = String::from_utf8_lossy(&r.body)
        .split("; ")
        .map(str::to_string)
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec!["gone=1", "keep=1"],
        "Secure cookie sent over http?"
    );
    ok(s.send(&TestRequest::get(&srv.url("/del"))), "delete");
    let r = ok(s.send(&TestRequest::get(&srv.url("/see"))), "see again");
    assert_eq!(r.body, b"keep=1");
}

/// Cookies set by a redirect response are sent on the followed request.
pub fn cookies_through_redirects(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/login",
            Behaviour::Reply(
                Reply::new(302)
                    .header("Location", "/see")
                    .header("Set-Cookie", "auth=yes; Path=/"),
            ),
        ),
        ("/see", Behaviour::Cookies(Vec::new())),
    ]);
    let r = ok(
        c.send(&TestRequest::get(&srv.url("/login")), &cfg()),
        "redirect cookie",
    );
    assert_eq!(r.body, b"auth=yes");
}

// ---------------------------------------------------------------------------
// Expect: 100-continue
// ---------------------------------------------------------------------------

/// The body is sent after `100 Continue`.
pub fn expect_continue_honoured(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/up", Behaviour::Expect100 { reject: None })]);
    let mut req = TestRequest::post(&srv.url("/up"), b"the body");
    req.overrides.expect_continue = true;
    let r = ok(c.send(&req, &cfg()), "100-continue");
    assert_eq!(r.status, 200);
    let rec = &srv.requests_to("/up")[0];
    assert_eq!(rec.header("expect"), Some("100-continue"));
    assert_eq!(rec.body, b"the body");
}

/// A final 417 before the body: the client returns it and does not send
/// the body (the server never read one).
pub fn expect_continue_rejected(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/up", Behaviour::Expect100 { reject: Some(417) })]);
    let mut req = TestRequest::post(&srv.url("/up"), &pattern(256 * 1024));
    req.overrides.expect_continue = true;
    let r = ok(c.send(&req, &cfg()), "417");
    assert_eq!(r.status, 417);
    assert_eq!(srv.hits("/up"), 1);
    assert!(srv.requests_to("/up")[0].body.is_empty());
}

// ---------------------------------------------------------------------------
// Proxies
// ---------------------------------------------------------------------------

/// Plain HTTP through a forward proxy (absolute-form), credentials in the
/// proxy URL are sent to the proxy and not forwarded.
pub fn proxy_http_forward(c: &dyn ConformanceClient) {
    let origin = serve(vec![("/e", Behaviour::Echo)]);
    let proxy = ProxyServer::start(Some(("pu", "pp")))
        .unwrap_or_else(|e| panic!("conformance: proxy failed: {e}"));
    let mut config = cfg();
    config.proxy = Some(proxy.url_with_credentials());
    let s = c.session(&config);
    for _ in 0..2 {
        let r = ok(s.send(&TestRequest::get(&origin.url("/e"))), "via proxy");
        assert_eq!(r.status, 200);
    }
    let recs = proxy.records();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].target, origin.url("/e"), "absolute-form target");
    assert!(
        recs.iter().all(|r| r.authorized),
        "Proxy-Authorization missing or wrong"
    );
    assert_eq!(
        origin.requests_to("/e")[0].header("proxy-authorization"),
        None
    );
    assert_eq!(
        proxy.connections_accepted(),
        1,
        "proxy connection not reused"
    );
}

/// Without credentials the proxy's 407 comes back (or a Proxy error).
pub fn proxy_auth_required(c: &dyn ConformanceClient) {
    let origin = serve(vec![("/e", Behaviour::Echo)]);
    let proxy = ProxyServer::start(Some(("pu", "pp")))
        .unwrap_or_else(|e| panic!("conformance: proxy failed: {e}"));
    let mut config = cfg();
    config.proxy = Some(proxy.url());
    match c.send(&TestRequest::get(&origin.url("/e")), &config) {
        Ok(r) => assert_eq!(r.status, 407),
        Err(e) => expect_kind(&e, TestErrorKind::Proxy, "407"),
    }
    assert_eq!(origin.hits("/e"), 0);
}

/// HTTPS through a CONNECT tunnel with proxy auth; the origin never sees
/// the proxy credentials.
pub fn proxy_connect_tunnel(c: &dyn ConformanceClient) {
    let ca = Arc::new(TestCa::new().unwrap_or_else(|e| panic!("conformance: {e}")));
    let origin = start(
        TestServer::builder()
            .route("/e", Behaviour::Echo)
            .tls(ca.clone(), TlsVariant::Good),
    );
    let proxy = ProxyServer::start(Some(("pu", "pp")))
        .unwrap_or_else(|e| panic!("conformance: proxy failed: {e}"));
    let mut config = cfg();
    config.proxy = Some(proxy.url_with_credentials());
    config.ca_pem = Some(ca.ca_pem());
    let r = ok(
        c.send(&TestRequest::get(&origin.url_localhost("/e")), &config),
        "CONNECT",
    );
    assert_eq!(r.status, 200);
    let recs = proxy.records();
    assert_eq!(recs[0].method, "CONNECT");
    assert_eq!(
        recs[0].target,
        format!("localhost:{}", origin.addr().port())
    );
    assert!(recs[0].authorized);
    assert_eq!(
        origin.requests_to("/e")[0].header("proxy-authorization"),
        None
    );
}

/// A CONNECT refused with 407 is a Proxy error, not a response.
pub fn proxy_connect_refused(c: &dyn ConformanceClient) {
    let ca = Arc::new(TestCa::new().unwrap_or_else(|e| panic!("conformance: {e}")));
    let origin = start(
        TestServer::builder()
            .route("/e", Behaviour::Echo)
            .tls(ca.clone(), TlsVariant::Good),
    );
    let proxy = ProxyServer::start(Some(("pu", "pp")))
        .unwrap_or_else(|e| panic!("conformance: proxy failed: {e}"));
    let mut config = cfg();
    config.proxy = Some(proxy.url());
    config.ca_pem = Some(ca.ca_pem());
    let e = err(
        c.send(&TestRequest::get(&origin.url("/e")), &config),
        "CONNECT 407",
    );
    expect_kind(&e, TestErrorKind::Proxy, "CONNECT 407");
    assert_eq!(origin.hits("/e"), 0);
}

// ---------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------

fn tls_server(v: TlsVariant) -> (Arc<TestCa>, TestServer) {
    let ca = Arc::new(TestCa::new().unwrap_or_else(|e| panic!("conformance: {e}")));
    let srv = start(
        TestServer::builder()
            .route("/e", Behaviour::Echo)
            .tls(ca.clone(), v),
    );
    (ca, srv)
}

/// HTTPS with the test CA works, by name and by IP, and connections are
/// reused.
pub fn tls_good_certificate(c: &dyn ConformanceClient) {
    let (ca, srv) = tls_server(TlsVariant::Good);
    let mut config = cfg();
    config.ca_pem = Some(ca.ca_pem());
    let s = c.session(&config);
    for u in [srv.url("/e"), srv.url("/e"), srv.url_localhost("/e")] {
        assert_eq!(ok(s.send(&TestRequest::get(&u)), &u).status, 200);
    }
    assert_eq!(srv.hits("/e"), 3);
    assert_eq!(srv.connections_accepted(), 2, "one connection per origin");
}

fn tls_rejected(c: &dyn ConformanceClient, v: TlsVariant, trust: bool) {
    let (ca, srv) = tls_server(v);
    let mut config = cfg();
    if trust {
        config.ca_pem = Some(ca.ca_pem());
    }
    // Certificate errors are deterministic: never retried.
    config.retry = RetryConfig::total(3);
    let e = err(
        c.send(&TestRequest::get(&srv.url_localhost("/e")), &config),
        "bad cert",
    );
    expect_kind(&e, TestErrorKind::Certificate, &format!("{v:?}"));
    assert_eq!(srv.hits("/e"), 0);
    assert_eq!(
        srv.connections_accepted(),
        1,
        "{v:?}: certificate error was retried"
    );
}

/// A certificate for another host name is rejected.
pub fn tls_wrong_host(c: &dyn ConformanceClient) {
    tls_rejected(c, TlsVariant::WrongHost, true);
}

/// An expired certificate is rejected.
pub fn tls_expired(c: &dyn ConformanceClient) {
    tls_rejected(c, TlsVariant::Expired, true);
}

/// A certificate from an unknown issuer is rejected.
pub fn tls_unknown_issuer(c: &dyn ConformanceClient) {
    tls_rejected(c, TlsVariant::UnknownIssuer, true);
}

/// Without the test CA, the default roots reject the test certificate.
pub fn tls_untrusted_without_ca(c: &dyn ConformanceClient) {
    tls_rejected(c, TlsVariant::Good, false);
}

// ---------------------------------------------------------------------------
// Pool limits and concurrency
// ---------------------------------------------------------------------------

/// 32 threads share one session capped at 4 connections per host: the cap
/// holds (server-side count) and no request is lost.
pub fn pool_limit_under_concurrency(c: &dyn ConformanceClient) {
    let srv = serve(vec![(
        "/slow",
        Behaviour::StallBeforeHead(Duration::from_millis(20)),
    )]);
    let mut config = cfg();
    config.max_connections_per_host = Some(4);
    config.pool_wait = true;
    let s: Arc<dyn ConformanceSession> = Arc::from(c.session(&config));
    let url = srv.url("/slow");
    let handles: Vec<_> = (0..32)
        .map(|_| {
            let s = s.clone();
            let url = url.clone();
            std::thread::spawn(move || s.send(&TestRequest::get(&url)).map(|r| r.status))
        })
        .collect();
    for h in handles {
        match h.join() {
            Ok(Ok(200)) => {}
            other => panic!("a concurrent request failed: {other:?}"),
        }
    }
    assert_eq!(srv.hits("/slow"), 32);
    assert!(
        srv.connections_accepted() <= 4,
        "{} connections",
        srv.connections_accepted()
    );
}

// ---------------------------------------------------------------------------
// Connection lifecycle
// ---------------------------------------------------------------------------

fn capped(max: usize, wait: bool) -> ClientConfig {
    let mut config = cfg();
    config.max_connections_per_host = Some(max);
    config.pool_wait = wait;
    config
}

/// True if the request was abandoned; false (after a note) if the client
/// cannot abandon there. A failure before the abandon point panics.
#[track_caller]
fn abandoned(outcome: Abandoned, at: AbandonAt, what: &str) -> bool {
    match outcome {
        Abandoned::Done => true,
        Abandoned::Unsupported => {
            eprintln!(
                "conformance: {what}: the client cannot abandon a request at {at:?}; \
                 that step is skipped, the checks that follow still run"
            );
            false
        }
        Abandoned::Failed(e) => {
            panic!("{what}: the request failed before the abandon point {at:?}: {e:?}")
        }
    }
}

/// Waits (bounded) until the server has seen `n` requests to `path`.
#[track_caller]
fn wait_for_hits(srv: &TestServer, path: &str, n: usize, what: &str) {
    let t = Instant::now();
    while srv.hits(path) < n {
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{what}: {path} reached the server {} times within 2 s, expected {n}",
            srv.hits(path)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[track_caller]
fn joined(h: std::thread::JoinHandle<Result<TestResponse, TestError>>, what: &str) -> TestResponse {
    match h.join() {
        Ok(r) => ok(r, what),
        Err(_) => panic!("{what}: the thread sending it panicked"),
    }
}

#[track_caller]
fn within(t: Instant, limit: Duration, what: &str) {
    assert!(
        t.elapsed() < limit,
        "{what}: took {:?}, expected under {limit:?}",
        t.elapsed()
    );
}

fn failed_connect_scenario(c: &dyn ConformanceClient, wait: bool) {
    let url = closed_port();
    let mut config = capped(1, wait);
    config.retry = RetryConfig::total(2);
    if wait {
        config.deadline = Some(Duration::from_secs(3));
    }
    let s = c.session(&config);
    for what in ["first request", "second request"] {
        let t = Instant::now();
        let e = err(s.send(&TestRequest::get(&url)), what);
        expect_kind(
            &e,
            TestErrorKind::Connect,
            &format!(
                "{what} to a refused port, cap 1, connect retries (a pool-full error or a \
                 deadline here means a failed connect kept its pool slot)"
            ),
        );
        within(
            t,
            Duration::from_millis(1500),
            &format!("{what} to a refused port"),
        );
    }
}

/// Cap 1, error when full, two connect retries, a refused port: every
/// attempt is a Connect failure. A failed connect that keeps its pool slot
/// turns the retry (and the next request) into a pool-full error.
pub fn failed_connect_frees_slot_error_mode(c: &dyn ConformanceClient) {
    failed_connect_scenario(c, false);
}

/// As [`failed_connect_frees_slot_error_mode`] but waiting when full
/// (deadline 3 s): a leaked slot makes the retry wait for the pool until
/// the deadline; a correct client fails with Connect within ~1.5 s.
pub fn failed_connect_frees_slot_wait_mode(c: &dyn ConformanceClient) {
    failed_connect_scenario(c, true);
}

/// Cap 1, waiting when full. While a slow request holds the slot, a second
/// request queued for it is abandoned; once the slow one is done, a new
/// request gets the slot at once (the abandoned one left the queue) and
/// the abandoned one was never sent.
pub fn abandon_while_waiting_for_slot(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/slow",
            Behaviour::StallBeforeHead(Duration::from_millis(500)),
        ),
        ("/fast", Behaviour::Reply(Reply::text("fast"))),
    ]);
    let mut config = capped(1, true);
    config.deadline = Some(Duration::from_secs(5));
    let s: Arc<dyn ConformanceSession> = Arc::from(c.session(&config));
    let slow = {
        let s = s.clone();
        let url = srv.url("/slow");
        std::thread::spawn(move || s.send(&TestRequest::get(&url)))
    };
    wait_for_hits(&srv, "/slow", 1, "the request holding the slot");
    let at = AbandonAt::After(Duration::from_millis(150));
    let t = Instant::now();
    let done = abandoned(
        s.abandon(&TestRequest::get(&srv.url("/fast")), at),
        at,
        "GET /fast queued for the slot",
    );
    if done {
        within(t, Duration::from_secs(2), "abandoning a queued request");
    }
    let r = joined(slow, "GET /slow holding the slot");
    assert_eq!(r.body, b"late");
    let t = Instant::now();
    let r = ok(
        s.send(&TestRequest::get(&srv.url("/fast"))),
        "GET /fast after the slot was freed (an abandoned waiter must give up its place)",
    );
    assert_eq!(r.body, b"fast");
    within(
        t,
        Duration::from_millis(1500),
        "GET /fast after the slot was freed (an abandoned waiter kept its place in the queue?)",
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        srv.hits("/fast"),
        1,
        "the abandoned GET /fast was sent after all"
    );
}

/// Cap 1, error when full, connect timeout 300 ms, no retries: a request
/// abandoned while connecting to a black hole gives its slot back, so the
/// next request times out connecting (not a pool-full error).
pub fn abandon_while_connecting(c: &dyn ConformanceClient) {
    let hole = match BlackHole::start() {
        Ok(h) => h,
        Err(e) => panic!("conformance: black hole unavailable: {e}"),
    };
    let mut config = capped(1, false);
    config.connect_timeout = Some(Duration::from_millis(300));
    let s = c.session(&config);
    let at = AbandonAt::After(Duration::from_millis(100));
    let t = Instant::now();
    if abandoned(
        s.abandon(&TestRequest::get(&hole.url("/")), at),
        at,
        "a connect to a black hole",
    ) {
        within(t, Duration::from_secs(2), "abandoning a connect");
    }
    let t = Instant::now();
    let e = err(
        s.send(&TestRequest::get(&hole.url("/"))),
        "a connect after an abandoned connect",
    );
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::Connect,
        },
        "a connect after an abandoned connect (a pool-full error means the abandoned connect kept its slot)",
    );
    within(t, Duration::from_secs(2), "the connect timeout");
}

/// Cap 1, error when full: a request abandoned while waiting for its head
/// gives back its slot and its connection is not reused; the next request
/// gets its own response promptly, on another connection.
pub fn abandon_mid_head(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/stall",
            Behaviour::StallBeforeHead(Duration::from_millis(400)),
        ),
        ("/ok", Behaviour::Reply(Reply::text("ok"))),
    ]);
    let s = c.session(&capped(1, false));
    let at = AbandonAt::After(Duration::from_millis(100));
    let t = Instant::now();
    if abandoned(
        s.abandon(&TestRequest::get(&srv.url("/stall")), at),
        at,
        "GET /stall waiting for its head",
    ) {
        within(t, Duration::from_secs(2), "abandoning a request mid-head");
    }
    let t = Instant::now();
    let r = ok(
        s.send(&TestRequest::get(&srv.url("/ok"))),
        "GET /ok after a request abandoned mid-head (pool-full: the slot was kept)",
    );
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "ok",
        "GET /ok got another request's response"
    );
    within(t, Duration::from_millis(1500), "GET /ok after an abandon");
    let oks = srv.requests_to("/ok");
    assert_eq!(oks.len(), 1);
    if let Some(stall) = srv.requests_to("/stall").first() {
        assert_ne!(
            stall.connection, oks[0].connection,
            "GET /ok reused the connection of the request abandoned mid-head"
        );
    }
}

/// Cap 1, error when full: a response dropped after 1000 body bytes (of
/// 1 MiB) gives back its slot; the next request succeeds promptly on a new
/// connection (the old one has unread bytes). Every client must support
/// this abandon point.
pub fn abandon_mid_body(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/big",
            Behaviour::Stream {
                len: 1024 * 1024,
                chunked: false,
            },
        ),
        ("/ok", Behaviour::Reply(Reply::text("ok"))),
    ]);
    let s = c.session(&capped(1, false));
    let at = AbandonAt::AfterBodyBytes(1000);
    let t = Instant::now();
    match s.abandon(&TestRequest::get(&srv.url("/big")), at) {
        Abandoned::Done => {}
        Abandoned::Unsupported => {
            panic!("every client must be able to drop a response part-way through its body")
        }
        Abandoned::Failed(e) => panic!("GET /big failed before 1000 body bytes: {e:?}"),
    }
    within(t, Duration::from_secs(2), "dropping a response mid-body");
    let t = Instant::now();
    let r = ok(
        s.send(&TestRequest::get(&srv.url("/ok"))),
        "GET /ok after a response dropped mid-body (pool-full: the slot was kept)",
    );
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "ok",
        "GET /ok got another request's bytes"
    );
    within(
        t,
        Duration::from_millis(1500),
        "GET /ok after a dropped body",
    );
    assert_eq!(srv.hits("/big"), 1);
    let (big, oks) = (srv.requests_to("/big"), srv.requests_to("/ok"));
    assert_eq!(oks.len(), 1);
    assert_ne!(
        big[0].connection, oks[0].connection,
        "GET /ok reused the connection whose body was dropped half-read"
    );
}

/// Cap 1, error when full, 503 + `Retry-After: 1` retried: a request
/// abandoned in its backoff sleep never makes its retry and holds nothing
/// afterwards; the next request succeeds at once.
pub fn abandon_mid_backoff(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        ("/busy", flaky(vec![retry_after(503, "1")], status(200))),
        ("/ok", Behaviour::Reply(Reply::text("ok"))),
    ]);
    let mut config = capped(1, false);
    config.retry = RetryConfig::total(3).forcelist(&[503]);
    config.retry.respect_retry_after = true;
    let s = c.session(&config);
    let at = AbandonAt::After(Duration::from_millis(300));
    let start = Instant::now();
    let done = abandoned(
        s.abandon(&TestRequest::get(&srv.url("/busy")), at),
        at,
        "GET /busy in its Retry-After sleep",
    );
    if done {
        within(start, Duration::from_secs(2), "abandoning a backoff sleep");
        assert_eq!(
            srv.hits("/busy"),
            1,
            "GET /busy: the first attempt (503) should have been sent"
        );
    }
    let t = Instant::now();
    let r = ok(
        s.send(&TestRequest::get(&srv.url("/ok"))),
        "GET /ok after a request abandoned in its backoff (pool-full: it kept its slot)",
    );
    assert_eq!(String::from_utf8_lossy(&r.body), "ok");
    within(
        t,
        Duration::from_millis(1500),
        "GET /ok after an abandoned backoff",
    );
    // Past the end of the abandoned sleep: its retry must never come.
    let end = start + Duration::from_millis(1500);
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    assert_eq!(
        srv.hits("/busy"),
        usize::from(done),
        "the abandoned GET /busy made its retry"
    );
    assert_eq!(srv.hits("/ok"), 1);
}

/// The server writes a complete fake response, unsolicited, on an idle
/// keep-alive connection. The next request must not read it as its
/// response (nor store its cookie): an idle connection with bytes waiting
/// is discarded, and the request goes out on another connection.
pub fn unsolicited_bytes_on_idle_connection(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/inject",
            Behaviour::Inject {
                body: b"first".to_vec(),
                after: Duration::from_millis(50),
                bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nSet-Cookie: injected=1\r\n\r\ninjected"
                    .to_vec(),
            },
        ),
        ("/second", Behaviour::Reply(Reply::text("second"))),
        ("/see", Behaviour::Cookies(Vec::new())),
    ]);
    let s = c.session(&cfg());
    let r = ok(
        s.send(&TestRequest::get(&srv.url("/inject"))),
        "GET /inject",
    );
    assert_eq!(r.body, b"first");
    std::thread::sleep(Duration::from_millis(200));
    let r = ok(
        s.send(&TestRequest::get(&srv.url("/second"))),
        "GET /second after unsolicited bytes",
    );
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "second",
        "the unsolicited bytes were read as the response"
    );
    let r = ok(s.send(&TestRequest::get(&srv.url("/see"))), "GET /see");
    let sent = String::from_utf8_lossy(&r.body);
    assert!(
        !sent.contains("injected"),
        "a cookie from unsolicited bytes was stored: {sent:?}"
    );
    let injected = srv.requests_to("/inject")[0].connection;
    let second = srv.requests_to("/second");
    assert_eq!(second.len(), 1);
    assert_ne!(
        second[0].connection, injected,
        "GET /second went out on the connection with unsolicited bytes"
    );
}

/// A HEAD 200 with `Content-Length: 5`, a 204 and a 304, each wrongly
/// followed by "hello" on a keep-alive connection: the response has no
/// body, and the next request on the session gets its genuine response,
/// not the stray bytes (a connection with bytes left over is not reused).
pub fn body_after_bodiless_response(c: &dyn ConformanceClient) {
    let cases: [(&str, &str, u16, &[u8]); 3] = [
        (
            "HEAD",
            "/head",
            200,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        ),
        ("GET", "/204", 204, b"HTTP/1.1 204 No Content\r\n\r\nhello"),
        (
            "GET",
            "/304",
            304,
            b"HTTP/1.1 304 Not Modified\r\n\r\nhello",
        ),
    ];
    let mut b = TestServer::builder().route("/echo", Behaviour::Echo);
    for (_, path, _, bytes) in cases {
        b = b.route(path, Behaviour::RawKeepAlive(bytes.to_vec()));
    }
    let srv = start(b);
    for (method, path, code, _) in cases {
        let s = c.session(&cfg());
        let r = ok(
            s.send(&TestRequest::new(method, &srv.url(path))),
            &format!("{method} {path}"),
        );
        assert_eq!(r.status, code, "{method} {path}");
        assert!(
            r.body.is_empty(),
            "{method} {path}: a bodiless response got a body {:?}",
            String::from_utf8_lossy(&r.body)
        );
        let target = format!("/echo?after={}", &path[1..]);
        let r = ok(
            s.send(&TestRequest::get(&srv.url(&target))),
            &format!("GET after {method} {path} with stray bytes"),
        );
        assert_eq!(r.status, 200, "GET after {method} {path}");
        assert_eq!(
            r.echo()["target"],
            target.as_str(),
            "GET after {method} {path}: not the genuine response: {:?}",
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(srv.hits("/echo"), 3);
}

/// Retries disabled. The server closes an idle connection (FIN); a POST
/// afterwards must not be written on it (it could not be re-sent safely):
/// the client notices the close before reuse, and the server sees exactly
/// one POST.
pub fn post_on_connection_closed_by_server(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/warm",
            Behaviour::CloseIdle {
                idle: Duration::from_millis(50),
                hint: None,
            },
        ),
        ("/post", Behaviour::Echo),
    ]);
    let s = c.session(&cfg());
    ok(s.send(&TestRequest::get(&srv.url("/warm"))), "GET /warm");
    std::thread::sleep(Duration::from_millis(250));
    let r = ok(
        s.send(&TestRequest::post(&srv.url("/post"), b"payload")),
        "POST after the server closed the idle connection",
    );
    assert_eq!(r.status, 200);
    let posts = srv.requests_to("/post");
    assert_eq!(posts.len(), 1, "the server saw {} POSTs", posts.len());
    assert_eq!(posts[0].body, b"payload");
    assert_ne!(posts[0].connection, srv.requests_to("/warm")[0].connection);
}

/// Cap 1, waiting when full, `pool_wait_timeout` 200 ms: while another
/// request holds the slot, a second one fails with
/// `Timeout { phase: PoolWait }` within ~0.7 s, and its error carries the
/// per-call report.
pub fn pool_wait_timeout_has_report(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        ("/hold", Behaviour::StallBeforeHead(Duration::from_secs(1))),
        ("/next", Behaviour::Reply(Reply::text("next"))),
    ]);
    let mut config = capped(1, true);
    config.pool_wait_timeout = Some(Duration::from_millis(200));
    let s: Arc<dyn ConformanceSession> = Arc::from(c.session(&config));
    let holder = {
        let s = s.clone();
        let url = srv.url("/hold");
        std::thread::spawn(move || s.send(&TestRequest::get(&url)))
    };
    wait_for_hits(&srv, "/hold", 1, "the request holding the slot");
    let t = Instant::now();
    let e = err(
        s.send(&TestRequest::get(&srv.url("/next"))),
        "GET /next while the only slot is held",
    );
    let took = t.elapsed();
    expect_kind(
        &e,
        TestErrorKind::Timeout {
            phase: Phase::PoolWait,
        },
        "pool wait timeout",
    );
    assert!(
        took >= Duration::from_millis(150),
        "gave up after {took:?}, before the 200 ms pool wait timeout"
    );
    assert!(
        took < Duration::from_millis(900),
        "the pool wait took {took:?}"
    );
    assert!(
        e.report.is_some(),
        "the pool-wait timeout carries no per-call report: {e:?}"
    );
    assert_eq!(srv.hits("/next"), 0);
    assert_eq!(joined(holder, "GET /hold").body, b"late");
}

// ---------------------------------------------------------------------------
// Behaving like requests
// ---------------------------------------------------------------------------

/// The `Content-Type` fields a recorded request carried, in order.
fn content_types(rec: &RecordedRequest) -> Vec<&str> {
    rec.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Percent-decodes `s` (`+` as a space when `plus`); invalid escapes stay.
fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|c| (*c as char).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) if plus => out.push(b' '),
            (c, _, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The pairs of an `application/x-www-form-urlencoded` body.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// `Basic base64(user:pass)`.
fn basic_header(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

/// `http://USERINFO@host:port/path` from `http://host:port/path`.
fn with_userinfo(url: &str, userinfo: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{userinfo}@{rest}"),
        None => url.to_string(),
    }
}

/// An HTTPS GET through `proxy` (no credentials) with retries on: the
/// proxy refuses the CONNECT with `code`, and that is final.
fn refused_connect_scenario(c: &dyn ConformanceClient, proxy: &ProxyServer, code: u16) {
    let ca = Arc::new(TestCa::new().unwrap_or_else(|e| panic!("conformance: {e}")));
    let origin = start(
        TestServer::builder()
            .route("/e", Behaviour::Echo)
            .tls(ca.clone(), TlsVariant::Good),
    );
    let mut config = cfg();
    config.proxy = Some(proxy.url());
    config.ca_pem = Some(ca.ca_pem());
    config.retry = RetryConfig::total(3).backoff(0.01);
    let what = format!("CONNECT answered {code}, retries on");
    let e = err(c.send(&TestRequest::get(&origin.url("/e")), &config), &what);
    assert_eq!(
        e.kind,
        TestErrorKind::Proxy,
        "{what}: a refused CONNECT is final, the error a proxy error (not retries exhausted): {e:?}"
    );
    let name = proxy.addr().to_string();
    assert!(
        e.message.contains(&name) && e.message.contains(&code.to_string()),
        "{what}: the message must name the proxy ({name}) and its status {code}: {:?}",
        e.message
    );
    let connects = proxy
        .records()
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case("CONNECT"))
        .count();
    assert_eq!(
        connects, 1,
        "{what}: the proxy saw {connects} CONNECTs (a refusal must not be retried)"
    );
    assert_eq!(origin.hits("/e"), 0);
}

/// A proxy that refuses the tunnel is not retried (requests: one attempt,
/// `ProxyError`): with `Retry(total=3)`, an HTTPS request through a proxy
/// that answers CONNECT with 407 (no credentials were given), or with 403,
/// fails at once with a Proxy error (the top-level kind, not
/// RetriesExhausted) whose message names the proxy (`host:port`) and the
/// status; the proxy saw one CONNECT.
pub fn proxy_refusal_is_final(c: &dyn ConformanceClient) {
    let needs_auth = ProxyServer::start(Some(("pu", "pp")))
        .unwrap_or_else(|e| panic!("conformance: proxy failed: {e}"));
    refused_connect_scenario(c, &needs_auth, 407);
    let forbidding = ProxyServer::start_refusing_connect(403)
        .unwrap_or_else(|e| panic!("conformance: proxy failed: {e}"));
    refused_connect_scenario(c, &forbidding, 403);
}

/// The caller's Content-Type is kept, once (requests): set before or after
/// the JSON or form helper, the server sees exactly one Content-Type, the
/// caller's; without one the helper's (`application/json`,
/// `application/x-www-form-urlencoded`). The bodies arrive intact.
pub fn caller_content_type_is_kept_once(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/ct", Behaviour::Echo)]);
    let s = c.session(&cfg());
    let url = srv.url("/ct");
    let value = serde_json::json!({"name": "hawser", "n": [1, 2, 3], "nested": {"ok": true}});
    let pairs = [("name", "hawser"), ("q", "a b&c=d")];
    let vnd = "application/vnd.api+json";
    let form_ct = "application/x-www-form-urlencoded; charset=utf-8";
    let post = || TestRequest::new("POST", &url);
    let cases = [
        (
            "JSON, Content-Type set before the helper",
            post().header("Content-Type", vnd).json(value.clone()),
            vnd,
        ),
        (
            "JSON, Content-Type set after the helper",
            post()
                .json(value.clone())
                .header_after_body("content-type", vnd),
            vnd,
        ),
        (
            "JSON, no Content-Type from the caller",
            post().json(value.clone()),
            "application/json",
        ),
        (
            "form, Content-Type set before the helper",
            post().header("content-type", form_ct).form(&pairs),
            form_ct,
        ),
        (
            "form, Content-Type set after the helper",
            post()
                .form(&pairs)
                .header_after_body("Content-Type", form_ct),
            form_ct,
        ),
        (
            "form, no Content-Type from the caller",
            post().form(&pairs),
            "application/x-www-form-urlencoded",
        ),
    ];
    let expected_pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (i, (what, req, expected)) in cases.iter().enumerate() {
        let r = ok(s.send(req), what);
        assert_eq!(r.status, 200, "{what}");
        let recs = srv.requests_to("/ct");
        assert_eq!(recs.len(), i + 1, "{what}: requests the server saw");
        let rec = &recs[i];
        assert_eq!(
            content_types(rec),
            vec![*expected],
            "{what}: the Content-Type fields the server received"
        );
        let body = String::from_utf8_lossy(&rec.body);
        if matches!(req.body, Some(TestBody::Json(_))) {
            let got: serde_json::Value =
                serde_json::from_slice(&rec.body).unwrap_or(serde_json::Value::Null);
            assert_eq!(got, value, "{what}: the JSON body arrived as {body:?}");
        } else {
            assert_eq!(
                form_pairs(&rec.body),
                expected_pairs,
                "{what}: the form body arrived as {body:?}"
            );
        }
    }
}

/// Explicit auth beats credentials in the URL (requests: `auth=` on the
/// request or session first, URL userinfo only when none is given): with
/// session Basic auth for "session" and a URL with userinfo `url:pw` the
/// server sees Basic for "session"; a per-request auth beats both; URL
/// credentials alone are sent as Basic. Userinfo never reaches the Host
/// header or the request target.
pub fn explicit_auth_beats_url_credentials(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/a", Behaviour::Echo)]);
    let url = with_userinfo(&srv.url("/a"), "url:pw");
    let mut session_auth = cfg();
    session_auth.auth = Some(AuthConfig::Basic {
        user: "session".into(),
        pass: "spw".into(),
    });
    let mut per_request = TestRequest::get(&url);
    per_request.overrides.auth = Some(AuthConfig::Basic {
        user: "request".into(),
        pass: "rpw".into(),
    });
    let cases = [
        (
            "session auth and URL credentials",
            TestRequest::get(&url),
            &session_auth,
            basic_header("session", "spw"),
        ),
        (
            "per-request auth, session auth and URL credentials",
            per_request,
            &session_auth,
            basic_header("request", "rpw"),
        ),
        (
            "URL credentials alone",
            TestRequest::get(&url),
            &cfg(),
            basic_header("url", "pw"),
        ),
    ];
    for (i, (what, req, config, expected)) in cases.iter().enumerate() {
        let r = ok(c.send(req, config), what);
        assert_eq!(r.status, 200, "{what}");
        let recs = srv.requests_to("/a");
        assert_eq!(
            recs.len(),
            i + 1,
            "{what}: requests the server saw (Basic is pre-emptive)"
        );
        let rec = &recs[i];
        assert_eq!(
            rec.header("authorization"),
            Some(expected.as_str()),
            "{what}: the Authorization the server received"
        );
        assert!(
            !rec.target.contains('@') && rec.header("host").is_some_and(|h| !h.contains('@')),
            "{what}: the URL's userinfo leaked into {:?} / Host {:?}",
            rec.target,
            rec.header("host")
        );
    }
}

/// A session or built-in default header can be left out of one request
/// (requests' `headers={"User-Agent": None}`): with a session default
/// `X-Default: 1`, a request that removes `x-default` (any case) and
/// `User-Agent` sends neither; the next request sends both again as before.
pub fn default_header_removed_for_one_request(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/h", Behaviour::Echo)]);
    let mut config = cfg();
    config
        .default_headers
        .push(("X-Default".into(), "1".into()));
    let s = c.session(&config);
    let url = srv.url("/h");
    ok(s.send(&TestRequest::get(&url)), "with the defaults");
    let removing = TestRequest::get(&url)
        .remove_header("x-default")
        .remove_header("User-Agent");
    ok(s.send(&removing), "removing X-Default and User-Agent");
    ok(s.send(&TestRequest::get(&url)), "after the removal");
    let recs = srv.requests_to("/h");
    assert_eq!(recs.len(), 3, "requests the server saw");
    assert_eq!(
        recs[0].header("x-default"),
        Some("1"),
        "the session default header was not sent"
    );
    assert_eq!(
        recs[1].header("x-default"),
        None,
        "X-Default was sent although the request removed it"
    );
    assert_eq!(
        recs[1].header("user-agent"),
        None,
        "User-Agent was sent although the request removed it"
    );
    assert!(recs[1].header("host").is_some(), "Host header missing");
    assert_eq!(
        recs[2].header("x-default"),
        Some("1"),
        "removing X-Default for one request removed it from the session"
    );
    assert_eq!(
        recs[2].header("user-agent"),
        recs[0].header("user-agent"),
        "the default User-Agent did not come back after one request removed it"
    );
}

/// The path and query are re-quoted like requests' `requote_uri`
/// (unquote `%XX` of unreserved characters, then quote everything outside
/// `!#$%&'()*+,/:;=?@[]~`; an invalid escape quotes the `%` itself): the
/// server receives `/q?a=|^{}\` as `/q?a=%7C%5E%7B%7D%5C`, `/q?b=%zz` as
/// `/q?b=%25zz`, `/q?c=%41%2F` as `/q?c=A%2F` and `/p|q` as `/p%7Cq`.
pub fn url_requoted_like_requests(c: &dyn ConformanceClient) {
    let srv = start(
        TestServer::builder()
            .route("/q", Behaviour::Echo)
            .route_prefix("/p", Behaviour::Echo),
    );
    let s = c.session(&cfg());
    let cases = [
        ("/q?a=|^{}\\", "/q?a=%7C%5E%7B%7D%5C"),
        ("/q?b=%zz", "/q?b=%25zz"),
        ("/q?c=%41%2F", "/q?c=A%2F"),
        ("/p|q", "/p%7Cq"),
    ];
    for (i, (sent, expected)) in cases.iter().enumerate() {
        let r = ok(s.send(&TestRequest::get(&srv.url(sent))), sent);
        assert_eq!(r.status, 200, "GET {sent}");
        let recs = srv.requests();
        assert_eq!(recs.len(), i + 1, "GET {sent}: requests the server saw");
        assert_eq!(
            recs[i].target, *expected,
            "GET {sent}: the request target the server received"
        );
    }
}

/// The reason phrase reported is the server's (requests'
/// `Response.reason`, which its `raise_for_status` message uses): `HTTP/1.1
/// 404 NOT FOUND` gives "NOT FOUND", `200 OK` "OK", `200 All Good` "All Good".
pub fn server_reason_phrase_reported(c: &dyn ConformanceClient) {
    let raw = |line: &str, body: &str| {
        Behaviour::RawKeepAlive(
            format!("{line}\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes(),
        )
    };
    let srv = serve(vec![
        ("/nf", raw("HTTP/1.1 404 NOT FOUND", "not found")),
        ("/ok", raw("HTTP/1.1 200 OK", "ok")),
        ("/good", raw("HTTP/1.1 200 All Good", "good")),
    ]);
    let s = c.session(&cfg());
    for (path, status, reason, body) in [
        ("/nf", 404, "NOT FOUND", "not found"),
        ("/ok", 200, "OK", "ok"),
        ("/good", 200, "All Good", "good"),
    ] {
        let r = ok(s.send(&TestRequest::get(&srv.url(path))), path);
        assert_eq!(r.status, status, "{path}");
        assert_eq!(
            r.reason, reason,
            "{path}: the reason phrase reported for `{status} {reason}`"
        );
        assert_eq!(r.body, body.as_bytes(), "{path}");
        assert_eq!(srv.hits(path), 1, "{path}");
    }
}

// ---------------------------------------------------------------------------
// Hostile servers and careless callers
// ---------------------------------------------------------------------------

const MIB: u64 = 1024 * 1024;

/// A `BodyTooLarge` error for `r`, returned within 5 s of `t`.
#[track_caller]
fn too_large(r: Result<TestResponse, TestError>, t: Instant, what: &str) -> TestError {
    let e = err(r, what);
    expect_kind(&e, TestErrorKind::BodyTooLarge, what);
    within(t, Duration::from_secs(5), what);
    e
}

/// The most a loopback connection's socket buffers can hold: the largest
/// receive buffer TCP autotuning may grow to plus the largest send buffer
/// (Linux's `tcp_rmem` and `tcp_wmem` maxima; 16 MiB where unknown).
fn kernel_socket_buffers() -> u64 {
    let max = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.split_whitespace().nth(2)?.parse::<u64>().ok())
    };
    match (
        max("/proc/sys/net/ipv4/tcp_rmem"),
        max("/proc/sys/net/ipv4/tcp_wmem"),
    ) {
        (Some(r), Some(w)) => r + w,
        _ => 16 * MIB,
    }
}

/// The messages of `e` and of every cause below it.
fn messages(e: &TestError) -> Vec<&str> {
    let mut out = vec![e.message.as_str()];
    let mut next = e.cause.as_deref();
    while let Some(c) = next {
        out.push(c.message.as_str());
        next = c.cause.as_deref();
    }
    out
}

/// Reading a body into memory is capped (`max_body_in_memory = 1 MiB`): a
/// `Content-Length: 2 MiB` body, an endless chunked body
/// ([`Behaviour::Endless`]) and a gzip bomb decoding to 64 MiB
/// ([`Behaviour::GzipBomb`]) each fail with [`TestErrorKind::BodyTooLarge`]
/// within 5 s. For the endless body the message names the limit
/// (`1048576`; hawser's also says "raise it with max_body_in_memory"), and
/// the server sees the client stop: the connection is closed within 3 s
/// of the error, after more than 1 MiB but under 16 MiB plus what the
/// kernel's socket buffers can hold was written. A
/// 512 KiB body (Content-Length and chunked) is read whole, and the
/// session still works afterwards.
pub fn in_memory_read_is_capped(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/declared",
            Behaviour::Stream {
                len: 2 * MIB,
                chunked: false,
            },
        ),
        ("/bomb", Behaviour::GzipBomb { decoded: 64 * MIB }),
        (
            "/fine-cl",
            Behaviour::Stream {
                len: 512 * 1024,
                chunked: false,
            },
        ),
        (
            "/fine-ch",
            Behaviour::Stream {
                len: 512 * 1024,
                chunked: true,
            },
        ),
        ("/after", Behaviour::Echo),
    ]);
    // Its own server, so its open connections are the endless body's.
    let endless = serve(vec![("/endless", Behaviour::Endless)]);
    let mut config = cfg();
    config.max_body_in_memory = Some(MIB);
    // Bounds the scenario for a client that never stops reading.
    config.deadline = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(5));
    let s = c.session(&config);
    let limit = MIB.to_string();

    // The declared length alone is over the cap (first: a client without
    // a cap fails here, before the endless body).
    let what = "a 2 MiB body (Content-Length) with a 1 MiB cap";
    let t = Instant::now();
    too_large(s.send(&TestRequest::get(&srv.url("/declared"))), t, what);

    let what = "an endless chunked body with a 1 MiB cap";
    let t = Instant::now();
    let e = too_large(s.send(&TestRequest::get(&endless.url("/endless"))), t, what);
    assert!(
        e.message.contains(&limit),
        "{what}: the message must name the limit ({limit} bytes) and how to raise it: {:?}",
        e.message
    );
    let t = Instant::now();
    while endless.open_connections() > 0 && t.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let written = endless.bytes_written("/endless");
    assert_eq!(
        endless.open_connections(),
        0,
        "{what}: 3 s after the error the connection with the endless body is still open \
         ({written} bytes written): the client kept it (or kept reading)"
    );
    // What the kernel may take in after the client's last read and before
    // its close lands: its receive buffer (autotuned up to tcp_rmem's
    // maximum, 32 MiB on some hosts) and the server's send buffer.
    let buffered = kernel_socket_buffers();
    assert!(
        written > MIB && written < 16 * MIB + buffered,
        "{what}: the server wrote {written} bytes before the client stopped; expected over \
         the 1 MiB cap (the client read past it) and under 16 MiB plus {buffered} bytes of \
         socket buffers"
    );

    let what = "a gzip bomb (64 MiB of zeros) with a 1 MiB cap";
    let t = Instant::now();
    let req = TestRequest::get(&srv.url("/bomb")).header("Accept-Encoding", "gzip");
    too_large(s.send(&req), t, what);
    assert_eq!(srv.hits("/bomb"), 1, "{what}: requests the server saw");

    let expected = pattern(512 * 1024);
    for p in ["/fine-cl", "/fine-ch"] {
        let r = ok(
            s.send(&TestRequest::get(&srv.url(p))),
            &format!("{p}: a 512 KiB body with a 1 MiB cap"),
        );
        assert_eq!(r.status, 200, "{p}");
        assert!(r.body == expected, "{p}: the body differs from the pattern");
    }
    let r = ok(
        s.send(&TestRequest::get(&srv.url("/after"))),
        "a GET on the session after the refused bodies",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/after"), 1);
}

/// A response that has no body but says `Content-Encoding: gzip` (a 204,
/// a 304, a 200 with `Content-Length: 0`) is an empty body with its
/// status, not a decoding error (requests returns `b""`); the session
/// goes on using the connection.
pub fn bodiless_content_encoding_is_an_empty_body(c: &dyn ConformanceClient) {
    let cases: [(&str, u16, &[u8]); 3] = [
        (
            "/204",
            204,
            b"HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n",
        ),
        (
            "/304",
            304,
            b"HTTP/1.1 304 Not Modified\r\nContent-Encoding: gzip\r\nETag: \"x\"\r\n\r\n",
        ),
        (
            "/200",
            200,
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n",
        ),
    ];
    let mut b = TestServer::builder();
    for (path, _, bytes) in cases {
        b = b.route(path, Behaviour::RawKeepAlive(bytes.to_vec()));
    }
    let srv = start(b.route("/e", Behaviour::Echo));
    let s = c.session(&cfg());
    for (path, code, _) in cases {
        let what = format!("GET {path}: {code} with Content-Encoding: gzip and no body");
        let req = TestRequest::get(&srv.url(path)).header("Accept-Encoding", "gzip");
        let r = ok(s.send(&req), &what);
        assert_eq!(r.status, code, "{what}");
        assert!(
            r.body.is_empty(),
            "{what}: got a body {:?}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(srv.hits(path), 1, "{what}: requests the server saw");
    }
    ok(
        s.send(&TestRequest::get(&srv.url("/e"))),
        "GET /e afterwards",
    );
    assert_eq!(srv.hits("/e"), 1);
}

/// A password in the URL never appears in an error: an unparseable URL
/// carrying `user:secretpw` (a space in the host, a port out of range)
/// and a request with that userinfo to a refused port each fail with an
/// error in whose message, and in the message of every cause, `secretpw`
/// does not appear (the refused port as a Connect error). The same
/// userinfo on a good URL is sent as Basic credentials.
pub fn credentials_never_in_errors(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/a", Behaviour::Echo)]);
    let mut config = cfg();
    config.deadline = Some(Duration::from_secs(5));
    let s = c.session(&config);
    let secret = "secretpw";
    let good = with_userinfo(&srv.url("/a"), "user:secretpw");
    let r = ok(s.send(&TestRequest::get(&good)), "GET with URL credentials");
    assert_eq!(r.status, 200);
    assert_eq!(
        srv.requests_to("/a")[0].header("authorization"),
        Some(basic_header("user", secret).as_str()),
        "the URL's credentials were not sent as Basic"
    );
    let port = srv.addr().port();
    // (what, URL, a Connect error expected)
    let cases = [
        (
            "an unparseable URL (space in the host)",
            format!("http://user:secretpw@bad host:{port}/a"),
            false,
        ),
        (
            "an unparseable URL (port out of range)",
            "http://user:secretpw@127.0.0.1:99999/a".to_string(),
            false,
        ),
        (
            "a refused connection",
            with_userinfo(&closed_port(), "user:secretpw"),
            true,
        ),
    ];
    for (what, url, connect) in &cases {
        let e = err(s.send(&TestRequest::get(url)), what);
        for m in messages(&e) {
            assert!(
                !m.contains(secret),
                "{what}: the password appears in the error: {m:?} (in {e:?})"
            );
        }
        if *connect {
            expect_kind(&e, TestErrorKind::Connect, what);
        }
    }
    assert_eq!(srv.hits("/a"), 1, "an unparseable URL reached the server");
}

/// Headers that must appear once are refused twice at build time: a
/// request setting `Host` twice (`Host` and `host`), or `Content-Length`
/// twice, fails with [`TestErrorKind::InvalidRequest`] and nothing reaches
/// the server; the session then sends a normal request.
pub fn duplicate_host_header_refused(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/d", Behaviour::Echo)]);
    let s = c.session(&cfg());
    let url = srv.url("/d");
    let cases = [
        (
            "two Host headers",
            TestRequest::get(&url)
                .header("Host", "a.example")
                .header("host", "b.example"),
        ),
        (
            "two Content-Length headers",
            TestRequest::post(&url, b"abc")
                .header("Content-Length", "3")
                .header("Content-Length", "5"),
        ),
    ];
    for (what, req) in &cases {
        let e = err(s.send(req), what);
        expect_kind(&e, TestErrorKind::InvalidRequest, what);
        assert!(
            srv.requests().is_empty(),
            "{what}: the server received {:?}",
            srv.requests()
        );
    }
    let r = ok(s.send(&TestRequest::get(&url)), "a normal GET afterwards");
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/d"), 1);
}

/// Headers the caller marks sensitive ([`ClientConfig::sensitive_headers`]
/// = `["X-Api-Key"]`) stay on their origin: `X-API-Key: k` (any case) is
/// stripped on a 302 to another origin (127.0.0.1 → localhost, same path),
/// like Authorization, and kept on a same-origin redirect; `X-Other`, not
/// listed, follows both (requests' behaviour).
pub fn sensitive_headers_stay_on_their_origin(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/r",
            Behaviour::Custom(Arc::new(|r| {
                if r.header("host").is_some_and(|h| h.starts_with("127.0.0.1")) {
                    Reply::new(302).header("Location", "{localhost}/r")
                } else {
                    Reply::text("landed")
                }
            })),
        ),
        (
            "/same",
            Behaviour::Redirect {
                status: 302,
                location: "/landing".into(),
            },
        ),
        ("/landing", Behaviour::Echo),
    ]);
    let mut config = cfg();
    config.sensitive_headers = vec!["X-Api-Key".into()];
    let s = c.session(&config);
    let req = |p: &str| {
        TestRequest::get(&srv.url(p))
            .header("X-API-Key", "k")
            .header("X-Other", "o")
    };
    let r = ok(s.send(&req("/r")), "cross-origin redirect");
    assert_eq!(r.status, 200);
    let recs = srv.requests_to("/r");
    assert_eq!(recs.len(), 2, "cross-origin redirect: not followed once");
    assert_eq!(recs[0].header("x-api-key"), Some("k"), "first hop");
    assert!(
        recs[1]
            .header("host")
            .is_some_and(|h| h.starts_with("localhost")),
        "the redirect went to {:?}",
        recs[1].header("host")
    );
    assert_eq!(
        recs[1].header("x-api-key"),
        None,
        "a sensitive header followed a redirect to another origin"
    );
    assert_eq!(
        recs[1].header("x-other"),
        Some("o"),
        "a header not marked sensitive was stripped on a cross-origin redirect"
    );
    let r = ok(s.send(&req("/same")), "same-origin redirect");
    assert_eq!(r.status, 200);
    let landing = srv.requests_to("/landing");
    assert_eq!(landing.len(), 1, "same-origin redirect: not followed");
    assert_eq!(
        landing[0].header("x-api-key"),
        Some("k"),
        "a sensitive header was stripped on a same-origin redirect"
    );
    assert_eq!(landing[0].header("x-other"), Some("o"));
}

/// Cookie name prefixes are enforced (RFC 6265bis). Over http,
/// `__Secure-a=1` (no Secure), `__Host-b=1; Path=/` (no Secure) and
/// `__Secure-c=1; Secure` are refused and `plain=1` is stored: the next
/// request to `/see` carries `plain=1` only. Over https (localhost), a
/// `__Host-` cookie with a Domain attribute is refused although otherwise
/// valid, one with a Path other than `/` too (`Path=/see`, so it would be
/// sent to `/see`), as is a `__Secure-` cookie without Secure, while `__Host-ok=1; Secure; Path=/` and `__Secure-s=1;
/// Secure` are stored.
pub fn cookie_prefixes_enforced(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/set",
            Behaviour::Cookies(vec![
                "__Secure-a=1; Path=/".into(),
                "__Host-b=1; Path=/".into(),
                "__Secure-c=1; Secure; Path=/".into(),
                "plain=1; Path=/".into(),
            ]),
        ),
        ("/see", Behaviour::Cookies(Vec::new())),
    ]);
    let s = c.session(&cfg());
    ok(s.send(&TestRequest::get(&srv.url("/set"))), "http: set");
    let r = ok(s.send(&TestRequest::get(&srv.url("/see"))), "http: see");
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "plain=1",
        "over http only the unprefixed cookie may be stored"
    );

    let ca = Arc::new(TestCa::new().unwrap_or_else(|e| panic!("conformance: {e}")));
    let tls = start(
        TestServer::builder()
            .route(
                "/set",
                Behaviour::Cookies(vec![
                    "__Host-ok=1; Secure; Path=/".into(),
                    "__Host-dom=1; Secure; Path=/; Domain=localhost".into(),
                    "__Host-sub=1; Secure; Path=/see".into(),
                    "__Secure-s=1; Secure; Path=/".into(),
                    "__Secure-x=1; Path=/".into(),
                ]),
            )
            .route("/see", Behaviour::Cookies(Vec::new()))
            .tls(ca.clone(), TlsVariant::Good),
    );
    let mut config = cfg();
    config.ca_pem = Some(ca.ca_pem());
    let s = c.session(&config);
    ok(
        s.send(&TestRequest::get(&tls.url_localhost("/set"))),
        "https: set",
    );
    let r = ok(
        s.send(&TestRequest::get(&tls.url_localhost("/see"))),
        "https: see",
    );
    let mut seen: Vec<String> = String::from_utf8_lossy(&r.body)
        .split("; ")
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec!["__Host-ok=1", "__Secure-s=1"],
        "over https: the valid prefixed cookies only (no __Host- with Domain or a Path \
         other than /, no __Secure- without Secure)"
    );
}

// ---------------------------------------------------------------------------
// Per-prefix policies and hooks
// ---------------------------------------------------------------------------

/// Two mounts: the longer prefix (given in upper case: matching ignores
/// case) retries 503s, the shorter one follows no redirects. The longest
/// match decides everything it sets, and what it leaves unset comes from
/// the session, not from a shorter mount.
pub fn mount_longest_prefix_wins(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/api/flaky",
            flaky(vec![status(503), status(503)], status(200)),
        ),
        ("/other/flaky", flaky(vec![status(503)], status(200))),
        (
            "/other/redir",
            Behaviour::Redirect {
                status: 302,
                location: "/final".into(),
            },
        ),
        (
            "/api/redir",
            Behaviour::Redirect {
                status: 302,
                location: "/final".into(),
            },
        ),
        ("/final", Behaviour::Echo),
    ]);
    let mut config = cfg();
    let mut api = MountConfig::new(srv.url("/api/").to_uppercase());
    api.retry = Some(RetryConfig::total(3).forcelist(&[503]).backoff(0.0));
    let mut root = MountConfig::new(srv.url("/"));
    root.max_redirects = Some(0);
    config.mounts = vec![root, api];
    let s = c.session(&config);

    let r = ok(
        s.send(&TestRequest::get(&srv.url("/api/flaky"))),
        "/api/ mount retries",
    );
    assert_eq!(r.status, 200);
    assert_eq!(srv.hits("/api/flaky"), 3, "the /api/ mount's retry policy");

    let r = ok(
        s.send(&TestRequest::get(&srv.url("/other/flaky"))),
        "/ mount",
    );
    assert_eq!(
        r.status, 503,
        "the / mount sets no retry: the session's (none)"
    );
    assert_eq!(srv.hits("/other/flaky"), 1);

    let r = ok(
        s.send(&TestRequest::get(&srv.url("/other/redir"))),
        "/ mount redirects",
    );
    assert_eq!(r.status, 302, "the / mount follows no redirects");
    assert_eq!(srv.hits("/final"), 0);

    let r = ok(
        s.send(&TestRequest::get(&srv.url("/api/redir"))),
        "/api/ mount redirects",
    );
    assert_eq!(
        r.status, 200,
        "the /api/ mount sets no redirect limit: the session's, not the shorter mount's 0"
    );
    assert_eq!(srv.hits("/final"), 1);
}

/// A mount's read timeout replaces the session's under its prefix, and a
/// request's own timeout beats the mount's.
pub fn mount_timeouts_and_request_overrides(c: &dyn ConformanceClient) {
    let stall = || Behaviour::StallBeforeHead(Duration::from_millis(400));
    let srv = serve(vec![("/slow/s", stall()), ("/s", stall())]);
    let mut config = cfg();
    config.read_timeout = Some(Duration::from_millis(150));
    let mut slow = MountConfig::new(srv.url("/slow/"));
    slow.read_timeout = Some(Duration::from_secs(5));
    config.mounts = vec![slow];
    let s = c.session(&config);

    ok(
        s.send(&TestRequest::get(&srv.url("/slow/s"))),
        "the mount's 5 s read timeout",
    );
    let e = err(
        s.send(&TestRequest::get(&srv.url("/s"))),
        "the session's 150 ms",
    );
    let head = TestErrorKind::Timeout {
        phase: Phase::ResponseHead,
    };
    expect_kind(&e, head.clone(), "outside the mount");
    let mut req = TestRequest::get(&srv.url("/slow/s"));
    req.overrides.read_timeout = Some(Duration::from_millis(100));
    let e = err(s.send(&req), "the request's 100 ms beats the mount");
    expect_kind(&e, head, "request override");
    assert_eq!(srv.hits("/slow/s"), 2);
}

/// A mount with its own pool settings has its own connections (as a
/// requests adapter has its own pool manager): requests under it and
/// outside it to the same host do not share connections, and each side
/// reuses its own.
pub fn mount_with_own_pool(c: &dyn ConformanceClient) {
    let srv = serve(vec![("/a", Behaviour::Echo), ("/m/x", Behaviour::Echo)]);
    let mut config = cfg();
    let mut m = MountConfig::new(srv.url("/m/"));
    m.max_connections_per_host = Some(2);
    config.mounts = vec![m];
    let s = c.session(&config);
    for path in ["/a", "/m/x", "/a", "/m/x"] {
        ok(s.send(&TestRequest::get(&srv.url(path))), path);
    }
    assert_eq!(srv.connections_accepted(), 2, "one connection per pool");
    let conn =
        |path: &str| -> Vec<u64> { srv.requests_to(path).iter().map(|r| r.connection).collect() };
    let (a, m) = (conn("/a"), conn("/m/x"));
    assert_eq!(a.len(), 2);
    assert_eq!(m.len(), 2);
    assert_eq!(a[0], a[1], "/a reuses its connection");
    assert_eq!(m[0], m[1], "/m/ reuses its own");
    assert_ne!(
        a[0], m[0],
        "the mount does not share the session's connections"
    );
}

/// The hooks see every request written and every head read, in order,
/// with the attempt number: a retried 503, a followed 302, the final 200;
/// the header the request hook adds reaches the server on each.
pub fn hooks_see_every_request_and_head(c: &dyn ConformanceClient) {
    let srv = serve(vec![
        (
            "/h",
            flaky(
                vec![status(503)],
                Behaviour::Redirect {
                    status: 302,
                    location: "/final".into(),
                },
            ),
        ),
        ("/final", Behaviour::Echo),
    ]);
    let mut config = cfg();
    config.hooks = true;
    config.retry = RetryConfig::total(2).forcelist(&[503]).backoff(0.0);
    let s = c.session(&config);
    let r = ok(s.send(&TestRequest::get(&srv.url("/h"))), "hooked call");
    assert_eq!(r.status, 200);
    assert_eq!(
        s.hook_log(),
        vec![
            "> GET /h #1",
            "< 503 #1",
            "> GET /h #2",
            "< 302 #2",
            "> GET /final #3",
            "< 200 #3"
        ],
        "one request hook per request written, one response hook per head read"
    );
    let sent: Vec<_> = srv
        .requests()
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.header("x-hook-attempt").map(str::to_string),
            )
        })
        .collect();
    let attempt = |p: &str, n: &str| (p.to_string(), Some(n.to_string()));
    assert_eq!(
        sent,
        vec![
            attempt("/h", "1"),
            attempt("/h", "2"),
            attempt("/final", "3")
        ]
    );
}

/// Every scenario, by name, for a backend to run in one loop or one test each.
pub fn all() -> Vec<(&'static str, Scenario)> {
    vec![
        ("basic_get", basic_get),
        ("request_echo", request_echo),
        ("head_has_no_body", head_has_no_body),
        ("keep_alive_reuse", keep_alive_reuse),
        (
            "dropping_session_closes_connections",
            dropping_session_closes_connections,
        ),
        ("sessions_do_not_share_pools", sessions_do_not_share_pools),
        ("large_request_bodies", large_request_bodies),
        ("streaming_large_download", streaming_large_download),
        ("gzip_response", gzip_response),
        ("corrupt_gzip_is_body_error", corrupt_gzip_is_body_error),
        ("ipv6_and_localhost", ipv6_and_localhost),
        (
            "stale_pooled_connection_resent",
            stale_pooled_connection_resent,
        ),
        (
            "keep_alive_timeout_hint_honoured",
            keep_alive_timeout_hint_honoured,
        ),
        (
            "post_not_resent_after_reset_on_reused_connection",
            post_not_resent_after_reset_on_reused_connection,
        ),
        ("retry_after_503_then_ok", retry_after_503_then_ok),
        ("retry_status_forcelist", retry_status_forcelist),
        ("retries_exhausted_on_status", retries_exhausted_on_status),
        (
            "implicit_retry_after_returns_last_response",
            implicit_retry_after_returns_last_response,
        ),
        ("post_not_retried_on_status", post_not_retried_on_status),
        (
            "post_not_retried_after_read_error",
            post_not_retried_after_read_error,
        ),
        ("post_retried_when_allowed", post_retried_when_allowed),
        ("get_retried_after_resets", get_retried_after_resets),
        (
            "reset_without_retries_fails_once",
            reset_without_retries_fails_once,
        ),
        ("stream_body_not_replayed", stream_body_not_replayed),
        (
            "redirect_307_stream_body_not_replayed",
            redirect_307_stream_body_not_replayed,
        ),
        (
            "redirect_308_stream_body_not_replayed",
            redirect_308_stream_body_not_replayed,
        ),
        ("connect_refused", connect_refused),
        ("read_counter_limits_retries", read_counter_limits_retries),
        (
            "status_counter_limits_retries",
            status_counter_limits_retries,
        ),
        ("backoff_grows_exponentially", backoff_grows_exponentially),
        (
            "malformed_retry_after_ignored",
            malformed_retry_after_ignored,
        ),
        (
            "retry_after_past_date_falls_back",
            retry_after_past_date_falls_back,
        ),
        (
            "per_request_deadline_override",
            per_request_deadline_override,
        ),
        ("deadline_bounds_connect", deadline_bounds_connect),
        (
            "server_connection_close_honoured",
            server_connection_close_honoured,
        ),
        ("http10_close_delimited_body", http10_close_delimited_body),
        ("connect_timeout", connect_timeout),
        ("read_timeout_before_head", read_timeout_before_head),
        ("read_timeout_in_body", read_timeout_in_body),
        ("per_request_timeout_override", per_request_timeout_override),
        (
            "slow_drip_within_read_timeout",
            slow_drip_within_read_timeout,
        ),
        ("deadline_cuts_slow_drip", deadline_cuts_slow_drip),
        (
            "deadline_skips_long_retry_after",
            deadline_skips_long_retry_after,
        ),
        ("deadline_spans_retries", deadline_spans_retries),
        ("truncated_bodies", truncated_bodies),
        ("malformed_responses", malformed_responses),
        (
            "retries_bounded_on_protocol_errors",
            retries_bounded_on_protocol_errors,
        ),
        ("redirect_method_rules", redirect_method_rules),
        ("redirect_head_stays_head", redirect_head_stays_head),
        ("redirect_relative_location", redirect_relative_location),
        ("redirect_chain", redirect_chain),
        ("redirect_loop_too_many", redirect_loop_too_many),
        ("redirects_disabled", redirects_disabled),
        (
            "redirect_strips_credentials_across_origins",
            redirect_strips_credentials_across_origins,
        ),
        (
            "redirect_does_not_leak_session_auth",
            redirect_does_not_leak_session_auth,
        ),
        ("basic_auth", basic_auth),
        ("per_request_auth_override", per_request_auth_override),
        ("bearer_auth", bearer_auth),
        ("digest_auth_md5", digest_auth_md5),
        ("digest_auth_sha256", digest_auth_sha256),
        ("digest_auth_stale", digest_auth_stale),
        ("digest_auth_wrong_password", digest_auth_wrong_password),
        ("cookies_round_trip", cookies_round_trip),
        ("cookies_expiry_and_secure", cookies_expiry_and_secure),
        ("cookies_through_redirects", cookies_through_redirects),
        ("expect_continue_honoured", expect_continue_honoured),
        ("expect_continue_rejected", expect_continue_rejected),
        ("proxy_http_forward", proxy_http_forward),
        ("proxy_auth_required", proxy_auth_required),
        ("proxy_connect_tunnel", proxy_connect_tunnel),
        ("proxy_connect_refused", proxy_connect_refused),
        ("tls_good_certificate", tls_good_certificate),
        ("tls_wrong_host", tls_wrong_host),
        ("tls_expired", tls_expired),
        ("tls_unknown_issuer", tls_unknown_issuer),
        ("tls_untrusted_without_ca", tls_untrusted_without_ca),
        ("pool_limit_under_concurrency", pool_limit_under_concurrency),
        (
            "failed_connect_frees_slot_error_mode",
            failed_connect_frees_slot_error_mode,
        ),
        (
            "failed_connect_frees_slot_wait_mode",
            failed_connect_frees_slot_wait_mode,
        ),
        (
            "abandon_while_waiting_for_slot",
            abandon_while_waiting_for_slot,
        ),
        ("abandon_while_connecting", abandon_while_connecting),
        ("abandon_mid_head", abandon_mid_head),
        ("abandon_mid_body", abandon_mid_body),
        ("abandon_mid_backoff", abandon_mid_backoff),
        (
            "unsolicited_bytes_on_idle_connection",
            unsolicited_bytes_on_idle_connection,
        ),
        ("body_after_bodiless_response", body_after_bodiless_response),
        (
            "post_on_connection_closed_by_server",
            post_on_connection_closed_by_server,
        ),
        ("pool_wait_timeout_has_report", pool_wait_timeout_has_report),
        ("proxy_refusal_is_final", proxy_refusal_is_final),
        (
            "caller_content_type_is_kept_once",
            caller_content_type_is_kept_once,
        ),
        (
            "explicit_auth_beats_url_credentials",
            explicit_auth_beats_url_credentials,
        ),
        (
            "default_header_removed_for_one_request",
            default_header_removed_for_one_request,
        ),
        ("url_requoted_like_requests", url_requoted_like_requests),
        (
            "server_reason_phrase_reported",
            server_reason_phrase_reported,
        ),
        ("in_memory_read_is_capped", in_memory_read_is_capped),
        (
            "bodiless_content_encoding_is_an_empty_body",
            bodiless_content_encoding_is_an_empty_body,
        ),
        ("credentials_never_in_errors", credentials_never_in_errors),
        (
            "duplicate_host_header_refused",
            duplicate_host_header_refused,
        ),
        (
            "sensitive_headers_stay_on_their_origin",
            sensitive_headers_stay_on_their_origin,
        ),
        ("cookie_prefixes_enforced", cookie_prefixes_enforced),
        ("mount_longest_prefix_wins", mount_longest_prefix_wins),
        (
            "mount_timeouts_and_request_overrides",
            mount_timeouts_and_request_overrides,
        ),
        ("mount_with_own_pool", mount_with_own_pool),
        (
            "hooks_see_every_request_and_head",
            hooks_see_every_request_and_head,
        ),
    ]
}

/// Expands to one `#[test]` per scenario (named like the scenario) for
/// `$client`, plus a test that the expansion covers every scenario of
/// [`all`]. Use it in a backend's `tests/conformance.rs`:
///
/// ```no_run
/// use hawser_testkit::conformance::*;
///
/// struct MyClient;
/// struct MySession;
///
/// impl ConformanceSession for MySession {
///     fn send(&self, req: &TestRequest) -> Result<TestResponse, TestError> {
///         // Map `req` onto the backend's request builder and send it.
///         Err(TestError {
///             kind: TestErrorKind::Other,
///             message: req.url.clone(),
///             cause: None,
///             report: None,
///         })
///     }
/// }
///
/// impl ConformanceClient for MyClient {
///     fn session(&self, _cfg: &ClientConfig) -> Box<dyn ConformanceSession> {
///         Box::new(MySession)
///     }
/// }
///
/// hawser_testkit::conformance_tests!(MyClient);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($client:expr) => {
        $crate::__conformance_tests!(
            $client;
            basic_get,
            request_echo,
            head_has_no_body,
            keep_alive_reuse,
            dropping_session_closes_connections,
            sessions_do_not_share_pools,
            large_request_bodies,
            streaming_large_download,
            gzip_response,
            corrupt_gzip_is_body_error,
            ipv6_and_localhost,
            stale_pooled_connection_resent,
            keep_alive_timeout_hint_honoured,
            post_not_resent_after_reset_on_reused_connection,
            retry_after_503_then_ok,
            retry_status_forcelist,
            retries_exhausted_on_status,
            implicit_retry_after_returns_last_response,
            post_not_retried_on_status,
            post_not_retried_after_read_error,
            post_retried_when_allowed,
            get_retried_after_resets,
            reset_without_retries_fails_once,
            stream_body_not_replayed,
            redirect_307_stream_body_not_replayed,
            redirect_308_stream_body_not_replayed,
            connect_refused,
            read_counter_limits_retries,
            status_counter_limits_retries,
            backoff_grows_exponentially,
            malformed_retry_after_ignored,
            retry_after_past_date_falls_back,
            per_request_deadline_override,
            deadline_bounds_connect,
            server_connection_close_honoured,
            http10_close_delimited_body,
            connect_timeout,
            read_timeout_before_head,
            read_timeout_in_body,
            per_request_timeout_override,
            slow_drip_within_read_timeout,
            deadline_cuts_slow_drip,
            deadline_skips_long_retry_after,
            deadline_spans_retries,
            truncated_bodies,
            malformed_responses,
            retries_bounded_on_protocol_errors,
            redirect_method_rules,
            redirect_head_stays_head,
            redirect_relative_location,
            redirect_chain,
            redirect_loop_too_many,
            redirects_disabled,
            redirect_strips_credentials_across_origins,
            redirect_does_not_leak_session_auth,
            basic_auth,
            per_request_auth_override,
            bearer_auth,
            digest_auth_md5,
            digest_auth_sha256,
            digest_auth_stale,
            digest_auth_wrong_password,
            cookies_round_trip,
            cookies_expiry_and_secure,
            cookies_through_redirects,
            expect_continue_honoured,
            expect_continue_rejected,
            proxy_http_forward,
            proxy_auth_required,
            proxy_connect_tunnel,
            proxy_connect_refused,
            tls_good_certificate,
            tls_wrong_host,
            tls_expired,
            tls_unknown_issuer,
            tls_untrusted_without_ca,
            pool_limit_under_concurrency,
            failed_connect_frees_slot_error_mode,
            failed_connect_frees_slot_wait_mode,
            abandon_while_waiting_for_slot,
            abandon_while_connecting,
            abandon_mid_head,
            abandon_mid_body,
            abandon_mid_backoff,
            unsolicited_bytes_on_idle_connection,
            body_after_bodiless_response,
            post_on_connection_closed_by_server,
            pool_wait_timeout_has_report,
            proxy_refusal_is_final,
            caller_content_type_is_kept_once,
            explicit_auth_beats_url_credentials,
            default_header_removed_for_one_request,
            url_requoted_like_requests,
            server_reason_phrase_reported,
            in_memory_read_is_capped,
            bodiless_content_encoding_is_an_empty_body,
            credentials_never_in_errors,
            duplicate_host_header_refused,
            sensitive_headers_stay_on_their_origin,
            cookie_prefixes_enforced,
            mount_longest_prefix_wins,
            mount_timeouts_and_request_overrides,
            mount_with_own_pool,
            hooks_see_every_request_and_head,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($client:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::$name(&$client);
            }
        )*

        #[test]
        fn conformance_tests_cover_every_scenario() {
            let expanded: &[&str] = &[$(stringify!($name)),*];
            let listed: Vec<&str> = $crate::conformance::all().into_iter().map(|(n, _)| n).collect();
            assert_eq!(expanded, listed.as_slice());
        }
    };
}
