//! Timeouts and the overall deadline of one logical request.
//!
//! # Model
//!
//! [`Timeouts`] is configuration: `connect`, `read` (the longest silence while
//! waiting for the response head or during the body), `write` (the longest
//! stall while sending), an optional `pool_wait` bound, and one overall
//! `deadline` per logical request. The deadline spans every attempt,
//! redirect, auth re-send and backoff sleep; urllib3's `total` restarts on
//! each attempt, hawser's does not.
//!
//! Every [`Call`](crate::call::Call) keeps one table of named timers
//! (quinn's practice): the overall deadline plus the timer of the current
//! [`Phase`]. Bytes moving reset the stall timers. Every output a call
//! gives its driver carries *until when* the driver may wait, which is
//! `min(the phase's own timeout, what is left of the deadline)`, and a
//! timeout error names the phase that ran out.
//!
//! | phase | bound | kind of timer |
//! |---|---|---|
//! | [`Phase::PoolWait`] | `pool_wait` if set, else only the deadline | total |
//! | [`Phase::Connect`] | `connect` | total |
//! | [`Phase::TlsHandshake`] | `connect` (as urllib3), started afresh when the handshake begins | total: a peer dripping handshake bytes cannot stretch it |
//! | [`Phase::Send`] | `write` | stall: reset when bytes move |
//! | [`Phase::ResponseHead`] | `read` | stall |
//! | [`Phase::Body`] | `read` | stall |
//! | [`Phase::Backoff`] | only the deadline | - |
//!
//! **Ties.** When a phase timer and the deadline expire at the same instant,
//! the phase is reported. A phase timer starts no earlier than the call, so a
//! tie means the phase's own timeout is the shorter one, and its message
//! ("read timeout 5s") is the more precise.
//!
//! A timer has expired when `now >= expiry`; an expired timer becomes an
//! [`Error`] of kind [`ErrorKind::Timeout`] that names its
//! [`TimeoutPhase`] and the configured value ("timed out waiting for the
//! response head (read timeout 5s)").
//!
//! ```
//! use std::time::Duration;
//! use hawser_core::deadline::Timeouts;
//!
//! // requests' `timeout=(3.05, 27)`, plus one bound across every retry.
//! let t = Timeouts::from_pair_secs_f64(3.05, 27.0)?.with_deadline(Duration::from_secs(60))?;
//! assert_eq!(t.connect(), Duration::from_millis(3050));
//! assert_eq!(t.read(), Duration::from_secs(27));
//! assert_eq!(t.deadline(), Duration::from_secs(60));
//! # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use crate::{Error, ErrorKind, TimeoutPhase};

/// The largest accepted timeout: 365 days. Anything longer is almost
/// certainly a unit mistake, and the bound keeps `Instant` arithmetic far
/// from overflow.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Which timeout setting a [`InvalidTimeout`] is about.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::deadline::{TimeoutField, Timeouts};
/// let err = Timeouts::default().with_write(Duration::ZERO).unwrap_err();
/// assert_eq!(err.field, TimeoutField::Write);
/// assert_eq!(err.to_string(), "invalid write timeout: must be greater than zero");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutField {
    /// The connect timeout (also bounds the TLS handshake).
    Connect,
    /// The read timeout (longest silence).
    Read,
    /// The write timeout (longest stall while sending).
    Write,
    /// The bound on waiting for a pooled connection.
    PoolWait,
    /// The overall deadline of a logical request.
    Deadline,
}

impl TimeoutField {
    fn name(self) -> &'static str {
        match self {
            TimeoutField::Connect => "connect timeout",
            TimeoutField::Read => "read timeout",
            TimeoutField::Write => "write timeout",
            TimeoutField::PoolWait => "pool wait timeout",
            TimeoutField::Deadline => "deadline",
        }
    }
}

/// Why a timeout value was rejected.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::deadline::{InvalidTimeoutReason, Timeouts};
/// let too_long = Timeouts::default().with_read(Duration::from_secs(400 * 86_400));
/// assert_eq!(too_long.unwrap_err().reason, InvalidTimeoutReason::TooLarge);
/// let nan = Timeouts::from_secs_f64(f64::NAN).unwrap_err();
/// assert!(matches!(nan.reason, InvalidTimeoutReason::NotFinite(v) if v.is_nan()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InvalidTimeoutReason {
    /// Zero would time out at once; use a positive value.
    Zero,
    /// The value was below zero (float seconds).
    Negative(f64),
    /// NaN or infinite (float seconds). "Never time out" is not offered:
    /// every wait is bounded.
    NotFinite(f64),
    /// Longer than [`MAX_TIMEOUT`].
    TooLarge,
}

