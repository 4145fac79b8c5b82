//! One error type for every failure hawser can report.
//!
//! [`Error`] carries an [`ErrorKind`] a program can `match` on, a message a
//! person understands, the failing [`TimeoutPhase`] for timeouts, and the
//! cause chain through [`std::error::Error::source`]. Errors caused by the
//! caller (an invalid header, a misused driver) are kept apart from errors
//! caused by the peer (a malformed response) by their kind.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, coarsely enough to `match` on.
///
/// ```
/// use hawser_core::{Error, ErrorKind};
/// let e = Error::new(ErrorKind::Protocol, "invalid status line");
/// assert_eq!(e.kind(), ErrorKind::Protocol);
/// assert!(!e.kind().is_local());
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request could not be built: bad URL, header name or value that
    /// could inject (CR, LF, NUL), unsupported scheme, invalid configuration.
    /// Caller's fault; never retried.
    InvalidRequest,
    /// The driver used the core out of order (e.g. reported bytes written
    /// that were never handed out). Caller's fault.
    Usage,
    /// Could not reach the server: DNS failure, refused, unreachable. Nothing
    /// was sent, so it is safe to retry for every method.
    Connect,
    /// A bound on waiting ran out; [`Error::timeout_phase`] names which.
    Timeout,
    /// The TLS handshake or record layer failed (not a certificate problem).
    Tls,
    /// The server's certificate was rejected (unknown issuer, wrong name,
    /// expired, ...). Deterministic, so never retried.
    Certificate,
    /// The peer broke HTTP/1.1: malformed status line or headers, hostile
    /// framing, a head over the configured limits, a connection closed
    /// before a complete response.
    Protocol,
    /// The response body could not be read completely or decoded
    /// (truncated body, bad gzip).
    Body,
    /// The response body is larger than a bound: the cap for reading it
    /// into memory (`bytes()`, `text()`, `json()`), the decompressed-size
    /// bound, or the decompression ratio bound. The message names the bound
    /// and how to raise it; streaming the body avoids the in-memory cap.
    BodyTooLarge,
    /// A response status the caller asked to treat as an error
    /// (`error_for_status`, or `raise_on_status` after retries).
    Status,
    /// More redirects than `max_redirects` allows.
    TooManyRedirects,
    /// The retry policy ran out; the last cause is the source.
    RetriesExhausted,
    /// The session's retry budget was empty; the last cause is the source.
    RetryBudgetExhausted,
    /// A request body was needed again (retry, 307/308, auth re-send) but it
    /// cannot be replayed.
    BodyNotReplayable,
    /// The proxy refused, failed, or could not be reached.
    Proxy,
    /// The connection pool was full and configured not to wait.
    PoolFull,
    /// Another I/O error reported by the driver.
    Io,
}

impl ErrorKind {
    /// True for errors caused by the caller rather than the network or peer.
    pub fn is_local(self) -> bool {
        matches!(self, ErrorKind::InvalidRequest | ErrorKind::Usage)
    }

    /// A short lower-case name, stable for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Usage => "usage error",
            ErrorKind::Connect => "connect error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "TLS error",
            ErrorKind::Certificate => "certificate error",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Body => "body error",
            ErrorKind::BodyTooLarge => "body too large",
            ErrorKind::Status => "HTTP status error",
            ErrorKind::TooManyRedirects => "too many redirects",
            ErrorKind::RetriesExhausted => "retries exhausted",
            ErrorKind::RetryBudgetExhausted => "retry budget exhausted",
            ErrorKind::BodyNotReplayable => "body not replayable",
            ErrorKind::Proxy => "proxy error",
            ErrorKind::PoolFull => "connection pool full",
            ErrorKind::Io => "I/O error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which wait ran out. Every timeout names its phase.
///
/// ```
/// use hawser_core::TimeoutPhase;
/// assert_eq!(TimeoutPhase::ResponseHead.to_string(), "waiting for the response head");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutPhase {
    /// Waiting for a free connection from a full pool.
    PoolWait,
    /// Opening the TCP connection (connect timeout).
    Connect,
    /// The TLS handshake (bounded by the connect timeout).
    TlsHandshake,
    /// Sending the request head or body (write timeout: longest stall).
    Send,
    /// Waiting for the status line and headers (read timeout).
    ResponseHead,
    /// Reading the body (read timeout: longest silence).
    Body,
    /// The overall deadline of the logical request ran out.
    Deadline,
}

