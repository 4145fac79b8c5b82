//! proptest strategies for property-testing retry policies (feature
//! `proptest`).
//!
//! ```
//! use proptest::prelude::*;
//! use hawser_core::retry::{simulate, strategies, SimOptions};
//!
//! proptest!(ProptestConfig::with_cases(32), |(policy in strategies::policy(),
//!                                              script in strategies::outcomes(8))| {
//!     let sim = simulate(&policy, &script, &SimOptions::default());
//!     prop_assert!(sim.attempts() <= script.len());
//!     for s in sim.sleeps() {
//!         prop_assert!(s <= policy.backoff_max_value().max(policy.retry_after_max_value()));
//!     }
//! });
//! ```

use std::time::Duration;

use http::Method;
use proptest::prelude::*;

use super::outcome::{
    BodyReplay, ErrorOutcome, FailureKind, Outcome, RedirectPermission, ResponseOutcome,
};
use super::policy::{Counter, Jitter, Retry};

/// Any counter: unlimited, disabled, or a count up to 5.
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::{strategies, Counter};
/// for _ in 0..64 {
///     let v = strategies::counter().new_tree(&mut runner).unwrap().current();
///     assert!(!matches!(v, Counter::Count(6..)));
/// }
/// ```
pub fn counter() -> impl Strategy<Value = Counter> {
    prop_oneof![
        2 => Just(Counter::Unlimited),
        1 => Just(Counter::Disabled),
        4 => (0u32..=5).prop_map(Counter::Count),
    ]
}

/// A request method (idempotent and not).
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::strategies;
/// for _ in 0..64 {
///     let v = strategies::method().new_tree(&mut runner).unwrap().current();
///     assert!(["GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"].contains(&v.as_str()));
/// }
/// ```
pub fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::HEAD),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::POST),
        Just(Method::PATCH),
    ]
}

/// Any failure kind.
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::{strategies, FailureKind};
/// for _ in 0..64 {
///     let v = strategies::failure_kind().new_tree(&mut runner).unwrap().current();
///     // Every kind maps onto an error kind the caller can match on.
///     let (_kind, phase) = v.error_kind();
///     assert_eq!(phase.is_some(), v.as_str().contains("timed out"), "{v:?}");
/// }
/// ```
pub fn failure_kind() -> impl Strategy<Value = FailureKind> {
    use FailureKind::*;
    prop_oneof![
        Just(Dns),
        Just(Refused),
        Just(ConnectTimeout),
        Just(TlsHandshake),
        Just(TlsHandshakeTimeout),
        Just(SendTimeout),
        Just(ReadTimeout),
        Just(Reset),
        Just(Eof),
        Just(Other),
        Just(Certificate),
        Just(InvalidRequest),
        Just(TooManyRedirects),
    ]
}

fn body() -> impl Strategy<Value = BodyReplay> {
    prop_oneof![
        6 => Just(BodyReplay::Replayable),
        1 => Just(BodyReplay::NotStarted),
        1 => Just(BodyReplay::Consumed),
    ]
}

/// A `Retry-After` value: seconds, zero, far too large, or malformed.
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::strategies;
/// for _ in 0..64 {
///     let v = strategies::retry_after().new_tree(&mut runner).unwrap().current();
///     assert!(v.parse::<u64>().map_or(true, |n| n <= 30 || n == 999_999), "{v}");
/// }
/// ```
pub fn retry_after() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (1u64..=30).prop_map(|n| n.to_string()),
        1 => Just("0".to_owned()),
        1 => Just("999999".to_owned()),
        1 => Just("soon".to_owned()),
        1 => Just(String::new()),
    ]
}

