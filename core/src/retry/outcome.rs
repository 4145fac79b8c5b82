//! What happened on one attempt: the input of a retry decision.

use std::sync::Arc;

use crate::{ErrorKind, TimeoutPhase};

/// The precise failure of an attempt, as the driver observed it.
///
/// Its retry class ([`FailureKind::class`]) depends also on whether request
/// bytes were written: hawser classifies by what reached the server, not by
/// the error's type (docs/RETRY.md, point 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// Name resolution failed.
    Dns,
    /// Connection refused or host unreachable.
    Refused,
    /// The TCP connect timed out.
    ConnectTimeout,
    /// The TLS handshake failed (an alert, not a certificate rejection).
    TlsHandshake,
    /// The TLS handshake timed out (urllib3 calls this a read error; hawser
    /// does not: no request byte was sent).
    TlsHandshakeTimeout,
    /// Sending the request stalled past the write timeout.
    SendTimeout,
    /// Waiting for the response head timed out.
    ReadTimeout,
    /// The connection was reset.
    Reset,
    /// The server closed the connection before a complete response head.
    Eof,
    /// Anything else (a proxy failure, an unexpected I/O error, ...):
    /// urllib3's "other" class before any request byte was written,
    /// read-class after.
    Other,
    /// The server's certificate was rejected. Deterministic: never retried.
    Certificate,
    /// The request itself is invalid. Deterministic: never retried.
    InvalidRequest,
    /// The redirect module's `max_redirects` was reached. Deterministic.
    TooManyRedirects,
}

/// The retry class of a failure: which counter it spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Nothing reached the server: safe for every method.
    Connect,
    /// Request bytes were written: retried only for allowed methods.
    Read,
    /// Neither: spends `other`, no method check (urllib3's rule).
    Other,
    /// Retrying cannot help; the call ends at once.
    Deterministic,
}

impl FailureKind {
    /// The retry class of this failure, given whether any request byte was
    /// written to the connection.
    ///
    /// ```
    /// use hawser_core::retry::{ErrorClass, FailureKind};
    /// assert_eq!(FailureKind::TlsHandshakeTimeout.class(false), ErrorClass::Connect);
    /// assert_eq!(FailureKind::Reset.class(false), ErrorClass::Connect);
    /// assert_eq!(FailureKind::Reset.class(true), ErrorClass::Read);
    /// assert_eq!(FailureKind::Other.class(false), ErrorClass::Other);
    /// assert_eq!(FailureKind::Other.class(true), ErrorClass::Read);
    /// assert_eq!(FailureKind::Certificate.class(true), ErrorClass::Deterministic);
    /// ```
    pub fn class(self, request_sent: bool) -> ErrorClass {
        use FailureKind::*;
        // By what reached the server, not by the error's type (docs/RETRY.md
        // point 2): once a request byte went out, any failure is read-class
        // (urllib3 would retry "other" errors even for a POST).
        match self {
            Certificate | InvalidRequest | TooManyRedirects => ErrorClass::Deterministic,
            _ if request_sent => ErrorClass::Read,
            Other => ErrorClass::Other,
            Dns | Refused | ConnectTimeout | TlsHandshake | TlsHandshakeTimeout | SendTimeout
            | ReadTimeout | Reset | Eof => ErrorClass::Connect,
        }
    }

    /// The hawser [`ErrorKind`] and, for timeouts, the phase, used when no
    /// caller error is at hand.
    pub fn error_kind(self) -> (ErrorKind, Option<TimeoutPhase>) {
        use FailureKind::*;
        match self {
            Dns | Refused => (ErrorKind::Connect, None),
            ConnectTimeout => (ErrorKind::Timeout, Some(TimeoutPhase::Connect)),
            TlsHandshake => (ErrorKind::Tls, None),
            TlsHandshakeTimeout => (ErrorKind::Timeout, Some(TimeoutPhase::TlsHandshake)),
            SendTimeout => (ErrorKind::Timeout, Some(TimeoutPhase::Send)),
            ReadTimeout => (ErrorKind::Timeout, Some(TimeoutPhase::ResponseHead)),
            Reset | Eof => (ErrorKind::Protocol, None),
            Other => (ErrorKind::Io, None),
            Certificate => (ErrorKind::Certificate, None),
            InvalidRequest => (ErrorKind::InvalidRequest, None),
            TooManyRedirects => (ErrorKind::TooManyRedirects, None),
        }
    }

    /// A short description for messages and logs.
    pub fn as_str(self) -> &'static str {
        use FailureKind::*;
        match self {
            Dns => "name resolution failed",
            Refused => "connection refused",
            ConnectTimeout => "connect timed out",
            TlsHandshake => "TLS handshake failed",
            TlsHandshakeTimeout => "TLS handshake timed out",
            SendTimeout => "sending the request timed out",
            ReadTimeout => "waiting for the response timed out",
            Reset => "connection reset",
            Eof => "connection closed before a response",
            Other => "other error",
            Certificate => "certificate rejected",
            InvalidRequest => "invalid request",
            TooManyRedirects => "too many redirects",
        }
    }
}

/// Whether the request body can be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BodyReplay {
    /// No body, or one that can be replayed (bytes, string, form, JSON, or a
    /// stream the caller can restart).
    #[default]
    Replayable,
    /// A one-shot stream of which nothing has been read yet: it can still go
    /// once.
    NotStarted,
    /// A one-shot stream that was partly or fully sent: it can never be
    /// re-sent (retry, 307/308 or auth re-send).
    Consumed,
}

impl BodyReplay {
    /// Whether the body can go (again) on a new attempt.
    pub fn can_send(self) -> bool {
        !matches!(self, BodyReplay::Consumed)
    }
}

