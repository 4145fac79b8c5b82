//! Per-request state, the decision type and the pure decision function.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::Method;
use rand::Rng;

use super::budget::RetryBudget;
use super::outcome::{
    ErrorClass, ErrorOutcome, FailureKind, Outcome, RedirectPermission, ResponseOutcome,
};
use super::policy::{Counter, Jitter, Retry};
use crate::{Error, ErrorKind, TimeoutPhase};

/// At most this many history entries are kept (the oldest are dropped and
/// counted), so an unlimited policy cannot grow memory without bound.
pub const MAX_HISTORY: usize = 64;

/// The six counters' remaining values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Counters {
    /// `total`.
    pub total: Counter,
    /// `connect`.
    pub connect: Counter,
    /// `read`.
    pub read: Counter,
    /// `redirect`.
    pub redirect: Counter,
    /// `status`.
    pub status: Counter,
    /// `other`.
    pub other: Counter,
}

/// What an attempt's event was, for the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// An error of this kind, and whether request bytes had been written.
    Error {
        /// What failed.
        kind: FailureKind,
        /// Whether request bytes had been written.
        request_sent: bool,
    },
    /// A response with this status.
    Status(u16),
}

/// What became of a `Retry-After` header on a retried response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryAfterUse {
    /// No header, or not consulted (`respect_retry_after_header` off).
    Absent,
    /// Honoured: the sleep is the header's value (clamped).
    Honoured,
    /// `0` or a date in the past: fell back to backoff.
    Zero,
    /// Unparseable: ignored, fell back to backoff (urllib3 would fail the
    /// call here; hawser does not, docs/RETRY.md point 5).
    Malformed,
}

/// One entry of a request's history (urllib3's `RequestHistory`, plus the
/// decision's sleep and how `Retry-After` was used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The method of the attempt.
    pub method: Method,
    /// The URL of the attempt.
    pub url: Arc<str>,
    /// What happened.
    pub event: Event,
    /// For a followed redirect, its raw `Location`.
    pub redirect_location: Option<Arc<str>>,
    /// The sleep decided after this attempt (zero if none or final).
    pub sleep: Duration,
    /// How `Retry-After` was used.
    pub retry_after: RetryAfterUse,
    /// Whether this was the free re-send of a stale pooled connection.
    pub stale_resend: bool,
}

/// The state of one logical request: counters remaining, the backoff run,
/// and the history of attempts. Create one per logical request (across all
/// of its redirect hops: hawser keeps one budget per logical request).
///
/// ```
/// use hawser_core::retry::{Counter, Retry, RetryState};
/// let st = RetryState::new(&Retry::new(3), http::Method::GET, "http://example.test/");
/// assert_eq!(st.remaining().total, Counter::Count(3));
/// assert_eq!(st.attempts(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryState {
    method: Method,
    url: Arc<str>,
    counters: Counters,
    /// Consecutive non-redirect retries (urllib3 walks the history for this).
    run_len: u32,
    stale_used: bool,
    attempts: u32,
    slept: Duration,
    history: VecDeque<HistoryEntry>,
    dropped: u64,
}

impl RetryState {
    /// Fresh state for a request with `method` to `url` under `policy`.
    pub fn new(policy: &Retry, method: Method, url: impl Into<Arc<str>>) -> Self {
        RetryState {
            method,
            url: url.into(),
            counters: Counters {
                total: policy.total,
                connect: policy.connect,
                read: policy.read,
                redirect: policy.redirect,
                status: policy.status,
                other: policy.other,
            },
            run_len: 0,
            stale_used: false,
            attempts: 0,
            slept: Duration::ZERO,
            history: VecDeque::new(),
            dropped: 0,
        }
    }

    /// After a followed redirect: the new method and URL (as resolved by the
    /// redirect module).
    pub fn redirected(&mut self, method: Method, url: impl Into<Arc<str>>) {
        self.method = method;
        self.url = url.into();
    }

    /// The counters remaining.
    pub fn remaining(&self) -> Counters {
        self.counters
    }

    /// Outcomes decided so far (each is one attempt).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The sum of the sleeps decided so far.
    pub fn total_sleep(&self) -> Duration {
        self.slept
    }