/// A timeout setting that was rejected when configured.
///
/// Converts into an [`Error`] of kind [`ErrorKind::InvalidRequest`].
///
/// ```
/// use hawser_core::deadline::{Timeouts, TimeoutField, InvalidTimeoutReason};
/// let err = Timeouts::from_secs_f64(-1.0).unwrap_err();
/// assert_eq!(err.field, TimeoutField::Connect);
/// assert_eq!(err.reason, InvalidTimeoutReason::Negative(-1.0));
/// let err: hawser_core::Error = err.into();
/// assert_eq!(err.kind(), hawser_core::ErrorKind::InvalidRequest);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InvalidTimeout {
    /// The setting.
    pub field: TimeoutField,
    /// What was wrong with it.
    pub reason: InvalidTimeoutReason,
}

impl fmt::Display for InvalidTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.field.name();
        match self.reason {
            InvalidTimeoutReason::Zero => write!(f, "invalid {name}: must be greater than zero"),
            InvalidTimeoutReason::Negative(v) => {
                write!(f, "invalid {name}: must be greater than zero (got {v} s)")
            }
            InvalidTimeoutReason::NotFinite(v) => {
                write!(
                    f,
                    "invalid {name}: must be a finite number of seconds (got {v})"
                )
            }
            InvalidTimeoutReason::TooLarge => write!(
                f,
                "invalid {name}: longer than the maximum of {} days",
                MAX_TIMEOUT.as_secs() / 86_400
            ),
        }
    }
}

impl std::error::Error for InvalidTimeout {}

impl From<InvalidTimeout> for Error {
    fn from(e: InvalidTimeout) -> Self {
        Error::new(ErrorKind::InvalidRequest, e.to_string())
    }
}

fn validate(field: TimeoutField, d: Duration) -> Result<Duration, InvalidTimeout> {
    let reason = if d.is_zero() {
        InvalidTimeoutReason::Zero
    } else if d > MAX_TIMEOUT {
        InvalidTimeoutReason::TooLarge
    } else {
        return Ok(d);
    };
    Err(InvalidTimeout { field, reason })
}

fn validate_secs(field: TimeoutField, secs: f64) -> Result<Duration, InvalidTimeout> {
    let reason = if !secs.is_finite() {
        InvalidTimeoutReason::NotFinite(secs)
    } else if secs < 0.0 {
        InvalidTimeoutReason::Negative(secs)
    } else if secs > MAX_TIMEOUT.as_secs_f64() {
        InvalidTimeoutReason::TooLarge
    } else {
        // Finite, non-negative and bounded, so the conversion cannot fail;
        // a value that rounds to zero nanoseconds is caught by `validate`.
        match Duration::try_from_secs_f64(secs) {
            Ok(d) => return validate(field, d),
            Err(_) => InvalidTimeoutReason::NotFinite(secs),
        }
    };
    Err(InvalidTimeout { field, reason })
}

/// Timeout configuration of a session or a request.
///
/// Defaults (all finite, so nothing waits forever):
///
/// - `connect` 10 s: a healthy TCP + TLS setup takes milliseconds; 10 s rides
///   out a lost SYN retransmit (1 s, 3 s) without hanging on a dead host.
/// - `read` 30 s: generous for slow servers producing the first byte, and
///   the longest silence tolerated mid-body.
/// - `write` 30 s: the same bound for a peer that stops draining our bytes.
/// - `pool_wait` unset: a waiter for a full pool is bounded by the deadline.
/// - `deadline` 300 s: the whole logical request, retries and backoff
///   included; long enough for a few retried slow attempts, short enough
///   that a stuck call surfaces.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::deadline::Timeouts;
/// // requests' timeout=(3, 10)
/// let t = Timeouts::from_pair_secs_f64(3.0, 10.0)?;
/// assert_eq!(t.connect(), Duration::from_secs(3));
/// assert_eq!(t.read(), Duration::from_secs(10));
/// assert_eq!(t.write(), Timeouts::DEFAULT_WRITE);
/// assert!(Timeouts::default().with_read(Duration::ZERO).is_err());
/// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    connect: Duration,
    read: Duration,
    write: Duration,
    pool_wait: Option<Duration>,
    deadline: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Self::DEFAULT_CONNECT,
            read: Self::DEFAULT_READ,
            write: Self::DEFAULT_WRITE,
            pool_wait: None,
            deadline: Self::DEFAULT_DEADLINE,
        }
    }
}