/// Any error outcome.
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::strategies;
/// for _ in 0..64 {
///     let v = strategies::error_outcome().new_tree(&mut runner).unwrap().current();
///     // The class of an error depends on the kind and on whether it was sent.
///     assert_eq!(v.class(), v.kind.class(v.request_sent));
/// }
/// ```
pub fn error_outcome() -> impl Strategy<Value = ErrorOutcome> {
    (
        failure_kind(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        body(),
    )
        .prop_map(|(kind, sent, started, reused, body)| {
            ErrorOutcome::new(kind)
                .sent(sent)
                .response_started(started)
                .reused(reused)
                .body(body)
        })
}

/// Any response outcome: common statuses, optional `Retry-After`,
/// redirects with or without `Location`.
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::strategies;
/// for _ in 0..64 {
///     let v = strategies::response_outcome().new_tree(&mut runner).unwrap().current();
///     assert!((200..=503).contains(&v.status));
///     assert_eq!(v.is_redirect(), [301, 302, 307].contains(&v.status) && v.location.is_some());
/// }
/// ```
pub fn response_outcome() -> impl Strategy<Value = ResponseOutcome> {
    let status = prop_oneof![
        Just(200u16),
        Just(404),
        Just(413),
        Just(429),
        Just(500),
        Just(502),
        Just(503),
        Just(301),
        Just(302),
        Just(307),
    ];
    let redirect = prop_oneof![
        4 => Just(RedirectPermission::Follow),
        1 => Just(RedirectPermission::NotFollowing),
        1 => Just(RedirectPermission::LimitReached),
    ];
    (
        status,
        proptest::option::of(retry_after()),
        any::<bool>(),
        redirect,
        body(),
    )
        .prop_map(|(status, ra, loc, redirect, body)| {
            let mut r = ResponseOutcome::new(status).redirect(redirect).body(body);
            r.retry_after = ra;
            if loc {
                r = r.location("/next");
            }
            r
        })
}

/// Any outcome.
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::{strategies, Outcome};
/// for _ in 0..64 {
///     let v = strategies::outcome().new_tree(&mut runner).unwrap().current();
///     assert!(matches!(v, Outcome::Error(_) | Outcome::Response(_)));
/// }
/// ```
pub fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        error_outcome().prop_map(Outcome::from),
        response_outcome().prop_map(Outcome::from),
    ]
}

/// A script of up to `max_len` outcomes.
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::strategies;
/// for _ in 0..64 {
///     let v = strategies::outcomes(4).new_tree(&mut runner).unwrap().current();
///     assert!(v.len() <= 4);
/// }
/// ```
pub fn outcomes(max_len: usize) -> impl Strategy<Value = Vec<Outcome>> {
    proptest::collection::vec(outcome(), 0..=max_len)
}

/// Any policy: counters, methods, forcelist, backoff (up to 2 s factor,
/// 60 s max, 1 s jitter), jitter strategy, Retry-After settings (max up to
/// 1 h) and raise flags.
///
/// ```
/// # use proptest::{strategy::{Strategy, ValueTree}, test_runner::TestRunner};
/// # let mut runner = TestRunner::deterministic();
/// use hawser_core::retry::strategies;
/// for _ in 0..64 {
///     let v = strategies::policy().new_tree(&mut runner).unwrap().current();
///     assert!(v.retry_after_max_value() <= std::time::Duration::from_secs(3600));
///     assert!(v.backoff_max_value() <= std::time::Duration::from_secs(60));
/// }
/// ```
pub fn policy() -> impl Strategy<Value = Retry> {
    let counters = (
        counter(),
        counter(),
        counter(),
        counter(),
        counter(),
        counter(),
    );
    let backoff = (0u64..=2000, 1u64..=60_000, 0u64..=1000, any::<bool>());
    let flags = (
        any::<bool>(),
        1u64..=3600,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::sample::subsequence(vec![413u16, 429, 500, 502, 503, 301], 0..=3),
    );
    (counters, backoff, flags).prop_map(
        |((t, c, r, rd, s, o), (f, max, j, full), (respect, ra_max, ros, ror, any_m, force))| {
            let p = Retry::new(t)
                .connect(c)
                .read(r)
                .redirect(rd)
                .status(s)
                .other(o)
                .backoff_factor(Duration::from_millis(f))
                .backoff_max(Duration::from_millis(max))
                .backoff_jitter(Duration::from_millis(j))
                .jitter(if full { Jitter::Full } else { Jitter::Additive })
                .respect_retry_after_header(respect)
                .retry_after_max(Duration::from_secs(ra_max))
                .raise_on_status(ros)
                .raise_on_redirect(ror)
                .status_forcelist(force);
            if any_m { p.any_method() } else { p }
        },
    )
}
