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
pub fn counter() -> impl Strategy<Value = Counter> {
    prop_oneof![
        2 => Just(Counter::Unlimited),
        1 => Just(Counter::Disabled),
        4 => (0u32..=5).prop_map(Counter::Count),
    ]
}

/// A request method (idempotent and not).
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
pub fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        error_outcome().prop_map(Outcome::from),
        response_outcome().prop_map(Outcome::from),
    ]
}

/// A script of up to `max_len` outcomes.
pub fn outcomes(max_len: usize) -> impl Strategy<Value = Vec<Outcome>> {
    proptest::collection::vec(outcome(), 0..=max_len)
}

/// Any policy: counters, methods, forcelist, backoff (up to 2 s factor,
/// 60 s max, 1 s jitter), jitter strategy, Retry-After settings (max up to
/// 1 h) and raise flags.
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
            if any_m {
                p.any_method()
            } else {
                p
            }
        },
    )
}