impl Timeouts {
    /// Default connect timeout (10 s).
    pub const DEFAULT_CONNECT: Duration = Duration::from_secs(10);
    /// Default read timeout (30 s).
    pub const DEFAULT_READ: Duration = Duration::from_secs(30);
    /// Default write timeout (30 s).
    pub const DEFAULT_WRITE: Duration = Duration::from_secs(30);
    /// Default overall deadline (300 s).
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

    /// requests' `timeout=secs`: sets connect and read, other values default.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = hawser_core::deadline::Timeouts::from_secs_f64(2.5)?;
    /// assert_eq!((t.connect(), t.read()), (Duration::from_millis(2500), Duration::from_millis(2500)));
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn from_secs_f64(secs: f64) -> Result<Self, InvalidTimeout> {
        Self::from_pair_secs_f64(secs, secs)
    }

    /// requests' `timeout=(connect, read)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hawser_core::deadline::{TimeoutField, Timeouts};
    /// let t = Timeouts::from_pair_secs_f64(1.0, 20.0)?;
    /// assert_eq!((t.connect(), t.read()), (Duration::from_secs(1), Duration::from_secs(20)));
    /// assert_eq!(Timeouts::from_pair_secs_f64(1.0, 0.0).unwrap_err().field, TimeoutField::Read);
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn from_pair_secs_f64(connect: f64, read: f64) -> Result<Self, InvalidTimeout> {
        Ok(Timeouts {
            connect: validate_secs(TimeoutField::Connect, connect)?,
            read: validate_secs(TimeoutField::Read, read)?,
            ..Timeouts::default()
        })
    }

    /// Set the connect timeout (also bounds the TLS handshake).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hawser_core::deadline::Timeouts;
    /// let t = Timeouts::default().with_connect(Duration::from_secs(2))?;
    /// assert_eq!(t.connect(), Duration::from_secs(2));
    /// assert_eq!(t.read(), Timeouts::DEFAULT_READ);
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn with_connect(mut self, d: Duration) -> Result<Self, InvalidTimeout> {
        self.connect = validate(TimeoutField::Connect, d)?;
        Ok(self)
    }

    /// Set the read timeout (longest silence while waiting for the head or
    /// during the body).
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = hawser_core::deadline::Timeouts::default().with_read(Duration::from_secs(5))?;
    /// assert_eq!(t.read(), Duration::from_secs(5));
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn with_read(mut self, d: Duration) -> Result<Self, InvalidTimeout> {
        self.read = validate(TimeoutField::Read, d)?;
        Ok(self)
    }

    /// Set the write timeout (longest stall while sending).
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = hawser_core::deadline::Timeouts::default().with_write(Duration::from_secs(7))?;
    /// assert_eq!(t.write(), Duration::from_secs(7));
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn with_write(mut self, d: Duration) -> Result<Self, InvalidTimeout> {
        self.write = validate(TimeoutField::Write, d)?;
        Ok(self)
    }

    /// Bound waiting for a connection from a full pool (otherwise only the
    /// deadline bounds it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hawser_core::deadline::Timeouts;
    /// assert_eq!(Timeouts::default().pool_wait(), None);
    /// let t = Timeouts::default().with_pool_wait(Duration::from_millis(250))?;
    /// assert_eq!(t.pool_wait(), Some(Duration::from_millis(250)));
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn with_pool_wait(mut self, d: Duration) -> Result<Self, InvalidTimeout> {
        self.pool_wait = Some(validate(TimeoutField::PoolWait, d)?);
        Ok(self)
    }

    /// Set the overall deadline of a logical request.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hawser_core::deadline::{MAX_TIMEOUT, Timeouts};
    /// let t = Timeouts::default().with_deadline(Duration::from_secs(20))?;
    /// assert_eq!(t.deadline(), Duration::from_secs(20));
    /// assert!(t.with_deadline(MAX_TIMEOUT + Duration::from_secs(1)).is_err());
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn with_deadline(mut self, d: Duration) -> Result<Self, InvalidTimeout> {
        self.deadline = validate(TimeoutField::Deadline, d)?;
        Ok(self)
    }

