//! The [`Retry`] policy value: urllib3 2.x `Retry` settings as plain data.

use std::time::Duration;

use http::Method;

/// One of urllib3's retry counters (`total`, `connect`, `read`, `redirect`,
/// `status`, `other`).
///
/// * [`Counter::Unlimited`] is urllib3's `None`: no limit of its own (only
///   `total` still bounds it).
/// * [`Counter::Count`]`(n)` allows `n` more retries of that kind; `0` means
///   the next event of that kind ends the call.
/// * [`Counter::Disabled`] is urllib3's `False`. For `total`, `connect` and
///   `read` it ends the call with the *original* error (urllib3's unwrapped
///   re-raise, [`FailReason::Unwrapped`](super::FailReason::Unwrapped))
///   instead of a "retries exhausted" wrapper. For `status` and `other` it
///   behaves exactly like `Count(0)`. For `redirect` it means "do not follow;
///   return the 3xx".
///
/// ```
/// use hawser_core::retry::Counter;
/// assert_eq!(Counter::from(3), Counter::Count(3));
/// assert_eq!(Counter::from(None::<u32>), Counter::Unlimited);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Counter {
    /// No limit of its own (urllib3 `None`).
    #[default]
    Unlimited,
    /// This many more retries of the kind.
    Count(u32),
    /// urllib3 `False`: see the type docs.
    Disabled,
}

impl From<u32> for Counter {
    fn from(n: u32) -> Self {
        Counter::Count(n)
    }
}

impl From<Option<u32>> for Counter {
    fn from(n: Option<u32>) -> Self {
        n.map_or(Counter::Unlimited, Counter::Count)
    }
}

/// How randomness is added to the exponential backoff.
///
/// ```
/// use hawser_core::retry::{Jitter, Retry};
/// let p = Retry::new(3).jitter(Jitter::Full);
/// assert_eq!(p.jitter_strategy(), Jitter::Full);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Jitter {
    /// urllib3's rule: `backoff_factor * 2^(n-1) + U[0, backoff_jitter)`,
    /// then clamped to `backoff_max`.
    #[default]
    Additive,
    /// "Full jitter": sleep uniformly in
    /// `[0, min(backoff_max, backoff_factor × 2^(n-1))]`; `backoff_jitter`
    /// is not used. Spreads a thundering herd of clients best.
    Full,
}

/// The statuses for which a `Retry-After` header alone makes a response
/// retryable (urllib3's `RETRY_AFTER_STATUS_CODES`).
pub const RETRY_AFTER_STATUS_CODES: [u16; 3] = [413, 429, 503];

/// urllib3's `DEFAULT_BACKOFF_MAX`: 120 s.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(120);

/// urllib3's `DEFAULT_RETRY_AFTER_MAX`: 6 h.
pub const DEFAULT_RETRY_AFTER_MAX: Duration = Duration::from_secs(6 * 3600);

/// The retry policy, with urllib3 2.x `Retry` semantics (see docs/RETRY.md).
///
/// The value is immutable configuration; what changes during one logical
/// request lives in [`RetryState`](super::RetryState). Setters consume and
/// return the policy, builder style, and mirror urllib3's constructor
/// arguments.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::retry::{Counter, Retry};
/// // urllib3: Retry(total=3, backoff_factor=0.5, status_forcelist=[500, 502, 503, 504])
/// let p = Retry::new(3)
///     .backoff_factor(Duration::from_millis(500))
///     .status_forcelist([500, 502, 503, 504]);
/// assert_eq!(p.total_counter(), Counter::Count(3));
/// assert!(p.is_method_allowed(&http::Method::GET));
/// assert!(!p.is_method_allowed(&http::Method::POST));
/// ```
///
/// # Defaults
///
/// [`Retry::default`] is urllib3's `Retry()`: `total = 10`, every other
/// counter unlimited, no backoff. A hawser session should rather start from
/// [`Retry::session_default`] (3 retries with backoff); for requests'
/// `HTTPAdapter` default use [`Retry::requests_compat`].
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub(crate) total: Counter,
    pub(crate) connect: Counter,
    pub(crate) read: Counter,
    pub(crate) redirect: Counter,
    pub(crate) status: Counter,
    pub(crate) other: Counter,
    /// `None` = every method.
    pub(crate) allowed_methods: Option<Vec<Method>>,
    /// Sorted and deduplicated.
    pub(crate) status_forcelist: Vec<u16>,
    pub(crate) backoff_factor: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) backoff_jitter: Duration,
    pub(crate) jitter: Jitter,
    pub(crate) respect_retry_after_header: bool,
    pub(crate) retry_after_max: Duration,
    pub(crate) raise_on_status: bool,
    pub(crate) raise_on_redirect: bool,
    /// The free re-send of a stale pooled connection (see
    /// [`Retry::stale_resend`]).
    pub(crate) stale_resend: bool,
}

impl Default for Retry {
    /// urllib3's `Retry()`: total 10.
    fn default() -> Self {
        Retry::new(10)
    }
}