    /// The current method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The history, oldest first (at most [`MAX_HISTORY`] entries).
    pub fn history(&self) -> impl ExactSizeIterator<Item = &HistoryEntry> + '_ {
        self.history.iter()
    }

    /// How many old entries were dropped from the history.
    pub fn history_dropped(&self) -> u64 {
        self.dropped
    }

    fn record(&mut self, event: Event, location: Option<Arc<str>>) {
        if self.history.len() >= MAX_HISTORY {
            self.history.pop_front();
            self.dropped += 1;
        }
        self.history.push_back(HistoryEntry {
            method: self.method.clone(),
            url: self.url.clone(),
            event,
            redirect_location: location,
            sleep: Duration::ZERO,
            retry_after: RetryAfterUse::Absent,
            stale_resend: false,
        });
    }

    fn last_entry(&mut self) -> Option<&mut HistoryEntry> {
        self.history.back_mut()
    }
}

/// Why a retry was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryReason {
    /// Exponential backoff (possibly zero).
    Backoff,
    /// The response's `Retry-After`.
    RetryAfter,
    /// The free re-send of a stale pooled connection (no budget spent).
    StaleConnection,
}

/// The last outcome that a failure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// An error of this kind.
    Error(FailureKind),
    /// A retried status ("too many N error responses").
    Status(u16),
    /// A redirect response ("too many redirects").
    Redirect(u16),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Error(k) => f.write_str(k.as_str()),
            Cause::Status(s) => write!(f, "too many {s} error responses"),
            Cause::Redirect(_) => f.write_str("too many redirects"),
        }
    }
}

/// Why the call ends with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailReason {
    /// A counter ran out (urllib3's `MaxRetryError`).
    Exhausted,
    /// Retries are disabled for this error (`total`, `connect` or `read`
    /// set to [`Counter::Disabled`]) or a read error hit a method that may
    /// not be retried: the original error is reported as is (urllib3's
    /// unwrapped re-raise).
    Unwrapped,
    /// A deterministic failure (certificate, invalid request, too many
    /// redirects): retrying cannot help.
    Deterministic,
    /// The session's [`RetryBudget`] was empty.
    BudgetExhausted,
    /// The next sleep would end at or past the deadline.
    Deadline,
    /// The body would have to go again but it cannot be replayed.
    BodyNotReplayable,
}

/// A decision to end the call with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fail {
    /// Why.
    pub reason: FailReason,
    /// The last outcome.
    pub cause: Cause,
}

impl Fail {
    /// Turn the decision into a hawser [`Error`]. `last` is the error the
    /// driver saw on the last attempt, if any: it is returned as is for
    /// [`FailReason::Unwrapped`] and [`FailReason::Deterministic`], and
    /// becomes the source of the wrapper otherwise.
    ///
    /// ```
    /// use hawser_core::{Error, ErrorKind};
    /// use hawser_core::retry::{Cause, Fail, FailReason, FailureKind};
    /// let f = Fail { reason: FailReason::Exhausted, cause: Cause::Error(FailureKind::Refused) };
    /// let e = f.into_error(Some(Error::new(ErrorKind::Connect, "refused")));
    /// assert_eq!(e.kind(), ErrorKind::RetriesExhausted);
    /// assert_eq!(e.root_cause().kind(), ErrorKind::Connect);
    /// ```
    pub fn into_error(self, last: Option<Error>) -> Error {
        let cause = self.cause;
        let last = last.unwrap_or_else(|| cause_error(cause));
        match self.reason {
            FailReason::Unwrapped | FailReason::Deterministic => last,
            FailReason::Exhausted => {
                let kind = match cause {
                    Cause::Redirect(_) => ErrorKind::TooManyRedirects,
                    _ => ErrorKind::RetriesExhausted,
                };
                Error::new(kind, format!("max retries exceeded (caused by {cause})"))
                    .with_source(last)
            }
            FailReason::BudgetExhausted => Error::new(
                ErrorKind::RetryBudgetExhausted,
                format!("the session's retry budget is empty (last: {cause})"),
            )
            .with_source(last),
            FailReason::Deadline => Error::timeout(
                TimeoutPhase::Deadline,
                format!("the overall deadline would pass before the next attempt (last: {cause})"),
            )
            .with_source(last),
            // A 307/308 must send the body again; a stream cannot be.
            FailReason::BodyNotReplayable => match cause {
                Cause::Redirect(status) => Error::new(
                    ErrorKind::BodyNotReplayable,
                    format!(
                        "cannot follow the {status} redirect: it must send the request body again, \
                         and a streamed body cannot be replayed"
                    ),
                ),
                _ => Error::new(
                    ErrorKind::BodyNotReplayable,
                    format!(
                        "the request body was partly sent and cannot be replayed (last: {cause})"
                    ),
                )
                .with_source(last),
            },
        }
    }
}