    /// Set the overall deadline from float seconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hawser_core::deadline::Timeouts;
    /// let t = Timeouts::default().with_deadline_secs_f64(1.5)?;
    /// assert_eq!(t.deadline(), Duration::from_millis(1500));
    /// assert!(Timeouts::default().with_deadline_secs_f64(f64::INFINITY).is_err());
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn with_deadline_secs_f64(self, secs: f64) -> Result<Self, InvalidTimeout> {
        let d = validate_secs(TimeoutField::Deadline, secs)?;
        self.with_deadline(d)
    }

    /// The connect timeout.
    ///
    /// ```
    /// use hawser_core::deadline::Timeouts;
    /// assert_eq!(Timeouts::default().connect(), std::time::Duration::from_secs(10));
    /// ```
    pub fn connect(&self) -> Duration {
        self.connect
    }
    /// The read timeout.
    ///
    /// ```
    /// use hawser_core::deadline::Timeouts;
    /// assert_eq!(Timeouts::default().read(), std::time::Duration::from_secs(30));
    /// ```
    pub fn read(&self) -> Duration {
        self.read
    }
    /// The write timeout.
    ///
    /// ```
    /// use hawser_core::deadline::Timeouts;
    /// assert_eq!(Timeouts::default().write(), std::time::Duration::from_secs(30));
    /// ```
    pub fn write(&self) -> Duration {
        self.write
    }
    /// The pool wait bound, if set.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hawser_core::deadline::Timeouts;
    /// assert_eq!(Timeouts::default().pool_wait(), None);
    /// let t = Timeouts::default().with_pool_wait(Duration::from_secs(1))?;
    /// assert_eq!(t.pool_wait(), Some(Duration::from_secs(1)));
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn pool_wait(&self) -> Option<Duration> {
        self.pool_wait
    }
    /// The overall deadline.
    ///
    /// ```
    /// use hawser_core::deadline::Timeouts;
    /// assert_eq!(Timeouts::default().deadline(), std::time::Duration::from_secs(300));
    /// ```
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

/// What a logical request is doing; each phase has its own timer (or none).
///
/// ```
/// use hawser_core::deadline::Phase;
/// assert_eq!(Phase::ALL.len(), 7);
/// assert_eq!(Phase::ALL[0], Phase::PoolWait);
/// assert_eq!(Phase::ALL[6], Phase::Backoff);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Waiting for a connection from a full pool.
    PoolWait,
    /// Opening the TCP connection.
    Connect,
    /// The TLS handshake.
    TlsHandshake,
    /// Sending the request head and body.
    Send,
    /// Waiting for the status line and headers.
    ResponseHead,
    /// Reading the response body.
    Body,
    /// Sleeping before a retry (bounded only by the deadline).
    Backoff,
}

impl Phase {
    /// Every phase, in table order.
    pub const ALL: [Phase; 7] = [
        Phase::PoolWait,
        Phase::Connect,
        Phase::TlsHandshake,
        Phase::Send,
        Phase::ResponseHead,
        Phase::Body,
        Phase::Backoff,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn describe(self) -> &'static str {
        match self {
            Phase::PoolWait => "waiting for a pooled connection",
            Phase::Connect => "connecting",
            Phase::TlsHandshake => "doing the TLS handshake",
            Phase::Send => "sending the request",
            Phase::ResponseHead => "waiting for the response head",
            Phase::Body => "reading the response body",
            Phase::Backoff => "waiting to retry",
        }
    }

    /// The [`TimeoutPhase`] reported when this phase's own timer runs out.
    ///
    /// ```
    /// use hawser_core::{deadline::Phase, TimeoutPhase};
    /// assert_eq!(Phase::Body.timeout_phase(), TimeoutPhase::Body);
    /// // A backoff sleep has no timer of its own: only the deadline ends it.
    /// assert_eq!(Phase::Backoff.timeout_phase(), TimeoutPhase::Deadline);
    /// ```
    pub fn timeout_phase(self) -> TimeoutPhase {
        match self {
            Phase::PoolWait => TimeoutPhase::PoolWait,
            Phase::Connect => TimeoutPhase::Connect,
            Phase::TlsHandshake => TimeoutPhase::TlsHandshake,
            Phase::Send => TimeoutPhase::Send,
            Phase::ResponseHead => TimeoutPhase::ResponseHead,
            Phase::Body => TimeoutPhase::Body,
            // Backoff has no timer of its own; only the deadline ends it.
            Phase::Backoff => TimeoutPhase::Deadline,
        }
    }