fn default_methods() -> Vec<Method> {
    vec![
        Method::HEAD,
        Method::GET,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
    ]
}

impl Retry {
    /// urllib3's `Retry(total)`: `total` retries of any kind, every other
    /// setting at urllib3's default.
    ///
    /// ```
    /// use hawser_core::retry::{Counter, Retry};
    /// assert_eq!(Retry::new(0).total_counter(), Counter::Count(0));
    /// ```
    pub fn new(total: impl Into<Counter>) -> Self {
        Retry {
            total: total.into(),
            connect: Counter::Unlimited,
            read: Counter::Unlimited,
            redirect: Counter::Unlimited,
            status: Counter::Unlimited,
            other: Counter::Unlimited,
            allowed_methods: Some(default_methods()),
            status_forcelist: Vec::new(),
            backoff_factor: Duration::ZERO,
            backoff_max: DEFAULT_BACKOFF_MAX,
            backoff_jitter: Duration::ZERO,
            jitter: Jitter::Additive,
            respect_retry_after_header: true,
            retry_after_max: DEFAULT_RETRY_AFTER_MAX,
            raise_on_status: true,
            raise_on_redirect: true,
            stale_resend: true,
        }
    }

    /// urllib3's `Retry(False)`: no retries; errors come back unwrapped.
    /// Unlike urllib3, redirects are still followed (docs/RETRY.md: "disables
    /// retries, not redirects"); limit those with [`Retry::redirect`]. The
    /// free re-send of a stale pooled connection is off too: nothing is
    /// sent twice.
    ///
    /// ```
    /// use hawser_core::retry::{Counter, Retry};
    /// assert_eq!(Retry::disabled().total_counter(), Counter::Disabled);
    /// assert!(!Retry::disabled().resends_stale());
    /// ```
    pub fn disabled() -> Self {
        Retry::new(Counter::Disabled).stale_resend(false)
    }

    /// The free re-send of a stale pooled connection (default on, except
    /// for [`Retry::disabled`]): when a request on a *reused* connection
    /// fails with a reset or EOF before any response byte arrived (the
    /// server had closed the idle connection just as it was reused, after
    /// the liveness check passed), hawser sends it once more on a new
    /// connection without spending a retry, if that is safe: an idempotent
    /// method, or nothing of the request written, and a body that can be
    /// sent again. urllib3 does the same through its own retry counter;
    /// hawser keeps it free so `Retry::new(0)` still survives a race with
    /// the server's idle timeout. `false` turns it off.
    ///
    /// ```
    /// use hawser_core::retry::Retry;
    /// assert!(Retry::new(0).resends_stale());
    /// assert!(!Retry::new(3).stale_resend(false).resends_stale());
    /// ```
    pub fn stale_resend(mut self, on: bool) -> Self {
        self.stale_resend = on;
        self
    }

    /// Whether the stale-connection re-send is on (see [`Retry::stale_resend`]).
    pub fn resends_stale(&self) -> bool {
        self.stale_resend
    }

    /// requests' `HTTPAdapter` default, `Retry(total=0, read=False)`: no
    /// retries; connect errors report "retries exhausted", read errors come
    /// back unwrapped.
    ///
    /// ```
    /// use hawser_core::retry::{Counter, Retry};
    /// let p = Retry::requests_compat();
    /// assert_eq!(p.total_counter(), Counter::Count(0));
    /// ```
    pub fn requests_compat() -> Self {
        Retry::new(0).read(Counter::Disabled)
    }

    /// hawser's recommended session default: 3 retries, exponential backoff
    /// from 0.5 s with 0.25 s of additive jitter, urllib3's method rules
    /// (connect errors for every method, read errors and statuses only for
    /// idempotent ones) and the implicit `Retry-After` rule for 413/429/503.
    ///
    /// Why not requests' `Retry(0, read=False)`: hawser bounds every call by
    /// an overall deadline and re-sends stale pooled connections for free,
    /// so a few retries of failures that never reached the server (or that
    /// are idempotent) are safe and remove most transient errors.
    ///
    /// ```
    /// use hawser_core::retry::{Counter, Retry};
    /// assert_eq!(Retry::session_default().total_counter(), Counter::Count(3));
    /// ```
    pub fn session_default() -> Self {
        Retry::new(3)
            .backoff_factor(Duration::from_millis(500))
            .backoff_jitter(Duration::from_millis(250))
    }

    /// The overall counter (urllib3 `total`).
    pub fn total(mut self, c: impl Into<Counter>) -> Self {
        self.total = c.into();
        self
    }

    /// The counter for connect-class errors (nothing reached the server).
    pub fn connect(mut self, c: impl Into<Counter>) -> Self {
        self.connect = c.into();
        self
    }

    /// The counter for read-class errors (request bytes were written).
    pub fn read(mut self, c: impl Into<Counter>) -> Self {
        self.read = c.into();
        self
    }

