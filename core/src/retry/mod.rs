//! The retry policy: urllib3 2.x `Retry` semantics as a pure function, plus
//! what urllib3 lacks (docs/RETRY.md).
//!
//! * [`Retry`] is the policy value (counters `total`/`connect`/`read`/
//!   `redirect`/`status`/`other` as [`Counter`]s, `allowed_methods`,
//!   `status_forcelist`, backoff factor/max/jitter, [`Jitter`] strategy,
//!   `Retry-After` handling, `raise_on_status`, `raise_on_redirect`).
//! * [`RetryState`] is one logical request's state: counters remaining, the
//!   backoff run, the history of attempts ([`HistoryEntry`]).
//! * [`Outcome`] says what an attempt did: an [`ErrorOutcome`] (a
//!   [`FailureKind`], whether request bytes were written, whether response
//!   bytes had arrived, whether the connection was reused, whether the body
//!   can go again) or a [`ResponseOutcome`] (status, raw `Retry-After`, raw
//!   `Location`, what the redirect module says).
//! * [`Retry::decide`] turns policy + state + outcome + [`Clock`] (+ RNG for
//!   jitter, + optional session [`RetryBudget`]) into a [`Decision`]: retry
//!   after a duration, follow the redirect, return the response, or fail
//!   with a [`FailReason`]. [`Fail::into_error`] makes the hawser error.
//!
//! # Driving it
//!
//! ```text
//! let mut st = RetryState::new(&policy, method, url);   // once per logical request
//! budget.deposit();                                     // if the session has a budget
//! loop {
//!     let outcome = /* run one attempt */;
//!     match policy.decide(&mut st, &outcome, &clock, &mut rng, Some(&mut budget)) {
//!         Decision::Retry { after, .. } => /* wait `after`, send again */,
//!         Decision::FollowRedirect     => /* build the next hop; st.redirected(m, url) */,
//!         Decision::Return             => /* hand the response to the user */,
//!         Decision::Fail(f)            => return Err(f.into_error(last_error)),
//!     }
//! }
//! ```
//!
//! # The rules (urllib3's, and where hawser is better)
//!
//! * Connect-class errors (nothing written: DNS, refused, connect timeout,
//!   TLS handshake failure or timeout, a reset before any byte went out)
//!   are retried for every method and spend `connect`. Read-class errors
//!   (after bytes were written) spend `read` and are retried only for
//!   `allowed_methods`; otherwise the original error comes back
//!   ([`FailReason::Unwrapped`]), as do errors whose counter (or `total`)
//!   is [`Counter::Disabled`]. Other errors spend `other` (after a request
//!   byte was written they count as read-class).
//! * Deterministic failures (certificate, invalid request, too many
//!   redirects) are final at once.
//! * A reused pooled connection that failed with reset/EOF before any
//!   response byte is re-sent once for free ([`RetryReason::StaleConnection`])
//!   when the method is idempotent or nothing was written, and the body can
//!   go again.
//! * Statuses in `status_forcelist`, and 413/429/503 with `Retry-After`
//!   while `total` is a positive count, are retried for allowed methods and
//!   spend `status`; when that runs out the call fails
//!   (`raise_on_status`) or returns the response. The implicit
//!   `Retry-After` retries return the last response once `total` is 0.
//! * Backoff: none on the first retry of a run, then `factor * 2^(n-1)`
//!   with jitter, clamped to `backoff_max`. A positive `Retry-After`
//!   (seconds or HTTP-date) replaces it, clamped to `retry_after_max`; `0`,
//!   a past date, or a malformed value falls back to backoff (malformed is
//!   recorded as [`RetryAfterUse::Malformed`]; urllib3 would fail instead).
//! * Redirects never spend `total`: they spend `redirect` when set, start a
//!   new backoff run and never sleep. [`Retry::disabled`] disables retries,
//!   not redirects.
//! * Every retry is refused if the body was partly sent and cannot be
//!   replayed, if its sleep would end at or past the deadline, or if the
//!   session's budget has no token (checked in that order).
//!
//! # Simulating and property-testing a policy
//!
//! [`simulate`] runs a policy over a scripted list of outcomes in virtual
//! time and returns every decision and sleep:
//!
//! ```
//! use std::time::Duration;
//! use hawser_core::retry::*;
//!
//! let policy = Retry::new(3)
//!     .status_forcelist([500, 502, 503, 504])
//!     .backoff_factor(Duration::from_millis(500));
//! let script = [
//!     Outcome::status(503),
//!     Outcome::error(FailureKind::ConnectTimeout),
//!     ResponseOutcome::new(503).retry_after("7").into(),
//!     Outcome::status(200),
//! ];
//! let sim = simulate(&policy, &script, &SimOptions::default().deadline(Duration::from_secs(60)));
//! assert_eq!(sim.sleeps(), [0, 1000, 7000].map(Duration::from_millis));
//! assert_eq!(sim.final_decision(), Some(Decision::Return));
//!
//! // The same policy with a 5 s deadline stops before the 7 s sleep.
//! let sim = simulate(&policy, &script, &SimOptions::default().deadline(Duration::from_secs(5)));
//! assert!(matches!(
//!     sim.final_decision(),
//!     Some(Decision::Fail(Fail { reason: FailReason::Deadline, cause: Cause::Status(503) }))
//! ));
//! ```
//!
//! A property of your own policy, with `proptest` (a short example; with
//! the `proptest` feature, `strategies` generates whole policies and
//! outcome scripts for you):
//!
//! ```
//! use proptest::prelude::*;
//! use hawser_core::retry::*;
//!
//! proptest!(ProptestConfig::with_cases(64), |(fails in 0usize..20, seed in any::<u64>())| {
//!     let policy = Retry::new(3).backoff_factor(std::time::Duration::from_millis(100));
//!     let mut script = vec![Outcome::error(FailureKind::Refused); fails];
//!     script.push(Outcome::status(200));
//!     let sim = simulate(&policy, &script, &SimOptions::default().seed(seed));
//!     // never more than total + 1 attempts
//!     prop_assert!(sim.attempts() <= 4);
//! });
//! ```