/// What the caller's redirect policy says about a redirect response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RedirectPermission {
    /// The redirect module would follow it (hops left, redirects enabled).
    #[default]
    Follow,
    /// Redirects are switched off for this call: treat the 3xx as a plain
    /// response (it may still be a status retry).
    NotFollowing,
    /// `max_redirects` is reached: fail with "too many redirects" (or
    /// return the 3xx when `raise_on_redirect` is false).
    LimitReached,
}

/// An attempt that ended without a response head.
///
/// ```
/// use hawser_core::retry::{BodyReplay, ErrorOutcome, FailureKind};
/// let e = ErrorOutcome::new(FailureKind::Reset).sent(true).reused(true);
/// assert!(e.request_sent && e.reused_connection && !e.response_started);
/// assert_eq!(e.body, BodyReplay::Replayable);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorOutcome {
    /// What failed.
    pub kind: FailureKind,
    /// Whether any request byte was written to the connection.
    pub request_sent: bool,
    /// Whether any response byte had arrived.
    pub response_started: bool,
    /// Whether the connection came from the pool (was used before).
    pub reused_connection: bool,
    /// Whether the body could go again.
    pub body: BodyReplay,
}

impl ErrorOutcome {
    /// A failure before anything was written, on a fresh connection, with a
    /// replayable body.
    pub fn new(kind: FailureKind) -> Self {
        ErrorOutcome {
            kind,
            request_sent: false,
            response_started: false,
            reused_connection: false,
            body: BodyReplay::Replayable,
        }
    }

    /// Set whether request bytes were written.
    pub fn sent(mut self, yes: bool) -> Self {
        self.request_sent = yes;
        self
    }

    /// Set whether response bytes had arrived.
    pub fn response_started(mut self, yes: bool) -> Self {
        self.response_started = yes;
        self
    }

    /// Set whether the connection was a reused pooled one.
    pub fn reused(mut self, yes: bool) -> Self {
        self.reused_connection = yes;
        self
    }

    /// Set the body's replayability.
    pub fn body(mut self, body: BodyReplay) -> Self {
        self.body = body;
        self
    }

    /// The retry class (see [`FailureKind::class`]).
    pub fn class(&self) -> ErrorClass {
        self.kind.class(self.request_sent)
    }
}

/// An attempt that produced a response head.
///
/// ```
/// use hawser_core::retry::ResponseOutcome;
/// let r = ResponseOutcome::new(503).retry_after("2");
/// assert_eq!(r.retry_after.as_deref(), Some("2"));
/// assert!(!ResponseOutcome::new(302).location("").is_redirect());
/// assert!(ResponseOutcome::new(302).location("/x").is_redirect());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseOutcome {
    /// The status code.
    pub status: u16,
    /// The raw `Retry-After` value, if the header was present.
    pub retry_after: Option<String>,
    /// The raw `Location` value, if present.
    pub location: Option<Arc<str>>,
    /// What the redirect module says about following it.
    pub redirect: RedirectPermission,
    /// Whether the body could go again.
    pub body: BodyReplay,
}

impl ResponseOutcome {
    /// A response with this status and no interesting headers.
    pub fn new(status: u16) -> Self {
        ResponseOutcome {
            status,
            retry_after: None,
            location: None,
            redirect: RedirectPermission::Follow,
            body: BodyReplay::Replayable,
        }
    }

    /// Set the raw `Retry-After` value.
    pub fn retry_after(mut self, v: impl Into<String>) -> Self {
        self.retry_after = Some(v.into());
        self
    }

    /// Set the raw `Location` value.
    pub fn location(mut self, v: impl Into<Arc<str>>) -> Self {
        self.location = Some(v.into());
        self
    }

    /// Set the redirect module's answer.
    pub fn redirect(mut self, p: RedirectPermission) -> Self {
        self.redirect = p;
        self
    }

    /// Set the body's replayability.
    pub fn body(mut self, body: BodyReplay) -> Self {
        self.body = body;
        self
    }

    /// urllib3's `get_redirect_location()` truthiness: a redirect status
    /// with a non-empty `Location`.
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
            && self.location.as_deref().is_some_and(|l| !l.is_empty())
    }

    /// urllib3's `has_retry_after`: the header is present and non-empty.
    pub fn has_retry_after(&self) -> bool {
        self.retry_after.as_deref().is_some_and(|v| !v.is_empty())
    }
}

/// What happened on one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No response head: an error.
    Error(ErrorOutcome),
    /// A response head arrived.
    Response(ResponseOutcome),
}

impl From<ErrorOutcome> for Outcome {
    fn from(e: ErrorOutcome) -> Self {
        Outcome::Error(e)
    }
}

impl From<ResponseOutcome> for Outcome {
    fn from(r: ResponseOutcome) -> Self {
        Outcome::Response(r)
    }
}

impl Outcome {
    /// Shorthand for a fresh-connection error before anything was sent.
    ///
    /// ```
    /// use hawser_core::retry::{FailureKind, Outcome};
    /// assert!(matches!(Outcome::error(FailureKind::Refused), Outcome::Error(_)));
    /// ```
    pub fn error(kind: FailureKind) -> Self {
        Outcome::Error(ErrorOutcome::new(kind))
    }

    /// Shorthand for an error after the request was written.
    pub fn error_after_send(kind: FailureKind) -> Self {
        Outcome::Error(ErrorOutcome::new(kind).sent(true))
    }

    /// Shorthand for a plain response.
    pub fn status(status: u16) -> Self {
        Outcome::Response(ResponseOutcome::new(status))
    }
}