    /// The counter for followed redirects. Redirects never spend `total` in
    /// hawser; `max_redirects` of the redirect module also applies.
    pub fn redirect(mut self, c: impl Into<Counter>) -> Self {
        self.redirect = c.into();
        self
    }

    /// The counter for status retries (forcelist or implicit Retry-After).
    pub fn status(mut self, c: impl Into<Counter>) -> Self {
        self.status = c.into();
        self
    }

    /// The counter for errors that are neither connect- nor read-class.
    pub fn other(mut self, c: impl Into<Counter>) -> Self {
        self.other = c.into();
        self
    }

    /// Methods for which read errors and statuses are retried. An empty
    /// list means every method (urllib3's `None` or empty collection).
    pub fn allowed_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        let m: Vec<Method> = methods.into_iter().collect();
        self.allowed_methods = if m.is_empty() { None } else { Some(m) };
        self
    }

    /// Retry read errors and statuses for every method (urllib3
    /// `allowed_methods=None`).
    pub fn any_method(mut self) -> Self {
        self.allowed_methods = None;
        self
    }

    /// Statuses that are retried (for allowed methods) with or without a
    /// `Retry-After` header.
    pub fn status_forcelist(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        let mut v: Vec<u16> = codes.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        self.status_forcelist = v;
        self
    }

    /// The backoff factor `f`: sleeps are `0, 2f, 4f, 8f, ...`.
    pub fn backoff_factor(mut self, f: Duration) -> Self {
        self.backoff_factor = f;
        self
    }

    /// Upper clamp of the backoff (after jitter). Default 120 s. Does not
    /// clamp `Retry-After`.
    pub fn backoff_max(mut self, max: Duration) -> Self {
        self.backoff_max = max;
        self
    }

    /// Additive jitter bound: `U[0, jitter)` is added to the backoff.
    pub fn backoff_jitter(mut self, jitter: Duration) -> Self {
        self.backoff_jitter = jitter;
        self
    }

    /// The jitter strategy (default [`Jitter::Additive`], urllib3's).
    pub fn jitter(mut self, j: Jitter) -> Self {
        self.jitter = j;
        self
    }

    /// Honour `Retry-After` (default true): gates the implicit retry of
    /// 413/429/503 and sleeping for the header.
    pub fn respect_retry_after_header(mut self, yes: bool) -> Self {
        self.respect_retry_after_header = yes;
        self
    }

    /// Upper clamp of a `Retry-After` sleep (default 6 h).
    pub fn retry_after_max(mut self, max: Duration) -> Self {
        self.retry_after_max = max;
        self
    }

    /// When status retries run out: fail (true, default) or return the last
    /// response (false).
    pub fn raise_on_status(mut self, yes: bool) -> Self {
        self.raise_on_status = yes;
        self
    }

    /// When the redirect counter runs out: fail (true, default) or return
    /// the 3xx (false).
    pub fn raise_on_redirect(mut self, yes: bool) -> Self {
        self.raise_on_redirect = yes;
        self
    }

    /// The `total` counter.
    pub fn total_counter(&self) -> Counter {
        self.total
    }

    /// The jitter strategy.
    pub fn jitter_strategy(&self) -> Jitter {
        self.jitter
    }

    /// The upper clamp of the backoff.
    pub fn backoff_max_value(&self) -> Duration {
        self.backoff_max
    }

    /// The upper clamp of a `Retry-After` sleep.
    pub fn retry_after_max_value(&self) -> Duration {
        self.retry_after_max
    }

    /// Whether read errors and statuses may be retried for `method`.
    pub fn is_method_allowed(&self, method: &Method) -> bool {
        match &self.allowed_methods {
            None => true,
            Some(list) => list.iter().any(|m| m == method),
        }
    }

    /// urllib3's `is_retry` on a fresh request: would a response with this
    /// status be retried (before counting budgets)?
    ///
    /// ```
    /// use hawser_core::retry::Retry;
    /// let p = Retry::new(3);
    /// assert!(p.is_retry(&http::Method::GET, 503, true));   // implicit Retry-After rule
    /// assert!(!p.is_retry(&http::Method::GET, 503, false));
    /// assert!(!p.is_retry(&http::Method::POST, 503, true)); // POST not allowed
    /// ```
    pub fn is_retry(&self, method: &Method, status: u16, has_retry_after: bool) -> bool {
        self.is_retry_with(self.total, method, status, has_retry_after)
    }

    /// `is_retry` against the `total` remaining in a request's state.
    pub(crate) fn is_retry_with(
        &self,
        total: Counter,
        method: &Method,
        status: u16,
        has_retry_after: bool,
    ) -> bool {
        if !self.is_method_allowed(method) {
            return false;
        }
        if self.status_forcelist.binary_search(&status).is_ok() {
            return true;
        }
        matches!(total, Counter::Count(n) if n > 0)
            && self.respect_retry_after_header
            && has_retry_after
            && RETRY_AFTER_STATUS_CODES.contains(&status)
    }
}