fn cause_error(cause: Cause) -> Error {
    match cause {
        Cause::Error(k) => match k.error_kind() {
            (_, Some(phase)) => Error::timeout(phase, k.as_str()),
            (kind, None) => Error::new(kind, k.as_str()),
        },
        Cause::Status(s) => Error::new(ErrorKind::Status, format!("too many {s} error responses")),
        Cause::Redirect(_) => Error::new(ErrorKind::TooManyRedirects, "too many redirects"),
    }
}

/// What the caller does next.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::retry::*;
/// let script = vec![Outcome::error(FailureKind::Dns); 3];
/// let sim = simulate(&Retry::new(1), &script, &SimOptions::default());
/// let d = sim.decisions();
/// assert_eq!(d[0], Decision::Retry { after: Duration::ZERO, reason: RetryReason::Backoff });
/// assert!(d[1].is_final());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Wait `after` (zero allowed), then send the same request again.
    Retry {
        /// How long to sleep first.
        after: Duration,
        /// Why.
        reason: RetryReason,
    },
    /// Follow the redirect (the redirect module builds the next request);
    /// then call [`RetryState::redirected`]. No sleep: a redirect is not a
    /// failure, and it starts a new backoff run.
    FollowRedirect,
    /// Hand this response to the user.
    Return,
    /// End the call with an error.
    Fail(Fail),
}

impl Decision {
    /// The sleep this decision asks for (zero unless [`Decision::Retry`]).
    pub fn sleep(&self) -> Duration {
        match self {
            Decision::Retry { after, .. } => *after,
            _ => Duration::ZERO,
        }
    }

    /// True for [`Decision::Return`] and [`Decision::Fail`].
    pub fn is_final(&self) -> bool {
        matches!(self, Decision::Return | Decision::Fail(_))
    }
}

/// The time inputs of a decision.
///
/// ```
/// # fn f(now: std::time::Instant) {
/// use std::time::{Duration, SystemTime};
/// use hawser_core::retry::Clock;
/// let c = Clock { now, wall: SystemTime::UNIX_EPOCH, deadline: Some(now + Duration::from_secs(30)) };
/// # let _ = c; }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Monotonic now (deadline arithmetic and the retry budget).
    pub now: Instant,
    /// Wall-clock now (HTTP-date `Retry-After` values).
    pub wall: SystemTime,
    /// The logical request's overall deadline, if any.
    pub deadline: Option<Instant>,
}

/// A `Retry-After` value that is neither digits nor an HTTP-date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRetryAfter;

impl fmt::Display for InvalidRetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid Retry-After header")
    }
}

impl std::error::Error for InvalidRetryAfter {}

impl From<InvalidRetryAfter> for Error {
    /// A peer sent a header hawser could not read: a protocol error.
    fn from(e: InvalidRetryAfter) -> Self {
        Error::new(ErrorKind::Protocol, e.to_string())
    }
}