mod budget;
mod decide;
mod outcome;
mod policy;
mod sim;
#[cfg(feature = "proptest")]
#[cfg_attr(docsrs, doc(cfg(feature = "proptest")))]
pub mod strategies;

pub use budget::RetryBudget;
pub use decide::{
    Cause, Clock, Counters, Decision, Event, Fail, FailReason, HistoryEntry, InvalidRetryAfter,
    MAX_HISTORY, RetryAfterUse, RetryReason, RetryState, parse_retry_after,
};
pub use outcome::{
    BodyReplay, ErrorClass, ErrorOutcome, FailureKind, Outcome, RedirectPermission, ResponseOutcome,
};
pub use policy::{
    Counter, DEFAULT_BACKOFF_MAX, DEFAULT_RETRY_AFTER_MAX, Jitter, RETRY_AFTER_STATUS_CODES, Retry,
};
pub use sim::{SimOptions, SimStep, Simulation, simulate, simulate_with_rng};

/// The RNG hawser uses for jitter and Digest cnonces: `rand_chacha`'s
/// ChaCha8, whose output for a seed is fixed across versions (unlike
/// `rand`'s `StdRng`), so a recorded seed replays the same decisions. Any
/// `rand::Rng` works with [`Retry::decide`]; this alias saves callers a
/// direct dependency.
///
/// ```
/// use rand::{RngCore, SeedableRng};
/// use hawser_core::retry::JitterRng;
/// // The same seed gives the same stream, on every platform and version.
/// let a = JitterRng::seed_from_u64(42).next_u64();
/// assert_eq!(a, JitterRng::seed_from_u64(42).next_u64());
/// assert_ne!(a, JitterRng::seed_from_u64(43).next_u64());
/// ```
pub type JitterRng = rand_chacha::ChaCha8Rng;

/// A [`JitterRng`] seeded from `seed`: the same seed replays the same
/// jitter. Seed it from anything that differs between sessions (the core
/// reads no clock and no OS entropy itself).
///
/// ```
/// use std::time::Duration;
/// use hawser_core::retry::{jitter_rng, Jitter, Retry};
/// let p = Retry::new(3).backoff_factor(Duration::from_secs(1)).jitter(Jitter::Full);
/// assert_eq!(p.backoff(3, &mut jitter_rng(5)), p.backoff(3, &mut jitter_rng(5)));
/// ```
pub fn jitter_rng(seed: u64) -> JitterRng {
    use rand::SeedableRng;
    JitterRng::seed_from_u64(seed)
}