impl TimeoutPhase {
    /// A human description of the phase.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutPhase::PoolWait => "waiting for a pooled connection",
            TimeoutPhase::Connect => "connecting",
            TimeoutPhase::TlsHandshake => "the TLS handshake",
            TimeoutPhase::Send => "sending the request",
            TimeoutPhase::ResponseHead => "waiting for the response head",
            TimeoutPhase::Body => "reading the response body",
            TimeoutPhase::Deadline => "the overall deadline",
        }
    }
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error type of hawser.
///
/// Catching what requests users catch, without walking the cause chain:
///
/// | requests | hawser |
/// |---|---|
/// | `RequestException` | any [`Error`] |
/// | `ConnectionError` | [`Error::is_connect`] (and [`ErrorKind::Protocol`] for a peer that broke HTTP) |
/// | `ProxyError` | [`Error::is_proxy`] |
/// | `SSLError` | [`Error::is_tls`] |
/// | `Timeout` | [`Error::is_timeout`] |
/// | `ConnectTimeout`, `ReadTimeout` | `e.root_cause().timeout_phase()` is `Connect` / `ResponseHead` or `Body` |
/// | `TooManyRedirects` | [`Error::is_too_many_redirects`] |
/// | `HTTPError`, `RetryError` | [`Error::is_status`] |
/// | `ChunkedEncodingError`, `ContentDecodingError` | [`Error::is_body`] |
/// | `InvalidURL`, `InvalidHeader`, `InvalidJSONError` | [`ErrorKind::InvalidRequest`] |
///
/// Where retries ran out, [`Error::kind`] is the wrapper
/// ([`ErrorKind::RetriesExhausted`]) and [`Error::root_cause`] the last
/// cause; the `is_*` helpers look at the root cause.
///
/// ```
/// use hawser_core::{Error, ErrorKind, TimeoutPhase};
/// let e = Error::timeout(TimeoutPhase::Connect, "connect timed out after 3s");
/// assert_eq!(e.kind(), ErrorKind::Timeout);
/// assert_eq!(e.timeout_phase(), Some(TimeoutPhase::Connect));
/// assert_eq!(e.to_string(), "connect timed out after 3s");
/// ```
pub struct Error {
    kind: ErrorKind,
    phase: Option<TimeoutPhase>,
    message: Cow<'static, str>,
    source: Option<Source>,
    report: Option<Box<crate::call::CallReport>>,
    /// The response an HTTP status error is about, and the start of its body.
    head: Option<Box<StatusFacts>>,
}

/// The facts of an HTTP status error, boxed so `Error` stays small.
#[derive(Clone)]
struct StatusFacts {
    head: crate::call::Head,
    body: Option<Vec<u8>>,
}