/// Parse a raw `Retry-After` value: ASCII digits with optional surrounding
/// whitespace (urllib3's `^\s*[0-9]+\s*$`), or an HTTP-date (RFC 1123, RFC
/// 850 or asctime, via `httpdate`) measured from `wall`. A past date gives
/// zero. Not clamped.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use hawser_core::retry::parse_retry_after;
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_475);
/// assert_eq!(parse_retry_after(" 120 ", now), Ok(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Ok(Duration::from_secs(5)));
/// assert!(parse_retry_after("1.5", now).is_err());
/// assert!(parse_retry_after("", now).is_err());
/// ```
pub fn parse_retry_after(value: &str, wall: SystemTime) -> Result<Duration, InvalidRetryAfter> {
    let t = value.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        // All digits, so the only parse failure is overflow: saturate.
        return Ok(Duration::from_secs(t.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(t).map_err(|_| InvalidRetryAfter)?;
    Ok(date.duration_since(wall).unwrap_or(Duration::ZERO))
}

/// Spend one from a counter; true when that exhausts it.
fn spend(c: &mut Counter) -> bool {
    match c {
        Counter::Unlimited => false,
        Counter::Count(0) | Counter::Disabled => true,
        Counter::Count(n) => {
            *n -= 1;
            false
        }
    }
}

fn secs_to_duration(v: f64, max: Duration) -> Duration {
    Duration::try_from_secs_f64(v).unwrap_or(max)
}

impl Retry {
    /// The backoff for the `n`-th consecutive retry of a run (urllib3's
    /// `get_backoff_time`): zero for `n <= 1`, then `factor * 2^(n-1)` with
    /// jitter, clamped to `backoff_max`. Draws from `rng` only when jitter
    /// applies.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rand::{SeedableRng, rngs::StdRng};
    /// use hawser_core::retry::Retry;
    /// let p = Retry::new(5).backoff_factor(Duration::from_millis(100));
    /// let mut rng = StdRng::seed_from_u64(1);
    /// let s: Vec<_> = (1..=4).map(|n| p.backoff(n, &mut rng)).collect();
    /// assert_eq!(s, [0, 200, 400, 800].map(Duration::from_millis));
    /// ```
    pub fn backoff<R: Rng + ?Sized>(&self, n: u32, rng: &mut R) -> Duration {
        if n <= 1 || self.backoff_factor.is_zero() && self.backoff_jitter.is_zero() {
            return Duration::ZERO;
        }
        let max = self.backoff_max.as_secs_f64();
        // 2^64 times any factor is far above every sane backoff_max.
        let exp = (n - 1).min(64) as i32;
        let base = self.backoff_factor.as_secs_f64() * 2f64.powi(exp);
        let v = match self.jitter {
            Jitter::Additive => {
                let j = self.backoff_jitter.as_secs_f64();
                let v = if j > 0.0 {
                    base + rng.random::<f64>() * j
                } else {
                    base
                };
                v.min(max)
            }
            Jitter::Full => {
                let cap = base.min(max);
                if cap > 0.0 {
                    rng.random::<f64>() * cap
                } else {
                    0.0
                }
            }
        };
        secs_to_duration(v.max(0.0), self.backoff_max)
    }

    /// Decide what follows `outcome`: the pure retry decision.
    ///
    /// `state` is the logical request's [`RetryState`] (updated: counters,
    /// history, backoff run). `budget`, when given, is refilled up to
    /// `clock.now` and pays one token per retry (not for stale re-sends or
    /// redirects). See the module docs for the full rules.
    ///
    /// ```
    /// # fn f(now: std::time::Instant) {
    /// use std::time::{Duration, SystemTime};
    /// use rand::{SeedableRng, rngs::StdRng};
    /// use hawser_core::retry::*;
    /// let policy = Retry::new(3);
    /// let mut st = RetryState::new(&policy, http::Method::GET, "http://a.test/");
    /// let clock = Clock { now, wall: SystemTime::UNIX_EPOCH, deadline: None };
    /// let mut rng = StdRng::seed_from_u64(7);
    /// let d = policy.decide(&mut st, &ResponseOutcome::new(503).retry_after("2").into(), &clock, &mut rng, None);
    /// assert_eq!(d, Decision::Retry { after: Duration::from_secs(2), reason: RetryReason::RetryAfter });
    /// # }
    /// ```
    pub fn decide<R: Rng + ?Sized>(
        &self,
        state: &mut RetryState,
        outcome: &Outcome,
        clock: &Clock,
        rng: &mut R,
        budget: Option<&mut RetryBudget>,
    ) -> Decision {
        let remaining = clock
            .deadline
            .map(|d| d.saturating_duration_since(clock.now));
        let mut budget = budget;
        if let Some(b) = budget.as_deref_mut() {
            b.advance_to(clock.now);
        }
        self.decide_in(state, outcome, remaining, clock.wall, rng, budget)
    }

    /// [`Retry::decide`] in virtual time: `remaining` is the time left
    /// before the deadline (`None`: no deadline); `budget` is used as it is
    /// (advance it yourself). This is what [`simulate`](super::simulate)
    /// runs.
    pub fn decide_in<R: Rng + ?Sized>(
        &self,
        state: &mut RetryState,
        outcome: &Outcome,
        remaining: Option<Duration>,
        wall: SystemTime,
        rng: &mut R,
        budget: Option<&mut RetryBudget>,
    ) -> Decision {
        state.attempts = state.attempts.saturating_add(1);
        let d = match outcome {
            Outcome::Error(e) => self.decide_error(state, e, remaining, rng, budget),
            Outcome::Response(r) => self.decide_response(state, r, remaining, wall, rng, budget),
        };
        if let Decision::Retry { after, .. } = d {
            state.slept = state.slept.saturating_add(after);
            if let Some(h) = state.last_entry() {
                h.sleep = after;
            }
        }
        #[cfg(feature = "tracing")]
        tracing::debug!(
            method = %state.method,
            url = %crate::redact::url_text(&state.url),
            attempt = state.attempts,
            outcome = ?outcome,
            decision = ?d,
            "hawser retry decision"
        );
        d
    }

    fn decide_error<R: Rng + ?Sized>(
        &self,
        st: &mut RetryState,
        e: &ErrorOutcome,
        remaining: Option<Duration>,
        rng: &mut R,
        budget: Option<&mut RetryBudget>,
    ) -> Decision {
        let cause = Cause::Error(e.kind);
        let fail = |reason| Decision::Fail(Fail { reason, cause });
        st.record(
            Event::Error {
                kind: e.kind,
                request_sent: e.request_sent,
            },
            None,
        );
        let class = e.class();
        if class == ErrorClass::Deterministic {
            return fail(FailReason::Deterministic);
        }
        // A pooled connection the server had already closed: re-send once,
        // for free, when that is safe (docs/RETRY.md point 3).
        if self.stale_resend
            && e.reused_connection
            && !e.response_started
            && matches!(e.kind, FailureKind::Reset | FailureKind::Eof)
            && !st.stale_used
            && (st.method.is_idempotent() || !e.request_sent)
            && e.body.can_send()
        {
            st.stale_used = true;
            if let Some(h) = st.last_entry() {
                h.stale_resend = true;
            }
            if remaining.is_some_and(|r| r.is_zero()) {
                return fail(FailReason::Deadline);
            }
            return Decision::Retry {
                after: Duration::ZERO,
                reason: RetryReason::StaleConnection,
            };
        }
        if st.counters.total == Counter::Disabled {
            return fail(FailReason::Unwrapped);
        }
        let kind_counter = match class {
            ErrorClass::Connect => {
                if st.counters.connect == Counter::Disabled {
                    return fail(FailReason::Unwrapped);
                }
                &mut st.counters.connect
            }
            ErrorClass::Read => {
                if st.counters.read == Counter::Disabled || !self.is_method_allowed(&st.method) {
                    return fail(FailReason::Unwrapped);
                }
                &mut st.counters.read
            }
            _ => &mut st.counters.other,
        };
        // `|`, not `||`: both counters are spent, as urllib3 decrements both.
        let exhausted = spend(kind_counter) | spend(&mut st.counters.total);
        if exhausted {
            return fail(FailReason::Exhausted);
        }
        st.run_len = st.run_len.saturating_add(1);
        let after = self.backoff(st.run_len, rng);
        match guard(e.body.can_send(), after, remaining, budget) {
            Some(reason) => fail(reason),
            None => Decision::Retry {
                after,
                reason: RetryReason::Backoff,
            },
        }
    }

    fn decide_response<R: Rng + ?Sized>(
        &self,
        st: &mut RetryState,
        r: &ResponseOutcome,
        remaining: Option<Duration>,
        wall: SystemTime,
        rng: &mut R,
        budget: Option<&mut RetryBudget>,
    ) -> Decision {
        if r.is_redirect() && r.redirect != RedirectPermission::NotFollowing {
            return self.decide_redirect(st, r, remaining);
        }
        let has_ra = r.has_retry_after();
        if !self.is_retry_with(st.counters.total, &st.method, r.status, has_ra) {
            return Decision::Return;
        }
        let cause = Cause::Status(r.status);
        st.record(Event::Status(r.status), None);
        let exhausted = spend(&mut st.counters.status) | spend(&mut st.counters.total);
        if exhausted {
            return if self.raise_on_status {
                Decision::Fail(Fail {
                    reason: FailReason::Exhausted,
                    cause,
                })
            } else {
                Decision::Return
            };
        }
        st.run_len = st.run_len.saturating_add(1);
        let mut ra_use = RetryAfterUse::Absent;
        let mut honoured = None;
        if self.respect_retry_after_header
            && let Some(v) = r.retry_after.as_deref()
        {
            ra_use = match parse_retry_after(v, wall) {
                Ok(d) if !d.is_zero() => {
                    honoured = Some(d.min(self.retry_after_max));
                    RetryAfterUse::Honoured
                }
                Ok(_) => RetryAfterUse::Zero,
                Err(InvalidRetryAfter) => RetryAfterUse::Malformed,
            };
        }
        if let Some(h) = st.last_entry() {
            h.retry_after = ra_use;
        }
        let (after, reason) = match honoured {
            Some(d) => (d, RetryReason::RetryAfter),
            None => (self.backoff(st.run_len, rng), RetryReason::Backoff),
        };
        match guard(r.body.can_send(), after, remaining, budget) {
            Some(reason) => Decision::Fail(Fail { reason, cause }),
            None => Decision::Retry { after, reason },
        }
    }

    fn decide_redirect(
        &self,
        st: &mut RetryState,
        r: &ResponseOutcome,
        remaining: Option<Duration>,
    ) -> Decision {
        let cause = Cause::Redirect(r.status);
        let too_many = |raise: bool| {
            if raise {
                Decision::Fail(Fail {
                    reason: FailReason::Exhausted,
                    cause,
                })
            } else {
                Decision::Return
            }
        };
        // urllib3: redirect=False means "do not follow, return the 3xx".
        if st.counters.redirect == Counter::Disabled {
            return Decision::Return;
        }
        st.record(Event::Status(r.status), r.location.clone());
        if r.redirect == RedirectPermission::LimitReached {
            return too_many(self.raise_on_redirect);
        }
        // Redirects never spend `total` in hawser (docs/RETRY.md, Redirects).
        if spend(&mut st.counters.redirect) {
            return too_many(self.raise_on_redirect);
        }
        if matches!(r.status, 307 | 308) && !r.body.can_send() {
            return Decision::Fail(Fail {
                reason: FailReason::BodyNotReplayable,
                cause,
            });
        }
        if remaining.is_some_and(|d| d.is_zero()) {
            return Decision::Fail(Fail {
                reason: FailReason::Deadline,
                cause,
            });
        }
        st.run_len = 0;
        Decision::FollowRedirect
    }
}

/// hawser's guards on a retry the counters allow: the body must be
/// replayable, the sleep must end before the deadline, and the budget must
/// pay. Checked in that order so a token is only spent on a real retry.
fn guard(
    body_ok: bool,
    after: Duration,
    remaining: Option<Duration>,
    budget: Option<&mut RetryBudget>,
) -> Option<FailReason> {
    if !body_ok {
        return Some(FailReason::BodyNotReplayable);
    }
    if remaining.is_some_and(|r| after >= r) {
        return Some(FailReason::Deadline);
    }
    if let Some(b) = budget
        && !b.try_withdraw()
    {
        return Some(FailReason::BudgetExhausted);
    }
    None
}