    /// The phase's own bound and whether progress resets it (stall timer).
    fn bound(self, t: &Timeouts) -> Option<(Duration, TimeoutField, bool)> {
        match self {
            Phase::PoolWait => t.pool_wait.map(|d| (d, TimeoutField::PoolWait, false)),
            Phase::Connect | Phase::TlsHandshake => Some((t.connect, TimeoutField::Connect, false)),
            Phase::Send => Some((t.write, TimeoutField::Write, true)),
            Phase::ResponseHead | Phase::Body => Some((t.read, TimeoutField::Read, true)),
            Phase::Backoff => None,
        }
    }
}

/// The next instant the driver must wake at, and what expires then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expiry {
    /// When the bound passes (expired once `now >= at`).
    pub at: Instant,
    /// What runs out then ([`TimeoutPhase::Deadline`] for the overall deadline).
    pub phase: TimeoutPhase,
}

/// Time spent per phase during one logical request, for the call report.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::call::CallReport;
/// use hawser_core::deadline::Phase;
/// let report = CallReport::default();
/// assert_eq!(report.phases.get(Phase::Connect), Duration::ZERO);
/// assert_eq!(report.phases.total(), Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhaseTimes {
    spent: [Duration; 7],
}

impl PhaseTimes {
    /// Time spent in `phase`, summed over every attempt.
    ///
    /// ```
    /// use hawser_core::{call::CallReport, deadline::Phase};
    /// let report = CallReport::default();
    /// assert!(Phase::ALL.iter().all(|&p| report.phases.get(p).is_zero()));
    /// ```
    pub fn get(&self, phase: Phase) -> Duration {
        self.spent[phase.index()]
    }

    /// Time spent in all phases together.
    ///
    /// ```
    /// use hawser_core::{call::CallReport, deadline::Phase};
    /// let phases = CallReport::default().phases;
    /// let sum: std::time::Duration = Phase::ALL.iter().map(|&p| phases.get(p)).sum();
    /// assert_eq!(phases.total(), sum);
    /// ```
    pub fn total(&self) -> Duration {
        self.spent.iter().sum()
    }
}

/// The deadline accounting of one logical request (the timer table). A
/// phase entered again (a new attempt, a redirect) restarts that phase's
/// timer, never the deadline.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    timeouts: Timeouts,
    /// The timer table: expiry per phase, by `Phase::index`. Only the
    /// current phase's timer is armed.
    timers: [Option<Instant>; 7],
    /// The overall deadline, armed at start and never moved.
    deadline: Instant,
    phase: Option<(Phase, Instant)>,
    spent: [Duration; 7],
}

/// `now + d`, saturating instead of panicking on overflow. With durations
/// capped at [`MAX_TIMEOUT`] the first try succeeds on every real clock; the
/// halving only guards a pathological `now` near the end of `Instant`'s range.
fn add(now: Instant, mut d: Duration) -> Instant {
    loop {
        if let Some(t) = now.checked_add(d) {
            return t;
        }
        d /= 2;
    }
}

impl Tracker {
    /// Start the accounting of a logical request at `now`; the overall
    /// deadline is `now + timeouts.deadline()`.
    pub fn start(timeouts: &Timeouts, now: Instant) -> Tracker {
        Tracker {
            timeouts: *timeouts,
            timers: [None; 7],
            deadline: add(now, timeouts.deadline),
            phase: None,
            spent: [Duration::ZERO; 7],
        }
    }

    /// The instant the overall deadline passes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The current phase, if any.
    pub fn phase(&self) -> Option<Phase> {
        self.phase.map(|(p, _)| p)
    }

    /// What is left of the overall deadline at `now` (zero once passed).
    #[cfg(test)]
    pub fn remaining(&self, now: Instant) -> Duration {
        self.deadline().saturating_duration_since(now)
    }