impl Error {
    /// A new error of `kind` with a human message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            phase: None,
            message: message.into(),
            source: None,
            report: None,
            head: None,
        }
    }

    /// A timeout in `phase`.
    pub fn timeout(phase: TimeoutPhase, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            phase: Some(phase),
            ..Error::new(ErrorKind::Timeout, message)
        }
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Attach the report of the call that failed (the call does this).
    pub fn with_report(mut self, report: crate::call::CallReport) -> Self {
        self.report = Some(Box::new(report));
        self
    }

    /// Attach the response head an HTTP status error is about.
    pub fn with_head(mut self, head: crate::call::Head) -> Self {
        self.head = Some(Box::new(StatusFacts { head, body: None }));
        self
    }

    /// The most of a status error's body that is kept
    /// ([`body_prefix`](Self::body_prefix)): 4 KiB, enough for an API's
    /// error message, never a whole download.
    pub const BODY_PREFIX_LIMIT: usize = 4096;

    /// Attach the start of the response body to a status error (the
    /// backends' `error_for_status_with_body` does this); cut to
    /// [`BODY_PREFIX_LIMIT`](Self::BODY_PREFIX_LIMIT). Without a response
    /// head nothing is attached.
    ///
    /// ```
    /// # let head = hawser_core::call::Head {
    /// #     status: http::StatusCode::BAD_REQUEST, version: http::Version::HTTP_11,
    /// #     headers: http::HeaderMap::new(), url: url::Url::parse("http://h.test/x").unwrap(),
    /// #     history: Vec::new(), reason_phrase: None };
    /// let e = head.status_error().unwrap().with_body_prefix(br#"{"error":"bad id"}"#.to_vec());
    /// assert_eq!(e.body_prefix(), Some(&br#"{"error":"bad id"}"#[..]));
    /// let long = head.status_error().unwrap().with_body_prefix(vec![b'x'; 10_000]);
    /// assert_eq!(long.body_prefix().map(<[u8]>::len), Some(hawser_core::Error::BODY_PREFIX_LIMIT));
    /// ```
    pub fn with_body_prefix(mut self, mut body: Vec<u8>) -> Self {
        if let Some(facts) = &mut self.head {
            body.truncate(Self::BODY_PREFIX_LIMIT);
            facts.body = Some(body);
        }
        self
    }

    /// The start of the body of the response a status error is about (at
    /// most [`BODY_PREFIX_LIMIT`](Self::BODY_PREFIX_LIMIT) bytes, decoded),
    /// like `requests.HTTPError.response.content`; `None` when it was not
    /// read (plain `error_for_status()`, or retries that ran out on a
    /// status). Looks through the cause chain.
    ///
    /// ```
    /// # let head = hawser_core::call::Head {
    /// #     status: http::StatusCode::NOT_FOUND, version: http::Version::HTTP_11,
    /// #     headers: http::HeaderMap::new(), url: url::Url::parse("http://h.test/x").unwrap(),
    /// #     history: Vec::new(), reason_phrase: None };
    /// assert_eq!(head.status_error().unwrap().body_prefix(), None);
    /// ```
    pub fn body_prefix(&self) -> Option<&[u8]> {
        let mut cur = Some(self);
        while let Some(e) = cur {
            if let Some(f) = &e.head {
                return f.body.as_deref();
            }
            cur = e.source.as_deref().and_then(|s| s.downcast_ref::<Error>());
        }
        None
    }

    /// The response head of an HTTP status error (from `error_for_status()`,
    /// or retries that ran out on a status), like requests'
    /// `HTTPError.response`: status, version, headers, final URL, history.
    /// Looks through the cause chain.
    ///
    /// ```
    /// # let head = hawser_core::call::Head {
    /// #     status: http::StatusCode::NOT_FOUND, version: http::Version::HTTP_11,
    /// #     headers: http::HeaderMap::new(), url: url::Url::parse("http://h.test/x").unwrap(),
    /// #     history: Vec::new(), reason_phrase: None };
    /// let e = head.status_error().unwrap();
    /// assert_eq!(e.status(), Some(http::StatusCode::NOT_FOUND));
    /// assert_eq!(e.url().map(|u| u.as_str()), Some("http://h.test/x"));
    /// assert!(e.is_status());
    /// ```
    pub fn response_head(&self) -> Option<&crate::call::Head> {
        let mut cur = Some(self);
        while let Some(e) = cur {
            if let Some(f) = &e.head {
                return Some(&f.head);
            }
            cur = e.source.as_deref().and_then(|s| s.downcast_ref::<Error>());
        }
        None
    }

    /// The HTTP status of a status error (reqwest's `Error::status`).
    pub fn status(&self) -> Option<http::StatusCode> {
        self.response_head().map(|h| h.status)
    }

    /// The URL of the response a status error is about.
    pub fn url(&self) -> Option<&url::Url> {
        self.response_head().map(|h| &h.url)
    }

    /// The report of the failed call: every attempt with its outcome and
    /// sleep, redirects, connection reuse and phase times, for `-v` output
    /// and logs. `None` for errors not raised by a call.
    pub fn report(&self) -> Option<&crate::call::CallReport> {
        self.report.as_deref()
    }

    /// A copy for sticky errors: same kind, phase, message and report; a
    /// hawser cause is copied too, any other cause keeps its message.
    pub(crate) fn duplicate(&self) -> Error {
        let source: Option<Source> =
            self.source
                .as_deref()
                .map(|s| match s.downcast_ref::<Error>() {
                    Some(inner) => Box::new(inner.duplicate()) as Source,
                    None => match s.downcast_ref::<std::io::Error>() {
                        Some(io) => {
                            Box::new(std::io::Error::new(io.kind(), io.to_string())) as Source
                        }
                        None => s.to_string().into(),
                    },
                });
        Error {
            kind: self.kind,
            phase: self.phase,
            message: self.message.clone(),
            source,
            report: self.report.clone(),
            head: self.head.clone(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// For timeouts, the phase that ran out.
    pub fn timeout_phase(&self) -> Option<TimeoutPhase> {
        self.phase
    }

    /// The message, without the cause chain.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when this is a timeout of any phase, or retries ran out on
    /// one (requests' `Timeout`; `ConnectTimeout` and `ReadTimeout` are
    /// [`Error::timeout_phase`] of the [`root_cause`](Error::root_cause)).
    pub fn is_timeout(&self) -> bool {
        self.root_cause().kind == ErrorKind::Timeout
    }

    /// True when the server could not be reached (refused, unreachable,
    /// DNS), itself or as the cause retries ran out on: requests'
    /// `ConnectionError` (for connecting; its read-side cases are
    /// [`Error::is_body`] and [`ErrorKind::Protocol`]).
    ///
    /// ```
    /// use hawser_core::{Error, ErrorKind};
    /// let refused = Error::new(ErrorKind::Connect, "connection refused");
    /// let exhausted = Error::new(ErrorKind::RetriesExhausted, "max retries exceeded").with_source(refused);
    /// assert!(exhausted.is_connect() && !exhausted.is_timeout());
    /// ```
    pub fn is_connect(&self) -> bool {
        self.root_cause().kind == ErrorKind::Connect
    }

    /// True when a proxy refused or failed (requests' `ProxyError`). A
    /// refusal is final: never retried, never wrapped.
    pub fn is_proxy(&self) -> bool {
        self.root_cause().kind == ErrorKind::Proxy
    }

    /// True for TLS and certificate failures (requests' `SSLError`).
    pub fn is_tls(&self) -> bool {
        matches!(
            self.root_cause().kind,
            ErrorKind::Tls | ErrorKind::Certificate
        )
    }

    /// True for more redirects than allowed (requests' `TooManyRedirects`).
    pub fn is_too_many_redirects(&self) -> bool {
        self.kind == ErrorKind::TooManyRedirects
    }

    /// True for an error status from `error_for_status()` or retries that
    /// ran out on a status (requests' `HTTPError` and `RetryError`).
    pub fn is_status(&self) -> bool {
        self.root_cause().kind == ErrorKind::Status
    }

    /// True when the response body could not be read to its end or decoded
    /// (requests' `ChunkedEncodingError` and `ContentDecodingError`).
    pub fn is_body(&self) -> bool {
        matches!(
            self.root_cause().kind,
            ErrorKind::Body | ErrorKind::BodyTooLarge
        )
    }

    /// The innermost hawser [`Error`] in the cause chain whose kind is not a
    /// wrapper (`RetriesExhausted`, `RetryBudgetExhausted`), or `self`.
    pub fn root_cause(&self) -> &Error {
        let mut cur = self;
        while matches!(
            cur.kind,
            ErrorKind::RetriesExhausted | ErrorKind::RetryBudgetExhausted
        ) {
            match cur
                .source
                .as_deref()
                .and_then(|s| s.downcast_ref::<Error>())
            {
                Some(inner) => cur = inner,
                None => break,
            }
        }
        cur
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind);
        if let Some(p) = self.phase {
            d.field("phase", &p);
        }
        d.field("message", &self.message);
        if let Some(s) = &self.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// For `Read`/`AsyncRead` bodies: the hawser error is kept inside (recover
/// it with `io::Error::get_ref` and `downcast_ref::<Error>`), and the I/O
/// kind says what happened (`TimedOut`, `InvalidData` for a broken or
/// too-large body, `ConnectionRefused`, `Other`).
///
/// ```
/// use hawser_core::{Error, ErrorKind, TimeoutPhase};
/// let io: std::io::Error = Error::timeout(TimeoutPhase::Body, "slow").into();
/// assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// let inner = io.get_ref().and_then(|e| e.downcast_ref::<Error>()).unwrap();
/// assert_eq!(inner.kind(), ErrorKind::Timeout);
/// ```
impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        use std::io::ErrorKind as Io;
        let kind = match e.root_cause().kind {
            ErrorKind::Timeout => Io::TimedOut,
            ErrorKind::Body | ErrorKind::BodyTooLarge | ErrorKind::Protocol => Io::InvalidData,
            ErrorKind::Connect => Io::ConnectionRefused,
            _ => Io::Other,
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn root_cause_unwraps_retry_wrappers() {
        let inner = Error::new(ErrorKind::Connect, "connection refused");
        let outer =
            Error::new(ErrorKind::RetriesExhausted, "max retries exceeded").with_source(inner);
        assert_eq!(outer.root_cause().kind(), ErrorKind::Connect);
        assert_eq!(outer.source().unwrap().to_string(), "connection refused");
    }

    #[test]
    fn error_is_send_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }
}