    fn close_phase(&mut self, now: Instant) {
        if let Some((p, since)) = self.phase.take() {
            self.spent[p.index()] += now.saturating_duration_since(since);
            self.timers[p.index()] = None;
        }
    }

    /// Enter `phase` at `now`: closes the time accounting of the previous
    /// phase and arms this phase's timer (restarting it if the phase is
    /// entered again, e.g. by a new attempt). The deadline is untouched.
    pub fn begin(&mut self, phase: Phase, now: Instant) {
        self.close_phase(now);
        if let Some((d, _, _)) = phase.bound(&self.timeouts) {
            self.timers[phase.index()] = Some(add(now, d));
        }
        self.phase = Some((phase, now));
    }

    /// Leave the current phase without entering another (e.g. the response
    /// was handed to the user). Only the deadline stays armed.
    pub fn end_phase(&mut self, now: Instant) {
        self.close_phase(now);
    }

    /// Bytes moved at `now`: restarts the stall timer of the current phase
    /// (send, response head, body). Total timers (connect, TLS handshake,
    /// pool wait) are not extended by progress.
    pub fn progress(&mut self, now: Instant) {
        if let Some((p, _)) = self.phase
            && let Some((d, _, true)) = p.bound(&self.timeouts)
        {
            self.timers[p.index()] = Some(add(now, d));
        }
    }

    /// Until when may the driver wait now, and which phase expires then:
    /// the earliest armed timer, `min(phase timer, deadline)`. On a tie the
    /// phase is reported (see the module docs).
    pub fn poll_timeout(&self) -> Expiry {
        let deadline = Expiry {
            at: self.deadline(),
            phase: TimeoutPhase::Deadline,
        };
        match self.phase {
            Some((p, _)) => match self.timers[p.index()] {
                Some(at) if at <= deadline.at => Expiry {
                    at,
                    phase: p.timeout_phase(),
                },
                _ => deadline,
            },
            None => deadline,
        }
    }

    /// `Ok` while no bound has passed at `now`; otherwise the timeout error
    /// naming the phase and the configured value.
    pub fn check(&self, now: Instant) -> Result<(), Error> {
        let next = self.poll_timeout();
        if now < next.at {
            return Ok(());
        }
        Err(self.expired_error(next.phase))
    }

    fn expired_error(&self, phase: TimeoutPhase) -> Error {
        let current = self.phase();
        if phase == TimeoutPhase::Deadline {
            let during = match current {
                Some(p) => format!(" while {}", p.describe()),
                None => String::new(),
            };
            return Error::timeout(
                TimeoutPhase::Deadline,
                format!("deadline of {:?} exceeded{during}", self.timeouts.deadline),
            );
        }
        match current.and_then(|p| p.bound(&self.timeouts).map(|b| (p, b))) {
            Some((p, (d, field, _))) => Error::timeout(
                phase,
                format!("timed out {} ({} {:?})", p.describe(), field.name(), d),
            ),
            // Not reachable: a phase timer fires only while its phase is
            // current; still answer with a sensible error.
            None => Error::timeout(phase, format!("timed out {phase}")),
        }
    }

    /// Whether a backoff sleep of `d` starting at `now` would end at or past
    /// the deadline. Such a sleep must not be taken: the call ends with the
    /// returned error (attach the last cause with [`Error::with_source`]).
    #[cfg(test)]
    pub fn check_sleep(&self, now: Instant, d: Duration) -> Result<(), Error> {
        let ends = add(now, d);
        if ends < self.deadline() {
            return Ok(());
        }
        Err(Error::timeout(
            TimeoutPhase::Deadline,
            format!(
                "deadline of {:?} would be exceeded by a backoff sleep of {:?} ({:?} left)",
                self.timeouts.deadline,
                d,
                self.remaining(now)
            ),
        ))
    }

    /// Time spent per phase up to `now` (the current phase counted so far).
    pub fn phase_times(&self, now: Instant) -> PhaseTimes {
        let mut spent = self.spent;
        if let Some((p, since)) = self.phase {
            spent[p.index()] += now.saturating_duration_since(since);
        }
        PhaseTimes { spent }
    }
}

// Unit tests of the (crate-private) Tracker, kept with the other tests.
#[cfg(test)]
#[path = "../../tests/unit/deadline_tracker.rs"]
mod tracker_tests;
